"""Exact top-k BM25 with MaxScore dynamic pruning over the saved per-term score postings (numba).

Exhaustive scoring adds every posting of every query term into an array of one float per clause: at ten million
clauses a query of common words touches millions of postings and the array alone is 40 MB. MaxScore walks the
posting lists in clause-id order (bm25s writes them sorted) and keeps the k best so far. Each term's largest
weight (its *impact bound*, computed once when the index is saved) bounds what a clause can still gain from it:
once the k-th best score reaches the summed bounds of the weakest terms, a clause found only in those lists cannot
enter the top k, so only the other ("essential") lists are read, a window of ids at a time into an accumulator
that stays in the CPU cache, and the weak lists are probed by a galloping search only for the clauses whose bound
can still beat the k-th best.

The answer is that of exhaustive scoring, bit for bit: a clause's score is its terms' float32 weights added in
query order (as `KeywordIndex._score_postings` and bm25s add them), the top k are the best scores with equal
scores by lower id (as `keyword_index.top_k_ids`), and a clause is skipped only when a bound that allows for float32
rounding says it cannot beat the k-th best (clauses come in id order, so a later one that merely ties it loses).
"""

from __future__ import annotations

import numba
import numpy as np

from policykb.keyword_index import BOUNDS_FILE  # noqa: F401  (one float32 per term: its largest posting weight)

# A float32 sum of m positive weights exceeds their exact sum by at most (m - 1)·2⁻²⁴ of it; the margin is wider.
_ROUNDING_MARGIN_PER_TERM = 2e-7
_NO_DOC = 2**62
# Clause ids per accumulation window: 32768 float64 accumulators, 256 kB, stay in a core's L2 cache.
WINDOW_DOCS = 32_768

# Compiled on first use and cached on disk (numba's cache beside this file), so a later process loads it.
_jit = numba.njit(cache=True, nogil=True)



@_jit
def _compute_bounds(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray) -> tuple[np.ndarray, bool]:
    n_terms = indptr.size - 1
    bounds = np.zeros(n_terms, dtype=np.float32)
    ordered = True
    for t in range(n_terms):
        best = np.float32(0.0)
        for p in range(indptr[t], indptr[t + 1]):
            if data[p] > best:
                best = data[p]
            if p > indptr[t] and indices[p] <= indices[p - 1]:
                ordered = False
        bounds[t] = best
    return bounds, ordered


@_jit
def _gallop(indices: np.ndarray, pos: int, end: int, target: int | np.integer) -> int:
    """The first position in [pos, end) whose clause id is >= target (end if none): doubling steps, then halving."""
    if pos >= end or indices[pos] >= target:
        return pos
    lo, step, hi = pos, 1, pos + 1
    while hi < end and indices[hi] < target:
        lo = hi
        step *= 2
        hi = lo + step
    hi = min(hi, end)
    lo += 1
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def _worse(s_a: float, i_a: int, s_b: float, i_b: int) -> bool:
    """Whether (score a, id a) ranks below (score b, id b): a lower score, or the same score and a higher id."""
    return s_a < s_b or (s_a == s_b and i_a > i_b)


@_jit
def _sift_down(heap_s: np.ndarray, heap_i: np.ndarray, size: int, at: int) -> None:
    while True:
        child = 2 * at + 1
        if child >= size:
            return
        if child + 1 < size and _worse(heap_s[child + 1], heap_i[child + 1], heap_s[child], heap_i[child]):
            child += 1
        if not _worse(heap_s[child], heap_i[child], heap_s[at], heap_i[at]):
            return
        heap_s[at], heap_s[child] = heap_s[child], heap_s[at]
        heap_i[at], heap_i[child] = heap_i[child], heap_i[at]
        at = child


@_jit
def _sift_up(heap_s: np.ndarray, heap_i: np.ndarray, at: int) -> None:
    while at > 0:
        parent = (at - 1) // 2
        if not _worse(heap_s[at], heap_i[at], heap_s[parent], heap_i[parent]):
            return
        heap_s[at], heap_s[parent] = heap_s[parent], heap_s[at]
        heap_i[at], heap_i[parent] = heap_i[parent], heap_i[at]
        at = parent


@_jit
def _maxscore(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, bounds: np.ndarray, token_ids: np.ndarray, k: int,
    allowed: np.ndarray, filtered: bool, window: int,
) -> tuple[np.ndarray, np.ndarray]:
    m = token_ids.size
    ub = np.empty(m, dtype=np.float64)
    for q in range(m):
        ub[q] = bounds[token_ids[q]]
    order = np.argsort(ub, kind="mergesort")  # weakest term first
    pos = np.empty(m, dtype=np.int64)  # essential terms: where the window's accumulation goes on; others: probes
    end = np.empty(m, dtype=np.int64)
    qpos = np.empty(m, dtype=np.int64)
    prefix = np.zeros(m + 1, dtype=np.float64)  # prefix[j]: summed bounds of the j weakest terms
    for j in range(m):
        q = order[j]
        t = token_ids[q]
        pos[j] = indptr[t]
        end[j] = indptr[t + 1]
        qpos[j] = q
        prefix[j + 1] = prefix[j] + ub[q]
    factor = 1.0 + _ROUNDING_MARGIN_PER_TERM * (m + 1)
    heap_s = np.empty(max(k, 1), dtype=np.float32)
    heap_i = np.empty(max(k, 1), dtype=np.int64)
    size = 0
    threshold = 0.0  # the k-th best score once k clauses are held; a clause must beat it
    first_essential = 0  # terms [0, first_essential) cannot lift a clause past the threshold on their own
    contrib = np.zeros(m, dtype=np.float32)  # this clause's weight per query position (0: term absent)
    # The essential lists are added window by window into a cache-sized accumulator (a sequential pass, not one
    # cursor comparison per clause); the exact float32 score of a clause that survives the bounds is gathered again
    # in query order.
    acc = np.zeros(window, dtype=np.float64)
    gather = np.empty(m, dtype=np.int64)
    at_allowed = 0
    n_allowed = allowed.size
    while True:
        f = first_essential  # fixed for the window: the threshold only rises, so a larger essential set stays safe
        lo = np.int64(_NO_DOC)
        for j in range(f, m):
            if pos[j] < end[j] and indices[pos[j]] < lo:
                lo = np.int64(indices[pos[j]])
        if lo == _NO_DOC:
            break
        hi = lo + window
        for j in range(f, m):
            gather[j] = pos[j]
            p = pos[j]
            e = end[j]
            while p < e and indices[p] < hi:
                acc[indices[p] - lo] += data[p]
                p += 1
            pos[j] = p
        for i in range(window):
            partial = acc[i]
            if partial == 0:
                continue
            acc[i] = 0
            doc = lo + i
            if filtered:
                at_allowed = _gallop(allowed, at_allowed, n_allowed, doc)
                if at_allowed >= n_allowed or allowed[at_allowed] != doc:
                    continue
            pruned = False
            for j in range(f - 1, -1, -1):  # strongest of the weak terms first
                if (partial + prefix[j + 1]) * factor <= threshold:
                    pruned = True
                    break
                p = _gallop(indices, pos[j], end[j], doc)
                if p < end[j] and indices[p] == doc:
                    contrib[qpos[j]] = data[p]
                    partial += float(data[p])
                    p += 1
                pos[j] = p
            if not pruned:
                for j in range(f, m):
                    p = _gallop(indices, gather[j], end[j], doc)
                    gather[j] = p
                    if p < end[j] and indices[p] == doc:
                        contrib[qpos[j]] = data[p]
                score = np.float32(0.0)
                for q in range(m):
                    score += contrib[q]  # float32 additions in query order, as exhaustive scoring does
                if score > 0:
                    if size < k:
                        heap_s[size] = score
                        heap_i[size] = doc
                        _sift_up(heap_s, heap_i, size)
                        size += 1
                    elif score > heap_s[0]:  # an equal score loses: every held clause has a lower id
                        heap_s[0] = score
                        heap_i[0] = doc
                        _sift_down(heap_s, heap_i, size, 0)
                    if size == k:
                        threshold = float(heap_s[0])
                        while first_essential < m and prefix[first_essential + 1] * factor <= threshold:
                            first_essential += 1
            for q in range(m):
                contrib[q] = 0
    out_s = heap_s[:size].copy()
    out_i = heap_i[:size].copy()
    keys = np.argsort(out_i, kind="mergesort")  # id order, then a stable sort by score: ties stay by id
    out_s, out_i = out_s[keys], out_i[keys]
    best = np.argsort(-out_s, kind="mergesort")
    return out_i[best], out_s[best]


def compute_bounds(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray) -> np.ndarray | None:
    """Each term's largest posting weight (float32), or None when a posting list is not in strictly increasing
    clause-id order (MaxScore needs that order; bm25s writes it)."""
    bounds, ordered = _compute_bounds(np.asarray(data), np.asarray(indices), np.asarray(indptr, dtype=np.int64))
    return bounds if ordered else None


def maxscore_top_k(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, bounds: np.ndarray, token_ids: list[int], k: int,
    allowed_ids: np.ndarray | None = None, window: int = WINDOW_DOCS,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best (ids, float32 scores) with a positive score, best first, ties by lower id; only allowed ids
    (sorted, distinct) when given. Identical to exhaustive scoring followed by `top_k_ids`."""
    tokens = np.asarray(token_ids, dtype=np.int64)
    if k <= 0 or tokens.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    filtered = allowed_ids is not None
    allowed = np.asarray(allowed_ids, dtype=np.int64) if filtered else np.empty(0, dtype=np.int64)
    ids, scores = _maxscore(data, indices, np.asarray(indptr, dtype=np.int64), bounds, tokens, int(k),
                                  allowed, filtered, int(window))
    return np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float32)

