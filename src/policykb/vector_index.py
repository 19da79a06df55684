"""Dense index over normalised clause embeddings (faiss): exact inner product while small, IVF-SQ8 above a threshold."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# faiss warns (and k-means degrades) with fewer than 39 training points per list.
MIN_POINTS_PER_LIST = 39
# Training k-means on more than this many points per list buys little and costs minutes at 1M rows.
MAX_TRAIN_POINTS_PER_LIST = 64
# Filters allowing at most this many ids are scored exactly on their stored vectors: an IVF probe would see
# only the few of them that sit in the probed lists, and a flat scan would visit every other row for nothing.
EXACT_SUBSET_MAX = 10_000
# Files larger than this are memory-mapped on load rather than copied into the heap.
MMAP_MIN_BYTES = 256 * 1024 * 1024


def _faiss() -> Any:
    import faiss

    return faiss


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    """faiss wants a C-contiguous float32 2-D array."""
    mat = np.asarray(vectors, dtype=np.float32)
    if mat.ndim == 1:
        mat = mat[None, :]
    if mat.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {mat.shape}")
    return np.ascontiguousarray(mat)


def effective_nlist(n: int, nlist: int) -> int:
    """The IVF list count actually used: the setting, capped so every list has enough training points."""
    return max(1, min(nlist, n // MIN_POINTS_PER_LIST))


class VectorIndex:
    """Inner-product search over vectors whose ids are their row numbers (the clauses' dense ids)."""

    def __init__(self, index: Any, nprobe: int | None = None) -> None:
        self._index = index
        if self.kind == "ivf-sq8":
            ivf = _faiss().extract_index_ivf(index)
            if nprobe is not None:
                ivf.nprobe = nprobe
            # `similarity` reconstructs stored vectors by id; build the id map once, not under concurrent reads.
            if not ivf.direct_map.type:
                ivf.make_direct_map()

    @property
    def kind(self) -> str:
        """`flat` (exact) or `ivf-sq8` (approximate)."""
        faiss = _faiss()
        return "ivf-sq8" if isinstance(self._index, faiss.IndexIVF) else "flat"

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def nprobe(self) -> int | None:
        if self.kind != "ivf-sq8":
            return None
        return int(_faiss().extract_index_ivf(self._index).nprobe)

    @property
    def nlist(self) -> int | None:
        if self.kind != "ivf-sq8":
            return None
        return int(_faiss().extract_index_ivf(self._index).nlist)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ann_threshold: int = 50_000,
        nlist: int = 4096,
        nprobe: int = 64,
        dimension: int | None = None,
        seed: int = 1234,
    ) -> VectorIndex:
        """Index vectors (row i gets id i): IndexFlatIP up to ann_threshold rows, IVF-SQ8 above it."""
        faiss = _faiss()
        mat = _as_matrix(vectors)
        if mat.shape[0] == 0 and dimension:
            mat = np.zeros((0, dimension), dtype=np.float32)
        n, d = mat.shape
        if d == 0:
            raise ValueError("cannot build a dense index without vectors or a dimension")
        if n <= ann_threshold:
            index = faiss.IndexFlatIP(d)
            if n:
                index.add(mat)
            return cls(index)
        # Training uses every core; a serving process may have pinned OpenMP to one thread for its queries.
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        lists = effective_nlist(n, nlist)
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, d, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        # A fixed random sample keeps builds reproducible and training time bounded.
        sample_size = min(n, lists * MAX_TRAIN_POINTS_PER_LIST)
        rng = np.random.default_rng(seed)
        sample = mat if sample_size == n else mat[np.sort(rng.choice(n, sample_size, replace=False))]
        index.cp.seed = seed
        log.info("training IVF-SQ8: %d lists on %d of %d vectors", lists, sample_size, n)
        index.train(sample)
        index.add(mat)
        return cls(index, nprobe=min(nprobe, lists))

    def save(self, path: Path) -> None:
        """Write the index to one file."""
        _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, nprobe: int | None = None, mmap: bool | None = None) -> VectorIndex:
        """Read an index file; nprobe (IVF only) overrides the stored value; large files are memory-mapped."""
        faiss = _faiss()
        path = Path(path)
        if mmap is None:
            mmap = path.stat().st_size >= MMAP_MIN_BYTES
        index = None
        if mmap:
            try:
                index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            except RuntimeError as exc:  # not every index type can be mapped
                log.info("memory-mapping %s failed (%s); reading it into memory", path, exc)
        if index is None:
            index = faiss.read_index(str(path))
        return cls(index, nprobe=nprobe)

    def _selector(self, allowed_ids: np.ndarray) -> tuple[Any, np.ndarray]:
        """A bitmap selector over allowed ids; the bitmap is returned too, since faiss only borrows it."""
        faiss = _faiss()
        mask = np.zeros(len(self), dtype=bool)
        mask[allowed_ids] = True
        bitmap = np.packbits(mask, bitorder="little")
        return faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap)), bitmap

    def search(
        self, query_vecs: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) per query row, best first; rows padded with id -1 where fewer are found.

        With a single query the search runs on one thread: a second OpenMP thread buys nothing for one
        query and makes latency erratic when the other core is busy.
        """
        faiss = _faiss()
        queries = _as_matrix(query_vecs)
        nq = queries.shape[0]
        k = min(k, len(self))
        if k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return np.full((nq, 0), -1, dtype=np.int64), np.zeros((nq, 0), dtype=np.float32)
        if allowed_ids is not None and len(allowed_ids) <= EXACT_SUBSET_MAX:
            return self._search_subset(queries, k, np.asarray(allowed_ids, dtype=np.int64))
        if nq == 1:
            faiss.omp_set_num_threads(1)
        params = None
        bitmap = None
        if allowed_ids is not None:
            selector, bitmap = self._selector(np.asarray(allowed_ids, dtype=np.int64))
            if self.kind == "ivf-sq8":
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(queries, k, params=params)
        del bitmap  # only now may the selector's bitmap go
        return ids.astype(np.int64), scores.astype(np.float32)

    def _search_subset(
        self, queries: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k among a few allowed ids, scored on their stored vectors; ties go to the lower id."""
        allowed = np.unique(allowed)
        scores = queries @ self._index.reconstruct_batch(allowed).T  # (nq, len(allowed))
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        out = np.full((len(queries), k), -np.finfo(np.float32).max, dtype=np.float32)
        for row in range(len(queries)):
            order = np.lexsort((allowed, -scores[row]))[:k]
            ids[row, : len(order)] = allowed[order]
            out[row, : len(order)] = scores[row, order]
        return ids, out

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Inner product of one query with the stored vectors of ids (exact for flat, SQ8-decoded for IVF)."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return np.zeros(0, dtype=np.float32)
        stored = self._index.reconstruct_batch(ids)
        return (stored @ _as_matrix(query_vec)[0]).astype(np.float32)
