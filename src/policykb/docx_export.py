"""Draft export: a Word document (python-docx) and Markdown, both with numbered outline and cited sources."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policykb.render import chinese_punctuation

if TYPE_CHECKING:
    from policykb.draft import Draft, DraftClause

# Chinese needs an East Asian font set explicitly (w:eastAsia), or Word and LibreOffice may fall back to a
# Latin font without CJK glyphs. Noto Serif CJK SC ships with Debian's fonts-noto-cjk; Word without it
# substitutes its own default East Asian font, which is still readable.
EAST_ASIA_FONT = "Noto Serif CJK SC"
LATIN_FONT = "Times New Roman"
LATIN_BODY_FONT = "仿宋_GB2312"  # GB/T 9704 sets Arabic numerals and Latin letters in the body face too
NOTE_GREY = (0x59, 0x59, 0x59)
GENERATED_NOTE = (
    "【生成说明】本草案由 policykb 依据已收录文件汇编，未使用语言模型：每一条均改编自方括号所注来源条款"
    "（地区名称、发文机关和数值按所选策略替换），来源列于文末。"
)
_CN_DIGIT = "零一二三四五六七八九"
# Widths of the source table's columns (序号, 地区, 文件, 章节, 条款编号) in mm, filling the 156 mm type area;
# 地区 holds a four-character name (黑龙江省, 浦东新区) on one line.
SOURCE_COLUMN_MM = (13.0, 25.0, 44.0, 40.0, 34.0)


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


# ----- DOCX: GB/T 9704-2012 党政机关公文格式 ---------------------------------------------------------------

# Sizes in points: 2号 22 pt (title), 3号 16 pt (body and headings), 4号 14 pt (page numbers, notes).
TITLE_PT, BODY_PT, SMALL_PT, TABLE_PT = 22.0, 16.0, 14.0, 10.5
# The type area is 156 mm × 225 mm: A4 less the margins 37 (top), 35 (bottom), 28 (left), 26 (right).
PAGE_MM = (210.0, 297.0)
MARGIN_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
_MM_PT = 72 / 25.4
TYPE_AREA_PT = ((PAGE_MM[0] - MARGIN_MM["left"] - MARGIN_MM["right"]) * _MM_PT,
                (PAGE_MM[1] - MARGIN_MM["top"] - MARGIN_MM["bottom"]) * _MM_PT)
LINE_PITCH_PT = TYPE_AREA_PT[1] / LINES_PER_PAGE  # 28.95 pt
CHAR_PITCH_PT = TYPE_AREA_PT[0] / CHARS_PER_LINE  # 15.79 pt


@dataclass(frozen=True)
class FontRole:
    """A typeface the standard names, the family Word finds on a Chinese Windows, and the installed fallback."""

    standard: str
    alternate: str
    fallback: str


# The DOCX names the standard's typefaces; the font table gives each an alternate name (Word, Windows) and an
# installed Noto CJK face that LibreOffice (and Word without the typeface) substitutes.
TITLE_FONT = FontRole("方正小标宋简体", "华文中宋", "Noto Serif CJK SC")
BODY_FONT = FontRole("仿宋_GB2312", "仿宋", "Noto Serif CJK SC")
HEADING1_FONT = FontRole("黑体", "SimHei", "Noto Sans CJK SC")
HEADING2_FONT = FontRole("楷体_GB2312", "楷体", "Noto Serif CJK SC")
PAGE_NUMBER_FONT = FontRole("宋体", "SimSun", "Noto Serif CJK SC")
FONT_ROLES = (TITLE_FONT, BODY_FONT, HEADING1_FONT, HEADING2_FONT, PAGE_NUMBER_FONT)


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
    """Write the draft as a .docx laid out by GB/T 9704: A4, 22 × 28 grid, 小标宋 title, 仿宋 body, `— 1 —`."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx.Document()
    _page_setup(document)
    _styles(document)
    core = document.core_properties
    core.title = draft.title
    core.subject = f"{draft.region}实施方案草案（上级：{draft.parent_region or draft.parent_region_id}）"
    core.author = "policykb"

    body = document.paragraphs[0] if document.paragraphs else None
    if body is not None:  # the template's empty first paragraph would push the title down a line
        body._element.getparent().remove(body._element)
    title = document.add_paragraph(style="Title")
    for n, line in enumerate(title_lines(chinese_punctuation(draft.title))):
        if n:
            title.add_run().add_break()  # one paragraph broken into lines, so the title stays one title
        title.add_run(line)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("")  # the standard leaves one blank line between title and text
    _note_paragraph(document, GENERATED_NOTE)

    for heading, section in zip(numbered_headings(draft), draft.sections, strict=True):
        document.add_paragraph(chinese_punctuation(heading), style="Heading 1" if section.level <= 1 else "Heading 2")
        for clause in section.clauses:
            p = document.add_paragraph()
            p.add_run(chinese_punctuation(clause.text))
            marker = p.add_run(f"[{draft.citation_number(clause)}]")
            marker.font.superscript = True
            if clause.notes:
                _note_paragraph(document, chinese_punctuation(_notes(clause)))

    if draft.warnings:
        document.add_paragraph("未写入草案的措施", style="Heading 1")
        for w in draft.warnings:
            document.add_paragraph(chinese_punctuation(w))

    document.add_paragraph("来源", style="Heading 1")
    _sources_table(document, draft)
    _page_numbers(document)
    _font_table(document)

    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


TITLE_CHARS_PER_LINE = int(TYPE_AREA_PT[0] // TITLE_PT)  # 20 characters of 2号


def title_lines(title: str) -> list[str]:
    """A title too long for one line, broken where the meaning allows: before a closing parenthetical
    (`（草案）`, `（2023—2025年）`), else before its document-kind word, else in the middle."""
    if len(title) <= TITLE_CHARS_PER_LINE:
        return [title]
    paren = re.search(r"（[^（）]*）$", title)
    if paren and paren.start() > 0 and paren.start() <= TITLE_CHARS_PER_LINE:
        return [title[: paren.start()], *title_lines(title[paren.start() :])]
    kind = re.search(r"(?:实施方案|行动计划|实施意见|工作方案|指导意见|规划|通知|意见|方案)", title)
    if kind and 0 < kind.start() <= TITLE_CHARS_PER_LINE:
        return [title[: kind.start()], *title_lines(title[kind.start() :])]
    half = (len(title) + 1) // 2
    return [title[:half], *title_lines(title[half:])]


def _page_setup(document: Any) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGIN_MM["top"]), Mm(MARGIN_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGIN_MM["left"]), Mm(MARGIN_MM["right"])
    section.header_distance = Mm(15)
    # The page number's dash sits 7 mm below the type area: its 14 pt line ends about 23 mm above the edge.
    section.footer_distance = Mm(MARGIN_MM["bottom"] - 7) - Pt(SMALL_PT)
    sectpr = section._sectPr
    grid = sectpr.find(qn("w:docGrid"))
    if grid is None:
        grid = sectpr.makeelement(qn("w:docGrid"), {})
        sectpr.append(grid)
    # 22 lines to the page on a line grid. The 28 characters come from the body style's condensed spacing, not
    # from a character grid: 16 pt glyphs are wider than the 15.79 pt cell, which Word squeezes but LibreOffice
    # answers by giving every character two cells (14 to the line).
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH_PT * 20)))
    grid.attrib.pop(qn("w:charSpace"), None)


def _paragraph_format(style: Any, size: float, role: FontRole, indent: bool, bold: bool = False) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    _set_fonts(style.element, role.standard, role.standard if role is not BODY_FONT else LATIN_BODY_FONT)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PITCH_PT)
    fmt.first_line_indent = Pt(2 * BODY_PT) if indent else Pt(0)
    fmt.keep_with_next = style.name.startswith("Heading")
    fmt.widow_control = True
    if size == BODY_PT:
        _condense(style.element, BODY_PT - CHAR_PITCH_PT)


def _condense(element: Any, points: float) -> None:
    """Narrow the character spacing by `points` (w:spacing counts twentieths of a point, rounded away from 0)."""
    import math

    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    for old in rpr.findall(qn("w:spacing")):
        rpr.remove(old)
    spacing = rpr.makeelement(qn("w:spacing"), {qn("w:val"): str(-math.ceil(points * 20))})
    rpr.append(spacing)


def _styles(document: Any) -> None:
    from docx.oxml.ns import qn

    styles = document.styles
    _paragraph_format(styles["Normal"], BODY_PT, BODY_FONT, indent=True)
    _paragraph_format(styles["Title"], TITLE_PT, TITLE_FONT, indent=False)
    _paragraph_format(styles["Heading 1"], BODY_PT, HEADING1_FONT, indent=True)
    _paragraph_format(styles["Heading 2"], BODY_PT, HEADING2_FONT, indent=True)
    _paragraph_format(styles["Footer"], SMALL_PT, PAGE_NUMBER_FONT, indent=False)
    for name in ("Title", "Heading 1", "Heading 2"):
        ppr = styles[name].element.get_or_add_pPr()
        for tag in ("w:pBdr", "w:outlineLvl"):  # the template's title rule; outline levels are set below
            for old in ppr.findall(qn(tag)):
                ppr.remove(old)
    for level, name in ((0, "Heading 1"), (1, "Heading 2")):
        ppr = styles[name].element.get_or_add_pPr()
        outline = ppr.makeelement(qn("w:outlineLvl"), {qn("w:val"): str(level)})
        ppr.append(outline)
    _set_fonts(styles["Table Grid"].element, BODY_FONT.standard, LATIN_BODY_FONT)


def _sources_table(document: Any, draft: Draft) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    rows = [("序号", "地区", "文件", "章节", "条款编号")] + [
        (f"[{n}]", c.region, chinese_punctuation(c.title or c.doc_id),
         chinese_punctuation(" > ".join(c.section)), c.clause_id)
        for n, c in enumerate(draft.citations(), 1)
    ]
    table = document.add_table(rows=len(rows), cols=len(SOURCE_COLUMN_MM))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    tblpr = table._tbl.tblPr
    layout = tblpr.makeelement(qn("w:tblLayout"), {qn("w:type"): "fixed"})
    tblpr.append(layout)
    for col, width in zip(table.columns, SOURCE_COLUMN_MM, strict=True):
        col.width = Mm(width)
    for r, (row, texts) in enumerate(zip(table.rows, rows, strict=True)):
        for cell, text, width in zip(row.cells, texts, SOURCE_COLUMN_MM, strict=True):
            cell.width = Mm(width)
            p = cell.paragraphs[0]
            p.paragraph_format.first_line_indent = Pt(0)
            ppr = p._p.get_or_add_pPr()  # table text keeps its own line height, off the page's line grid
            ppr.append(ppr.makeelement(qn("w:snapToGrid"), {qn("w:val"): "0"}))
            p.paragraph_format.line_spacing = Pt(TABLE_PT * 1.4)
            run = p.add_run(text)
            run.font.size = Pt(TABLE_PT)
            run.font.bold = r == 0
            if r == 0:
                _set_fonts(run._element, HEADING1_FONT.standard, HEADING1_FONT.standard)


def _page_numbers(document: Any) -> None:
    """`— 1 —` in 4号 宋体: odd pages at the right, even pages at the left, one character in from the edge."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        p.style = document.styles["Footer"]
        p.alignment = align
        fmt = p.paragraph_format
        fmt.line_spacing = Pt(SMALL_PT * 1.2)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(SMALL_PT)
        else:
            fmt.left_indent = Pt(SMALL_PT)
        p.add_run("— ")
        _page_field(p)
        p.add_run(" —")


def _page_field(paragraph: Any) -> None:
    from docx.oxml.ns import qn

    def char(kind: str) -> Any:
        run = paragraph.add_run()
        el = run._element.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        run._element.append(el)
        return run

    char("begin")
    instr = paragraph.add_run()
    text = instr._element.makeelement(qn("w:instrText"), {"{http://www.w3.org/XML/1998/namespace}space": "preserve"})
    text.text = " PAGE "
    instr._element.append(text)
    char("separate")
    paragraph.add_run("1")
    char("end")


def _font_table(document: Any) -> None:
    """Declare each standard typeface with its alternate and installed fallback names (w:altName)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn

    part = document.part
    font_part = next((rel.target_part for rel in part.rels.values() if rel.reltype == RT.FONT_TABLE), None)
    if font_part is None:
        return
    from lxml import etree

    root = etree.fromstring(font_part.blob)
    for role in FONT_ROLES:
        for old in root.findall(qn("w:font")):
            if old.get(qn("w:name")) == role.standard:
                root.remove(old)
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): role.standard})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): role.fallback})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
        etree.SubElement(font, qn("w:family"), {qn("w:val"): "modern" if role is HEADING1_FONT else "roman"})
        etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
    font_part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _note_paragraph(document: Any, text: str) -> None:
    """A drafter's note: 4号 楷体 in grey, set apart from the text that will be issued."""
    from docx.shared import Pt, RGBColor

    p = document.add_paragraph()
    run = p.add_run(text)
    run.font.size = Pt(SMALL_PT)
    run.font.color.rgb = RGBColor(*NOTE_GREY)
    _set_fonts(run._element, HEADING2_FONT.standard, HEADING2_FONT.standard)


def libreoffice_profile(folder: Path) -> str:
    """A LibreOffice user profile that replaces the standard typefaces by the installed fallbacks; its URI.

    LibreOffice ignores a DOCX font table's alternate names, so on a machine without 仿宋_GB2312 and the rest
    it would set every face in one sans fallback. Pass the URI as `soffice -env:UserInstallation=URI` (or copy
    the table into Tools ▸ Options ▸ Fonts) to print the draft with serif body, sans headings, as Word would.
    """
    from xml.sax.saxutils import escape

    pairs = "".join(
        f'<item oor:path="/org.openoffice.Office.Common/Font/Substitution/FontPairs">'
        f'<node oor:name="_{n}" oor:op="replace">'
        f'<prop oor:name="Always" oor:op="fuse"><value>true</value></prop>'
        f'<prop oor:name="OnScreenOnly" oor:op="fuse"><value>false</value></prop>'
        f'<prop oor:name="ReplaceFont" oor:op="fuse"><value>{escape(role.standard)}</value></prop>'
        f'<prop oor:name="SubstituteFont" oor:op="fuse"><value>{escape(role.fallback)}</value></prop>'
        f"</node></item>\n"
        for n, role in enumerate(FONT_ROLES)
    )
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        '<item oor:path="/org.openoffice.Office.Common/Font/Substitution">'
        '<prop oor:name="Replacement" oor:op="fuse"><value>true</value></prop></item>\n'
        f"{pairs}</oor:items>\n",
        encoding="utf-8",
    )
    return folder.resolve().as_uri()
