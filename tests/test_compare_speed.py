"""Compare's fast path gives exactly the answers of the plain one, and its caches never outlive the build they
were made from (issue 16 item 4); the load test stays runnable at a tiny size."""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.compare import SEARCH_DEPTH, columns_hits, compare_measure, region_hits
from policykb.records import Clause, Requirement, flat_dict

ROOT = Path(__file__).resolve().parents[1]


def _below(kb: Any) -> dict[str, int]:
    indexed = kb.regions()
    return {r["region_id"]: sum(1 for o in indexed if r["region_id"] in (o.get("parent_region_ids") or []))
            for r in indexed}


@pytest.mark.parametrize("query", ["骨干教师比例", "流动期限", "集团化办学考核评价", "高速公路建设里程"])
def test_one_batched_search_finds_every_column_exactly_as_a_search_per_column(hash_kb: Any, query: str) -> None:
    regions = [r for r in hash_kb.regions() if r["region_id"]]
    below = _below(hash_kb)
    batched = columns_hits(hash_kb, query, regions, below)
    one_by_one = {r["region_id"]: region_hits(hash_kb, query, r, below[r["region_id"]]) for r in regions}
    assert batched == one_by_one
    assert all(0 < len(hits) <= SEARCH_DEPTH for hits in batched.values())
    assert batched["shanghai"] and {h.clause.region_id for h in batched["shanghai"]} == {"shanghai"}


def test_search_columns_ranks_each_filter_like_search(hash_kb: Any) -> None:
    columns = [(10, ["shanghai"], None), (5, None, "haidian-2022-07-26"), (3, None, None), (200, ["hongkou"], None)]
    got = hash_kb.search_columns("教师交流轮岗", columns)
    want = [hash_kb.search("教师交流轮岗", k=k, region_ids=regions, doc_id=doc) for k, regions, doc in columns]
    assert got == want
    assert [len(g) for g in got[:3]] == [10, 5, 3]
    with pytest.raises(Exception, match="k must be between 1 and 200"):
        hash_kb.search_columns("教师交流轮岗", [(0, None, None)])


class _PlainKB:
    """A knowledge base without `search_columns` (as a test double would be): compare searches column by column."""

    def __init__(self, kb: Any) -> None:
        self._kb = kb
        self.settings = kb.settings

    def __getattr__(self, name: str) -> Any:
        if name == "search_columns":
            raise AttributeError(name)
        return getattr(self._kb, name)


@pytest.mark.parametrize("query", ["骨干教师比例", "流动期限", "课后服务时间"])
def test_the_batched_comparison_equals_the_column_by_column_one(hash_kb: Any, query: str) -> None:
    assert compare_measure(hash_kb, query).to_dict() == compare_measure(_PlainKB(hash_kb), query).to_dict()


def test_compare_view_is_memoised_per_build_and_hands_out_copies(hash_kb: Any) -> None:
    want = hash_kb.compare("骨干教师比例").to_dict()
    first = hash_kb.compare_view("骨干教师比例")
    hits = hash_kb.compare_cache_hits
    again = hash_kb.compare_view(" 骨干教师比例 ")  # the same query once normalised
    assert hash_kb.compare_cache_hits == hits + 1
    assert first == want and again == want and again is not first
    again["regions"][0]["views"] = ["a page adds its own fields"]
    assert hash_kb.compare_view("骨干教师比例") == want  # the cached answer is untouched
    hits = hash_kb.compare_cache_hits
    assert hash_kb.compare_view("骨干教师比例", region_ids=["shanghai"]) == \
        hash_kb.compare("骨干教师比例", region_ids=["shanghai"]).to_dict()
    assert hash_kb.compare_cache_hits == hits  # another filter is another answer


def test_a_publish_empties_the_compare_and_catalogue_caches(tmp_path: Path) -> None:
    from conftest import CORPUS_DIR, corpus_path
    from policykb.embed import HashEmbedder
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    kb = KnowledgeBase(Settings.load(index_dir=str(tmp_path / "index")), embedder_factory=lambda s: HashEmbedder())
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(corpus_path("shanghai"), first)
    kb.ingest([first])
    before = kb.compare_view("骨干教师比例")
    body_before = kb.compare_body("骨干教师比例", None, lambda d: repr(d).encode())
    measures_before = kb.measures()
    assert [r["region_id"] for r in before["regions"]] == ["shanghai"]
    assert kb.measures() == measures_before and kb.measures() is not kb.measures()
    kb.ingest([corpus_path("hongkou")])
    after = kb.compare_view("骨干教师比例")
    assert [r["region_id"] for r in after["regions"]] == ["shanghai", "hongkou"]
    assert after == kb.compare("骨干教师比例").to_dict()
    body_after = kb.compare_body("骨干教师比例", None, lambda d: repr(d).encode())
    assert body_before != body_after and body_after == repr(after).encode()
    catalogued = {r.region_id for m in kb.measures() for r in m.requirements}
    assert {r.region_id for m in measures_before for r in m.requirements} == {"shanghai"}
    assert catalogued == {"shanghai", "hongkou"}
    kb.close()
    assert CORPUS_DIR.exists()


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(section=st.lists(_text, max_size=4), text=_text, start=st.integers(0, 10_000), ordinal=st.integers(0, 500))
def test_a_clause_becomes_json_exactly_as_asdict_makes_it(section: list[str], text: str, start: int,
                                                          ordinal: int) -> None:
    clause = Clause("c1", "d1", "r1", section, text, start, start + len(text), ordinal=ordinal)
    out = clause.to_dict()
    assert out == asdict(clause)
    out["section"].append("changed")
    assert clause.section == section  # a copy, as asdict makes


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=False), st.lists(st.floats(allow_nan=False), min_size=2, max_size=2)),
       unit=st.one_of(st.none(), st.sampled_from(["%", "年", "次", "万元"])), subject=st.one_of(st.none(), _text))
def test_a_requirement_becomes_json_exactly_as_asdict_makes_it(value: Any, unit: str | None,
                                                               subject: str | None) -> None:
    req = Requirement("c1", "d1", "r1", "text", "不低于30%", 0, 6, subject, "range" if isinstance(value, list)
                      else ">=", value, unit)
    assert flat_dict(req) == asdict(req)
    assert req.to_dict()["display"] and {k: v for k, v in req.to_dict().items() if k != "display"} == asdict(req)


def test_load_test_runs_at_a_tiny_size_and_counts_repeated_queries(hash_kb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from load_test import repeats, run_load_test

    monkeypatch.setenv("POLICYKB_MODEL", "hash")
    r = run_load_test(hash_kb.index_root, requests=12, clients=2, startup_timeout=240.0)
    assert r["errors"] == 0 and r["requests"] == 12 and r["servers"] == 1
    assert {k: v["count"] for k, v in r["kinds"].items()} == {"search": 6, "compare": 4, "page": 2}
    assert r["kinds"]["compare"]["p95_ms"] >= r["kinds"]["compare"]["p50_ms"] > 0
    assert r["server_cpu_ms_per_request"] > 0 and r["server_rss_mb"][0] > 50
    work = [("compare", "甲", ""), ("search", "甲", ""), ("compare", "甲", ""), ("compare", "乙", ""),
            ("compare", "乙", "")]
    assert repeats(work, "compare") == 2 and repeats(work, "search") == 0
    distinct = run_load_test(hash_kb.index_root, requests=10, clients=2, distinct=True, startup_timeout=240.0)
    assert distinct["errors"] == 0 and all(v["repeats"] == 0 for v in distinct["kinds"].values())


# ----- the per-build memos and the API's encoded answers (issue 16 item 4, second round) -------------------------
def _reference_credit(term: str, text: str) -> float:
    """_term_credit as it was written before its search was prepared once per term."""
    from policykb import synonyms

    if synonyms.names(term, text):
        return 1.0
    shared = sum(1 for ch in set(term) if ch in text)
    return 0.4 * shared / len(set(term)) if len(term) > 1 else 0.0


_SYNONYM_WORDS = sorted({w for group in __import__("policykb.synonyms", fromlist=["x"]).CONCEPT_GROUPS for w in group})
_pieces = st.sampled_from([*_SYNONYM_WORDS, "每", "各", "全", "本", "该", "校长", "骨干", "，", "x", "3年"])


@settings(max_examples=300, deadline=None)
@given(term=st.one_of(st.sampled_from(_SYNONYM_WORDS), st.text(alphabet="教师学校流动轮岗交流经费x", min_size=1,
                                                               max_size=4)),
       text=st.lists(_pieces, max_size=8).map("".join))
def test_a_terms_credit_is_what_synonyms_names_decides(term: str, text: str) -> None:
    from policykb.compare import _term_credit

    assert _term_credit(term, text) == _reference_credit(term, text)


def test_term_credit_on_known_texts() -> None:
    from policykb.compare import _term_credit

    assert _term_credit("学校", "每校至少1门") == 1.0  # the one-character synonym in its 每校 form
    assert _term_credit("学校", "校长") == 0.2  # 校 inside 校长 does not name 学校: one of two characters
    assert _term_credit("交流", "教师轮岗") == 1.0
    assert _term_credit("骨干", "骨干教师") == 1.0 and _term_credit("骨干", "教师") == 0.0


@pytest.fixture(scope="module")
def unplaced_kb(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The seed corpus and the compare pages (one of which names no region), hashing embedder."""
    from conftest import CORPUS_DIR
    from policykb.embed import HashEmbedder
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    kb = KnowledgeBase(Settings.load(index_dir=str(tmp_path_factory.mktemp("unplaced"))),
                       embedder_factory=lambda s: HashEmbedder())
    kb.ingest([CORPUS_DIR, ROOT / "tests" / "compare_pages"])
    yield kb
    kb.close()


def test_unplaced_document_columns_kept_per_build_equal_reading_every_document(unplaced_kb: Any) -> None:
    from policykb.compare import DOC_COLUMN_PREFIX, document_columns, unplaced_columns

    want = unplaced_columns(unplaced_kb.documents())
    assert want and all(c["region_id"].startswith(DOC_COLUMN_PREFIX) for c in want)
    indexed = unplaced_kb.regions()
    got = document_columns(unplaced_kb, indexed)
    assert got == want == document_columns(_PlainKB(unplaced_kb), indexed)
    got[0]["parent_region_ids"].append("changed")  # a caller's copy: the memo is untouched
    assert document_columns(unplaced_kb, indexed) == want


@pytest.mark.parametrize("query", ["骨干教师比例", "专项经费", "教师交流轮岗期限"])
def test_the_memoised_comparison_equals_the_plain_one_with_unplaced_columns(unplaced_kb: Any, query: str) -> None:
    first = compare_measure(unplaced_kb, query).to_dict()
    again = compare_measure(unplaced_kb, query).to_dict()  # from the row and region memos now
    assert first == again == compare_measure(_PlainKB(unplaced_kb), query).to_dict()
    assert any(r["doc_id"] for r in first["regions"])


def _fastapi_compare_body(kb: Any, query: str, region: list[str] | None = None) -> bytes:
    """What FastAPI itself sends for a `response_model=CompareOut` route returning the compare dict."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from policykb.web import CompareOut

    app = FastAPI()

    @app.get("/c", response_model=CompareOut)
    def plain() -> dict[str, Any]:
        return dict(kb.compare(query, region_ids=region).to_dict())

    return bytes(TestClient(app).get("/c").content)


@pytest.mark.parametrize(("query", "region"), [("骨干教师比例", None), ("专项经费", None),
                                               ("教师交流轮岗期限", ["shanghai"])])
def test_api_compare_sends_exactly_the_bytes_fastapi_would(unplaced_kb: Any, query: str,
                                                           region: list[str] | None) -> None:
    from fastapi.testclient import TestClient

    from policykb.web import create_app

    client = TestClient(create_app(unplaced_kb), base_url="http://127.0.0.1")
    params: dict[str, Any] = {"q": query, **({"region": region} if region else {})}
    first = client.get("/api/compare", params=params)
    hits = unplaced_kb.compare_cache_hits
    again = client.get("/api/compare", params=params)
    assert unplaced_kb.compare_cache_hits == hits + 1  # the second answer came from the memo
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == again.content == _fastapi_compare_body(unplaced_kb, query, region)
