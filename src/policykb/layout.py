"""Undo pagination: positioned lines of printed pages (a PDF's text layer or OCR) back to one paragraph per line.

What pagination adds, and how each is recognised without knowing the document:
- page numbers (`— 1 —`, `-1-`, `第1页 共5页`, `1/5`): the shape of a page's first or last line;
- running headers and footers: a first or last line that recurs (digits aside) on at least half of the pages;
- line breaks inside a paragraph: a line that reaches the right margin (or stops short only because the next
  line's first word would not fit) continues on the next line, unless the next line is indented (when the
  document indents its paragraphs) or the line ends a sentence (when it does not); a wrapped title, set in a
  larger face, is joined too. CJK wraps without a hyphen, so CJK lines join with nothing between them;
- two columns: a vertical gutter in the middle of the page that (almost) no line crosses; the left column is
  read before the right one, between the lines that span both.
Every removal is returned as a Change; the text keeps what the page said.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace

from policykb.records import Change


@dataclass
class Line:
    """One printed line (or a piece of one) with its box in page units, y growing downwards."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # font size (text layer) or box height (OCR): only compared within one document
    confidence: float | None = None  # OCR only
    column: int = 0  # 0 across the page, 1 left and 2 right column of a two-column page

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)


@dataclass
class Paragraph:
    text: str
    page: int
    size: float
    confidence: float | None = None  # the lowest confidence of its OCR lines


PAGE_NUMBER = re.compile(
    r"^(?:[—–\-－~～_·•一]*\d{1,4}[—–\-－~～_·•一]*"  # OCR reads the dashes of `— 3 —` as 一 too
    r"|第\d{1,4}页(?:[,，/]?共\d{1,4}页)?|共\d{1,4}页第\d{1,4}页|\d{1,4}/\d{1,4}"
    r"|(?:page)?\d{1,4}(?:of\d{1,4})?)$",
    re.IGNORECASE,
)
SENTENCE_END = tuple("。!?！？;；:：…")
CLOSERS = "”’\")）」』》】"
OUTLINE_START = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.、．](?!\d)|第[一二三四五六七八九十百\d]+[章节条])"
)
LATIN_TOKEN = re.compile(r"^[A-Za-z0-9.,%\-/:()（）]+")
MARGIN_LINES = 2  # running headers and footers are among a page's first and last two lines


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def is_page_number(text: str) -> bool:
    return bool(PAGE_NUMBER.fullmatch(_compact(text)))


def _template(text: str) -> str:
    return re.sub(r"\d+", "#", _compact(text))


# --- reading order -------------------------------------------------------------------------------------


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines whose boxes overlap vertically form one row, left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        if rows:
            row = rows[-1]
            top, bottom = min(ln.top for ln in row), max(ln.bottom for ln in row)
            overlap = min(bottom, line.bottom) - max(top, line.top)
            if overlap > 0.5 * min(bottom - top, line.bottom - line.top):
                row.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda ln: ln.x0) for row in rows]


def _merge_row(row: list[Line]) -> Line:
    if len(row) == 1:
        return row[0]
    parts = [row[0].text]
    for left, right in zip(row, row[1:], strict=False):
        gap = right.x0 - left.x1
        parts.append(" " if gap > 0.3 * max(left.size, right.size) else "")
        parts.append(right.text)
    confidences = [ln.confidence for ln in row if ln.confidence is not None]
    return Line(
        "".join(parts), min(ln.x0 for ln in row), max(ln.x1 for ln in row), min(ln.top for ln in row),
        max(ln.bottom for ln in row), statistics.median(ln.size for ln in row),
        min(confidences) if confidences else None,
    )


def find_gutter(page: Page) -> float | None:
    """The x of a column gutter: a vertical strip in the middle of the page that almost no line crosses."""
    lines = [ln for ln in page.lines if ln.text.strip()]
    if len(lines) < 10:
        return None
    size = statistics.median(ln.size for ln in lines)
    step = max(1.0, size / 4)
    samples: list[tuple[float, int]] = []
    x = page.width * 0.3
    while x <= page.width * 0.7:
        samples.append((x, sum(1 for ln in lines if ln.x0 < x - size / 4 and ln.x1 > x + size / 4)))
        x += step
    if not samples:
        return None
    crossing = min(n for _, n in samples)
    # The middle of the widest run of positions that this few lines cross.
    runs: list[list[float]] = []
    for x, n in samples:
        if n == crossing:
            if runs and x - runs[-1][-1] <= step * 1.01:
                runs[-1].append(x)
            else:
                runs.append([x])
    widest = max(runs, key=len)
    gutter = (widest[0] + widest[-1]) / 2
    left = [ln for ln in lines if ln.x1 <= gutter]
    right = [ln for ln in lines if ln.x0 >= gutter]
    if crossing > 0.15 * len(lines) or len(left) < 4 or len(right) < 4:
        return None
    # Both columns must be text columns: lines that reach close to the gutter from the left.
    if max(ln.x1 for ln in left) < gutter - 4 * size:
        return None
    return gutter


def reading_order(page: Page) -> list[Line]:
    """The page's lines in reading order: rows top to bottom, two columns one after the other."""
    gutter = find_gutter(page)
    if gutter is None:
        return [_merge_row(row) for row in _rows(page.lines)]
    ordered: list[Line] = []
    band: list[Line] = []
    spanning_rows = _rows(page.lines)

    def flush() -> None:
        left = [ln for ln in band if ln.x1 <= gutter]
        right = [ln for ln in band if ln.x1 > gutter]
        for column, lines in ((1, left), (2, right)):
            for row in _rows(lines):
                merged = _merge_row(row)
                ordered.append(replace(merged, column=column))
        band.clear()

    for row in spanning_rows:
        if any(ln.x0 < gutter < ln.x1 for ln in row):
            flush()
            ordered.append(_merge_row(row))
        else:
            band.extend(row)
    flush()
    return ordered


# --- running headers, footers, page numbers -------------------------------------------------------------


def _separated(lines: list[Line], i: int) -> bool:
    """Line i stands apart from the body: its gap to the neighbouring line exceeds the page's usual leading."""
    if len(lines) < 3:
        return True
    gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:], strict=False)]
    usual = statistics.median(gaps)
    gap = gaps[0] if i == 0 else gaps[-1] if i == len(lines) - 1 else min(gaps[i - 1], gaps[i])
    return gap > max(1.5 * usual, usual + 0.5 * lines[i].size)


def strip_page_furniture(pages: list[list[Line]], page_numbers: list[int]) -> tuple[list[list[Line]], list[Change]]:
    """Drop page numbers and running headers/footers from each page's first and last lines."""

    def key(line: Line) -> tuple[str, int]:
        return _template(line.text), round(line.top / max(line.size, 1.0))

    # A running header or footer stands apart from the body wherever it recurs; a body line that happens to
    # open two pages does not.
    counts: Counter[tuple[str, int]] = Counter()
    in_body: set[tuple[str, int]] = set()
    for lines in pages:
        for i in {*range(min(MARGIN_LINES, len(lines))), *range(max(0, len(lines) - MARGIN_LINES), len(lines))}:
            if _separated(lines, i):
                counts[key(lines[i])] += 1
            else:
                in_body.add(key(lines[i]))
    needed = max(2, (len(pages) + 1) // 2)
    kept_pages: list[list[Line]] = []
    removed: list[Change] = []
    for lines, number in zip(pages, page_numbers, strict=True):
        drop: set[int] = set()
        edges = list(range(min(MARGIN_LINES, len(lines)))) + list(range(max(0, len(lines) - MARGIN_LINES), len(lines)))
        for i in sorted(set(edges)):
            line = lines[i]
            if i not in (0, len(lines) - 1) and not (i - 1 in drop or i + 1 == len(lines) - 1):
                continue  # the second line counts only when the first is furniture, the last but one likewise
            apart = _separated(lines, i)
            compact = _compact(line.text)
            if is_page_number(line.text) and (apart or not compact.isdigit()):
                drop.add(i)
                removed.append(Change("pagination", line.text, "", 0, f"page number (page {number})"))
            elif apart and counts[key(line)] >= needed and key(line) not in in_body and len(pages) >= 2 \
                    and len(compact) <= 60:
                drop.add(i)
                removed.append(Change("pagination", line.text, "", 0, f"running header or footer (page {number})"))
        kept_pages.append([ln for i, ln in enumerate(lines) if i not in drop])
    return kept_pages, removed


# --- paragraphs -----------------------------------------------------------------------------------------


@dataclass
class Geometry:
    left: float
    right: float
    size: float


def _geometry(lines: list[Line]) -> Geometry | None:
    if not lines:
        return None
    size = statistics.median(ln.size for ln in lines)
    body = [ln for ln in lines if abs(ln.size - size) <= 0.15 * size] or lines
    lefts = Counter(round(ln.x0 / (size / 2)) for ln in body)
    common = max(lefts.values())
    # The text block's left edge: the leftmost position that many lines start at (indents start further right).
    left_bin = min(b for b, n in lefts.items() if n >= max(2, common * 0.15)) if len(body) > 2 else min(lefts)
    left = min(ln.x0 for ln in body if round(ln.x0 / (size / 2)) == left_bin)
    # The right edge: the furthest x that several lines reach (one stray box does not move it; many short
    # lines, as on a page of headings, do not pull it in).
    rights = sorted((ln.x1 for ln in body), reverse=True)
    needed = max(2, round(0.05 * len(rights))) if len(rights) > 2 else 1
    right = next((x for x in rights if sum(1 for r in rights if r >= x - size / 2) >= needed), rights[-1])
    return Geometry(left, right, size)


def _indents(lines: list[Line], geometry: Geometry) -> bool:
    """True when the document marks its paragraphs with a first-line indent."""
    body = [ln for ln in lines if abs(ln.size - geometry.size) <= 0.15 * geometry.size]
    indented = sum(1 for ln in body if geometry.size * 1.2 <= ln.x0 - geometry.left <= geometry.size * 4.5)
    return indented >= 2 and indented >= 0.05 * len(body)


def _reaches_margin(line: Line, following: Line, geometry: Geometry) -> bool:
    """The line filled its measure, or stopped short only because the next line's first word would not fit."""
    shortfall = geometry.right - line.x1
    token = LATIN_TOKEN.match(following.text.lstrip())
    word = (len(token.group()) * 0.55 * geometry.size) if token else geometry.size
    return shortfall <= max(1.6 * geometry.size, word + 0.6 * geometry.size)


def _is_display(line: Line, geometry: Geometry) -> bool:
    return line.size >= 1.15 * geometry.size


def continues(
    line: Line, following: Line, geometry: Geometry, indented_style: bool, next_geometry: Geometry | None = None
) -> bool:
    """Does `following` carry on the paragraph that `line` belongs to? (geometries of their pages)"""
    next_geometry = next_geometry or geometry
    text, nxt = line.text.rstrip(), following.text.lstrip()
    if not text or not nxt:
        return False
    if _is_display(line, geometry):
        # A title wrapped over lines: the same large face, both lines centred, the first not ending a sentence.
        same_face = abs(line.size - following.size) <= 0.15 * max(line.size, following.size)
        middle = (geometry.left + geometry.right) / 2
        centred = all(abs((ln.x0 + ln.x1) / 2 - middle) <= 2 * geometry.size for ln in (line, following))
        return same_face and centred and not text.endswith(SENTENCE_END)
    if OUTLINE_START.match(nxt) and text.rstrip(CLOSERS).endswith(SENTENCE_END + tuple(")）")):
        return False
    if not _reaches_margin(line, following, geometry):
        return False
    if indented_style:
        return following.x0 - next_geometry.left < next_geometry.size * 1.0
    return not text.rstrip(CLOSERS).endswith(SENTENCE_END)


def _join(left: str, right: str) -> str:
    left, right = left.rstrip(), right.lstrip()
    if left.endswith("-") and len(left) >= 2 and left[-2].isalpha() and left[-2].isascii() and right[:1].islower():
        return left[:-1] + right  # an English word hyphenated at the line end
    if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalpha():
        return left + " " + right
    return left + right


def to_paragraphs(pages: list[Page]) -> tuple[list[Paragraph], list[Change]]:
    """Pages of positioned lines → paragraphs in reading order, with the page furniture removed and reported."""
    ordered = [[ln for ln in reading_order(page) if ln.text.strip()] for page in pages]
    ordered, changes = strip_page_furniture(ordered, [p.number for p in pages])
    everything = [ln for lines in ordered for ln in lines]
    # Each column has its own measure: a line is full when it reaches its column's right edge.
    by_column = {col: [ln for ln in everything if ln.column == col] for col in (0, 1, 2)}
    column_geometry: dict[int, Geometry] = {}
    for col, lines in by_column.items():
        measured = _geometry(lines)
        if measured is not None:
            column_geometry[col] = measured
    main = max(by_column, key=lambda col: len(by_column[col]))
    if main not in column_geometry:
        return [], changes
    document_geometry = column_geometry[main]
    indented_style = _indents(by_column[main], document_geometry)
    paragraphs: list[Paragraph] = []
    previous: tuple[Line, Geometry] | None = None
    for page, lines in zip(pages, ordered, strict=True):
        geometries: dict[int, Geometry] = {}
        for col, base in column_geometry.items():
            in_page = [ln for ln in lines if ln.column == col]
            page_geometry = _geometry(in_page) if len(in_page) >= 12 else None
            if page_geometry and abs(page_geometry.size - base.size) > 0.15 * base.size:
                page_geometry = None  # a page of titles or tables: keep the body's measure
            geometries[col] = page_geometry or base
        for line in lines:
            geometry = geometries.get(line.column, document_geometry)
            # Text across the page (a title above the columns, a note below them) never runs into a column.
            crossing = previous is not None and 0 in (previous[0].column, line.column) \
                and previous[0].column != line.column
            if previous and paragraphs and not crossing \
                    and continues(previous[0], line, previous[1], indented_style, geometry):
                last = paragraphs[-1]
                last.text = _join(last.text, line.text)
                if line.confidence is not None:
                    last.confidence = min(line.confidence, last.confidence or 1.0)
            else:
                paragraphs.append(Paragraph(line.text.strip(), page.number, line.size, line.confidence))
            previous = (line, geometry)
    return paragraphs, changes
