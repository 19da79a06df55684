"""Query normalisation shared by search and compare: traditional → simplified, NFKC, length limits."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from policykb.errors import QueryError


@cache
def _opencc() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _traditional_chars() -> frozenset[str]:
    """Every character that t2s conversion changes on its own: texts without one skip the (slow) converter."""
    from policykb.cleaning.script import t2s_char_table

    return frozenset(t2s_char_table())


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s); texts already simplified are returned untouched, fast."""
    if _traditional_chars().isdisjoint(text):  # in C: this runs on every clause compare judges
        return text
    return str(_opencc().convert(text))


def fold(text: str) -> str:
    """NFKC and traditional → simplified, so 縣管校聘 and 县管校聘 are the same query (and the same index terms).

    NFKC folds every full-width form as fold_for_matching does: the cleaned text's `，：（）` and a query typed
    with `,:()` give the same terms."""
    return to_simplified(unicodedata.normalize("NFKC", text))


def normalise_query(text: str, max_chars: int) -> str:
    """The query as searched; raises QueryError for an empty or over-long query."""
    folded = " ".join(fold(text or "").split())
    if not folded:
        raise QueryError("query is empty: type what you are looking for, e.g. 教师交流轮岗比例")
    if len(folded) > max_chars:
        raise QueryError(f"query is too long: {len(folded)} characters, the limit is {max_chars}")
    return folded
