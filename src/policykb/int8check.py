"""Is this CPU's int8 embedding close enough to the fp32 reference? Checked once per machine, remembered.

ONNX Runtime picks its int8 kernels by CPU (AVX2, AVX-512, VNNI), and they round and saturate differently, so
the int8 vectors of one text differ slightly from machine to machine. Measured on the seed corpus (AVX2), int8
against torch fp32: passage cosine ≥ 0.993, query cosine ≥ 0.995, query–clause scores within 0.019 (p99 0.010),
top-10 overlap 0.84 on average. A CPU whose kernels misbehave would show far larger gaps: then the embedder
falls back to fp32 (torch) and says so in the log and in the index manifest, rather than silently giving other
answers.

The reference vectors are made by torch fp32 (CPU-independent to ~1e-6) when `policykb models install --onnx`
runs, or on the first check if they are missing; the verdict is cached per CPU signature, ONNX Runtime version
and export version in `onnx/int8_check.json`, so later processes pay nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Bounds an int8 path must meet against fp32 on the probe texts. The measured values (module docstring) sit well
# inside them; a broken kernel (saturation, wrong rounding) drops cosines far below.
MIN_COSINE = 0.98
MIN_TOP10_AGREEMENT = 0.6
REFERENCE_FILE = "onnx/fp32_reference.npz"
CHECK_FILE = "onnx/int8_check.json"
CPU_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8")

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Int8Check:
    """The verdict for one machine: the measured agreement and whether int8 may be used."""

    ok: bool
    min_cosine: float
    top10_agreement: float
    cpu: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe_texts() -> tuple[list[str], list[str]]:
    """The shipped probe: (queries, passages), real clauses and benchmark queries."""
    raw = resources.files("policykb").joinpath("data/int8_probe.txt").read_text(encoding="utf-8")
    queries, passages = [], []
    for line in raw.splitlines():
        if line.startswith("q "):
            queries.append(line[2:])
        elif line.startswith("p "):
            passages.append(line[2:])
    return queries, passages


@functools.cache
def cpu_signature() -> str:
    """The CPU model and the instruction-set flags that decide which int8 kernels ONNX Runtime uses."""
    # platform.processor() runs `uname -p` in a subprocess (60 ms of a cold query): only asked when
    # /proc/cpuinfo names no model.
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name") and ":" in line:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and ":" in line:
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    present = [f for f in CPU_FLAGS if f in flags]
    return f"{model} [{' '.join(present) or 'no avx2'}]"


def _versions() -> str:
    try:
        import onnxruntime

        ort = str(onnxruntime.__version__)
    except ImportError:  # pragma: no cover - onnxruntime is a dependency
        ort = "none"
    from policykb.modelconvert import ONNX_EXPORT_VERSION

    return f"onnxruntime {ort}, export {ONNX_EXPORT_VERSION}"


def _probe_hash(queries: list[str], passages: list[str]) -> str:
    return hashlib.sha256("\n".join(["q", *queries, "p", *passages]).encode()).hexdigest()[:16]


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:6]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only model folder: the check still runs, it is just not remembered
        log.info("cannot save %s (%s)", path.name, exc.strerror)
    finally:
        tmp.unlink(missing_ok=True)


def _embed_pair(encode: Encode, queries: list[str], passages: list[str], prompts: tuple[str, str]) -> np.ndarray:
    query_prompt, passage_prompt = prompts
    return np.vstack([encode([query_prompt + q for q in queries]), encode([passage_prompt + p for p in passages])])


def reference_vectors(model_dir: Path, prompts: tuple[str, str], fp32: Encode | None = None) -> np.ndarray:
    """fp32 vectors of the probe (queries first), read from the model folder or made now by torch."""
    queries, passages = probe_texts()
    digest = _probe_hash(queries, passages)
    path = Path(model_dir) / REFERENCE_FILE
    if path.exists():
        try:
            with np.load(path) as data:
                if str(data["probe"]) == digest:
                    return np.asarray(data["vectors"], dtype=np.float32)
        except (OSError, KeyError, ValueError):
            log.info("fp32 reference in %s unreadable: making it again", path.parent.name)
    if fp32 is None:
        from policykb.embed import _TorchEncoder, folder_max_seq_length

        fp32 = _TorchEncoder(Path(model_dir), 1, folder_max_seq_length(Path(model_dir)))
    vectors = _embed_pair(fp32, queries, passages, prompts).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, probe=np.array(digest), vectors=vectors)

    _write_atomic(path, write)
    return vectors


def agreement(int8: np.ndarray, fp32: np.ndarray, n_queries: int) -> tuple[float, float]:
    """(lowest cosine between a text's two vectors, mean top-10 overlap of the queries' passage rankings)."""
    cosines = np.sum(int8 * fp32, axis=1) / np.maximum(
        np.linalg.norm(int8, axis=1) * np.linalg.norm(fp32, axis=1), 1e-12
    )
    q8, p8, q32, p32 = int8[:n_queries], int8[n_queries:], fp32[:n_queries], fp32[n_queries:]
    k = min(10, len(p8))
    overlaps = []
    for a, b in zip(q8 @ p8.T, q32 @ p32.T, strict=True):
        overlaps.append(len(set(np.argsort(-a)[:k].tolist()) & set(np.argsort(-b)[:k].tolist())) / k)
    return float(cosines.min()), float(np.mean(overlaps)) if overlaps else 1.0


def judge(min_cosine: float, top10: float, cpu: str) -> Int8Check:
    """The verdict from measured agreement against the bounds."""
    problems = []
    if min_cosine < MIN_COSINE:
        problems.append(f"lowest cosine with fp32 {min_cosine:.4f} < {MIN_COSINE}")
    if top10 < MIN_TOP10_AGREEMENT:
        problems.append(f"top-10 agreement with fp32 {top10:.2f} < {MIN_TOP10_AGREEMENT}")
    return Int8Check(not problems, round(min_cosine, 4), round(top10, 3), cpu, "; ".join(problems))


def check_int8(
    model_dir: Path, int8: Encode, prompts: tuple[str, str], fp32: Encode | None = None, use_cache: bool = True
) -> Int8Check:
    """Measure the int8 encoder against the fp32 reference on the probe, once per machine (cached verdict)."""
    model_dir = Path(model_dir)
    cpu = cpu_signature()
    context = {"cpu": cpu, "versions": _versions(), "probe": _probe_hash(*probe_texts())}
    cache_path = model_dir / CHECK_FILE
    if use_cache and cache_path.exists():
        try:
            cached = json.loads(cache_path.read_text(encoding="utf-8"))
            if cached.get("context") == context:
                return Int8Check(**cached["verdict"])
        except (OSError, ValueError, TypeError, KeyError):
            pass
    queries, passages = probe_texts()
    reference = reference_vectors(model_dir, prompts, fp32)
    measured = _embed_pair(int8, queries, passages, prompts)
    verdict = judge(*agreement(measured, reference, len(queries)), cpu)
    payload = json.dumps({"context": context, "verdict": verdict.to_dict()}, ensure_ascii=False, indent=1)
    def write(tmp: Path) -> None:
        tmp.write_text(payload, encoding="utf-8")

    _write_atomic(cache_path, write)
    return verdict
