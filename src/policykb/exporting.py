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
