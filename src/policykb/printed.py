"""Printed pages to text: a PDF's text layer, OCR where a page has none (and for page images), then the layout
rules (reading order, page furniture, paragraphs) and the official-document frame."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from policykb import layout, ocr, official, pdf
from policykb.errors import InputFileError
from policykb.records import Change

Progress = Callable[[str], None]


def _scale(page: layout.Page, factor: float) -> layout.Page:
    """Page image pixels → PDF points, so OCR'd and text-layer pages share one unit."""
    lines = [
        layout.Line(ln.text, ln.x0 * factor, ln.x1 * factor, ln.top * factor, ln.bottom * factor,
                    ln.size * factor, ln.confidence)
        for ln in page.lines
    ]
    return layout.Page(page.number, page.width * factor, page.height * factor, lines)


def _need_ocr(path: Path) -> None:
    if not ocr.available():
        raise InputFileError(path, "this file needs OCR (a scan without a text layer) but rapidocr is not installed")


def read_pages(path: Path, max_pages: int, progress: Progress) -> tuple[list[layout.Page], list[int], int]:
    """The pages as positioned lines; which were OCR'd; how many pages the file has."""
    if path.suffix.lower() != ".pdf":
        _need_ocr(path)
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image.load()
                progress(f"{path.name}: OCR page 1/1")
                return [ocr.ocr_page(image, 1)], [1], 1
        except (UnidentifiedImageError, OSError) as exc:
            raise InputFileError(path, f"not a readable image ({type(exc).__name__})") from exc
    pages: list[layout.Page] = []
    ocr_pages: list[int] = []
    with pdf.open_pdf(path, max_pages) as document:
        count = len(document)
        for index in range(count):
            page = pdf.text_layer(document, index)
            if pdf.visible_chars(page) < pdf.MIN_TEXT_CHARS:
                _need_ocr(path)
                progress(f"{path.name}: OCR page {index + 1}/{count}")
                scanned = ocr.ocr_page(pdf.render(document, index, pdf.OCR_DPI), index + 1)
                page = _scale(scanned, 72 / pdf.OCR_DPI)
                ocr_pages.append(index + 1)
            elif count > 20 and (index + 1) % 20 == 0:
                progress(f"{path.name}: text layer, page {index + 1}/{count}")
            pages.append(page)
    return pages, ocr_pages, count


def load_printed(path: Path, max_pages: int, progress: Progress):  # type: ignore[no-untyped-def]
    """A PDF or page image as LoadedText (imported by loading; returns its record)."""
    from policykb.loading import LoadedText

    pages, ocr_pages, count = read_pages(path, max_pages, progress)
    paragraphs, changes = layout.to_paragraphs(pages)
    framed = official.strip_frame([p.text for p in paragraphs])
    kept = [paragraphs[i] for i in framed.kept]
    text = "\n".join(framed.paragraphs)
    changes = changes + framed.changes
    loaded = LoadedText(text, changes, framed.fields, "image" if path.suffix.lower() != ".pdf" else "pdf",
                        pages=count, ocr_pages=len(ocr_pages))
    if ocr_pages:
        scanned_lines = [ln for page in pages if page.number in ocr_pages for ln in page.lines]
        weights = [len(ln.text) for ln in scanned_lines]
        mean = (sum((ln.confidence or 0.0) * w for ln, w in zip(scanned_lines, weights, strict=True))
                / sum(weights)) if sum(weights) else 0.0
        loaded.ocr_confidence = round(mean, 3)
        low: list[Change] = []
        offset = 0
        for paragraph, line_text in zip(kept, framed.paragraphs, strict=True):
            if paragraph.confidence is not None and paragraph.confidence < ocr.LOW_CONFIDENCE:
                low.append(Change("ocr_low_confidence", line_text, line_text, offset,
                                  f"OCR confidence {paragraph.confidence:.2f} on page {paragraph.page}: "
                                  "check this line against the scan"))
            offset += len(line_text) + 1
        summary = Change(
            "ocr", "", "", 0,
            f"text read by OCR ({ocr.ENGINE_NAME}) on {len(ocr_pages)} of {count} page(s); mean confidence "
            f"{loaded.ocr_confidence:.3f}; {len(low)} line(s) below {ocr.LOW_CONFIDENCE}",
        )
        loaded.changes = [summary, *low, *loaded.changes]
    return loaded
