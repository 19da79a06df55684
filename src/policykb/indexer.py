"""The index folder: immutable segments, builds that list them, one atomic `current` link; open with fallback.

Layout of `index_root`:
    current -> builds/build-<stamp>-<pid>      a relative symlink, replaced atomically by each publish
    builds/build-<stamp>-<pid>/manifest.json   one build: its segments, the documents deleted from each, the
                                               catalog of documents and versions, model and package versions
    segments/seg-<stamp>-<pid>/                kb.sqlite, bm25/, dense.faiss (+ dense.refine.npy for IVF),
                                               segment.json (never modified)
    segments/.tmp-seg-<stamp>-<pid>/           a segment being written (renamed to seg-… only once complete)
    library/                                   the originals and the catalog mirror (see library.py)
    embedding-cache.sqlite                     clause embeddings by text hash, shared by every segment
    .lock                                      serialises every writer (ingest, upload, remove, rebuild)
Adding a document writes one small segment and a new build listing the old segments plus it: the cost is that
of the document, not of the collection. A crash at any point leaves `current` at the last complete build; the
previous builds (KEEP_BUILDS) stay on disk for readers still using them and as a fallback when one is damaged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

import policykb
from policykb.errors import IndexError_, PolicyKBError
from policykb.keyword_index import KeywordIndex
from policykb.library import Catalog, Library, fsync_dir, text_sha256
from policykb.records import Clause
from policykb.settings import Settings
from policykb.store import Store, ordered_clauses
from policykb.vector_index import VectorIndex, refine_path

if TYPE_CHECKING:
    from policykb.pipeline import ProcessedDocument

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
CURRENT = "current"
BUILDS_DIR = "builds"
SEGMENTS_DIR = "segments"
BUILD_PREFIX = "build-"
SEGMENT_PREFIX = "seg-"
TMP_PREFIX = ".tmp-"
CACHE_FILE = "embedding-cache.sqlite"
DB_FILE = "kb.sqlite"
BM25_DIR = "bm25"
DENSE_FILE = "dense.faiss"
MANIFEST_FILE = "manifest.json"
SEGMENT_FILE = "segment.json"
LOCK_FILE = ".lock"
KEEP_BUILDS = 3  # the current build and two before it: readers finishing a request, and the fallback
MERGE_AT = 8  # more segments than this: the small ones are merged into one
PACKAGES = ("faiss-cpu", "bm25s", "sentence-transformers", "torch", "onnxruntime", "jieba", "numpy")


@dataclass
class Manifest:
    """What an index was built from and with; `open_index` refuses an index whose model the settings disagree with."""

    format_version: int
    policykb_version: str
    model: str  # the embedder's name
    model_key: str  # the embedder's key: model, backend and a fingerprint of the weights
    model_setting: str  # the `model` setting the index was built under
    embed_backend: str
    dimension: int
    documents: int
    clauses: int
    indexed_clauses: int
    requirements: int
    corpus_hash: str
    created: str
    dense_index: str  # "flat" | "ivf-sq8" (of the largest segment)
    embed_text: str  # how a clause becomes the text that is embedded
    tokenizer: str
    build: str = ""  # the build folder's name
    packages: dict[str, str] = field(default_factory=dict)
    # The int8 self-check on the building machine (cpu, min_cosine, top10_agreement, ok, reason), and why an
    # int8 request was embedded in fp32 instead, if it was.
    embed_check: dict[str, Any] = field(default_factory=dict)
    generation: int = 0  # one more at every publish
    segments: list[dict[str, Any]] = field(default_factory=list)  # segment.json of each, plus its `deleted`
    catalog: list[dict[str, Any]] = field(default_factory=list)  # library.Entry dicts

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise IndexError_(
                f"unreadable index manifest {_shown(path)}: {exc}: rebuild with `policykb ingest`"
            ) from exc

    def read_catalog(self) -> Catalog:
        return Catalog.from_list(self.catalog)


class OpenIndex(NamedTuple):
    store: Any  # Store, or segments.SegmentedStore
    keyword_index: Any
    vector_index: Any
    manifest: Manifest


def _shown(path: Path) -> str:
    """A file as named in messages: from the build or segment folder down, never the server's absolute path."""
    parts = Path(path).parts
    for marker in (SEGMENTS_DIR, BUILDS_DIR):
        if marker in parts:
            return str(Path(*parts[parts.index(marker) :]))
    return str(Path(*parts[-2:])) if len(parts) >= 2 else str(path)


# ----- what gets indexed ---------------------------------------------------------------------------------------

# Measured on the five documents (307 body clauses, 46 benchmark queries, multilingual-e5-small): prefixing the
# nearest heading's words lowered dense MRR from 0.92 to 0.88 (0.92 when only clauses under 20 characters got
# it), so a clause is embedded as it stands.
EMBED_TEXT = "clause"


def embedding_text(clause: Clause) -> str:
    """The text embedded for a clause (see EMBED_TEXT for why headings are left out)."""
    return clause.text


def _hash_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for pair in sorted(pairs):
        for part in pair:
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def corpus_hash(processed: Sequence[ProcessedDocument]) -> str:
    """sha256 over (doc_id, sha256 of the cleaned text) of every document, in doc_id order: same corpus, same hash."""
    return _hash_pairs([(p.document.doc_id, text_sha256(p.document.text)) for p in processed])


def catalog_hash(catalog: Catalog) -> str:
    """corpus_hash of the live documents of a catalog."""
    return _hash_pairs([(e.doc_id, e.latest.text_sha256) for e in catalog.live()])


def package_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def embedder_backend(embedder: Any, settings: Settings) -> str:
    return str(getattr(embedder, "backend", None) or settings.embed_backend)


def embed_check_record(embedder: Any) -> dict[str, Any]:
    """What the manifest says about the int8 self-check: its verdict, and the fallback to fp32 if any."""
    check: Any = getattr(embedder, "int8_check", None)
    record: dict[str, Any] = dict(check.to_dict()) if check is not None else {}
    reason = getattr(embedder, "fallback_reason", "")
    if reason:
        record["fallback"] = reason
    return record


def embedder_key(embedder: Any) -> str:
    """What identifies the vectors an embedder makes (its `key`, or name and dimension for minimal embedders)."""
    return str(getattr(embedder, "key", None) or f"{embedder.name}@{int(embedder.dimension)}")
# ----- building ------------------------------------------------------------------------------------------------


def _encode(embedder: Any, texts: list[str], cache_path: Path, progress: bool) -> np.ndarray:
    """Embed texts through the shared cache, so text embedded by an earlier build is never embedded again."""
    from policykb.embed import EmbeddingCache, cached_encode_passages

    if hasattr(embedder, "warm_up"):
        embedder.warm_up()  # the int8 self-check may switch this machine to fp32: the cache key must say which
    with EmbeddingCache(cache_path, embedder_key(embedder)) as cache:
        vectors = cached_encode_passages(embedder, texts, cache, progress)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), int(embedder.dimension))


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under folder to disk, so a power cut after the swap finds them whole."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in [*sorted(p for p in folder.rglob("*") if p.is_dir()), folder]:
        fsync_dir(path)


_fsync_dir = fsync_dir


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time() % 1:.6f}"[1:].replace(".", "") + (
        f"-{os.getpid()}"
    )


def _swap_current(index_root: Path, target: str) -> None:
    """Point `current` at target in one atomic rename (a reader sees the old build or the new, never neither)."""
    tmp_link = index_root / f".current-{os.getpid()}.tmp"
    tmp_link.unlink(missing_ok=True)
    os.symlink(target, tmp_link)
    os.replace(tmp_link, index_root / CURRENT)
    fsync_dir(index_root)


@contextlib.contextmanager
def writer_lock(index_root: Path) -> Iterator[None]:
    """An exclusive advisory lock on index_root/.lock, held by one writer at a time (the kernel frees it when the
    holder dies). Writers re-read the current build after taking it, so no ingest ever overwrites another's."""
    index_root = Path(index_root)
    index_root.mkdir(parents=True, exist_ok=True)
    with open(index_root / LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_build(index_root: Path) -> Path | None:
    """The build folder `current` points at, or None when there is no usable index."""
    link = Path(index_root) / CURRENT
    if not link.exists():
        return None
    return Path(os.path.realpath(link))


def current_name(index_root: Path) -> str | None:
    """What `current` points at (a cheap readlink: a server checks it on every request)."""
    try:
        return os.readlink(Path(index_root) / CURRENT)
    except OSError:
        return None


def read_current_manifest(index_root: Path) -> Manifest | None:
    build = current_build(index_root)
    if build is None or not (build / MANIFEST_FILE).is_file():
        return None
    return Manifest.read(build / MANIFEST_FILE)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_tmp(name: str) -> bool:
    pid = name.rsplit("-", 1)[-1]
    return pid.isdigit() and not _pid_alive(int(pid))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_records(folder: Path) -> dict[str, dict[str, Any]]:
    """size and sha256 of every file under folder (what `check` verifies later)."""
    return {
        str(path.relative_to(folder)): {"size": path.stat().st_size, "sha256": _sha256_file(path)}
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
    }


def write_segment(
    processed: Sequence[ProcessedDocument], index_root: Path, embedder: Any, settings: Settings, progress: bool = False
) -> dict[str, Any]:
    """Write processed documents as one complete, immutable segment under segments/; return its segment.json.

    The segment is invisible until a build lists it; a crash leaves only a .tmp- folder, removed later.
    """
    index_root = Path(index_root)
    (index_root / SEGMENTS_DIR).mkdir(parents=True, exist_ok=True)
    name = f"{SEGMENT_PREFIX}{_stamp()}"
    tmp_dir = index_root / SEGMENTS_DIR / f"{TMP_PREFIX}{name}"
    tmp_dir.mkdir()
    try:
        info = _write_segment_files(processed, tmp_dir, index_root / CACHE_FILE, embedder, settings, progress)
        info["name"] = name
        info["files"] = _file_records(tmp_dir)
        (tmp_dir / SEGMENT_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(tmp_dir)
        os.rename(tmp_dir, index_root / SEGMENTS_DIR / name)
        fsync_dir(index_root / SEGMENTS_DIR)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return info


def _write_segment_files(
    processed: Sequence[ProcessedDocument], folder: Path, cache_path: Path, embedder: Any, settings: Settings,
    progress: bool,
) -> dict[str, Any]:
    """Fill folder with kb.sqlite, bm25/ and dense.faiss; return what segment.json records."""
    started = time.perf_counter()
    store = Store(folder / DB_FILE)
    store.write_documents(processed)
    try:
        searchable = ordered_clauses(processed)[: store.indexed_count()]
    finally:
        store.close()
    log.info("store: %d clauses in %.2f s", len(searchable), time.perf_counter() - started)
    started = time.perf_counter()
    vectors = _encode(embedder, [embedding_text(c) for c in searchable], cache_path, progress)
    log.info("embeddings: %.2f s", time.perf_counter() - started)
    started = time.perf_counter()
    vector_index = VectorIndex.build(
        vectors, ann_threshold=int(settings.ann_threshold), nlist=int(settings.ivf_nlist),
        nprobe=int(settings.ivf_nprobe), dimension=int(embedder.dimension),
        refine_factor=int(settings.refine_factor),
    )
    vector_index.save(folder / DENSE_FILE)
    log.info("dense index (%s): %.2f s", vector_index.kind, time.perf_counter() - started)
    started = time.perf_counter()
    keyword_index = KeywordIndex.build([c.text for c in searchable], progress=progress)
    keyword_index.save(folder / BM25_DIR)
    log.info("keyword index: %.2f s", time.perf_counter() - started)
    from policykb.store import SEARCHABLE_ROLES

    per_doc = {
        p.document.doc_id: {
            "clauses": len(p.clauses),
            "indexed": sum(1 for c in p.clauses if c.role in SEARCHABLE_ROLES),
            "requirements": len(p.requirements),
        }
        for p in processed
    }
    return {
        "documents": len(processed), "clauses": sum(len(p.clauses) for p in processed), "indexed": len(searchable),
        "dense_index": vector_index.kind, "tokenizer": keyword_index.tokenizer, "model_key": embedder_key(embedder),
        "per_document": per_doc,
    }


def synthetic_catalog(processed: Sequence[ProcessedDocument], segment: str) -> Catalog:
    """A catalog for documents built without the library (tests, benchmarks): version 1 of each, no original."""
    from policykb.library import Entry, Version, now_iso

    entries = []
    for p in processed:
        d, m = p.document, p.document.metadata
        entries.append(Entry(d.doc_id, [Version(
            1, "", Path(d.source_path).suffix, Path(d.source_path).name, d.source_path, {}, text_sha256(d.text),
            now_iso(), segment, m.title, m.region_id, m.region, m.date, m.doc_number,
        )]))
    return Catalog(entries)


def publish(
    index_root: Path, segments: Sequence[dict[str, Any]], catalog: Catalog, embedder: Any, settings: Settings,
    base: Manifest | None = None,
) -> Manifest:
    """Write a build listing `segments` (each with its deleted documents, derived from the catalog) and make it
    `current` in one atomic switch; mirror the catalog into the library; delete what no kept build needs.

    Call with `writer_lock` held. `embedder` may be None when no vector was made (a removal): the model fields
    then come from `base`.
    """
    index_root = Path(index_root)
    live = catalog.live_by_segment()
    seg_names = {s["name"] for s in segments}
    for entry in catalog.live():
        if entry.latest.segment not in seg_names:
            raise IndexError_(f"document {entry.doc_id} lives in segment {entry.latest.segment}, not in the build")
    # A segment left without a live document is dropped (the newest is kept when every document is removed,
    # so that an empty knowledge base still opens).
    segments = [s for s in segments if s["name"] in live] or list(segments[-1:])
    listed = []
    for seg in segments:
        deleted = sorted(set(seg["per_document"]) - live.get(seg["name"], set()))
        listed.append({**seg, "deleted": deleted})
    counts = {"clauses": 0, "indexed": 0, "requirements": 0}
    for entry in catalog.live():
        seg = next(s for s in segments if s["name"] == entry.latest.segment)
        for key in counts:
            counts[key] += int(seg["per_document"][entry.doc_id][key])
    largest = max(segments, key=lambda s: s["indexed"]) if segments else {}
    model: dict[str, Any]
    embed_check: dict[str, Any] = {}
    if embedder is not None:
        if hasattr(embedder, "warm_up"):
            embedder.warm_up()  # the int8 self-check decides the backend this machine really embeds with
        embed_check = embed_check_record(embedder)
        model = {
            "model": str(embedder.name), "model_key": embedder_key(embedder), "model_setting": str(settings.model),
            "embed_backend": embedder_backend(embedder, settings), "dimension": int(embedder.dimension),
        }
    elif base is not None:
        model = {k: getattr(base, k) for k in ("model", "model_key", "model_setting", "embed_backend", "dimension")}
        embed_check = dict(base.embed_check)
    else:
        raise IndexError_("nothing to publish: no index yet")
    stamp = _stamp()
    build_name = f"{BUILD_PREFIX}{stamp}"
    manifest = Manifest(
        format_version=FORMAT_VERSION, policykb_version=policykb.__version__, **model,
        documents=len(catalog.live()), clauses=counts["clauses"], indexed_clauses=counts["indexed"],
        requirements=counts["requirements"], corpus_hash=catalog_hash(catalog),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        dense_index=str(largest.get("dense_index", "flat")), embed_text=EMBED_TEXT,
        tokenizer=str(largest.get("tokenizer", "")), build=build_name, packages=package_versions(),
        generation=(base.generation if base is not None else 0) + 1, segments=listed, catalog=catalog.to_list(),
        embed_check=embed_check,
    )
    builds_dir = index_root / BUILDS_DIR
    builds_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir = builds_dir / f"{TMP_PREFIX}{build_name}"
    tmp_dir.mkdir()
    try:
        (tmp_dir / MANIFEST_FILE).write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1),
                                             encoding="utf-8")
        _fsync_tree(tmp_dir)
        os.rename(tmp_dir, builds_dir / build_name)
        fsync_dir(builds_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    _swap_current(index_root, f"{BUILDS_DIR}/{build_name}")
    Library(index_root).write_catalog(catalog, manifest.generation)
    collect_garbage(index_root)
    log.info("published %s: %d documents, %d searchable clauses in %d segments", build_name, manifest.documents,
             manifest.indexed_clauses, len(segments))
    return manifest


def kept_builds(index_root: Path) -> list[Path]:
    """Complete builds, newest first (the current one first of all)."""
    builds_dir = Path(index_root) / BUILDS_DIR
    if not builds_dir.is_dir():
        return []
    found = sorted((p for p in builds_dir.iterdir() if p.name.startswith(BUILD_PREFIX) and p.is_dir()),
                   key=lambda p: p.name, reverse=True)
    current = current_build(index_root)
    if current is not None and current in found:
        found.remove(current)
        found.insert(0, current)
    return found


def collect_garbage(index_root: Path) -> None:
    """Keep the newest KEEP_BUILDS builds and the segments they list; remove the rest and dead writers' leftovers."""
    index_root = Path(index_root)
    builds = kept_builds(index_root)
    needed: set[str] = set()
    for build in builds[:KEEP_BUILDS]:
        try:
            needed.update(s["name"] for s in Manifest.read(build / MANIFEST_FILE).segments)
        except IndexError_:
            continue
    for build in builds[KEEP_BUILDS:]:
        shutil.rmtree(build, ignore_errors=True)
    for folder in (index_root / BUILDS_DIR, index_root / SEGMENTS_DIR):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith(TMP_PREFIX):
                if _dead_tmp(path.name):
                    shutil.rmtree(path, ignore_errors=True)
            elif folder.name == SEGMENTS_DIR and path.name.startswith(SEGMENT_PREFIX) and path.name not in needed:
                shutil.rmtree(path, ignore_errors=True)
    for path in index_root.iterdir():
        if path.name.startswith(".current-") and path.name.endswith(".tmp") and _dead_tmp(path.name[:-4]):
            path.unlink(missing_ok=True)


def build_index(
    processed: Sequence[ProcessedDocument],
    index_root: Path,
    embedder: Any,
    settings: Settings,
    progress: bool = False,
) -> Manifest:
    """Publish processed documents as the whole index: one new segment, replacing every document indexed before.

    Used by tests and benchmarks (and by `rebuild` through the service, which passes the library's catalog).
    Raises on failure, leaving `current` untouched.
    """
    index_root = Path(index_root)
    with writer_lock(index_root):
        base = _readable_base(index_root)
        segment = write_segment(processed, index_root, embedder, settings, progress)
        return publish(index_root, [segment], synthetic_catalog(processed, segment["name"]), embedder, settings, base)


def _readable_base(index_root: Path) -> Manifest | None:
    try:
        return read_current_manifest(index_root)
    except IndexError_:
        return None


def segment_infos(index_root: Path, manifest: Manifest) -> list[dict[str, Any]]:
    """The segments of a build as `publish` takes them (without their deletions, which it derives again)."""
    return [{k: v for k, v in s.items() if k != "deleted"} for s in manifest.segments]


# ----- opening ---------------------------------------------------------------------------------------------------


def check_embedder(manifest: Manifest, embedder: Any) -> None:
    """Raise IndexError_ when embedder is not the model the index was built with (name or dimension).

    Another backend of the same model (torch vs ONNX int8) is accepted: its vectors differ by rounding only.
    """
    name, dimension = str(embedder.name), int(embedder.dimension)
    if name != manifest.model or dimension != manifest.dimension:
        raise IndexError_(
            f"the index was built with the model {manifest.model} ({manifest.dimension} dimensions) but the "
            f"settings load {name} ({dimension} dimensions): rebuild the index with `policykb ingest`, or set "
            f"POLICYKB_MODEL back to {manifest.model_setting}"
        )
    key = embedder_key(embedder)
    if key != manifest.model_key:
        log.info("index built with %s, queries embedded with %s", manifest.model_key, key)


def _resolve_embedder(embedder: Any, settings: Settings) -> Any:
    """The embedder to check an index against: the one given, the factory's, or the settings' (None if missing)."""
    if embedder is not None:
        return embedder if hasattr(embedder, "encode_queries") else embedder()
    from policykb.embed import load_embedder

    try:
        return load_embedder(settings)
    except PolicyKBError as exc:  # listing clauses needs no model; searching will report it
        log.info("not checking the index's model: %s", exc)
        return None


def _damaged(path: Path, reason: str) -> IndexError_:
    return IndexError_(f"damaged index file {_shown(path)}: {reason}: run `policykb rebuild`")


def _open_segment(folder: Path, info: dict[str, Any], settings: Settings) -> Any:
    """Open one segment, checking that each file exists with its recorded size and loads; IndexError_ otherwise."""
    from policykb.segments import Segment

    if not folder.is_dir():
        raise _damaged(folder, "segment folder missing")
    for rel, record in info.get("files", {}).items():
        path = folder / rel
        if path == refine_path(folder / DENSE_FILE):
            continue  # optional: VectorIndex.load checks it and answers unrefined without it
        if not path.is_file():
            raise _damaged(path, "file missing")
        if path.stat().st_size != int(record["size"]):
            raise _damaged(path, f"size {path.stat().st_size} bytes, expected {record['size']}")
    store = Store(folder / DB_FILE)
    try:
        count = store.clause_count()
    except (sqlite3.DatabaseError, IndexError_) as exc:
        store.close()
        raise _damaged(folder / DB_FILE, str(exc)) from exc
    try:
        keyword_index = KeywordIndex.load(folder / BM25_DIR)
    except Exception as exc:  # bm25s raises whatever numpy or json raise on a broken file
        store.close()
        raise _damaged(folder / BM25_DIR, f"{type(exc).__name__}: {exc}".split("\n")[0]) from exc
    try:
        vector_index = VectorIndex.load(
            folder / DENSE_FILE, nprobe=int(settings.ivf_nprobe), refine_factor=int(settings.refine_factor)
        )
    except Exception as exc:  # faiss raises RuntimeError with a multi-line C++ message
        store.close()
        raise _damaged(folder / DENSE_FILE, str(exc).strip().split("\n")[0][:200]) from exc
    indexed = int(info.get("indexed", len(vector_index)))
    if len(vector_index) != indexed or len(keyword_index) != indexed or count != int(info.get("clauses", count)):
        store.close()
        raise _damaged(folder, "index sizes disagree with segment.json")
    return Segment(folder.name, store, keyword_index, vector_index, frozenset(info.get("deleted", ())))


def open_build(index_root: Path, build: Path, settings: Settings, embedder: Any = None) -> OpenIndex:
    """Open one build: its segments seen as one index (a single segment without deletions is used directly)."""
    from policykb.segments import combine

    if not (build / MANIFEST_FILE).is_file():
        raise IndexError_(f"no index at {index_root}: run `policykb ingest` (or `make index`)")
    manifest = Manifest.read(build / MANIFEST_FILE)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexError_(
            f"the index at {index_root} has format {manifest.format_version}, this policykb reads format "
            f"{FORMAT_VERSION}: rebuild it with `policykb ingest`"
        )
    resolved = _resolve_embedder(embedder, settings)
    if resolved is not None:
        check_embedder(manifest, resolved)
    opened: list[Any] = []
    try:
        for info in manifest.segments:
            opened.append(_open_segment(Path(index_root) / SEGMENTS_DIR / info["name"], info, settings))
    except BaseException:
        for seg in opened:
            seg.store.close()
        raise
    if not opened:
        raise IndexError_(f"the index at {index_root} lists no segment: run `policykb rebuild`")
    if len(opened) == 1 and not opened[0].dead:
        seg = opened[0]
        return OpenIndex(seg.store, seg.keyword_index, seg.vector_index, manifest)
    store, keyword_index, vector_index = combine(opened)
    return OpenIndex(store, keyword_index, vector_index, manifest)


def open_index(index_root: Path, settings: Settings, embedder: Any = None) -> OpenIndex:
    """Open the current build: (store, keyword index, vector index, manifest), checked against the settings.

    `embedder` is an Embedder, a zero-argument factory of one, or None (then the settings' model is used).
    Only its name and dimension are read, which loads no model weights. Raises IndexError_ when there is no
    index, when it is damaged (naming the file), or when it was built with another model.
    """
    index_root = Path(index_root)
    build = current_build(index_root)
    if build is None or not (build / MANIFEST_FILE).is_file():
        raise IndexError_(f"no index at {index_root}: run `policykb ingest` (or `make index`)")
    return open_build(index_root, build, settings, embedder)


def open_with_fallback(index_root: Path, settings: Settings, embedder: Any = None) -> tuple[OpenIndex, str | None]:
    """The current build, or, when it is damaged, the newest earlier build that opens whole.

    Returns the opened index and, after a fallback, the one-line problem with the current build (else None).
    A missing index or a model mismatch is raised as is: an older build would not help.
    """
    index_root = Path(index_root)
    try:
        return open_index(index_root, settings, embedder), None
    except IndexError_ as exc:
        problem = str(exc)
        if not problem.startswith(("damaged index file", "unreadable index manifest")):
            raise
        for build in kept_builds(index_root)[1:]:
            try:
                opened = open_build(index_root, build, settings, embedder)
            except IndexError_:
                continue
            log.warning("current build damaged (%s); serving the previous build %s", problem, build.name)
            return opened, problem
        raise


def check_index(index_root: Path) -> list[str]:
    """Verify the current build and the library: one line per problem (empty when all is well)."""
    index_root = Path(index_root)
    problems: list[str] = []
    build = current_build(index_root)
    library = Library(index_root)
    if build is None:
        catalog, _ = library.read_catalog()
        if catalog.entries:
            problems.append(f"{CURRENT}: no current build, though the library holds documents: run `policykb rebuild`")
        return problems + library.check(catalog)
    try:
        manifest = Manifest.read(build / MANIFEST_FILE)
    except IndexError_ as exc:
        return [str(exc)]
    for info in manifest.segments:
        folder = index_root / SEGMENTS_DIR / info["name"]
        if not folder.is_dir():
            problems.append(f"{_shown(folder)}: segment folder missing")
            continue
        for rel, record in info.get("files", {}).items():
            path = folder / rel
            if not path.is_file():
                problems.append(f"{_shown(path)}: file missing")
            elif path.stat().st_size != int(record["size"]):
                problems.append(f"{_shown(path)}: size {path.stat().st_size} bytes, expected {record['size']}")
            elif _sha256_file(path) != record["sha256"]:
                problems.append(f"{_shown(path)}: content changed since it was written (sha256 differs)")
        if (folder / DB_FILE).is_file():
            try:
                conn = sqlite3.connect(f"{(folder / DB_FILE).resolve().as_uri()}?mode=ro", uri=True)
                try:
                    result = conn.execute("PRAGMA quick_check").fetchone()[0]
                finally:
                    conn.close()
                if result != "ok":
                    problems.append(f"{_shown(folder / DB_FILE)}: {result}")
            except sqlite3.DatabaseError as exc:
                problems.append(f"{_shown(folder / DB_FILE)}: {exc}")
    catalog = manifest.read_catalog()
    mirrored, generation = (Catalog(), 0)
    try:
        mirrored, generation = library.read_catalog()
    except IndexError_ as exc:
        problems.append(str(exc))
    if generation and generation < manifest.generation:
        problems.append(f"library/catalog.json: generation {generation} lags the current build's "
                        f"{manifest.generation} (the next ingest or `policykb rebuild` rewrites it)")
    problems.extend(library.check(catalog))
    del mirrored
    return problems
