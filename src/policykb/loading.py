"""Load a raw input file (.txt, .html/.htm, .docx) as text with \\n newlines, or refuse it with one clear line."""

from __future__ import annotations

import codecs
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from policykb.errors import InputFileError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
DOCX_SUFFIXES = frozenset({".docx"})
SUPPORTED = "expected .txt, .html, .htm or .docx"

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


def load_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read one raw file as text; raise InputFileError with a one-line reason when it cannot be used."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES | DOCX_SUFFIXES:
        raise InputFileError(path, f"unsupported file type {suffix or '(no extension)'!r} ({SUPPORTED})")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(path, "file is empty (0 bytes)")
    if size > max_bytes:
        raise InputFileError(
            path, f"file is too large: {_human(size)}, over the limit of {_human(max_bytes)} (max_file_mb)"
        )
    if suffix in DOCX_SUFFIXES:
        text = _read_docx(path)
    else:
        data = path.read_bytes()
        text = decode_bytes(data, path, html=suffix in HTML_SUFFIXES)
        if suffix in HTML_SUFFIXES:
            text = html_to_text(text)
    text = normalise_newlines(text)
    if not text.strip():
        raise InputFileError(path, "file has no text (only whitespace or markup)")
    return text


def normalise_newlines(text: str) -> str:
    """Turn \\r\\n, \\r and Unicode line/paragraph separators into \\n and drop a leading BOM."""
    return NEWLINES.sub("\n", text.removeprefix("\ufeff"))


def decode_bytes(data: bytes, path: Path | str = "<bytes>", html: bool = False) -> str:
    """Decode raw bytes: BOM, then strict UTF-8, then the page's <meta charset>, then charset-normalizer."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding), path)
            except UnicodeDecodeError as exc:
                name = encoding.upper().replace("_SIG", "").replace("_", "-")
                raise InputFileError(
                    path, f"undecodable: starts with a {name} byte-order mark but is not valid {name}"
                ) from exc
    for magic, what in MAGIC:
        if data.startswith(magic):
            raise InputFileError(path, f"looks like {what}, not text")
    if b"\x00" in data:
        raise InputFileError(path, "looks like a binary file (contains NUL bytes), not text")
    try:
        return _check_text(data.decode("utf_8"), path)
    except UnicodeDecodeError:
        pass
    if html:
        declared = _declared_charset(data)
        if declared:
            try:
                return _check_text(data.decode(declared), path)
            except (UnicodeDecodeError, LookupError):
                pass  # a wrong declaration is common on scraped pages: fall through to detection
    return _check_text(_detect_and_decode(data, path), path)


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


def _read_docx(path: Path) -> str:
    """Paragraphs and table rows of a .docx in document order, one per line."""
    import zipfile

    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - python-docx is a declared dependency
        raise InputFileError(path, f"cannot read .docx files: {exc}") from exc
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputFileError(path, "not a valid .docx file (corrupt, or not a Word document)") from exc
    except Exception as exc:  # lxml raises its own errors on a damaged document.xml
        raise InputFileError(path, f"not a valid .docx file ({type(exc).__name__})") from exc
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
