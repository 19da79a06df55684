"""The KnowledgeBase: the one object the CLI and the web layer call. It owns the index, the model and the store."""

from __future__ import annotations

import functools
import logging
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policykb import gazetteer
from policykb.backends import ClauseFilter, check_backend
from policykb.errors import IndexError_, NotFoundError, PolicyKBError
from policykb.memo import GenerationCache
from policykb.query import normalise_query
from policykb.records import Clause, Document, Hit, Requirement
from policykb.settings import Settings

if TYPE_CHECKING:
    from policykb import pipeline
    from policykb.ingesting import IngestReport

log = logging.getLogger(__name__)

# The ingest side (cleaning, segmenting, extraction: spaCy, opencc, the PDF and office readers) is imported on
# first use: a one-shot `policykb search` never needs it and would pay a second or more to load it.
_LAZY_EXPORTS = ("SUPPORTED_SUFFIXES", "FileOutcome", "IngestReport", "expand_paths")


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        from policykb import ingesting

        return getattr(ingesting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _ingesting() -> Any:
    from policykb import ingesting

    return ingesting


def _pipeline() -> Any:
    from policykb import pipeline

    return pipeline

class _BuildMemo:
    """What compare derives from one build and needs again on every request (resolved region filters, clause rows
    by dense id, the unplaced documents' columns): kept while the engine of that build serves, and dropped as a
    whole when another engine (another build) answers. Bounded, so a long-running server's memory stays flat."""

    ROWS = 20_000  # clause rows kept (each a few hundred bytes: about 10 MB at most)

    def __init__(self, engine: Any) -> None:
        import weakref

        self.engine = weakref.ref(engine)  # never keeps a replaced build's engine alive
        self.regions: dict[tuple[str, ...], list[str]] = {}
        self.clauses: dict[int, Clause] = {}
        self.requirements: dict[str, tuple[Requirement, ...]] = {}
        self.document_columns: list[dict[str, Any]] | None = None
        self.lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _gazetteer_ids(value: str) -> frozenset[str]:
    """gazetteer.resolve_region, memoised: the gazetteer is fixed data, and compare resolves every column's
    region (a province's id expands to its hundreds of places) for each request."""
    return frozenset(gazetteer.resolve_region(value))


class KnowledgeBase:
    RETRY_DAMAGED_S = 5.0  # how often a damaged current build is tried again (it may have been repaired)
    COMPARE_CACHE_SIZE = 256  # compare answers kept per build (pickled: 7 kB for 5 regions, 64 kB for 44)

    """Clean, index, search, compare and draft over one index folder.

    Heavy parts (store, indexes, model) open lazily on first use and are swapped as a whole after an ingest,
    so requests already running keep answering from the index they started with.
    """

    def __init__(self, settings: Settings | None = None, embedder_factory: Callable[[Settings], Any] | None = None):
        self.settings = settings or Settings.load()
        self._embedder_factory = embedder_factory
        self._embedder: Any = None
        self._engine: Any = None  # search.SearchEngine over the current index
        self._lock = threading.RLock()
        self._ingest_lock = threading.Lock()
        self._engine_build: str | None = None  # what `current` pointed at when the engine was opened
        self._opened_at = 0.0
        self.index_problem: str | None = None  # set while a damaged current build is bypassed
        # A server falls back to the previous complete build when the current one is damaged; the CLI says so.
        self.allow_fallback = False
        self._milvus: Any = None  # milvus_backend.MilvusIndex, when the backend is `milvus`
        # compare_view's memo: (query, regions) → the pickled compare JSON of one build (see compare_view)
        self._compare_cache = GenerationCache(self.COMPARE_CACHE_SIZE)
        self.compare_cache_hits = 0
        self._catalogue: tuple[tuple[str | None, str | None], list[Any]] | None = None  # (build, measures)
        # /api/compare's memo: the same keys as _compare_cache and the encoder's name → the encoded body
        self._compare_bodies = GenerationCache(self.COMPARE_CACHE_SIZE)
        self._build_memo: _BuildMemo | None = None

    # ----- lifecycle -------------------------------------------------------------------------------------
    def prefetch_query_encoder(self) -> None:
        """Start loading the query model in a background thread: a one-shot CLI query loads it while the
        indexes open (policykb.embed.prefetch_query_encoder). Nothing for a knowledge base with its own embedder."""
        if self._embedder_factory is None:
            from policykb.embed import prefetch_query_encoder

            prefetch_query_encoder(self.settings)

    @property
    def index_root(self) -> Path:
        return self.settings.index_path

    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                if self._embedder_factory is not None:
                    self._embedder = self._embedder_factory(self.settings)
                else:
                    from policykb.embed import load_embedder

                    self._embedder = load_embedder(self.settings)
            return self._embedder

    def engine(self) -> Any:
        """The search engine over the current build, reopened whenever another process published a new one.

        `current` is read on every call (one readlink), so a server never answers from a build that was replaced
        or removed. When the current build is damaged, the newest earlier build that opens whole is served and
        `index_problem` says why, until a new build is published or the damage is repaired.
        """
        name = self._current_name()
        engine = self._engine
        if engine is not None and name == self._engine_build and not self._retry_due():
            return engine
        with self._lock:
            if self._engine is None or name != self._engine_build or self._retry_due():
                self._open(name)
            return self._engine

    def generation(self) -> tuple[str | None, str | None]:
        """What a derived view of the knowledge base depends on: the build served and the damage being bypassed.
        Views memoised under it (compare answers, the catalogue, rendered pages) stay right until it changes."""
        return self._current_name(), self.index_problem

    def _current_name(self) -> str | None:
        from policykb.indexer import current_name

        return current_name(self.index_root)

    def _retry_due(self) -> bool:
        return self.index_problem is not None and time.monotonic() - self._opened_at > self.RETRY_DAMAGED_S

    def _open(self, name: str | None) -> None:
        from policykb.indexer import open_index, open_with_fallback
        from policykb.search import SearchEngine

        self._opened_at = time.monotonic()
        try:
            if self.allow_fallback:
                (store, keyword_index, vector_index, manifest), problem = open_with_fallback(
                    self.index_root, self.settings, self.embedder
                )
            else:
                (store, keyword_index, vector_index, manifest), problem = (
                    open_index(self.index_root, self.settings, self.embedder), None
                )
        except IndexError_:
            self._engine, self._engine_build = None, None  # never keep serving a build that is gone
            raise
        backend = self._milvus_backend(store, manifest) if check_backend(self.settings) == "milvus" else None
        replaced = self._engine is not None
        self._engine = SearchEngine(store, keyword_index, vector_index, self.embedder, self.settings, backend=backend)
        self._engine.manifest = manifest
        self._engine_build = name
        self.index_problem = problem
        if replaced:  # the previous build's engine is gone (or goes with its last request): hand its pages back
            from policykb.malloc import release_freed

            release_freed()

    # ----- the Milvus backend: the collection follows the current build -------------------------------------
    def milvus_index(self, dimension: int) -> Any:
        """The knowledge base's Milvus collection, connected once (Milvus Lite loads its file on connect)."""
        from policykb.milvus_backend import MilvusIndex, resolve_uri

        if self._milvus is None or self._milvus.dimension != int(dimension):
            self._milvus = MilvusIndex(resolve_uri(self.settings), str(self.settings.milvus_collection), dimension,
                                       int(self.settings.milvus_batch))
        return self._milvus

    def _milvus_backend(self, store: Any, manifest: Any) -> Any:
        from policykb.milvus_backend import MilvusBackend, in_sync

        index = self.milvus_index(manifest.dimension)
        if not in_sync(index, self.index_root, manifest):
            self._sync_milvus(index)
        return MilvusBackend(index, store)

    def _sync_milvus(self, index: Any, report: Callable[[str], None] | None = None) -> None:
        """Bring the collection to the current build, under the writer lock (two syncs never interleave)."""
        from policykb.indexer import open_index, writer_lock
        from policykb.milvus_backend import sync

        with writer_lock(self.index_root):
            opened = open_index(self.index_root, self.settings, self.embedder)
            try:
                sync(index, self.index_root, opened.store, opened.manifest, self.embedder(), report)
            finally:
                opened.store.close()

    def _after_write(self, report: Callable[[str], None] | None = None) -> None:
        """After a publish: the backend catches up (Milvus), then new requests see the new build."""
        if check_backend(self.settings) == "milvus":
            from policykb.indexer import read_current_manifest

            manifest = read_current_manifest(self.index_root)
            if manifest is not None:
                self._sync_milvus(self.milvus_index(manifest.dimension), report)
        self._reopen_if_open()

    def warm_up(self) -> None:
        """Open the index and load the model now, so the first request is fast."""
        engine = self.engine()
        if hasattr(engine, "warm_up"):
            engine.warm_up()

    def close(self) -> None:
        with self._lock:
            if self._engine is not None and hasattr(self._engine, "close"):
                self._engine.close()
            self._engine = None
            if self._milvus is not None:
                self._milvus.close()
                self._milvus = None

    @property
    def store(self) -> Any:
        return self.engine().store

    # ----- cleaning and ingest ---------------------------------------------------------------------------
    def clean_file(self, path: str | Path) -> Document:
        return _pipeline().clean_file(path, **self._load_limits())

    def _convert_limits(self) -> dict[str, Any]:
        return {"max_pdf_pages": self.settings.max_pdf_pages, "convert_timeout_s": self.settings.convert_timeout_s}

    def _load_limits(self) -> dict[str, Any]:
        return {"max_file_mb": self.settings.max_file_mb, "max_pdf_pages": self.settings.max_pdf_pages,
                "convert_timeout_s": self.settings.convert_timeout_s}

    def ingest(
        self,
        paths: Sequence[str | Path],
        progress: bool = False,
        file_progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
        engine: str = "local",
        report: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Add the documents under `paths`: new ones added, changed ones a new version, the rest reported; never
        removes another document. The originals are kept in the library; publishing is atomic."""
        if engine == "ray":
            from policykb.ray_ingest import read_and_embed

            items = read_and_embed(paths, self.settings, self.embedder(), self.index_root, report,
                                   **self._convert_limits())
        elif engine == "local":
            prefetch = self._prefetch()
            try:
                items = _ingesting().read_inputs(paths, float(self.settings.max_file_mb), file_progress,
                                                 prefetch=prefetch, **self._convert_limits())
            finally:
                if prefetch is not None:
                    prefetch.finish()
        else:
            raise PolicyKBError(f"未知的导入引擎 {engine!r}：可选 local 或 ray")
        return self._commit(items, progress, report)

    def _prefetch(self) -> Any:
        """The embedding-while-reading helper, unless the `ingest_overlap` setting turns it off."""
        if not self.settings.ingest_overlap:
            return None
        return _ingesting().EmbeddingPrefetch(self.embedder, self.index_root)

    def _commit(
        self, items: Sequence[Any], progress: bool = False, report: Callable[[str], None] | None = None
    ) -> IngestReport:
        with self._ingest_lock:
            outcome = _ingesting().commit(self.index_root, items, self.embedder, self.settings, progress=progress)
            self._after_write(report)
        return outcome

    def remove(self, doc_ids: Sequence[str]) -> dict[str, Any]:
        """Remove documents from search; the removal is logged and their originals stay in the library."""
        with self._ingest_lock:
            manifest = _ingesting().remove(self.index_root, doc_ids, self.settings)
            self._after_write()
        return {"removed": list(doc_ids), "documents": manifest.documents}

    def rebuild(self, progress: bool = False) -> dict[str, Any]:
        """Re-derive the whole index from the library (after a pipeline upgrade), published atomically."""
        with self._ingest_lock:
            manifest = _ingesting().rebuild(self.index_root, self.embedder(), self.settings, progress=progress)
            self._after_write()
        return {"documents": manifest.documents, "clauses": manifest.indexed_clauses, "build": manifest.build}

    def check(self) -> list[str]:
        """Every problem with the current build and the library, one line each (empty: all is well)."""
        from policykb.indexer import check_index

        return check_index(self.index_root)

    def _reopen_if_open(self) -> None:
        """Point new requests at the freshly published build; running ones keep the old engine object."""
        with self._lock:
            if self._engine is not None:
                self._engine_build = None
        # a compare answer of the replaced build must never be served again
        self._compare_cache.clear()
        self._compare_bodies.clear()
        self._catalogue = None

    # ----- the library: documents, versions, what changed ---------------------------------------------------
    def _manifest(self) -> Any:
        from policykb.indexer import read_current_manifest

        manifest = read_current_manifest(self.index_root)
        if manifest is None:
            raise IndexError_(f"no index at {self.index_root}: run `policykb ingest` (or `make index`)")
        return manifest

    def _entry(self, doc_id: str) -> Any:
        entry = self._manifest().read_catalog().get(doc_id)
        if entry is None:
            raise NotFoundError(f"no document {doc_id!r} in the knowledge base")
        return entry

    def document_records(self) -> list[dict[str, Any]]:
        """Every live document as `documents --json` lists it: id, title, region, date, version, source,
        ingested-at and the original's sha256."""
        out = []
        for entry in self._manifest().read_catalog().live():
            v = entry.latest
            out.append({"doc_id": entry.doc_id, "title": v.title, "region_id": v.region_id, "region": v.region,
                        "date": v.date, "version": v.version, "source": v.source, "ingested_at": v.ingested_at,
                        "sha256": v.sha256, "doc_number": v.doc_number, "versions": len(entry.versions)})
        return out

    def versions(self, doc_id: str) -> list[dict[str, Any]]:
        """Every version of a document, oldest first (a removed document's too)."""
        entry = self._entry(doc_id)
        return [{**v.to_dict(), "latest": v is entry.latest, "removed_at": entry.removed_at}
                for v in entry.versions]

    def version(self, doc_id: str, number: int) -> pipeline.ProcessedDocument:
        """One version of a document, derived again from its original in the library."""
        entry = self._entry(doc_id)
        for v in entry.versions:
            if v.version == number:
                return _ingesting().rederive(self.index_root, doc_id, v, float(self.settings.max_file_mb),
                                         **self._convert_limits())
        raise NotFoundError(f"document {doc_id!r} has no version {number}")

    def version_diff(self, doc_id: str, a: int, b: int) -> Any:
        """What changed between two versions of a document, clause by clause (the alignment diff)."""
        from policykb.align import align_documents

        old, new = self.version(doc_id, a), self.version(doc_id, b)
        return align_documents(old.document, old.clauses, new.document, new.clauses)

    # ----- reading ---------------------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        return self.store.documents()

    def document(self, doc_id: str) -> Document:
        return self.store.document(doc_id)

    def regions(self) -> list[dict[str, Any]]:
        return self.store.regions()

    def document_headings(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """(title, date) of each document asked for, in one round trip: what compare dates its values by."""
        headings: dict[str, tuple[str, str | None]] = self.store.document_headings(list(doc_ids))
        missing = [d for d in doc_ids if d not in headings]
        if missing:
            raise NotFoundError(f"no document {missing[0]!r} in the knowledge base")
        return headings

    def clauses(self, region_ids: Sequence[str] | None = None, doc_id: str | None = None) -> list[Clause]:
        region_ids = self._resolve_regions(region_ids)
        return self.store.clauses(region_ids=region_ids or None, doc_id=doc_id)

    def clause(self, clause_id: str) -> Clause:
        return self.store.clause(clause_id)

    def requirements(self, region_ids: Sequence[str] | None = None, **filters: Any) -> list[Requirement]:
        region_ids = self._resolve_regions(region_ids)
        return self.store.requirements(region_ids=region_ids or None, **filters)

    def search(
        self, query: str, k: int = 10, region_ids: Sequence[str] | None = None, doc_id: str | None = None,
        has_requirement: bool = False, mode: str = "hybrid",
    ) -> list[Hit]:
        normalise_query(query, self.settings.max_query_chars)  # refuse bad input before opening anything
        region_ids = self._resolve_regions(region_ids)
        if k < 1 or k > 200:
            raise PolicyKBError(f"k must be between 1 and 200, got {k}")
        return self.engine().search(
            query, k=k, region_ids=region_ids or None, doc_id=doc_id, has_requirement=has_requirement, mode=mode
        )

    def search_columns(self, query: str, columns: Sequence[tuple[int, Sequence[str] | None, str | None]]) -> list[list[Hit]]:
        """Many filtered searches of one query, as compare needs one per region: each (k, region_ids, doc_id)
        ranked exactly as `search` ranks it, on one engine (one build). Region filters are resolved once per build,
        and the clauses and requirements come from the build's row memo, with one store query each for the rows
        it does not hold yet (a clause is immutable within its build)."""
        normalise_query(query, self.settings.max_query_chars)
        for k, _, _ in columns:
            if k < 1 or k > 200:
                raise PolicyKBError(f"k must be between 1 and 200, got {k}")
        engine = self.engine()
        memo = self._memo_for(engine)
        ranked = engine.rank_columns(query, [
            (k, ClauseFilter(tuple(sorted(set(self._resolved_in(memo, region_ids) or ()))), doc_id))
            for k, region_ids, doc_id in columns
        ])
        rowids = list(dict.fromkeys(r.rowid for column in ranked for r in column))
        clause_of, requirements = self._rows(engine.store, memo, rowids)
        store = engine.store
        return [
            [Hit(clause=clause_of[r.rowid], region=store.region_name(clause_of[r.rowid].region_id), score=r.score,
                 requirements=list(requirements[clause_of[r.rowid].clause_id]), dense_score=r.dense_score,
                 keyword_score=r.keyword_score)
             for r in column]
            for column in ranked
        ]

    def _memo_for(self, engine: Any) -> _BuildMemo:
        memo = self._build_memo
        if memo is None or memo.engine() is not engine:
            memo = self._build_memo = _BuildMemo(engine)
        return memo

    def _resolved_in(self, memo: _BuildMemo, region_ids: Sequence[str] | None) -> list[str] | None:
        """`_resolve_regions` of the memo's build, kept per filter (compare resolves every column's region on every
        request; an unknown region is never kept, so it raises every time)."""
        if not region_ids:
            return None
        key = tuple(region_ids)
        resolved = memo.regions.get(key)
        if resolved is None:
            engine = memo.engine()
            resolved = self._resolve_regions(region_ids, engine.store.regions() if engine is not None else None) or []
            memo.regions[key] = resolved
        return list(resolved)

    @staticmethod
    def _rows(store: Any, memo: _BuildMemo, rowids: Sequence[int]
              ) -> tuple[dict[int, Clause], dict[str, tuple[Requirement, ...]]]:
        """The clauses of these dense ids and each one's requirements (in store order), from the memo where it
        holds them, the rest read in one query each and kept."""
        with memo.lock:
            clause_of = {r: memo.clauses[r] for r in rowids if r in memo.clauses}
        missing = [r for r in rowids if r not in clause_of]
        fetched = dict(zip(missing, store.clauses_by_rowids(missing), strict=True)) if missing else {}
        found: dict[str, list[Requirement]] = {c.clause_id: [] for c in fetched.values()}
        wanted = list(found)
        for start in range(0, len(wanted), 900):  # SQLite caps bound parameters
            for req in store.requirements(clause_ids=wanted[start : start + 900]):
                found[req.clause_id].append(req)
        with memo.lock:
            if len(memo.clauses) + len(fetched) > memo.ROWS:  # full: start afresh rather than grow
                memo.clauses.clear()
                memo.requirements.clear()
            memo.clauses.update(fetched)
            memo.requirements.update((cid, tuple(reqs)) for cid, reqs in found.items())
            clause_of.update(fetched)
            requirements = {c.clause_id: memo.requirements.get(c.clause_id) for c in clause_of.values()}
        for clause_id, reqs in requirements.items():  # cleared by another request meanwhile: read again
            if reqs is None:
                requirements[clause_id] = tuple(store.requirements(clause_ids=[clause_id]))
        return clause_of, requirements  # type: ignore[return-value]

    def unplaced_columns(self) -> list[dict[str, Any]]:
        """compare's columns for the documents that name no region (compare.unplaced_columns), once per build:
        reading every document to find them costs more than the rest of a compare of many regions."""
        from policykb.compare import unplaced_columns

        engine = self.engine()
        memo = self._memo_for(engine)
        columns = memo.document_columns
        if columns is None:
            columns = memo.document_columns = unplaced_columns(engine.store.documents())
        return [{**c, "parent_region_ids": list(c["parent_region_ids"])} for c in columns]

    def _resolve_regions(
        self, region_ids: Sequence[str] | None, indexed: list[dict[str, Any]] | None = None
    ) -> list[str] | None:
        """Indexed region ids for ids or names (上海市, 海淀区, beijing), each with the regions below it."""
        if not region_ids:
            return None
        indexed = self.regions() if indexed is None else indexed
        resolved: list[str] = []
        unknown: list[str] = []
        for value in region_ids:
            wanted = _gazetteer_ids(value) | {value} | {r["region_id"] for r in indexed if r["region"] == value}
            matched = [r["region_id"] for r in indexed
                       if r["region_id"] in wanted or wanted.intersection(r["parent_region_ids"])]
            if not matched:
                unknown.append(value)
            resolved.extend(m for m in matched if m not in resolved)
        if unknown:
            known = sorted(r["region_id"] for r in indexed)
            raise NotFoundError(f"unknown region {', '.join(unknown)}; indexed regions: {', '.join(known) or 'none'}")
        return resolved

    # ----- comparison, catalogue, alignment, drafting (logic lives in their own modules) ------------------
    def compare(self, query: str, region_ids: Sequence[str] | None = None) -> Any:
        """One measure across regions: best clauses per region, values aligned, `found` decided honestly."""
        from policykb.compare import compare_measure

        normalise_query(query, self.settings.max_query_chars)
        region_ids = self._resolve_regions(region_ids)
        return compare_measure(self, query, region_ids=region_ids or None)

    def compare_view(self, query: str, region_ids: Sequence[str] | None = None) -> dict[str, Any]:
        """`compare(...).to_dict()`, memoised for the web layer: people ask the same measures again and again.

        The key is the normalised query, the region filter as given and the build being served, so a publish
        (upload, remove, rebuild, or another process's ingest) starts afresh; the cache is bounded (LRU) and
        emptied whenever the build changes. Each caller gets its own copy (pages add their view fields to it)."""
        folded = normalise_query(query, self.settings.max_query_chars)
        generation = self.generation()
        key = (folded, tuple(region_ids or ()))
        cached = self._compare_cache.get(generation, key)
        if cached is not None:
            self.compare_cache_hits += 1
            return pickle.loads(cached)  # noqa: S301 - bytes this process pickled itself
        data: dict[str, Any] = self.compare(query, region_ids).to_dict()
        self._compare_cache.keep(generation, key, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        return data

    def compare_body(self, query: str, region_ids: Sequence[str] | None, encode: Callable[[dict[str, Any]], bytes],
                     encoding: str = "json") -> bytes:
        """`encode(compare_view(...))`, memoised like compare_view (same keys, same build rule, same bound): the
        API answers a repeated measure with the bytes it sent before, without validating and encoding the
        answer again. `encoding` names the encoder, so two encoders never share an entry."""
        folded = normalise_query(query, self.settings.max_query_chars)
        generation = self.generation()
        key = (folded, tuple(region_ids or ()), encoding)
        body = self._compare_bodies.get(generation, key)
        if body is not None:
            self.compare_cache_hits += 1
            return body
        body = encode(self.compare_view(query, region_ids))
        self._compare_bodies.keep(generation, key, body)
        return body

    def measures(self) -> list[Any]:
        """The catalogue: extracted requirements grouped into measures shared across regions."""
        from policykb.measures import build_catalogue

        generation = self.generation()
        cached = self._catalogue
        if cached is not None and cached[0] == generation:
            return list(cached[1])
        catalogue = build_catalogue(self)
        self._catalogue = (generation, catalogue)  # the build only changes by a publish: keep it for that build
        return list(catalogue)

    def meaning_vectors(self, texts: list[str]) -> Any:
        """Passage vectors of texts through the index's embedding cache: a clause's text reuses the vector its
        ingest made; any other text is embedded once and kept for the next call."""
        import sqlite3

        from policykb.indexer import CACHE_FILE, _encode

        try:
            return _encode(self.embedder(), list(texts), self.index_root / CACHE_FILE, progress=False)
        except (OSError, sqlite3.Error) as exc:  # a read-only index folder: embed without keeping the vectors
            log.warning("embedding cache unavailable (%s); embedding %d texts directly", exc, len(texts))
            return self.embedder().encode_passages(list(texts))

    def export(self, out: str | Path) -> list[Path]:
        """Every document, clause and requirement to OUT.jsonl, .csv or .xlsx (exporting.write_export)."""
        from policykb import exporting

        records = exporting.export_records(self.documents(), self.clauses(), self.requirements())
        return [Path(p) for p in exporting.write_export(Path(out), records)]

    def align(self, doc_a: str, doc_b: str) -> Any:
        """Clause-by-clause alignment of two documents: identical, changed (with a diff), only in one."""
        from policykb.align import align_documents

        return align_documents(
            self.document(doc_a), self.clauses(doc_id=doc_a), self.document(doc_b), self.clauses(doc_id=doc_b)
        )

    def draft(
        self, region: str, parent_region_id: str, measures: Sequence[str], policy: str = "parent",
        level: str | None = None, custom_values: dict[str, float] | None = None,
    ) -> Any:
        """A first draft of a local plan for `region`, every clause adapted from and citing a source clause."""
        from policykb.draft import build_draft

        return build_draft(
            self, region=region, parent_region_id=parent_region_id, measures=list(measures), policy=policy,
            level=level, custom_values=custom_values or {},
        )

    def export_draft(self, draft: Any, path: Path) -> Path:
        """Write a draft to .docx or .md, chosen by the file's suffix."""
        from policykb.draft import export_draft

        return export_draft(draft, path)

    # ----- web helpers: one call per page (added for the web UI) -----------------------------------------------
    def document_view(self, doc_id: str) -> tuple[Document, list[Clause], list[Requirement]]:
        """A document with its clauses and requirements, for the document page."""
        doc = self.document(doc_id)
        return doc, self.clauses(doc_id=doc_id), self.store.requirements(doc_id=doc_id)

    def preview_upload(self, filename: str, data: bytes, overrides: dict[str, Any] | None = None) -> Document:
        """Clean an uploaded file without indexing it; `overrides` (region, region_id, date, title) win."""
        return _ingesting().read_upload(filename, data, overrides, float(self.settings.max_file_mb),
                                     **self._convert_limits()).document

    def classify_upload(self, filename: str, data: bytes, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """What adding this upload would do, before anything is committed: `added`, `updated` (of which
        document, with the alignment against its newest version), `unchanged` or `duplicate` (of which)."""
        from policykb.align import align_documents
        from policykb.indexer import read_current_manifest
        from policykb.library import Catalog

        cand = _ingesting().read_upload(filename, data, overrides, float(self.settings.max_file_mb),
                                     **self._convert_limits())
        manifest = read_current_manifest(self.index_root)
        catalog = manifest.read_catalog() if manifest is not None else Catalog()
        outcome, doc_id, of = _ingesting().decide(cand, catalog)
        out: dict[str, Any] = {"outcome": outcome, "doc_id": doc_id, "of": of, "document": cand.document,
                               "diff": None, "version": None}
        if of is not None:
            entry = catalog.entries[of]
            out["version"] = entry.latest.version
            out["of_title"] = entry.latest.title
        if outcome == "updated" and of is not None:
            import dataclasses

            new = _pipeline().process_document(dataclasses.replace(cand.document, doc_id=of))
            old_doc = self.document(of)
            out["diff"] = align_documents(old_doc, self.clauses(doc_id=of), new.document, new.clauses)
        return out

    def add_upload(self, filename: str, data: bytes, overrides: dict[str, Any] | None = None) -> IngestReport:
        """Keep an uploaded file (with corrected metadata) in the library and index it, like a CLI ingest."""
        cand = _ingesting().read_upload(filename, data, overrides, float(self.settings.max_file_mb),
                                     **self._convert_limits())
        prefetch = self._prefetch()
        if prefetch is not None:
            try:  # its clauses are embedded while its requirements are tagged
                _ingesting().prepare(cand, prefetch)
            finally:
                prefetch.finish()
        return self._commit([cand])


__all__ = ["KnowledgeBase"]  # and, imported on first use, the names in _LAZY_EXPORTS
