"""Move every cosine a search sees by a bounded amount, as another CPU's kernels would.

ONNX Runtime rounds and saturates differently on AVX2, AVX-512 and VNNI CPUs, so the same int8 index gives
cosines that differ in the third decimal. The torch fp32 backend differs between CPUs only by float rounding:
its AVX-512, AVX2 and SSE kernels (ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA) gave cosines
within 3e-7 of each other on this project's machines (tests/test_embed.py checks the bound on every machine). `perturbed_cosines` patches the vector index so that each clause's cosine
with any query moves by `shift + amplitude · u(seed, clause)`, u uniform in [-1, 1]: a systematic part (every
score up or down) and a per-clause part (near-ties swap). Rankings are recomputed on the moved scores.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import numpy as np

from policykb.settings import Settings
from policykb.vector_index import VectorIndex

# How far one CPU's cosine may be from another's, per embedding backend. int8 against the fp32 reference moves a
# cosine by at most 0.01 on the seed corpus (tests/test_embed.py measures it on every machine), and other CPUs'
# int8 kernels differ from each other by less. fp32 kernels differ by rounding (3e-7 measured); 1e-4 leaves a
# margin of more than 300x.
CROSS_CPU_COSINE_BY_BACKEND = {"onnx-int8": 0.01, "torch": 1e-4}
CROSS_CPU_FP32_KERNELS = 1e-4


def cross_cpu_cosine(backend: str) -> float:
    """The perturbation the tests apply for `backend` (an unknown backend gets int8's, the larger)."""
    return CROSS_CPU_COSINE_BY_BACKEND.get(backend, CROSS_CPU_COSINE_BY_BACKEND["onnx-int8"])


# The backend the real-model tests run on (POLICYKB_EMBED_BACKEND, else the default).
CROSS_CPU_COSINE = cross_cpu_cosine(Settings.load().embed_backend)


def _noise(ids: np.ndarray, seed: int, amplitude: float, shift: float) -> np.ndarray:
    def unit(rowid: int) -> float:
        digest = hashlib.blake2b(f"{seed}:{rowid}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") / 2**64 * 2.0 - 1.0

    return np.array([shift + amplitude * unit(int(i)) for i in ids.tolist()], dtype=np.float32)


@contextlib.contextmanager
def perturbed_cosines(seed: int, amplitude: float = CROSS_CPU_COSINE, shift: float = 0.0) -> Iterator[None]:
    """Within the block, every VectorIndex search and similarity sees cosines moved as described above."""
    original_search = VectorIndex.search
    original_similarity = VectorIndex.similarity

    def search(self: VectorIndex, query_vecs: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):  # type: ignore[no-untyped-def]
        # Look deeper than asked, so that a clause just below the cut can move into it.
        ids, scores = original_search(self, query_vecs, max(2 * k, k + 50), allowed_ids)
        out_ids = np.full((ids.shape[0], min(k, ids.shape[1])), -1, dtype=np.int64)
        out_scores = np.zeros(out_ids.shape, dtype=np.float32)
        for row in range(ids.shape[0]):
            valid = ids[row] >= 0
            rid, sc = ids[row][valid], scores[row][valid] + _noise(ids[row][valid], seed, amplitude, shift)
            order = np.lexsort((rid, -sc))[: out_ids.shape[1]]
            out_ids[row, : len(order)] = rid[order]
            out_scores[row, : len(order)] = sc[order]
        return out_ids, out_scores

    def similarity(self: VectorIndex, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        return original_similarity(self, query_vec, ids) + _noise(ids, seed, amplitude, shift)

    VectorIndex.search = search  # type: ignore[method-assign]
    VectorIndex.similarity = similarity  # type: ignore[method-assign]
    try:
        yield
    finally:
        VectorIndex.search = original_search  # type: ignore[method-assign]
        VectorIndex.similarity = original_similarity  # type: ignore[method-assign]
