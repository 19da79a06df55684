"""bench/cold_cli.py keeps running: cold search and compare answer in their own process, timed, no failures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import cold_cli  # noqa: E402


def test_cold_cli_times_search_and_compare_answered_in_their_own_process(
    hash_kb, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    monkeypatch.setenv("POLICYKB_MODEL", "hash")  # the index was built with the hashing embedder
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "src"))  # the children run this checkout's code
    result = cold_cli.measure(hash_kb.settings.index_path, runs=1)
    assert set(result) == {"search", "compare"}
    for row in result.values():
        assert row["failures"] == 0 and row["runs"] == 1
        assert 0 < row["wall_s"] < 120 and row["cpu_s"] > 0


def test_a_run_answered_by_a_server_or_with_no_output_counts_as_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "src"))
    # No index here: the command exits 1 with a one-line error, which the benchmark must not count as an answer.
    _, _, code = cold_cli.time_command(["--index-dir", str(tmp_path / "none"), "search", "教师交流轮岗比例"])
    assert code != 0


def test_children_cache_bytecode_outside_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = cold_cli.child_env()
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert not Path(env["PYTHONPYCACHEPREFIX"]).is_relative_to(ROOT)
