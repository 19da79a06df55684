"""`policykb export`: the whole knowledge base as JSONL, CSV or XLSX, round-tripping every requirement."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from policykb.errors import PolicyKBError
from policykb.render import requirement_display


def _requirement_key(r: Any) -> tuple[str, str]:
    return (r.clause_id, r.span)


def test_xlsx_holds_every_requirement_with_region_parents_date_and_chinese_value(hash_kb: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    [path] = hash_kb.export(tmp_path / "kb.xlsx")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["文件", "条款", "量化要求"]
    rows = list(book["量化要求"].iter_rows(values_only=True))
    head, body = rows[0], rows[1:]
    reqs = hash_kb.requirements()
    assert len(body) == len(reqs) > 0
    col = {name: i for i, name in enumerate(head)}
    exported = {(row[col["条款编号"]], row[col["原文"]]): row for row in body}
    assert set(exported) == {_requirement_key(r) for r in reqs}
    for r in reqs:
        row = exported[_requirement_key(r)]
        assert row[col["要求"]] == requirement_display(r)
        assert row[col["地区代码"]] == r.region_id
    docs = list(book["文件"].iter_rows(values_only=True))
    assert len(docs) - 1 == len(hash_kb.documents())
    assert len(list(book["条款"].iter_rows(values_only=True))) - 1 == len(hash_kb.clauses())
    # a district's requirement names its parents and its document's 文号 and date
    hongkou = next(row for row in body if row[col["地区代码"]] == "hongkou")
    assert (hongkou[col["地区"]], hongkou[col["上级地区"]]) == ("虹口区", "上海市")
    shanghai = next(row for row in body if row[col["文件编号"]] == "shanghai-2023-15")
    assert (shanghai[col["文号"]], shanghai[col["日期"]]) == ("沪教委基〔2023〕15号", "2023-05-04")


def test_jsonl_is_one_record_a_line_with_display_and_machine_fields(hash_kb: Any, tmp_path: Path) -> None:
    [path] = hash_kb.export(tmp_path / "kb.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    kinds = [r["record"] for r in records]
    assert kinds.count("document") == len(hash_kb.documents())
    assert kinds.count("clause") == len(hash_kb.clauses())
    reqs = [r for r in records if r["record"] == "requirement"]
    assert len(reqs) == len(hash_kb.requirements())
    assert all(r["display"] == requirement_display(r) and "comparator" in r and "value" in r for r in reqs)


def test_csv_writes_requirements_with_documents_and_clauses_beside(hash_kb: Any, tmp_path: Path) -> None:
    paths = hash_kb.export(tmp_path / "kb.csv")
    assert [p.name for p in paths] == ["kb.csv", "kb.documents.csv", "kb.clauses.csv"]
    raw = paths[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) - 1 == len(hash_kb.requirements())
    assert rows[0][:4] == ["条款编号", "文件编号", "文件标题", "地区"]


@pytest.mark.parametrize("name", ["kb.txt", "kb"])
def test_unknown_formats_are_refused(hash_kb: Any, tmp_path: Path, name: str) -> None:
    with pytest.raises(PolicyKBError, match="use .jsonl, .csv, .xlsx"):
        hash_kb.export(tmp_path / name)


def test_the_web_offers_the_same_downloads(hash_kb: Any) -> None:
    from fastapi.testclient import TestClient
    from openpyxl import load_workbook

    from policykb.web import create_app

    client = TestClient(create_app(hash_kb), base_url="http://127.0.0.1")
    for page in ("/documents", "/measures"):
        html = client.get(page).text
        assert 'href="/export.xlsx"' in html and 'href="/export.jsonl"' in html
    r = client.get("/export.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert len(list(book["量化要求"].iter_rows())) - 1 == len(hash_kb.requirements())
    lines = client.get("/export.jsonl").text.splitlines()
    assert sum(json.loads(line)["record"] == "requirement" for line in lines) == len(hash_kb.requirements())
    assert client.get("/export.csv").content.startswith(b"\xef\xbb\xbf")
    assert client.get("/export.pdf").status_code == 404
