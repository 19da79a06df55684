"""Query normalisation shared by search and compare: traditional → simplified, NFKC, length limits."""

from __future__ import annotations

import unicodedata
from functools import cache

from policykb.errors import QueryError


@cache
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """NFKC and traditional → simplified, so 縣管校聘 and 县管校聘 are the same query."""
    return _t2s().convert(unicodedata.normalize("NFKC", text))


def normalise_query(text: str, max_chars: int) -> str:
    """The query as searched; raises QueryError for an empty or over-long query."""
    folded = " ".join(fold(text or "").split())
    if not folded:
        raise QueryError("query is empty: type what you are looking for, e.g. 教师交流轮岗比例")
    if len(folded) > max_chars:
        raise QueryError(f"query is too long: {len(folded)} characters, the limit is {max_chars}")
    return folded
