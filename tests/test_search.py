"""Hybrid search over hand-made records (real sentences) with the deterministic HashEmbedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policykb.embed import HashEmbedder
from policykb.errors import IndexError_, QueryError
from policykb.indexer import build_index, open_index
from policykb.search import SearchEngine, rrf_fuse
from policykb.settings import Settings
from test_store import sample_corpus


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.load(
        model="hash",
        index_dir=str(tmp_path_factory.mktemp("indexes")),
        max_query_chars=200,
        candidates=100,
        fusion_k=60,
        dense_weight=1.0,
        keyword_weight=1.0,
    )


@pytest.fixture(scope="module")
def engine(settings: Settings) -> SearchEngine:
    build_index(sample_corpus(), settings.index_path, HashEmbedder(), settings)
    store, keyword_index, vector_index, manifest = open_index(settings.index_path, settings)
    engine = SearchEngine(store, keyword_index, vector_index, HashEmbedder(), settings, manifest)
    yield engine
    engine.close()


def ids(hits: list) -> list[str]:
    return [h.clause.clause_id for h in hits]


@pytest.mark.parametrize(
    ("rankings", "expected"),
    [
        # one ranking: 1/(60+1), 1/(60+2)
        ([([7, 3], 1.0)], [(7, 1 / 61), (3, 1 / 62)]),
        # agreement adds up; an id ranked by both beats ids ranked once
        ([([7, 3], 1.0), ([3, 9], 1.0)], [(3, 1 / 62 + 1 / 61), (7, 1 / 61), (9, 1 / 62)]),
        # equal fused scores: the lower id first
        ([([5], 1.0), ([2], 1.0)], [(2, 1 / 61), (5, 1 / 61)]),
        # weights scale a ranking's votes
        ([([5], 1.0), ([2], 2.0)], [(2, 2 / 61), (5, 1 / 61)]),
        # should not rank anything: no candidates
        ([([], 1.0)], []),
    ],
)
def test_rrf_fuse(rankings: list, expected: list) -> None:
    fused = rrf_fuse([(np.array(r, dtype=np.int64), w) for r, w in rankings], fusion_k=60)
    assert [i for i, _ in fused] == [i for i, _ in expected]
    np.testing.assert_allclose([s for _, s in fused], [s for _, s in expected])


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_search_finds_exact_policy_term_first(engine: SearchEngine, mode: str) -> None:
    hits = engine.search("县管校聘", k=3, mode=mode)
    assert ids(hits)[:2] == ["zhenjiang-2019/三.(二)#1", "linping-2023/三.(一)#1"]


def test_search_traditional_query_finds_what_its_simplified_twin_finds(engine: SearchEngine) -> None:
    for simplified, traditional in [
        ("县管校聘", "縣管校聘"),
        ("联合教研每学期几次", "聯合教研每學期幾次"),
        ("教师交流轮岗比例", "教師交流輪崗比例"),
    ]:
        a, b = engine.search(simplified, k=10), engine.search(traditional, k=10)
        assert ids(a) == ids(b)
        assert [h.score for h in a] == [h.score for h in b]


def test_search_hits_carry_region_name_section_and_requirements(engine: SearchEngine) -> None:
    hit = engine.search("一至六年级拓展性课程课时比例", k=1)[0]
    assert hit.clause.clause_id == "linping-2023/三.(二)#1"
    assert hit.region == "临平区"
    assert hit.clause.section == ["三、主要举措", "(二)深化课程改革"]
    assert [(r.span, r.comparator, r.value, r.unit, r.period) for r in hit.requirements] == [
        ("一至六年级15%左右", "~", 15.0, "%", "每学年")
    ]
    out = hit.to_dict()
    assert {"clause_id", "doc_id", "region_id", "region", "section", "text", "score", "requirements"} <= set(
        out
    )
    assert out["requirements"][0]["value"] == 15.0


def test_search_reports_both_rankers_scores(engine: SearchEngine) -> None:
    hits = engine.search("县管校聘", k=10)
    # every hit gets a cosine, even those only BM25 found; BM25 scores only where BM25 ranked the clause
    assert all(h.dense_score is not None and -1.0 <= h.dense_score <= 1.0001 for h in hits)
    assert hits[0].keyword_score is not None and hits[0].keyword_score > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        # region filter: 县管校聘 in Linping is its 区管校聘 clause
        ("县管校聘", {"region_ids": ["linping"]}, ["linping-2023/三.(一)#1"]),
        # several regions
        (
            "骨干教师占比",
            {"region_ids": ["hongkou", "shanghai"]},
            ["hongkou-2025/一#1", "shanghai-2023-15/二.(二).1#1"],
        ),
        # one document
        (
            "职称晋升优先",
            {"doc_id": "zhenjiang-2019"},
            ["zhenjiang-2019/三.(二)#2", "zhenjiang-2019/三.(二)#1"],
        ),
        # only clauses with a requirement: the 县管校聘 clause has none, its neighbour does
        (
            "县管校聘 集团内教师",
            {"has_requirement": True, "region_ids": ["zhenjiang"]},
            ["zhenjiang-2019/三.(二)#2"],
        ),
        # should not match: a statistic is not a requirement; a region without documents
        ("教育集团", {"has_requirement": True, "region_ids": ["haidian"]}, []),
        ("教育集团", {"region_ids": ["shenzhen"]}, []),
    ],
)
def test_search_filters(engine: SearchEngine, query: str, filters: dict, expected: list[str]) -> None:
    hits = engine.search(query, k=len(expected) or 5, **filters)
    assert ids(hits)[: len(expected)] == expected
    if filters.get("region_ids"):
        assert {h.clause.region_id for h in hits} <= set(filters["region_ids"])
    if filters.get("has_requirement"):
        assert all(any(r.kind == "requirement" for r in h.requirements) for h in hits)


def test_search_returns_body_clauses_only(engine: SearchEngine) -> None:
    # "主要任务" is a heading's whole text; headings and signatures are context, never hits
    hits = engine.search("主要任务 上海市教育委员会", k=20)
    assert hits and all(h.clause.role == "body" for h in hits)


def test_search_is_deterministic(engine: SearchEngine) -> None:
    first = [(h.clause.clause_id, h.score) for h in engine.search("教师交流", k=10)]
    for _ in range(3):
        assert [(h.clause.clause_id, h.score) for h in engine.search("教师交流", k=10)] == first


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query is empty: type what you are looking for, e.g. 教师交流轮岗比例"),
        ("  \u3000 ", "query is empty: type what you are looking for, e.g. 教师交流轮岗比例"),
        ("教" * 201, "query is too long: 201 characters, the limit is 200"),
    ],
)
def test_search_rejects_unusable_queries(engine: SearchEngine, query: str, message: str) -> None:
    with pytest.raises(QueryError) as err:
        engine.search(query)
    assert str(err.value) == message


def test_search_accepts_a_query_at_the_limit(engine: SearchEngine) -> None:
    assert engine.search("教" * 200, k=1)


def test_search_rejects_an_unknown_mode(engine: SearchEngine) -> None:
    with pytest.raises(QueryError, match="unknown search mode 'fuzzy': choose one of hybrid, dense, keyword"):
        engine.search("县管校聘", mode="fuzzy")


def test_search_loads_the_model_only_when_a_query_needs_it(engine: SearchEngine) -> None:
    calls: list[int] = []

    def factory() -> HashEmbedder:
        calls.append(1)
        return HashEmbedder()

    lazy = SearchEngine(
        engine.store, engine.keyword_index, engine.vector_index, factory, engine.settings, engine.manifest
    )
    lazy.search("县管校聘", mode="keyword")
    assert calls == []
    assert ids(lazy.search("县管校聘", k=2)) == ids(engine.search("县管校聘", k=2))
    lazy.search("教师")
    assert calls == [1]


def test_search_refuses_a_model_other_than_the_index_was_built_with(engine: SearchEngine) -> None:
    other = SearchEngine(
        engine.store,
        engine.keyword_index,
        engine.vector_index,
        lambda: HashEmbedder(32),
        engine.settings,
        engine.manifest,
    )
    with pytest.raises(IndexError_) as err:
        other.search("县管校聘")
    assert str(err.value) == (
        "the index was built with the model hash-64 (64 dimensions) but the settings load hash-32 (32 dimensions): "
        "rebuild the index with `policykb ingest`, or set POLICYKB_MODEL back to hash"
    )


def test_search_warm_up_prepares_everything(engine: SearchEngine) -> None:
    engine.warm_up()
    assert engine._facets is not None and engine._embedder is not None
    assert engine.keyword_index._warm


def test_search_engine_dense_mode_ranks_by_cosine(engine: SearchEngine, settings: Settings) -> None:
    hits = engine.search("县管校聘", k=5, mode="dense")
    assert [h.score for h in hits] == [h.dense_score for h in hits]
    query = HashEmbedder().encode_queries(["县管校聘"])[0]
    texts = [h.clause.text for h in hits]
    np.testing.assert_allclose(
        [h.score for h in hits], HashEmbedder().encode_passages(texts) @ query, rtol=1e-5
    )


def test_search_works_on_a_store_path_in_another_thread(engine: SearchEngine) -> None:
    import threading

    out: list[list[str]] = []
    thread = threading.Thread(target=lambda: out.append(ids(engine.search("县管校聘", k=2))))
    thread.start()
    thread.join()
    assert out == [ids(engine.search("县管校聘", k=2))]


def test_search_engine_on_empty_corpus(tmp_path: Path) -> None:
    settings = Settings.load(model="hash", index_dir=str(tmp_path))
    build_index([], tmp_path, HashEmbedder(), settings)
    store, keyword_index, vector_index, manifest = open_index(tmp_path, settings)
    engine = SearchEngine(store, keyword_index, vector_index, HashEmbedder(), settings, manifest)
    assert engine.search("县管校聘") == []
    engine.close()
