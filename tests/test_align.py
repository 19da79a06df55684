"""Document alignment: folding, character diffs, order-keeping pairs with splits, merges and moves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from draft_fakes import HK, LP, SH, FakeKB, clause
from policykb.align import (
    align_clauses,
    align_documents,
    char_diff,
    compact_diff,
    fold,
    similarity,
    suggest_pairs,
)
from policykb.records import Metadata


def seq(doc: str, texts: list[str], role: str = "body") -> list:
    return [clause(doc, doc, i, t, [], role=role) for i, t in enumerate(texts)]


# ----- folding ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "a, b, names",
    [
        # the region's own name, in full and as a stem inside a compound
        ("上海市教育委员会负责评估", "虹口区教育委员会负责评估", ["上海市", "虹口区"]),
        ("虹口教育系统", "上海教育系统", ["上海市", "虹口区"]),
        # level words change with the level: 本市/全市/市委/市级 against 本区/全区/区委/区级
        ("在本市范围内推进", "在本区范围内推进", []),
        ("不低于全市平均水平", "不低于全区平均水平", []),
        ("落实市委、市政府部署", "落实区委、区政府部署", []),
        ("市级教育行政部门", "区级教育行政部门", []),
        # punctuation width and spaces do not matter
        ("通过3年努力,建设", "通过 3 年努力，建设", []),
    ],
)
def test_fold_makes_renamed_clauses_equal(a: str, b: str, names: list[str]) -> None:
    assert fold(a, names) == fold(b, names)


@pytest.mark.parametrize(
    "a, b",
    [
        # should not fold: the words themselves differ
        ("市示范性学区", "高质量学区"),
        ("城市教师", "乡村教师"),
        ("不低于20%", "不低于30%"),
    ],
)
def test_fold_keeps_real_differences(a: str, b: str) -> None:
    assert fold(a, ["上海市", "虹口区"]) != fold(b, ["上海市", "虹口区"])


def test_similarity_counts_matched_characters_in_order() -> None:
    assert similarity("abcd", "abcd") == 1.0
    assert similarity("abcd", "wxyz") == 0.0
    assert similarity("abcd", "abxy") == 0.5
    assert similarity("", "") == 1.0


# ----- diffs --------------------------------------------------------------------------------------------

def test_char_diff_shows_hongkou_backbone_wording_as_one_replacement() -> None:
    a = "其中在教育教学领域表现突出的骨干教师不低于30%"
    b = "其中“五层级”梯队等骨干教师占比不低于30%"
    ops = char_diff(a, b)
    assert [o.to_dict() for o in ops] == [
        {"op": "equal", "a": "其中", "b": "其中"},
        {"op": "replace", "a": "在教育教学领域表现突出的", "b": "“五层级”梯队等"},
        {"op": "equal", "a": "骨干教师", "b": "骨干教师"},
        {"op": "insert", "a": "", "b": "占比"},
        {"op": "equal", "a": "不低于30%", "b": "不低于30%"},
    ]
    assert compact_diff(ops) == "其中[-在教育教学领域表现突出的-]{+“五层级”梯队等+}骨干教师{+占比+}不低于30%"


def test_char_diff_absorbs_one_character_islands() -> None:
    # 的 is shared by chance; without absorbing it the rewording splits into two edits around it
    ops = char_diff("开展学生的综合评价", "推进教师的专业发展")
    assert [o.op for o in ops] == ["replace"]


@given(st.text(alphabet="学校教师的和20%", max_size=30), st.text(alphabet="学校教师的和30%", max_size=30))
@settings(max_examples=200, deadline=None)
def test_char_diff_reassembles_both_texts(a: str, b: str) -> None:
    ops = char_diff(a, b)
    assert "".join(o.a for o in ops) == a
    assert "".join(o.b for o in ops) == b
    assert all(o.a == o.b for o in ops if o.op == "equal")


# ----- alignment ----------------------------------------------------------------------------------------

A_PLAN = [
    "以习近平新时代中国特色社会主义思想为指导,落实市委、市政府有关部署。",
    "创建市示范性学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,"
    "其中在教育教学领域表现突出的骨干教师不低于30%,流动期限不少于3年。",
    "支持优秀校级干部和中层管理人员参与流动,加强对流入校的制度建设和文化引领。",
    "将学区、集团内2年交流轮岗工作经历作为提任校级干部的重要因素。",
    "优化教育教学交流平台,分主题、定时间开展集体备课、联合教研、专项研究、教学比武等活动,"
    "其中学区、集团内各学科联合教研每学期不少于5次。",
    "市级教育行政部门安排专项经费,对命名为市示范性的学区和集团给予支持。",
]
B_PLAN = [
    "以习近平新时代中国特色社会主义思想为指导,落实区委、区政府有关部署。",  # renamed only
    "将学区、集团内2年交流轮岗工作经历和效果作为提任校级干部的重要因素。",  # moved up, and changed
    "建设高质量学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,"
    "其中“五层级”梯队等骨干教师占比不低于30%,流动期限不少于3年。",
    "支持优秀校级干部和中层管理人员参与流动,加强对流入校的制度建设和文化引领。",  # identical
    "优化教育教学交流平台,分主题、定时间开展集体备课、联合教研、专项研究、教学比武等活动。",  # split in two
    "每学期集团内各学科联合教研不少于5次。",
    "依托区创新实践人才培养研究中心,探索拔尖创新人才贯通培养路径。",  # only in B
]


def _summary(pairs: list) -> list[tuple[str, list[int], list[int], bool]]:
    return [(p.status, [c.ordinal for c in p.a], [c.ordinal for c in p.b], p.moved) for p in pairs]


def test_align_finds_identical_changed_split_moved_and_one_sided_clauses() -> None:
    pairs = align_clauses(seq("a", A_PLAN), seq("b", B_PLAN), region_names=["上海市", "虹口区"])
    assert _summary(pairs) == [
        ("changed", [0], [0], False),
        ("changed", [1], [2], False),
        ("identical", [2], [3], False),
        ("changed", [3], [1], True),
        ("changed", [4], [4, 5], False),
        ("only_a", [5], [], False),
        ("only_b", [], [6], False),
    ]
    assert pairs[0].names_only is True
    assert pairs[1].names_only is False
    assert compact_diff(pairs[3].diff) == "将学区、集团内2年交流轮岗工作经历{+和效果+}作为提任校级干部的重要因素。"


def test_align_with_itself_is_all_identical() -> None:
    clauses = seq("a", A_PLAN)
    pairs = align_clauses(clauses, clauses)
    assert [p.status for p in pairs] == ["identical"] * len(A_PLAN)


def test_align_skips_notice_and_signature_clauses() -> None:
    a = seq("a", ["特此通知。"], role="notice") + seq("a", A_PLAN[:1])
    b = seq("b", ["上海市教育委员会"], role="signature") + seq("b", B_PLAN[:1])
    assert [p.status for p in align_clauses(a, b)] == ["changed"]


@given(
    st.lists(st.sampled_from(A_PLAN + B_PLAN), max_size=7),
    st.lists(st.sampled_from(A_PLAN + B_PLAN), max_size=7),
)
@settings(max_examples=60, deadline=None)
def test_align_uses_every_clause_once_in_order_of_a(xs: list[str], ys: list[str]) -> None:
    pairs = align_clauses(seq("a", xs), seq("b", ys))
    a_ids = [c.ordinal for p in pairs for c in p.a]
    b_ids = sorted(c.ordinal for p in pairs for c in p.b)
    assert a_ids == list(range(len(xs)))  # every A clause once, in document order
    assert b_ids == list(range(len(ys)))  # every B clause once
    for p in pairs:
        assert (p.status == "only_a") == (not p.b) and (p.status == "only_b") == (not p.a)


def test_alignment_to_dict_has_contract_keys_and_merged_clause_text() -> None:
    alignment = align_documents(SH, seq("sh", A_PLAN), HK, seq("hk", B_PLAN))
    d = alignment.to_dict()
    assert (d["a"], d["b"], d["region_a"], d["region_b"]) == ("sh", "hk", "上海市", "虹口区")
    assert d["counts"] == {"identical": 1, "changed": 4, "only_a": 1, "only_b": 1}
    split = d["pairs"][4]
    assert split["b"]["clause_ids"] == ["hk/4", "hk/5"]
    assert split["b"]["text"] == B_PLAN[4] + B_PLAN[5]
    assert split["diff"][0]["op"] == "equal"
    assert d["pairs"][2]["diff"] is None  # identical: no diff
    assert d["pairs"][5]["b"] is None and d["pairs"][6]["a"] is None


def test_suggest_pairs_offers_parent_and_child_first() -> None:
    hz = type(LP)(**{**LP.__dict__, "doc_id": "hz", "metadata": Metadata(region_id="hangzhou", region="杭州市",
                                                                        level="city")})
    pairs = suggest_pairs(FakeKB(docs=[LP, HK, SH, hz]))
    assert pairs[:2] == [("hz", "lp"), ("sh", "hk")]
    assert ("hk", "lp") in pairs  # two districts: offered after the parent pairs
    assert len(pairs) == 6


# ----- the real corpus: Hongkou localises Shanghai ------------------------------------------------------

@pytest.fixture(scope="module")
def shanghai_hongkou():
    from conftest import corpus_path
    from policykb import pipeline

    sh = pipeline.process_file(corpus_path("shanghai"))
    hk = pipeline.process_file(corpus_path("hongkou"))
    return align_documents(sh.document, sh.clauses, hk.document, hk.clauses)


def _pair_with(alignment, side: str, words: str):
    found = [p for p in alignment.pairs if words in (p.a_text if side == "a" else p.b_text)]
    assert len(found) == 1, f"{words!r} is in {len(found)} pairs"
    return found[0]


@pytest.mark.parametrize(
    "shanghai_words, hongkou_words",
    [
        # the shared measures of the issue: each Shanghai clause pairs with Hongkou's version of it
        ("教师总数的20%", "教师总数的20%"),  # teacher rotation 20%
        ("骨干教师不低于30%", "骨干教师占比不低于30%"),  # backbone 30%, reworded
        ("流动期限不少于3年", "流动期限不少于3年"),
        ("每校至少有1门共享课程", "每校至少有1门共享课程"),  # shared courses
        ("联合教研每学期不少于5次", "各种形式联合教研不少于5次"),  # joint research: one sentence split in two
        ("满意度不低于90%", "满意度不低于90%"),
        ("在校长考评中的占比不低于50%", "在校长考评中的占比不低于50%"),  # principal evaluation, moved
        ("流入教师人数不少于3人", "流入教师人数不少于3人"),
        ("2年交流轮岗工作经历", "2年交流轮岗工作经历和效果"),  # moved into another paragraph
    ],
)
def test_hongkou_shanghai_shared_measures_are_paired(shanghai_hongkou, shanghai_words, hongkou_words) -> None:
    pair = _pair_with(shanghai_hongkou, "a", shanghai_words)
    assert pair.status in ("identical", "changed")
    assert hongkou_words in pair.b_text


def test_hongkou_backbone_wording_is_shown_as_a_diff(shanghai_hongkou) -> None:
    pair = _pair_with(shanghai_hongkou, "a", "骨干教师不低于30%")
    assert pair.status == "changed"
    assert compact_diff(pair.diff) == (
        "[-创建市示范性-]{+建设高质量+}学区和集团的优质校，每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%，"
        "其中[-在教育教学领域表现突出的-]{+“五层级”梯队等+}骨干教师{+占比+}不低于30%，流动期限不少于3年。"
    )


@pytest.mark.parametrize(
    "side, words, status",
    [
        # should not pair: clauses the other plan has no counterpart for
        ("a", "城区教师在乡村交流轮岗期间", "only_a"),
        ("a", "建立复核机制", "only_a"),
        ("b", "虹优指数", "only_b"),
        ("b", "向外加速扩容", "only_b"),
        # headings pair too, so the outlines line up
        ("a", "（一）健全学区和集团治理体系", "identical"),
    ],
)
def test_hongkou_shanghai_one_sided_clauses(shanghai_hongkou, side, words, status) -> None:
    assert _pair_with(shanghai_hongkou, side, words).status == status


def test_hongkou_shanghai_alignment_keeps_shanghai_order(shanghai_hongkou) -> None:
    ordinals = [c.ordinal for p in shanghai_hongkou.pairs for c in p.a]
    assert ordinals == sorted(ordinals)
    assert shanghai_hongkou.counts()["changed"] >= 20
