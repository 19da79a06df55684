"""The measure catalogue: subjects normalised, requirements grouped into measures across regions."""

from __future__ import annotations

from typing import Any

import pytest

from policykb.measures import (
    build_measures,
    measure_id,
    measure_name,
    same_measure,
    sort_catalogue,
    subject_words,
)
from policykb.records import Requirement

NAMES = {"shanghai": "上海市", "hongkou": "虹口区", "linping": "临平区"}


def req(region: str, subject: str | None, value: float | list[float], unit: str | None = "%",
        comparator: str = ">=", doc: str | None = None, kind: str = "requirement") -> Requirement:
    span = f"不低于{value}{unit or ''}"
    return Requirement(f"{region}/c{subject}", doc or f"{region}-doc", region, span, span, 0, len(span), subject,
                       comparator, value, unit, kind=kind)


@pytest.mark.parametrize(
    ("subject", "words"),
    [
        ("流入相对薄弱校的教师人数", {"流入", "相对", "薄弱校", "教师", "人数"}),
        ("骨干教师占比", {"骨干教师"}),  # 占/比 are single characters: grammar, not topic
        ("每学期每校共享课程", {"共享", "课程"}),  # frequency words dropped
        ("群体对集团满意度", {"群体", "集团", "满意度"}),
        ("率", {"率"}),  # a lone character is kept when it is all there is
        (None, set()),
        ("", set()),
    ],
)
def test_subject_words(subject: str | None, words: set[str]) -> None:
    assert subject_words(subject) == frozenset(words)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("集团满意度", "群体对集团满意度", True),  # one contains the other
        ("骨干教师", "骨干教师占比", True),
        ("联合教研", "学科联合教研", True),
        ("校长考评中的占比", "校长考评中的占比", True),
        # should not match: a different measure that shares a word
        ("初中学生学业水平合格率", "名额分配到校计划完成率", False),
        ("流动期限", "交流轮岗工作经历", False),
        ("拓展性课程课时(一至六年级)", "知识拓展类课程比例", False),
        ("教育集团", "成员校", False),
    ],
)
def test_same_measure(a: str, b: str, same: bool) -> None:
    assert same_measure(subject_words(a), subject_words(b)) is same


def test_catalogue_groups_the_same_subject_across_regions_and_keeps_units_apart() -> None:
    reqs = [
        req("shanghai", "骨干教师", 30),
        req("hongkou", "骨干教师占比", 30),
        req("linping", "骨干教师", 2, unit="人"),  # same words, other unit: another measure
        req("shanghai", "集团满意度", 90),
        req("hongkou", "群体对集团满意度", 90),
    ]
    got = {(m.name, m.unit): sorted(r.region_id for r in m.requirements) for m in build_measures(reqs, NAMES)}
    assert got == {
        ("骨干教师比例", "%"): ["hongkou", "shanghai"],  # named as a noun phrase: subject + the unit's noun
        ("骨干教师人数", "人"): ["linping"],
        ("集团满意度", "%"): ["hongkou", "shanghai"],
    }


def test_two_subjects_of_one_document_stay_two_measures() -> None:
    # 每校至少有1门共享课程 and 可共享课程不低于5门: one document, two measures, even though the words overlap.
    reqs = [
        req("shanghai", "共享课程", 1, "门"), req("shanghai", "可共享课程", 5, "门"),
        req("hongkou", "共享课程", 1, "门"), req("hongkou", "可共享课程", 5, "门"),
    ]
    got = sorted((m.name, sorted(r.value for r in m.requirements)) for m in build_measures(reqs, NAMES))
    assert got == [("共享课程门数", [1, 1]), ("可共享课程门数", [5, 5])]


def test_statistics_are_not_measures() -> None:
    reqs = [req("shanghai", "教育集团", 36, "个", "=", kind="statistic"), req("hongkou", "流动期限", 3, "年")]
    assert [m.name for m in build_measures(reqs, NAMES)] == ["流动期限"]


def test_measure_dict_shape_and_strictest() -> None:
    reqs = [req("shanghai", "骨干教师", 30), req("hongkou", "骨干教师", 35)]
    (m,) = build_measures(reqs, NAMES)
    d = m.to_dict()
    assert d["measure_id"] == measure_id("骨干教师比例", "%")
    assert (d["name"], d["unit"], d["regions"], d["strictest"]) == ("骨干教师比例", "%", 2, "hongkou")
    assert [(v["region_id"], v["region"], v["display"], v["comparator"], v["value"]) for v in d["values"]] == [
        ("shanghai", "上海市", ">= 30 %", ">=", 30), ("hongkou", "虹口区", ">= 35 %", ">=", 35)]
    assert set(d["values"][0]) >= {"clause_id", "span"}


def test_measure_id_is_stable_and_script_independent() -> None:
    assert measure_id("满意度", "%") == measure_id("滿意度", "%")
    assert measure_id("满意度", "%") != measure_id("满意度", None)


def test_measure_name_is_the_most_common_then_shortest_subject() -> None:
    reqs = [req("a", "群体对集团满意度", 90), req("b", "集团满意度", 90), req("c", "集团满意度", 95)]
    assert measure_name(reqs) == "集团满意度"


@pytest.mark.parametrize(
    ("key", "order"),
    [("regions", ["b", "a", "c"]), ("name", ["a", "b", "c"]), ("unit", ["c", "b", "a"])],
)
def test_sort_catalogue(key: str, order: list[str]) -> None:
    rows: list[dict[str, Any]] = [
        {"name": "a", "unit": "次", "regions": 1}, {"name": "b", "unit": "%", "regions": 3},
        {"name": "c", "unit": None, "regions": 1},
    ]
    assert [m["name"] for m in sort_catalogue(rows, key)] == order


def test_catalogue_on_the_corpus_lines_up_shared_measures(hash_kb: Any) -> None:
    catalogue = {(m.name, m.unit): m.to_dict() for m in hash_kb.measures()}
    shared = {key: sorted({v["region_id"] for v in d["values"]}) for key, d in catalogue.items() if d["regions"] > 1}
    # measures Hongkou's plan copies from Shanghai's, each with both regions' values
    for key in [("骨干教师比例", "%"), ("流动期限", "年"), ("联合教研次数", "次"), ("集团满意度", "%"), ("校长考评中的占比", "%"),
                ("初中学生学业水平合格率", "%"), ("共享课程门数", "门")]:
        assert shared[key] == ["hongkou", "shanghai"], key
    assert [v["display"] for v in catalogue[("流动期限", "年")]["values"]] == [">= 3 年", ">= 3 年"]
    # Haidian's news statistics (36个教育集团) are facts, not measures
    assert ("教育集团", "个") not in catalogue and ("中小学生", "名") not in catalogue


@pytest.mark.parametrize(
    ("subject", "unit", "span", "text", "name"),
    [
        ("骨干教师", "%", "不低于30%", "骨干教师不低于30%", "骨干教师比例"),
        ("每年流动期限", "年", "不少于3年", "每年流动期限不少于3年", "流动期限"),  # frequency word trimmed
        ("初中学业水平合格率", "%", "不低于99%", "初中学业水平合格率不低于99%", "初中学业水平合格率"),
        ("联合教研", "次", "不少于5次", "每学期联合教研不少于5次", "联合教研次数"),
        # a bare word names nothing: the words before the number in its phrase do
        ("学生", "%", "不少于二分之一", "各集团内课程开设年级的学生不少于二分之一", "各集团内课程开设年级的学生比例"),
        # nothing at all names it: the span as written, no invented noun
        (None, "次", "不超过一次", "不超过一次", "不超过一次"),
        # the number's own fragment is only scope, the one before it an exception: the topic is further back
        (None, "次", "不超过一次", "(四)对命名为市示范性的学区和集团的成员校,减少进校检查,除学校自主申报的项目和依法需要"
         "进行的安全等检查外,原则上3年内每学期不超过一次。", "进校检查次数"),
        # a count of people as a share of those eligible is a 比例 (the unit decides)
        ("流入相对薄弱校的教师人数", "%", "不低于符合交流轮岗条件教师总数的20%",
         "每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%", "流入相对薄弱校的教师比例"),
        # N年内 is a time limit
        ("复核", "年", "3-5年内", "建立复核机制,3-5年内开展一次复核。", "复核机制期限"),
        # an extractor's subject cut inside a word is put back to whole words (周末, 平均)
        ("末提供托管服务", "天", "1天", "原则上每个周末提供托管服务1天;", "周末提供托管服务天数"),
        ("初中书面作业完成时间平", "分钟", "不超过90分钟", "初中每天书面作业完成时间平均不超过90分钟。", "初中书面作业完成时间"),
        (None, "小时", "至少开展2小时", "即每周5天开展课后服务,每天至少开展2小时,结束时间与下班时间相衔接",
         "课后服务时长"),
    ],
)
def test_measures_are_named_by_a_readable_noun_phrase(subject: str | None, unit: str, span: str, text: str,
                                                     name: str) -> None:
    from policykb.measures import readable_name
    from policykb.records import Requirement

    start = text.find(span)
    r = Requirement("c", "d", "shanghai", text, span, start, start + len(span), subject, ">=", 1, unit)
    assert readable_name([r]) == name


def test_a_share_that_selects_schools_is_not_a_measure() -> None:
    text = "到2023年,实现教育质量后50%的学校集团化办学(含教共体)全覆盖。"
    start = text.find("50%")
    selector = Requirement("l/c", "l", "linping", text, "50%", start, start + 3, "学校集团化办学", "=", 50, "%")
    assert build_measures([selector], NAMES) == []


def test_synonyms_join_measures_across_regions() -> None:
    # 流动期限 (上海) and 交流轮岗期限 (another city) are one measure: 流动 and 交流/轮岗 are policy synonyms
    (m,) = build_measures([req("shanghai", "流动期限", 3, unit="年"), req("hongkou", "交流轮岗期限", 2, unit="年")],
                          NAMES)
    assert m.name == "流动期限"  # the shorter of two equally common subjects
    assert sorted(r.region_id for r in m.requirements) == ["hongkou", "shanghai"]


def test_every_region_is_a_cell_and_ties_are_all_strictest() -> None:
    names = {"shanghai": "上海市", "hongkou": "虹口区", "haidian": "海淀区", "linping": "临平区"}
    reqs = [req("shanghai", "骨干教师", 30), req("hongkou", "骨干教师", 30), req("linping", "骨干教师", 20)]
    (m,) = build_measures(reqs, names)
    d = m.to_dict()
    assert [(c["region_id"], len(c["values"])) for c in d["cells"]] == [
        ("shanghai", 1), ("hongkou", 1), ("haidian", 0), ("linping", 1)]  # haidian sets nothing: still a column
    assert d["strictest_all"] == ["shanghai", "hongkou"]
    assert [v["label"] for v in d["values"]] == ["不低于30%", "不低于30%", "不低于20%"]


def test_measures_page_shows_every_indexed_region_and_unspecified(hash_kb: Any) -> None:
    from fastapi.testclient import TestClient

    from policykb.web import create_app

    html = TestClient(create_app(hash_kb), base_url="http://127.0.0.1").get("/measures").text
    for name in ("上海市", "虹口区", "镇江市", "海淀区", "临平区"):
        assert f">{name}</th>" in html, name
    assert "未规定" in html and '<span class="muted">—</span>' not in html
