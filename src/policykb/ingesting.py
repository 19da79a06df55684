"""Growing the knowledge base: add, update, remove and rebuild, never losing a document.

Every writer works the same way: clean its files (no lock needed), take the index folder's writer lock, re-read
the current build (another writer may have published meanwhile), decide each file's outcome against that
build's catalog, write one small segment with the new documents, and publish a build listing the old segments
plus the new one. The outcomes are the duplicate policy of the store made visible:
    added      a document the knowledge base did not hold
    updated    a new version of an existing document (same region and 文号, or region and title, or source name)
    unchanged  the same original, or the same cleaned text under the same identity and metadata
    duplicate  the same cleaned text as another document (a GBK copy of a UTF-8 file, say): not indexed twice
    skipped    unreadable, with the reason
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb import metadata, pipeline, templates
from policykb.cleaning.punctuation import fold_for_matching
from policykb.errors import IndexError_, InputFileError, NotFoundError, PolicyKBError
from policykb.indexer import (
    CACHE_FILE,
    MERGE_AT,
    Manifest,
    check_embedder,
    embedder_key,
    embedding_text,
    publish,
    read_current_manifest,
    segment_infos,
    write_segment,
    writer_lock,
)
from policykb.library import Catalog, Entry, Library, Version, now_iso, sha256_bytes, text_sha256
from policykb.loading import DEFAULT_MAX_PAGES, load_file
from policykb.records import Document
from policykb.settings import Settings

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".doc", ".wps", ".pdf", ".png", ".jpg", ".jpeg")
OUTCOMES = ("added", "updated", "unchanged", "duplicate", "skipped")


@dataclass
class FileOutcome:
    """What happened to one input file: the contract's `path`, `outcome`, `doc_id`, `of`, `reason`, plus detail."""

    path: str
    outcome: str
    doc_id: str | None = None
    of: str | None = None
    reason: str | None = None
    version: int | None = None
    region_id: str | None = None
    clauses: int = 0
    requirements: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome != "skipped"

    @property
    def error(self) -> str | None:
        return self.reason

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok, "error": self.reason}


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    documents: int = 0  # how many documents the knowledge base holds now

    @property
    def indexed(self) -> int:
        """Files that were read (every outcome but `skipped`)."""
        return sum(1 for f in self.files if f.ok)

    def to_dict(self) -> dict[str, Any]:
        manifest = {k: v for k, v in self.manifest.items() if k not in ("catalog", "segments")}
        return {"files": [f.to_dict() for f in self.files], "documents": self.documents, "indexed": self.indexed,
                "manifest": manifest}


@dataclass
class Candidate:
    """One readable input file, cleaned, waiting for its outcome."""

    path: str  # as shown in reports
    name: str  # the file's own name
    suffix: str
    data: bytes
    sha256: str
    source_path: str
    overrides: dict[str, Any]
    document: Document
    loaded: Any = None  # the LoadedText, to clean again with its site's template
    template: list[str] = field(default_factory=list)  # line keys removed as its site's template
    # Segmented and tagged ahead of the commit (with its clauses already handed to the embedding prefetch) when
    # the catalog at reading time said it would be added or updated; the commit reuses it if the doc id holds.
    processed: pipeline.ProcessedDocument | None = None

    @property
    def site(self) -> str | None:
        return templates.site_of(self.overrides.get("source_url"))

    @functools.cached_property
    def line_keys(self) -> dict[str, str]:
        return templates.line_keys(self.document.raw_text)


# ----- reading input --------------------------------------------------------------------------------------------


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


def _load(path: Path, max_file_mb: float, limits: dict[str, Any]) -> Any:
    return load_file(path, max_bytes=int(max_file_mb * 1024 * 1024),
                     max_pages=int(limits.get("max_pdf_pages", DEFAULT_MAX_PAGES)),
                     convert_timeout_s=float(limits.get("convert_timeout_s", 120.0)))


def read_file(path: Path, max_file_mb: float, **limits: Any) -> Candidate:
    """Load, clean and identify one file on disk (its sidecar's overrides kept with it). Raises InputFileError.

    `limits`: max_pdf_pages and convert_timeout_s, as the settings give them."""
    if not path.exists():
        raise InputFileError(path, "no such file or folder")
    loaded = _load(path, max_file_mb, limits)
    overrides = pipeline.read_checked_sidecar(path)
    data = path.read_bytes()
    document = pipeline.clean_loaded(loaded, source_path=path, overrides=overrides or None, sidecar=False)
    return Candidate(str(path), path.name, path.suffix.lower(), data, sha256_bytes(data), str(path), overrides,
                     document, loaded)


def read_upload(
    name: str, data: bytes, overrides: dict[str, Any] | None, max_file_mb: float, **limits: Any
) -> Candidate:
    """An uploaded file as a candidate; it gets the stable pseudo-path uploads/NAME (no temp folder leaks)."""
    import tempfile

    name = Path(name.replace("\\", "/")).name
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(name, f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
    with tempfile.TemporaryDirectory(prefix="policykb-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            loaded = _load(path, max_file_mb, limits)
        except InputFileError as exc:  # name the upload, never the server's temp folder
            raise InputFileError(name, exc.reason) from None
    if overrides:
        from policykb.records import Metadata

        try:  # refuse a bad correction (a malformed date, an unknown field) as the user's error
            metadata.apply_overrides(Metadata(), overrides)
        except ValueError as exc:
            raise InputFileError(name, f"invalid metadata correction: {exc}") from exc
    source_path = str(Path("uploads") / name)
    document = pipeline.clean_loaded(loaded, source_path=source_path, overrides=overrides or None, sidecar=False)
    return Candidate(name, name, suffix, data, sha256_bytes(data), source_path, dict(overrides or {}), document,
                     loaded)


def read_inputs(
    paths: Sequence[str | Path], max_file_mb: float,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
    prefetch: EmbeddingPrefetch | None = None, **limits: Any,
) -> list[Candidate | FileOutcome]:
    """Each file as a Candidate, or as a `skipped` outcome with the reason (a bad file never stops the others).

    With `prefetch`, each file that will be indexed is also segmented and tagged here, and its clauses are
    embedded on the prefetch's thread while the next file is cleaned; the caller calls `prefetch.finish()`."""
    files = expand_paths(paths)
    out: list[Candidate | FileOutcome] = []
    for path in progress(files) if progress else files:
        try:
            cand = read_file(path, max_file_mb, **limits)
            if prefetch is not None:
                prepare(cand, prefetch)
            out.append(cand)
        except PolicyKBError as exc:
            out.append(FileOutcome(str(path), "skipped", reason=str(exc)))
        except Exception as exc:  # a bug on one file must not lose the others
            log.exception("failed on %s", path)
            out.append(FileOutcome(str(path), "skipped", reason=f"{path}: internal error: {exc}"))
    return out


# ----- embedding while reading --------------------------------------------------------------------------------


class EmbeddingPrefetch:
    """Embeds clause texts into the embedding cache on a background thread while the caller cleans more files.

    Cleaning, segmenting and tagging are Python (they hold the GIL); ONNX Runtime and the tokenizer release it,
    so on a machine with a core to spare the embedding of one file runs beside the cleaning of the next. The
    commit then finds every vector in the cache. The texts not yet cached are embedded in the order they come,
    CACHE_COMMIT_EVERY at a time, which is exactly how `cached_encode_passages` would split them: the same
    batches give the same vectors as the sequential path. A failure here is only logged: the commit then embeds
    (and reports) as it would have without a prefetch.
    """

    def __init__(self, embedder_source: Callable[[], Any], index_root: Path, catalog: Catalog | None = None) -> None:
        import queue
        import threading

        self._source = embedder_source
        self._cache_path = Path(index_root) / CACHE_FILE
        if catalog is None:
            try:
                catalog = _base(Path(index_root))[1]
            except IndexError_:  # a damaged current build: the commit decides (and reports) under the lock
                catalog = Catalog()
        self.catalog = catalog
        self._queue: queue.Queue[list[str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._threading = threading
        self.error: BaseException | None = None
        self.embedded = 0

    def add(self, texts: Sequence[str]) -> None:
        if not texts:
            return
        if self._thread is None:
            self._thread = self._threading.Thread(target=self._run, name="policykb-embed-prefetch", daemon=True)
            self._thread.start()
        self._queue.put(list(texts))

    def finish(self) -> None:
        """Wait until everything handed over is in the cache."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None
        if self.error is not None:
            log.warning("embedding ahead of the commit failed (%s); the commit embeds instead", self.error)

    def _run(self) -> None:
        from policykb.embed import CACHE_COMMIT_EVERY, EmbeddingCache

        try:
            embedder = self._source()
            if hasattr(embedder, "warm_up"):
                embedder.warm_up()  # the int8 self-check fixes the backend, hence the cache key
            prompt = str(getattr(embedder, "passage_prompt", ""))
            seen: set[str] = set()
            pending: list[str] = []
            with EmbeddingCache(self._cache_path, embedder_key(embedder)) as cache:
                while True:
                    texts = self._queue.get()
                    fresh = [t for t in dict.fromkeys(texts or ()) if t not in seen]
                    seen.update(fresh)
                    if fresh:
                        cached = cache.get_many(fresh, prompt)
                        pending.extend(t for i, t in enumerate(fresh) if i not in cached)
                    while len(pending) >= CACHE_COMMIT_EVERY or (texts is None and pending):
                        chunk, pending = pending[:CACHE_COMMIT_EVERY], pending[CACHE_COMMIT_EVERY:]
                        cache.put_many(chunk, embedder.encode_passages(chunk), prompt)
                        self.embedded += len(chunk)
                    if texts is None:
                        return
        except BaseException as exc:  # reported by finish(); the commit embeds what is missing
            self.error = exc
            while self._queue.get() is not None:  # drain, so finish() never blocks
                pass


def prepare(cand: Candidate, prefetch: EmbeddingPrefetch) -> None:
    """Segment and tag a candidate that the catalog says will be indexed, handing its clauses to the prefetch
    between the two steps (so that they are embedded while the requirements are tagged)."""
    from policykb import extract, segment
    from policykb.store import SEARCHABLE_ROLES

    outcome, doc_id, _ = decide(cand, prefetch.catalog)
    if outcome not in ("added", "updated"):
        return
    doc = dataclasses.replace(cand.document, doc_id=doc_id)
    try:
        clauses = segment.segment_document(doc)
        prefetch.add([embedding_text(c) for c in clauses if c.role in SEARCHABLE_ROLES])
        cand.processed = pipeline.ProcessedDocument(doc, clauses, extract.extract_requirements(clauses))
    except PolicyKBError:  # the commit processes it again and reports the problem as it always has
        cand.processed = None


# ----- deciding -------------------------------------------------------------------------------------------------


def _snapshot(doc: Document) -> tuple[Any, ...]:
    m = doc.metadata
    return (m.region_id, m.title, m.date, m.doc_number)


def _version_snapshot(v: Version) -> tuple[Any, ...]:
    return (v.region_id, v.title, v.date, v.doc_number)


def same_document(cand: Candidate, catalog: Catalog) -> Entry | None:
    """The live document this file is a version of: same region and 文号, else same region and title, else the
    same source file name (when the regions do not contradict it)."""
    m = cand.document.metadata
    live = catalog.live()
    if m.region_id and m.doc_number:
        for e in live:
            if e.latest.region_id == m.region_id and e.latest.doc_number == m.doc_number:
                return e
    if m.region_id and m.title:
        for e in live:
            if e.latest.region_id == m.region_id and e.latest.title == m.title:
                return e
    for e in live:
        if e.latest.source == cand.name and (not m.region_id or not e.latest.region_id
                                              or e.latest.region_id == m.region_id):
            return e
    return None


def decide(cand: Candidate, catalog: Catalog) -> tuple[str, str, str | None]:
    """(outcome, doc_id, of) of a readable file against a catalog; doc_id is the id it is (or would be) under."""
    text_hash = text_sha256(cand.document.text)
    identity = same_document(cand, catalog)
    same_text = next((e for e in catalog.live() if e.latest.text_sha256 == text_hash), None)
    if same_text is not None:
        # The same file again (by name or bytes) is unchanged; the same text under another name (a GBK copy of
        # a UTF-8 file, a re-saved download) is a duplicate, never a second document.
        if same_text.latest.source == cand.name or same_text.latest.sha256 == cand.sha256:
            latest = same_text.latest
            if _version_snapshot(latest) == _snapshot(cand.document) and latest.overrides == cand.overrides:
                return "unchanged", same_text.doc_id, None
            return "updated", same_text.doc_id, same_text.doc_id
        return "duplicate", same_text.doc_id, same_text.doc_id
    if identity is not None:
        return "updated", identity.doc_id, identity.doc_id
    doc_id = cand.document.doc_id
    existing = catalog.get(doc_id)
    if existing is not None and existing.live:
        # Two documents of one region can share a number (two agencies) or a date: the text tells them apart,
        # and a hash of it (folded, so not of how its punctuation is written) keeps the id stable whatever the
        # order of the files.
        basis = fold_for_matching(cand.document.text)
        doc_id = f"{doc_id}-{hashlib.sha1(basis.encode('utf-8')).hexdigest()[:6]}"
    return "added", doc_id, None


def _version(cand: Candidate, number: int, doc: Document) -> Version:
    m = doc.metadata
    return Version(number, cand.sha256, cand.suffix, cand.name, cand.source_path, dict(cand.overrides),
                   text_sha256(doc.text), now_iso(), "", m.title, m.region_id, m.region, m.date, m.doc_number,
                   cand.site, sorted(cand.line_keys), list(cand.template))


# ----- template lines across documents (policykb.templates) -----------------------------------------------------


def _live_pages(catalog: Catalog) -> list[templates.Page]:
    return [templates.Page(e.doc_id, e.latest.site, frozenset(e.latest.line_keys)) for e in catalog.live()]


def _clean_with_template(cand: Candidate, keys: list[str]) -> Document:
    if cand.loaded is None:
        return cand.document
    return pipeline.clean_loaded(cand.loaded, source_path=cand.source_path, overrides=cand.overrides or None,
                                 sidecar=False, template=frozenset(keys))


def template_candidates(items: Sequence[Candidate | FileOutcome], catalog: Catalog) -> None:
    """Clean each candidate again without the lines its site (or many sites) repeat, as counted over the live
    documents plus this batch; done before deciding, so that a file ingested twice is `unchanged`."""
    candidates = [item for item in items if isinstance(item, Candidate)]
    pages = _live_pages(catalog)
    seen = {e.latest.sha256 for e in catalog.live()}
    mine = []
    for cand in candidates:
        page = templates.Page(cand.sha256, cand.site, frozenset(cand.line_keys))
        mine.append(page)
        if cand.sha256 not in seen:  # the same original already live is the same page, counted once
            seen.add(cand.sha256)
            pages.append(page)
    decided = templates.decide_templates(pages)
    for cand, page in zip(candidates, mine, strict=True):
        keys = cand.line_keys
        template = sorted(keys[d] for d in decided.for_page(page))
        if template:
            cand.template = template
            cand.document = _clean_with_template(cand, template)
            cand.processed = None  # segmented before the template came off: its clauses are not this text's


def reclean_templates(
    index_root: Path, catalog: Catalog, batch: dict[str, Candidate], settings: Settings
) -> list[tuple[Entry, pipeline.ProcessedDocument]]:
    """Re-derive every live document whose applied template is no longer what the counts say (the earlier
    pages of a site that just reached SITE_MIN_DOCUMENTS, say); their latest versions are updated in place."""
    decided = templates.decide_templates(_live_pages(catalog))
    limits = {"max_pdf_pages": settings.max_pdf_pages, "convert_timeout_s": settings.convert_timeout_s}
    out = []
    for entry in catalog.live():
        version = entry.latest
        page = templates.Page(entry.doc_id, version.site, frozenset(version.line_keys))
        wanted = decided.for_page(page)
        if wanted == {templates.digest(key) for key in version.template}:
            continue
        cand = batch.get(entry.doc_id)
        if cand is not None and cand.sha256 == version.sha256:
            keys = cand.line_keys
            template = sorted(keys[d] for d in wanted if d in keys)
            doc = dataclasses.replace(_clean_with_template(cand, template), doc_id=entry.doc_id)
            processed = pipeline.process_document(doc)
        else:
            loaded = _load(Library(index_root).object_path(version.sha256, version.suffix),
                           max(float(settings.max_file_mb), 1.0) * 4, limits)
            keys = templates.line_keys(loaded.text)
            template = sorted(keys[d] for d in wanted if d in keys)
            processed = rederive(index_root, entry.doc_id, dataclasses.replace(version, template=template),
                                 float(settings.max_file_mb), **limits)
        m = processed.document.metadata
        version.template = template
        version.text_sha256 = text_sha256(processed.document.text)
        version.title, version.region_id, version.region = m.title, m.region_id, m.region
        version.date, version.doc_number = m.date, m.doc_number
        out.append((entry, processed))
    return out


# ----- committing -----------------------------------------------------------------------------------------------


def _base(index_root: Path) -> tuple[Manifest | None, Catalog]:
    """The current build and its catalog; with no build yet, the library's mirror (re-derived at the next
    rebuild), else an empty catalog."""
    base = read_current_manifest(index_root)
    if base is not None:
        return base, base.read_catalog()
    catalog, _ = Library(index_root).read_catalog()
    return None, catalog


def commit(
    index_root: Path, items: Sequence[Candidate | FileOutcome], embedder_source: Callable[[], Any],
    settings: Settings, progress: bool = False,
) -> IngestReport:
    """Decide and index the candidates under the writer lock; publish once. Outcomes keep the input order."""
    index_root = Path(index_root)
    library = Library(index_root)
    for item in items:  # originals first: a crash after this leaves harmless unreferenced objects
        if isinstance(item, Candidate):
            library.put(item.data, item.suffix)
    with writer_lock(index_root):
        base, catalog = _base(index_root)
        segments = segment_infos(index_root, base) if base is not None else []
        template_candidates(items, catalog)
        batch: dict[str, Candidate] = {}
        outcomes: list[FileOutcome] = []
        new_docs: dict[str, pipeline.ProcessedDocument] = {}
        new_versions: list[Version] = []
        events: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, FileOutcome):
                outcomes.append(item)
                continue
            try:
                outcome, doc_id, of = decide(item, catalog)
                entry = catalog.get(doc_id)
                if outcome not in ("added", "updated"):
                    assert entry is not None
                    outcomes.append(FileOutcome(item.path, outcome, doc_id, of, version=entry.latest.version,
                                                region_id=entry.latest.region_id))
                    continue
                doc = dataclasses.replace(item.document, doc_id=doc_id)
                if (item.processed is not None and item.processed.document.doc_id == doc_id
                        and item.processed.document.text == doc.text):
                    processed = item.processed  # segmented and tagged (and embedded) while reading
                else:
                    processed = pipeline.process_document(doc)
            except PolicyKBError as exc:
                outcomes.append(FileOutcome(item.path, "skipped", reason=str(exc)))
                continue
            if entry is None:
                entry = catalog.entries.setdefault(doc_id, Entry(doc_id))
            if not entry.live and outcome == "updated":
                outcome = "added"
            number = (entry.versions[-1].version + 1) if entry.versions else 1
            version = _version(item, number, doc)
            entry.versions.append(version)
            entry.removed_at = None
            new_docs[doc_id] = processed  # a later file of the same batch supersedes an earlier one
            batch[doc_id] = item
            new_versions.append(version)
            events.append({"event": outcome, "doc_id": doc_id, "version": number, "sha256": item.sha256,
                           "source": item.name})
            outcomes.append(FileOutcome(item.path, outcome, doc_id, of, version=number,
                                        region_id=doc.metadata.region_id, clauses=len(processed.clauses),
                                        requirements=len(processed.requirements)))
        if not new_docs:
            return IngestReport(outcomes, base.to_dict() if base else {}, len(catalog.live()))
        for entry, processed in reclean_templates(index_root, catalog, batch, settings):
            new_docs[entry.doc_id] = processed
            if not any(v is entry.latest for v in new_versions):
                new_versions.append(entry.latest)
            if entry.doc_id not in batch:
                events.append({"event": "recleaned", "doc_id": entry.doc_id, "version": entry.latest.version,
                               "template": len(entry.latest.template)})
        embedder = embedder_source()
        if base is not None and segments:
            check_embedder(base, embedder)
        segment = write_segment(list(new_docs.values()), index_root, embedder, settings, progress)
        for version in new_versions:
            version.segment = segment["name"]
        manifest = publish(index_root, [*segments, segment], catalog, embedder, settings, base)
        library.log(events)
        if len(manifest.segments) > MERGE_AT:
            manifest = merge_small_segments(index_root, manifest, embedder, settings)
    return IngestReport(outcomes, manifest.to_dict(), manifest.documents)


def merge_small_segments(index_root: Path, manifest: Manifest, embedder: Any, settings: Settings) -> Manifest:
    """Merge every segment but the largest into one (their live documents only): the cost is that of the small
    segments, and searches then see fewer, fuller segments. Call with the writer lock held."""
    from policykb.indexer import open_build

    largest = max(manifest.segments, key=lambda s: s["indexed"])
    small = [s for s in manifest.segments if s is not largest]
    opened = open_build(Path(index_root), Path(index_root) / "builds" / manifest.build, settings, embedder)
    try:
        wanted = {s["name"] for s in small}
        catalog = manifest.read_catalog()
        moving = {e.doc_id for e in catalog.live() if e.latest.segment in wanted}
        processed = [p for p in opened.store.processed_documents() if p.document.doc_id in moving]
    finally:
        opened.store.close()
    segment = write_segment(processed, index_root, embedder, settings)
    for doc_id in moving:
        catalog.entries[doc_id].latest.segment = segment["name"]
    kept = [{k: v for k, v in largest.items() if k != "deleted"}, segment]
    log.info("merged %d segments (%d documents) into %s", len(small), len(processed), segment["name"])
    return publish(index_root, kept, catalog, embedder, settings, manifest)


def remove(index_root: Path, doc_ids: Sequence[str], settings: Settings) -> Manifest:
    """Remove documents from search (their versions stay in the library and the log says who went when)."""
    index_root = Path(index_root)
    with writer_lock(index_root):
        base = read_current_manifest(index_root)
        if base is None:
            raise IndexError_(f"no index at {index_root}: run `policykb ingest` (or `make index`)")
        catalog = base.read_catalog()
        unknown = [d for d in doc_ids if (catalog.get(d) is None or not catalog.entries[d].live)]
        if unknown:
            raise NotFoundError(f"no document {', '.join(unknown)} in the knowledge base")
        stamp = now_iso()
        for doc_id in doc_ids:
            catalog.entries[doc_id].removed_at = stamp
        manifest = publish(index_root, segment_infos(index_root, base), catalog, None, settings, base)
        Library(index_root).log([{"event": "removed", "doc_id": d, "version": catalog.entries[d].latest.version}
                                 for d in doc_ids])
        return manifest


def rederive(
    index_root: Path, doc_id: str, version: Version, max_file_mb: float, **limits: Any
) -> pipeline.ProcessedDocument:
    """One version of a document, cleaned and processed again from its original in the library."""
    library = Library(index_root)
    if not version.sha256:
        raise IndexError_(f"{doc_id} version {version.version} has no original in the library")
    path = library.object_path(version.sha256, version.suffix)
    library.read(version.sha256, version.suffix)  # raises, naming the object, when missing or damaged
    try:
        loaded = _load(path, max(max_file_mb, 1.0) * 4, limits)
    except InputFileError as exc:
        raise InputFileError(library.relative(path), exc.reason) from None
    doc = pipeline.clean_loaded(loaded, source_path=version.source_path, overrides=version.overrides or None,
                                sidecar=False, template=frozenset(version.template))
    return pipeline.process_document(dataclasses.replace(doc, doc_id=doc_id))


def rebuild(index_root: Path, embedder: Any, settings: Settings, progress: bool = False) -> Manifest:
    """Re-derive every live document's newest version from the library into one segment, published atomically
    (after a pipeline upgrade, or to merge every segment). The versions and the log are kept."""
    index_root = Path(index_root)
    with writer_lock(index_root):
        try:
            base, catalog = _base(index_root)
        except IndexError_:  # the current build's manifest is unreadable: the library's mirror is the truth
            base, (catalog, _) = None, Library(index_root).read_catalog()
        live = catalog.live()
        if not live:
            raise IndexError_("the library holds no document to rebuild from: run `policykb ingest`")
        limits = {"max_pdf_pages": settings.max_pdf_pages, "convert_timeout_s": settings.convert_timeout_s}
        processed = [rederive(index_root, e.doc_id, e.latest, float(settings.max_file_mb), **limits) for e in live]
        for entry, doc in zip(live, processed, strict=True):
            if not entry.latest.line_keys:  # a version ingested before template lines were counted
                entry.latest.line_keys = sorted(templates.line_keys(doc.document.raw_text))
        segment = write_segment(processed, index_root, embedder, settings, progress)
        for entry in live:
            entry.latest.segment = segment["name"]
        manifest = publish(index_root, [segment], catalog, embedder, settings, base)
        Library(index_root).log([{"event": "rebuilt", "documents": len(live), "build": manifest.build}])
        return manifest
