"""Hybrid search: a dense ranking and a BM25 ranking of the searchable clauses, merged by reciprocal rank fusion."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policykb.errors import IndexError_, QueryError
from policykb.indexer import check_embedder
from policykb.keyword_index import KeywordIndex
from policykb.query import normalise_query
from policykb.records import Hit
from policykb.settings import Settings
from policykb.store import Store
from policykb.vector_index import VectorIndex

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "keyword")
FILTER_CACHE_SIZE = 16


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
    ) -> None:
        self.store = store
        self.keyword_index = keyword_index
        self.vector_index = vector_index
        self.settings = settings
        self.manifest = manifest
        self._embedder_source = embedder
        self._embedder: Any = embedder if hasattr(embedder, "encode_queries") else None
        self._facets: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()
        # A few filters recur (a user's region, "has a requirement"); at a million clauses each mask costs ms.
        self._allowed = functools.lru_cache(maxsize=FILTER_CACHE_SIZE)(self._compute_allowed)

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
        self.keyword_index.warm_up()
        self.facets()
        self.store.regions()
        embedder = self.embedder()
        embedder.encode_queries(["预热"])
        if len(self.vector_index):
            self.vector_index.search(np.zeros((1, self.vector_index.dimension), dtype=np.float32), 1)

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
        if not region_ids and doc_id is None and not has_requirement:
            return None
        return self._allowed(tuple(sorted(set(region_ids or ()))), doc_id, has_requirement)

    def _compute_allowed(
        self, region_ids: tuple[str, ...], doc_id: str | None, has_requirement: bool
    ) -> np.ndarray:
        f = self.facets()
        mask = np.ones(len(f["region"]), dtype=bool)
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
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r}: choose one of {', '.join(MODES)}")
        folded = normalise_query(query, int(self.settings.max_query_chars))
        allowed = self.allowed_ids(region_ids, doc_id, has_requirement)
        if allowed is not None and allowed.size == 0:
            return []
        depth = max(int(self.settings.candidates), k)
        dense: dict[int, float] = {}
        keyword: dict[int, float] = {}
        rankings: list[tuple[np.ndarray, float]] = []
        query_vec: np.ndarray | None = None
        if mode in ("hybrid", "dense") and len(self.vector_index):
            query_vec = np.asarray(self.embedder().encode_queries([folded]), dtype=np.float32)
            ids, scores = self.vector_index.search(query_vec, depth, allowed)
            ids, scores = ids[0], scores[0]
            found = ids >= 0
            ids, scores = ids[found], scores[found]
            # Re-sort with ids as tie-breaker: faiss leaves the order of equal scores to chance.
            order = np.lexsort((ids, -scores))
            ids, scores = ids[order], scores[order]
            dense = dict(zip(ids.tolist(), scores.tolist(), strict=True))
            rankings.append((ids, float(self.settings.dense_weight)))
        if mode in ("hybrid", "keyword"):
            ids, scores = self.keyword_index.search(folded, depth, allowed)
            keyword = dict(zip(ids.tolist(), scores.tolist(), strict=True))
            rankings.append((ids, float(self.settings.keyword_weight)))
        if mode == "hybrid":
            fused = rrf_fuse(rankings, int(self.settings.fusion_k))[:k]
        else:
            only = dense if mode == "dense" else keyword
            fused = sorted(only.items(), key=lambda item: (-item[1], item[0]))[:k]
        if query_vec is not None:
            # Hits found by BM25 alone still get their cosine, which callers use as an absolute relevance.
            missing = [rowid for rowid, _ in fused if rowid not in dense]
            if missing:
                dense.update(
                    zip(
                        missing,
                        self.vector_index.similarity(query_vec[0], np.array(missing)).tolist(),
                        strict=True,
                    )
                )
        return [Ranked(rowid, score, dense.get(rowid), keyword.get(rowid)) for rowid, score in fused]

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

        mode: `hybrid` (fused; score is the fused RRF score), `dense` (score is the cosine) or `keyword` (BM25).
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
