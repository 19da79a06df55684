"""Load a raw input file as text with \\n newlines, or refuse it with one clear line.

Text (.txt), web pages (.html/.htm), Word (.docx; .doc and .wps through LibreOffice), PDF (the text layer, or
OCR for pages that have none) and page images (.png/.jpg, OCR). What loading itself changes (bytes that are not
valid in the file's encoding, page numbers and running headers, an official document's red header and 抄送/印发
lines, OCR) is returned as Changes beside the text, so nothing is silently altered.
"""

from __future__ import annotations

import codecs
import logging
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from policykb.errors import InputFileError
from policykb.records import Change

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PAGES = 300
TEXT_SUFFIXES = frozenset({".txt", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
DOCX_SUFFIXES = frozenset({".docx"})
OLD_WORD_SUFFIXES = frozenset({".doc", ".wps"})
PDF_SUFFIXES = frozenset({".pdf"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
ALL_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | DOCX_SUFFIXES | OLD_WORD_SUFFIXES | PDF_SUFFIXES | IMAGE_SUFFIXES
SUPPORTED = "expected .txt, .html, .htm, .docx, .doc, .wps, .pdf, .png or .jpg"
# A file is UTF-8 with a few damaged bytes (replaced and reported) rather than another encoding when at most
# this share of its non-ASCII bytes are invalid and enough multi-byte characters decode.
MAX_BAD_UTF8_SHARE = 0.02
MIN_GOOD_UTF8_CHARS = 8
MAX_REPORTED_BAD_BYTES = 200

Progress = Callable[[str], None]


@dataclass
class LoadedText:
    """A loaded file: its text, what loading changed, and what the file's form says about it."""

    text: str
    changes: list[Change] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # e.g. 发文机关 from an official document's red header
    source_format: str = "text"  # text | html | docx | doc | wps | pdf | image
    pages: int = 0
    ocr_pages: int = 0
    ocr_confidence: float | None = None  # mean over OCR'd characters
    markup: str | None = None  # an HTML page's decoded markup: the cleaner's main-content step reads it

# Encodings we let the detector choose from: Chinese pages are UTF-8, GB2312/GBK/GB18030 or Big5.
CANDIDATE_ENCODINGS = ["utf_8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "utf_16", "utf_32"]
# GB2312 and GBK are subsets of GB18030: decoding with the superset never loses a character.
SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}
BOMS = (
    (codecs.BOM_UTF32_LE, "utf_32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
)
# Magic numbers of common binary formats, so the error can say what the file really is.
MAGIC = (
    (b"%PDF", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive (a .docx must be named .docx)"),
    (b"\xd0\xcf\x11\xe0", "an old binary Office file (.doc/.xls); save it as .docx"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)
MAX_CONTROL_RATIO = 0.05
NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029")
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_-]+)", re.IGNORECASE)


def load_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, max_pages: int = DEFAULT_MAX_PAGES) -> str:
    """Read one raw file as text; raise InputFileError with a one-line reason when it cannot be used."""
    return load_file(path, max_bytes=max_bytes, max_pages=max_pages).text


def load_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, max_pages: int = DEFAULT_MAX_PAGES,
    progress: Progress | None = None, convert_timeout_s: float = 120.0,
) -> LoadedText:
    """Read one raw file with what loading changed; InputFileError with a one-line reason when unusable."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in ALL_SUFFIXES:
        raise InputFileError(path, f"unsupported file type {suffix or '(no extension)'!r} ({SUPPORTED})")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(path, "file is empty (0 bytes)")
    if size > max_bytes:
        raise InputFileError(
            path, f"file is too large: {_human(size)}, over the limit of {_human(max_bytes)} (max_file_mb)"
        )
    report = progress or (lambda message: log.info("%s", message))
    if suffix in PDF_SUFFIXES or suffix in IMAGE_SUFFIXES:
        from policykb.printed import load_printed

        loaded = load_printed(path, max_pages=max_pages, progress=report)
    elif suffix in DOCX_SUFFIXES:
        loaded = _framed(_read_docx(path), "docx")
    elif suffix in OLD_WORD_SUFFIXES:
        from policykb.office import convert_to_docx

        with tempfile.TemporaryDirectory(prefix="policykb-convert-") as tmp:
            converted = convert_to_docx(path, Path(tmp), timeout=convert_timeout_s)
            text = _read_docx(converted, shown_as=path)
        if "\ufffd" in text[:8] or text.count("\ufffd") > 0.01 * len(text):
            # LibreOffice imports a file it cannot parse as plain text: the "document" is the raw bytes.
            raise InputFileError(path, f"LibreOffice could not read this {suffix} file as a document "
                                       "(damaged, or not a Word/WPS file)")
        loaded = _framed(text, suffix.lstrip("."))
    else:
        text, changes = decode_bytes_reporting(path.read_bytes(), path, html=suffix in HTML_SUFFIXES)
        markup = None
        if suffix in HTML_SUFFIXES:
            markup, text = text, html_to_text(text)
        loaded = LoadedText(text, changes, source_format="html" if markup is not None else "text", markup=markup)
    loaded.text = normalise_newlines(loaded.text)
    if not loaded.text.strip():
        if loaded.ocr_pages:
            raise InputFileError(path, "no text found: OCR read nothing on any page (blank or unreadable scan)")
        raise InputFileError(path, "file has no text (only whitespace or markup)")
    return loaded


def source_format_of(path: str | Path) -> str:
    """The kind of file a path names, as LoadedText.source_format says it."""
    suffix = Path(path).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in DOCX_SUFFIXES or suffix in OLD_WORD_SUFFIXES:
        return suffix.lstrip(".")
    return "text"


def _framed(text: str, source_format: str) -> LoadedText:
    """A word-processor document: its red header, marks, 抄送 and 印发 lines recognised as official frame."""
    from policykb.official import strip_frame

    framed = strip_frame(text.split("\n"))
    return LoadedText("\n".join(framed.paragraphs), framed.changes, framed.fields, source_format)


def normalise_newlines(text: str) -> str:
    """Turn \\r\\n, \\r and Unicode line/paragraph separators into \\n and drop a leading BOM."""
    return NEWLINES.sub("\n", text.removeprefix("\ufeff"))


def decode_bytes(data: bytes, path: Path | str = "<bytes>", html: bool = False) -> str:
    """Decode raw bytes: BOM, then UTF-8 (a few bad bytes replaced), the <meta charset>, then detection."""
    return decode_bytes_reporting(data, path, html)[0]


def decode_bytes_reporting(data: bytes, path: Path | str = "<bytes>", html: bool = False) -> tuple[str, list[Change]]:
    """`decode_bytes`, with a Change (kind "encoding") for every byte run that had to be replaced."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding), path), []
            except UnicodeDecodeError as exc:
                name = encoding.upper().replace("_SIG", "").replace("_", "-")
                raise InputFileError(
                    path, f"undecodable: starts with a {name} byte-order mark but is not valid {name}"
                ) from exc
    for magic, what in MAGIC:
        if data.startswith(magic):
            raise InputFileError(path, f"looks like {what}, not text")
    if b"\x00" in data:
        utf16 = _bomless_utf16(data)
        if utf16 is None:
            raise InputFileError(path, "looks like a binary file (contains NUL bytes), not text")
        return _check_text(utf16, path), []
    try:
        return _check_text(data.decode("utf_8"), path), []
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return _check_text(mostly[0], path), mostly[1]
    if html:
        declared = _declared_charset(data)
        if declared:
            try:
                return _check_text(data.decode(declared), path), []
            except (UnicodeDecodeError, LookupError):
                pass  # a wrong declaration is common on scraped pages: fall through to detection
    try:
        return _check_text(_detect_and_decode(data, path), path), []
    except InputFileError:
        # Nothing else reads it either: mostly ASCII with a few stray bytes is still UTF-8 text.
        lenient = _mostly_utf8(data, lenient=True)
        if lenient is None:
            raise
        return _check_text(lenient[0], path), lenient[1]


def _plausible_share(text: str) -> float:
    """Share of characters that Chinese (or plain ASCII) text is made of."""
    if not text:
        return 0.0
    good = sum(
        1 for ch in text
        if ch in "\t\n\r" or " " <= ch <= "~" or "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"
        or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or "\u2000" <= ch <= "\u206f"
    )
    return good / len(text)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: the byte order whose decoding reads as text (ASCII has a NUL half)."""
    if len(data) % 2:
        return None
    best: tuple[float, str] | None = None
    for encoding in ("utf_16_le", "utf_16_be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        share = _plausible_share(text)
        if best is None or share > best[0]:
            best = (share, text)
    return best[1] if best and best[0] >= 0.95 else None


def _mostly_utf8(data: bytes, lenient: bool = False) -> tuple[str, list[Change]] | None:
    """UTF-8 text with a few invalid byte runs: each replaced by U+FFFD and reported with its byte offset.

    Strict (before other encodings are tried): most non-ASCII bytes form valid UTF-8 characters. Lenient (when
    nothing else reads the file): the bad bytes are at most 3, or 1% of the file."""
    non_ascii = sum(1 for b in data if b >= 0x80)
    pieces: list[str] = []
    bad: list[tuple[int, bytes, int]] = []  # (byte offset, bytes, offset in text)
    position = 0
    length = 0
    while position < len(data):
        try:
            piece = data[position:].decode("utf_8")
            pieces.append(piece)
            break
        except UnicodeDecodeError as exc:
            good = data[position : position + exc.start].decode("utf_8")
            pieces.append(good)
            length += len(good)
            bad.append((position + exc.start, data[position + exc.start : position + exc.end], length))
            pieces.append("\ufffd")
            length += 1
            position += exc.end
            if len(bad) > MAX_REPORTED_BAD_BYTES:
                return None
    bad_bytes = sum(len(run) for _, run, _ in bad)
    text = "".join(pieces)
    multibyte = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if lenient:
        if bad_bytes > max(3, 0.01 * len(data)):
            return None
    elif multibyte < MIN_GOOD_UTF8_CHARS or bad_bytes > MAX_BAD_UTF8_SHARE * non_ascii:
        return None
    changes = [
        Change("encoding", run.decode("latin_1"), "\ufffd", offset,
               f"byte {at}: {run.hex(' ')} is not valid UTF-8; replaced")
        for at, run, offset in bad
    ]
    return text, changes


def _declared_charset(data: bytes) -> str | None:
    match = META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower().replace("-", "_")
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return None
    return SUPERSET.get(name, name)


def _detect_and_decode(data: bytes, path: Path | str) -> str:
    from charset_normalizer import from_bytes  # imported here: not needed for the UTF-8 fast path

    best = from_bytes(data, cp_isolation=CANDIDATE_ENCODINGS).best()
    if best is None:
        # The detector needs some length to be sure; a short GBK snippet is still worth a strict try.
        for encoding in ("gb18030", "big5hkscs"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if _mostly_chinese(text):
                return text
        raise InputFileError(path, "undecodable: the bytes are not valid UTF-8, GB18030/GBK or Big5 text")
    encoding = codecs.lookup(best.encoding).name
    encoding = SUPERSET.get(encoding, encoding)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return str(best)


def _mostly_chinese(text: str) -> bool:
    """True when most non-ASCII characters are common CJK ideographs or CJK punctuation."""
    wide = [ch for ch in text if ord(ch) > 127]
    cjk = sum(1 for ch in wide if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")
    return bool(wide) and cjk / len(wide) >= 0.9


def _check_text(text: str, path: Path | str) -> str:
    """Refuse decoded text that is mostly control characters: it was binary data that happened to decode."""
    if not text:
        return text
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    if control / len(text) > MAX_CONTROL_RATIO:
        raise InputFileError(path, "looks like a binary file (mostly control characters), not text")
    return text


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


# --- HTML -----------------------------------------------------------------------------------------------

BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption center dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead title tr ul".split()
)
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "object"})
CELL_TAGS = frozenset({"td", "th"})


class _TextExtractor(HTMLParser):
    """Collect the visible text of a page: block elements become line breaks, table cells are joined by ' | '."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.cells_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self.skip_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        if tag == "tr":
            self.cells_in_row = 0
        if tag in CELL_TAGS:
            if self.cells_in_row:
                self.parts.append(" | ")
            self.cells_in_row += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag in BLOCK_TAGS and tag not in CELL_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if not self.pre_depth:
            # Outside <pre>, HTML collapses source whitespace: the page's own line breaks are not paragraphs.
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
        self.parts.append(data.replace("\xa0", " "))

    def text(self) -> str:
        joined = "".join(self.parts)
        lines = (line.strip() for line in joined.split("\n"))
        return "\n".join(line for line in lines if line)


def html_to_text(markup: str) -> str:
    """Strip markup from an HTML page, keeping one line per block element and dropping scripts and styles."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return parser.text()


# --- DOCX -----------------------------------------------------------------------------------------------


def _read_docx(path: Path, shown_as: Path | None = None) -> str:
    """Paragraphs and table rows of a .docx in document order, one per line (errors name `shown_as`)."""
    import zipfile

    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - python-docx is a declared dependency
        raise InputFileError(shown_as or path, f"cannot read .docx files: {exc}") from exc
    what = f"{shown_as.suffix} file" if shown_as else ".docx file"
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputFileError(shown_as or path, f"not a valid {what} (corrupt, or not a Word document)") from exc
    except Exception as exc:  # lxml raises its own errors on a damaged document.xml
        raise InputFileError(shown_as or path, f"not a valid {what} ({type(exc).__name__})") from exc
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if not cells or text != cells[-1]:  # merged cells repeat their text
                        cells.append(text)
                lines.append(" | ".join(cells))
    return "\n".join(lines)
