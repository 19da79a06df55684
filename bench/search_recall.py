"""Search recall across regions (issue 13 item 6): recall@10 and MRR on the query sets, hybrid against BM25 alone.

Usage: python bench/search_recall.py INDEX_DIR [SETTING=VALUE ...]
    INDEX_DIR: the seed corpus indexed with the real model. SETTING=VALUE pairs override settings for the run
    (query_expansion=false, region_diversity=0 …), so variants can be compared on the same index.
Query sets: bench/queries_dev.toml (tune on it), bench/queries_heldout.toml (written before tuning, only
reported) and bench/queries.toml (the benchmark's test set).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from run import load_queries, retrieval_scores  # noqa: E402

from policykb.service import KnowledgeBase  # noqa: E402
from policykb.settings import Settings  # noqa: E402

SETS = ("queries_dev.toml", "queries_heldout.toml", "queries.toml")


def main(argv: list[str]) -> int:
    for pair in argv[2:]:  # settings read as the environment would give them, so they are coerced alike
        key, value = pair.split("=", 1)
        os.environ[f"POLICYKB_{key.upper()}"] = value
    kb = KnowledgeBase(Settings.load(index_dir=argv[1], models_dir=str(ROOT / "models")))
    for name in SETS:
        queries = load_queries(name)
        for mode in ("hybrid", "keyword"):
            s = retrieval_scores(kb, queries, mode)
            print(f"{name:22} {mode:8} n={len(queries):3} recall@5 {s['recall@5']:.3f} recall@10 {s['recall@10']:.3f}"
                  f" MRR {s['mrr']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
