"""The scale-out benchmark stays runnable: its Milvus Lite rows at a small size (the Ray rows run in make bench)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytestmark = pytest.mark.scale

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def test_milvus_rows_time_both_backends_and_compare_their_answers() -> None:
    from scaleout import milvus_rows

    emitted: list[dict[str, object]] = []
    local, milvus = milvus_rows([300], emitted.append)
    assert emitted == [local, milvus]  # each row as soon as it is measured
    assert (local["backend"], milvus["backend"], local["size"]) == ("local", "milvus", 300)
    assert 0 < local["p50_ms"] <= local["p95_ms"] and 0 < milvus["p50_ms"] <= milvus["p95_ms"]
    assert all(row["build_s"] > 0 and row["open_s"] > 0 for row in (local, milvus))
    assert milvus["top10_overlap_with_local"] >= 0.9
