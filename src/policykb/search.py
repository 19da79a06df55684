"""Hybrid search: a dense ranking and a BM25 ranking of the searchable clauses, fused into one.

The default fusion (`convex`) scores the union of both candidate lists: every candidate gets its exact cosine
(BM25-only ones are re-scored against their stored vectors), cosines are min-max scaled over that union and
BM25 scores divided by the best one, and the two are mixed by `dense_share`. Reciprocal rank fusion (`rrf`)
is kept as an option: it only sees ranks, so a clause one ranker puts first and the other never lists falls
below clauses both rank middling.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import Any

import numpy as np

from policykb.backends import ClauseFilter, IndexBackend, LocalBackend
from policykb.errors import IndexError_, PolicyKBError, QueryError
from policykb.indexer import check_embedder
from policykb.keyword_index import KeywordIndex
from policykb.query import normalise_query
from policykb.records import Hit
from policykb.settings import Settings
from policykb.store import Store
from policykb.vector_index import VectorIndex

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("convex", "rrf")
FILTER_CACHE_SIZE = 64  # compare filters by each region in turn: 40+ regions must not evict one another
# compare runs one search per region with the same query: its embedding is computed once, not once per region.
QUERY_VECTOR_CACHE_SIZE = 64
# The second stage reads the text and headings of about 150 clauses per query; these many (about 10 MB) are kept.
TEXT_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Ranked:
    """One candidate after fusion: dense id, fused score and the two rankers' own scores (None: not ranked)."""

    rowid: int
    score: float
    dense_score: float | None
    keyword_score: float | None


def rrf_fuse(rankings: Sequence[tuple[np.ndarray, float]], fusion_k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: id → Σ weight / (fusion_k + rank), rank counted from 1; best first, ties by id."""
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, rowid in enumerate(ids.tolist(), start=1):
            fused[rowid] = fused.get(rowid, 0.0) + weight / (fusion_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _scaled(values: np.ndarray) -> np.ndarray:
    """Min-max scaling to [0, 1]; all-equal values (one candidate, say) all count as the best, 1."""
    low, high = float(values.min()), float(values.max())
    if high - low <= 1e-12:
        return np.ones_like(values)
    return (values - low) / (high - low)


# A question about an amount (比例, 多少, 几次, 期限, 不低于…) is answered by a clause that sets a number.
QUANTITY_QUESTION = re.compile(
    r"比例|比率|占比|比重|权重|多少|几[次年个所门项人名天周月节届期倍成]|次数|期限|年限|多长|多久|上限|下限|最少|最多|"
    r"至少|不低于|不少于|不超过|不高于|人数|数量|[率额]$|[率额]要求|[率额]目标"
)


def favour_numbers(
    fused: list[tuple[int, float]], has_requirement: np.ndarray, boost: float
) -> list[tuple[int, float]]:
    """Mix `boost` of a "sets a number" flag into the fused score (scores stay in [0, 1]); best first, ties by id."""
    if boost <= 0 or not fused:
        return fused
    boosted = [
        (rowid, (1.0 - boost) * score + (boost if has_requirement[rowid] else 0.0)) for rowid, score in fused
    ]
    return sorted(boosted, key=lambda item: (-item[1], item[0]))


def expand_query(folded_query: str) -> str:
    """The query with the policy synonyms of its words appended (for BM25): 集团考评 also finds 考核评价机制."""
    import jieba

    from policykb import synonyms

    words = [w for w in jieba.lcut_for_search(folded_query) if len(w.strip()) > 1]
    extra = synonyms.expansions(words)
    return f"{folded_query} {' '.join(extra)}" if extra else folded_query


def diversify(
    fused: list[tuple[int, float]], region_of: np.ndarray, k: int, quota: int, floor: float
) -> list[tuple[int, float]]:
    """The top k with at most `quota` hits of a region ahead of the best hit of every other region that scores
    at least `floor` of the best: when several regions answer, each one's best clause reaches the top k.
    Deferred hits keep their order and fill the places left; scores are not changed."""
    if quota <= 0 or not fused:
        return fused[:k]
    best = fused[0][1]
    contenders = {int(region_of[rowid]) for rowid, score in fused if score >= floor * best}
    shown: dict[int, int] = {}
    remaining = list(fused)
    out: list[tuple[int, float]] = []
    while remaining and len(out) < k:
        waiting = contenders - set(shown)
        pick = next((i for i, (rowid, _) in enumerate(remaining)
                     if shown.get(int(region_of[rowid]), 0) < quota or not waiting - {int(region_of[rowid])}), 0)
        rowid, score = remaining.pop(pick)
        region = int(region_of[rowid])
        shown[region] = shown.get(region, 0) + 1
        out.append((rowid, score))
    return out


def convex_fuse(
    dense: dict[int, float], keyword: dict[int, float], dense_share: float
) -> list[tuple[int, float]]:
    """Convex fusion over the candidates: dense_share·scaled cosine + (1 − dense_share)·BM25 / best BM25.

    `dense` holds the cosine of every candidate (empty when there is no dense ranking), `keyword` the BM25
    score of the clauses BM25 ranked (others count 0). Cosines are min-max scaled over the candidates because
    an embedding model's cosines sit in a narrow band that differs per query; BM25 is divided by its best
    score so that 0 keeps meaning "no shared term". Scores lie in [0, 1]; best first, ties by id.
    """
    ids = np.array(sorted(set(dense) | set(keyword)), dtype=np.int64)
    if ids.size == 0:
        return []
    bm25 = np.array([keyword.get(i, 0.0) for i in ids.tolist()], dtype=np.float64)
    cosine = np.array([dense[i] for i in ids.tolist()], dtype=np.float64) if dense else None
    fused = fuse_convex(bm25, cosine, dense_share)
    order = np.lexsort((ids, -fused))
    return [(int(ids[i]), float(fused[i])) for i in order]


def fuse_convex(bm25: np.ndarray, cosine: np.ndarray | None, dense_share: float) -> np.ndarray:
    """`convex_fuse` on aligned arrays (one entry per candidate; cosine None without a dense ranking)."""
    if bm25.size == 0:
        return np.zeros(0, dtype=np.float64)
    share = min(max(dense_share, 0.0), 1.0) if cosine is not None and cosine.size else 0.0
    best = float(bm25.max())
    fused = (1.0 - share) * (bm25 / best if best > 0 else bm25)
    if cosine is not None and cosine.size:
        fused += share * _scaled(cosine)
    return fused


def clause_share(keyword_index: Any, words: frozenset[str]) -> float:
    """Share of the indexed clauses naming the commonest of `words`, from the BM25 postings (a segmented index,
    documents added after the build, sums its segments); 0 for an empty index or one without postings."""
    parts = [s.keyword_index for s in keyword_index._split.segments] if hasattr(keyword_index, "_split") \
        else [keyword_index]
    query = " ".join(sorted(words))
    total = sum(int(getattr(p, "n_docs", 0) or 0) for p in parts)
    if total <= 0 or not all(hasattr(p, "query_token_ids") for p in parts):
        return 0.0
    named = 0  # per segment the commonest word's clauses: a close lower bound of the clauses naming any word
    for part in parts:
        tokens = part.query_token_ids(query) if part.n_docs else []
        named += int(part.document_frequencies(tokens).max()) if tokens else 0
    return named / total


@functools.lru_cache(maxsize=1)
def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# One query's dense side runs here while its BM25 side runs in the request's own thread. A busy server may have
# more queries in flight than workers: a query that finds every worker taken runs its two sides one after the other
# rather than queueing behind another query's embedding.
_SIDE_WORKERS = 4
_side_pool: ThreadPoolExecutor | None = None
_side_slots = threading.BoundedSemaphore(_SIDE_WORKERS)
_side_pool_lock = threading.Lock()


def _beside(job: Callable[[], Any]) -> Future[Any] | None:
    """`job` started in a worker thread (its query embedding takes one thread, see embed.beside_other_work), or None
    when every worker is busy (the caller then runs it itself)."""
    global _side_pool
    if not _side_slots.acquire(blocking=False):
        return None
    try:
        with _side_pool_lock:
            if _side_pool is None:
                _side_pool = ThreadPoolExecutor(max_workers=_SIDE_WORKERS, thread_name_prefix="policykb-dense")
        pool = _side_pool
    except BaseException:
        _side_slots.release()
        raise

    def run() -> Any:
        from policykb.embed import beside_other_work

        try:
            with beside_other_work():
                return job()
        finally:
            _side_slots.release()

    try:
        return pool.submit(run)
    except BaseException:  # shutting down: the caller runs it
        _side_slots.release()
        return None


def _weak_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """A bound method that does not keep its object alive."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> Any:
        bound = ref()
        if bound is None:
            raise IndexError_("the search engine of a replaced build was used after it was released")
        return bound(*args)

    return call


class SearchEngine:
    """Searches one opened index. Safe to call from many threads; `warm_up()` moves all first-call costs to start-up.

    `embedder` may be an Embedder or a zero-argument callable returning one, so that the model is only loaded
    by the first search that needs it (listing clauses or requirements never does).
    """

    def __init__(
        self,
        store: Store,
        keyword_index: KeywordIndex,
        vector_index: VectorIndex,
        embedder: Any,
        settings: Settings,
        manifest: Any = None,
        backend: Any = None,
    ) -> None:
        if settings.fusion not in FUSIONS:
            raise PolicyKBError(
                f"unknown fusion {settings.fusion!r}: set POLICYKB_FUSION to one of {', '.join(FUSIONS)}"
            )
        self.store = store
        self.keyword_index = keyword_index
        self.vector_index = vector_index
        self.settings = settings
        self.manifest = manifest
        self._embedder_source = embedder
        self._embedder: Any = embedder if hasattr(embedder, "encode_queries") else None
        self._facets: dict[str, np.ndarray] | None = None
        self._shares: dict[frozenset[str], float] = {}  # concept words → share of the clauses naming them
        self._text_cache: dict[int, tuple[str, str]] = {}  # dense id → (text, headings) for the second stage
        self._lock = threading.Lock()
        # A few filters recur (a user's region, "has a requirement"); at a million clauses each mask costs ms.
        # Caches and the backend hold the engine weakly: a server drops the engine of a replaced build when its
        # last request ends (reference counting), instead of keeping it, its indexes and its SQLite connections
        # until a full garbage collection happens to find the cycle (a few MB per upload, issue 16).
        self._allowed = functools.lru_cache(maxsize=FILTER_CACHE_SIZE)(_weak_method(self._compute_allowed))
        self._query_vector = functools.lru_cache(maxsize=QUERY_VECTOR_CACHE_SIZE)(_weak_method(self._embed_query))
        # The rankings come from a backend (backends.py); fusion and the boost below are the same for every one.
        self.backend: IndexBackend = backend or LocalBackend(keyword_index, vector_index,
                                                             _weak_method(self._allowed_for))

    # -- lazily opened parts -------------------------------------------------------------------------------

    def embedder(self) -> Any:
        """The query embedder, loaded on first use and checked against the index it must match."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    source: Callable[[], Any] = self._embedder_source
                    candidate = source()
                    self._check_embedder(candidate)
                    self._embedder = candidate
        return self._embedder

    def _check_embedder(self, embedder: Any) -> None:
        if self.manifest is not None:
            check_embedder(self.manifest, embedder)
        dim = int(embedder.dimension)
        if len(self.vector_index) and dim != self.vector_index.dimension:
            raise IndexError_(
                f"the index holds {self.vector_index.dimension}-dimensional vectors but the model "
                f"{embedder.name} makes {dim}-dimensional ones: rebuild the index with `policykb ingest`"
            )

    def facets(self) -> dict[str, np.ndarray]:
        """Region, document and has-requirement flags per dense id, loaded once (the index never changes)."""
        if self._facets is None:
            facets = self.store.facets()
            with self._lock:
                self._facets = facets
        return self._facets

    def warm_up(self) -> None:
        """Load the model, jieba, the filters and the numba scorer now, so the first request is fast."""
        self.backend.warm_up()
        self.facets()
        self.store.regions()
        embedder = self.embedder()
        if hasattr(embedder, "load_tokenizer"):
            embedder.load_tokenizer()  # a server tokenises with the full tokenizer; a one-shot CLI never loads it
        embedder.encode_queries(["预热"])

    def close(self) -> None:
        self.store.close()

    # -- searching -------------------------------------------------------------------------------------------

    def allowed_ids(
        self,
        region_ids: Sequence[str] | None = None,
        doc_id: str | None = None,
        has_requirement: bool = False,
    ) -> np.ndarray | None:
        """Dense ids passing every filter (None when nothing is filtered); read-only, cached per filter."""
        if not region_ids and doc_id is None and not has_requirement and self._all_live():
            return None
        return self._allowed(tuple(sorted(set(region_ids or ()))), doc_id, has_requirement)

    def _allowed_for(self, flt: ClauseFilter) -> np.ndarray | None:
        return self.allowed_ids(flt.region_ids, flt.doc_id, flt.has_requirement)

    def _all_live(self) -> bool:
        """True when no searchable clause belongs to a deleted document (one segment, nothing superseded)."""
        live = self.facets().get("live")
        return live is None or bool(live.all())

    def _compute_allowed(
        self, region_ids: tuple[str, ...], doc_id: str | None, has_requirement: bool
    ) -> np.ndarray:
        f = self.facets()
        live = f.get("live")
        # Deleted documents' clauses stay in their immutable segment until a merge: every search skips them.
        mask = np.ones(len(f["region"]), dtype=bool) if live is None else live.copy()
        if region_ids:
            codes = np.flatnonzero(np.isin(f["region_ids"], list(region_ids)))
            mask &= np.isin(f["region"], codes)
        if doc_id is not None:
            codes = np.flatnonzero(f["doc_ids"] == doc_id)
            mask &= np.isin(f["doc"], codes)
        if has_requirement:
            mask &= f["has_requirement"]
        ids = np.flatnonzero(mask).astype(np.int64)
        ids.flags.writeable = False
        return ids

    def rank(
        self,
        query: str,
        k: int = 10,
        region_ids: Sequence[str] | None = None,
        doc_id: str | None = None,
        has_requirement: bool = False,
        mode: str = "hybrid",
    ) -> list[Ranked]:
        """The top-k dense ids for a query, with their scores; `search` turns them into hits."""
        flt = ClauseFilter(tuple(sorted(set(region_ids or ()))), doc_id, has_requirement)
        return self.rank_columns(query, [(k, flt)], mode)[0]

    def rank_columns(
        self, query: str, columns: Sequence[tuple[int, ClauseFilter]], mode: str = "hybrid"
    ) -> list[list[Ranked]]:
        """`rank` of one query under each (k, filter), each answer exactly as `rank` gives it alone. Compare ranks
        a measure in every region: the query is embedded and cut once, BM25 scores it once for all filters (on
        the posting-list scorer), and the second stage matches each candidate's text once."""
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r}: choose one of {', '.join(MODES)}")
        folded = normalise_query(query, int(self.settings.max_query_chars))
        searches = [(max(int(self.settings.candidates), k), flt) for k, flt in columns]
        nothing = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        dense: list[tuple[np.ndarray, np.ndarray]] = [nothing] * len(searches)
        keyword, concept = list(dense), list(dense)
        query_vec: np.ndarray | None = None
        convex = mode == "hybrid" and self.settings.fusion == "convex"
        run_dense = mode in ("hybrid", "dense") and bool(self.backend.count())
        run_keyword = mode in ("hybrid", "keyword")

        def dense_side() -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
            vec = self._query_vector(folded)
            return vec, [self.backend.dense(vec, depth, flt) for depth, flt in searches]

        def keyword_side() -> list[tuple[np.ndarray, np.ndarray]]:
            keyword_query = expand_query(folded) if self.settings.query_expansion else folded
            return self.backend.keyword_many(keyword_query, searches,
                                             common_share=float(self.settings.common_term_share))

        def concept_side() -> list[tuple[np.ndarray, np.ndarray]]:
            return self._concept_candidates(folded, [flt for _, flt in searches])

        # The sides are independent. Embedding and faiss release the GIL and so does the numba BM25, so on the
        # local backend the dense side runs in a worker thread while this one ranks by BM25 (the query's wall time
        # is the longest side, not the sum); on a large index, whose BM25 passes are numba's, the concept words'
        # pass runs in a second worker. The results are the same either way.
        parallel = run_dense and run_keyword and self._parallel_sides()
        dense_job = _beside(dense_side) if parallel else None
        concept_job = _beside(concept_side) if convex and parallel and self._gil_free_bm25() else None
        try:
            if run_dense and dense_job is None:
                query_vec, dense = dense_side()
            if run_keyword:
                keyword = keyword_side()
                if convex and concept_job is None:
                    concept = concept_side()
        finally:  # joined even when a side failed: no worker outlives the request
            wait_for([job for job in (dense_job, concept_job) if job is not None])
        if concept_job is not None:
            concept = concept_job.result()
        if dense_job is not None:
            query_vec, dense = dense_job.result()
        matches: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}  # the second stage's, shared by the columns
        return [
            self._fused(folded, mode, k, query_vec, *dense[i], *keyword[i], *concept[i], matches)
            for i, (k, _) in enumerate(columns)
        ]

    def _fused(
        self, folded: str, mode: str, k: int, query_vec: np.ndarray | None,
        dense_ids: np.ndarray, dense_scores: np.ndarray, keyword_ids: np.ndarray, keyword_scores: np.ndarray,
        concept_ids: np.ndarray, concept_scores: np.ndarray, matches: dict[int, tuple[np.ndarray, np.ndarray, bool]],
    ) -> list[Ranked]:
        """One filter's top k from its rankings: convex fusion with the boost, the second stage and
        diversification, or reciprocal-rank fusion, or one side alone."""
        if mode == "hybrid" and self.settings.fusion == "convex":
            # Convex fusion weighs the cosine of every candidate, BM25-only ones included.
            ids = np.union1d(np.union1d(dense_ids, keyword_ids), concept_ids).astype(np.int64)
            cosine = self._cosines(ids, dense_ids, dense_scores, query_vec)
            bm25 = np.zeros(ids.size, dtype=np.float64)
            bm25[np.searchsorted(ids, keyword_ids)] = keyword_scores
            share = float(self.settings.concept_keyword_share)
            if share > 0 and concept_scores.size and float(concept_scores.max()) > 0:
                best = float(bm25.max()) if bm25.size and bm25.max() > 0 else 1.0
                bm25 /= best
                lifted = share * concept_scores.astype(np.float64) / float(concept_scores.max())
                at = np.searchsorted(ids, concept_ids)
                bm25[at] = np.maximum(bm25[at], lifted)
            fused = fuse_convex(bm25, cosine, float(self.settings.dense_share))
            if fused.size and self._asks_for_amount(folded):
                boost = float(self.settings.quantity_boost)
                fused = (1.0 - boost) * fused + boost * self.facets()["has_requirement"][ids]
            order = np.lexsort((ids, -fused))
            weight = float(self.settings.rerank_weight)
            if weight > 0 and fused.size:
                fused = self._second_stage(folded, ids, fused, order, weight, concept_ids, matches)
                order = np.lexsort((ids, -fused))
            quota = int(self.settings.region_diversity)
            if quota > 0:
                # Diversification looks past the top k, so it needs the whole ordered pool.
                picked = diversify(list(zip(ids[order].tolist(), fused[order].tolist(), strict=True)),
                                   self.facets()["region"], k, quota, float(self.settings.diversity_floor))
                top_ids = np.array([rowid for rowid, _ in picked], dtype=np.int64)
                top_scores = np.array([score for _, score in picked], dtype=np.float64)
            else:
                top_ids, top_scores = ids[order[:k]], fused[order[:k]]
            return self._ranked(top_ids, top_scores, ids, cosine, keyword_ids, keyword_scores)
        if mode == "hybrid":
            rankings = [
                (dense_ids, float(self.settings.dense_weight)),
                (keyword_ids, float(self.settings.keyword_weight)),
            ]
            pairs = rrf_fuse(rankings, int(self.settings.fusion_k))[:k]
            top_ids = np.array([rowid for rowid, _ in pairs], dtype=np.int64)
            top_scores = np.array([score for _, score in pairs], dtype=np.float64)
        else:
            only_ids, only_scores = (dense_ids, dense_scores) if mode == "dense" else (keyword_ids, keyword_scores)
            order = np.lexsort((only_ids, -only_scores))[:k]
            top_ids, top_scores = only_ids[order], only_scores[order].astype(np.float64)
        # Hits found by BM25 alone still get their cosine, which callers use as an absolute relevance.
        cosine = self._cosines(top_ids, dense_ids, dense_scores, query_vec)
        return self._ranked(top_ids, top_scores, top_ids, cosine, keyword_ids, keyword_scores)

    def _gil_free_bm25(self) -> bool:
        """Whether every BM25 pass of this index runs in numba without the GIL (MaxScore or bm25s's numba scorer,
        chosen for large indexes): only then does a second BM25 pass gain from a thread of its own."""
        parts = str(getattr(self.keyword_index, "backend", "")).split(",")
        return all(part in ("maxscore", "numba") for part in parts)

    def _parallel_sides(self) -> bool:
        """Whether a query's dense and BM25 sides may run at once: the local backend (whose libraries release the
        GIL) on a process with two cores or more."""
        return isinstance(self.backend, LocalBackend) and _usable_cores() > 1

    def _concept_candidates(
        self, folded_query: str, filters: Sequence[ClauseFilter]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per filter, the dense ids of the best clauses by BM25 over the query's concept words
        (policykb.rerank.concept_query): a region whose funding clause says 专项拨款, not 钱 or 集团, still reaches
        the second stage."""
        empty = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        depth = int(self.settings.concept_candidates)
        if depth <= 0 or float(self.settings.rerank_weight) <= 0:
            return [empty] * len(filters)
        from policykb.rerank import concept_query

        words = concept_query(folded_query)
        if words is None:
            return [empty] * len(filters)
        found = self.backend.keyword_many(words, [(depth, flt) for flt in filters],
                                          common_share=float(self.settings.common_term_share))
        return [(np.asarray(ids, dtype=np.int64), np.asarray(scores)) for ids, scores in found]

    def _collection_share(self, words: frozenset[str]) -> float:
        """Share of the clauses that name the commonest of `words` (from the BM25 postings; 0 without an index),
        cached: the index never changes."""
        share = self._shares.get(words)
        if share is None:
            share = clause_share(self.keyword_index, words)
            if len(self._shares) > 4096:
                self._shares.clear()
            self._shares[words] = share
        return share

    def _second_stage(
        self, folded_query: str, ids: np.ndarray, fused: np.ndarray, order: np.ndarray, weight: float,
        concept_ids: np.ndarray | None = None, matches: dict[int, tuple[np.ndarray, np.ndarray, bool]] | None = None,
    ) -> np.ndarray:
        """The fused scores with `weight` of the query's concept coverage mixed in (policykb.rerank): the pool's
        best RERANK_DEPTH and every concept candidate are scored, and a scored candidate that is a question
        (rerank.is_question) loses question_discount. `matches` keeps each scored clause's concept matches
        (rerank.concept_matches) and question flag for the other filters of the same query."""
        from policykb.rerank import (
            RERANK_DEPTH,
            concept_matches,
            coverage_of_matches,
            is_question,
            query_concepts,
            weighted_by_collection,
        )

        concepts = query_concepts(folded_query)
        if not concepts:
            return fused
        n_docs = int(getattr(self.keyword_index, "n_docs", 0) or 0)
        concepts = weighted_by_collection(concepts, [self._collection_share(words) for words, _ in concepts], n_docs)
        scored = order[:RERANK_DEPTH]
        if concept_ids is not None and concept_ids.size:
            extra = np.searchsorted(ids, concept_ids)  # ids is sorted and holds every concept candidate
            scored = np.concatenate([scored, np.setdiff1d(extra, scored, assume_unique=False)])
        rowids = ids[scored].tolist()
        known = {} if matches is None else matches
        new = [rowid for rowid in dict.fromkeys(rowids) if rowid not in known]
        if new:
            rows = self._texts_and_headings(new)
            in_text, in_head = concept_matches(concepts, [text for text, _ in rows], [heads for _, heads in rows])
            for column, rowid in enumerate(new):
                known[rowid] = (in_text[:, column], in_head[:, column], is_question(rows[column][0]))
        in_text = np.array([known[rowid][0] for rowid in rowids], dtype=bool).T.reshape(len(concepts), len(rowids))
        in_head = np.array([known[rowid][1] for rowid in rowids], dtype=bool).T.reshape(len(concepts), len(rowids))
        coverage = np.zeros(ids.size, dtype=np.float64)
        coverage[scored] = coverage_of_matches(concepts, in_text, in_head)
        out = (1.0 - weight) * fused + weight * coverage
        discount = float(self.settings.question_discount)
        if discount > 0:
            out[scored] -= discount * np.array([known[rowid][2] for rowid in rowids], dtype=np.float64)
        return np.asarray(out, dtype=np.float64)

    def _texts_and_headings(self, rowids: list[int]) -> list[tuple[str, str]]:
        """Store.texts_and_headings through a bounded cache: neighbouring queries score many of the same clauses in
        the second stage, and a clause's text never changes within one build (a new build gets a new engine)."""
        cache = self._text_cache
        found: dict[int, tuple[str, str]] = {}
        for rowid in rowids:
            row = cache.get(rowid)
            if row is not None:
                found[rowid] = row
        missing = [rowid for rowid in rowids if rowid not in found]
        if missing:
            fetched = dict(zip(missing, self.store.texts_and_headings(missing), strict=True))
            found.update(fetched)
            if len(cache) + len(fetched) > TEXT_CACHE_SIZE:
                cache.clear()  # crude but bounded; another thread's lookups fall back to the store
            cache.update(fetched)
        return [found[rowid] for rowid in rowids]

    def _asks_for_amount(self, folded_query: str) -> bool:
        return float(self.settings.quantity_boost) > 0 and bool(QUANTITY_QUESTION.search(folded_query))

    def _cosines(
        self, ids: np.ndarray, dense_ids: np.ndarray, dense_scores: np.ndarray, query_vec: np.ndarray | None
    ) -> np.ndarray | None:
        """The cosine of each id (ascending or not): the dense ranking's score, else from its stored vector, in one
        batch. None when there is no dense side."""
        if query_vec is None:
            return None
        out = np.empty(ids.size, dtype=np.float64)
        order = np.argsort(dense_ids, kind="stable")
        sorted_dense = dense_ids[order]
        pos = np.minimum(np.searchsorted(sorted_dense, ids), max(sorted_dense.size - 1, 0))
        ranked = sorted_dense[pos] == ids if sorted_dense.size else np.zeros(ids.size, dtype=bool)
        out[ranked] = dense_scores[order][pos[ranked]]
        if not ranked.all():
            out[~ranked] = self.backend.similarity(query_vec[0], ids[~ranked])
        return out

    @staticmethod
    def _ranked(
        top_ids: np.ndarray, top_scores: np.ndarray, ids: np.ndarray, cosine: np.ndarray | None,
        keyword_ids: np.ndarray, keyword_scores: np.ndarray,
    ) -> list[Ranked]:
        """Ranked records of the top ids: their fused score, their cosine (from `cosine`, aligned with `ids`) and
        their BM25 score where BM25 ranked them."""
        cos_of = dict(zip(ids.tolist(), cosine.tolist(), strict=True)) if cosine is not None else {}
        bm25_of = dict(zip(keyword_ids.tolist(), keyword_scores.tolist(), strict=True))
        return [
            Ranked(rowid, score, cos_of.get(rowid), bm25_of.get(rowid))
            for rowid, score in zip(top_ids.tolist(), top_scores.tolist(), strict=True)
        ]

    def _embed_query(self, folded_query: str) -> np.ndarray:
        """The (1, d) query vector, read-only: cached and shared between threads."""
        vec = np.asarray(self.embedder().encode_queries([folded_query]), dtype=np.float32)
        vec.flags.writeable = False
        return vec

    def search(
        self,
        query: str,
        k: int = 10,
        region_ids: Sequence[str] | None = None,
        doc_id: str | None = None,
        has_requirement: bool = False,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """Best clauses first, each with its region name and the requirements it carries.

        mode and what `Hit.score` then is: `hybrid` (the fused score: with `convex` fusion in [0, 1], 1 for a
        clause best on both rankers among this query's candidates, comparable only within one query; with `rrf`
        the summed reciprocal ranks), `dense` (the cosine) or `keyword` (the BM25 score). `dense_score` is the
        cosine of every hit whenever the index has vectors; `keyword_score` is the BM25 score where BM25
        ranked the hit, else None.
        """
        ranked = self.rank(query, k, region_ids, doc_id, has_requirement, mode)
        if not ranked:
            return []
        clauses = self.store.clauses_by_rowids([r.rowid for r in ranked])
        by_clause: dict[str, list[Any]] = {c.clause_id: [] for c in clauses}
        for req in self.store.requirements(clause_ids=list(by_clause)):
            by_clause[req.clause_id].append(req)
        return [
            Hit(
                clause=clause,
                region=self.store.region_name(clause.region_id),
                score=r.score,
                requirements=by_clause[clause.clause_id],
                dense_score=r.dense_score,
                keyword_score=r.keyword_score,
            )
            for clause, r in zip(clauses, ranked, strict=True)
        ]
