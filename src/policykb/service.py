"""The KnowledgeBase: the one object the CLI and the web layer call. It owns the index, the model and the store."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb import gazetteer, pipeline
from policykb.errors import InputFileError, NotFoundError, PolicyKBError
from policykb.query import normalise_query
from policykb.records import Clause, Document, Hit, Requirement
from policykb.settings import Settings

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".doc", ".wps", ".pdf", ".png", ".jpg", ".jpeg")


@dataclass
class FileOutcome:
    """What happened to one input file during an ingest."""

    path: str
    ok: bool
    doc_id: str | None = None
    region_id: str | None = None
    clauses: int = 0
    requirements: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def indexed(self) -> int:
        return sum(1 for f in self.files if f.ok)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files], "indexed": self.indexed, "manifest": self.manifest}


def _text_hash(document: Document) -> str:
    return hashlib.sha1(document.text.encode("utf-8")).hexdigest()[:6]


def _with_doc_id(document: Document, doc_id: str) -> Document:
    return dataclasses.replace(document, doc_id=doc_id)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus supported files found under named folders, sorted for stable ids."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(
                sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in SUPPORTED_SUFFIXES)
            )
        else:
            found.append(p)
    return found


class KnowledgeBase:
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

    # ----- lifecycle -------------------------------------------------------------------------------------
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
        """The search engine over the current index, opened on first use."""
        engine = self._engine
        if engine is not None:
            return engine
        with self._lock:
            if self._engine is None:
                from policykb.indexer import open_index
                from policykb.search import SearchEngine

                store, keyword_index, vector_index, manifest = open_index(
                    self.index_root, self.settings, self.embedder
                )
                self._engine = SearchEngine(store, keyword_index, vector_index, self.embedder, self.settings)
                self._engine.manifest = manifest
            return self._engine

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

    @property
    def store(self) -> Any:
        return self.engine().store

    # ----- cleaning and ingest ---------------------------------------------------------------------------
    def clean_file(self, path: str | Path) -> Document:
        return pipeline.clean_file(path, **self._load_limits())

    def _load_limits(self) -> dict[str, Any]:
        return {"max_file_mb": self.settings.max_file_mb, "max_pdf_pages": self.settings.max_pdf_pages,
                "convert_timeout_s": self.settings.convert_timeout_s}

    def process_files(
        self, paths: Sequence[str | Path], progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None
    ) -> tuple[list[pipeline.ProcessedDocument], list[FileOutcome]]:
        """Clean, segment and tag each file; unreadable files are reported, not fatal."""
        files = expand_paths(paths)
        processed: list[pipeline.ProcessedDocument] = []
        outcomes: list[FileOutcome] = []
        seen_ids: dict[str, str] = {}
        iterator: Iterable[Path] = progress(files) if progress else files
        for path in iterator:
            try:
                if not path.exists():
                    raise InputFileError(path, "no such file or folder")
                doc = pipeline.process_file(path, **self._load_limits())
            except PolicyKBError as exc:
                outcomes.append(FileOutcome(str(path), ok=False, error=str(exc)))
                continue
            except Exception as exc:  # a bug on one file must not lose the others
                log.exception("failed on %s", path)
                outcomes.append(FileOutcome(str(path), ok=False, error=f"{path}: internal error: {exc}"))
                continue
            doc_id = doc.document.doc_id
            if doc_id in seen_ids:
                # Two documents of one region can share a number (two agencies) or a date: the text tells them
                # apart, and a hash of it keeps the id stable whatever the order of the files.
                doc = pipeline.process_document(_with_doc_id(doc.document, f"{doc_id}-{_text_hash(doc.document)}"))
                doc_id = doc.document.doc_id
                if doc_id in seen_ids:
                    outcomes.append(
                        FileOutcome(str(path), ok=False, error=f"{path}: same text as {seen_ids[doc_id]}")
                    )
                    continue
            seen_ids[doc_id] = str(path)
            processed.append(doc)
            outcomes.append(
                FileOutcome(
                    str(path), ok=True, doc_id=doc_id, region_id=doc.document.metadata.region_id,
                    clauses=len(doc.clauses), requirements=len(doc.requirements),
                )
            )
        return processed, outcomes

    def ingest(
        self,
        paths: Sequence[str | Path],
        progress: bool = False,
        file_progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
        extra: Sequence[pipeline.ProcessedDocument] = (),
    ) -> IngestReport:
        """Build a new index from `paths` (plus already processed `extra` documents) and swap it in atomically."""
        from policykb.indexer import build_index

        with self._ingest_lock:
            processed, outcomes = self.process_files(paths, file_progress)
            processed.extend(extra)
            report = IngestReport(files=outcomes)
            if not processed:
                return report
            manifest = build_index(processed, self.index_root, self.embedder(), self.settings, progress=progress)
            report.manifest = manifest.to_dict()
            self._reopen()
            return report

    def add_document(self, document: Document) -> IngestReport:
        """Add one cleaned (possibly user-corrected) document to the index, keeping every indexed one."""
        from policykb.indexer import build_index

        with self._ingest_lock:
            new = pipeline.process_document(document)
            current: list[pipeline.ProcessedDocument] = []
            if (self.index_root / "current").exists():
                current = [d for d in self.engine().store.processed_documents() if d.document.doc_id != document.doc_id]
            manifest = build_index([*current, new], self.index_root, self.embedder(), self.settings, progress=False)
            self._reopen()
            outcome = FileOutcome(
                document.source_path, ok=True, doc_id=document.doc_id, region_id=document.metadata.region_id,
                clauses=len(new.clauses), requirements=len(new.requirements),
            )
            return IngestReport(files=[outcome], manifest=manifest.to_dict())

    def _reopen(self) -> None:
        """Point new requests at the freshly swapped index; running ones keep the old engine object."""
        with self._lock:
            self._engine = None
        self.engine()

    # ----- reading ---------------------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        return self.store.documents()

    def document(self, doc_id: str) -> Document:
        return self.store.document(doc_id)

    def regions(self) -> list[dict[str, Any]]:
        return self.store.regions()

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

    def _resolve_regions(self, region_ids: Sequence[str] | None) -> list[str] | None:
        """Indexed region ids for ids or names (上海市, 海淀区, beijing), each with the regions below it."""
        if not region_ids:
            return None
        indexed = self.regions()
        resolved: list[str] = []
        unknown: list[str] = []
        for value in region_ids:
            wanted = gazetteer.resolve_region(value) | {value} | {r["region_id"] for r in indexed if r["region"] == value}
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

    def measures(self) -> list[Any]:
        """The catalogue: extracted requirements grouped into measures shared across regions."""
        from policykb.measures import build_catalogue

        return build_catalogue(self)

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
        import tempfile

        from policykb.loading import load_file

        name = Path(filename.replace("\\", "/")).name
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise InputFileError(name, f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
        limits = self._load_limits()
        with tempfile.TemporaryDirectory(prefix="policykb-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            try:
                loaded = load_file(path, max_bytes=int(limits["max_file_mb"] * 1024 * 1024),
                                   max_pages=limits["max_pdf_pages"], convert_timeout_s=limits["convert_timeout_s"])
            except InputFileError as exc:  # name the upload, not the temporary folder
                raise InputFileError(name, exc.reason) from exc
        if overrides:
            from policykb.metadata import apply_overrides
            from policykb.records import Metadata

            try:  # refuse a bad correction (a malformed date, an unknown field) as the user's error
                apply_overrides(Metadata(), overrides)
            except ValueError as exc:
                raise InputFileError(name, f"invalid metadata correction: {exc}") from exc
        # A stable pseudo-path: the same upload gets the same doc_id, and no temp folder leaks into the index.
        return pipeline.clean_loaded(loaded, source_path=Path("uploads") / name, overrides=overrides or None)

    def add_upload(self, filename: str, data: bytes, overrides: dict[str, Any] | None = None) -> IngestReport:
        """Clean an uploaded file (with corrected metadata) and add it to the index."""
        return self.add_document(self.preview_upload(filename, data, overrides))
