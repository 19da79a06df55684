"""Dense index over normalised clause embeddings (faiss): exact inner product while small, IVF-SQ8 above a threshold.

An IVF-SQ8 index is saved with a refine file beside it (`dense.refine.npy`: the normalised vectors in float32, one
row per id): searches take the IVF's top k x refine_factor and re-score them on those vectors, as faiss's
IndexRefineFlat does, but the vectors are memory-mapped, so only the rows re-scored are ever read. SQ8's rounding
(about 1/255 of each component's range) reorders near-ties; so does float16's (about 1/2048 relative) on the
1M-row benchmark, where the 10th and 11th best cosines are a median 4e-5 apart: there float16 kept 0.985 of the
exact dense top 10, float32 all of it. An index saved without the file (by an older version) answers from the
SQ8 codes alone; a float16 file is read as well.
"""

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
# Files larger than this are memory-mapped on load rather than copied into the heap. Below it the copy pays: an IVF
# probe over a mapped file cost 1.4-1.9x the CPU of the same probe over the heap copy (1M rows, 400 MB, page cache
# warm, this AVX2 machine: 4.3-5.1 against 2.7-3.1 ms), for a load of a few tenths of a second; a 10M index (4 GB)
# stays mapped, within the 8 GB memory target.
MMAP_MIN_BYTES = 1024 * 1024 * 1024
REFINE_SUFFIX = ".refine.npy"
# float32: float16 (half the disk) still reordered near-ties on the 1M benchmark (dense top-10 recall 0.985).
REFINE_DTYPE = np.float32
DEFAULT_REFINE_FACTOR = 2
_missing_refine_logged = False


def refine_path(index_path: Path) -> Path:
    """The refine vectors saved beside an index file: dense.faiss -> dense.refine.npy."""
    index_path = Path(index_path)
    return index_path.with_name(index_path.stem + REFINE_SUFFIX)


def _load_refine(path: Path, rows: int, dimension: int) -> np.ndarray | None:
    """The memory-mapped refine vectors at path, or None (logged once per process) when missing or unusable."""
    global _missing_refine_logged
    reason = None
    vectors = None
    if not path.is_file():
        reason = "missing (an index saved by an older version)"
    else:
        try:
            vectors = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            reason = f"unreadable ({exc})"
        else:
            if vectors.dtype not in (np.float16, np.float32) or vectors.shape != (rows, dimension):
                reason = f"holds {vectors.dtype} {vectors.shape}, the index {rows} x {dimension}"
                vectors = None
    if reason is not None and not _missing_refine_logged:
        _missing_refine_logged = True
        log.warning("refine vectors %s %s: searching the SQ8 codes without re-scoring", path.name, reason)
    return vectors


def save_refine(path: Path, vectors: np.ndarray) -> None:
    """Write the refine vectors to path through a temporary name, so a reader never maps a half-written file."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        with open(tmp, "wb") as handle:
            np.save(handle, np.ascontiguousarray(vectors, dtype=REFINE_DTYPE))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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

    def __init__(
        self, index: Any, nprobe: int | None = None, refine: np.ndarray | None = None,
        refine_factor: int = DEFAULT_REFINE_FACTOR,
    ) -> None:
        self._index = index
        # Exact vectors (float32, usually memory-mapped) of an IVF index; None for flat (already exact).
        self.refine_vectors = refine if refine is not None and self.kind == "ivf-sq8" else None
        self.refine_factor = max(0, int(refine_factor))
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

    @property
    def refined(self) -> bool:
        """Whether IVF answers are re-scored on the refine vectors (an IVF index with its file, factor above 0)."""
        return self.refine_vectors is not None and self.refine_factor > 0

    def _stored(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of ids as float32: from the refine file when refining, else as faiss decodes them."""
        if self.refine_vectors is not None and self.refine_factor > 0:
            order = np.argsort(ids, kind="stable")  # ascending ids read the mapped file front to back
            out = np.empty((len(ids), self.dimension), dtype=np.float32)
            out[order] = self.refine_vectors[ids[order]]
            return out
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ann_threshold: int = 50_000,
        nlist: int = 4096,
        nprobe: int = 64,
        dimension: int | None = None,
        seed: int = 1234,
        refine_factor: int = DEFAULT_REFINE_FACTOR,
    ) -> VectorIndex:
        """Index vectors (row i gets id i): IndexFlatIP up to ann_threshold rows, IVF-SQ8 (plus its refine
        vectors, kept whatever the factor so that a later load may turn refining on) above it."""
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
        # mat is float32 already: the refine vectors share it rather than doubling the build's memory.
        refine = np.asarray(mat, dtype=REFINE_DTYPE)
        return cls(index, nprobe=min(nprobe, lists), refine=refine, refine_factor=refine_factor)

    def save(self, path: Path) -> None:
        """Write the index file and, for IVF, its refine file beside it, each through a temporary name.

        The refine file goes first: an index file on disk always has its refine file (a crash in between leaves
        only a refine file that the next save replaces). The service writes both inside a segment's temporary
        folder, which is renamed only once complete, so a reader sees both files or neither."""
        path = Path(path)
        if self.refine_vectors is not None:
            save_refine(refine_path(path), self.refine_vectors)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        try:
            _faiss().write_index(self._index, str(tmp))
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load(
        cls, path: Path, nprobe: int | None = None, mmap: bool | None = None,
        refine_factor: int = DEFAULT_REFINE_FACTOR,
    ) -> VectorIndex:
        """Read an index file; nprobe (IVF only) overrides the stored value; large files are memory-mapped.

        An IVF index maps its refine file (`refine_path`) when there is one and refine_factor is above 0."""
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
        refine = None
        if isinstance(index, faiss.IndexIVF) and refine_factor > 0:
            refine = _load_refine(refine_path(path), int(index.ntotal), int(index.d))
        return cls(index, nprobe=nprobe, refine=refine, refine_factor=refine_factor)

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
        depth = min(len(self), k * self.refine_factor) if self.refined else k
        scores, ids = self._index.search(queries, depth, params=params)
        del bitmap  # only now may the selector's bitmap go
        ids = ids.astype(np.int64)
        if self.refined:
            return self._refine(queries, ids, k)
        return ids, scores.astype(np.float32)

    def _refine(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best k of each row's candidate ids by the inner product with their refine vectors; ties go to the
        lower id; rows padded with id -1 where fewer candidates were found."""
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        out = np.full((len(queries), k), -np.finfo(np.float32).max, dtype=np.float32)
        for row in range(len(queries)):
            found = candidates[row][candidates[row] >= 0]
            if not found.size:
                continue
            scores = self._stored(found) @ queries[row]
            order = np.lexsort((found, -scores))[:k]
            ids[row, : len(order)] = found[order]
            out[row, : len(order)] = scores[order]
        return ids, out

    def _search_subset(
        self, queries: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k among a few allowed ids, scored on their stored vectors; ties go to the lower id."""
        allowed = np.unique(allowed)
        scores = queries @ self._stored(allowed).T  # (nq, len(allowed))
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        out = np.full((len(queries), k), -np.finfo(np.float32).max, dtype=np.float32)
        for row in range(len(queries)):
            order = np.lexsort((allowed, -scores[row]))[:k]
            ids[row, : len(order)] = allowed[order]
            out[row, : len(order)] = scores[row, order]
        return ids, out

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Inner product of one query with the stored vectors of ids (exact for flat; for IVF on the refine
        vectors when there are some, else SQ8-decoded)."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return np.zeros(0, dtype=np.float32)
        stored = self._stored(ids)
        return (stored @ _as_matrix(query_vec)[0]).astype(np.float32)
