"""The CLI contract: one JSON document on stdout with --json, one-line errors on stderr with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def run_cli(*args: str, env_index: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "policykb.cli"]
    if env_index is not None:
        cmd += ["--index-dir", str(env_index)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_help_lists_every_contract_command() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ["ingest", "clean", "clauses", "requirements", "search", "compare", "align", "draft", "serve"]:
        assert command in out.stdout


def test_clean_json_prints_one_document_with_the_contract_keys() -> None:
    out = run_cli("clean", str(CORPUS / "001_867a7dc465003806.txt"), "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    for key in ["doc_id", "region_id", "region", "title", "issuer", "date", "doc_number", "kind", "text", "changes"]:
        assert key in record
    assert record["doc_number"] == "沪教委基〔2023〕15号"
    assert record["doc_id"] == "shanghai-2023-15"


def test_clean_missing_file_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    out = run_cli("clean", str(missing))
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "Traceback" not in out.stderr


def test_clean_empty_file_is_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = run_cli("clean", str(empty))
    assert out.returncode != 0
    assert out.stderr.count("\n") == 1 and "empty.txt" in out.stderr and "empty" in out.stderr.split(":", 2)[-1]


def test_search_without_index_says_how_to_build_one(tmp_path: Path) -> None:
    out = run_cli("search", "教师流动", env_index=tmp_path / "noindex")
    assert out.returncode != 0
    assert out.stderr.count("\n") == 1
    assert "policykb ingest" in out.stderr


def test_ingest_of_only_unreadable_files_exits_1_and_reports_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    out = run_cli("ingest", str(bad), env_index=tmp_path / "idx")
    assert out.returncode == 1
    assert "bad.txt" in out.stderr
    assert not (tmp_path / "idx" / "current").exists()


@pytest.mark.parametrize("args", [["search", ""], ["search", "教" * 500]])
def test_bad_queries_are_refused_clearly(tmp_path: Path, args: list[str]) -> None:
    out = run_cli(*args, env_index=tmp_path / "noindex")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1
