"""The scale benchmark runs end to end at a small size, so that `make bench` cannot silently break again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from policykb.embed import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]


def test_scale_script_measures_the_service_path(tmp_path: Path) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    sentences = [s for s in re.split(r"[。\n]", text) if len(s) >= 12][:400]
    vectors = HashEmbedder().encode_passages(sentences)
    data = tmp_path / "data.npz"
    np.savez(
        data,
        texts=np.array(sentences, dtype=object),
        vectors=vectors,
        queries=np.array(["集团化办学专项资金", "教师交流轮岗比例不低于多少", "课后服务"], dtype=object),
        regions=np.array([f"region-{i % 3}" for i in range(len(sentences))], dtype=object),
        has_requirement=np.array([i % 4 == 0 for i in range(len(sentences))]),
    )
    # Above 1,000 clauses the dense index is IVF here, so the approximate path and its recall check run too.
    env = {**os.environ, "POLICYKB_ANN_THRESHOLD": "1000", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--size", "2000", "--data", str(data), "--model", "hash",
         "--queries", "30", "--work", str(tmp_path / "work")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["size"] == 2000
    assert row["index"] == "ivf-sq8"
    assert row["backend"] == "hash"
    assert row["cpu"]
    assert 0.0 <= row["dense_recall@10"] <= 1.0
    assert 0.0 <= row["recall@10"] <= 1.0
    assert row["fetch_p50_ms"] > 0
    # The service path includes the ranking and the fetch, so it cannot be faster than the ranking alone.
    assert row["p50_ms"] >= row["rank_p50_ms"] * 0.8
    assert not (tmp_path / "work" / "scale-2000.sqlite").exists()
