"""Punctuation and indentation: lost full-width indents, and punctuation as GB/T 15834 writes it.

Scraped pages come NFKC-folded (ASCII `,` `:` `(` `)` `!` `;` `?` inside Chinese sentences) or with a mix of
both forms. The cleaned text follows GB/T 15834: inside Chinese, these seven marks take their full-width form
`，：；！？（）`; between Latin letters and digits (a URL, `3.5`, `10:30`, `1,000`, an English sentence) they stay
ASCII. Full-width digits, letters and other signs (`２０２３`, `ＡＢＣ`, `％`, `．`) fold to ASCII as NFKC does.
`.` is never converted: `1.` is the usual outline marker after an Arabic numeral (GB/T 15834 writes it so) and `3.5`
a decimal, and an ASCII `.` ending a Chinese sentence is too rare to tell from either. 。、“”《》〔〕 have no ASCII
form and stay as they are.

Which side a mark is on, read on its line: a mark with Chinese beside it (skipping spaces and other marks) is
Chinese (`PISA,中国` → `PISA，中国`); between two digits `:` and a thousands `,` are ASCII (`10:30`, `1,000`); beside a
Latin letter it is ASCII (`http://`, `Notice: The`); otherwise the nearest letter decides (`达到30%;` → `；`),
and a line without letters keeps what it has. A pair of parentheses goes together: Chinese when it holds or
touches Chinese (`（一）`, `计划（2023-2025年）`, `（PISA）测试`), ASCII around Latin (`f(x)`).

Matching does not care about the written form: `fold_for_matching` maps every full-width form to ASCII, one
character for one, so patterns run on the folded view while offsets and slices stay those of the original.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from policykb.records import Change, CleanResult

# Leading full-width spaces, or the `?` they became when a GBK round trip could not carry them.
LOST_INDENT = re.compile(r"^([ \t]*)([?\u3000][?\u3000 \t]*)", re.MULTILINE)

CHINESE_MARKS = dict(zip(",:;!?()", "，：；！？（）", strict=True))  # ASCII → the GB/T 15834 form


def _is_fullwidth_form(ch: str) -> bool:
    """Full-width ASCII (，：（）！？ digits letters), small and vertical forms, and the ideographic space."""
    in_block = "\uff01" <= ch <= "\uff5e" or "\ufe30" <= ch <= "\ufe6b" or ch == "\u3000"
    return in_block and unicodedata.normalize("NFKC", ch) != ch


def _matching_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in [*range(0xFF01, 0xFF5F), *range(0xFE30, 0xFE6C), 0x3000]:
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded != chr(code):
            table[code] = folded
    return table


_MATCHING = _matching_table()


def fold_for_matching(text: str) -> str:
    """Every full-width form as its ASCII character (`，` → `,`, `（` → `(`, `２` → `2`), one for one.

    The result has the length of `text`, so a match's offsets in it are offsets in `text`: run patterns on the
    folded view and slice what they found from the original.
    """
    return text.translate(_MATCHING)


def restore_indent_spaces(text: str) -> CleanResult:
    """Remove full-width indents and their `?` ghosts at line starts; Change(kind="whitespace") each."""
    changes: list[Change] = []

    def drop(m: re.Match[str]) -> str:
        changes.append(Change("whitespace", m.group(2), "", m.start(2), "lost full-width indent"))
        return m.group(1)

    return CleanResult(LOST_INDENT.sub(drop, text), changes)


# ----- which script a mark belongs to ----------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Characters that only Chinese text uses: Han, CJK punctuation (。、《》〔〕【】「」), Chinese quotes, …… and ——.
_CHINESE = re.compile(
    r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f“”‘’…—\uff5f-\uffef]"
)
_TRANSPARENT = set(" \t") | set(CHINESE_MARKS)  # skipped when looking for a mark's neighbours


def _is_chinese(ch: str) -> bool:
    return bool(ch) and bool(_CHINESE.match(ch))


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


_LATIN = re.compile(r"[A-Za-z]")
_ASCII_MARK = re.compile(r"[,:;!?()]")
_THOUSANDS_GROUP = re.compile(r"\d{3}(?!\d)")


class _LineScripts:
    """One line of the folded view; the letters' positions are found once, so a long line stays fast."""

    def __init__(self, view: str, lo: int, hi: int) -> None:
        self.view, self.lo, self.hi = view, lo, hi
        self._letters: tuple[list[int], list[int]] | None = None  # positions of Han characters, of Latin letters

    def _positions(self) -> tuple[list[int], list[int]]:
        if self._letters is None:  # only a mark between non-letters needs them
            self._letters = (
                [m.start() for m in _HAN.finditer(self.view, self.lo, self.hi)],
                [m.start() for m in _LATIN.finditer(self.view, self.lo, self.hi)],
            )
        return self._letters

    def script_around(self, left: int, right: int) -> bool | None:
        """Chinese (True), Latin (False) or neither (None): the nearest letter before `left`, else after `right`."""
        han, latin = self._positions()
        h, a = bisect.bisect_left(han, left), bisect.bisect_left(latin, left)
        if h or a:
            return bool(h) and (not a or han[h - 1] > latin[a - 1])
        h, a = bisect.bisect_right(han, right), bisect.bisect_right(latin, right)
        if h < len(han) or a < len(latin):
            return h < len(han) and (a == len(latin) or han[h] < latin[a])
        return None

    def neighbour(self, i: int, step: int) -> str:
        """The nearest character from i (exclusive) in direction `step` that is not a space or one of the marks."""
        j = i + step
        while self.lo <= j < self.hi and self.view[j] in _TRANSPARENT:
            j += step
        return self.view[j] if self.lo <= j < self.hi else ""

    def mark_is_chinese(self, i: int) -> bool | None:
        """Whether the single mark at i (ASCII in the view) sits in Chinese text; None: keep it as written."""
        view, ch = self.view, self.view[i]
        before, after = self.neighbour(i, -1), self.neighbour(i, +1)
        if _is_chinese(before) or _is_chinese(after):
            return True
        prev = view[i - 1] if i > self.lo else ""
        nxt = view[i + 1] if i + 1 < self.hi else ""
        if prev.isdigit() and nxt.isdigit():
            if ch == ":":
                return False  # 10:30, 1:1
            if ch == "," and _THOUSANDS_GROUP.match(view, i + 1, self.hi):
                return False  # 1,000 is a thousands separator
        if _is_latin(before) or _is_latin(after):
            return False  # an English phrase, a URL, an e-mail label
        return self.script_around(i, i)

    def pair_is_chinese(self, opening: int, closing: int) -> bool | None:
        """Whether the parentheses at `opening` and `closing` enclose or stand in Chinese text."""
        if _CHINESE.search(self.view, opening + 1, closing):
            return True
        before, after = self.neighbour(opening, -1), self.neighbour(closing, +1)
        if _is_chinese(before) or _is_chinese(after):
            return True
        inside = self.view[opening + 1 : closing]
        if any(_is_latin(c) for c in inside) or _is_latin(before) or _is_latin(after):
            return False  # (see above), f(x), a URL's (1)
        return self.script_around(opening, closing)


def _line_decisions(view: str, lo: int, hi: int) -> dict[int, bool | None]:
    """For each of the seven marks on the line view[lo:hi]: Chinese, Latin or undecided (keep as written)."""
    decisions: dict[int, bool | None] = {}
    marks = [m.start() for m in _ASCII_MARK.finditer(view, lo, hi)]
    if not marks:
        return decisions
    line = _LineScripts(view, lo, hi)
    stack: list[int] = []
    for i in marks:
        ch = view[i]
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            opening = stack.pop()
            decisions[opening] = decisions[i] = line.pair_is_chinese(opening, i)
        elif ch in CHINESE_MARKS:
            decisions[i] = line.mark_is_chinese(i)
    for opening in stack:  # an unmatched `(` is a mark of its own
        decisions[opening] = line.mark_is_chinese(opening)
    return decisions


# Characters normalise_punctuation may rewrite: the seven marks in either form and every full-width form.
_CANDIDATE = re.compile("[" + re.escape("".join(CHINESE_MARKS) + "".join(CHINESE_MARKS.values()))
                        + "\uff01-\uff5e\ufe30-\ufe6b\u3000]")


def normalise_punctuation(text: str) -> CleanResult:
    """GB/T 15834 punctuation: `,:;!?()` full-width inside Chinese, ASCII between Latin and digits; full-width
    digits, letters and other signs as ASCII (NFKC). One Change per run of changed characters."""
    view = fold_for_matching(text)
    decisions: dict[int, bool | None] = {}
    lo = 0
    for line in view.split("\n"):
        decisions.update(_line_decisions(view, lo, lo + len(line)))
        lo += len(line) + 1

    rewritten: dict[int, str] = {}
    for m in _CANDIDATE.finditer(text):
        i, ch = m.start(), m.group()
        if i in decisions:
            chinese = decisions[i]
            new = ch if chinese is None else CHINESE_MARKS[view[i]] if chinese else view[i]
        else:
            new = unicodedata.normalize("NFKC", ch) if _is_fullwidth_form(ch) else ch
        if new != ch:
            rewritten[i] = new

    changes: list[Change] = []
    pieces: list[str] = []
    done = 0
    positions = sorted(rewritten)
    k = 0
    while k < len(positions):
        start = end = positions[k]
        while k < len(positions) and positions[k] == end:  # one Change per run of adjacent rewrites
            end += 1
            k += 1
        after = "".join(rewritten[i] for i in range(start, end))
        changes.append(Change("punctuation", text[start:end], after, start))
        pieces += [text[done:start], after]
        done = end
    pieces.append(text[done:])
    return CleanResult("".join(pieces), changes)
