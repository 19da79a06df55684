"""Bench rows for printed input: PDF text-layer pages/s, and OCR pages/s and character error per engine.

The seeds' clean text is laid out as official documents (tests/official_layout.py) and saved as PDF by
LibreOffice; OCR reads the same pages rendered at 150 dpi. Character error per page is measured against the
page's own text layer (whitespace dropped, punctuation NFKC-folded), so engines are compared on the same pages.
Run alone: `PYTHONPATH=src .venv/bin/python bench/printed.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

OCR_PAGES = 4  # pages per engine: enough for a stable rate on a shared 2-core machine, short enough for make bench


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _page_text(page) -> str:  # type: ignore[no-untyped-def]
    from policykb.layout import reading_order

    return "".join(line.text for line in reading_order(page))


def _tesseract_page(image_path: Path) -> str:
    """Tesseract's line boxes (TSV), read in the same reading order as RapidOCR's."""
    from policykb.layout import Line, Page

    done = subprocess.run(["tesseract", str(image_path), "-", "-l", "chi_sim", "tsv"], capture_output=True,
                          timeout=300)
    lines: dict[tuple[str, str, str], list[list[str]]] = {}
    for row in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[0] == "5" and cells[11].strip():
            lines.setdefault((cells[2], cells[3], cells[4]), []).append(cells)
    page = Page(1, 1240, 1754)
    for words in lines.values():
        x0 = min(int(w[6]) for w in words)
        top = min(int(w[7]) for w in words)
        x1 = max(int(w[6]) + int(w[8]) for w in words)
        bottom = max(int(w[7]) + int(w[9]) for w in words)
        page.lines.append(Line("".join(w[11] for w in words), x0, x1, top, bottom, bottom - top))
    return _page_text(page)


def printed_rows(work: Path) -> list[tuple[str, str, str, str, str, str]]:
    """(section, measure, value, baseline, target, ok) rows, as bench/run.py's Row takes them."""
    from official_layout import Frame, char_error_rate, official_pdf, soffice
    from policykb import ocr, pdf, pipeline
    from policykb.loading import load_file

    rows: list[tuple[str, str, str, str, str, str]] = []
    if soffice() is None:
        return [("printed", "PDF and OCR", "skipped: LibreOffice (soffice) not installed (make system-deps)", "", "", "")]
    folder = work / "printed"
    folder.mkdir(parents=True, exist_ok=True)
    pdfs: list[Path] = []
    for raw in sorted((ROOT / "corpus").glob("*.txt")):
        doc = pipeline.clean_file(raw)
        if doc.metadata.kind != "policy" or not doc.metadata.issuer:
            continue
        pdfs.append(official_pdf(doc.text, Frame(f"{doc.metadata.issuer}文件"), folder, raw.stem))

    pages = 0
    start = time.perf_counter()
    for path in pdfs:
        pages += load_file(path).pages
    elapsed = time.perf_counter() - start
    rows.append(("printed", f"PDF text layer → paragraphs ({pages} pages)", f"{pages / elapsed:.1f} pages/s", "", "", ""))

    # OCR engines on the same rendered pages.
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdfs[0]))
    images: list[tuple[Path, str]] = []
    for index in range(min(OCR_PAGES, len(document))):
        truth = _fold(_page_text(pdf.text_layer(document, index)))
        image_path = folder / f"page-{index + 1}.png"
        pdf.render(document, index).save(image_path)
        images.append((image_path, truth))
    document.close()

    def measure(name: str, read) -> None:  # type: ignore[no-untyped-def]
        errors, chars, seconds = 0.0, 0, 0.0
        for image_path, truth in images:
            begin = time.perf_counter()
            got = read(image_path)
            seconds += time.perf_counter() - begin
            errors += char_error_rate(_fold(got), truth) * len(truth)
            chars += len(truth)
        rows.append(("printed", f"OCR {name}, 150 dpi ({len(images)} pages)",
                     f"{len(images) / seconds:.3f} pages/s, CER {errors / chars:.2%}", "", "CER <= 3%",
                     "yes" if errors / chars <= 0.03 else "no"))

    if ocr.available():
        from PIL import Image

        ocr.engine()  # load the models outside the timing
        measure("RapidOCR PP-OCRv6 (chosen)", lambda p: _page_text(ocr.ocr_page(Image.open(p), 1)))
    if shutil.which("tesseract"):
        measure("Tesseract 5 chi_sim", _tesseract_page)
    return rows


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="policykb-bench-printed-") as tmp:
        for row in printed_rows(Path(tmp)):
            print(" | ".join(row))
