"""Punctuation and indentation: lost full-width indents, and punctuation as GB/T 15834 writes it.

Scraped pages come NFKC-folded (ASCII `,` `:` `(` `)` `!` `;` `?` inside Chinese sentences) or with a mix of
both forms. The cleaned text follows GB/T 15834: inside Chinese, these seven marks take their full-width form
`，：；！？（）`; between Latin letters and digits (a URL, `3.5`, `10:30`, `1,000`, an English sentence) they stay
ASCII. Full-width digits, letters and other signs (`２０２３`, `ＡＢＣ`, `％`, `．`) fold to ASCII as NFKC does.
`.` is never converted: `1.` is the standard outline marker for Arabic numerals (GB/T 15834 §5.1.8) and `3.5`
a decimal, and an ASCII `.` ending a Chinese sentence is too rare to tell from either. 。、“”《》〔〕 have no ASCII
form and stay as they are.

Matching does not care about the written form: `fold_for_matching` maps every full-width form to ASCII, one
character for one, so patterns run on the folded view while offsets and slices stay those of the original.
"""

from __future__ import annotations

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


def _neighbour(view: str, i: int, step: int, lo: int, hi: int) -> str:
    """The nearest character from i (exclusive) in direction `step` within [lo, hi) that is not a space or mark."""
    j = i + step
    while lo <= j < hi and view[j] in _TRANSPARENT:
        j += step
    return view[j] if lo <= j < hi else ""


def _nearest_letter(view: str, i: int, step: int, lo: int, hi: int) -> str:
    """The nearest Han character or Latin letter from i in direction `step`, or ""."""
    j = i + step
    while lo <= j < hi:
        ch = view[j]
        if _HAN.match(ch) or ch.isascii() and ch.isalpha():
            return ch
        j += step
    return ""


def _is_chinese(ch: str) -> bool:
    return bool(ch) and bool(_CHINESE.match(ch))


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _script_of_line_around(view: str, left: int, right: int, lo: int, hi: int) -> bool | None:
    """Chinese (True), Latin (False) or neither (None) by the nearest letter before `left`, else after `right`."""
    letter = _nearest_letter(view, left, -1, lo, hi) or _nearest_letter(view, right, +1, lo, hi)
    return None if not letter else bool(_HAN.match(letter))


def _mark_is_chinese(view: str, i: int, lo: int, hi: int) -> bool | None:
    """Whether the single mark view[i] (ASCII in the view) sits in Chinese text; None: keep it as written."""
    ch = view[i]
    before, after = _neighbour(view, i, -1, lo, hi), _neighbour(view, i, +1, lo, hi)
    if _is_chinese(before) or _is_chinese(after):
        return True
    prev, nxt = view[i - 1] if i > lo else "", view[i + 1] if i + 1 < hi else ""
    if prev.isdigit() and nxt.isdigit():
        if ch == ":":
            return False  # 10:30, 1:1
        if ch == "," and re.match(r"\d{3}(?!\d)", view[i + 1 : hi]):
            return False  # 1,000 is a thousands separator
    if _is_latin(before) or _is_latin(after):
        return False  # an English phrase, a URL, an e-mail label
    return _script_of_line_around(view, i, i, lo, hi)


def _pair_is_chinese(view: str, opening: int, closing: int, lo: int, hi: int) -> bool | None:
    """Whether the parentheses view[opening], view[closing] enclose or stand in Chinese text."""
    if _CHINESE.search(view, opening + 1, closing):
        return True
    before, after = _neighbour(view, opening, -1, lo, hi), _neighbour(view, closing, +1, lo, hi)
    if _is_chinese(before) or _is_chinese(after):
        return True
    if any(_is_latin(c) for c in view[opening + 1 : closing]) or _is_latin(before) or _is_latin(after):
        return False  # (see above), f(x), a URL's (1)
    return _script_of_line_around(view, opening, closing, lo, hi)


def _line_decisions(view: str, lo: int, hi: int) -> dict[int, bool | None]:
    """For each of the seven marks on the line view[lo:hi]: Chinese, Latin or undecided (keep as written)."""
    decisions: dict[int, bool | None] = {}
    stack: list[int] = []
    for i in range(lo, hi):
        ch = view[i]
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            opening = stack.pop()
            decisions[opening] = decisions[i] = _pair_is_chinese(view, opening, i, lo, hi)
        elif ch in CHINESE_MARKS:
            decisions[i] = _mark_is_chinese(view, i, lo, hi)
    for opening in stack:  # an unmatched `(` is a mark of its own
        decisions[opening] = _mark_is_chinese(view, opening, lo, hi)
    return decisions


def normalise_punctuation(text: str) -> CleanResult:
    """GB/T 15834 punctuation: `,:;!?()` full-width inside Chinese, ASCII between Latin and digits; full-width
    digits, letters and other signs as ASCII (NFKC). One Change per run of changed characters."""
    view = fold_for_matching(text)
    decisions: dict[int, bool | None] = {}
    lo = 0
    for line in view.split("\n"):
        decisions.update(_line_decisions(view, lo, lo + len(line)))
        lo += len(line) + 1

    def written(i: int) -> str:
        ch = text[i]
        if i in decisions:
            chinese = decisions[i]
            return ch if chinese is None else CHINESE_MARKS[view[i]] if chinese else view[i]
        return unicodedata.normalize("NFKC", ch) if _is_fullwidth_form(ch) else ch

    changes: list[Change] = []
    out: list[str] = []
    run_start = -1
    for i in range(len(text) + 1):
        new = written(i) if i < len(text) else None
        if new is not None and new != text[i]:
            if run_start < 0:
                run_start = i
            out.append(new)
            continue
        if run_start >= 0:
            changes.append(Change("punctuation", text[run_start:i], "".join(out[run_start - i:]), run_start))
            run_start = -1
        if new is not None:
            out.append(new)
    return CleanResult("".join(out), changes)
