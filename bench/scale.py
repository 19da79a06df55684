"""One scale point of the latency benchmark, run in its own process so its resident memory is its own.

The synthetic corpus recombines real clauses: each synthetic clause joins the first half of one real clause
with the second half of another (tokens are the halves' tokens, so jieba runs once per half, not per row), and
its vector is a normalised mixture of the two real vectors. This keeps the term statistics and the anisotropy
of real e5 vectors, which is what BM25 and IVF speed depend on, without hours of encoding.

Prints one JSON object: size, build seconds, p50/p95 of a warm in-process hybrid query (query embedding +
BM25 + faiss + fusion), the same for its parts, and the process's resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--data", type=Path, required=True, help="npz with real clause texts and vectors")
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    import bm25s

    from policykb.embed import load_embedder
    from policykb.keyword_index import KeywordIndex, choose_backend, tokenize
    from policykb.search import SearchEngine
    from policykb.settings import Settings
    from policykb.vector_index import VectorIndex

    settings = Settings.load(embed_backend=args.backend)
    data = np.load(args.data, allow_pickle=True)
    texts = [str(t) for t in data["texts"]]
    vecs = data["vectors"].astype(np.float32)
    queries = [str(q) for q in data["queries"]]
    rng = np.random.default_rng(7)

    t0 = time.perf_counter()
    pieces = [halves(t) for t in texts]
    head_tokens = [tokenize(h) for h, _ in pieces]
    tail_tokens = [tokenize(t) for _, t in pieces]
    n = args.size
    a = rng.integers(0, len(texts), n)
    b = rng.integers(0, len(texts), n)
    corpus_tokens = [head_tokens[i] + tail_tokens[j] or [""] for i, j in zip(a.tolist(), b.tolist(), strict=True)]
    alpha = rng.uniform(0.3, 0.7, size=(n, 1)).astype(np.float32)
    mixed = alpha * vecs[a] + (1 - alpha) * vecs[b]
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    del a, b, alpha

    bm25 = bm25s.BM25(backend=choose_backend(n))
    bm25.index(corpus_tokens, show_progress=False)
    del corpus_tokens
    keyword = KeywordIndex(bm25, n)
    vector = VectorIndex.build(
        mixed, ann_threshold=settings.ann_threshold, nlist=settings.ivf_nlist, nprobe=settings.ivf_nprobe
    )
    del mixed
    build_s = time.perf_counter() - t0

    engine = SearchEngine(None, keyword, vector, load_embedder(settings), settings)  # type: ignore[arg-type]
    keyword.warm_up()
    embedder = engine.embedder()
    embedder.encode_queries(["预热"])

    def timed(fn, qs):  # type: ignore[no-untyped-def]
        out = []
        for q in qs:
            s = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - s) * 1000)
        return np.array(out)

    sample = [queries[i % len(queries)] for i in range(args.queries)]
    timed(lambda q: engine.rank(q, k=10), sample[:20])  # warm caches
    total = timed(lambda q: engine.rank(q, k=10), sample)
    emb = timed(lambda q: embedder.encode_queries([q]), sample)
    qv = embedder.encode_queries([sample[0]])
    dense = timed(lambda q: vector.search(qv, 100), sample)
    kw = timed(lambda q: keyword.search(q, 100), sample)
    result = {
        "size": n,
        "index": vector.kind,
        "bm25_backend": keyword.backend,
        "build_s": round(build_s, 1),
        "p50_ms": round(float(np.percentile(total, 50)), 2),
        "p95_ms": round(float(np.percentile(total, 95)), 2),
        "embed_p50_ms": round(float(np.percentile(emb, 50)), 2),
        "faiss_p50_ms": round(float(np.percentile(dense, 50)), 2),
        "bm25_p50_ms": round(float(np.percentile(kw, 50)), 2),
        "rss_mb": round(rss_mb(), 0),
        "backend": args.backend,
        "pid": os.getpid(),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
