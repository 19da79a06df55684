"""Tables for reports: a comparison or the measure catalogue as CSV (UTF-8 with BOM, for Excel) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

NOT_SPECIFIED = "未规定"
Rows = list[list[str]]


def _region_value(region: dict[str, Any]) -> str:
    if not region["found"]:
        return NOT_SPECIFIED
    value = region.get("value")
    return value["display"] if value else "已规定（无数值）"


def comparison_rows(data: dict[str, Any]) -> Rows:
    """A compare result (to_dict form) as a table with one column per region, like the compare page."""
    regions = data["regions"]
    strictest = {a["strictest"] for a in data.get("aligned", []) if a.get("strictest")}
    best = [r["matches"][0] if r["found"] and r["matches"] else None for r in regions]
    rows: Rows = [
        ["指标", data["query"], *([""] * (len(regions) - 1))],
        ["项目", *[f"{r['region']}（{r['region_id']}）" for r in regions]],
        ["是否规定", *["已规定" if r["found"] else NOT_SPECIFIED for r in regions]],
        ["数值", *[_region_value(r) for r in regions]],
        ["最严", *["最严" if r["region_id"] in strictest else "" for r in regions]],
        ["条款", *[m["text"] if m else "" for m in best]],
        ["章节", *[" > ".join(m["section"]) if m else "" for m in best]],
        ["条款编号", *[m["clause_id"] if m else "" for m in best]],
    ]
    for group in data.get("aligned", []):
        label = f"对齐：{group['comparator']} {group['unit'] or ''}".strip()
        rows.append([label, *[group["display"].get(r["region_id"], "") for r in regions]])
    return rows


def comparison_clause_rows(data: dict[str, Any]) -> Rows:
    """Every matched clause of a comparison, one per row (the long form for filtering in Excel)."""
    rows: Rows = [["地区", "地区代码", "名次", "条款编号", "章节", "条款", "数值"]]
    for region in data["regions"]:
        if not region["found"]:
            rows.append([region["region"], region["region_id"], "", "", "", NOT_SPECIFIED, ""])
            continue
        for rank, m in enumerate(region["matches"], 1):
            values = "；".join(_display(r) for r in m.get("requirements", []) if r.get("kind") == "requirement")
            rows.append([region["region"], region["region_id"], str(rank), m["clause_id"],
                         " > ".join(m["section"]), m["text"], values])
    return rows


def _display(req: dict[str, Any]) -> str:
    from policykb.records import Requirement
    from policykb.render import format_value

    fields = {k: req[k] for k in Requirement.__dataclass_fields__ if k in req}
    return format_value(Requirement(**fields))


def measure_rows(measures: Sequence[dict[str, Any]], regions: Sequence[dict[str, Any]]) -> Rows:
    """The catalogue (to_dict form) with one column per region; several values of a region are joined by ；."""
    rows: Rows = [["指标", "单位", "地区数", *[r["region"] for r in regions]]]
    for m in measures:
        cells = []
        for region in regions:
            shown = [v["display"] for v in m["values"] if v["region_id"] == region["region_id"]]
            cells.append("；".join(shown))
        rows.append([m["name"], m["unit"] or "", str(m["regions"]), *cells])
    return rows


def to_csv(rows: Rows) -> bytes:
    """CSV bytes with a UTF-8 byte-order mark: without it Excel opens Chinese text as mojibake."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([[_cell(v) for v in row] for row in rows])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: Sequence[tuple[str, Rows]]) -> bytes:
    """An XLSX workbook with one sheet per (title, rows); the first row of each sheet is bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        for row in rows:
            ws.append([_cell(v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "B2"
        for column in ws.columns:
            width = max((len(str(c.value or "")) for c in column), default=8)
            ws.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2))  # CJK glyphs are two columns wide
            for c in column:
                c.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(value: str) -> str:
    """Text that Excel would run as a formula (=, +, -, @ first) is prefixed with a quote: CSV/XLSX injection."""
    if value and value[0] in "=+-@" and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


# ----- the whole knowledge base, for researchers who code implementation plans (`policykb export`) -----------------
EXPORT_FORMATS = (".jsonl", ".csv", ".xlsx")
LEVEL_NAMES = {"province": "省级", "city": "市级", "district": "区县级", "county": "区县级"}
DOCUMENT_COLUMNS = ["文件编号", "标题", "地区", "地区代码", "级别", "上级地区", "上级地区代码", "发文机关", "日期",
                    "文号", "类型", "来源文件"]
CLAUSE_COLUMNS = ["条款编号", "文件编号", "地区", "地区代码", "序号", "角色", "章节", "条款"]
REQUIREMENT_COLUMNS = ["条款编号", "文件编号", "文件标题", "地区", "地区代码", "上级地区", "日期", "文号", "主体",
                       "要求", "比较", "数值", "上限", "单位", "周期", "类型", "原文", "条款"]


def export_records(documents: Sequence[Any], clauses: Sequence[Any], requirements: Sequence[Any],
                   region_name: Any = None) -> list[dict[str, Any]]:
    """Documents, clauses and requirements as flat records (`record`: document | clause | requirement), each
    requirement with its document's region, parents, date and 文号 and its Chinese rendering (`display`).

    `region_name(region_id) -> str | None` names the parent regions (the gazetteer's names by default)."""
    if region_name is None:
        from policykb import gazetteer

        def region_name(rid: str) -> str | None:
            region = gazetteer.by_id(rid)
            return region.name if region else None

    docs = {d.doc_id: d.metadata for d in documents}
    out: list[dict[str, Any]] = []
    for d in documents:
        m = d.metadata
        parents = list(m.parent_region_ids or [])
        out.append({"record": "document", "doc_id": d.doc_id, "title": m.title, "region": m.region,
                    "region_id": m.region_id, "level": m.level, "parent_region_ids": parents,
                    "parents": [region_name(p) or p for p in parents], "issuer": m.issuer, "date": m.date,
                    "doc_number": m.doc_number, "kind": m.kind, "source_path": d.source_path})
    for c in clauses:
        m = docs.get(c.doc_id)
        out.append({"record": "clause", **c.to_dict(), "region": m.region if m else None})
    for r in requirements:
        m = docs.get(r.doc_id)
        parents = list(m.parent_region_ids or []) if m else []
        out.append({"record": "requirement", **r.to_dict(), "region": m.region if m else None,
                    "title": m.title if m else None, "date": m.date if m else None,
                    "doc_number": m.doc_number if m else None, "parent_region_ids": parents,
                    "parents": [region_name(p) or p for p in parents]})
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def export_tables(records: Sequence[dict[str, Any]]) -> list[tuple[str, Rows]]:
    """The records as three sheets: 文件, 条款, 量化要求 (Chinese headers, one row per record)."""
    documents: Rows = [DOCUMENT_COLUMNS]
    clauses: Rows = [CLAUSE_COLUMNS]
    requirements: Rows = [REQUIREMENT_COLUMNS]
    for r in records:
        if r["record"] == "document":
            documents.append([_text(v) for v in (
                r["doc_id"], r["title"], r["region"], r["region_id"], LEVEL_NAMES.get(r["level"] or "", r["level"]),
                "、".join(r["parents"]), "、".join(r["parent_region_ids"]), r["issuer"], r["date"], r["doc_number"],
                "新闻" if r["kind"] == "news" else "政策文件" if r["kind"] == "policy" else r["kind"],
                r["source_path"])])
        elif r["record"] == "clause":
            clauses.append([_text(v) for v in (
                r["clause_id"], r["doc_id"], r["region"], r["region_id"], r["ordinal"],
                "标题" if r["role"] == "heading" else r["role"], " > ".join(r["section"]), r["text"])])
        else:
            value = r["value"]
            low, high = (value[0], value[1]) if isinstance(value, list) else (value, None)
            requirements.append([_text(v) for v in (
                r["clause_id"], r["doc_id"], r["title"], r["region"], r["region_id"], "、".join(r["parents"]),
                r["date"], r["doc_number"], r["subject"], r["display"], r["comparator"], low, high, r["unit"],
                r["period"], "要求" if r["kind"] == "requirement" else "统计", r["span"], r["text"])])
    return [("文件", documents), ("条款", clauses), ("量化要求", requirements)]


def write_export(out: Any, records: Sequence[dict[str, Any]]) -> list[Any]:
    """Write the records to OUT.jsonl (one record a line), OUT.xlsx (three sheets) or OUT.csv (the requirements,
    with OUT.documents.csv and OUT.clauses.csv beside it); the paths written."""
    import json
    from pathlib import Path

    from policykb.errors import PolicyKBError

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise PolicyKBError(f"{out}: cannot export to {suffix or 'a file without extension'}; "
                            f"use {', '.join(EXPORT_FORMATS)}")
    if out.parent and not out.parent.is_dir():
        raise PolicyKBError(f"{out}: the folder {out.parent} does not exist")
    if suffix == ".jsonl":
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        return [out]
    sheets = export_tables(records)
    if suffix == ".xlsx":
        out.write_bytes(to_xlsx(sheets))
        return [out]
    tables = dict(sheets)
    paths = [out, out.with_suffix(".documents.csv"), out.with_suffix(".clauses.csv")]
    for path, name in zip(paths, ("量化要求", "文件", "条款"), strict=True):
        path.write_bytes(to_csv(tables[name]))
    return paths
