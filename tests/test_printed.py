"""What bureaus publish: seed plans laid out as official documents, saved as PDF by LibreOffice, read back.

The PDFs are built here from the seeds' clean text (no binary fixtures): A4, red header with the issuing organ,
文号 under a red rule, a title in a larger face, indented justified body, signature to the right, 抄送/印发
lines, page numbers `— N —`. The text layer must come back within 0.5% character error of the clean text, with
the same metadata; the same pages rendered at 150 dpi and OCR'd within 3%.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import corpus_path
from official_layout import (
    Frame,
    char_error_rate,
    convert_with_soffice,
    official_pdf,
    soffice,
    write_official_docx,
)
from policykb import ocr, pipeline
from policykb.errors import InputFileError
from policykb.layout import Line, Page
from policykb.loading import load_file
from policykb.records import Document

needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) not installed: make system-deps")
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="rapidocr not installed")
POLICY_SEEDS = ["shanghai", "hongkou", "linping"]
METADATA = ("title", "issuer", "date", "doc_number", "region_id", "kind")


def seed(region: str) -> Document:
    """A seed's clean text, closed by its signature block when the scrape lost it (the date was in the page's
    metadata table): a printed document carries its issuer and date at the end."""
    doc = pipeline.clean_file(corpus_path(region))
    meta = doc.metadata
    if meta.date and meta.issuer and not signed(doc.text, meta.date):
        year, month, day = (int(part) for part in meta.date.split("-"))
        return pipeline.clean_raw_text(f"{doc.text}\n{meta.issuer}\n{year}年{month}月{day}日", corpus_path(region))
    return doc


def signed(text: str, date: str) -> bool:
    year, month, day = (int(part) for part in date.split("-"))
    return f"{year}年{month}月{day}日" in text


def frame_for(doc: Document) -> Frame:
    assert doc.metadata.issuer
    return Frame(f"{doc.metadata.issuer}文件", printed=f"{doc.metadata.issuer}办公室 2024年1月5日印发")


def reason(path: Path, **kwargs: object) -> str:
    with pytest.raises(InputFileError) as info:
        load_file(path, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == f"{path}: {info.value.reason}" and "\n" not in str(info.value)
    return info.value.reason


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed: make system-deps")
    folder = tmp_path_factory.mktemp("official")
    return {region: official_pdf(seed(region).text, frame_for(seed(region)), folder, region) for region in POLICY_SEEDS}


# --- the text layer -------------------------------------------------------------------------------------


@needs_soffice
@pytest.mark.parametrize("region", POLICY_SEEDS)
def test_official_pdf_comes_back_within_half_a_percent_with_its_metadata(pdfs: dict[str, Path], region: str) -> None:
    expected = seed(region)
    got = pipeline.clean_file(pdfs[region])
    assert char_error_rate(got.text, expected.text) <= 0.005
    for name in METADATA:
        assert getattr(got.metadata, name) == getattr(expected.metadata, name), name
    assert got.metadata.source_format == "pdf" and got.metadata.ocr_confidence is None
    kinds = [c.kind for c in got.changes]
    assert "ocr" not in kinds and kinds.count("pagination") >= 3  # a page number per page, all reported
    frame = [c.before.replace(" ", "") for c in got.changes if c.note.startswith(("red header", "抄送"))]
    assert frame == [f"{expected.metadata.issuer}文件", "抄送:市人民政府办公厅。",
                     f"{expected.metadata.issuer}办公室2024年1月5日印发"]


@needs_soffice
def test_two_column_pages_are_read_column_by_column(tmp_path: Path) -> None:
    # The red header across the page, the body (titles wrapped in a narrow column) in two columns below it.
    expected = seed("hongkou")
    path = official_pdf(expected.text, frame_for(expected), tmp_path, "gazette", columns=2)
    got = pipeline.clean_file(path)
    assert char_error_rate(got.text, expected.text) <= 0.005
    assert (got.metadata.title, got.metadata.issuer, got.metadata.date) == (
        expected.metadata.title, expected.metadata.issuer, expected.metadata.date)


@needs_soffice
def test_shanghai_pdf_paragraphs_are_the_clean_lines(pdfs: dict[str, Path]) -> None:
    # Exact, line by line, for the notice at the top: wrapped lines joined, the title's two lines one.
    got = pipeline.clean_file(pdfs["shanghai"]).text.split("\n")
    assert got[:10] == seed("shanghai").text.split("\n")[:10]


@needs_soffice
def test_a_page_with_a_text_layer_is_never_ocred(pdfs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> Page:
        raise AssertionError("OCR called on a page with a text layer")

    monkeypatch.setattr(ocr, "ocr_page", refuse)
    loaded = load_file(pdfs["linping"])
    assert loaded.ocr_pages == 0 and loaded.pages >= 5


@needs_soffice
def test_page_limit_is_a_setting_with_a_clear_error(pdfs: dict[str, Path]) -> None:
    pages = load_file(pdfs["shanghai"]).pages
    assert reason(pdfs["shanghai"], max_pages=3) == f"PDF has {pages} pages, over the limit of 3 (max_pdf_pages)"


@needs_soffice
def test_encrypted_pdf_gets_one_line(tmp_path: Path) -> None:
    source = write_official_docx("特此通知。", Frame("上海市教育委员会文件"), tmp_path / "secret.docx")
    options = ('pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
               '"DocumentOpenPassword":{"type":"string","value":"x"}}')
    path = convert_with_soffice(source, options, tmp_path)
    assert reason(path) == "PDF is encrypted (password protected): save an unprotected copy"


def test_broken_pdf_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer garbage")
    assert reason(path) == "not a readable PDF: damaged or not a PDF (PDFium: data format error)"


# --- .doc and .wps through LibreOffice -------------------------------------------------------------------


@pytest.fixture(scope="module")
def old_word(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed: make system-deps")
    folder = tmp_path_factory.mktemp("doc")
    doc = seed("hongkou")
    source = write_official_docx(doc.text, frame_for(doc), folder / "hongkou.docx")
    return convert_with_soffice(source, "doc", folder)


@needs_soffice
@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_old_word_and_wps_files_are_converted(old_word: Path, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"plan{suffix}"
    path.write_bytes(old_word.read_bytes())  # a Kingsoft .wps is the same compound binary as a .doc
    got = pipeline.clean_file(path)
    expected = seed("hongkou")
    assert got.text == expected.text
    assert got.metadata.issuer == expected.metadata.issuer and got.metadata.source_format == suffix[1:]
    assert [c.before for c in got.changes if c.note.startswith("red header")] == ["虹口区教育局文件"]


def test_old_word_without_libreoffice_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import policykb.office

    monkeypatch.setattr(policykb.office, "soffice_binary", lambda: None)
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert reason(path) == (
        "cannot read .doc files: LibreOffice (soffice) is not installed; install libreoffice-writer "
        "(make system-deps) or save the file as .docx"
    )


def test_old_word_conversion_has_a_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import policykb.office

    def slow(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("soffice", 7)

    monkeypatch.setattr(policykb.office, "soffice_binary", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(policykb.office.subprocess, "run", slow)
    path = tmp_path / "slow.wps"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    assert reason(path, convert_timeout_s=7) == "LibreOffice did not finish converting within 7 s"


@needs_soffice
def test_a_damaged_doc_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "damaged.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 600)
    assert reason(path) == "LibreOffice could not read this .doc file as a document (damaged, or not a Word/WPS file)"


# --- OCR: marking and reporting (a stand-in recogniser) -----------------------------------------------------


def blank_scan(path: Path, pages: int) -> Path:
    from PIL import Image

    images = [Image.new("L", (1240, 1754), 255) for _ in range(pages)]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path


def test_ocr_is_reported_with_confidence_and_low_lines_are_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(image: object, number: int) -> Page:
        lines = [("各区教育局:", 0.99), ("为全面贯彻党的二十大精神,制定本计划。", 0.98), ("特此通知。", 0.41)]
        return Page(number, 1240, 1754, [
            Line(text, 230, 230 + 33 * len(text), 400 + 60 * i, 433 + 60 * i, 33, score)
            for i, (text, score) in enumerate(lines)
        ])

    monkeypatch.setattr(ocr, "ocr_page", fake)
    messages: list[str] = []
    loaded = load_file(blank_scan(tmp_path / "scan.pdf", 2), progress=messages.append)
    assert messages == ["scan.pdf: OCR page 1/2", "scan.pdf: OCR page 2/2"]
    assert loaded.ocr_pages == 2 and loaded.ocr_confidence == 0.887
    summary = loaded.changes[0]
    assert (summary.kind, summary.note) == (
        "ocr", "text read by OCR (RapidOCR PP-OCRv6) on 2 of 2 page(s); mean confidence 0.887; 2 line(s) below 0.75"
    )
    low = [(c.kind, c.before, c.offset) for c in loaded.changes if c.kind == "ocr_low_confidence"]
    text = loaded.text
    assert low == [("ocr_low_confidence", "特此通知。", text.index("特此通知。")),
                   ("ocr_low_confidence", "特此通知。", text.rindex("特此通知。"))]
    doc = pipeline.clean_loaded(loaded, tmp_path / "scan.pdf")
    assert doc.metadata.ocr_confidence == loaded.ocr_confidence and doc.to_dict()["ocr_confidence"] == 0.887


def test_a_scan_where_ocr_finds_nothing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "ocr_page", lambda image, number: Page(number, 1240, 1754, []))
    path = blank_scan(tmp_path / "blank.pdf", 1)
    assert reason(path) == "no text found: OCR read nothing on any page (blank or unreadable scan)"


def test_a_broken_image_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert reason(path) == "not a readable image (UnidentifiedImageError)"


# --- OCR with the real model ---------------------------------------------------------------------------------


def notice_part(doc: Document, chars: int) -> str:
    """The document's first lines, up to about `chars` characters (two printed pages)."""
    kept: list[str] = []
    for line in doc.text.split("\n"):
        kept.append(line)
        if sum(map(len, kept)) >= chars:
            break
    return "\n".join(kept)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """A short official document (two or three pages), rendered at 150 dpi: as an image-only PDF, and its first page as PNG."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed: make system-deps")
    import pypdfium2 as pdfium

    from policykb import pdf

    folder = tmp_path_factory.mktemp("scan")
    doc = seed("shanghai")
    text = notice_part(doc, 900)
    printed = official_pdf(text, frame_for(doc), folder, "notice")
    document = pdfium.PdfDocument(str(printed))
    images = [pdf.render(document, i).convert("RGB") for i in range(len(document))]
    document.close()
    scan = folder / "scan.pdf"
    images[0].save(scan, save_all=True, append_images=images[1:], resolution=150)
    png = folder / "page-1.png"
    images[0].save(png)
    return text, scan, png


@needs_soffice
@needs_ocr
@pytest.mark.ocr
def test_scanned_official_pdf_comes_back_within_three_percent(scanned: tuple[str, Path, Path]) -> None:
    text, scan, _ = scanned
    expected = pipeline.clean_raw_text(text, "notice.txt")
    got = pipeline.clean_file(scan)
    assert char_error_rate(got.text, expected.text) <= 0.03
    for name in ("issuer", "date", "doc_number", "region_id"):
        assert getattr(got.metadata, name) == getattr(expected.metadata, name), name
    assert got.metadata.ocr_confidence is not None and got.metadata.ocr_confidence >= 0.9
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(str(scan)))
    assert pages >= 2 and got.changes[0].kind == "ocr"
    assert got.changes[0].note.startswith(f"text read by OCR (RapidOCR PP-OCRv6) on {pages} of {pages} page(s)")


@needs_soffice
@needs_ocr
@pytest.mark.ocr
def test_a_page_image_is_ocred(scanned: tuple[str, Path, Path]) -> None:
    text, _, png = scanned
    loaded = load_file(png)
    assert loaded.source_format == "image" and loaded.ocr_pages == 1
    assert loaded.fields == {"发文机关": "上海市教育委员会"}
    first_lines = text.split("\n")[:3]
    got = pipeline.clean_loaded(loaded, png).text.split("\n")
    assert char_error_rate("\n".join(got[:3]), "\n".join(first_lines)) <= 0.03
