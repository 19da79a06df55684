"""Parse the numbers of Chinese policy text: digits, Chinese numerals, fractions and percentages.

Pure functions, no model. A numeral that does not follow Chinese counting grammar (`十四五`, `一五`) is not
a number but a name, so the parsers return None for it and the extractor leaves it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
CN_NUMERAL_CHARS = "".join(CN_DIGITS) + "十百千万亿"

_D = "[一二两三四五六七八九]"
_Z = "[零〇]?"
# One section below ten thousand: 三千零五十, 二十, 十二, 一百零五. `十四五` does not match.
_SECTION = re.compile(
    rf"(?:(?P<k>{_D})千)?{_Z}(?:(?P<h>{_D})百)?{_Z}(?:(?P<t>{_D})?(?P<ten>十))?{_Z}(?P<u>{_D})?"
)
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_MULTIPLIER = {"万": 10_000, "亿": 100_000_000, "千": 1000, "百": 100}


@dataclass(frozen=True)
class Parsed:
    """A parsed number: its value, and the unit the numeral itself implies (`%` for fractions)."""

    value: float
    unit: str | None = None


def _parse_section(s: str) -> int | None:
    """A Chinese numeral below 10000 (`三千零五十` → 3050), or None when it breaks counting grammar."""
    if s in ("零", "〇"):
        return 0
    m = _SECTION.fullmatch(s)
    if not m or not s:
        return None
    value = 0
    for group, scale in (("k", 1000), ("h", 100), ("u", 1)):
        if m.group(group):
            value += CN_DIGITS[m.group(group)] * scale
    if m.group("ten"):
        value += CN_DIGITS[m.group("t")] * 10 if m.group("t") else 10
    return value


def parse_chinese_integer(s: str) -> int | None:
    """A Chinese integer (`十二` → 12, `两` → 2, `十九万` → 190000, `二〇二三` → 2023), else None."""
    if not s or any(c not in CN_NUMERAL_CHARS for c in s):
        return None
    # Digit-by-digit numerals (years such as 二〇二三) contain a written zero and no place words.
    if len(s) >= 2 and all(c in CN_DIGITS for c in s):
        if "〇" in s or "零" in s:
            return int("".join(str(CN_DIGITS[c]) for c in s))
        return None
    for big, scale in (("亿", 100_000_000), ("万", 10_000)):
        if big in s:
            high, _, low = s.partition(big)
            # A bare 万 is a word (万众一心), not ten thousand.
            high_value = parse_chinese_integer(high) if high else None
            low_value = parse_chinese_integer(low.lstrip("零〇")) if low.lstrip("零〇") else 0
            if high_value is None or low_value is None:
                return None
            return high_value * scale + low_value
    return _parse_section(s)


def parse_plain(s: str) -> float | None:
    """Digits with an optional 万/亿 multiplier (`1.5万` → 15000) or a Chinese integer, else None."""
    if not s:
        return None
    m = _DIGITS.match(s)
    if m:
        rest = s[m.end():]
        base = float(m.group())
        if not rest:
            return base
        if len(rest) == 1 and rest in _MULTIPLIER:
            return base * _MULTIPLIER[rest]
        return None
    value = parse_chinese_integer(s)
    return float(value) if value is not None else None


def parse_number(s: str) -> Parsed | None:
    """Any number expression: `30`, `1.5万`, `十二`, `百分之二十` → 20 %, `三分之二` → 66.67 %, else None."""
    s = s.strip()
    if s.startswith("百分之"):
        value = parse_plain(s[3:])
        return Parsed(value, "%") if value is not None else None
    if "分之" in s:
        denominator, _, numerator = s.partition("分之")
        den, num = parse_plain(denominator), parse_plain(numerator)
        if not den or num is None:
            return None
        return Parsed(round(num / den * 100, 2), "%")
    value = parse_plain(s)
    return Parsed(value) if value is not None else None
