"""Fast, streamed, cached build of the synthetic scale collection (bench/scale.py queries it).

Synthetic clause i joins the first half of real clause a[i] with the second half of real clause b[i]; its vector is
the normalised mixture alpha[i] * x[a[i]] + (1 - alpha[i]) * x[b[i]] of the two real vectors. Because every row is
defined by (a, b, alpha) over a pool of a few hundred real clauses, the build never needs a Python object per row:

- BM25: a synthetic clause's term counts are its head's plus its tail's, its length the sum of theirs, so each
  term's posting list is the union of the clauses whose head or tail contains the term, and its document frequency
  follows from pair counts. Posting lists are computed term by term with numpy and streamed into bm25s's own file
  format (weights exactly as bm25s's `lucene` method computes them; a test checks them against bm25s).
- Dense: IVF-SQ8 as `VectorIndex.build` makes it (faiss, by-residual SQ8, inner product), but the k-means and the
  list assignment use x . c = alpha (x_a . c) + (1 - alpha) (x_b . c), so assigning ten million rows costs
  nlist multiply-adds each instead of nlist * 384 (the rows' argmax over the centroids is the same). Vectors are
  mixed and encoded chunk by chunk; no full float matrix ever exists.
- Store: the real schema, rows written in one transaction with journal and sync off, ids zero-padded so every
  index is appended to in order.

Built artefacts go under $POLICYKB_BENCH_CACHE (default ~/.cache/policykb-bench)/<size>-<hash of this file, the
data and the parameters>, written to a temporary folder and renamed when complete, so a later run only loads.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

CLAUSES_PER_DOCUMENT = 50
# Rows mixed, assigned and encoded at a time: 100k x 384 float32 is 150 MB.
CHUNK = 100_000
K1, B = 1.5, 0.75  # bm25s's defaults, which KeywordIndex.build uses
KMEANS_ITERATIONS = 8
TRAIN_POINTS_PER_LIST = 39  # faiss's own minimum without a warning
SQ_TRAIN_POINTS = 50_000


def cache_root() -> Path:
    return Path(os.environ.get("POLICYKB_BENCH_CACHE") or Path.home() / ".cache" / "policykb-bench")


def build_key(size: int, data_digest: str, params: dict[str, Any]) -> str:
    """A folder name that changes whenever the build code, the data or a parameter does."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(data_digest.encode())
    h.update(json.dumps(params, sort_keys=True).encode())
    return f"{size}-{h.hexdigest()[:12]}"


def data_digest(path: Path) -> str:
    """Of the pool's content, not the npz's bytes (a zip entry carries its write time)."""
    data = np.load(path, allow_pickle=True)
    h = hashlib.sha256()
    for name in sorted(data.files):
        arr = data[name]
        if arr.dtype == object:
            h.update("\x1f".join(str(x) for x in arr.tolist()).encode())
        elif arr.dtype.kind == "f":  # rounded: a re-encoded pool may differ in the last bits
            h.update(np.round(arr.astype(np.float64), 4).tobytes())
        else:
            h.update(arr.tobytes())
    return h.hexdigest()[:16]


def default_nlist(n: int, setting: int) -> int:
    """The service's setting up to a few million rows; beyond, lists of a few hundred rows keep a probe cheap."""
    from policykb.vector_index import effective_nlist

    return effective_nlist(n, setting if n < 5_000_000 else max(setting, 16_384))


# -- the plan: which halves and which mixture each synthetic row is made of ---------------------------------------


def make_plan(n: int, pool: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a": rng.integers(0, pool, n, dtype=np.int32),
        "b": rng.integers(0, pool, n, dtype=np.int32),
        "alpha": rng.uniform(0.3, 0.7, n).astype(np.float32),
    }


def mixed(vecs: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The normalised mixture vectors of rows (a, b, alpha)."""
    al = alpha[:, None]
    out = al * vecs[a] + (1 - al) * vecs[b]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out, dtype=np.float32)


def mixture_norms(gram: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """|alpha x_a + (1 - alpha) x_b| from the pool's Gram matrix (pool vectors are unit length)."""
    al = alpha.astype(np.float64)
    sq = al * al + (1 - al) ** 2 + 2 * al * (1 - al) * gram[a, b]
    return np.sqrt(np.maximum(sq, 1e-12)).astype(np.float32)


# -- BM25 ---------------------------------------------------------------------------------------------------------


def _write_npy_stream(path: Path, dtype: np.dtype[Any], count: int) -> Any:
    handle = open(path, "wb")  # noqa: SIM115 - closed by the caller after the streamed writes
    np.lib.format.write_array_header_1_0(handle, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                  "shape": (count,)})
    return handle


def build_keyword(folder: Path, head_tokens: list[list[str]], tail_tokens: list[list[str]], a: np.ndarray,
                  b: np.ndarray, tokenizer: str) -> None:
    """bm25s's index files (and KeywordIndex's meta) for rows whose tokens are head_tokens[a] + tail_tokens[b]."""
    import bm25s

    from policykb.keyword_index import KeywordIndex

    folder.mkdir(parents=True, exist_ok=True)
    n, pool = len(a), len(head_tokens)
    vocab_list = sorted({t for toks in head_tokens + tail_tokens for t in toks})
    if "" not in vocab_list:
        vocab_list.append("")  # bm25s's empty token, which an empty row is made of
    vocab = {t: i for i, t in enumerate(vocab_list)}
    n_vocab = len(vocab_list)

    def counts(token_lists: list[list[str]]) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Per term: the halves containing it and how often; per half: its token count."""
        halves_of: list[list[int]] = [[] for _ in range(n_vocab)]
        tf_of: list[list[int]] = [[] for _ in range(n_vocab)]
        for h, toks in enumerate(token_lists):
            seen: dict[int, int] = {}
            for t in toks:
                seen[vocab[t]] = seen.get(vocab[t], 0) + 1
            for t, c in seen.items():
                halves_of[t].append(h)
                tf_of[t].append(c)
        lengths = np.array([len(t) for t in token_lists], dtype=np.int64)
        return ([np.array(x, dtype=np.int64) for x in halves_of], [np.array(x, dtype=np.float32) for x in tf_of],
                lengths)

    head_of, head_tf, head_len = counts(head_tokens)
    tail_of, tail_tf, tail_len = counts(tail_tokens)
    # A row's length, and so its BM25 length norm, is a function of its (head, tail) pair, as is its tf of
    # any term: per term, one pool x pool table of weights, gathered by each row's pair number.
    pair_len = head_len[:, None] + tail_len[None, :]
    empty_pair = pair_len == 0
    pair_len[empty_pair] = 1  # bm25s indexes an empty row as the one token ""
    ab = a.astype(np.int64) * pool + b
    if pool * pool < 2**31:
        ab = ab.astype(np.int32)
    pairs = np.bincount(ab, minlength=pool * pool).reshape(pool, pool)
    avgdl = float((pairs * pair_len).sum() / n)
    cnt_h = pairs.sum(axis=1)
    cnt_t = pairs.sum(axis=0)
    empty_count = int(pairs[empty_pair].sum())
    df = np.zeros(n_vocab, dtype=np.int64)
    for t in range(n_vocab):
        hs, ts = head_of[t], tail_of[t]
        df[t] = cnt_h[hs].sum() + cnt_t[ts].sum() - pairs[np.ix_(hs, ts)].sum()
    df[vocab[""]] += empty_count
    idf = np.array([math.log(1 + (n - f + 0.5) / (f + 0.5)) for f in df.tolist()], dtype=np.float32)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    total = int(indptr[-1])

    order_h = np.argsort(a, kind="stable").astype(np.int32)
    order_t = np.argsort(b, kind="stable").astype(np.int32)
    start_h = np.concatenate([[0], np.cumsum(cnt_h)])
    start_t = np.concatenate([[0], np.cumsum(cnt_t)])
    empty_rows = np.flatnonzero(empty_pair.ravel()[ab]).astype(np.int32) if empty_count else None
    norm = K1 * ((1 - B) + B * pair_len / avgdl)  # float64, as bm25s computes it
    data_f = _write_npy_stream(folder / "data.csc.index.npy", np.dtype(np.float32), total)
    indices_f = _write_npy_stream(folder / "indices.csc.index.npy", np.dtype(np.int32), total)
    try:
        for t in range(n_vocab):
            if df[t] == 0:
                continue
            hs, ts = head_of[t], tail_of[t]
            tf_h = np.zeros(pool, dtype=np.float32)
            tf_h[hs] = head_tf[t]
            tf_t = np.zeros(pool, dtype=np.float32)
            tf_t[ts] = tail_tf[t]
            tf = tf_h[:, None] + tf_t[None, :]
            if t == vocab[""]:
                tf = empty_pair.astype(np.float32)
            weight_of_pair = (idf[t] * (tf / (norm + tf))).astype(np.float32).ravel()
            if df[t] * 16 > n:  # a common term: one pass over the rows beats gathering most of them
                docs = np.flatnonzero((tf > 0).ravel()[ab]).astype(np.int32)
            else:
                parts = [order_h[start_h[h]:start_h[h + 1]] for h in hs.tolist()]
                parts += [order_t[start_t[s]:start_t[s + 1]] for s in ts.tolist()]
                if t == vocab[""] and empty_rows is not None:
                    parts.append(empty_rows)
                docs = np.sort(np.concatenate(parts))
                if len(hs) and len(ts):  # a row whose head and tail both hold the term came twice
                    docs = docs[np.concatenate([[True], docs[1:] != docs[:-1]])]
            weight_of_pair[ab[docs]].tofile(data_f)
            docs.tofile(indices_f)
    finally:
        data_f.close()
        indices_f.close()
    np.save(folder / "indptr.csc.index.npy", indptr)
    (folder / "vocab.index.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    params = {"k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
              "int_dtype": "int32", "num_docs": n, "version": bm25s.__version__, "backend": "numpy"}
    (folder / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")
    meta = {"n_docs": n, "tokenizer": tokenizer}
    (folder / KeywordIndex.META_FILE).write_text(json.dumps(meta), encoding="utf-8")


# -- dense --------------------------------------------------------------------------------------------------------


def _kernels() -> dict[str, Any]:
    """numba kernels: the upper envelope of each pair's lines, and a direct argmax for a few rows."""
    import numba

    @numba.njit(parallel=True, cache=True)
    def envelopes(xc: np.ndarray, lo: float, hi: float, lines: np.ndarray, breaks: np.ndarray,
                  counts: np.ndarray) -> None:
        # For pair (a, b) a centroid's score is a line in alpha: alpha u_c + (1 - alpha) v_c with u = xc[a],
        # v = xc[b]. Walk the upper envelope from lo to hi: from the best line, the next one is the steeper line
        # that crosses it first.
        pool, k = xc.shape
        for p in numba.prange(pool * pool):
            u, v = xc[p // pool], xc[p % pool]
            best, cur = -np.inf, 0
            for c in range(k):
                s = lo * np.float64(u[c]) + (1.0 - lo) * np.float64(v[c])
                if s > best:
                    best, cur = s, c
            lines[p, 0] = cur
            n = 1
            while n < lines.shape[1]:
                slope = np.float64(u[cur]) - np.float64(v[cur])
                vcur = np.float64(v[cur])
                # The crossing of line c, (vcur - v_c) / (slope_c - slope), is compared as a fraction num / den
                # against the best so far (no division in the loop: it runs pairs x nlist x lines times).
                num_best, den_best, nxt, nxt_slope = hi, 1.0, -1, 0.0
                for c in range(k):
                    sc = np.float64(u[c]) - np.float64(v[c])
                    if sc > slope:
                        num, den = vcur - np.float64(v[c]), sc - slope
                        lhs, rhs = num * den_best, num_best * den
                        if lhs < rhs or (lhs == rhs and nxt >= 0 and sc > nxt_slope):
                            num_best, den_best, nxt, nxt_slope = num, den, c, sc
                if nxt < 0:
                    break
                breaks[p, n - 1] = num_best / den_best
                lines[p, n] = nxt
                cur = nxt
                n += 1
            counts[p] = n

    @numba.njit(parallel=True, cache=True)
    def pick(lines: np.ndarray, breaks: np.ndarray, counts: np.ndarray, pair: np.ndarray, alpha: np.ndarray,
             out: np.ndarray) -> None:
        for i in numba.prange(pair.shape[0]):
            p = pair[i]
            j = 0
            while j + 1 < counts[p] and alpha[i] > breaks[p, j]:
                j += 1
            out[i] = lines[p, j]

    @numba.njit(parallel=True, cache=True)
    def argmax_mix(xc: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: np.ndarray, out: np.ndarray) -> None:
        k = xc.shape[1]
        for i in numba.prange(a.shape[0]):
            ra, rb = xc[a[i]], xc[b[i]]
            w, v = alpha[i], 1.0 - alpha[i]
            best, arg = -np.inf, 0
            for c in range(k):
                s = w * ra[c] + v * rb[c]
                if s > best:
                    best, arg = s, c
            out[i] = arg

    return {"envelopes": envelopes, "pick": pick, "argmax_mix": argmax_mix}


class Assigner:
    """Nearest centroid by inner product for mixture rows (a row's norm does not change the argmax).

    With fewer pairs than rows, each pair's upper envelope over alpha in [0.3, 0.7] is found once (a handful of
    lines), and a row only looks up which envelope segment its alpha falls in."""

    MAX_LINES = 64

    def __init__(self, vecs: np.ndarray, centroids: np.ndarray, rows_hint: int) -> None:
        self.kernels = _kernels()
        self.xc = np.ascontiguousarray(vecs @ centroids.T, dtype=np.float32)  # pool x nlist
        self.pool = len(vecs)
        self.use_envelopes = self.pool * self.pool <= rows_hint
        if self.use_envelopes:
            pairs = self.pool * self.pool
            self.lines = np.zeros((pairs, self.MAX_LINES), dtype=np.int64)
            self.breaks = np.full((pairs, self.MAX_LINES), np.inf, dtype=np.float64)
            self.counts = np.zeros(pairs, dtype=np.int64)
            self.kernels["envelopes"](self.xc, 0.3, 0.7, self.lines, self.breaks, self.counts)

    def __call__(self, a: np.ndarray, b: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        out = np.empty(len(a), dtype=np.int64)
        if self.use_envelopes:
            pair = a.astype(np.int64) * self.pool + b
            self.kernels["pick"](self.lines, self.breaks, self.counts, pair, alpha.astype(np.float64), out)
        else:
            self.kernels["argmax_mix"](self.xc, a, b, alpha, out)
        return out


def assign(vecs: np.ndarray, centroids: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return Assigner(vecs, centroids, len(a))(a, b, alpha)


def train_centroids(vecs: np.ndarray, gram: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: np.ndarray,
                    nlist: int, seed: int) -> np.ndarray:
    """Lloyd's k-means (inner-product assignment, mean update, as faiss's IVF training) on mixture rows."""
    rng = np.random.default_rng(seed)
    pool = len(vecs)
    inv_norm = 1.0 / mixture_norms(gram, a, b, alpha)
    centroids = mixed(vecs, *(x[rng.choice(len(a), nlist, replace=False)] for x in (a, b, alpha)))
    for _ in range(KMEANS_ITERATIONS):
        labels = assign(vecs, centroids, a, b, alpha)
        coef = np.zeros(nlist * pool, dtype=np.float64)  # centroid sums as combinations of the pool's vectors
        np.add.at(coef, labels * pool + a, alpha * inv_norm)
        np.add.at(coef, labels * pool + b, (1 - alpha) * inv_norm)
        sizes = np.bincount(labels, minlength=nlist)
        sums = coef.reshape(nlist, pool) @ vecs.astype(np.float64)
        empty = sizes == 0
        centroids = (sums / np.maximum(sizes, 1)[:, None]).astype(np.float32)
        if empty.any():  # re-seed empty lists on random rows, as faiss splits them
            pick = rng.choice(len(a), int(empty.sum()), replace=False)
            centroids[empty] = mixed(vecs, a[pick], b[pick], alpha[pick])
    return centroids


def build_dense(path: Path, vecs: np.ndarray, plan: dict[str, np.ndarray], nlist: int, nprobe: int, seed: int,
                ann_threshold: int) -> dict[str, Any]:
    """A faiss index file over the plan's mixture rows: flat up to ann_threshold rows, else IVF-SQ8."""
    import faiss

    from policykb.vector_index import VectorIndex

    a, b, alpha = plan["a"], plan["b"], plan["alpha"]
    n, d = len(a), vecs.shape[1]
    if n <= ann_threshold:
        index = faiss.IndexFlatIP(d)
        for s in range(0, n, CHUNK):
            index.add(mixed(vecs, a[s:s + CHUNK], b[s:s + CHUNK], alpha[s:s + CHUNK]))
        faiss.write_index(index, str(path))
        return {"kind": "flat"}
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    gram = vecs.astype(np.float64) @ vecs.astype(np.float64).T
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(n, min(n, nlist * TRAIN_POINTS_PER_LIST), replace=False))
    started = time.perf_counter()
    centroids = train_centroids(vecs, gram, a[train], b[train], alpha[train], nlist, seed)
    train_s = time.perf_counter() - started
    quantizer = faiss.IndexFlatIP(d)
    quantizer.add(centroids)
    index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    sq_rows = train[: min(len(train), SQ_TRAIN_POINTS)]
    index.train(mixed(vecs, a[sq_rows], b[sq_rows], alpha[sq_rows]))  # the quantizer is full: SQ ranges only
    started = time.perf_counter()
    assigner = Assigner(vecs, centroids, n)
    for s in range(0, n, CHUNK):
        sl = slice(s, min(n, s + CHUNK))
        labels = assigner(a[sl], b[sl], alpha[sl])
        x = mixed(vecs, a[sl], b[sl], alpha[sl])
        ids = np.arange(sl.start, sl.stop, dtype=np.int64)
        index.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(labels))
    add_s = time.perf_counter() - started
    index.nprobe = min(nprobe, nlist)
    VectorIndex(index)  # builds the direct map `similarity` needs, saved with the index
    faiss.write_index(index, str(path))
    return {"kind": "ivf-sq8", "nlist": nlist, "train_s": round(train_s, 1), "add_s": round(add_s, 1)}


# -- store --------------------------------------------------------------------------------------------------------


def write_store(path: Path, heads: list[str], tails: list[str], a: np.ndarray, b: np.ndarray,
                regions: list[str], has_req: np.ndarray) -> None:
    """A kb.sqlite with the real schema: documents, clauses (rowid = dense id), requirements and regions.

    Python hands SQLite only the halves and the plan's integers; the rows themselves are made by INSERT ... SELECT
    joins inside SQLite, in dense-id order, so each index is appended to in order."""
    from policykb.store import SCHEMA, SCHEMA_VERSION

    n = len(a)
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
                       "PRAGMA cache_size=-262144; PRAGMA temp_store=FILE;" + SCHEMA)
    conn.executescript("CREATE TEMP TABLE halves (h INTEGER PRIMARY KEY, head TEXT, tail TEXT, req INTEGER);"
                       "CREATE TEMP TABLE docs (d INTEGER PRIMARY KEY, region TEXT);"
                       "CREATE TEMP TABLE plan (i INTEGER PRIMARY KEY, a INTEGER, b INTEGER);")
    n_docs = (n + CLAUSES_PER_DOCUMENT - 1) // CLAUSES_PER_DOCUMENT
    per = CLAUSES_PER_DOCUMENT
    with conn:
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.executemany("INSERT INTO halves VALUES (?,?,?,?)",
                         zip(range(len(heads)), heads, tails, has_req.astype(int).tolist(), strict=True))
        conn.executemany("INSERT INTO docs VALUES (?,?)",
                         ((d, regions[x]) for d, x in enumerate(a[::per].tolist())))
        for s in range(0, n, CHUNK):
            conn.executemany("INSERT INTO plan VALUES (?,?,?)",
                             zip(range(s, min(n, s + CHUNK)), a[s:s + CHUNK].tolist(), b[s:s + CHUNK].tolist(),
                                 strict=True))
        conn.execute(
            "INSERT INTO documents SELECT printf('syn-%08d', d), d, region, region, '文件' || d, NULL, '2024-01-01', "
            "NULL, 'notice', NULL, '[]', printf('syn-%08d.txt', d), '', '', '[]' FROM docs ORDER BY d")
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == n_docs
        conn.execute(
            'INSERT INTO clauses (rowid, clause_id, doc_id, region_id, section, text, start, "end", role, ordinal) '
            f"SELECT p.i, printf('syn-%08d#%09d', p.i / {per}, p.i), printf('syn-%08d', p.i / {per}), d.region, "
            f"'[]', x.head || y.tail, 0, length(x.head) + length(y.tail), 'body', p.i % {per} "
            f"FROM plan p JOIN halves x ON x.h = p.a JOIN halves y ON y.h = p.b JOIN docs d ON d.d = p.i / {per} "
            "ORDER BY p.i")
        conn.execute(
            "INSERT INTO requirements (clause_id, doc_id, region_id, span, span_start, span_end, subject, "
            "comparator, value_low, value_high, unit, period, base, kind) "
            f"SELECT printf('syn-%08d#%09d', p.i / {per}, p.i), printf('syn-%08d', p.i / {per}), d.region, ?, 0, 6, "
            "NULL, '>=', 80.0, 80.0, '%', NULL, NULL, 'requirement' "
            f"FROM plan p JOIN halves x ON x.h = p.a JOIN docs d ON d.d = p.i / {per} WHERE x.req = 1 ORDER BY p.i",
            ("不低于80%",))
        conn.executemany("INSERT INTO regions VALUES (?,?,?,?)", ((r, r, None, "[]") for r in sorted(set(regions))))
    conn.close()


# -- the whole build, cached --------------------------------------------------------------------------------------


def load_pool(data_path: Path) -> dict[str, Any]:
    from synth import halves

    from policykb.keyword_index import tokenize

    data = np.load(data_path, allow_pickle=True)
    texts = [str(t) for t in data["texts"]]
    vecs = data["vectors"].astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    pieces = [halves(t) for t in texts]
    heads, tails = [h for h, _ in pieces], [t for _, t in pieces]
    return {
        "texts": texts, "vectors": vecs, "heads": heads, "tails": tails,
        "queries": [str(q) for q in data["queries"]],
        "regions": [str(r) for r in data["regions"]] if "regions" in data.files else ["region"] * len(texts),
        "has_req": (np.asarray(data["has_requirement"], dtype=bool) if "has_requirement" in data.files
                    else np.zeros(len(texts), dtype=bool)),
        "head_tokens": [tokenize(h) for h in heads],
        "tail_tokens": [tokenize(t) for t in tails],
    }


def ensure_built(size: int, data_path: Path, pool: dict[str, Any], nlist: int, nprobe: int, ann_threshold: int,
                 tokenizer: str, seed: int = 7, rebuild: bool = False,
                 root: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The cached build folder for these parameters (built now if missing) and its build record."""
    params = {"nlist": nlist, "ann_threshold": ann_threshold if size <= ann_threshold else 0, "seed": seed,
              "tokenizer": tokenizer}
    folder = (root or cache_root()) / build_key(size, data_digest(data_path), params)
    record_path = folder / "build.json"
    if record_path.is_file() and not rebuild:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        return folder, {**record, "reused": True}
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    plan = make_plan(size, len(pool["texts"]), seed)
    np.savez(tmp / "plan.npz", **plan)
    t0 = time.perf_counter()
    build_keyword(tmp / "bm25", pool["head_tokens"], pool["tail_tokens"], plan["a"], plan["b"], tokenizer)
    t1 = time.perf_counter()
    dense = build_dense(tmp / "dense.faiss", pool["vectors"], plan, nlist, nprobe, seed, ann_threshold)
    t2 = time.perf_counter()
    write_store(tmp / "kb.sqlite", pool["heads"], pool["tails"], plan["a"], plan["b"], pool["regions"],
                pool["has_req"])
    t3 = time.perf_counter()
    record = {
        "size": size, "params": params, "dense": dense, "built_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "build_s": round(t3 - started, 1), "build_bm25_s": round(t1 - t0, 1), "build_faiss_s": round(t2 - t1, 1),
        "build_store_s": round(t3 - t2, 1), "load_average": os.getloadavg()[0],
        "disk_mb": round(sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file()) / 2**20),
    }
    (tmp / "build.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder, {**record, "reused": False}
