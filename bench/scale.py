"""One scale point of the latency benchmark, run in its own process so its resident memory is its own.

The synthetic corpus recombines real clauses: each synthetic clause joins the first half of one real clause
with the second half of another (tokens are the halves' tokens, so jieba runs once per half, not per row), and
its vector is a normalised mixture of the two real vectors. This keeps the term statistics and the anisotropy
of real e5 vectors, which is what BM25 and IVF speed depend on, without hours of encoding.

Every timed query goes through `KnowledgeBase.search`, the code a request takes: ranking (query embedding,
BM25, faiss, fusion) and then fetching the hits' clauses and requirements from a SQLite store of the same size
(rows written with executemany, one document per 50 clauses, regions and requirements copied from the real
clause each synthetic one starts with).

Prints one JSON object: size, build seconds, p50/p95 of the warm service-path query, the parts (embedding,
BM25, faiss, fusion, fetch), recall@10 of the dense index against exact search, and the process's RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

CLAUSES_PER_DOCUMENT = 50
# Vectors are mixed and added in chunks so that 10M rows never exist as one float32 matrix (15 GB).
CHUNK = 200_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def halves(text: str) -> tuple[str, str]:
    """Split a clause at the punctuation nearest its middle (or the middle itself)."""
    mid = len(text) // 2
    cuts = [m.end() for m in re.finditer(r"[,，;；、]", text)]
    cut = min(cuts, key=lambda c: abs(c - mid)) if cuts else mid
    cut = cut if 0 < cut < len(text) else max(1, mid)
    return text[:cut], text[cut:]


def write_store(
    path: Path, heads: list[str], tails: list[str], a: np.ndarray, b: np.ndarray,
    regions: list[str], has_req: np.ndarray,
) -> None:
    """A kb.sqlite with the real schema: documents, clauses (rowid = dense id), requirements and regions."""
    from policykb.store import SCHEMA, SCHEMA_VERSION

    n = len(a)
    region_names = sorted(set(regions))
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    with conn:
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        n_docs = (n + CLAUSES_PER_DOCUMENT - 1) // CLAUSES_PER_DOCUMENT
        doc_region = [regions[int(a[d * CLAUSES_PER_DOCUMENT])] for d in range(n_docs)]
        conn.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((f"syn-{d}", d, doc_region[d], doc_region[d], f"文件{d}", None, "2024-01-01", None, "notice", None,
              "[]", f"syn-{d}.txt", "", "", "[]") for d in range(n_docs)),
        )
        a_list, b_list = a.tolist(), b.tolist()

        def clause_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                d = i // CLAUSES_PER_DOCUMENT
                text = heads[a_list[i]] + tails[b_list[i]]
                yield (i, f"syn-{d}#{i}", f"syn-{d}", doc_region[d], "[]", text, 0, len(text), "body",
                       i % CLAUSES_PER_DOCUMENT)

        conn.executemany(
            'INSERT INTO clauses (rowid, clause_id, doc_id, region_id, section, text, start, "end", role, ordinal) '
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            clause_rows(),
        )
        with_req = np.flatnonzero(has_req[a]).tolist()
        conn.executemany(
            "INSERT INTO requirements (clause_id, doc_id, region_id, span, span_start, span_end, subject, "
            "comparator, value_low, value_high, unit, period, base, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((f"syn-{i // CLAUSES_PER_DOCUMENT}#{i}", f"syn-{i // CLAUSES_PER_DOCUMENT}",
              doc_region[i // CLAUSES_PER_DOCUMENT], "不低于80%", 0, 6, None, ">=", 80.0, 80.0, "%", None, None,
              "requirement") for i in with_req),
        )
        conn.executemany("INSERT INTO regions VALUES (?,?,?,?)", ((r, r, None, "[]") for r in region_names))
    conn.close()


def build_vectors(vecs: np.ndarray, a: np.ndarray, b: np.ndarray, settings: Any, rng: np.random.Generator) -> Any:
    """The dense index over normalised mixtures of two real vectors, mixed chunk by chunk."""
    from policykb.vector_index import VectorIndex, effective_nlist

    n = len(a)

    def mixed(start: int, stop: int) -> np.ndarray:
        alpha = rng.uniform(0.3, 0.7, size=(stop - start, 1)).astype(np.float32)
        out = alpha * vecs[a[start:stop]] + (1 - alpha) * vecs[b[start:stop]]
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    if n <= CHUNK or n <= settings.ann_threshold:
        return VectorIndex.build(mixed(0, n), ann_threshold=settings.ann_threshold, nlist=settings.ivf_nlist,
                                 nprobe=settings.ivf_nprobe)
    # Train on the first chunk (the mixtures are i.i.d.), then add the rest chunk by chunk.
    import faiss

    index = VectorIndex.build(mixed(0, CHUNK), ann_threshold=0, nlist=effective_nlist(n, settings.ivf_nlist),
                              nprobe=settings.ivf_nprobe)
    raw = index._index
    for start in range(CHUNK, n, CHUNK):
        raw.add(mixed(start, min(n, start + CHUNK)))
    faiss.extract_index_ivf(raw).make_direct_map()
    return index


def percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.array(values)
    return round(float(np.percentile(arr, 50)), 2), round(float(np.percentile(arr, 95)), 2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--data", type=Path, required=True,
                    help="npz with real clause texts, vectors and queries (optional: regions, has_requirement)")
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--model", default=None, help="model setting (`hash` for the test stub)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--work", type=Path, default=None, help="folder for the synthetic store (default: a temp one)")
    args = ap.parse_args()

    import bm25s
    from cpu import cpu_label

    from policykb.embed import load_embedder
    from policykb.keyword_index import KeywordIndex, choose_backend, tokenize
    from policykb.search import SearchEngine
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings
    from policykb.store import Store

    work = args.work or Path(tempfile.mkdtemp(prefix="policykb-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings.load(embed_backend=args.backend, model=args.model, index_dir=str(work / "no-index"))
    data = np.load(args.data, allow_pickle=True)
    texts = [str(t) for t in data["texts"]]
    vecs = data["vectors"].astype(np.float32)
    queries = [str(q) for q in data["queries"]]
    regions = [str(r) for r in data["regions"]] if "regions" in data.files else ["region"] * len(texts)
    has_req = (np.asarray(data["has_requirement"], dtype=bool) if "has_requirement" in data.files
               else np.zeros(len(texts), dtype=bool))
    rng = np.random.default_rng(7)
    n = args.size

    t0 = time.perf_counter()
    pieces = [halves(t) for t in texts]
    heads, tails = [h for h, _ in pieces], [t for _, t in pieces]
    head_tokens = [tokenize(h) for h in heads]
    tail_tokens = [tokenize(t) for t in tails]
    a = rng.integers(0, len(texts), n)
    b = rng.integers(0, len(texts), n)
    corpus_tokens = [head_tokens[i] + tail_tokens[j] or [""] for i, j in zip(a.tolist(), b.tolist(), strict=True)]
    bm25 = bm25s.BM25(backend=choose_backend(n))
    bm25.index(corpus_tokens, show_progress=False)
    del corpus_tokens
    keyword = KeywordIndex(bm25, n)
    bm25_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    vector = build_vectors(vecs, a, b, settings, rng)
    faiss_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    store_path = work / f"scale-{n}.sqlite"
    store_path.unlink(missing_ok=True)
    write_store(store_path, heads, tails, a, b, regions, has_req)
    store_s = time.perf_counter() - t2
    build_s = time.perf_counter() - t0
    del a, b

    embedder = load_embedder(settings)
    engine = SearchEngine(Store(store_path), keyword, vector, embedder, settings)
    engine.warm_up()
    kb = KnowledgeBase(settings)
    # The service opens its engine from the index folder; here it is handed the synthetic one.
    kb._engine, kb._engine_build = engine, kb._current_name()

    def timed(fn: Callable[[str], Any], qs: list[str]) -> list[float]:
        out = []
        for q in qs:
            # The engine caches query vectors (compare reuses one per region); a benchmark query pays for its own.
            engine._query_vector.cache_clear()
            s = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - s) * 1000)
        return out

    sample = [queries[i % len(queries)] for i in range(args.queries)]
    timed(lambda q: kb.search(q, k=10), sample[:20])  # warm caches
    total = timed(lambda q: kb.search(q, k=10), sample)
    rank = timed(lambda q: engine.rank(q, k=10), sample)
    emb = timed(lambda q: embedder.encode_queries([q]), sample)
    qvecs = {q: np.asarray(embedder.encode_queries([q]), dtype=np.float32) for q in dict.fromkeys(sample)}
    dense = timed(lambda q: vector.search(qvecs[q], settings.candidates), sample)
    kw = timed(lambda q: keyword.search(q, settings.candidates, common_share=settings.common_term_share), sample)
    ranked = {q: engine.rank(q, k=10) for q in dict.fromkeys(sample)}
    fetch = timed(lambda q: engine.store.clauses_by_rowids([r.rowid for r in ranked[q]]), sample)

    # recall@10: the service's top 10 against the top 10 it gives when the dense side is an exact scan
    # (every IVF list probed), on the benchmark queries; and the same for the dense ranking alone.
    recall, dense_recall = 1.0, 1.0
    if vector.kind != "flat" and n <= 2_000_000:
        import faiss

        ivf = faiss.extract_index_ivf(vector._index)
        probe = ivf.nprobe
        hybrid_hits, dense_hits = [], []
        for q, qv in qvecs.items():
            approx = {r.rowid for r in ranked[q]}
            approx_dense = set(vector.search(qv, 10)[0][0].tolist())
            ivf.nprobe = ivf.nlist
            exact = {r.rowid for r in engine.rank(q, k=10)}
            exact_dense = set(vector.search(qv, 10)[0][0].tolist())
            ivf.nprobe = probe
            hybrid_hits.append(len(approx & exact) / max(1, len(exact)))
            dense_hits.append(len(approx_dense & exact_dense) / max(1, len(exact_dense)))
        recall, dense_recall = round(float(np.mean(hybrid_hits)), 3), round(float(np.mean(dense_hits)), 3)

    p50, p95 = percentiles(total)
    rank_p50, rank_p95 = percentiles(rank)
    result = {
        "size": n,
        "cpu": cpu_label(),
        "index": vector.kind,
        "nprobe": vector.nprobe,
        "bm25_backend": keyword.backend,
        "build_s": round(build_s, 1),
        "build_bm25_s": round(bm25_s, 1),
        "build_faiss_s": round(faiss_s, 1),
        "build_store_s": round(store_s, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "rank_p50_ms": rank_p50,
        "rank_p95_ms": rank_p95,
        "embed_p50_ms": percentiles(emb)[0],
        "faiss_p50_ms": percentiles(dense)[0],
        "bm25_p50_ms": percentiles(kw)[0],
        "fetch_p50_ms": percentiles(fetch)[0],
        "recall@10": recall,
        "dense_recall@10": dense_recall,
        "rss_mb": round(rss_mb(), 0),
        "backend": getattr(embedder, "backend", args.backend),
        "pid": os.getpid(),
    }
    kb.close()
    store_path.unlink(missing_ok=True)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
