"""Embed clauses and queries: sentence-transformers (torch or ONNX int8), a hashing stub, and a vector cache."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from policykb.errors import PolicyKBError
from policykb.query import fold

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx-int8")
HASH_MODEL = "hash"
DEFAULT_MAX_SEQ_LENGTH = 512


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into float32, L2-normalised rows; queries and passages may use different prompts."""

    name: str
    backend: str

    @property
    def dimension(self) -> int: ...

    @property
    def key(self) -> str:
        """Identifies the vectors this embedder makes (model, backend, weights), for caches and manifests."""
        ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


def fold_for_embedding(text: str) -> str:
    """NFKC, then traditional to simplified Chinese, so both scripts of a text embed alike."""
    return fold(text)


def l2_normalise(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as float32."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0).astype(np.float32)


def length_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index batches over `texts`, longest first, so each batch pads to similar lengths."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _progress_bar(total: int, enabled: bool, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="clause")


class HashEmbedder:
    """Deterministic character uni/bigram hashing embedder for tests: no model, instant, script-folded."""

    backend = "hash"

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension
        self.name = f"hash-{dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def key(self) -> str:
        return f"{self.name}@{self.backend}"

    def _vector(self, text: str) -> np.ndarray:
        chars = [c for c in fold_for_embedding(text) if not c.isspace()]
        grams = chars + [a + b for a, b in zip(chars, chars[1:], strict=False)]
        vec = np.zeros(self._dimension, np.float32)
        for gram in grams:
            h = zlib.crc32(gram.encode("utf-8"))
            # The top bit picks a sign so unrelated grams cancel instead of piling up.
            vec[h % self._dimension] += 1.0 if h & 0x80000000 else -1.0
        return vec

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return l2_normalise(np.stack([self._vector(t) for t in texts])) if texts else self._empty()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_passages(texts)

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self._dimension), np.float32)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def folder_fingerprint(model_path: Path) -> str:
    """A short hash that changes when the folder's weights change, without reading the weights."""
    marker = _read_json(model_path / ".policykb-install.json")
    if isinstance(marker, dict) and "sha256" in marker:
        basis = f"{marker['sha256']}:{marker.get('converter')}"
    else:
        weights = sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin"))
        basis = ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in weights)
    return hashlib.sha256(basis.encode()).hexdigest()[:12]


def folder_prompts(model_path: Path) -> tuple[str, str]:
    """(query prompt, passage prompt) declared by a sentence-transformers folder; empty when it has none."""
    config = _read_json(model_path / "config_sentence_transformers.json") or {}
    prompts = config.get("prompts") or {}
    return prompts.get("query", ""), prompts.get("passage", prompts.get("document", ""))


def folder_max_seq_length(model_path: Path) -> int:
    """Token limit of a sentence-transformers folder, from its configs."""
    for name, key in (
        ("sentence_bert_config.json", "max_seq_length"),
        ("tokenizer_config.json", "model_max_length"),
    ):
        value = (_read_json(model_path / name) or {}).get(key)
        if isinstance(value, int) and 0 < value <= 100_000:
            return value
    return DEFAULT_MAX_SEQ_LENGTH


def folder_pooling(model_path: Path) -> str:
    """'mean' or 'cls': the pooling declared in the folder's Pooling module (mean when unspecified)."""
    modules = _read_json(model_path / "modules.json") or []
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            config = _read_json(model_path / module.get("path", "") / "config.json") or {}
            mode = config.get("pooling_mode")
            if mode in ("mean", "cls") or config.get("pooling_mode_mean_tokens"):
                return mode or "mean"
            if config.get("pooling_mode_cls_token"):
                return "cls"
            raise PolicyKBError(f"{model_path}: pooling {config} is not supported (mean or cls only)")
    return "mean"


def folder_dimension(model_path: Path) -> int | None:
    """Embedding size from the folder's configs, or None when they do not say."""
    for module_path in ("1_Pooling",):
        config = _read_json(model_path / module_path / "config.json") or {}
        for key in ("word_embedding_dimension", "embedding_dimension"):
            if isinstance(config.get(key), int):
                return int(config[key])
    hidden = (_read_json(model_path / "config.json") or {}).get("hidden_size")
    return int(hidden) if isinstance(hidden, int) else None


class _TorchEncoder:
    """sentence-transformers on torch; texts arrive with their prompt already prepended."""

    def __init__(self, model_path: Path, threads: int, max_seq_length: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        torch.set_num_threads(threads)
        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI
        try:
            self.model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        finally:
            hf_logging.enable_progress_bar()
        self.model.max_seq_length = max_seq_length
        get_dimension = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension() or 0)

    def __call__(self, texts: list[str]) -> np.ndarray:
        rows = self.model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(rows, dtype=np.float32)


def onnx_session_options(threads: int) -> Any:
    """ONNX Runtime options for the int8 encoder: all graph fusions, one sequential stream, `threads` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Session-time fusions (Gelu, LayerNorm, DynamicQuantizeMatMul with its bias) are where int8 pays off.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return options


def _optimized_path(onnx_path: Path) -> Path:
    """Where this machine's fused copy of an ONNX export lives: per CPU, ONNX Runtime version and export."""
    import onnxruntime as ort

    from policykb.int8check import cpu_signature

    stat = onnx_path.stat()
    basis = f"{cpu_signature()}|{ort.__version__}|{stat.st_size}|{stat.st_mtime_ns}"
    return onnx_path.with_name(f"{onnx_path.stem}.fused-{hashlib.sha256(basis.encode()).hexdigest()[:12]}.onnx")


def onnx_session(onnx_path: Path, threads: int) -> Any:
    """An inference session over the export, from the graph ONNX Runtime fused for this CPU when one is saved.

    Fusing the graph at every start costs a third of the session's creation (a second of a cold CLI query on a
    busy machine), so the first session saves the fused graph beside the export and later ones load it with the
    optimisations already applied (identical outputs). The fused graph may hold kernels chosen for this CPU,
    hence one file per CPU signature.
    """
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    fused = _optimized_path(onnx_path)
    if fused.is_file():
        options = onnx_session_options(threads)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(fused), options, providers=providers)
        except Exception as exc:  # a damaged file: fuse again from the export
            log.info("not using the fused ONNX graph %s: %s", fused, exc)
    options = onnx_session_options(threads)
    tmp = fused.with_name(f".{fused.name}.{os.getpid()}.tmp")
    options.optimized_model_filepath = str(tmp)
    options.log_severity_level = 3  # its warning that the saved graph is for this hardware is the point here
    try:
        session = ort.InferenceSession(str(onnx_path), options, providers=providers)
    finally:
        try:
            if tmp.is_file():
                os.replace(tmp, fused)
        except OSError as exc:
            log.info("could not keep the fused ONNX graph %s: %s", fused, exc)
            tmp.unlink(missing_ok=True)
    return session


class _WordRows:
    """The int8 vocabulary table of the export, memory-mapped: a text touches only its own tokens' rows."""

    def __init__(self, path: Path, scale: float, zero_point: int) -> None:
        self.table = np.load(path, mmap_mode="r")
        self.scale = np.float32(scale)
        self.zero_point = int(zero_point)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """float32 rows of `ids`, dequantised exactly as the export's DequantizeLinear does ((q - zero) * scale)."""
        return (self.table[ids].astype(np.int32) - self.zero_point).astype(np.float32) * self.scale


_SINGLE_TEXT_PARTS: dict[tuple[str, int], tuple[Any, _WordRows]] = {}
_SINGLE_TEXT_LOCK = threading.Lock()


def single_text_parts(model_path: Path, threads: int) -> tuple[Any, _WordRows | None]:
    """(session, word rows) of the folder's single-text graph, one per process and thread count (a session is
    safe to run from many threads); (None, None) when it cannot be had here, and then single texts run the
    batch graph, which gives the same vectors."""
    from policykb.modelconvert import SINGLE_TEXT_MARKER_FILE, WORD_ROWS_FILE, export_single_text

    key = (str(Path(model_path).resolve()), int(threads))
    with _SINGLE_TEXT_LOCK:  # a prefetch under way (prefetch_query_encoder) is waited for, not repeated
        if key in _SINGLE_TEXT_PARTS:
            return _SINGLE_TEXT_PARTS[key]
        try:
            graph = export_single_text(model_path)
            table = (_read_json(model_path / SINGLE_TEXT_MARKER_FILE) or {})["table"]
            rows = _WordRows(model_path / WORD_ROWS_FILE, float(table["scale"]), int(table["zero_point"]))
            parts = (onnx_session(graph, threads), rows)
        except Exception as exc:  # not remembered: a later encoder tries again
            log.info("no single-text graph for %s (%s): single texts run the batch graph", model_path.name, exc)
            return None, None
        _SINGLE_TEXT_PARTS[key] = parts
        return parts


def prefetch_query_encoder(settings: Any) -> threading.Thread | None:
    """Start loading the single-text session in a background thread (None when the settings do not use it).

    A one-shot CLI query then creates the session (ONNX Runtime releases the GIL while it loads) while the main
    thread imports the index libraries and opens the indexes: on two cores the two overlap."""
    if str(settings.model) == HASH_MODEL or str(settings.embed_backend) != "onnx-int8":
        return None
    path = Path(settings.model_path)
    if not (path / "onnx").is_dir():
        return None  # never exported here: the first real use exports it, in the foreground, with its messages

    threads = query_threads(int(getattr(settings, "query_threads", 0)), in_flight=0)

    def load() -> None:
        try:
            single_text_parts(path, threads)
        except Exception as exc:  # the foreground load reports any real problem
            log.info("prefetching the query encoder failed: %s", exc)

    thread = threading.Thread(target=load, name="policykb-prefetch-encoder", daemon=True)
    thread.start()
    return thread


def idle_cores() -> float:
    """Cores of this process's CPU set not taken by runnable work (the 1-minute load average), at least 0."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 0.0
    return max(0.0, cores - load)


_BESIDE_OTHER_WORK = threading.local()


@contextlib.contextmanager
def beside_other_work() -> Iterator[None]:
    """Queries embedded by this thread inside the block take one thread (unless the setting fixes a number): the
    caller keeps the other core busy meanwhile (search runs BM25 beside the query's embedding)."""
    before = getattr(_BESIDE_OTHER_WORK, "active", False)
    _BESIDE_OTHER_WORK.active = True
    try:
        yield
    finally:
        _BESIDE_OTHER_WORK.active = before


def query_threads(configured: int, in_flight: int) -> int:
    """Threads for one query's embedding. One query's matrix products split well over two cores (about half the
    wall time when both are free) but two threads fight any other work for them (worse than one under a loaded
    server), so two only when no other query of this process is being embedded, the calling thread is not running
    beside other work of its own (`beside_other_work`) and the machine has at least half a core idle (a process
    querying in a loop keeps the 1-minute load near 1 itself: on 2 cores it must still count)."""
    if configured > 0:
        return configured
    if getattr(_BESIDE_OTHER_WORK, "active", False):
        return 1
    return 2 if in_flight == 0 and idle_cores() >= 0.5 else 1


class _OnnxEncoder:
    """ONNX Runtime over the folder's int8 encoder, with the folder's tokenizer and pooling.

    One text (a query) runs the single-text graph over its word rows, looked up in numpy (modelconvert's
    `export_single_text`): a fifth of the batch graph to load and no packing ops to run. Batches (ingest) run
    the batch export, loaded on the first batch, so a one-shot query never maps its 119 MB.
    """

    def __init__(self, model_path: Path, threads: int, max_seq_length: int, query_thread_setting: int = 1) -> None:

        from policykb.modelconvert import export_onnx_int8
        from policykb.query_tokenizer import query_tokenizer

        self.onnx_path = export_onnx_int8(model_path)
        self.model_path, self.max_seq_length, self.threads = model_path, max_seq_length, threads
        self._tokenizer: Any = None
        self._batch_session: Any = None
        self._batch_lock = threading.Lock()
        # One text (a query) is tokenised from the vocabulary file: loading tokenizer.json takes 1.5 s or more.
        self.single_text_tokenizer = query_tokenizer(model_path, max_seq_length)
        self.pooling = folder_pooling(model_path)
        self.configured_query_threads = query_thread_setting
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        first = query_threads(query_thread_setting, in_flight=0)
        self.single_session, self.word_rows = self._single_text_parts(model_path, first)
        self.single_sessions: dict[int, Any] = {first: self.single_session} if self.single_session is not None else {}
        session = self.single_session if self.single_session is not None else self.session
        self.dimension = int(session.get_outputs()[0].shape[-1])

    @staticmethod
    def _single_text_parts(model_path: Path, threads: int) -> tuple[Any, _WordRows | None]:
        """(session, word rows) of the single-text graph, made once; (None, None) when it cannot be had here."""
        return single_text_parts(model_path, threads)

    def _query_session(self, in_flight: int) -> Any:
        """The single-text session with the thread count this query should use; one not made yet is made in the
        background for the next query (the same vectors either way), this one runs on a session already made."""
        threads = query_threads(self.configured_query_threads, in_flight)
        session = self.single_sessions.get(threads)
        if session is not None:
            return session
        self.single_sessions[threads] = self.single_session  # until the background load replaces it

        def load() -> None:
            made, _ = single_text_parts(self.model_path, threads)
            if made is not None:
                self.single_sessions[threads] = made

        threading.Thread(target=load, name=f"policykb-query-session-{threads}", daemon=True).start()
        return self.single_session

    @property
    def session(self) -> Any:
        """The batch graph's session (loaded on first use)."""
        if self._batch_session is None:
            with self._batch_lock:
                if self._batch_session is None:
                    self._batch_session = onnx_session(self.onnx_path, self.threads)
        return self._batch_session

    @property
    def tokenizer(self) -> Any:
        """The folder's full tokenizer, padded and truncated (loaded on first use: batches of passages)."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=self.max_seq_length)
            pad_token = self._pad_token(self.model_path)
            pad_id = tokenizer.token_to_id(pad_token)
            tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0, pad_token=pad_token)
            self._tokenizer = tokenizer
        return self._tokenizer

    def token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input ids, attention mask) of a batch, padded to its longest text."""
        fast = self.single_text_tokenizer
        # Once the full tokenizer is loaded (a server, an ingest) it is the faster of the two.
        if self._tokenizer is None and len(texts) == 1 and fast is not None and fast.handles(texts[0]) and len(texts[0]) <= 2000:
            ids = np.array([fast.encode(texts[0])], dtype=np.int64)
            return ids, np.ones_like(ids)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask

    @staticmethod
    def _pad_token(model_path: Path) -> str:
        pad = (_read_json(model_path / "tokenizer_config.json") or {}).get("pad_token", "<pad>")
        return str(pad.get("content", "<pad>")) if isinstance(pad, dict) else str(pad)

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask[..., None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

    def __call__(self, texts: list[str]) -> np.ndarray:
        ids, mask = self.token_ids(texts)
        if len(texts) == 1 and self.single_session is not None and self.word_rows is not None:
            with self._in_flight_lock:
                session = self._query_session(self._in_flight)
                self._in_flight += 1
            try:
                hidden = session.run(None, {"word_rows": self.word_rows(ids[0])})[0]
            finally:
                with self._in_flight_lock:
                    self._in_flight -= 1
            return l2_normalise(self._pool(hidden[None], mask))
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return l2_normalise(self._pool(hidden, mask))


class SentenceTransformerEmbedder:
    """A local sentence-transformers folder, run by torch (fp32) or ONNX Runtime (int8); loads on first use."""

    def __init__(
        self, model_path: Path, backend: str = "torch", batch_size: int = 32, threads: int = 1,
        query_threads: int = 0,
    ) -> None:
        if backend not in BACKENDS:
            raise PolicyKBError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.model_path = Path(model_path)
        self.name = self.model_path.name
        self.backend = backend
        self.batch_size = max(1, int(batch_size))
        self.threads = max(1, int(threads))
        self.query_threads = max(0, int(query_threads))
        self.query_prompt, self.passage_prompt = folder_prompts(self.model_path)
        self.max_seq_length = folder_max_seq_length(self.model_path)
        self._encoder: Callable[[list[str]], np.ndarray] | None = None
        self._dimension = folder_dimension(self.model_path)
        self.fallback_reason = ""  # why an int8 request runs on fp32 here (empty: it does not)
        self.int8_check: Any = None

    @property
    def key(self) -> str:
        key = f"{self.name}@{self.backend}#{folder_fingerprint(self.model_path)}"
        if self.backend == "onnx-int8":
            from policykb.modelconvert import ONNX_EXPORT_VERSION

            key += f"/x{ONNX_EXPORT_VERSION}"  # a new export makes other vectors: never mix them in one cache
        return key

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self.warm_up()
        assert self._dimension is not None
        return self._dimension

    def warm_up(self) -> None:
        """Load the model (and on the ONNX backend export it once) if not loaded yet."""
        if self._encoder is not None:
            return
        if not self.model_path.is_dir():
            raise PolicyKBError(missing_model_message(self.model_path))
        encoder: Any
        if self.backend == "onnx-int8":
            encoder = _OnnxEncoder(self.model_path, self.threads, self.max_seq_length, self.query_threads)
            verdict = self._check_int8(encoder)
            if not verdict.ok:
                log.warning(
                    "int8 embedding on this CPU (%s) is too far from the fp32 reference (%s): using torch fp32",
                    verdict.cpu, verdict.reason,
                )
                self.backend = "torch"
                self.fallback_reason = f"int8 self-check failed on {verdict.cpu}: {verdict.reason}"
                encoder = _TorchEncoder(self.model_path, self.threads, self.max_seq_length)
        else:
            encoder = _TorchEncoder(self.model_path, self.threads, self.max_seq_length)
        self._dimension = encoder.dimension
        self._encoder = encoder

    def load_tokenizer(self) -> None:
        """Load the full tokenizer now (a long-running process: it tokenises a query faster than the vocabulary file)."""
        self.warm_up()
        encoder = self._encoder
        if isinstance(encoder, _OnnxEncoder):
            encoder.tokenizer  # noqa: B018 - loads it

    def _check_int8(self, encoder: Callable[[list[str]], np.ndarray]) -> Any:
        from policykb.int8check import check_int8

        self.int8_check = check_int8(self.model_path, encoder, (self.query_prompt, self.passage_prompt))
        return self.int8_check

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        self.warm_up()
        assert self._encoder is not None
        out = np.zeros((len(texts), self.dimension), np.float32)
        if not progress:  # no bar, and no tqdm import (a tenth of a second of a cold query)
            for batch in length_batches(texts, self.batch_size):
                out[batch] = self._encoder([prompt + texts[i] for i in batch])
            return out
        with _progress_bar(len(texts), progress, "计算向量") as bar:
            for batch in length_batches(texts, self.batch_size):
                out[batch] = self._encoder([prompt + texts[i] for i in batch])
                bar.update(len(batch))
        return out

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.passage_prompt, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prompt, False)


class EmbeddingCache:
    """SQLite file of passage vectors keyed by sha256(model key, prompt, text): unchanged text is never re-embedded."""

    def __init__(self, path: Path, model_key: str) -> None:
        self.path = Path(path)
        self.model_key = model_key
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB) WITHOUT ROWID"
            )
        return self._db

    def text_key(self, text: str, prompt: str = "") -> bytes:
        """The cache key of one text under this model and prompt."""
        return hashlib.sha256(f"{self.model_key}\x00{prompt}{text}".encode()).digest()

    def get_many(self, texts: Sequence[str], prompt: str = "") -> dict[int, np.ndarray]:
        """Vectors already cached, by position in `texts`."""
        keys = [self.text_key(t, prompt) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        db = self._conn()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
            chunk = unique[start : start + 500]
            rows = db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put_many(self, texts: Sequence[str], vectors: np.ndarray, prompt: str = "") -> None:
        """Store one vector per text (replacing any old one)."""
        rows = np.asarray(vectors, dtype=np.float32)
        if len(rows) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(rows)} vectors")
        db = self._conn()
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                ((self.text_key(t, prompt), row.tobytes()) for t, row in zip(texts, rows, strict=True)),
            )

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CACHE_COMMIT_EVERY = 256  # texts embedded between two commits of the embedding cache


def cached_encode_passages(
    embedder: Embedder, texts: list[str], cache: EmbeddingCache | None, progress: bool = False
) -> np.ndarray:
    """Passage vectors for `texts`, encoding only those (distinct) texts the cache does not hold.

    The cache should be keyed by `embedder.key`, so vectors of another model or backend never mix in.
    """
    if cache is None:
        return embedder.encode_passages(texts, progress=progress)
    prompt = str(getattr(embedder, "passage_prompt", ""))
    out = np.zeros((len(texts), embedder.dimension), np.float32)
    hits = cache.get_many(texts, prompt)
    for i, vector in hits.items():
        out[i] = vector
    misses = list(dict.fromkeys(t for i, t in enumerate(texts) if i not in hits))
    if misses:
        # Committed a batch at a time, so an ingest killed mid-way resumes with the vectors it had made.
        by_text: dict[str, np.ndarray] = {}
        batches = range(0, len(misses), CACHE_COMMIT_EVERY)
        if progress and len(misses) > CACHE_COMMIT_EVERY:
            from tqdm import tqdm

            batches = tqdm(batches, desc="计算向量", unit="批")  # type: ignore[assignment]
            progress = False
        for start in batches:
            chunk = misses[start : start + CACHE_COMMIT_EVERY]
            vectors = embedder.encode_passages(chunk, progress=progress)
            cache.put_many(chunk, vectors, prompt)
            by_text.update(zip(chunk, vectors, strict=True))
        for i, text in enumerate(texts):
            if i not in hits:
                out[i] = by_text[text]
    log.info("embedded %d texts, %d from cache", len(misses), len(hits))
    return out


def missing_model_message(path: Path) -> str:
    """The error shown when a model folder does not exist."""
    return f"model folder {path} not found: run `policykb models install` (or `make install`)"


def load_embedder(settings: Any) -> Embedder:
    """The embedder the settings ask for (model `hash` gives the test stub); nothing loads until first use."""
    if str(settings.model) == HASH_MODEL:
        return HashEmbedder()
    path = Path(settings.model_path)
    if not path.is_dir():
        raise PolicyKBError(missing_model_message(path))
    return SentenceTransformerEmbedder(
        path,
        backend=str(settings.embed_backend),
        batch_size=int(settings.embed_batch_size),
        threads=int(settings.torch_threads),
        query_threads=int(getattr(settings, "query_threads", 0)),
    )
