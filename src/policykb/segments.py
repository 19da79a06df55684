"""Several immutable segments seen as one index, as Lucene does: each segment is a small complete index
(kb.sqlite, bm25/, dense.faiss) and a build lists its segments plus, per segment, the documents deleted from it
(removed, or superseded by a newer version in a later segment).

Dense ids are global: segment i's searchable clauses take ids offset_i .. offset_i + n_i − 1 (in segment order);
the other clauses (headings, preamble …) follow after every searchable one, in the same order. The views below
give the Store / KeywordIndex / VectorIndex interface the search engine already uses, so fusion, compare and
drafting are written once above them.

BM25 scores are computed with each segment's own term statistics, as Elasticsearch does per shard by default
(`query_then_fetch`); merging segments (at `rebuild`, or when they pile up) brings the statistics together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from policykb.errors import NotFoundError
from policykb.keyword_index import KeywordIndex
from policykb.records import Clause, Document, Requirement
from policykb.store import Store
from policykb.vector_index import VectorIndex

if TYPE_CHECKING:
    from policykb.pipeline import ProcessedDocument


@dataclass
class Segment:
    """One opened segment and where its ids sit in the global id space."""

    name: str
    store: Store
    keyword_index: KeywordIndex
    vector_index: VectorIndex
    dead: frozenset[str]  # doc_ids deleted from this segment
    offset: int = 0  # global id of its first searchable clause
    other_offset: int = 0  # global id of its first non-searchable clause

    @property
    def indexed(self) -> int:
        return len(self.vector_index)


def _merge_top(ids: list[np.ndarray], scores: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best k of several (ids, scores) lists, best first, ties by the lower id."""
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    all_ids = np.concatenate(ids).astype(np.int64)
    all_scores = np.concatenate(scores).astype(np.float32)
    order = np.lexsort((all_ids, -all_scores))[:k]
    return all_ids[order], all_scores[order]


class _Split:
    """Maps global dense ids to (segment, local id) and back."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)
        offset = 0
        for seg in self.segments:
            seg.offset = offset
            offset += seg.indexed
        self.total = offset
        other = offset
        for seg in self.segments:
            seg.other_offset = other
            other += seg.store.clause_count() - seg.indexed
        self.starts = np.array([s.offset for s in self.segments], dtype=np.int64)

    def local(self, allowed: np.ndarray | None, seg: Segment) -> np.ndarray | None:
        if allowed is None:
            return None
        lo = np.searchsorted(allowed, seg.offset)
        hi = np.searchsorted(allowed, seg.offset + seg.indexed)
        return allowed[lo:hi] - seg.offset

    def to_global(self, seg: Segment, local_rowid: int) -> int:
        if local_rowid < seg.indexed:
            return seg.offset + local_rowid
        return seg.other_offset + local_rowid - seg.indexed

    def to_local(self, rowid: int) -> tuple[Segment, int]:
        if 0 <= rowid < self.total:
            i = int(np.searchsorted(self.starts, rowid, side="right")) - 1
            while self.segments[i].indexed == 0 or rowid >= self.segments[i].offset + self.segments[i].indexed:
                i -= 1  # empty segments share a start with the next one
            seg = self.segments[i]
            return seg, rowid - seg.offset
        for seg in self.segments:
            n_other = seg.store.clause_count() - seg.indexed
            if seg.other_offset <= rowid < seg.other_offset + n_other:
                return seg, seg.indexed + rowid - seg.other_offset
        raise NotFoundError(f"no clause with dense id {rowid} in the index")


class SegmentedVectorIndex:
    """The dense side of several segments: each is searched with its own faiss index, the lists merged."""

    def __init__(self, split: _Split) -> None:
        self._split = split
        self._largest = max(split.segments, key=lambda s: s.indexed).vector_index

    def __len__(self) -> int:
        return self._split.total

    @property
    def kind(self) -> str:
        return self._largest.kind

    @property
    def dimension(self) -> int:
        return self._largest.dimension

    @property
    def nprobe(self) -> int | None:
        return self._largest.nprobe

    @property
    def nlist(self) -> int | None:
        return self._largest.nlist

    def search(
        self, query_vecs: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(query_vecs, dtype=np.float32))
        allowed = None if allowed_ids is None else np.sort(np.asarray(allowed_ids, dtype=np.int64))
        per_query: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []) for _ in range(len(queries))]
        for seg in self._split.segments:
            local = self._split.local(allowed, seg)
            if seg.indexed == 0 or (local is not None and local.size == 0):
                continue
            ids, scores = seg.vector_index.search(queries, k, local)
            for row in range(len(queries)):
                found = ids[row] >= 0
                per_query[row][0].append(ids[row][found] + seg.offset)
                per_query[row][1].append(scores[row][found])
        width = min(k, self._split.total)
        out_ids = np.full((len(queries), width), -1, dtype=np.int64)
        out_scores = np.full((len(queries), width), -np.finfo(np.float32).max, dtype=np.float32)
        for row, (ids_list, scores_list) in enumerate(per_query):
            ids, scores = _merge_top(ids_list, scores_list, width)
            out_ids[row, : len(ids)] = ids
            out_scores[row, : len(ids)] = scores
        return out_ids, out_scores

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.float32)
        for pos, rowid in enumerate(ids.tolist()):
            seg, local = self._split.to_local(rowid)
            out[pos] = seg.vector_index.similarity(query_vec, np.array([local]))[0]
        return out


class SegmentedKeywordIndex:
    """The BM25 side of several segments: each ranks with its own statistics, the lists merged by score."""

    def __init__(self, split: _Split) -> None:
        self._split = split
        self.tokenizer = split.segments[0].keyword_index.tokenizer

    def __len__(self) -> int:
        return self._split.total

    @property
    def n_docs(self) -> int:
        return self._split.total

    @property
    def backend(self) -> str:
        return ",".join(sorted({s.keyword_index.backend for s in self._split.segments}))

    def warm_up(self) -> None:
        for seg in self._split.segments:
            seg.keyword_index.warm_up()

    def search(
        self, query: str, k: int, allowed_ids: np.ndarray | None = None, common_share: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.search_many(query, [(k, allowed_ids)], common_share)[0]

    def search_many(
        self, query: str, requests: Sequence[tuple[int, np.ndarray | None]], common_share: float = 1.0
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each (k, allowed ids): each segment ranks all the requests it has clauses for at once."""
        alloweds = [None if a is None else np.sort(np.asarray(a, dtype=np.int64)) for _, a in requests]
        found: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []) for _ in requests]
        for seg in self._split.segments:
            if seg.indexed == 0:
                continue
            asked = []
            for i, ((k, _), allowed) in enumerate(zip(requests, alloweds, strict=True)):
                local = self._split.local(allowed, seg)
                if local is None or local.size:
                    asked.append((i, k, local))
            if not asked:
                continue
            answers = seg.keyword_index.search_many(query, [(k, local) for _, k, local in asked],
                                                    common_share=common_share)
            for (i, _, _), (ids, scores) in zip(asked, answers, strict=True):
                found[i][0].append(ids + seg.offset)
                found[i][1].append(scores)
        return [_merge_top(ids, scores, k) for (ids, scores), (k, _) in zip(found, requests, strict=True)]


class SegmentedStore:
    """The Store interface over several segments, hiding the rows of deleted documents."""

    def __init__(self, split: _Split) -> None:
        self._split = split
        self._segments = split.segments
        self._regions: dict[str, dict[str, Any]] | None = None

    @property
    def path(self) -> Any:
        return self._segments[-1].store.path

    def close(self) -> None:
        for seg in self._segments:
            seg.store.close()

    def schema_version(self) -> int:
        return self._segments[0].store.schema_version()

    def documents(self) -> list[Document]:
        return [d for s in self._segments for d in s.store.documents() if d.doc_id not in s.dead]

    def document(self, doc_id: str) -> Document:
        for seg in reversed(self._segments):
            if doc_id in seg.dead:
                continue
            try:
                return seg.store.document(doc_id)
            except NotFoundError:
                continue
        raise NotFoundError(f"no document {doc_id!r} in the index")

    def document_headings(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """(title, date) per live document, each from the newest segment holding it (as `document` reads it)."""
        out: dict[str, tuple[str, str | None]] = {}
        for seg in reversed(self._segments):
            wanted = [d for d in doc_ids if d not in out and d not in seg.dead]
            if wanted:
                out.update(seg.store.document_headings(wanted))
        return out

    def clauses(
        self, region_ids: Sequence[str] | None = None, doc_id: str | None = None, roles: Sequence[str] | None = None
    ) -> list[Clause]:
        return [
            c for s in self._segments if not (doc_id is not None and doc_id in s.dead)
            for c in s.store.clauses(region_ids=region_ids, doc_id=doc_id, roles=roles) if c.doc_id not in s.dead
        ]

    def _find_clause(self, clause_id: str) -> tuple[Segment, Clause]:
        for seg in reversed(self._segments):
            try:
                clause = seg.store.clause(clause_id)
            except NotFoundError:
                continue
            if clause.doc_id not in seg.dead:
                return seg, clause
        raise NotFoundError(f"no clause {clause_id!r} in the index")

    def clause(self, clause_id: str) -> Clause:
        return self._find_clause(clause_id)[1]

    def rowid(self, clause_id: str) -> int:
        seg, _ = self._find_clause(clause_id)
        return self._split.to_global(seg, seg.store.rowid(clause_id))

    def clauses_by_rowids(self, rowids: Sequence[int]) -> list[Clause]:
        out = []
        for rowid in rowids:
            seg, local = self._split.to_local(int(rowid))
            out.append(seg.store.clauses_by_rowids([local])[0])
        return out

    def texts_and_headings(self, rowids: Sequence[int]) -> list[tuple[str, str]]:
        """Store.texts_and_headings over every segment: one query per segment, in the order given."""
        by_segment: dict[int, tuple[Any, list[int], list[int]]] = {}
        for pos, rowid in enumerate(rowids):
            seg, local = self._split.to_local(int(rowid))
            _, positions, locals_ = by_segment.setdefault(id(seg), (seg, [], []))
            positions.append(pos)
            locals_.append(local)
        out: list[tuple[str, str]] = [("", "")] * len(rowids)
        for seg, positions, locals_ in by_segment.values():
            for pos, row in zip(positions, seg.store.texts_and_headings(locals_), strict=True):
                out[pos] = row
        return out

    def indexed_count(self) -> int:
        return self._split.total

    def indexed_texts(self) -> Iterable[tuple[str, list[str]]]:
        for seg in self._segments:
            yield from seg.store.indexed_texts()

    def facets(self) -> dict[str, np.ndarray]:
        """The Store's facets over every segment, plus `live`: False for the clauses of deleted documents."""
        parts = [(seg, seg.store.facets()) for seg in self._segments]
        region_ids = sorted({str(r) for _, f in parts for r in f["region_ids"].tolist()})
        doc_ids = sorted({str(d) for _, f in parts for d in f["doc_ids"].tolist()})
        region_code = {r: i for i, r in enumerate(region_ids)}
        doc_code = {d: i for i, d in enumerate(doc_ids)}
        region, doc, has_req, live = [], [], [], []
        for seg, f in parts:
            remap_region = np.array([region_code[str(r)] for r in f["region_ids"].tolist()] or [0], dtype=np.int32)
            remap_doc = np.array([doc_code[str(d)] for d in f["doc_ids"].tolist()] or [0], dtype=np.int32)
            region.append(remap_region[f["region"]])
            doc.append(remap_doc[f["doc"]])
            has_req.append(f["has_requirement"])
            dead_codes = [i for i, d in enumerate(f["doc_ids"].tolist()) if str(d) in seg.dead]
            live.append(~np.isin(f["doc"], dead_codes))
        return {
            "region": np.concatenate(region) if region else np.zeros(0, np.int32),
            "doc": np.concatenate(doc) if doc else np.zeros(0, np.int32),
            "has_requirement": np.concatenate(has_req) if has_req else np.zeros(0, bool),
            "live": np.concatenate(live) if live else np.zeros(0, bool),
            "region_ids": np.array(region_ids, dtype=object),
            "doc_ids": np.array(doc_ids, dtype=object),
        }

    def requirements(self, **filters: Any) -> list[Requirement]:
        doc_id = filters.get("doc_id")
        return [
            r for s in self._segments if not (doc_id is not None and doc_id in s.dead)
            for r in s.store.requirements(**filters) if r.doc_id not in s.dead
        ]

    def processed_documents(self) -> list[ProcessedDocument]:
        return [
            p for s in self._segments for p in s.store.processed_documents() if p.document.doc_id not in s.dead
        ]

    def regions(self) -> list[dict[str, Any]]:
        """Regions of the live documents and clauses (the first segment naming one wins)."""
        if self._regions is None:
            used: set[str] = set()
            for seg in self._segments:
                for doc in seg.store.documents():
                    if doc.doc_id not in seg.dead and doc.metadata.region_id:
                        used.add(doc.metadata.region_id)
                f = seg.store.facets()
                dead_codes = [i for i, d in enumerate(f["doc_ids"].tolist()) if str(d) in seg.dead]
                live = ~np.isin(f["doc"], dead_codes)
                used.update(str(x) for x in f["region_ids"][np.unique(f["region"][live])].tolist())
            merged: dict[str, dict[str, Any]] = {}
            for seg in self._segments:
                for r in seg.store.regions():
                    if r["region_id"] not in used:
                        continue
                    old = merged.get(r["region_id"])
                    if old is None:
                        merged[r["region_id"]] = r
                    else:
                        for key in ("region", "level", "parent_region_ids"):
                            old[key] = old[key] or r[key]
            self._regions = dict(sorted(merged.items()))
        return [dict(v) for v in self._regions.values()]

    def region_name(self, region_id: str) -> str:
        if self._regions is None:
            self.regions()
        assert self._regions is not None
        entry = self._regions.get(region_id)
        if entry and entry["region"]:
            return str(entry["region"])
        for seg in self._segments:
            name = seg.store.region_name(region_id)
            if name != region_id:
                return name
        return region_id


def combine(segments: Sequence[Segment]) -> tuple[SegmentedStore, SegmentedKeywordIndex, SegmentedVectorIndex]:
    split = _Split(segments)
    return SegmentedStore(split), SegmentedKeywordIndex(split), SegmentedVectorIndex(split)
