"""Scale-out rows of `make bench`: Ray ingest against the single-process ingest on the same files, and Milvus Lite
against the local backend (query latency, top-10 overlap) on synthetic collections (1k and 100k clauses in make bench).

- Ingest: `copies` variants of each seed file (every line carries the copy's number, so no clause text repeats
  and the embedding cache cannot help), ingested once locally and once with `--engine ray` into fresh folders,
  with the configured model.
- Milvus Lite: collections built as in growth.py (recombined real clauses, random unit vectors in the cache) with
  the hash embedder (what is timed is the backend, not the model), searched with the benchmark queries through
  `KnowledgeBase.search` on both backends.

Run alone: `PYTHONPATH=src .venv/bin/python bench/scaleout.py [--copies 4] [--sizes 1000,10000]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def variant_files(folder: Path, copies: int) -> list[Path]:
    """`copies` variants of every seed file, each line marked with its copy number."""
    out = []
    for source in sorted((ROOT / "corpus").glob("*.txt")):
        lines = source.read_text(encoding="utf-8").splitlines()
        for k in range(copies):
            path = folder / f"{source.stem}-v{k}.txt"
            marked = [f"{line}(第{k}稿)" if len(line.strip()) > 12 else line for line in lines]
            path.write_text("\n".join(marked) + "\n", encoding="utf-8")
            out.append(path)
    return out


def ingest_rows(copies: int) -> list[dict[str, Any]]:
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="policykb-scaleout-"))
    (work / "in").mkdir()
    files = variant_files(work / "in", copies)
    rows = []
    for engine in ("local", "ray"):
        kb = KnowledgeBase(Settings.load(index_dir=str(work / engine)))
        kb.embedder().warm_up()  # the model loaded before timing, as in both engines' steady state
        started = time.perf_counter()
        report = kb.ingest(files, engine=engine)
        seconds = time.perf_counter() - started
        clauses = sum(f.clauses for f in report.files)
        rows.append({"engine": engine, "files": len(files), "clauses": clauses, "seconds": seconds,
                     "clauses_per_s": clauses / seconds if seconds else 0.0})
        kb.close()
    try:
        import ray

        ray.shutdown()
    except ImportError:
        pass
    shutil.rmtree(work, ignore_errors=True)
    return rows


def milvus_rows(sizes: list[int], emit: Any = None) -> list[dict[str, Any]]:
    """Per size and backend: build_s (segment build), open_s (the first open: for milvus, filling the collection),
    p50/p95 of KnowledgeBase.search; `emit` gets each row as soon as it is measured (a 100k Milvus Lite run takes
    long on a loaded machine)."""
    from growth import synthetic_collection

    from policykb import pipeline
    from policykb.embed import EmbeddingCache, HashEmbedder
    from policykb.indexer import CACHE_FILE, build_index, embedder_key, embedding_text
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    texts = [c.text for f in sorted((ROOT / "corpus").glob("*.txt"))
             for c in pipeline.process_file(f).clauses if c.role == "body"]
    queries = [q["text"] for q in tomllib.loads((ROOT / "bench" / "queries.toml").read_text("utf-8"))["query"]]
    embedder = HashEmbedder()
    rows = []
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"policykb-milvus-{size}-"))
        collection = synthetic_collection(size, texts)
        all_texts = [embedding_text(c) for p in collection for c in p.clauses]
        vectors = embedder.encode_passages(all_texts)
        timings: dict[str, list[float]] = {}
        tops: dict[str, list[list[str]]] = {}
        for backend in ("local", "milvus"):
            root = work / backend
            root.mkdir()
            with EmbeddingCache(root / CACHE_FILE, embedder_key(embedder)) as cache:
                cache.put_many(all_texts, np.asarray(vectors), "")
            settings = Settings.load(index_dir=str(root), backend=backend, milvus_uri="kb-milvus.db", model="hash")
            started = time.perf_counter()
            build_index(collection, root, embedder, settings)
            built = time.perf_counter()
            kb = KnowledgeBase(settings, embedder_factory=lambda s: embedder)
            kb.search("预热")  # opens the build (for milvus: syncs the collection)
            build_s, open_s = built - started, time.perf_counter() - built
            times, top = [], []
            for q in queries:
                t = time.perf_counter()
                hits = kb.search(q, k=10)
                times.append((time.perf_counter() - t) * 1000)
                top.append([h.clause.clause_id for h in hits])
            timings[backend], tops[backend] = times, top
            rows.append({"size": size, "backend": backend, "build_s": build_s, "open_s": open_s,
                         "p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))})
            kb.close()
            if backend == "milvus":
                rows[-1]["top10_overlap_with_local"] = float(np.mean([
                    len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(tops["local"], tops["milvus"], strict=True)
                ]))
            if emit is not None:
                emit(rows[-1])
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--sizes", default="1000,10000")
    args = ap.parse_args()
    def emit(row: dict[str, Any]) -> None:
        print(json.dumps(row, ensure_ascii=False), flush=True)

    for row in ingest_rows(args.copies):
        emit(row)
    milvus_rows([int(s) for s in args.sizes.split(",") if s], emit)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(main())
