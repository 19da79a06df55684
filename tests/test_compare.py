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


# Held-out cells the rule gets wrong (measured before any change; kept visible instead of tuned away).
KNOWN_MISSES = {
    ("每学期每所学校开设几门共享课程", "shanghai"): "开设 and 每所学校 are not in 每校至少有1门共享课程",
    ("每学期每所学校开设几门共享课程", "hongkou"): "开设 and 每所学校 are not in 每校至少有1门共享课程",
    ("经费保障", "hongkou"): "落实专项经费支持 names only one of the two terms",
}


@pytest.fixture(scope="module")
def compared(real_kb: Any) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}

    def get(query: str) -> dict[str, Any]:
        if query not in cache:
            data = real_kb.compare(query).to_dict()
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


def _decisions(kb: Any) -> dict[tuple[str, str], tuple[bool, Any]]:
    rows = [row for section in ("measure", "heldout") for row in tomllib.loads(GOLDEN.read_text("utf-8"))[section]]
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
def test_compare_marks_the_matched_clause_and_aligns_values(real_kb: Any) -> None:
    data = real_kb.compare("骨干教师比例").to_dict()
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
