"""The refine file of a cached synthetic build (bench/synthbuild.py), written if missing.

The service saves an IVF index with its exact vectors beside it (`VectorIndex.save`: dense.refine.npy, float32)
and re-scores the IVF's candidates on them. A synthetic build gets the same file from its plan: the normalised
mixture of each row's two pool vectors, computed chunk by chunk into a memory-mapped .npy under a temporary name
and renamed when complete. This is a step of its own, not part of synthbuild's cache key (which hashes
synthbuild.py), so that adding it to a build cached by an earlier version costs only the file, not minutes of
rebuilding the BM25, IVF and store.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

CHUNK = 100_000  # rows mixed at a time: 100k x 384 float32 is 150 MB


def ensure_refine(folder: Path, vecs: np.ndarray, dtype: Any = None) -> dict[str, Any]:
    """Write folder/dense.refine.npy for an IVF build if it is missing (or of another dtype); say what was done and how
    long it took."""
    import json

    from synthbuild import mixed

    from policykb.vector_index import REFINE_DTYPE, refine_path

    target = refine_path(folder / "dense.faiss")
    if target.is_file() and np.load(target, mmap_mode="r").dtype == np.dtype(dtype or REFINE_DTYPE):
        return {"refine": "reused"}
    record = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    if record["dense"]["kind"] != "ivf-sq8":
        return {"refine": "none (flat is exact)"}
    plan = np.load(folder / "plan.npz")
    a, b, alpha = plan["a"], plan["b"], plan["alpha"]
    n, d = len(a), vecs.shape[1]
    started = time.perf_counter()
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype or REFINE_DTYPE, shape=(n, d))
        for s in range(0, n, CHUNK):
            sl = slice(s, min(n, s + CHUNK))
            out[sl] = mixed(vecs, a[sl], b[sl], alpha[sl])
        out.flush()
        del out
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"refine": "written", "refine_s": round(time.perf_counter() - started, 1),
            "refine_mb": round(target.stat().st_size / 2**20)}
