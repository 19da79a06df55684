"""The Milvus backend: one collection per knowledge base, ranked by Milvus, fused by the same engine as `local`.

The collection holds every searchable clause of the current build: clause id (primary key), doc id, region id
and its gazetteer parents (an ARRAY, so `array_contains_any(regions, ["beijing"])` finds 海淀's clauses), date,
kind, has-requirement, the folded text (Milvus's built-in BM25 function over a jieba analyzer fills a sparse
field from it) and the passage vector (FLAT for Milvus Lite, which scans anyway; AUTOINDEX on a server).

Visibility follows the build, not the collection: a hit whose clause the current build does not hold (a document
being written, or removed and not yet deleted from Milvus) is dropped, so publishing stays the one atomic step
and a killed ingest can leave rows behind in Milvus but never makes half a document searchable. `sync` then
brings the collection to the build: it deletes the documents that left or changed and upserts the new ones,
recording what it holds in `milvus-sync.json` in the index folder (rewritten atomically after each sync).

The same MilvusClient code talks to Milvus Lite (a file path, used by the tests) and to a Milvus server.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policykb.backends import ClauseFilter, ClauseRow
from policykb.errors import IndexError_, NotFoundError, PolicyKBError
from policykb.query import fold

log = logging.getLogger(__name__)

SYNC_FILE = "milvus-sync.json"
BATCH = 500  # rows per upsert (setting milvus_batch): bounded memory, and well under a server's gRPC message limit
MAX_TEXT = 8000  # characters of a clause given to the analyzer (clauses are far shorter)
MAX_REGIONS = 16
SCAN_LIMIT = 16384  # Milvus's largest `limit`

# Milvus's own jieba analyzer (`{"tokenizer": "jieba"}`) gave a top-10 overlap with local of 0.885 on the
# benchmark queries (real model): its terms lack the local bigrams (`校聘` in `县管校聘`). So the analyzed field
# holds the local BM25 terms (keyword_index.tokenize), each spelt as an ASCII word the `standard` tokenizer
# keeps whole; Milvus's BM25 function still builds and scores the sparse field. Set USE_LOCAL_TERMS False for
# plain jieba over the folded text.
USE_LOCAL_TERMS = True
ANALYZER = {"tokenizer": "standard"} if USE_LOCAL_TERMS else {"tokenizer": "jieba"}


def analyzed_text(text: str) -> str:
    """What the BM25 analyzer reads for a clause or a query."""
    if not USE_LOCAL_TERMS:
        return fold(text).lower()[:MAX_TEXT]
    from policykb.keyword_index import tokenize

    terms = " ".join("t" + hashlib.blake2b(t.encode("utf-8"), digest_size=8).hexdigest() for t in tokenize(text))
    return terms[:65000]  # the VARCHAR limit; a clause that long is a page, not a clause


def resolve_uri(settings: Any) -> str:
    """`milvus_uri` as MilvusClient takes it: a server URL as is; a file path, relative ones inside index_dir."""
    uri = str(settings.milvus_uri).strip()
    if uri.startswith(("http://", "https://", "tcp://", "unix:")):
        return uri
    path = Path(uri).expanduser()
    if not path.is_absolute():
        path = Path(settings.index_path) / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _quoted(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def filter_expression(flt: ClauseFilter, within: Sequence[str] = ()) -> str:
    """A Milvus boolean expression for a filter; `within` adds regions with their children (the ARRAY field)."""
    parts = []
    if flt.region_ids:
        parts.append(f"region_id in {_quoted(flt.region_ids)}")
    if within:
        parts.append(f"array_contains_any(regions, {_quoted(within)})")
    if flt.doc_id is not None:
        parts.append(f"doc_id == {json.dumps(flt.doc_id, ensure_ascii=False)}")
    if flt.has_requirement:
        parts.append("has_requirement == true")
    return " and ".join(parts)


class MilvusIndex:
    """One knowledge base's collection: create, upsert, delete, fetch, rank (by clause id)."""

    def __init__(self, uri: str, collection: str, dimension: int, batch: int = BATCH) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise PolicyKBError(
                "backend `milvus` needs the scale extra: pip install -e '.[scale]' (pymilvus, milvus-lite)"
            ) from exc
        self.uri, self.collection, self.dimension = uri, collection, int(dimension)
        self.batch = max(1, int(batch))
        self.lite = not uri.startswith(("http://", "https://", "tcp://"))
        try:
            self.client = MilvusClient(uri)
        except Exception as exc:  # pymilvus raises its own MilvusException with a long message
            raise IndexError_(f"cannot reach Milvus at {uri}: {str(exc).splitlines()[0][:200]}") from exc
        if not self.client.has_collection(collection):
            self._create()
        else:
            # A collection written by another process (an ingest before this server) starts released on Milvus
            # Lite, and a server may have released it: searches need it loaded. Loading a loaded one is a no-op.
            self.client.load_collection(collection)

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("clause_id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("region_id", DataType.VARCHAR, max_length=128)
        schema.add_field("regions", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_REGIONS,
                         max_length=128)
        schema.add_field("date", DataType.VARCHAR, max_length=16)
        schema.add_field("kind", DataType.VARCHAR, max_length=32)
        schema.add_field("has_requirement", DataType.BOOL)
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params=ANALYZER)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        index_params = self.client.prepare_index_params()
        index_params.add_index("vector", index_type="FLAT" if self.lite else "AUTOINDEX", metric_type="IP")
        # k1 and b as bm25s uses them locally, so both backends weigh term frequency alike.
        index_params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                               params={"bm25_k1": 1.5, "bm25_b": 0.75})
        self.client.create_collection(self.collection, schema=schema, index_params=index_params)

    def close(self) -> None:
        """Disconnect; for Milvus Lite also stop its in-process server, which frees the file's lock (Milvus Lite
        admits one process at a time: `serve` and `ingest` side by side need a Milvus server)."""
        self.client.close()
        if self.lite:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.uri)

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
        self._create()

    def upsert(self, rows: Sequence[ClauseRow]) -> None:
        for start in range(0, len(rows), self.batch):
            batch = [
                {"clause_id": r.clause_id, "doc_id": r.doc_id, "region_id": r.region_id,
                 "regions": list(r.regions)[:MAX_REGIONS], "date": r.date, "kind": r.kind,
                 "has_requirement": bool(r.has_requirement), "text": analyzed_text(r.text) or " ",
                 "vector": np.asarray(r.vector, dtype=np.float32).tolist()}
                for r in rows[start : start + self.batch]
            ]
            self.client.upsert(self.collection, batch)

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        ids = list(doc_ids)
        for start in range(0, len(ids), BATCH):
            self.client.delete(self.collection, filter=f"doc_id in {_quoted(ids[start : start + BATCH])}")

    def count(self) -> int:
        stats = self.client.get_collection_stats(self.collection)
        return int(stats.get("row_count", 0))

    def fetch_vectors(self, clause_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not clause_ids:
            return {}
        rows = self.client.get(self.collection, ids=list(clause_ids), output_fields=["vector"])
        return {str(r["clause_id"]): np.asarray(r["vector"], dtype=np.float32) for r in rows}

    def _search(self, data: Any, field: str, metric: str, k: int, expr: str) -> list[tuple[str, float]]:
        result = self.client.search(
            self.collection, data=[data], anns_field=field, limit=min(int(k), SCAN_LIMIT), filter=expr,
            output_fields=["clause_id"], search_params={"metric_type": metric},
        )
        return [(str(h["clause_id"] if "clause_id" in h else h["id"]), float(h["distance"])) for h in result[0]]

    def dense(self, query_vec: np.ndarray, k: int, expr: str = "") -> list[tuple[str, float]]:
        return self._search(np.asarray(query_vec, dtype=np.float32).ravel().tolist(), "vector", "IP", k, expr)

    def keyword(self, query: str, k: int, expr: str = "") -> list[tuple[str, float]]:
        text = analyzed_text(query)
        if not text.strip():
            return []
        # Milvus Lite reports BM25 as a negated distance, a server as the score itself: the magnitude is the score.
        return [(cid, abs(score)) for cid, score in self._search(text, "sparse", "BM25", k, expr)]


class MilvusBackend:
    """IndexBackend over a MilvusIndex, answering in the dense ids of one opened build's store."""

    name = "milvus"

    def __init__(self, index: MilvusIndex, store: Any) -> None:
        self.index = index
        self.store = store

    def count(self) -> int:
        return int(self.store.indexed_count())

    def _rowids(self, hits: list[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = [], []
        for clause_id, score in hits:
            try:
                rowid = int(self.store.rowid(clause_id))
            except NotFoundError:  # not (or no longer) in the current build: invisible
                continue
            if rowid < self.count():
                ids.append(rowid)
                scores.append(score)
        rowids, values = np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float32)
        order = np.lexsort((rowids, -values))
        return rowids[order], values[order]

    def dense(self, query_vec: np.ndarray, k: int, flt: ClauseFilter) -> tuple[np.ndarray, np.ndarray]:
        return self._rowids(self.index.dense(query_vec, k, filter_expression(flt)))

    def keyword(
        self, query: str, k: int, flt: ClauseFilter, common_share: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        del common_share  # Milvus keeps every query term (the local default, common_term_share 1.0, too)
        return self._rowids(self.index.keyword(query, k, filter_expression(flt)))

    def keyword_many(
        self, query: str, requests: Sequence[tuple[int, ClauseFilter]], common_share: float = 1.0
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        # Milvus filters inside its own search: one request per filter.
        return [self.keyword(query, k, flt, common_share) for k, flt in requests]

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        clause_ids = [c.clause_id for c in self.store.clauses_by_rowids([int(i) for i in np.asarray(ids)])]
        vectors = self.index.fetch_vectors(clause_ids)
        query = np.asarray(query_vec, dtype=np.float32).ravel()
        return np.array([float(vectors[c] @ query) if c in vectors else 0.0 for c in clause_ids], dtype=np.float32)

    def warm_up(self) -> None:
        self.index.keyword("预热", 1)


# ----- bringing the collection to the current build ---------------------------------------------------------------


def clause_rows(store: Any, doc_ids: Sequence[str], embedder: Any, cache_path: Path) -> list[ClauseRow]:
    """The searchable clauses of some documents of an opened build, with their vectors (from the embedding
    cache: the build embedded them already, so nothing is embedded twice)."""
    from policykb.indexer import _encode, embedding_text
    from policykb.store import SEARCHABLE_ROLES

    pending: list[tuple[Any, Any, bool]] = []
    for doc_id in doc_ids:
        meta = store.document(doc_id).metadata
        with_req = {r.clause_id for r in store.requirements(doc_id=doc_id) if r.kind == "requirement"}
        for clause in store.clauses(doc_id=doc_id, roles=SEARCHABLE_ROLES):
            pending.append((clause, meta, clause.clause_id in with_req))
    vectors = _encode(embedder, [embedding_text(c) for c, _, _ in pending], cache_path, False)
    return [
        ClauseRow(c.clause_id, c.doc_id, c.region_id, tuple(dict.fromkeys([c.region_id, *meta.parent_region_ids])),
                  meta.date or "", meta.kind or "", has_req, c.text, vectors[i])
        for i, (c, meta, has_req) in enumerate(pending)
    ]


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}-{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def in_sync(index: MilvusIndex, index_root: Path, manifest: Any) -> bool:
    """True when the collection already holds the build `manifest` (one small file read, no lock)."""
    state = _read_state(Path(index_root) / SYNC_FILE)
    return bool(state.get("generation") == manifest.generation
                and state.get("target") == {"uri": index.uri, "collection": index.collection})


def sync(
    index: MilvusIndex, index_root: Path, store: Any, manifest: Any, embedder: Any,
    report: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Bring the collection to the build `manifest` (opened as `store`): delete the documents that left or got a
    new version, upsert the new ones. Idempotent; call with the writer lock held. Returns the counts.

    A sync cut short (a killed process, Milvus gone) never counts as done: the record names the documents it was
    writing (`pending`) before the first write and the new generation only after the last, so every opener
    resyncs before its first answer and the next sync deletes whatever a cut-short one half wrote, even a
    document that has left the build since."""
    index_root = Path(index_root)
    state_path = index_root / SYNC_FILE
    state = _read_state(state_path)
    target = {"uri": index.uri, "collection": index.collection}
    if in_sync(index, index_root, manifest):
        return {"deleted": 0, "upserted": 0}
    same_target = state.get("target") == target
    held: dict[str, str] = state.get("docs", {}) if same_target else {}
    half_written = set(state.get("pending", [])) if same_target else set()
    if not held and not half_written and index.count():
        index.drop()  # rows of unknown origin (another index folder, or a sync cut short before its first record)
    wanted = {e.doc_id: e.latest.segment for e in manifest.read_catalog().live()}
    leaving = sorted({d for d, seg in held.items() if wanted.get(d) != seg} | half_written)
    arriving = sorted(d for d, seg in wanted.items() if held.get(d) != seg or d in half_written)
    from policykb.indexer import CACHE_FILE

    _write_state(state_path, {**state, "target": target, "docs": held,
                              "pending": sorted(half_written | set(arriving))})
    index.delete_documents(leaving)
    say = report or (lambda line: None)
    written = 0
    for start in range(0, len(arriving), 50):  # a few documents at a time: bounded memory at any size
        rows = clause_rows(store, arriving[start : start + 50], embedder, index_root / CACHE_FILE)
        for at in range(0, len(rows), index.batch):
            index.upsert(rows[at : at + index.batch])
            written += len(rows[at : at + index.batch])
            say(f"Milvus：已写入 {written} 条条款（{start}/{len(arriving)} 个文件已完成）")
    _write_state(state_path, {"target": target, "generation": manifest.generation, "docs": wanted, "pending": []})
    say(f"Milvus：同步完成，删除 {len(leaving)} 个文件的条款，写入 {len(arriving)} 个文件（{written} 条条款）")
    log.info("milvus %s: %d documents deleted, %d upserted", index.collection, len(leaving), len(arriving))
    return {"deleted": len(leaving), "upserted": len(arriving)}


__all__ = ["MilvusBackend", "MilvusIndex", "clause_rows", "filter_expression", "in_sync", "resolve_uri", "sync"]
