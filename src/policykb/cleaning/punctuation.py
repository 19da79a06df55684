"""Punctuation and indentation: lost full-width indents, and one consistent (NFKC, ASCII) punctuation style.

Every scraped page already has NFKC punctuation (ASCII `,` `:` `(` `)` `!` `;` where Chinese uses `，：（）！；`),
so the cleaned text keeps that style everywhere; 。、“”《》〔〕 have no ASCII form and stay as they are.
"""

from __future__ import annotations

import re
import unicodedata

from policykb.records import Change, CleanResult

# Leading full-width spaces, or the `?` they became when a GBK round trip could not carry them.
LOST_INDENT = re.compile(r"^([ \t]*)([?\u3000][?\u3000 \t]*)", re.MULTILINE)


def _is_fullwidth_form(ch: str) -> bool:
    """Full-width ASCII (，：（）！？ digits letters), small and vertical forms, and the ideographic space."""
    in_block = "\uff01" <= ch <= "\uff5e" or "\ufe30" <= ch <= "\ufe6b" or ch == "\u3000"
    return in_block and unicodedata.normalize("NFKC", ch) != ch


def restore_indent_spaces(text: str) -> CleanResult:
    """Remove full-width indents and their `?` ghosts at line starts; Change(kind="whitespace") each."""
    changes: list[Change] = []

    def drop(m: re.Match[str]) -> str:
        changes.append(Change("whitespace", m.group(2), "", m.start(2), "lost full-width indent"))
        return m.group(1)

    return CleanResult(LOST_INDENT.sub(drop, text), changes)


def normalise_punctuation(text: str) -> CleanResult:
    """Fold full-width punctuation, digits and letters to ASCII as NFKC does; one Change per run."""
    changes: list[Change] = []
    out: list[str] = []
    run_start = -1
    for i, ch in enumerate(text + "\0"):
        if i < len(text) and _is_fullwidth_form(ch):
            if run_start < 0:
                run_start = i
            continue
        if run_start >= 0:
            before = text[run_start:i]
            after = unicodedata.normalize("NFKC", before)
            changes.append(Change("punctuation", before, after, run_start))
            out.append(after)
            run_start = -1
        if i < len(text):
            out.append(ch)
    return CleanResult("".join(out), changes)
