"""Where clauses are indexed: the seam between the search engine and an index backend.

The search engine (fusion, the quantity boost) and everything above it (compare, drafting) talk to an
`IndexBackend`: a dense ranking, a keyword ranking, cosines of given clauses, and a count, all over the dense ids
of the current build's store. Two backends sit behind it:
    local   the build's own segments (faiss + bm25s, filters as numpy masks): the default, in-process
    milvus  one Milvus collection per knowledge base (milvus_backend.py): Milvus Lite for a file path, a Milvus
            server or cluster for `http://host:19530`
Documents, requirements and the library of originals stay in the build's SQLite store with either backend, so a
backend only has to rank; hits are turned into clauses by the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from policykb.errors import PolicyKBError

BACKENDS = ("local", "milvus")


@dataclass(frozen=True)
class ClauseFilter:
    """What a ranking may return: clauses of these regions (exactly), of this document, with a requirement."""

    region_ids: tuple[str, ...] = ()
    doc_id: str | None = None
    has_requirement: bool = False

    @property
    def empty(self) -> bool:
        return not self.region_ids and self.doc_id is None and not self.has_requirement


@dataclass(frozen=True)
class ClauseRow:
    """One searchable clause as a backend indexes it: ids, filter fields, the text and its passage vector."""

    clause_id: str
    doc_id: str
    region_id: str
    regions: tuple[str, ...]  # region_id and its gazetteer parents, nearest first: a filter on 北京 finds 海淀
    date: str
    kind: str
    has_requirement: bool
    text: str
    vector: np.ndarray


class IndexBackend(Protocol):
    """Rankings over the searchable clauses, by dense id (the store's row order); best first, ties by the lower id."""

    name: str

    def count(self) -> int:
        """How many searchable clauses the backend ranks."""
        ...

    def dense(self, query_vec: np.ndarray, k: int, flt: ClauseFilter) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest clauses to one normalised query vector: (dense ids, cosines)."""
        ...

    def keyword(
        self, query: str, k: int, flt: ClauseFilter, common_share: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best BM25 matches of a (normalised) query: (dense ids, BM25 scores)."""
        ...

    def keyword_many(
        self, query: str, requests: Sequence[tuple[int, ClauseFilter]], common_share: float = 1.0
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`keyword` of one query for each (k, filter), each exactly as `keyword` answers it."""
        ...

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The cosine of the query to each given clause (candidates found by the keyword ranking only)."""
        ...

    def warm_up(self) -> None: ...


def _sorted_by_score(ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the -1 padding and re-sort with ids as tie-breaker (rankers leave the order of equal scores to chance)."""
    ids = np.asarray(ids, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float32)
    found = ids >= 0
    ids, scores = ids[found], scores[found]
    order = np.lexsort((ids, -scores))
    return ids[order], scores[order]


class LocalBackend:
    """The build's own faiss and bm25s indexes; filters become the allowed dense ids (`allowed(flt)`)."""

    name = "local"

    def __init__(
        self, keyword_index: Any, vector_index: Any, allowed: Callable[[ClauseFilter], np.ndarray | None]
    ) -> None:
        self.keyword_index = keyword_index
        self.vector_index = vector_index
        self._allowed = allowed

    def count(self) -> int:
        return len(self.vector_index)

    def dense(self, query_vec: np.ndarray, k: int, flt: ClauseFilter) -> tuple[np.ndarray, np.ndarray]:
        allowed = self._allowed(flt)
        if (allowed is not None and allowed.size == 0) or not len(self.vector_index):
            return np.empty(0, np.int64), np.empty(0, np.float32)
        ids, scores = self.vector_index.search(np.atleast_2d(query_vec), k, allowed)
        return _sorted_by_score(ids[0], scores[0])

    def keyword(
        self, query: str, k: int, flt: ClauseFilter, common_share: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        allowed = self._allowed(flt)
        if allowed is not None and allowed.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        return self.keyword_index.search(query, k, allowed, common_share=common_share)  # type: ignore[no-any-return]

    def keyword_many(
        self, query: str, requests: Sequence[tuple[int, ClauseFilter]], common_share: float = 1.0
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        # One BM25 scoring of the query shared by every filter (KeywordIndex.search_many).
        return self.keyword_index.search_many(  # type: ignore[no-any-return]
            query, [(k, self._allowed(flt)) for k, flt in requests], common_share=common_share)

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return self.vector_index.similarity(query_vec, ids)  # type: ignore[no-any-return]

    def warm_up(self) -> None:
        self.keyword_index.warm_up()
        if len(self.vector_index):
            self.vector_index.search(np.zeros((1, self.vector_index.dimension), dtype=np.float32), 1)


def check_backend(settings: Any) -> str:
    """The `backend` setting, checked; a one-line error naming the allowed values otherwise."""
    name = str(settings.backend).strip().lower()
    if name not in BACKENDS:
        raise PolicyKBError(f"unknown backend {settings.backend!r}: set POLICYKB_BACKEND to one of {', '.join(BACKENDS)}")
    return name


__all__ = ["BACKENDS", "ClauseFilter", "ClauseRow", "IndexBackend", "LocalBackend", "check_backend"]
