"""PDF pages through PDFium (pypdfium2): the text layer as positioned lines, or the page as an image for OCR."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policykb.errors import InputFileError
from policykb.layout import Line, Page

# A page "has a text layer" when it carries at least this many visible characters; fewer (a scan with a stray
# OCR'd page number, an empty page) and the page is read as an image.
MIN_TEXT_CHARS = 20
OCR_DPI = 150
# Gaps wider than this (in font sizes) split a printed line into pieces: column gutters, tab stops.
PIECE_GAP = 1.5


@contextmanager
def open_pdf(path: Path, max_pages: int) -> Iterator[Any]:
    """The PDFium document, or InputFileError with a one-line reason (encrypted, damaged, too many pages)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise InputFileError(path, "PDF is encrypted (password protected): save an unprotected copy") from exc
        detail = re.sub(r"^.*\(PDFium: (.*?)\.?\)\.?$", r"\1", str(exc))
        raise InputFileError(path, f"not a readable PDF: damaged or not a PDF (PDFium: {detail.lower()})") from exc
    try:
        pages = len(document)
        if pages == 0:
            raise InputFileError(path, "PDF has no pages")
        if pages > max_pages:
            raise InputFileError(path, f"PDF has {pages} pages, over the limit of {max_pages} (max_pdf_pages)")
        yield document
    finally:
        document.close()


def text_layer(document: Any, index: int) -> Page:
    """One page's text layer as lines (pieces split at wide gaps), in page points with y downwards."""
    import pypdfium2.raw as raw

    page = document[index]
    width, height = page.get_size()
    textpage = page.get_textpage()
    box = raw.FS_RECTF()
    lines: list[Line] = []
    chars: list[tuple[str, float, float, float, float, float]] = []

    def flush() -> None:
        text = "".join(c[0] for c in chars).strip()
        if text:
            size = statistics.median(c[5] for c in chars if not c[0].isspace()) if text else 0.0
            lines.append(Line(text, min(c[1] for c in chars), max(c[3] for c in chars),
                              height - max(c[4] for c in chars), height - min(c[2] for c in chars), size))
        chars.clear()

    pending_space = False
    try:
        count = textpage.count_chars()
        for i in range(count):
            code = raw.FPDFText_GetUnicode(textpage, i)
            generated = raw.FPDFText_IsGenerated(textpage, i) == 1
            char = chr(code) if code and code < 0x110000 else ""
            if not char or char in "\ufffe\uffff\x00" or 0xD800 <= code <= 0xDFFF:
                continue
            if char in "\r\n":
                flush()
                pending_space = False
                continue
            raw.FPDFText_GetLooseCharBox(textpage, i, box)
            size = raw.FPDFText_GetFontSize(textpage, i) or (box.top - box.bottom)
            if generated and char == " ":
                # PDFium invents spaces for visual gaps (justified CJK, autospace around digits); only a gap
                # between two Latin words is a real word space.
                pending_space = _latin_before(chars)
                continue
            if pending_space and char.isascii() and char.isalnum():
                chars.append((" ", chars[-1][3], chars[-1][2], box.left, chars[-1][4], chars[-1][5]))
            pending_space = False
            if chars:
                last = chars[-1]
                same_row = abs((box.top + box.bottom) / 2 - (last[2] + last[4]) / 2) < 0.6 * max(size, last[5])
                if not same_row or box.left - last[3] > PIECE_GAP * max(size, last[5]):
                    flush()
            chars.append((char, box.left, box.bottom, box.right, box.top, size))
        flush()
    finally:
        textpage.close()
        page.close()
    for line in lines:
        line.text = line.text.replace("\u00a0", " ")
    return Page(index + 1, width, height, lines)


def _latin_before(chars: list[tuple[str, float, float, float, float, float]]) -> bool:
    return bool(chars) and chars[-1][0].isascii() and chars[-1][0].isalnum()


def visible_chars(page: Page) -> int:
    return sum(len(line.text.replace(" ", "")) for line in page.lines)


def render(document: Any, index: int, dpi: int = OCR_DPI) -> Any:
    """The page as a greyscale PIL image at `dpi`."""
    page = document[index]
    try:
        return page.render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        page.close()
