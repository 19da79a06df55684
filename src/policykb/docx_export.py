"""Draft export: a Word document (python-docx) and Markdown, both with numbered outline and cited sources."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policykb.draft import Draft, DraftClause

# Chinese needs an East Asian font set explicitly (w:eastAsia), or Word and LibreOffice may fall back to a
# Latin font without CJK glyphs. Noto Serif CJK SC ships with Debian's fonts-noto-cjk; Word without it
# substitutes its own default East Asian font, which is still readable.
EAST_ASIA_FONT = "Noto Serif CJK SC"
LATIN_FONT = "Times New Roman"
NOTE_GREY = (0x59, 0x59, 0x59)
GENERATED_NOTE = (
    "【生成说明】本草案由 policykb 依据已收录文件汇编，未使用语言模型：每一条均改编自方括号所注来源条款"
    "（地区名称、发文机关和数值按所选策略替换），来源列于文末。"
)
_CN_DIGIT = "零一二三四五六七八九"
# Widths of the source table's columns (序号, 地区, 文件, 章节, 条款编号) on an A4/Letter page, in cm.
SOURCE_COLUMN_CM = (1.2, 1.8, 4.6, 4.4, 4.6)


def cn_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (outline numbering)."""
    if n < 10:
        return _CN_DIGIT[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGIT[tens]) + "十" + (_CN_DIGIT[ones] if ones else "")


def numbered_headings(draft: Draft) -> list[str]:
    """Each section's heading with its outline number: level 1 `一、`, level 2 `（一）` restarting per part."""
    out: list[str] = []
    top = sub = 0
    for section in draft.sections:
        if section.level <= 1:
            top += 1
            sub = 0
            out.append(f"{cn_ordinal(top)}、{section.heading}")
        else:
            sub += 1
            out.append(f"（{cn_ordinal(sub)}）{section.heading}")
    return out


def _notes(clause: DraftClause) -> str:
    return "注：" + "；".join(clause.notes) if clause.notes else ""


# ----- Markdown -------------------------------------------------------------------------------------------


def to_markdown(draft: Draft) -> str:
    """The draft as Markdown: `#` title, numbered `##`/`###` headings, `[^n]` footnotes, a source table."""
    lines = [f"# {draft.title}", "", f"> {GENERATED_NOTE}", ""]
    for heading, section in zip(numbered_headings(draft), draft.sections, strict=True):
        lines += [f"{'##' if section.level <= 1 else '###'} {heading}", ""]
        for clause in section.clauses:
            lines += [f"{clause.text}[^{draft.citation_number(clause)}]", ""]
            if clause.notes:
                lines += [f"> {_notes(clause)}", ""]
    if draft.warnings:
        lines += ["## 未写入草案的措施", ""] + [f"- {w}" for w in draft.warnings] + [""]
    lines += ["## 来源", "", "| 序号 | 地区 | 文件 | 章节 | 条款编号 |", "|---|---|---|---|---|"]
    for n, c in enumerate(draft.citations(), 1):
        cells = [str(n), c.region, c.title or c.doc_id, " > ".join(c.section), f"`{c.clause_id}`"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append("")
    for n, c in enumerate(draft.citations(), 1):
        lines.append(f"[^{n}]: {c.label()}")
    return "\n".join(lines) + "\n"


# ----- DOCX -----------------------------------------------------------------------------------------------


def _set_fonts(element: object, east_asia: str = EAST_ASIA_FONT, latin: str = LATIN_FONT) -> None:
    """Set explicit Latin and East Asian fonts on a style or run, dropping theme fonts that would override them."""
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def write_docx(draft: Draft, path: Path) -> Path:
    """Write the draft as a .docx: title, numbered headings, body with [n] superscript citations, a source table."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    document = docx.Document()
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        try:
            style = document.styles[name]
        except KeyError:
            continue
        _set_fonts(style.element)
        if name != "Normal" and hasattr(style, "font"):
            style.font.color.rgb = RGBColor(0, 0, 0)
    document.styles["Normal"].font.size = Pt(12)
    core = document.core_properties
    core.title = draft.title
    core.subject = f"{draft.region} draft plan under {draft.parent_region or draft.parent_region_id}"
    core.author = "policykb"

    title = document.add_heading(draft.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _note_paragraph(document, GENERATED_NOTE)

    for heading, section in zip(numbered_headings(draft), draft.sections, strict=True):
        document.add_heading(heading, level=1 if section.level <= 1 else 2)
        for clause in section.clauses:
            p = document.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            p.add_run(clause.text)
            marker = p.add_run(f"[{draft.citation_number(clause)}]")
            marker.font.superscript = True
            if clause.notes:
                _note_paragraph(document, _notes(clause))

    if draft.warnings:
        document.add_heading("未写入草案的措施", level=1)
        for w in draft.warnings:
            document.add_paragraph(w, style="List Bullet")

    document.add_heading("来源", level=1)
    table = document.add_table(rows=1, cols=5)
    table.style = document.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, ("序号", "地区", "文件", "章节", "条款编号"), strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
    for n, c in enumerate(draft.citations(), 1):
        row = table.add_row().cells
        for cell, text in zip(row, (f"[{n}]", c.region, c.title or c.doc_id, " > ".join(c.section), c.clause_id),
                              strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(9)

    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, SOURCE_COLUMN_CM, strict=True):
            cell.width = Cm(width)

    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _note_paragraph(document: object, text: str) -> None:
    from docx.shared import Pt, RGBColor

    p = document.add_paragraph()  # type: ignore[attr-defined]
    run = p.add_run(text)
    run.font.size = Pt(9)
    run.font.italic = True
    run.font.color.rgb = RGBColor(*NOTE_GREY)
