"""Calibrate compare's found/未规定 rule on the labelled measures in tests/golden/compare_measures.toml.

Usage: python bench/calibrate_compare.py [INDEX_DIR]  (an index built with the real model; default indexes/)
Prints precision/recall of `found` and value accuracy for a sweep of thresholds, and the mistakes at the
configured one.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from policykb.compare import SEARCH_DEPTH, compare_hits, ordered_regions
from policykb.service import KnowledgeBase
from policykb.settings import Settings

LABELS = Path(__file__).resolve().parents[1] / "tests" / "golden" / "compare_measures.toml"


def load_labels(path: Path = LABELS, section: str = "measure") -> list[dict[str, Any]]:
    """`measure` rows were used to calibrate the rule; `heldout` rows were written after and never tuned on."""
    return tomllib.loads(path.read_text(encoding="utf-8"))[section]


def evaluate(kb: KnowledgeBase, labels: list[dict[str, Any]], thresholds: list[float]) -> dict[float, dict[str, Any]]:
    """Score the rule at each threshold; search results are fetched once per (query, region)."""
    regions = ordered_regions(kb.regions())
    hits = {
        m["query"]: {r["region_id"]: kb.search(m["query"], k=SEARCH_DEPTH, region_ids=[r["region_id"]]) for r in regions}
        for m in labels
    }
    titles = {d.doc_id: d.metadata.title or "" for d in kb.documents()}
    out: dict[float, dict[str, Any]] = {}
    for t in thresholds:
        tp = fp = fn = tn = value_ok = value_n = 0
        mistakes = []
        for m in labels:
            by_region = {r.region_id: r for r in compare_hits(m["query"], regions, hits[m["query"]], t, titles).regions}
            for rid, want in m["expect"].items():
                result = by_region[rid]
                should = want is not False
                if result.found and should:
                    tp += 1
                elif result.found:
                    fp += 1
                elif should:
                    fn += 1
                else:
                    tn += 1
                got_value = result.value.value if result.value is not None else None
                if should and not isinstance(want, bool):
                    value_n += 1
                    value_ok += int(result.found and got_value == want)
                if result.found != should or (should and not isinstance(want, bool) and got_value != want):
                    ev = result.nearest.evidence() if result.nearest else {}
                    mistakes.append(f"{m['query']} / {rid}: want {want}, got found={result.found} value={got_value}"
                                    f" {ev}")
        out[t] = {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "value_accuracy": value_ok / value_n if value_n else 1.0,
            "cells": tp + fp + fn + tn, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "mistakes": mistakes,
        }
    return out


def main(argv: list[str]) -> int:
    index_dir = argv[1] if len(argv) > 1 else "indexes"
    kb = KnowledgeBase(Settings.load(index_dir=index_dir))
    configured = float(kb.settings.compare_threshold)
    sweep = sorted({round(0.70 + 0.01 * i, 2) for i in range(26)} | {configured})
    for section in ("measure", "heldout"):
        results = evaluate(kb, load_labels(section=section), sweep)
        print(f"== {section} rows")
        print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'F1':>6} {'values':>7}  fp fn")
        for t, r in results.items():
            p, rc = r["precision"], r["recall"]
            f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
            mark = "  ← configured" if t == configured else ""
            print(f"{t:>9.2f} {p:>9.3f} {rc:>7.3f} {f1:>6.3f} {r['value_accuracy']:>7.3f}  {r['fp']:>2} {r['fn']:>2}{mark}")
        print(f"mistakes at {configured} ({results[configured]['cells']} cells):")
        for line in results[configured]["mistakes"]:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
