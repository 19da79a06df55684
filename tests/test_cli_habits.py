"""CLI habits (issue 14 item 7): every bad id or setting a one-line error, no library noise, Chinese output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def cli(*args: str, index: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "POLICYKB_MODEL": "hash", "PYTHONPATH": str(ROOT / "src"), **env}
    return subprocess.run([sys.executable, "-m", "policykb.cli", "--index-dir", str(index), *args],
                          capture_output=True, text=True, cwd=ROOT, env=environ, timeout=300)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cli-habits") / "index"
    out = cli("ingest", str(CORPUS), index=folder)
    assert out.returncode == 0, out.stderr
    yield folder


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_clauses_of_an_unknown_document_is_an_error(index: Path) -> None:
    out = cli("clauses", "--doc", "nonexistent", index=index)
    assert one_line_error(out) == "policykb: error: no document 'nonexistent' in the index" and out.stdout == ""
    assert cli("clauses", "--doc", "shanghai-2023-15", index=index).stdout.startswith("shanghai-2023-15/")


def test_measures_json_is_silent_on_stderr(index: Path) -> None:
    out = cli("measures", "--json", index=index)
    assert out.returncode == 0 and out.stderr == ""
    assert json.loads(out.stdout)


def test_compare_speaks_chinese_for_an_unspecified_region(index: Path) -> None:
    out = cli("compare", "体育场地开放", index=index)
    assert out.returncode == 0 and "未规定" in out.stdout and "not specified" not in out.stdout


def test_requirements_json_carries_the_chinese_display(index: Path) -> None:
    rows = json.loads(cli("requirements", "--region", "hongkou", "--json", index=index).stdout)
    assert rows and all(r["display"] and ">" not in r["display"] for r in rows)
    assert {"comparator", "value", "unit"} <= set(rows[0])


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("POLICYKB_MAX_QUERY_CHARS", "abc", "policykb: error: POLICYKB_MAX_QUERY_CHARS='abc' is not a whole number"),
    ("POLICYKB_MAX_UPLOAD_MB", "ten", "policykb: error: POLICYKB_MAX_UPLOAD_MB='ten' is not a number"),
])
def test_a_bad_setting_names_its_variable(index: Path, variable: str, value: str, message: str) -> None:
    assert one_line_error(cli("documents", index=index, **{variable: value})).startswith(message)


def test_a_sidecar_with_an_impossible_date_names_the_sidecar(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    source.write_text((CORPUS / "001_867a7dc465003806.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "plan.meta.toml").write_text('date = "2023-02-30"\n', encoding="utf-8")
    line = one_line_error(cli("clean", str(source), index=tmp_path / "idx"))
    assert line == (f"policykb: error: {tmp_path / 'plan.meta.toml'}: bad metadata sidecar: "
                    "date must be YYYY-MM-DD, got '2023-02-30'")
    out = cli("ingest", str(source), index=tmp_path / "idx")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"skipped: {tmp_path / 'plan.meta.toml'}: bad metadata sidecar: date must be YYYY-MM-DD, got '2023-02-30'"]
    assert "plan.meta.toml" not in out.stdout  # one report per file: the skip is on stderr only
