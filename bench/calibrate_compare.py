"""Score compare's found/未规定 rule and its aligned values on labelled measure × region cells.

Usage:
    python bench/calibrate_compare.py [INDEX_DIR] [LABELS.toml]
        INDEX_DIR: an index built with the real model (default indexes/). For tests/golden/compare_regions.toml
        build it from corpus/ plus tests/compare_pages/*.txt.
Prints, per section of the labels file (calibration rows may be tuned on, held-out rows only reported): precision
and recall of `found`, precision and recall of 未规定, value accuracy, and every mistake with its evidence.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb.service import KnowledgeBase
from policykb.settings import Settings

LABELS = Path(__file__).resolve().parents[1] / "tests" / "golden" / "compare_measures.toml"


def load_labels(path: Path = LABELS, section: str = "measure") -> list[dict[str, Any]]:
    return list(tomllib.loads(path.read_text(encoding="utf-8")).get(section, []))


@dataclass
class Score:
    """Confusion counts of `found` (positive = the region sets the measure) and value accuracy."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    value_ok: int = 0
    value_n: int = 0
    mistakes: list[str] = field(default_factory=list)

    @staticmethod
    def ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    def summary(self) -> dict[str, float]:
        return {
            "found_precision": self.ratio(self.tp, self.tp + self.fp),
            "found_recall": self.ratio(self.tp, self.tp + self.fn),
            "unspecified_precision": self.ratio(self.tn, self.tn + self.fn),
            "unspecified_recall": self.ratio(self.tn, self.tn + self.fp),
            "value_accuracy": self.ratio(self.value_ok, self.value_n),
            "cells": self.tp + self.fp + self.fn + self.tn,
        }


def score_rows(kb: KnowledgeBase, rows: list[dict[str, Any]]) -> Score:
    """Run compare on each labelled query and count right and wrong cells."""
    score = Score()
    for row in rows:
        regions = {r["region_id"]: r for r in kb.compare(row["query"]).to_dict()["regions"]}
        for rid, want in row["expect"].items():
            got = regions.get(rid)
            if got is None:
                score.mistakes.append(f"{row['query']} / {rid}: no such column")
                continue
            should = want is not False
            found = bool(got["found"])
            value = got["value"]["value"] if got["value"] else None
            if found and should:
                score.tp += 1
            elif found:
                score.fp += 1
            elif should:
                score.fn += 1
            else:
                score.tn += 1
            wrong_value = should and not isinstance(want, bool) and value != want
            if should and not isinstance(want, bool):
                score.value_n += 1
                score.value_ok += int(found and not wrong_value)
            if found != should or wrong_value:
                top = got["matches"][0]["text"][:40] if got["matches"] else (got.get("nearest") or {}).get("text", "")[:40]
                score.mistakes.append(f"{row['query']} / {rid}: want {want}, got found={found} value={value} "
                                      f"{got['evidence']} «{top}»")
    return score


def main(argv: list[str]) -> int:
    index_dir = argv[1] if len(argv) > 1 else "indexes"
    labels = Path(argv[2]) if len(argv) > 2 else LABELS
    kb = KnowledgeBase(Settings.load(index_dir=index_dir))
    sections = list(tomllib.loads(labels.read_text(encoding="utf-8")))
    for section in sections:
        score = score_rows(kb, load_labels(labels, section))
        s = score.summary()
        print(f"== {labels.name} [{section}] {s['cells']} cells: found P {s['found_precision']:.3f} "
              f"R {s['found_recall']:.3f} | 未规定 P {s['unspecified_precision']:.3f} R {s['unspecified_recall']:.3f} "
              f"| values {score.value_ok}/{score.value_n}")
        for line in score.mistakes:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
