"""One scale point of the latency benchmark, run in its own process so its resident memory is its own.

The synthetic corpus recombines real clauses (bench/synthbuild.py): each synthetic clause joins the first half of
one real clause with the second half of another, and its vector is a normalised mixture of the two real vectors.
This keeps the term statistics and the anisotropy of real e5 vectors, which is what BM25 and IVF speed depend on,
without hours of encoding. The build is cached (synthbuild.cache_root()); a later run with the same code, data and
parameters only loads it, memory-mapped as the service loads large indexes (`KeywordIndex.load`, `VectorIndex.load`).

Every timed query goes through `KnowledgeBase.search`, the code a request takes: ranking (query embedding, BM25,
faiss, fusion) and then fetching the hits' clauses and requirements from the SQLite store of the same size.

Prints one JSON object: size, build seconds (of the build that made the cached artefacts, and whether it was
reused), p50/p95 of the warm service-path query, the parts (embedding, BM25, faiss with its refine step, fusion,
fetch; faiss also without the refine), recall@10 of the service's top ten against the same service with exact dense
search (exact inner product on the float mixture vectors, computed from the mixture structure, so it is affordable
at 10M), the same without the refine step (the SQ8 codes alone), and the process's RSS after the timed queries
(before the recall check, which touches more of the mapped files). The build's refine file (bench/synthrefine.py)
is written on first use if the cached build predates it.

Re-run quietly from the cache: `PYTHONPATH=src .venv/bin/python bench/scale.py --size 1000000`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Exact fused scores this close to the exact 10th count as ties in the tie-aware recall (float32 noise is ~1e-6).
TIE_TOLERANCE = 1e-5
TIE_DEPTH = 50
sys.path.insert(0, str(ROOT / "bench"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.array(values)
    return round(float(np.percentile(arr, 50)), 2), round(float(np.percentile(arr, 95)), 2)


def tie_aware_hits(got: set[int], exact: set[int], exact_deep: list[Any]) -> float:
    """Share of the exact top ten found, a hit also being any id whose exact fused score ties the exact 10th's
    (within TIE_TOLERANCE); exact_deep is the exact ranking deeper than ten, best first."""
    if not exact_deep:
        return 1.0
    tenth = exact_deep[min(9, len(exact_deep) - 1)].score
    tied = {r.rowid for r in exact_deep if r.score >= tenth - TIE_TOLERANCE} & got
    return min(1.0, len((got & exact) | tied) / max(1, len(exact)))


def make_data(path: Path, embedder: Any) -> None:
    """The real clause pool: the seed corpus's body clauses, their vectors, and the benchmark queries."""
    from policykb import pipeline

    processed = [pipeline.process_file(f) for f in sorted((ROOT / "corpus").glob("*.txt"))]
    body = [c for d in processed for c in d.clauses if c.role == "body"]
    with_requirement = {r.clause_id for d in processed for r in d.requirements if r.kind == "requirement"}
    queries = tomllib.loads((ROOT / "bench" / "queries.toml").read_text(encoding="utf-8"))["query"]
    tmp = path.with_suffix(f".tmp-{os.getpid()}.npz")
    np.savez(tmp, texts=np.array([c.text for c in body], dtype=object),
             vectors=embedder.encode_passages([c.text for c in body]),
             queries=np.array([q["text"] for q in queries], dtype=object),
             regions=np.array([c.region_id for c in body], dtype=object),
             has_requirement=np.array([c.clause_id in with_requirement for c in body]))
    tmp.rename(path)


class ExactMixtureIndex:
    """Exact inner product over the float mixture vectors, from the pool's vectors: the `exact search` of recall.

    score(q, i) = (alpha_i q.x_a + (1 - alpha_i) q.x_b) / |mixture_i|, a few vector operations over n rows."""

    def __init__(self, vecs: np.ndarray, plan: dict[str, np.ndarray]) -> None:
        from synthbuild import mixture_norms

        self.vecs, self.a, self.b = vecs, plan["a"], plan["b"]
        self.alpha = plan["alpha"]
        gram = vecs.astype(np.float64) @ vecs.astype(np.float64).T
        self.inv_norm = 1.0 / mixture_norms(gram, self.a, self.b, self.alpha)
        self.dimension = vecs.shape[1]

    def __len__(self) -> int:
        return len(self.a)

    def similarity(self, query_vec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        s = self.vecs @ np.asarray(query_vec, dtype=np.float32).reshape(-1)
        ids = np.asarray(ids, dtype=np.int64)
        al = self.alpha[ids]
        return ((al * s[self.a[ids]] + (1 - al) * s[self.b[ids]]) * self.inv_norm[ids]).astype(np.float32)

    def search(self, query_vecs: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        out_ids, out_scores = [], []
        for q in np.atleast_2d(query_vecs):
            ids = np.arange(len(self)) if allowed_ids is None else np.unique(np.asarray(allowed_ids, np.int64))
            scores = self.similarity(q, ids)
            kk = min(k, len(ids))
            top = np.argpartition(-scores, kk - 1)[:kk] if kk else np.zeros(0, dtype=np.int64)
            top = top[np.lexsort((ids[top], -scores[top]))]
            out_ids.append(ids[top])
            out_scores.append(scores[top])
        return np.array(out_ids, dtype=np.int64), np.array(out_scores, dtype=np.float32)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--data", type=Path, default=None,
                    help="npz with real clause texts, vectors and queries (optional: regions, has_requirement); "
                         "default: made from the seed corpus with the embedder, cached")
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--model", default=None, help="model setting (`hash` for the test stub)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--work", type=Path, default=None, help="cache root (default $POLICYKB_BENCH_CACHE or "
                                                            "~/.cache/policykb-bench)")
    ap.add_argument("--nlist", type=int, default=None, help="IVF lists (default: the setting; 16384 from 5M rows)")
    ap.add_argument("--nprobe", type=int, default=None, help="IVF lists probed (default: the setting)")
    ap.add_argument("--refine-factor", type=int, default=None,
                    help="IVF candidates re-scored per candidate kept (default: the setting; 0: none)")
    ap.add_argument("--bm25", default="auto", help="BM25 scorer: auto (numba for large indexes), csc, numba")
    ap.add_argument("--mmap", choices=("auto", "yes", "no"), default="auto",
                    help="memory-map the index files (auto: as the service does, by size)")
    ap.add_argument("--recall-queries", type=int, default=None, help="distinct queries for the recall check")
    ap.add_argument("--folder", type=Path, default=None,
                    help="query this build folder (made by an earlier build code) instead of the cached one")
    ap.add_argument("--rebuild", action="store_true", help="build even if the cache holds this build")
    ap.add_argument("--build-only", action="store_true",
                    help="build (nice it) and stop; a later run, not niced, loads and queries")
    ap.add_argument("--keep", action="store_true", help="keep the cached build (default: kept from 100k rows)")
    args = ap.parse_args()

    from cpu import cpu_label
    from synthbuild import cache_root, default_nlist, ensure_built, load_pool
    from synthrefine import ensure_refine

    from policykb.embed import load_embedder
    from policykb.keyword_index import DEFAULT_TOKENIZER, KeywordIndex
    from policykb.search import SearchEngine
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings
    from policykb.store import Store
    from policykb.vector_index import VectorIndex

    root = args.work or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    settings = Settings.load(embed_backend=args.backend, model=args.model, index_dir=str(root / "no-index"))
    embedder = load_embedder(settings)
    data_path = args.data
    if data_path is None:
        corpus = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "corpus").glob("*.txt"))))
        data_path = root / f"data-{embedder.name.replace('/', '_')}-{getattr(embedder, 'backend', args.backend)}-" \
                           f"{corpus.hexdigest()[:12]}.npz"
        if not data_path.is_file():
            make_data(data_path, embedder)
    pool = load_pool(data_path)
    n = args.size
    nlist = args.nlist or default_nlist(n, int(settings.ivf_nlist))
    nprobe = args.nprobe or int(settings.ivf_nprobe)
    if args.folder:  # a build made by an earlier version of the build code: query it as it is
        folder = args.folder
        record = {**json.loads((folder / "build.json").read_text(encoding="utf-8")), "reused": True}
        nlist = int(record["params"]["nlist"])
    else:
        folder, record = ensure_built(n, data_path, pool, nlist, nprobe, int(settings.ann_threshold),
                                      DEFAULT_TOKENIZER, rebuild=args.rebuild, root=root)

    refine_record = ensure_refine(folder, pool["vectors"])
    if args.build_only:
        sys.stdout.write(json.dumps({**record, **refine_record, "cache": str(folder)}) + "\n")
        return 0
    # An index cached before MaxScore gets its impact bounds once (seconds), not a rebuild; the key is unchanged.
    KeywordIndex.ensure_impact_bounds(folder / "bm25")
    refine_factor = int(settings.refine_factor) if args.refine_factor is None else args.refine_factor
    mmap = None if args.mmap == "auto" else args.mmap == "yes"
    rss_before_load = rss_mb()
    t_load = time.perf_counter()
    keyword = KeywordIndex.load(folder / "bm25", backend=args.bm25, mmap=mmap)
    vector = VectorIndex.load(folder / "dense.faiss", nprobe=min(nprobe, nlist), mmap=mmap,
                              refine_factor=refine_factor)
    engine = SearchEngine(Store(folder / "kb.sqlite"), keyword, vector, embedder, settings)
    engine.warm_up()
    load_s = time.perf_counter() - t_load
    kb = KnowledgeBase(settings)
    # The service opens its engine from the index folder; here it is handed the synthetic one.
    kb._engine, kb._engine_build = engine, kb._current_name()

    cpu_ms: dict[int, list[float]] = {}

    def timed(fn: Callable[[str], Any], qs: list[str]) -> list[float]:
        """Wall milliseconds per query; the process's CPU milliseconds go to cpu_ms (on a shared machine the
        wall time includes waiting for a core, the CPU time hardly)."""
        out, cpu = [], []
        for q in qs:
            # The engine caches query vectors (compare reuses one per region); a benchmark query pays for its own.
            engine._query_vector.cache_clear()
            s, c = time.perf_counter(), time.process_time()
            fn(q)
            out.append((time.perf_counter() - s) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        cpu_ms[id(out)] = cpu
        return out

    def cpu_p(wall: list[float]) -> tuple[float, float]:
        return percentiles(cpu_ms[id(wall)])

    queries = pool["queries"]
    sample = [queries[i % len(queries)] for i in range(args.queries)]
    timed(lambda q: kb.search(q, k=10), sample[:20])  # warm caches
    total = timed(lambda q: kb.search(q, k=10), sample)
    rank = timed(lambda q: engine.rank(q, k=10), sample)
    emb = timed(lambda q: embedder.encode_queries([q]), sample)
    qvecs = {q: np.asarray(embedder.encode_queries([q]), dtype=np.float32) for q in dict.fromkeys(sample)}
    dense = timed(lambda q: vector.search(qvecs[q], settings.candidates), sample)  # the refine included
    factor, vector.refine_factor = vector.refine_factor, 0
    try:
        dense_unrefined = timed(lambda q: vector.search(qvecs[q], settings.candidates), sample)
    finally:
        vector.refine_factor = factor
    kw = timed(lambda q: keyword.search(q, settings.candidates, common_share=settings.common_term_share), sample)
    ranked = {q: engine.rank(q, k=10) for q in dict.fromkeys(sample)}
    fetch = timed(lambda q: engine.store.clauses_by_rowids([r.rowid for r in ranked[q]]), sample)
    rss = rss_mb()

    # recall@10: the service's top 10 against the top 10 it gives when the dense side is an exact search over
    # the float vectors (the IVF-SQ8 index swapped for ExactMixtureIndex), on the benchmark queries; and the same
    # for the dense ranking alone. Synthetic rows of one (head, tail) pair share their text, and where the query is
    # about as close to both halves their cosines agree to float32 rounding: the exact ranking orders them by
    # rounding noise (fused scores ~1e-6 apart). The tie-aware figure also counts a hit whose exact fused score is
    # within TIE_TOLERANCE of the exact 10th (SQ8's rounding moves fused scores by ~1e-3, so it still counts).
    recall, dense_recall, probe_recall, recall_queries = 1.0, 1.0, 1.0, 0
    unrefined_recall, unrefined_dense_recall = 1.0, 1.0
    tie_recall, unrefined_tie_recall = 1.0, 1.0
    if vector.kind != "flat":
        plan = dict(np.load(folder / "plan.npz"))
        exact_index = ExactMixtureIndex(pool["vectors"], plan)
        distinct = list(qvecs)[: args.recall_queries or len(qvecs)]
        hybrid_hits, dense_hits, probe_hits, unrefined_hits, unrefined_dense_hits = [], [], [], [], []
        tie_hits, unrefined_tie_hits = [], []
        local = engine.backend
        import faiss

        ivf = faiss.extract_index_ivf(vector._index)
        for q in distinct:
            qv = qvecs[q]
            approx = {r.rowid for r in ranked[q]}
            approx_dense = set(vector.search(qv, 10)[0][0].tolist())
            local.vector_index = exact_index  # type: ignore[attr-defined]
            try:
                exact = {r.rowid for r in engine.rank(q, k=10)}
                exact_deep = engine.rank(q, k=TIE_DEPTH)
            finally:
                local.vector_index = vector  # type: ignore[attr-defined]
            exact_dense = set(exact_index.search(qv, 10)[0][0].tolist())
            # The same service without the refine step: the SQ8 codes' own ranking.
            factor, vector.refine_factor = vector.refine_factor, 0
            try:
                unrefined = {r.rowid for r in engine.rank(q, k=10)}
                unrefined_dense = set(vector.search(qv, 10)[0][0].tolist())
            finally:
                vector.refine_factor = factor
            tie_hits.append(tie_aware_hits(approx, exact, exact_deep))
            unrefined_tie_hits.append(tie_aware_hits(unrefined, exact, exact_deep))
            unrefined_hits.append(len(unrefined & exact) / max(1, len(exact)))
            unrefined_dense_hits.append(len(unrefined_dense & exact_dense) / max(1, len(exact_dense)))
            # The IVF's own share of the loss: the same SQ8 codes with every list probed.
            probe, ivf.nprobe = ivf.nprobe, ivf.nlist
            try:
                all_lists = {r.rowid for r in engine.rank(q, k=10)}
            finally:
                ivf.nprobe = probe
            hybrid_hits.append(len(approx & exact) / max(1, len(exact)))
            dense_hits.append(len(approx_dense & exact_dense) / max(1, len(exact_dense)))
            probe_hits.append(len(approx & all_lists) / max(1, len(all_lists)))
        recall, dense_recall = round(float(np.mean(hybrid_hits)), 3), round(float(np.mean(dense_hits)), 3)
        probe_recall = round(float(np.mean(probe_hits)), 3)
        unrefined_recall = round(float(np.mean(unrefined_hits)), 3)
        unrefined_dense_recall = round(float(np.mean(unrefined_dense_hits)), 3)
        tie_recall, unrefined_tie_recall = (round(float(np.mean(tie_hits)), 3),
                                            round(float(np.mean(unrefined_tie_hits)), 3))
        recall_queries = len(distinct)

    p50, p95 = percentiles(total)
    rank_p50, rank_p95 = percentiles(rank)
    result = {
        "size": n,
        "cpu": cpu_label(),
        "index": vector.kind,
        "nlist": vector.nlist,
        "nprobe": vector.nprobe,
        "refine_factor": vector.refine_factor if vector.refined else 0,
        "refine_build": refine_record.get("refine"),
        "bm25_backend": keyword.backend,
        "mmap": args.mmap,
        "reused": record["reused"],
        "built_at": record["built_at"],
        "build_s": record["build_s"],
        "build_bm25_s": record["build_bm25_s"],
        "build_faiss_s": record["build_faiss_s"],
        "build_store_s": record["build_store_s"],
        "build_load_average": record.get("load_average"),
        "disk_mb": record.get("disk_mb"),
        "load_s": round(load_s, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "rank_p50_ms": rank_p50,
        "rank_p95_ms": rank_p95,
        "embed_p50_ms": percentiles(emb)[0],
        "faiss_p50_ms": percentiles(dense)[0],
        "faiss_p95_ms": percentiles(dense)[1],
        "faiss_unrefined_p50_ms": percentiles(dense_unrefined)[0],
        "faiss_unrefined_p95_ms": percentiles(dense_unrefined)[1],
        "bm25_p50_ms": percentiles(kw)[0],
        "bm25_p95_ms": percentiles(kw)[1],
        "fetch_p50_ms": percentiles(fetch)[0],
        "cpu_p50_ms": cpu_p(total)[0],
        "cpu_p95_ms": cpu_p(total)[1],
        "cpu_parts_p50_ms": {"embed": cpu_p(emb)[0], "bm25": cpu_p(kw)[0], "faiss": cpu_p(dense)[0],
                             "rank": cpu_p(rank)[0], "fetch": cpu_p(fetch)[0]},
        "cpu_parts_p95_ms": {"embed": cpu_p(emb)[1], "bm25": cpu_p(kw)[1], "faiss": cpu_p(dense)[1],
                             "rank": cpu_p(rank)[1], "fetch": cpu_p(fetch)[1]},
        "recall@10": recall,
        "dense_recall@10": dense_recall,
        "all_lists_recall@10": probe_recall,
        "unrefined_recall@10": unrefined_recall,
        "tie_aware_recall@10": tie_recall,
        "unrefined_tie_aware_recall@10": unrefined_tie_recall,
        "unrefined_dense_recall@10": unrefined_dense_recall,
        "recall_queries": recall_queries,
        "rss_mb": round(rss, 0),
        "rss_before_load_mb": round(rss_before_load, 0),
        "load_average": round(os.getloadavg()[0], 2),
        "backend": getattr(embedder, "backend", args.backend),
        "cache": str(folder),
        "pid": os.getpid(),
    }
    kb.close()
    if not (args.keep or n >= 100_000):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
