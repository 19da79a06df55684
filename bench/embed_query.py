"""One query's embedding, the way a request pays for it: the single-text int8 graph (default path) against the
batch graph the query path used before, interleaved query by query so load from elsewhere hits both alike.

Every timed query is distinct and uncached: the benchmark queries (bench/queries*.toml) first, then phrases of
real corpus sentences (up to 30 characters, as a user would type them) until there are `--queries` of them.
Tokenised with the full tokenizer (as a server does); wall time and the thread's own CPU time (robust to other
processes on a shared machine) per query. Usage: python bench/embed_query.py [--queries 260] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def distinct_queries(count: int) -> list[str]:
    """`count` distinct real queries: the benchmark's, then phrases cut from the corpus at punctuation."""
    queries: list[str] = []
    for name in ("queries.toml", "queries_dev.toml", "queries_heldout.toml"):
        queries += [q["text"] for q in tomllib.loads((ROOT / "bench" / name).read_text(encoding="utf-8"))["query"]]
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        for phrase in re.split(r"[，。；：、\n]", path.read_text(encoding="utf-8")):
            phrase = phrase.strip()
            if 8 <= len(phrase) <= 30 and "?" not in phrase:
                queries.append(phrase)
    return list(dict.fromkeys(queries))[:count]


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=260)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    from policykb.embed import SentenceTransformerEmbedder, l2_normalise
    from policykb.settings import Settings

    embedder = SentenceTransformerEmbedder(Settings.load().model_path, backend="onnx-int8", threads=args.threads)
    embedder.load_tokenizer()
    encoder = embedder._encoder
    queries = distinct_queries(args.queries)

    def batch_graph(query: str) -> np.ndarray:
        ids, mask = encoder.token_ids([embedder.query_prompt + query])
        hidden = encoder.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return l2_normalise(hidden.mean(axis=1))

    def single_text(query: str) -> np.ndarray:
        return embedder.encode_queries([query])

    paths = {"single-text graph (default)": single_text, "batch graph (before)": batch_graph}
    for fn in paths.values():  # load both, outside the timing
        fn("预热")
    wall: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    lowest = 1.0
    for i, query in enumerate(queries):
        vectors = []
        for name in (list(paths) if i % 2 else list(paths)[::-1]):
            start_wall, start_cpu = time.perf_counter(), time.thread_time()
            vectors.append(paths[name](query))
            wall[name].append(1e3 * (time.perf_counter() - start_wall))
            cpu[name].append(1e3 * (time.thread_time() - start_cpu))
        lowest = min(lowest, float(vectors[0][0] @ vectors[1][0]))
    from cpu import cpu_label

    print(json.dumps({
        "queries": len(queries), "distinct": len(set(queries)), "threads": args.threads, "cpu": cpu_label(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "lowest_cosine_between_paths": round(lowest, 7),
        **{name: {"wall_ms": percentiles(wall[name]), "thread_cpu_ms": percentiles(cpu[name])} for name in paths},
    }, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(main())
