"""Traditional → simplified, only where the text is written in traditional script.

A sentence is converted when it holds a character that is traditional only: one that OpenCC (the `opencc`
binding, 1.4 or later, with its current dictionaries) changes and that the simplified standard character set
(GB2312) does not contain. Characters such as 乾, 於, 著, 覆 are in GB2312 (乾隆, 著作, 覆盖), so a simplified
sentence, however many of them it has, is never touched. Inside a traditional sentence OpenCC converts by
phrase, then a character pass handles what phrases leave behind, with the context choosing between readings.
"""

from __future__ import annotations

import difflib
import re
from functools import cache

from policykb.records import Change, CleanResult

CONTEXT = 2  # characters either side used to choose between readings of an ambiguous character
# Characters OpenCC leaves alone that traditional text also writes for a different simplified one (本著/隨著 →
# 本着/随着, while 著作 stays): the context decides, as for 於/乾.
VALID_BUT_AMBIGUOUS: dict[str, tuple[str, ...]] = {"著": ("着", "著")}
SENTENCE = re.compile(r"[^。!?;！？；\n]*(?:[。!?;！？；]+|\n|$)")
CJK = range(0x3400, 0xA000)


@cache
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


@cache
def t2s_char_table() -> dict[str, tuple[str, ...]]:
    """Character → simplified candidates, from OpenCC's own conversion of each character on its own.

    A character that is also a standard simplified one (in GB2312: 乾, 於) keeps itself as a candidate.
    """
    chars = "".join(chr(code) for code in CJK)
    converted = _converter().convert(chars)
    table: dict[str, tuple[str, ...]] = {}
    if len(converted) == len(chars):
        for source, target in zip(chars, converted, strict=True):
            if source != target:
                table[source] = (target, source) if _is_simplified_standard(source) else (target,)
    for char, readings in VALID_BUT_AMBIGUOUS.items():
        table.setdefault(char, readings)
    return table


def _is_simplified_standard(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@cache
def traditional_only() -> frozenset[str]:
    """Characters only traditional script writes: OpenCC changes them and GB2312 does not have them."""
    return frozenset(ch for ch, candidates in t2s_char_table().items() if ch not in candidates)


@cache
def simplified_only() -> frozenset[str]:
    """Characters only simplified script writes (离, 开): OpenCC's s2t changes them and Big5 does not have them."""
    import opencc

    chars = "".join(chr(code) for code in CJK)
    converted = opencc.OpenCC("s2t").convert(chars)
    if len(converted) != len(chars):
        return frozenset()
    return frozenset(s for s, t in zip(chars, converted, strict=True) if s != t and not _in_big5(s))


def _in_big5(char: str) -> bool:
    try:
        char.encode("big5")
    except UnicodeEncodeError:
        return False
    return True


def is_traditional(text: str) -> bool:
    """True when `text` holds at least one character that only traditional script writes."""
    only = traditional_only()
    return any(ch in only for ch in text)


def _char_pass(text: str) -> str:
    """Convert characters the phrase pass left traditional (於 in 對於單, 著 in 本著)."""
    from policykb.cleaning.charfreq import log_prob

    table = t2s_char_table()
    chars = list(text)
    for i, ch in enumerate(chars):
        candidates = table.get(ch)
        if not candidates:
            continue
        if ch not in candidates:
            chars[i] = candidates[0]
            continue
        # Ambiguous (於 → 于 or 於, 乾 → 干 or 乾): keep whichever reads as better Chinese in context.
        left = "".join(chars[max(0, i - CONTEXT) : i])
        right = "".join(chars[i + 1 : i + 1 + CONTEXT])
        best, best_score = ch, log_prob(left + ch + right)
        for candidate in candidates:
            score = log_prob(left + candidate + right)
            if score > best_score + 1e-9:
                best, best_score = candidate, score
        chars[i] = best
    return "".join(chars)


def _convert_sentence(sentence: str) -> str:
    return _char_pass(_converter().convert(sentence))


def _diff_changes(before: str, after: str, kind: str, base: int) -> list[Change]:
    """One Change per run of differing characters, offsets into the whole text."""
    changes: list[Change] = []
    if len(before) == len(after):
        i = 0
        while i < len(before):
            if before[i] == after[i]:
                i += 1
                continue
            j = i
            while j < len(before) and before[j] != after[j]:
                j += 1
            changes.append(Change(kind, before[i:j], after[i:j], base + i))
            i = j
        return changes
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changes.append(Change(kind, before[i1:i2], after[j1:j2], base + i1))
    return changes


def to_simplified(text: str) -> CleanResult:
    """Convert the traditional sentences of `text`; one Change(kind="traditional") per converted run."""
    if not is_traditional(text):
        return CleanResult(text, [])
    out: list[str] = []
    changes: list[Change] = []
    position = 0
    for match in SENTENCE.finditer(text):
        sentence = match.group()
        if not sentence:
            continue
        if is_traditional(sentence):
            converted = _convert_sentence(sentence)
            changes.extend(_diff_changes(sentence, converted, "traditional", position))
            out.append(converted)
        else:
            out.append(sentence)
        position += len(sentence)
    return CleanResult("".join(out), changes)
