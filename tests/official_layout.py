"""Lay clean text out as an official document (红头文件) and save it as PDF with LibreOffice, for loader tests.

The layout follows GB/T 9704 (党政机关公文格式) as bureaus apply it: A4, the issuing organ's name in large red
type with 文件 (the red header), the 文号 under it and a red rule, a centred title in a larger face, body
paragraphs with a two-character first-line indent, the signature and date set to the right, 抄送/印发 lines at
the end and the page number `— N —` in the footer. Lines wrap wherever LibreOffice breaks them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from policykb.metadata import DATE, DOC_NUMBER, ORG_LINE, TITLE_SHAPE

RED = (0xD0, 0x10, 0x10)
FONT = "Noto Serif CJK SC"
SIGNATURE_MAX_CHARS = 20


@dataclass(frozen=True)
class Frame:
    """What an official document adds around its text."""

    red_header: str  # 上海市教育委员会文件
    copy_to: str = "抄送:市人民政府办公厅。"
    printed: str = "办公室 2024年1月5日印发"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _role(line: str) -> str:
    compact = re.sub(r"\s+", "", line)
    if DOC_NUMBER.fullmatch(compact):
        return "number"
    if TITLE_SHAPE.match(compact) and len(compact) >= 8:
        return "title"
    if len(compact) <= SIGNATURE_MAX_CHARS and (ORG_LINE.match(compact) or DATE.fullmatch(compact)):
        return "signature"
    return "body"


def write_official_docx(text: str, frame: Frame, path: Path, columns: int = 1) -> Path:
    """A .docx of `text` (one paragraph per line) in the official layout (body in `columns` columns)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    def paragraph(content: str, size: float, align: int, color: tuple[int, int, int] | None = None,
                  indent_chars: float = 0.0, right_chars: float = 0.0, bold: bool = False):  # type: ignore[no-untyped-def]
        para = document.add_paragraph()
        para.alignment = align
        fmt = para.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(size * 1.75)
        if indent_chars:
            fmt.first_line_indent = Pt(size * indent_chars)
        if right_chars:
            fmt.right_indent = Pt(size * right_chars)
        run = para.add_run(content)
        run.font.size = Pt(size)
        run.font.name = FONT
        run.font.bold = bold
        run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
        if color:
            run.font.color.rgb = RGBColor(*color)
        return para

    paragraph(frame.red_header, 30, WD_ALIGN_PARAGRAPH.CENTER, RED, bold=True)
    paragraph("", 16, WD_ALIGN_PARAGRAPH.CENTER)
    if columns > 1:  # the red header spans the page; the body runs in columns below it (a gazette's layout)
        from docx.enum.section import WD_SECTION

        body = document.add_section(WD_SECTION.CONTINUOUS)
        cols = body._sectPr.find(qn("w:cols"))
        if cols is None:
            cols = OxmlElement("w:cols")
            body._sectPr.append(cols)
        cols.set(qn("w:num"), str(columns))
        cols.set(qn("w:space"), "425")
    lines = [line for line in text.split("\n") if line.strip()]
    roles = [_role(line) for line in lines]
    for line, role in zip(lines, roles, strict=True):
        if role == "number":
            para = paragraph(line, 16, WD_ALIGN_PARAGRAPH.CENTER)
            border = OxmlElement("w:pBdr")
            bottom = OxmlElement("w:bottom")
            for key, value in (("val", "single"), ("sz", "18"), ("space", "8"), ("color", "D01010")):
                bottom.set(qn(f"w:{key}"), value)
            border.append(bottom)
            para._element.get_or_add_pPr().append(border)
        elif role == "title":
            paragraph(line, 22, WD_ALIGN_PARAGRAPH.CENTER)
        elif role == "signature":
            paragraph(line, 16, WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
        else:
            paragraph(line, 16, WD_ALIGN_PARAGRAPH.JUSTIFY, indent_chars=2)
    paragraph("", 16, WD_ALIGN_PARAGRAPH.LEFT)
    paragraph(frame.copy_to, 14, WD_ALIGN_PARAGRAPH.LEFT, indent_chars=1)
    paragraph(frame.printed, 14, WD_ALIGN_PARAGRAPH.LEFT, indent_chars=1)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = footer.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    page_run = OxmlElement("w:r")
    page_text = OxmlElement("w:t")
    page_text.text = "1"
    page_run.append(page_text)
    field.append(page_run)
    run._element.addnext(field)
    footer.add_run(" —")
    for footer_run in footer.runs:
        footer_run.font.size = Pt(14)
    document.save(str(path))
    return path


def convert_with_soffice(source: Path, target_format: str, out_dir: Path, timeout: float = 180) -> Path:
    """LibreOffice headless conversion (its own profile folder, so parallel runs do not collide)."""
    binary = soffice()
    assert binary, "LibreOffice is not installed"
    profile = out_dir / "lo-profile"
    subprocess.run(
        [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target_format,
         "--outdir", str(out_dir), str(source)],
        check=True, capture_output=True, timeout=timeout,
    )
    return out_dir / f"{source.stem}.{target_format.split(':')[0]}"


def official_pdf(text: str, frame: Frame, out_dir: Path, name: str = "plan", columns: int = 1) -> Path:
    """`text` laid out as an official document and saved as PDF by LibreOffice."""
    source = write_official_docx(text, frame, out_dir / f"{name}.docx", columns)
    return convert_with_soffice(source, "pdf", out_dir)


def char_error_rate(got: str, expected: str) -> float:
    """Edit operations over characters (difflib's alignment, an upper bound of Levenshtein) / expected length.

    Line breaks count as characters; spaces do not (letter-spaced names are the same name).
    """
    import difflib

    a = re.sub(r"[ \t\u3000]+", "", got)
    b = re.sub(r"[ \t\u3000]+", "", expected)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    edits = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")
    return edits / max(1, len(b))
