"""Segment a cleaned document into clauses that follow the Chinese official-document outline.

The cleaned text has one paragraph per line. A line that *starts* with an outline marker (`一、`, `(一)`,
`1.`, `(1)`, `1)`, `①`, `第一章`, `第一节`, `第一条`, with full-width variants) opens an outline node; a marker in
the middle of a paragraph is ordinary text. Marker kinds nest in the order they appear (a kind not yet open
goes one level deeper, a kind already open is a sibling at its level), which follows the convention
`一、` > `(一)` > `1.` > `(1)` without hard-coding it, so documents that skip or reorder levels still nest.
Only a list that does not start at one (a level re-opened after a gap) is placed by that convention.
A marker line is split into a heading and body when its first sentence reads as a title (short, no digits)
and most of its sibling items read that way too; otherwise the item is untitled.

Decisions a reader needs when citing a clause:

- `clause_id` is `{doc_id}/{path}#{n}`. `path` joins the markers' own numerals with ".", e.g. `二.(二).1`;
  a repeated path (a numbering slip) gets `~2`, `~3`. `#0` is the node's heading clause, body clauses count
  from `#1` within their node.
- Front and back matter use a role name as the path: `notice#n` (the notice forwarding a plan, with its
  title, document number and addressee), `attachment#n` (`附件:…`, a lone `附件`), `signature#n` (issuer and
  date lines), `preamble#n` (text between the title and the first outline heading), `title#n` (the plan's
  own title line: role "heading", section []). Body text outside any outline node (news articles) is
  `body#n`; unnumbered inline headings of such texts are nodes `s1`, `s2`, ….
- `section` lists heading labels outermost first. A heading clause's own section ends with itself, so a
  heading and the body under it share the same section. A numbered item without a title (`(三)将…。`) is
  labelled by its marker alone (`(三)`) and its marker belongs to its first body clause.
- Body text is split into sentences at 。！？ (and `! ?`), at ；/`;` unless a colon introduces the list
  (`比例:A;B` keeps A and B with their lead-in), never inside 《》, quotes or brackets; fragments shorter
  than MIN_CLAUSE_CHARS join a neighbour and sentences longer than MAX_CLAUSE_CHARS are cut at commas.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from policykb.cleaning.punctuation import fold_for_matching
from policykb.records import Clause, Document

MIN_CLAUSE_CHARS = 12  # shorter body fragments carry no meaning alone and join a neighbour
MAX_CLAUSE_CHARS = 160  # longer sentences are cut at commas so a clause stays readable
MAX_INLINE_TITLE_CHARS = 30  # `1.优化结构布局。…`: a first sentence this short can be the item's title
MAX_HEADING_LINE_CHARS = 50  # a marker line without sentence punctuation and this short is a heading
MAX_TITLE_CHARS = 80  # a document title line
MAX_INLINE_HEADING_CHARS = 30  # an unnumbered heading line in a text without an outline (news)

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUM = "[零〇一二两三四五六七八九十百]{1,4}"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# One pattern per marker kind, tried at the start of a stripped line. Group "num" is the numeral.
_MARKER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(rf"第(?P<num>{_CN_NUM}|\d{{1,3}})(?:章|编|部分)")),
    ("section", re.compile(rf"第(?P<num>{_CN_NUM}|\d{{1,3}})节(?!课)")),
    ("article", re.compile(rf"第(?P<num>{_CN_NUM}|\d{{1,3}})条(?![款项])")),
    # `一、二年级` and `一、二、三` enumerate grades or items inside a sentence: not a marker.
    ("cn", re.compile(rf"(?P<num>{_CN_NUM})(?:、|[.．](?!\d))(?![一二三四五六七八九十]+[、年级至到和])")),
    ("paren_cn", re.compile(rf"[(（](?P<num>{_CN_NUM})[)）]")),
    # `1.5万` and `2023.5` are numbers, `1、2年级` a list: a digit right after the dot rules a marker out.
    ("arabic", re.compile(r"(?P<num>\d{1,2})(?:[.．、](?![\d.．]))")),
    ("paren_arabic", re.compile(r"[(（](?P<num>\d{1,2})[)）]")),
    ("half_paren", re.compile(r"(?P<num>\d{1,2})[)）]")),  # `1)`
    ("circled", re.compile(rf"(?P<num>[{_CIRCLED}])")),
    # `A.…`, `(a)`: lettered options and list items; a letter run (`AI`, `A股`) or a decimal is not a marker.
    ("latin", re.compile(r"(?P<num>[A-Z])[.．、](?![A-Za-z0-9.．])")),
    ("paren_latin", re.compile(r"[(（](?P<num>[a-zA-Z])[)）]")),
)
# List items, never headings: a lettered or circled item is an option or a point of the sentence above it.
_ITEM_KINDS = frozenset({"circled", "latin", "paren_latin"})
# The conventional depth of each kind, used only to place a list that does not start at one.
_RANK = {k: i for i, (k, _) in enumerate(_MARKER_PATTERNS)}

_SENTENCE_END = "。！？!?"
_SEMICOLON = "；;"
_COMMA = "，,"
_COLON = "：:"
_OPENERS = {
    "《": "》",
    "“": "”",
    "‘": "’",
    "(": ")",
    "（": "）",
    "「": "」",
    "『": "』",
    "【": "】",
    "[": "]",
    "〔": "〕",
    "<": ">",
    "〈": "〉",
}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_BRACKET = re.compile("[" + re.escape("".join(_OPENERS) + "".join(_CLOSERS) + '"') + "]")

_NOTICE_CUE = re.compile(r"特此(?:通知|函告)|(?:印|转|下)?发给你们|现将.{0,120}?(?:印发|转发|下发)")
_NOTICE_TITLE = re.compile(r"^关于(?:印发|转发|下发).*的通知$")
_NOTICE_END = re.compile(r"^特此(?:通知|函告|公告)[。.]?$")
_ATTACHMENT = re.compile(r"^附\s*件\s*\d{0,2}\s*(?:[:：].*)?$")
_DATE_LINE = re.compile(
    r"^(?:\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
    r"\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*日$"
    r"|^\d{4}-\d{1,2}-\d{1,2}$"
)
_ISSUER_SUFFIX = re.compile(r"(?:局|委|会|府|厅|办|室|部|院|处|中心|学校|大学|集团|公司|小组)$")
_PUBLICATION_NOTE = re.compile(r"^[(（]此件[^)）]*[)）]$")
_SENTENCE_PUNCT = re.compile(r"[。！？!?；;，,：:《》“”]")
_TITLE_CONTINUATION = re.compile(r"^[(（—-]")
_DOC_NUMBER = re.compile(r"[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号$")  # 沪教委基〔2023〕15号
# A line with a clause break or a quantity is a sentence of the text (`目前,覆盖近80%的学校`), not a heading.
_PROSE_PUNCT = re.compile(r"[。！？!?；;，,：:]")
_QUANTITY = re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|个|所|名|人|万|亿|元|次|年|项|家|校|班|倍|成)")
_LABELLED_FIELD = re.compile(r"^[^:：,，。]{1,8}[:：]")  # `来源:…`, `发布时间:…`: page metadata, not a title


@dataclass(frozen=True)
class Marker:
    """An outline marker at the start of a line."""

    kind: str
    label: str  # the path component: 二, (二), 1, (1), ①, 第一章
    number: int
    length: int  # characters the marker occupies in the line


@dataclass
class _Line:
    start: int
    end: int
    text: str
    marker: Marker | None = None
    role: str | None = None  # front/back matter role, or None for outline body


@dataclass
class _Node:
    marker: Marker | None
    label: str
    path: str
    parent: _Node | None
    section: list[str] = field(default_factory=list)
    count: int = 0  # body clauses emitted so far


def cn_numeral_value(s: str) -> int:
    """The value of a Chinese numeral up to the hundreds (`二十三` → 23), or an Arabic/circled digit string."""
    if s.isdigit() and s.isascii():
        return int(s)
    if len(s) == 1 and s.isascii() and s.isalpha():
        return ord(s.upper()) - ord("A") + 1
    if len(s) == 1 and s in _CIRCLED:
        return _CIRCLED.index(s) + 1
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    total, current = 0, 0
    for ch in s:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def parse_marker(line: str) -> Marker | None:
    """The outline marker opening `line` (already stripped), or None."""
    for kind, pattern in _MARKER_PATTERNS:
        m = pattern.match(line)
        if m is None:
            continue
        num = m.group("num")
        if kind in ("chapter", "section", "article"):
            label = m.group(0)
        elif kind in ("paren_cn", "paren_arabic", "paren_latin"):
            label = f"({num})"
        elif kind == "half_paren":
            label = f"{num})"
        else:
            label = num
        return Marker(kind, label, cn_numeral_value(num), m.end())
    return None


def _non_space_len(s: str) -> int:
    return len("".join(s.split()))


def _split_lines(text: str) -> list[_Line]:
    """Non-blank lines with offsets of their stripped extent."""
    lines: list[_Line] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            start = pos + (len(raw) - len(raw.lstrip()))
            lines.append(_Line(start, start + len(stripped), stripped))
        pos += len(raw) + 1
    return lines


# --- protected spans and sentence splitting -------------------------------------------------------


def _protected(s: str) -> list[bool]:
    """For each character, whether it lies inside a matched pair of brackets or quotes (unmatched ones protect nothing)."""
    mask = [False] * len(s)
    stack: list[tuple[str, int]] = []
    for m in _BRACKET.finditer(s):
        ch, i = m.group(), m.start()
        if ch == '"' and not any(o == '"' for o, _ in stack):
            stack.append((ch, i))
        elif ch == '"' or ch in _CLOSERS:
            opener = '"' if ch == '"' else _CLOSERS[ch]
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == opener:
                    start = stack[depth][1] + 1
                    mask[start:i] = [True] * (i - start)
                    del stack[depth:]
                    break
        else:
            stack.append((ch, i))
    return mask


def _cut_after(s: str, mask: list[bool], chars: str, lo: int = 0, hi: int | None = None) -> list[int]:
    """Offsets just after each unprotected run of `chars` (with any sentence ends it runs into) in s[lo:hi]."""
    hi = len(s) if hi is None else hi
    run = re.compile(f"[{re.escape(chars)}][{re.escape(chars + _SENTENCE_END)}]*")
    cuts: list[int] = []
    for m in run.finditer(s, lo, hi):
        if not mask[m.start()] and m.end() < hi:
            cuts.append(m.end())
    return cuts


def _pieces(lo: int, hi: int, cuts: list[int]) -> list[tuple[int, int]]:
    bounds = [lo, *cuts, hi]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def _split_long(s: str, mask: list[bool], lo: int, hi: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at commas into about equal parts no longer than MAX_CLAUSE_CHARS when possible."""
    length = hi - lo
    if length <= MAX_CLAUSE_CHARS:
        return [(lo, hi)]
    commas = _cut_after(s, mask, _COMMA, lo, hi)
    if not commas:
        return [(lo, hi)]
    parts = math.ceil(length / MAX_CLAUSE_CHARS)
    target = length / parts
    cuts: list[int] = []
    last = lo
    for k in range(1, parts):
        goal = lo + k * target
        best = min(
            (c for c in commas if c > last + MIN_CLAUSE_CHARS), key=lambda c: abs(c - goal), default=None
        )
        if best is None or hi - best < MIN_CLAUSE_CHARS:
            break
        cuts.append(best)
        last = best
    return _pieces(lo, hi, cuts)


def _introduced_by_colon(s: str, mask: list[bool], lo: int, hi: int) -> bool:
    """Whether an unprotected colon comes before the first unprotected semicolon of s[lo:hi]."""
    for i in range(lo, hi):
        if mask[i]:
            continue
        if s[i] in _COLON:
            return True
        if s[i] in _SEMICOLON:
            return False
    return False


def _strip_span(s: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and s[lo].isspace():
        lo += 1
    while hi > lo and s[hi - 1].isspace():
        hi -= 1
    return lo, hi


def split_sentences(s: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Readable clause spans of s[lo:hi]: sentences, semicolon parts and comma cuts, short fragments merged."""
    hi = len(s) if hi is None else hi
    if lo > 0 or hi < len(s):  # work on the slice so the cost stays proportional to it
        return [(a + lo, b + lo) for a, b in split_sentences(s[lo:hi])]
    mask = _protected(s)
    spans: list[tuple[int, int]] = []
    for a, b in _pieces(0, hi, _cut_after(s, mask, _SENTENCE_END)):
        if b - a > MAX_CLAUSE_CHARS or not _introduced_by_colon(s, mask, a, b):
            parts = _pieces(a, b, _cut_after(s, mask, _SEMICOLON, a, b))
        else:
            parts = [(a, b)]
        for c, d in parts:
            spans.extend(_split_long(s, mask, c, d))
    stripped = [_strip_span(s, a, b) for a, b in spans]
    return _merge_short([(a, b) for a, b in stripped if a < b], s)


def _merge_short(spans: list[tuple[int, int]], s: str) -> list[tuple[int, int]]:
    """Join fragments shorter than MIN_CLAUSE_CHARS to the previous span (or the next, for a leading one)."""
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and (
            _non_space_len(s[a:b]) < MIN_CLAUSE_CHARS
            or _non_space_len(s[merged[-1][0] : merged[-1][1]]) < MIN_CLAUSE_CHARS
        ):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


# --- front and back matter -----------------------------------------------------------------------


def _is_date_line(t: str) -> bool:
    return bool(_DATE_LINE.match(t))


def _is_issuer_line(t: str) -> bool:
    compact = re.sub(r"\s+", "", t)
    return (
        0 < len(compact) <= 40
        and not _SENTENCE_PUNCT.search(compact)
        and bool(_ISSUER_SUFFIX.search(compact))
    )


def _is_prose(t: str) -> bool:
    """A paragraph of running text: a sentence end and enough characters to say something."""
    return _non_space_len(t) >= MIN_CLAUSE_CHARS and bool(re.search(r"[。！？!?；;]", t))


def _is_title_like(t: str) -> bool:
    return (
        4 <= _non_space_len(t) <= MAX_TITLE_CHARS
        and t[-1] not in "。！？!?；;：:，,、…"
        and "。" not in t
        and not _is_date_line(t)
        and parse_marker(t) is None
        and not _LABELLED_FIELD.match(t)
    )


def _is_attachment_item(line: _Line) -> bool:
    """A numbered attachment name on the line after `附件:1.…` (no sentence punctuation)."""
    return (
        line.marker is not None
        and line.marker.kind in ("arabic", "paren_arabic", "half_paren", "cn")
        and _non_space_len(line.text) <= MAX_TITLE_CHARS
        and line.text[-1] not in "。；;"
    )


def _signature_runs(lines: list[_Line]) -> set[int]:
    """Indexes of date lines and the issuer lines directly above them."""
    found: set[int] = set()
    for i, line in enumerate(lines):
        if _is_date_line(line.text):
            found.add(i)
            j = i - 1
            while j >= 0 and i - j <= 4 and _is_issuer_line(lines[j].text):
                found.add(j)
                j -= 1
    return found


def _mark_front(lines: list[_Line]) -> int:
    """Give roles to the lines before the outline; return the index of the first outline line."""
    body = len(lines)
    in_attachment = False
    for i, line in enumerate(lines):
        if _ATTACHMENT.match(line.text):
            line.role, in_attachment = "attachment", True
        elif in_attachment and _is_attachment_item(line):
            line.role = "attachment"
        elif line.marker is not None and line.marker.kind not in _ITEM_KINDS:  # options (A.…) open no outline
            body = i
            break
        else:
            in_attachment = False
    front = lines[:body]
    signatures = _signature_runs(front)
    cues = [
        i for i, line in enumerate(front) if _NOTICE_CUE.search(line.text) or _NOTICE_TITLE.match(line.text)
    ]
    rest = 0
    if cues and body == len(lines) and all(
        front[i].role == "attachment" or i in signatures or _NOTICE_END.match(front[i].text)
        for i in range(cues[-1] + 1, len(front))
    ):
        # No outline and nothing forwarded after the last cue (现将…通知如下: … 特此通知。 and the signature): the
        # notice is the document itself, and its paragraphs are its searchable text.
        cues = []
    if cues:
        rest = cues[-1] + 1
        while rest < len(front) and (front[rest].role == "attachment" or rest in signatures):
            rest += 1
        for i in range(rest):
            if front[i].role is None:
                front[i].role = "signature" if i in signatures else "notice"
    while rest < len(front) and (front[rest].role == "attachment" or _DOC_NUMBER.search(front[rest].text)):
        if front[rest].role is None:  # the plan's own document number, above its title
            front[rest].role = "preamble"
        rest += 1
    if rest < len(front) and _is_title_like(front[rest].text) and not _is_issuer_line(front[rest].text):
        front[rest].role = "title"
        rest += 1
        while (
            rest < len(front)
            and _TITLE_CONTINUATION.match(front[rest].text)
            and _is_title_like(front[rest].text)
        ):
            front[rest].role = "title"
            rest += 1
    has_outline = body < len(lines)
    for i in range(rest, len(front)):
        if front[i].role is None:
            if i in signatures:
                front[i].role = "signature"
            elif has_outline:
                # Running text before the outline (a plan's opening, a news item's lead) is searchable prose:
                # path `preamble`, role body; a short line there (an addressee, a subtitle) stays preamble.
                front[i].role = "prose" if _is_prose(front[i].text) else "preamble"
    return body if has_outline else rest


def _mark_back(lines: list[_Line], body: int) -> None:
    """Give roles to trailing signature, attachment and closing-formula lines after the outline."""
    tail: list[tuple[int, str]] = []
    pending_items: list[int] = []
    expect_issuer = False
    i = len(lines) - 1
    while i >= body + 1:
        t = lines[i].text
        if _is_date_line(t) or _PUBLICATION_NOTE.match(t):
            tail.append((i, "signature"))
            expect_issuer = True
        elif expect_issuer and _is_issuer_line(t):
            tail.append((i, "signature"))
        elif _NOTICE_END.match(t):
            tail.append((i, "notice"))
            expect_issuer = False
        elif _ATTACHMENT.match(t):
            tail.append((i, "attachment"))
            tail.extend((j, "attachment") for j in pending_items)
            pending_items = []
            expect_issuer = False
        elif _is_attachment_item(lines[i]):
            pending_items.append(i)
        else:
            break
        i -= 1
    for j, role in tail:
        lines[j].role = role


# --- outline -------------------------------------------------------------------------------------


def _nesting_level(open_kinds: list[str], marker: Marker) -> int:
    """The depth at which a new marker goes: a sibling of an open kind, else one level deeper."""
    if marker.kind in open_kinds:
        return open_kinds.index(marker.kind)
    if marker.number <= 1:
        return len(open_kinds)
    # A list that does not start at one continues a level closed earlier: place it by convention.
    for i, kind in enumerate(open_kinds):
        if kind in _RANK and _RANK[kind] >= _RANK[marker.kind]:
            return i
    return len(open_kinds)


def _first_terminator(s: str, lo: int, hi: int, chars: str) -> int | None:
    mask = _protected(s[lo:hi])
    for i in range(lo, hi):
        if s[i] in chars and not mask[i - lo]:
            return i
    return None


def _inline_title_end(line: _Line, source: str) -> int | None:
    """Offset just after `1.优化结构布局。`-style inline title, if the line has one and more text follows."""
    assert line.marker is not None
    lo = line.start + line.marker.length
    end = _first_terminator(source, lo, line.end, _SENTENCE_END + _SEMICOLON + _COLON)
    if end is None or not source[end + 1 : line.end].strip():
        return None
    title = source[lo:end]
    # A title names a task; a first sentence carrying a number (`到2025年,覆盖率达到90%`) is already a measure.
    if 0 < _non_space_len(title) <= MAX_INLINE_TITLE_CHARS and not re.search(r"\d", title):
        return end + 1
    return None


def _is_heading_only(line: _Line, source: str) -> bool:
    assert line.marker is not None
    rest = line.text[line.marker.length :].strip()
    if not rest:
        return True
    if line.marker.kind == "article" or line.marker.kind in _ITEM_KINDS:
        return False
    if _first_terminator(rest, 0, len(rest), _SENTENCE_END + _SEMICOLON) is not None:
        return False
    return _non_space_len(rest) <= MAX_HEADING_LINE_CHARS


def _titled_groups(
    lines: list[_Line], parents: dict[int, int | None], source: str
) -> set[tuple[int | None, str]]:
    """List groups (parent line, marker kind) whose items carry inline titles, by majority of the items.

    One item reading `(五)对…,可试点…。其中…` looks like a title only beside siblings that have titles.
    """
    eligible: dict[tuple[int | None, str], list[bool]] = {}
    for i in parents:
        line = lines[i]
        if line.marker is None or line.marker.kind == "article":
            continue
        if _is_heading_only(line, source):
            continue
        lo = line.start + line.marker.length
        end = _first_terminator(source, lo, line.end, _SENTENCE_END + _SEMICOLON + _COLON)
        if end is None or not source[end + 1 : line.end].strip():
            continue
        eligible.setdefault((parents[i], line.marker.kind), []).append(
            _inline_title_end(line, source) is not None
        )
    return {key for key, votes in eligible.items() if 2 * sum(votes) >= len(votes)}


def _heading_label(s: str) -> str:
    return s.strip().rstrip("。！？!?；;：:，, \u3000").strip()


def _is_list_item(text: str) -> bool:
    """A lettered or circled item (A.共享优质师资, ①…): an option or a point, never a heading."""
    marker = parse_marker(text)
    return marker is not None and marker.kind in _ITEM_KINDS


def _inline_headings(lines: list[_Line], body: int) -> set[int]:
    """Short unpunctuated lines followed by a longer paragraph, in a text without outline markers."""
    found: set[int] = set()
    for i in range(body, len(lines) - 1):
        t, nxt = lines[i].text, lines[i + 1].text
        if (
            lines[i].role is None
            and lines[i + 1].role is None
            and _non_space_len(t) <= MAX_INLINE_HEADING_CHARS
            and t[-1] not in "。！？!?；;：:，,、…"
            and not _PROSE_PUNCT.search(t)
            and not _QUANTITY.search(t)
            and not _is_date_line(t)
            and _non_space_len(nxt) > _non_space_len(t)
            and not _is_list_item(t)
        ):
            found.add(i)
    return found


class _Emitter:
    """Builds clauses in document order with unique, stable ids."""

    def __init__(self, source: str, matching: str, doc_id: str, region_id: str) -> None:
        self.source, self.doc_id, self.region_id = source, doc_id, region_id
        self.matching = matching  # fold_for_matching(source): where sentence marks are looked for
        self.clauses: list[Clause] = []
        self.role_counts: dict[str, int] = {}

    def add(self, start: int, end: int, path: str, n: int, section: list[str], role: str) -> None:
        start, end = _strip_span(self.source, start, end)
        if start >= end:
            return
        self.clauses.append(
            Clause(
                clause_id=f"{self.doc_id}/{path}#{n}",
                doc_id=self.doc_id,
                region_id=self.region_id,
                section=list(section),
                text=self.source[start:end],
                start=start,
                end=end,
                role=role,
                ordinal=len(self.clauses),
            )
        )

    def add_role(self, line: _Line, role: str) -> None:
        """A front/back-matter line: one clause per line, or per sentence for a long notice or preamble."""
        spans = (
            split_sentences(self.matching, line.start, line.end)
            if role in ("notice", "preamble", "prose")
            else [(line.start, line.end)]
        )
        path = "preamble" if role == "prose" else role
        clause_role = {"title": "heading", "prose": "body"}.get(role, role)
        for a, b in spans:
            first = 0 if role == "title" else 1
            n = self.role_counts.get(path, first)
            self.role_counts[path] = n + 1
            self.add(a, b, path, n, [], clause_role)

    def add_body(self, node: _Node, lo: int, hi: int) -> None:
        for a, b in split_sentences(self.matching, lo, hi):
            node.count += 1
            self.add(a, b, node.path, node.count, node.section, "body")


def segment_text(text: str, doc_id: str, region_id: str) -> list[Clause]:
    """Segment cleaned text into clauses in document order (see the module docstring for ids and sections).

    Markers and sentence marks are matched on fold_for_matching(text) (`（一）` reads as `(一)`, `；` as `;`);
    clause texts and section labels are sliced from `text`, as written.
    """
    matching = fold_for_matching(text)
    lines = _split_lines(matching)
    for line in lines:
        line.marker = parse_marker(line.text)
    body = _mark_front(lines)
    has_outline = any(line.marker is not None and line.marker.kind not in _ITEM_KINDS and line.role is None
                      for line in lines[body:])
    if has_outline:
        _mark_back(lines, body)
    else:
        _mark_back(lines, body - 1)
        for line in lines[body:]:
            line.marker = None

    emitter = _Emitter(text, matching, doc_id, region_id)
    for line in lines[:body]:
        if line.role is not None:
            emitter.add_role(line, line.role)

    inline = set() if has_outline else _inline_headings(lines, body)
    parents = _outline_parents(lines, body, inline)
    titled = _titled_groups(lines, parents, matching)
    nodes: dict[int, _Node] = {}
    current = _Node(None, "", "body", None)  # body text outside any node: `body#n`, section []
    used_paths: dict[str, int] = {}
    inline_seen: list[int] = []
    for i in range(body, len(lines)):
        line = lines[i]
        if line.role is not None:
            emitter.add_role(line, line.role)
        elif i not in parents:
            emitter.add_body(current, line.start, line.end)
        else:
            parent_index = parents[i]
            parent = nodes[parent_index] if parent_index is not None else None
            own = line.marker.label if line.marker else f"s{len(inline_seen) + 1}"
            if line.marker is None:
                inline_seen.append(i)
            path = _unique(f"{parent.path}.{own}" if parent else own, used_paths)
            node = _Node(line.marker, "", path, parent)
            is_titled = line.marker is not None and (parent_index, line.marker.kind) in titled
            _emit_node_line(emitter, node, line, matching, is_titled)
            nodes[i] = current = node
    return emitter.clauses


def _unique(path: str, used: dict[str, int]) -> str:
    """`path`, or `path~2`, `path~3` when a numbering slip repeats it."""
    count = used.get(path, 0) + 1
    used[path] = count
    return path if count == 1 else f"{path}~{count}"


def _outline_parents(lines: list[_Line], body: int, inline: set[int]) -> dict[int, int | None]:
    """For each line opening an outline node, the index of its parent's line (None at top level)."""
    parents: dict[int, int | None] = {}
    stack: list[tuple[int, str]] = []
    for i in range(body, len(lines)):
        line = lines[i]
        if line.role is not None:
            continue
        if i in inline:  # an unnumbered heading of a text without outline is always top level
            stack = []
        elif line.marker is not None:
            stack = stack[: _nesting_level([kind for _, kind in stack], line.marker)]
        else:
            continue
        parents[i] = stack[-1][0] if stack else None
        stack.append((i, line.marker.kind if line.marker else "inline"))
    return parents


def _emit_node_line(emitter: _Emitter, node: _Node, line: _Line, source: str, titled: bool) -> None:
    """Emit the heading and body clauses of a line that opens an outline node, and set the node's section.

    `source` is the matching view; labels are sliced from the emitter's text as written.
    """
    parent_section = node.parent.section if node.parent else []
    written = emitter.source
    if line.marker is None or _is_heading_only(line, source):
        node.label = _heading_label(written[line.start : line.end])
        node.section = [*parent_section, node.label]
        emitter.add(line.start, line.end, node.path, 0, node.section, "heading")
        return
    title_end = _inline_title_end(line, source) if titled else None
    if title_end is not None:
        node.label = _heading_label(written[line.start : title_end])
        node.section = [*parent_section, node.label]
        emitter.add(line.start, title_end, node.path, 0, node.section, "heading")
        emitter.add_body(node, title_end, line.end)
    else:
        node.label = written[line.start : line.start + line.marker.length].strip()
        node.section = [*parent_section, node.label]
        emitter.add_body(node, line.start, line.end)


def segment_document(doc: Document) -> list[Clause]:
    """Segment a cleaned Document into clauses, using its doc_id and region_id."""
    return segment_text(doc.text, doc.doc_id, doc.metadata.region_id or "")
