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


# 1.5千万 used to be refused; it is 15,000,000 as written in news (issue 11 widens the grammar).
@pytest.mark.parametrize("text", ["十四五", "零分之一", "abc", "", "分之", "几十", "3多", "两两", "十十", "百分之二三十",
                                  "五百分之2.2", "10.1万零100", "10..1万", "零点", "点零", "万", "一万两万"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


@given(st.integers(min_value=0, max_value=99_999_999))
def test_parse_number_reads_any_digit_string(n: int) -> None:
    assert parse_number(str(n)) == Parsed(float(n))


@given(st.text(alphabet="零〇一二两三四五六七八九十百千万亿分之", max_size=12))
def test_parse_number_never_crashes_on_numeral_soup(text: str) -> None:
    result = parse_number(text)
    assert result is None or result.value >= 0


# The forms named in issue 11, each a wrong number before.
ISSUE_FORMS = [
    ("两千四百五", Parsed(2450.0)), ("三万五", Parsed(35000.0)), ("两千六", Parsed(2600.0)), ("一百七", Parsed(170.0)),
    ("一千零五", Parsed(1005.0)), ("二点五", Parsed(2.5)), ("两千三点一", Parsed(2300.1)),
    ("百分之零点九", Parsed(0.9, "%")), ("百分之一百二十点五", Parsed(120.5, "%")), ("八点五成", Parsed(85.0, "%")),
    ("百分之百", Parsed(100.0, "%")), ("千分之一", Parsed(0.1, "%")), ("万分之五", Parsed(0.05, "%")),
    ("一百万分之五", Parsed(0.0005, "%")), ("1,200", Parsed(1200.0)), ("3万4000", Parsed(34000.0)),
    ("4.78万亿", Parsed(4.78e12)), ("1.5千万", Parsed(15_000_000.0)), ("500余万", Parsed(5_000_000.0, None, ">")),
    ("十几万", Parsed(100_000.0, None, ">")), ("四百多", Parsed(400.0, None, ">")), ("十来", Parsed(10.0, None, "~")),
    ("1/3", Parsed(33.33, "%")), ("3/4", Parsed(75.0, "%")), ("壹仟贰佰叁拾肆", Parsed(1234.0)),
    ("１２３", Parsed(123.0)), ("俩", Parsed(2.0)), ("仨", Parsed(3.0)), ("半", Parsed(0.5)), ("一个半", Parsed(1.5)),
    ("两三", Parsed(2.0, None, "range", 3.0)), ("三四十", Parsed(30.0, None, "range", 40.0)),
    ("九成", Parsed(90.0, "%")), ("25%", Parsed(25.0, "%")), ("负三十二", Parsed(-32.0)),
]


@pytest.mark.parametrize(("text", "parsed"), ISSUE_FORMS)
def test_parse_number_reads_issue_forms(text: str, parsed: Parsed) -> None:
    assert parse_number(text) == parsed


# --- round trips: a number written out in several Chinese styles is read back -------------------------

DIGITS = "零一二三四五六七八九"
FINANCIAL = str.maketrans("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟")


def _section(n: int, spoken: bool = False) -> str:
    """n < 10000 in standard characters; `spoken` drops a final 十/百 after a digit (两千四百五)."""
    out, zero = "", False
    for scale, word in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // scale % 10
        if d:
            if zero:
                out += "零"
            out += DIGITS[d] + word
            zero = False
        elif out:
            zero = True
    if spoken and len(out) >= 4 and out[-1] in "十百" and "零" not in out:
        out = out[:-1]
    return out


def to_chinese(n: int, spoken: bool = False) -> str:
    if n == 0:
        return "零"
    parts, out = [(n // 100_000_000, "亿"), (n // 10_000 % 10_000, "万"), (n % 10_000, "")], ""
    for i, (value, word) in enumerate(parts):
        if value:
            if out and value < 1000:
                out += "零"
            out += _section(value, spoken and i == 2) + word
    return out.lstrip("零")


@given(st.integers(min_value=1, max_value=99_999_999_999))
def test_round_trip_standard(n: int) -> None:
    assert parse_number(to_chinese(n)) == Parsed(float(n))


@given(st.integers(min_value=1, max_value=99_999_999))
def test_round_trip_financial(n: int) -> None:
    assert parse_number(to_chinese(n).translate(FINANCIAL)) == Parsed(float(n))


@given(st.integers(min_value=11, max_value=9999))
def test_round_trip_spoken_short_form(n: int) -> None:
    text = to_chinese(n, spoken=True)
    assert parse_number(text) == Parsed(float(n)), text


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=0, max_value=9999))
def test_round_trip_digits_with_wan(high: int, low: int) -> None:
    text = f"{high}万{low}" if low >= 1000 else f"{high}万" + (f"零{low}" if low else "")
    assert parse_number(text) == Parsed(float(high * 10_000 + low))


@given(st.decimals(min_value="0.01", max_value="9999.99", places=2))
def test_round_trip_decimal_wan_and_thousands_separator(d) -> None:  # type: ignore[no-untyped-def]
    assert parse_number(f"{d}万") == Parsed(float(d * 10_000))
    whole = int(d * 100)
    assert parse_number(f"{whole:,}") == Parsed(float(whole))


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=9))
def test_round_trip_percentages(whole: int, tenth: int) -> None:
    assert parse_number(f"百分之{to_chinese(whole)}点{DIGITS[tenth]}") == Parsed(whole + tenth / 10, "%")
    assert parse_number(f"{whole}.{tenth}%") == Parsed(float(f"{whole}.{tenth}"), "%")
    assert parse_number(f"百分之{whole}") == Parsed(float(whole), "%")
