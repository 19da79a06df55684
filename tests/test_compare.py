"""compare: reading a query as a measure, finding the value that sets it, the found/未规定 rule, aligned values."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from perturb import CROSS_CPU_COSINE, perturbed_cosines
from policykb.compare import (
    AlignedValues,
    RegionResult,
    align_values,
    comparator_family,
    coverage,
    ordered_regions,
    parse_measure,
    strictest_region,
    topic_terms,
    unit_fits,
    value_coverage,
    value_phrase,
)
from policykb.records import Requirement

GOLDEN = Path(__file__).parent / "golden" / "compare_measures.toml"
REGION_ORDER = ["shanghai", "zhenjiang", "haidian", "hongkou", "linping"]  # level, then region_id


def req(value: float | list[float], comparator: str = ">=", unit: str | None = "%", region: str = "r",
        clause_text: str = "", span: str = "", subject: str | None = None, kind: str = "requirement") -> Requirement:
    """A requirement whose span is located inside clause_text (or at the start when no span is given)."""
    start = clause_text.find(span) if span else 0
    return Requirement(f"{region}/c", f"{region}-doc", region, clause_text, span, start, start + len(span),
                       subject, comparator, value, unit, kind=kind)


# ----- reading the query --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "terms", "wants_number", "units"),
    [
        # quantity cues give the unit and drop out of the topic (kept only as weak terms)
        ("教师交流轮岗比例", ["教师", "交流", "轮岗", "比例"], True, {"%"}),
        ("骨干教师比例", ["骨干", "教师", "比例"], True, {"%"}),
        ("联合教研次数", ["联合", "教研", "次数"], True, {"次"}),
        ("流动期限", ["流动", "期限"], True, {"年", "学年", "月", "学期"}),
        ("集团内联合教研一个学期搞几次", ["集团", "联合", "教研"], True, {"次"}),
        # a word ending in 率 is a rate; 效率 is not
        ("合格率", ["合格"], True, {"%"}),
        ("工作效率", ["工作", "效率"], False, set()),
        # a number in the query asks for a value, a year range does not
        ("家长满意度不低于90%", ["家长", "满意", "满意度"], True, {"%"}),
        ("三年行动计划(2023-2025年)", ["三年", "行动", "计划"], False, set()),
        # qualitative measures
        ("专项经费", ["专项", "经费"], False, set()),
        ("评价机制", ["评价", "机制"], False, set()),
        # traditional script is folded first
        ("專項經費", ["专项", "经费"], False, set()),
    ],
)
def test_parse_measure_reads_topic_and_units(query: str, terms: list[str], wants_number: bool, units: set[str]) -> None:
    m = parse_measure(query)
    assert [t for t, _ in m.terms] == terms
    assert m.wants_number is wants_number
    assert set(m.units) == units


@pytest.mark.parametrize(
    ("query", "bound"),
    [("交流轮岗的老师最少要待几年", ">="), ("课程比例不得超过多少", "<="), ("联合教研次数", None)],
)
def test_parse_measure_reads_the_bound_asked_for(query: str, bound: str | None) -> None:
    assert parse_measure(query).bound == bound


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("骨干教师比例", ["骨干", "教师"]),  # compound covered by its parts
        ("组团流入薄弱校的教师人数", ["组团", "流入", "薄弱", "教师"]),  # 薄弱校 = 薄弱 + 校
        ("满意度", ["满意"]),
        ("的 了 和", []),  # nothing but function words
    ],
)
def test_topic_terms_keep_the_finest_words(text: str, terms: list[str]) -> None:
    assert topic_terms(text) == terms


# ----- coverage and the value's own phrase ----------------------------------------------------------------------
SHANGHAI_ROTATION = (
    "创建市示范性学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,"
    "其中在教育教学领域表现突出的骨干教师不低于30%,流动期限不少于3年。"
)


def test_value_phrase_is_the_comma_fragment_around_the_number() -> None:
    r = req(30, clause_text=SHANGHAI_ROTATION, span="不低于30%")
    assert value_phrase(SHANGHAI_ROTATION, r) == "其中在教育教学领域表现突出的骨干教师不低于30%"
    last = req(3, clause_text=SHANGHAI_ROTATION, span="不少于3年")
    assert value_phrase(SHANGHAI_ROTATION, last) == "流动期限不少于3年"


@pytest.mark.parametrize(
    ("query", "span", "beats"),
    [
        ("骨干教师比例", "不低于30%", "不低于符合交流轮岗条件教师总数的20%"),
        ("教师交流轮岗比例", "不低于符合交流轮岗条件教师总数的20%", "不低于30%"),
        ("流动期限", "不少于3年", "不低于30%"),
    ],
)
def test_value_coverage_prefers_the_value_whose_phrase_names_the_measure(query: str, span: str, beats: str) -> None:
    terms = parse_measure(query).terms
    good = value_coverage(terms, SHANGHAI_ROTATION, req(1, clause_text=SHANGHAI_ROTATION, span=span))
    bad = value_coverage(terms, SHANGHAI_ROTATION, req(1, clause_text=SHANGHAI_ROTATION, span=beats))
    assert good > bad


def test_coverage_counts_synonyms_fully_and_context_at_half() -> None:
    terms = (("教师", 1.0), ("考核", 1.0))
    assert coverage(terms, "老师的考评") == 1.0  # 老师 ~ 教师, 考评 ~ 考核
    assert coverage(terms, "教师", context="年度考核") == pytest.approx(0.75)
    assert coverage(terms, "无关文字") == 0.0


@pytest.mark.parametrize(
    ("unit", "units", "fits"),
    [("%", {"%"}, True), ("次", {"%"}, False), (None, {"%"}, True), (None, {"次"}, False), ("门", set(), True)],
)
def test_unit_fits(unit: str | None, units: set[str], fits: bool) -> None:
    assert unit_fits(req(1, unit=unit), frozenset(units)) is fits


# ----- aligning values ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "family", "strictest"),
    [
        ({"a": 20.0, "b": 30.0}, ">=", "b"),  # a floor: the highest is strictest
        ({"a": 20.0, "b": 30.0}, "<=", "a"),  # a ceiling: the lowest is strictest
        ({"a": 30.0, "b": 30.0}, ">=", None),  # all equal: nobody is stricter
        ({"a": 30.0}, ">=", None),  # alone: nothing to compare
        ({"a": 15.0, "b": 20.0}, "=", None),  # a target is not stricter when larger
    ],
)
def test_strictest_region(values: dict[str, float], family: str, strictest: str | None) -> None:
    reqs = {rid: req(v, comparator=family) for rid, v in values.items()}
    assert strictest_region(reqs, family) == strictest


@pytest.mark.parametrize(("comparator", "family"), [(">", ">="), (">=", ">="), ("<", "<="), ("~", "="), ("range", "range")])
def test_comparator_family(comparator: str, family: str) -> None:
    assert comparator_family(comparator) == family


def test_align_values_groups_by_unit_and_comparator_family() -> None:
    def found(rid: str, r: Requirement | None) -> RegionResult:
        return RegionResult(rid, rid, None, found=r is not None, value=r)

    results = [
        found("a", req(20, ">=", "%", "a")),
        found("b", req(25, ">", "%", "b")),
        found("c", req(3, ">=", "年", "c")),
        found("d", None),
    ]
    aligned = align_values(results)
    assert [(g.unit, g.comparator, {k: r.value for k, r in g.values.items()}, g.strictest) for g in aligned] == [
        ("%", ">=", {"a": 20, "b": 25}, "b"),
        ("年", ">=", {"c": 3}, None),
    ]
    assert isinstance(aligned[0], AlignedValues)
    assert aligned[0].to_dict()["display"] == {"a": ">= 20 %", "b": "> 25 %"}


def test_regions_are_ordered_by_level_then_id() -> None:
    regions = [{"region_id": i, "level": lv} for i, lv in
               [("linping", "district"), ("shanghai", "province"), ("x", None), ("haidian", "district"),
                ("zhenjiang", "city")]]
    assert [r["region_id"] for r in ordered_regions(regions)] == ["shanghai", "zhenjiang", "haidian", "linping", "x"]


# ----- on the indexed corpus (hash embedder: shape and honesty, not relevance) -------------------------------
def test_compare_lists_every_region_once_in_stable_order(hash_kb: Any) -> None:
    data = hash_kb.compare("骨干教师比例").to_dict()
    assert [r["region_id"] for r in data["regions"]] == REGION_ORDER
    for r in data["regions"]:
        assert set(r) >= {"region_id", "region", "found", "matches"}
        assert len(r["matches"]) <= 3
        assert r["found"] or r["matches"] == []


def test_compare_restricted_to_regions(hash_kb: Any) -> None:
    data = hash_kb.compare("流动期限", region_ids=["linping", "hongkou"]).to_dict()
    assert [r["region_id"] for r in data["regions"]] == ["hongkou", "linping"]


def test_compare_of_an_unrelated_measure_finds_nothing(hash_kb: Any) -> None:
    data = hash_kb.compare("高速公路建设里程").to_dict()
    assert [r["found"] for r in data["regions"]] == [False] * 5
    assert data["aligned"] == []


# ----- golden table on the real model ------------------------------------------------------------------------
def _cells(section: str) -> list[Any]:
    rows = tomllib.loads(GOLDEN.read_text(encoding="utf-8"))[section]
    return [pytest.param(row["query"], rid, want, id=f"{row['query']}-{rid}")
            for row in rows for rid, want in row["expect"].items()]


# Held-out cells the rule gets wrong (kept visible instead of tuned away). The three earlier misses (开设几门共享
# 课程 ×2, 经费保障 in Hongkou) are answered since generic verbs weigh little, 每所 is a scope word and 保障/支持
# name one concept.
KNOWN_MISSES: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def compared(real_kb_on: Any) -> dict[str, dict[str, Any]]:
    """The golden cells on both backends (conftest.real_kb_on): the same table must hold on Milvus."""
    cache: dict[str, dict[str, Any]] = {}

    def get(query: str) -> dict[str, Any]:
        if query not in cache:
            data = real_kb_on.compare(query).to_dict()
            cache[query] = {r["region_id"]: r for r in data["regions"]}
        return cache[query]

    return get  # type: ignore[return-value]


def _check(compared: Any, query: str, region_id: str, want: Any) -> None:
    got = compared(query)[region_id]
    if want is False:
        assert got["found"] is False, f"{query}: {region_id} should be 未规定, got {got['matches'][:1]}"
        return
    assert got["found"] is True, f"{query}: {region_id} should be found; nearest {got['evidence']}"
    if want is not True:
        assert got["value"] is not None and got["value"]["value"] == want


@pytest.mark.model
@pytest.mark.parametrize(("query", "region_id", "want"), _cells("measure"))
def test_compare_golden_measures(compared: Any, query: str, region_id: str, want: Any) -> None:
    _check(compared, query, region_id, want)


@pytest.mark.model
@pytest.mark.parametrize(("query", "region_id", "want"), _cells("heldout"))
def test_compare_heldout_measures(compared: Any, query: str, region_id: str, want: Any) -> None:
    if (query, region_id) in KNOWN_MISSES:
        pytest.xfail(KNOWN_MISSES[(query, region_id)])
    _check(compared, query, region_id, want)


# Cosines moved as another CPU's int8 kernels would move them: a per-clause part (near-ties swap) and a
# systematic part (every score up or down). (seed, amplitude, shift)
PERTURBATIONS = [(1, CROSS_CPU_COSINE, 0.0), (2, CROSS_CPU_COSINE, CROSS_CPU_COSINE),
                 (3, CROSS_CPU_COSINE, -CROSS_CPU_COSINE)]


def _decisions(kb: Any, golden: Path = GOLDEN) -> dict[tuple[str, str], tuple[bool, Any]]:
    rows = [row for rows in tomllib.loads(golden.read_text("utf-8")).values() for row in rows]
    out = {}
    for row in rows:
        regions = {r["region_id"]: r for r in kb.compare(row["query"]).to_dict()["regions"]}
        for rid in row["expect"]:
            got = regions[rid]
            out[(row["query"], rid)] = (got["found"], got["value"]["value"] if got["value"] else None)
    return out


@pytest.mark.model
@pytest.mark.parametrize(("seed", "amplitude", "shift"), PERTURBATIONS)
def test_compare_decisions_hold_when_every_cosine_moves(real_kb: Any, seed: int, amplitude: float,
                                                        shift: float) -> None:
    """No golden found/未规定 decision or value sits on a knife edge: ±0.01 on every cosine changes none."""
    base = _decisions(real_kb)
    with perturbed_cosines(seed, amplitude, shift):
        moved = _decisions(real_kb)
    flipped = {cell: (base[cell], moved[cell]) for cell in base if base[cell] != moved[cell]}
    # A known miss sits inside the uncertainty band by definition (that is why it is missed on some machines).
    assert {cell: f for cell, f in flipped.items() if cell not in KNOWN_MISSES} == {}


@pytest.mark.model
def test_compare_marks_the_matched_clause_and_aligns_values(real_kb_on: Any) -> None:
    data = real_kb_on.compare("骨干教师比例").to_dict()
    regions = {r["region_id"]: r for r in data["regions"]}
    top = regions["shanghai"]["matches"][0]
    assert "骨干教师不低于30%" in top["text"]
    assert data["aligned"][0]["unit"] == "%" and data["aligned"][0]["values"] == {"shanghai": 30.0, "hongkou": 30.0}
    assert data["aligned"][0]["strictest"] is None  # both 30%: neither is stricter


def test_prefer_shared_units_lines_a_region_up_with_the_others() -> None:
    from policykb.compare import RegionResult, prefer_shared_units
    from policykb.records import Requirement

    def req(region: str, value: float, unit: str) -> Requirement:
        return Requirement(f"{region}/x#1", region, region, "t", "s", 0, 1, "共享课程", ">=", value, unit)

    shanghai = RegionResult("shanghai", "上海市", "city", True, value_options=[req("shanghai", 1, "门")])
    # Hongkou's best-ranked clause sets a share of students; its second sets courses per school, like Shanghai.
    hongkou = RegionResult(
        "hongkou", "虹口区", "district", True, value_options=[req("hongkou", 50, "%"), req("hongkou", 1, "门")]
    )
    for r in (shanghai, hongkou):
        r.value = r.value_options[0]
    prefer_shared_units([shanghai, hongkou])
    assert (hongkou.value.value, hongkou.value.unit) == (1, "门")
    assert (shanghai.value.value, shanghai.value.unit) == (1, "门")


def test_prefer_shared_units_keeps_the_best_value_when_nothing_lines_up() -> None:
    from policykb.compare import RegionResult, prefer_shared_units
    from policykb.records import Requirement

    only = RegionResult("linping", "临平区", "district", True, value_options=[
        Requirement("l#1", "l", "linping", "t", "s", 0, 1, None, "~", 15, "%"),
        Requirement("l#2", "l", "linping", "t", "s", 0, 1, None, "<=", 30, "%"),
    ])
    only.value = only.value_options[0]
    prefer_shared_units([only])
    assert only.value.value == 15


# ----- honest marks, the value the measure asks for, many regions (issue 13) -----------------------------------
def test_every_region_tied_for_the_strictest_value_is_marked() -> None:
    from policykb.compare import strictest_regions

    reqs = {rid: req(v, region=rid) for rid, v in {"a": 30.0, "b": 20.0, "c": 30.0}.items()}
    assert strictest_regions(reqs, ">=") == ["a", "c"]
    assert strictest_region(reqs, ">=") == "a"  # the JSON `strictest` key stays the first, for old clients
    aligned = align_values([RegionResult(rid, rid, None, found=True, value=r) for rid, r in reqs.items()])
    assert aligned[0].to_dict()["strictest_all"] == ["a", "c"]
    assert strictest_regions({"a": req(5.0, "<="), "b": req(5.0, "<=")}, "<=") == []  # all equal


@pytest.mark.parametrize(
    ("comparator", "value", "unit", "label"),
    [(">=", 30, "%", "不低于30%"), (">=", 3, "年", "不少于3年"), ("~", 15, "%", "约15%"), ("<=", 1, "次", "不超过1次"),
     ("range", [3, 5], "年", "3–5年"), ("=", 80, "个", "80个"), (">", 2.5, "%", "高于2.5%")],
)
def test_values_read_as_chinese(comparator: str, value: Any, unit: str, label: str) -> None:
    from policykb.compare import chinese_value

    assert chinese_value(req(value, comparator, unit)) == label


@pytest.mark.parametrize(
    ("query", "clause", "span", "ok"),
    [
        # a distance to retirement or an age is not a rotation tenure
        ("交流轮岗年限", "距退休不足5年的教师可不参加交流。", "不足5年", False),
        ("流动期限", "男55周岁、女50周岁以上的教师不作硬性要求,流动期限不少于3年。", "不少于3年", True),
        # a plan's span answers a plan-period question, not a tenure one
        ("流动期限", "通过3年努力,基本实现集团化办学全覆盖。", "3年", False),
        ("行动计划几年完成", "通过3年努力,基本实现集团化办学全覆盖。", "3年", True),
        # 后50%的学校 picks the schools; it is not a 50% coverage
        ("集团化办学覆盖率", "办学质量排名后50%的学校实现集团化办学全覆盖。", "50%", False),
        ("集团化办学覆盖率", "集团化办学覆盖率达到50%的学校。", "50%", True),
    ],
)
def test_answers_checks_the_sense_of_years_and_selector_shares(query: str, clause: str, span: str, ok: bool) -> None:
    from policykb.compare import answers

    unit = "%" if "%" in span else "年"
    comparator = "<" if "不足" in span else ">="
    assert answers(parse_measure(query), clause, req(1, comparator, unit, clause_text=clause, span=span)) is ok


def test_a_count_question_is_not_answered_by_a_share() -> None:
    measure = parse_measure("优质教育集团数量")
    assert "%" not in measure.units and "个" in measure.units
    assert not unit_fits(req(50, unit="%"), measure.units) and unit_fits(req(80, unit="个"), measure.units)


def _result(rid: str, value: Requirement | None, parents: list[str] | None = None,
            options: list[Requirement] | None = None) -> RegionResult:
    return RegionResult(rid, rid, "district" if parents else "city", found=value is not None, value=value,
                        value_options=options or ([value] if value else []), parents=parents or [])


@pytest.mark.parametrize(
    ("own", "parent", "family", "relation"),
    [(30, 20, ">=", "stricter"), (20, 20, ">=", "same"), (10, 20, ">=", "looser"),
     (1, 2, "<=", "stricter"), (3, 2, "<=", "looser"), (15, 20, "~", "differs")],
)
def test_a_district_is_compared_with_its_parent(own: float, parent: float, family: str, relation: str) -> None:
    from policykb.compare import versus_parent

    city = _result("city", req(parent, family, region="city"))
    district = _result("district", req(own, family, region="district"), parents=["city", "province"])
    by_id = {"city": city, "district": district}
    got = versus_parent(district, by_id, {"city": "某市"})
    assert got is not None and (got["parent_id"], got["relation"]) == ("city", relation)
    assert versus_parent(city, by_id, {}) is None  # no parent compared
    # a parent value of another unit is another measure: no relation
    other = _result("city", req(parent, family, unit="次", region="city"))
    assert versus_parent(district, {"city": other, "district": district}, {}) is None


def test_conflicting_documents_are_all_shown_newest_first() -> None:
    from policykb.compare import Comparison, conflicting_values

    def doc_req(doc: str, value: float) -> Requirement:
        return Requirement(f"{doc}/c", doc, "r", "t", "s", 0, 1, None, ">=", value, "%")

    old, new, same_as_new = doc_req("old", 20), doc_req("new", 30), doc_req("new", 25)
    result = _result("r", new, options=[new, same_as_new, old])
    dates = {"old": {"title": "旧文件", "date": "2019-01-01"}, "new": {"title": "新文件", "date": "2023-06-01"}}
    assert [(r.doc_id, r.value) for r in conflicting_values(result, dates)] == [("new", 30), ("old", 20)]
    agreeing = _result("r", new, options=[new, doc_req("old", 30)])
    assert conflicting_values(agreeing, dates) == []
    row = Comparison("q", parse_measure("q"), [result], [], 0.8, dates).to_dict()["regions"][0]
    assert [(c["label"], c["date"], c["title"]) for c in row["conflicts"]] == [
        ("不低于30%", "2023-06-01", "新文件"), ("不低于20%", "2019-01-01", "旧文件")]


def test_region_groups_are_provinces_and_unplaced_documents_stand_alone() -> None:
    from policykb.compare import UNREGIONED_GROUP, region_group

    assert region_group(_result("hongkou", None, parents=["shanghai"])) == "上海市"
    assert region_group(_result("linping", None, parents=["hangzhou", "zhejiang"])) == "浙江省"
    unplaced = RegionResult("doc:x", "某通知", None, found=False, doc_id="x")
    assert region_group(unplaced) == UNREGIONED_GROUP


def test_an_unspecified_cell_carries_the_nearest_clause_checked(hash_kb: Any) -> None:
    data = hash_kb.compare("高速公路建设里程").to_dict()
    for r in data["regions"]:
        assert r["found"] is False
        assert r["nearest_clause"] is not None and r["nearest_clause"]["clause_id"] == r["evidence"]["clause_id"]


def test_a_column_holds_only_its_own_regions_clauses(hash_kb: Any) -> None:
    """Shanghai's column must not show Hongkou's clauses, though a search for shanghai includes its districts."""
    from policykb.compare import region_hits

    region = next(r for r in hash_kb.regions() if r["region_id"] == "shanghai")
    hits = region_hits(hash_kb, "骨干教师比例", region, below=1)
    assert hits and {h.clause.region_id for h in hits} == {"shanghai"}


# ----- many regions: the seed corpus plus real pages of other regions (tests/compare_pages) --------------------
REGIONS_GOLDEN = Path(__file__).parent / "golden" / "compare_regions.toml"
COMPARE_PAGES = Path(__file__).parent / "compare_pages"


def _region_cells(section: str) -> list[Any]:
    rows = tomllib.loads(REGIONS_GOLDEN.read_text(encoding="utf-8"))[section]
    return [pytest.param(row["query"], rid, want, id=f"{row['query']}-{rid}")
            for row in rows for rid, want in row["expect"].items()]


@pytest.fixture(scope="module")
def regions_kb(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The corpus plus nine real pages of seven other regions (and one naming none), on the real model."""
    from conftest import CORPUS_DIR, MODEL_DIR, ROOT

    if not (MODEL_DIR / "config.json").exists() and not any(MODEL_DIR.glob("*.json")):
        pytest.skip(f"the default model is not installed in {MODEL_DIR}")
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    kb = KnowledgeBase(Settings.load(index_dir=str(tmp_path_factory.mktemp("regions-index")),
                                     models_dir=str(ROOT / "models")))
    kb.ingest([CORPUS_DIR, *sorted(COMPARE_PAGES.glob("*.txt"))])
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def compared_regions(regions_kb: Any) -> Any:
    cache: dict[str, dict[str, Any]] = {}

    def get(query: str) -> dict[str, Any]:
        if query not in cache:
            cache[query] = {r["region_id"]: r for r in regions_kb.compare(query).to_dict()["regions"]}
        return cache[query]

    return get


@pytest.mark.model
@pytest.mark.parametrize(("query", "region_id", "want"), _region_cells("calibration"))
def test_compare_many_regions_calibration(compared_regions: Any, query: str, region_id: str, want: Any) -> None:
    _check(compared_regions, query, region_id, want)


@pytest.mark.model
@pytest.mark.parametrize(("query", "region_id", "want"), _region_cells("heldout"))
def test_compare_many_regions_heldout(compared_regions: Any, query: str, region_id: str, want: Any) -> None:
    _check(compared_regions, query, region_id, want)


@pytest.mark.model
@pytest.mark.parametrize(("seed", "amplitude", "shift"), PERTURBATIONS)
def test_many_regions_decisions_hold_when_every_cosine_moves(regions_kb: Any, seed: int, amplitude: float,
                                                             shift: float) -> None:
    """The concept evidence (background weights come from the moved pool) and the values keep their margins."""
    base = _decisions(regions_kb, REGIONS_GOLDEN)
    with perturbed_cosines(seed, amplitude, shift):
        moved = _decisions(regions_kb, REGIONS_GOLDEN)
    assert {cell: (base[cell], moved[cell]) for cell in base if base[cell] != moved[cell]} == {}


@pytest.mark.model
def test_an_unspecified_cell_names_the_clause_checked_and_why(compared_regions: Any) -> None:
    shanghai = compared_regions("毕业年级交流轮岗教师比例")["shanghai"]
    assert shanghai["found"] is False
    nearest = shanghai["nearest"]
    assert "交流轮岗" in nearest["text"] and nearest["reason"] == "数值所指的不是该指标（未提及毕业、年级）"


@pytest.mark.model
def test_the_aligned_value_is_marked_among_the_clauses_numbers(compared_regions: Any) -> None:
    hefei = compared_regions("毕业年级交流轮岗教师比例")["hefei"]
    marks = [(r["span"], r["aligned"]) for r in hefei["matches"][0]["requirements"]]
    assert marks == [("不低于符合交流条件校长教师总人数的10%", False), ("不低于毕业年级符合交流轮岗条件教师人数的30%", True)]


# ----- concepts, synonyms and what a value measures (issue 13 items 1–2) --------------------------------------
@pytest.mark.parametrize(
    ("word", "text", "named"),
    [("考核", "建立绩效考评机制", True), ("经费", "安排专项资金", True), ("集团化", "推进学区化办学", True),
     ("学校", "每校至少有1门共享课程", True), ("学校", "校长考评", False), ("骨干", "名师工作室", False)],
)
def test_policy_synonyms_name_a_concept(word: str, text: str, named: bool) -> None:
    from policykb import synonyms

    assert synonyms.names(word, text) is named


def test_a_clause_missing_a_concept_of_the_measure_does_not_set_it() -> None:
    from policykb.compare import missing_concepts

    measure = parse_measure("毕业年级交流轮岗教师比例")
    assert [t for t in measure.weak] == ["比例"]
    general = "每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%"
    # 毕业 and 年级 unnamed (0.457 in the seed pool, where background weighting lowers the shared words)
    assert missing_concepts(measure, general) == pytest.approx(0.382, abs=0.001)
    assert missing_concepts(measure, "其中毕业年级交流轮岗教师人数不低于30%") == 0.0
    # 轮岗 names the 交流 concept; a compound's part must be named itself
    assert missing_concepts(parse_measure("骨干教师比例"), "教师轮岗比例") > 0.4


@pytest.mark.parametrize(
    ("query", "units"),
    [("课后服务时长", {"小时", "分钟", "课时"}), ("周末托管服务天数", {"天"}),
     ("校外培训机构收费标准", {"元", "万元", "亿元", "千元"}),
     # an amount of money asked without the word 标准 (issue 13: amounts are requirements now)
     ("课后服务收费", {"元", "万元", "亿元", "千元"}), ("生均公用经费", {"元", "万元", "亿元", "千元"}),
     ("课后服务每生补助多少元", {"元", "万元", "亿元", "千元"}),
     ("专项经费", set()),  # a fund named, no amount asked: a qualitative measure
     ("教师每期交流多长时间", {"年", "学年", "月", "学期", "周", "天", "小时", "分钟"}),
     # the time of an activity, or a time counted per day, is a duration; a time alone is a date
     ("中小学校每天体育活动时间", {"小时", "分钟", "课时"}), ("小学生书面作业时间", {"小时", "分钟", "课时"}),
     ("学生睡眠时间", {"小时", "分钟", "课时"}), ("暑假放假时间", set()), ("课后服务结束时间", set())],
)
def test_duration_money_and_day_cues_ask_for_their_units(query: str, units: set[str]) -> None:
    assert set(parse_measure(query).units) == units


@pytest.mark.parametrize(
    ("query", "clause", "span", "ok"),
    [
        # years of service at one school make a teacher due to rotate; they are not how long a rotation lasts
        ("交流轮岗期限", "今后在同一所学校任职或工作满6年的正、副校长和教师,原则上要进行交流轮岗。", "满6年", False),
        ("交流轮岗期限", "教师每期交流轮岗的期限原则上为1至3年。", "1至3年", True),
        # a qualification of experience is not a rotation period either
        ("交流轮岗期限", "教师到农村学校任教1年以上的工作经历,作为申报高一级职务的必备条件。", "1年以上", False),
    ],
)
def test_years_of_service_and_experience_are_not_a_rotation_period(query: str, clause: str, span: str,
                                                                   ok: bool) -> None:
    from policykb.compare import answers

    assert answers(parse_measure(query), clause, req(1, ">=", "年", clause_text=clause, span=span)) is ok


def test_the_reason_an_unspecified_cell_gives() -> None:
    from policykb.compare import Candidate, why_not
    from policykb.records import Clause, Hit

    def cand(text: str, dense: float, value: Requirement | None = None) -> Candidate:
        clause = Clause(clause_id="x/1", doc_id="x", region_id="x", section=["二、保障措施"], text=text, start=0,
                        end=len(text))
        return Candidate(hit=Hit(clause=clause, region="x", score=1.0, dense_score=dense), relevance=dense,
                         coverage=0.0, value=value)

    assert why_not(parse_measure("专项经费"), cand("加强宣传引导", 0.70), 0.80) == "条款与该指标语义相关度不足"
    assert why_not(parse_measure("骨干教师比例"), cand("推动骨干教师流动", 0.90), 0.80) == "条款未设定该指标的数值"
    assert why_not(parse_measure("教师交流轮岗比例"), cand("图为省长在学校考察", 0.90), 0.80) == (
        "条款未提及教师、交流、轮岗，也未设定数值")
    assert why_not(parse_measure("评价机制"), cand("健全考核办法", 0.90), 0.80) == "条款对该指标的表述不充分"
    assert why_not(parse_measure("专项经费"), cand("落实经费支持", 0.90), 0.80) == "条款未提及专项"
    # fragments of one word are named as that word (not 中小、小学)
    assert why_not(parse_measure("中小学体育活动时间"), cand("开展教研", 0.90), 0.80) == (
        "条款未提及中小学、体育、活动，也未设定数值")


@pytest.mark.parametrize(
    ("query", "shares"),
    [
        # overlapping search-mode pieces of one word share its weight
        ("中小学校每天体育活动时间", {"中小": 1 / 3, "小学": 1 / 3, "学校": 1 / 3}),
        ("中小学班额", {"中小": 0.5, "小学": 0.5}),
        # pieces that tile a word without overlap are two ideas
        ("骨干教师交流比例", {}), ("义务教育学校校长教师交流轮岗比例", {}),
    ],
)
def test_overlapping_fragments_of_one_word_share_its_weight(query: str, shares: dict[str, float]) -> None:
    from policykb.compare import fragment_shares, term_concepts

    assert fragment_shares(query, term_concepts(query)) == pytest.approx(shares)


def test_a_clause_naming_only_the_school_level_is_not_on_topic() -> None:
    """中小学校 counted once: a clause about 中小学 groups covers little of a sports-time measure."""
    from policykb.compare import coverage

    terms = parse_measure("中小学校每天体育活动时间").terms
    assert coverage(terms, "到2025年培育80个优质公办中小学教育集团") < 0.35  # 0.59 when counted thrice
    assert coverage(terms, "确保中小学生每天校内体育活动时间不少于1小时") > 0.9


PLAN_TITLE = "上海市示范性学区和集团建设三年行动计划(2023-2025年)"
HORIZON = "通过3年努力,在紧密型学区和集团占比进一步提高的基础上,建设一批市示范性学区和集团。"


@pytest.mark.parametrize(
    ("query", "title", "value"),
    [
        # the horizon is the span of the plan the document is: its title names what it measures
        ("行动计划期限", PLAN_TITLE, "3年"),
        ("三年行动计划的实施期限", PLAN_TITLE, "3年"),
        # a document that is no plan does not make its horizon a plan period; a tenure query never takes it
        ("行动计划期限", "关于进一步推进集团化办学的指导意见", None),
        ("交流轮岗期限", PLAN_TITLE, None),
    ],
)
def test_a_plan_horizon_is_read_against_the_document_it_plans(query: str, title: str, value: str | None) -> None:
    from policykb.compare import decides_found, is_plan_span, judge
    from policykb.extract import extract_from_text
    from policykb.records import Clause, Hit

    clause = Clause(clause_id="sh/1", doc_id="sh", region_id="shanghai", section=["一、总体要求", "(二)工作目标"],
                    text=HORIZON, start=0, end=len(HORIZON))
    found = extract_from_text(HORIZON)
    assert [(r.span, r.comparator, r.value) for r in found] == [("3年", "=", 3.0)] and is_plan_span(found[0], HORIZON)
    cand = judge(parse_measure(query), Hit(clause=clause, region="上海市", score=1.0, dense_score=0.9,
                                           requirements=found), title)
    accepted = decides_found(parse_measure(query), cand, 0.8)
    assert (cand.value.span if accepted and cand.value else None) == value


# ----- counts and amounts (issue 13: 优质教育集团数量 was given a share while the real count 80个 was left out) ----
@pytest.mark.parametrize(
    ("query", "clause", "span"),
    [
        ("优质教育集团数量", "到2025年,培育80个优质教育集团,集团化办学覆盖率达到60%以上。", "80个"),
        ("培育优质教育集团的个数", "到2025年,优质教育集团覆盖率达到60%以上,培育80个优质教育集团。", "80个"),
        ("新优质学校有多少所", "新优质学校占比不低于30%,建成10所新优质学校。", "10所"),
        ("课后服务收费标准", "课后服务收费标准为每生每课时2元,学生参与率达到90%以上。", "2元"),
        ("生均公用经费", "义务教育学校生均公用经费不低于1200元,经费拨付率达到100%。", "不低于1200元"),
    ],
)
def test_a_count_or_amount_measure_aligns_the_count_or_amount_not_a_share(query: str, clause: str, span: str) -> None:
    from policykb.compare import judge
    from policykb.extract import extract_from_text
    from policykb.records import Clause, Hit

    found = extract_from_text(clause)
    hit = Hit(Clause("c1", "d1", "r", [], clause, 0, len(clause)), "r", 0.9, found, dense_score=0.9)
    cand = judge(parse_measure(query), hit)
    assert cand.value is not None and cand.value.span == span


@pytest.mark.parametrize(("text", "name"), [
    ("<正>【新闻背景】2016年1月7日，省教育厅、财政厅联合出台《实施意见》。\n正文", "（无标题）2016年1月7日，省教育厅…"),
    ("\n\n  公办中小学冠名教育集团的现象，本质上是创新举措。", "（无标题）公办中小学冠名教育集团的现象…"),
    ("日前，市政协举办座谈会。", "（无标题）日前，市政协举办座谈会。"),
    ("", "（无标题）"),
])
def test_an_untitled_document_column_is_named_by_its_opening_words(text: str, name: str) -> None:
    from policykb.compare import untitled_name

    assert untitled_name(text) == name


@pytest.mark.parametrize(("query", "clause", "span", "unit", "ok"), [
    # 数量 counts things; how often something happens (每学期不超过1次) does not answer it
    ("集团成员校数量", "对集团的成员校减少进校检查，原则上每学期不超过一次。", "不超过一次", "次", False),
    ("集团成员校数量", "每个教育集团成员校不少于3所。", "不少于3所", "所", True),
    ("联合教研次数", "集团成员校每学期开展联合教研不少于2次。", "不少于2次", "次", True),
])
def test_a_count_of_things_is_not_answered_by_a_number_of_times(query: str, clause: str, span: str, unit: str,
                                                               ok: bool) -> None:
    from policykb.compare import answers, unit_fits

    measure, requirement = parse_measure(query), req(1, ">=", unit, clause_text=clause, span=span)
    assert (unit_fits(requirement, measure.units) and answers(measure, clause, requirement)) is ok


def test_teachers_flowing_into_a_school_are_the_rotation() -> None:
    from policykb import synonyms

    assert synonyms.names("交流", "因需实施教师组团流入，流入教师人数不少于3人")
    assert synonyms.names("轮岗", "帮助流入校建立可持续发展机制")
    assert not synonyms.names("交流", "做好随迁子女流入地入学保障")  # migrant pupils are no rotation


@pytest.mark.parametrize(("measure", "subject", "other"), [
    ("入学率", "初中学生学业水平合格率", True),
    ("巩固率", "学前三年毛入园率", True),
    ("合格率", "学业水平达标率", False),  # a synonym names the same rate
    ("入学率", "高中阶段毛入学率", False),
    ("集团化办学覆盖率", "骨干教师", False),  # no rate in the subject: nothing to tell
    ("教学效率", "合格率", False),  # 效率 is no rate asked for
])
def test_a_value_of_another_rate_does_not_answer(measure: str, subject: str, other: bool) -> None:
    from policykb.compare import names_another_rate

    assert names_another_rate(measure, subject) is other
