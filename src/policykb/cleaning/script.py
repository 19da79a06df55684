"""Traditional → simplified: OpenCC phrase conversion, then a character pass for what phrases leave behind."""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path

from policykb.records import Change, CleanResult

CONTEXT = 2  # characters either side used to choose between readings of an ambiguous character
VALID_BUT_AMBIGUOUS: dict[str, tuple[str, ...]] = {"著": ("着", "著")}


@cache
def t2s_char_table() -> dict[str, tuple[str, ...]]:
    """OpenCC's character dictionary: traditional character → simplified candidates, most common first."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            source, targets = line.split("\t", 1)
            table[source] = tuple(targets.split())
    # Characters that OpenCC treats as already simplified, yet in traditional text also write a different
    # simplified character (著力/本著 → 着力/本着, while 著作 stays): the context decides, as for 於/乾.
    for char, readings in VALID_BUT_AMBIGUOUS.items():
        table.setdefault(char, readings)
    return table


@cache
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def _phrase_convert(text: str) -> str:
    return "".join(_converter().convert(line) for line in text.splitlines(keepends=True))


def _char_pass(text: str) -> str:
    """Convert characters the phrase pass left traditional (於 in 對於單, 幹 in 若幹, 製 in 體製)."""
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


def _diff_changes(before: str, after: str, kind: str) -> list[Change]:
    """One Change per run of differing characters, offsets into `before`."""
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
            changes.append(Change(kind, before[i:j], after[i:j], i))
            i = j
        return changes
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changes.append(Change(kind, before[i1:i2], after[j1:j2], i1))
    return changes


def to_simplified(text: str) -> CleanResult:
    """Convert traditional characters to simplified; one Change(kind="traditional") per converted run."""
    converted = _char_pass(_phrase_convert(text))
    return CleanResult(converted, _diff_changes(text, converted, "traditional"))
