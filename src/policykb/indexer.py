"""Build an index folder (SQLite + BM25 + faiss + manifest) and swap it in atomically; open the current one.

Layout of `index_root`:
    current -> build-<timestamp>-<pid>/       a relative symlink, replaced atomically by each successful build
    build-<timestamp>-<pid>/                  kb.sqlite, bm25/, dense.faiss, manifest.json (never modified)
    .tmp-build-<timestamp>-<pid>/             a build in progress (renamed to build-… only once complete)
    embedding-cache.sqlite                    clause embeddings by text hash, shared by every build
    .publish.lock                             serialises the rename + swap + clean-up of concurrent builds
A crash at any point leaves `current` pointing at the last complete build.
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
from policykb.records import Clause
from policykb.settings import Settings
from policykb.store import Store, ordered_clauses
from policykb.vector_index import VectorIndex

if TYPE_CHECKING:
    from policykb.pipeline import ProcessedDocument

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "current"
BUILD_PREFIX = "build-"
TMP_PREFIX = ".tmp-build-"
CACHE_FILE = "embedding-cache.sqlite"
DB_FILE = "kb.sqlite"
BM25_DIR = "bm25"
DENSE_FILE = "dense.faiss"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".publish.lock"
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
    dense_index: str  # "flat" | "ivf-sq8"
    embed_text: str  # how a clause becomes the text that is embedded
    tokenizer: str
    build: str = ""  # the build folder's name
    packages: dict[str, str] = field(default_factory=dict)
    # The int8 self-check on the building machine (cpu, min_cosine, top10_agreement, ok, reason), and why an
    # int8 request was embedded in fp32 instead, if it was.
    embed_check: dict[str, Any] = field(default_factory=dict)

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
                f"unreadable index manifest {path}: {exc}: rebuild with `policykb ingest`"
            ) from exc


class OpenIndex(NamedTuple):
    store: Store
    keyword_index: KeywordIndex
    vector_index: VectorIndex
    manifest: Manifest


# ----- what gets indexed ---------------------------------------------------------------------------------------

# Measured on the five documents (307 body clauses, 46 benchmark queries, multilingual-e5-small): prefixing the
# nearest heading's words lowered dense MRR from 0.92 to 0.88 (0.92 when only clauses under 20 characters got
# it), so a clause is embedded as it stands.
EMBED_TEXT = "clause"


def embedding_text(clause: Clause) -> str:
    """The text embedded for a clause (see EMBED_TEXT for why headings are left out)."""
    return clause.text


def corpus_hash(processed: Sequence[ProcessedDocument]) -> str:
    """sha256 over (doc_id, cleaned text) of every document, in doc_id order: same corpus, same hash."""
    digest = hashlib.sha256()
    for doc in sorted((p.document for p in processed), key=lambda d: d.doc_id):
        for part in (doc.doc_id, doc.text):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


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


# ----- building --------------------------------------------------------------------------------------------------


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
        _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_current(index_root: Path, build_name: str) -> None:
    """Point `current` at build_name in one atomic rename (a reader sees the old build or the new, never neither)."""
    tmp_link = index_root / f".current-{os.getpid()}.tmp"
    tmp_link.unlink(missing_ok=True)
    os.symlink(build_name, tmp_link)
    os.replace(tmp_link, index_root / CURRENT)
    _fsync_dir(index_root)


@contextlib.contextmanager
def _publish_lock(index_root: Path) -> Iterator[None]:
    """An exclusive advisory lock on index_root/.publish.lock (released by the kernel if the holder dies)."""
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(index_root: Path, keep: set[str]) -> None:
    """Delete complete builds other than `keep`, and unfinished ones whose builder process is gone."""
    for path in index_root.iterdir():
        name = path.name
        if name.startswith(BUILD_PREFIX) and path.is_dir() and name not in keep:
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(TMP_PREFIX) and path.is_dir():
            pid = name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(".current-") and name.endswith(".tmp"):
            pid = name[len(".current-") : -len(".tmp")]
            if pid.isdigit() and not _pid_alive(int(pid)):
                path.unlink(missing_ok=True)


def build_index(
    processed: Sequence[ProcessedDocument],
    index_root: Path,
    embedder: Any,
    settings: Settings,
    progress: bool = False,
) -> Manifest:
    """Write a complete new build of processed documents under index_root, then make it `current` atomically.

    The previous build is kept (a reader may still use it); older ones are deleted. Raises on failure, leaving
    `current` untouched.
    """
    index_root = Path(index_root)
    index_root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time() % 1:.6f}"[1:].replace(".", "")
    build_name = f"{BUILD_PREFIX}{stamp}-{os.getpid()}"
    tmp_dir = index_root / f"{TMP_PREFIX}{stamp}-{os.getpid()}"
    tmp_dir.mkdir()
    try:
        manifest = _write_build(processed, tmp_dir, index_root / CACHE_FILE, embedder, settings, progress)
        manifest.build = build_name
        (tmp_dir / MANIFEST_FILE).write_text(
            json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        _fsync_tree(tmp_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    # Publishing is serialised across processes: a concurrent build's clean-up must not delete a folder
    # that was renamed but not yet swapped in.
    with _publish_lock(index_root):
        os.rename(tmp_dir, index_root / build_name)
        _fsync_dir(index_root)
        previous = current_build(index_root)
        _swap_current(index_root, build_name)
        keep = {build_name} | ({previous.name} if previous is not None else set())
        _remove_stale(index_root, keep)
    log.info(
        "index %s: %d documents, %d clauses (%d searchable), %s dense index",
        build_name,
        manifest.documents,
        manifest.clauses,
        manifest.indexed_clauses,
        manifest.dense_index,
    )
    return manifest


def _write_build(
    processed: Sequence[ProcessedDocument],
    folder: Path,
    cache_path: Path,
    embedder: Any,
    settings: Settings,
    progress: bool,
) -> Manifest:
    """Fill folder with kb.sqlite, bm25/ and dense.faiss; return the manifest (not yet written)."""
    started = time.perf_counter()
    store = Store(folder / DB_FILE)
    store.write_documents(processed)
    try:
        searchable = ordered_clauses(processed)[: store.indexed_count()]
    finally:
        store.close()
    log.info("store: %d clauses in %.1f s", len(searchable), time.perf_counter() - started)
    started = time.perf_counter()
    vectors = _encode(embedder, [embedding_text(c) for c in searchable], cache_path, progress)
    backend = embedder_backend(embedder, settings)  # after encoding: the int8 self-check may have chosen fp32
    log.info("embeddings: %.1f s", time.perf_counter() - started)
    started = time.perf_counter()
    vector_index = VectorIndex.build(
        vectors,
        ann_threshold=int(settings.ann_threshold),
        nlist=int(settings.ivf_nlist),
        nprobe=int(settings.ivf_nprobe),
        dimension=int(embedder.dimension),
    )
    vector_index.save(folder / DENSE_FILE)
    log.info("dense index (%s): %.1f s", vector_index.kind, time.perf_counter() - started)
    started = time.perf_counter()
    keyword_index = KeywordIndex.build([c.text for c in searchable], progress=progress)
    keyword_index.save(folder / BM25_DIR)
    log.info("keyword index: %.1f s", time.perf_counter() - started)
    return Manifest(
        format_version=FORMAT_VERSION,
        policykb_version=policykb.__version__,
        model=str(embedder.name),
        model_key=embedder_key(embedder),
        model_setting=str(settings.model),
        embed_backend=backend,
        dimension=int(embedder.dimension),
        documents=len(processed),
        clauses=sum(len(p.clauses) for p in processed),
        indexed_clauses=len(searchable),
        requirements=sum(len(p.requirements) for p in processed),
        corpus_hash=corpus_hash(processed),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        dense_index=vector_index.kind,
        embed_text=EMBED_TEXT,
        tokenizer=keyword_index.tokenizer,
        packages=package_versions(),
        embed_check=embed_check_record(embedder),
    )


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


def open_index(index_root: Path, settings: Settings, embedder: Any = None) -> OpenIndex:
    """Open the current build: (store, keyword index, vector index, manifest), checked against the settings.

    `embedder` is an Embedder, a zero-argument factory of one, or None (then the settings' model is used).
    Only its name and dimension are read, which loads no model weights. Raises IndexError_ when there is no
    index, when it is damaged, or when it was built with another model.
    """
    index_root = Path(index_root)
    build = current_build(index_root)
    if build is None or not (build / MANIFEST_FILE).is_file():
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
    store = Store(build / DB_FILE)
    keyword_index = KeywordIndex.load(build / BM25_DIR)
    vector_index = VectorIndex.load(build / DENSE_FILE, nprobe=int(settings.ivf_nprobe))
    if len(vector_index) != manifest.indexed_clauses or len(keyword_index) != manifest.indexed_clauses:
        raise IndexError_(
            f"the index at {index_root} is damaged (index sizes disagree with its manifest): "
            "rebuild it with `policykb ingest`"
        )
    return OpenIndex(store, keyword_index, vector_index, manifest)
