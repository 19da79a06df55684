"""Chinese numeral parsing: digits, Chinese integers, multipliers, fractions and percentages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policykb.numbers import Parsed, parse_chinese_integer, parse_number

CHINESE_INTEGERS = [
    # single digits and the colloquial 两
    ("一", 1), ("两", 2), ("二", 2), ("九", 9), ("零", 0),
    # tens: a leading 十 means 一十
    ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23),
    # hundreds and thousands with a written zero
    ("一百", 100), ("一百零五", 105), ("三千零五十", 3050), ("两千", 2000),
    # 万 and 亿 groups
    ("十万", 100_000), ("十九万", 190_000), ("一千二百万", 12_000_000), ("三亿", 300_000_000),
    # digit-by-digit years carry a written zero
    ("二〇二三", 2023),
]


@pytest.mark.parametrize(("text", "value"), CHINESE_INTEGERS)
def test_parse_chinese_integer(text: str, value: int) -> None:
    assert parse_chinese_integer(text) == value


# Strings that break counting grammar are names, not numbers.
NOT_INTEGERS = [
    "十四五",  # the 14th five-year plan
    "十三五",
    "一五",  # digit-by-digit without a zero is ambiguous
    "万",  # 万众一心
    "百",  # 百花齐放
    "千",
    "",
    "十十",
    "二十大",  # contains a non-numeral
]


@pytest.mark.parametrize("text", NOT_INTEGERS)
def test_parse_chinese_integer_rejects_names(text: str) -> None:
    assert parse_chinese_integer(text) is None


NUMBERS = [
    ("30", Parsed(30.0)),
    ("0.15", Parsed(0.15)),
    ("1.5万", Parsed(15000.0)),  # 1.5万人 → 15000 人
    ("19万", Parsed(190000.0)),
    ("十二", Parsed(12.0)),
    ("两", Parsed(2.0)),
    # fractions and 百分之 are percentages
    ("百分之二十", Parsed(20.0, "%")),
    ("百分之15", Parsed(15.0, "%")),
    ("二分之一", Parsed(50.0, "%")),
    ("三分之二", Parsed(66.67, "%")),
    ("4分之1", Parsed(25.0, "%")),
]


@pytest.mark.parametrize(("text", "parsed"), NUMBERS)
def test_parse_number(text: str, parsed: Parsed) -> None:
    assert parse_number(text) == parsed


@pytest.mark.parametrize("text", ["十四五", "零分之一", "1.5千万", "abc", "", "分之"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


@given(st.integers(min_value=0, max_value=99_999_999))
def test_parse_number_reads_any_digit_string(n: int) -> None:
    assert parse_number(str(n)) == Parsed(float(n))


@given(st.text(alphabet="零〇一二两三四五六七八九十百千万亿分之", max_size=12))
def test_parse_number_never_crashes_on_numeral_soup(text: str) -> None:
    result = parse_number(text)
    assert result is None or result.value >= 0
