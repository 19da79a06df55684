"""The speed paths of search must not change its answers: a query's dense side run in a worker thread beside its
BM25 side gives exactly the ranking of the two run one after the other, on the seed corpus's real clauses with the
benchmark's real queries (hash embedder here; the real model, marked `model`, at the end)."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policykb import embed, search
from policykb.search import SearchEngine

BENCH = Path(__file__).resolve().parents[1] / "bench"
QUERIES = [q["text"] for q in tomllib.loads((BENCH / "queries.toml").read_text(encoding="utf-8"))["query"]]


def _ranking(engine: SearchEngine, query: str, parallel: bool, **kwargs: Any) -> list[tuple[int, float, Any, Any]]:
    engine._query_vector.cache_clear()  # each path embeds the query itself
    original = SearchEngine._parallel_sides
    SearchEngine._parallel_sides = (lambda self: True) if parallel else (lambda self: False)  # type: ignore[method-assign]
    try:
        return [(r.rowid, r.score, r.dense_score, r.keyword_score) for r in engine.rank(query, **kwargs)]
    finally:
        SearchEngine._parallel_sides = original  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def engine(hash_kb: Any) -> Iterator[SearchEngine]:
    engine = hash_kb.engine()
    engine.warm_up()
    yield engine


def test_parallel_sides_are_used_on_the_local_backend_with_two_cores(engine: SearchEngine) -> None:
    assert engine._parallel_sides() == (search._usable_cores() > 1)


@pytest.mark.parametrize("query", QUERIES[:24])
def test_parallel_sides_rank_exactly_as_sequential_ones(engine: SearchEngine, query: str) -> None:
    sequential = _ranking(engine, query, parallel=False, k=10)
    assert sequential, query  # every benchmark query finds clauses in the seed corpus
    assert _ranking(engine, query, parallel=True, k=10) == sequential


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        (QUERIES[0], {"region_ids": ["hongkou"]}),
        (QUERIES[1], {"has_requirement": True}),
        (QUERIES[2], {"region_ids": ["shanghai", "hongkou"], "has_requirement": True}),
    ],
)
def test_parallel_sides_keep_filtered_rankings(engine: SearchEngine, query: str, filters: dict[str, Any]) -> None:
    assert _ranking(engine, query, parallel=True, k=10, **filters) == _ranking(engine, query, parallel=False, k=10,
                                                                              **filters)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(["集团化办学", "经费", "教师", "交流轮岗", "评价", "课后服务", "比例", "多少",
                                       "学区", "示范性", "督导", "钱由谁出", "县管校聘", "不低于"]),
                      min_size=1, max_size=4),
       k=st.integers(min_value=1, max_value=30),
       mode=st.sampled_from(["hybrid", "dense", "keyword"]))
def test_parallel_sides_never_change_any_ranking(engine: SearchEngine, words: list[str], k: int, mode: str) -> None:
    query = "".join(words)
    assert _ranking(engine, query, parallel=True, k=k, mode=mode) == _ranking(engine, query, parallel=False, k=k,
                                                                              mode=mode)


def test_a_failing_side_raises_and_frees_its_worker(engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("faiss went away")

    monkeypatch.setattr(SearchEngine, "_parallel_sides", lambda self: True)
    monkeypatch.setattr(engine.backend, "dense", broken)
    for _ in range(search._SIDE_WORKERS + 1):  # a slot not given back would leave the last ones inline
        with pytest.raises(RuntimeError, match="faiss went away"):
            engine.rank(QUERIES[0], k=10)
    assert all(search._side_slots.acquire(blocking=False) for _ in range(search._SIDE_WORKERS))
    for _ in range(search._SIDE_WORKERS):
        search._side_slots.release()


def test_a_query_finding_every_worker_busy_runs_both_sides_itself(engine: SearchEngine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SearchEngine, "_parallel_sides", lambda self: True)
    expected = _ranking(engine, QUERIES[3], parallel=False, k=10)
    taken = [search._side_slots.acquire(blocking=False) for _ in range(search._SIDE_WORKERS)]
    assert all(taken)
    try:
        seen: list[str] = []
        original = engine.backend.dense

        def dense(*args: Any, **kwargs: Any) -> Any:
            seen.append(threading.current_thread().name)
            return original(*args, **kwargs)

        monkeypatch.setattr(engine.backend, "dense", dense)
        engine._query_vector.cache_clear()
        got = [(r.rowid, r.score, r.dense_score, r.keyword_score) for r in engine.rank(QUERIES[3], k=10)]
    finally:
        for _ in taken:
            search._side_slots.release()
    assert got == expected
    assert seen == [threading.current_thread().name]


def test_the_dense_worker_embeds_on_one_thread_unless_the_setting_fixes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "idle_cores", lambda: 2.0)
    assert embed.query_threads(0, in_flight=0) == 2
    with embed.beside_other_work():
        assert embed.query_threads(0, in_flight=0) == 1
        assert embed.query_threads(3, in_flight=0) == 3
        with embed.beside_other_work():
            assert embed.query_threads(0, in_flight=0) == 1
        assert embed.query_threads(0, in_flight=0) == 1
    assert embed.query_threads(0, in_flight=0) == 2
    found: list[int] = []
    with embed.beside_other_work():  # per thread: another thread's queries keep their own choice
        worker = threading.Thread(target=lambda: found.append(embed.query_threads(0, in_flight=0)))
        worker.start()
        worker.join()
    assert found == [2]


@pytest.mark.model
@pytest.mark.parametrize("query", QUERIES)
def test_parallel_sides_rank_exactly_as_sequential_ones_with_the_real_model(real_kb: Any, query: str) -> None:
    engine = real_kb.engine()
    assert [r[0] for r in _ranking(engine, query, parallel=True, k=10)] == \
        [r[0] for r in _ranking(engine, query, parallel=False, k=10)]


def test_the_text_cache_never_changes_a_ranking(hash_kb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second stage reads clause texts through a bounded cache: rankings with it warm, cold, or overflowing at
    every query equal those read straight from the store, and it never holds more than its bound."""
    engine = hash_kb.engine()
    reads: list[int] = []
    original = engine.store.texts_and_headings

    def counted(rowids: Any) -> Any:
        reads.append(len(rowids))
        return original(rowids)

    monkeypatch.setattr(engine.store, "texts_and_headings", counted)
    cold = []
    for query in QUERIES[:12]:
        engine._text_cache.clear()
        cold.append(_ranking(engine, query, parallel=False, k=10))
    assert sum(reads) > 0  # the second stage ran on these queries
    engine._text_cache.clear()
    assert [_ranking(engine, query, parallel=False, k=10) for query in QUERIES[:12]] == cold  # fills the cache
    reads.clear()
    warm = [_ranking(engine, query, parallel=True, k=10) for query in QUERIES[:12]]
    assert warm == cold
    assert sum(reads) == 0  # every text came from the cache
    monkeypatch.setattr(search, "TEXT_CACHE_SIZE", 40)
    engine._text_cache.clear()
    tiny = []
    for query in QUERIES[:12]:
        tiny.append(_ranking(engine, query, parallel=True, k=10))
        assert len(engine._text_cache) <= max(40, *reads[-1:])  # one query's texts may exceed the bound
    assert tiny == cold


# ----- one query under many filters (compare's columns) ----------------------------------------------------------
def _rows(ranked: list[Any]) -> list[tuple[int, float, Any, Any]]:
    return [(r.rowid, r.score, r.dense_score, r.keyword_score) for r in ranked]


def _filters(engine: SearchEngine) -> list[Any]:
    """Every region alone, two together, each document, and the has-requirement filter: compare's columns and more."""
    from policykb.backends import ClauseFilter

    regions = sorted(r["region_id"] for r in engine.store.regions() if r["region_id"])
    docs = sorted({c.doc_id for c in engine.store.clauses()})
    return ([ClauseFilter((r,)) for r in regions] + [ClauseFilter(tuple(regions[:2]))]
            + [ClauseFilter((), d) for d in docs] + [ClauseFilter(), ClauseFilter((), None, True)])


@pytest.mark.parametrize("query", QUERIES[:12])
def test_rank_columns_answers_every_filter_as_rank_alone(engine: SearchEngine, query: str) -> None:
    filters = _filters(engine)
    columns = [(10 + 7 * (i % 3), flt) for i, flt in enumerate(filters)]
    together = engine.rank_columns(query, columns)
    assert len(together) == len(columns) and any(together)
    for (k, flt), got in zip(columns, together, strict=True):
        alone = engine.rank(query, k, list(flt.region_ids) or None, flt.doc_id, flt.has_requirement)
        assert _rows(got) == _rows(alone), (query, flt)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(["集团化办学", "经费", "教师", "交流轮岗", "评价", "比例", "几年", "钱由谁出"]),
                      min_size=1, max_size=3),
       picks=st.lists(st.tuples(st.integers(min_value=0, max_value=40), st.integers(min_value=1, max_value=40)),
                      min_size=1, max_size=5),
       mode=st.sampled_from(["hybrid", "dense", "keyword"]))
def test_rank_columns_never_changes_a_ranking(engine: SearchEngine, words: list[str], picks: list[tuple[int, int]],
                                              mode: str) -> None:
    filters = _filters(engine)
    query = "".join(words)
    columns = [(k, filters[i % len(filters)]) for i, k in picks]
    together = engine.rank_columns(query, columns, mode)
    alone = [engine.rank(query, k, list(f.region_ids) or None, f.doc_id, f.has_requirement, mode) for k, f in columns]
    assert [_rows(r) for r in together] == [_rows(r) for r in alone]


def test_rank_columns_on_several_segments_answers_as_rank(tmp_path: Path) -> None:
    """A knowledge base grown by two ingests searches two segments, each with its own BM25 statistics."""
    from conftest import CORPUS_FILES, corpus_path
    from policykb.embed import HashEmbedder
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    kb = KnowledgeBase(Settings.load(index_dir=str(tmp_path / "index")), embedder_factory=lambda s: HashEmbedder())
    names = sorted(CORPUS_FILES)
    kb.ingest([corpus_path(n) for n in names[:2]])
    kb.ingest([corpus_path(n) for n in names[2:]])
    engine = kb.engine()
    assert len(engine.store._split.segments) >= 2
    filters = _filters(engine)
    for query in QUERIES[:6]:
        columns = [(10, flt) for flt in filters]
        together = engine.rank_columns(query, columns)
        assert [_rows(r) for r in together] == [
            _rows(engine.rank(query, 10, list(f.region_ids) or None, f.doc_id, f.has_requirement)) for f in filters]
    kb.close()


@pytest.mark.parametrize("query", QUERIES[:16])
def test_the_concept_pass_in_its_own_worker_ranks_as_inline(engine: SearchEngine, query: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """On a large index (numba BM25, no GIL) the concept words' BM25 pass runs in a second worker thread."""
    sequential = _ranking(engine, query, parallel=False, k=10)
    started: list[str] = []
    original = engine._concept_candidates

    def concept(*args: Any) -> Any:
        started.append(threading.current_thread().name)
        return original(*args)

    monkeypatch.setattr(SearchEngine, "_gil_free_bm25", lambda self: True)
    monkeypatch.setattr(engine, "_concept_candidates", concept)
    assert _ranking(engine, query, parallel=True, k=10) == sequential
    assert started and started[0] != threading.current_thread().name


def test_a_failing_concept_pass_raises_after_both_workers_end(engine: SearchEngine,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("numba went away")

    monkeypatch.setattr(SearchEngine, "_parallel_sides", lambda self: True)
    monkeypatch.setattr(SearchEngine, "_gil_free_bm25", lambda self: True)
    monkeypatch.setattr(engine, "_concept_candidates", broken)
    for _ in range(search._SIDE_WORKERS + 1):
        with pytest.raises(RuntimeError, match="numba went away"):
            engine.rank(QUERIES[0], k=10)
    assert all(search._side_slots.acquire(blocking=False) for _ in range(search._SIDE_WORKERS))
    for _ in range(search._SIDE_WORKERS):
        search._side_slots.release()
