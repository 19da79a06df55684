"""Parse the numbers of Chinese policy text: digits, Chinese numerals, decimals, fractions and percentages.

Pure functions, no model. The grammar follows how Chinese writes a quantity (the reference behaviour is that of
Microsoft Recognizers-Text's Chinese number models and cn2an; `tests/test_numbers.py` holds their cases):

- standard and financial numerals (`一千零五`, `壹仟零伍`), 两/俩/仨, digits with 万/亿 (`1.5万`, `4.78万亿`,
  `3万4000`), thousands separators (`1,200`), decimals with 点 (`二点五`, `两千三点一`);
- the spoken short form, where a last digit after a place word counts one place lower
  (`两千四百五` = 2450, `三万五` = 35000, `一百七` = 170), unless a written zero pins it (`一千零五` = 1005);
- fractions and percentages: `百分之零点九`, `百分之百`, `千分之一` (0.1 %), `三分之二`, `1/3`, `N%`, `N成`;
- approximations: `十几万`, `500余万`, `四百多` (more than: comparator `>`), `十来` (about: `~`), and two
  neighbouring digits `两三`, `三四十` (a range).

A numeral that breaks counting grammar (`十四五`, `一五`, `十十`, a bare `万`) is a name, not a number, so the
parsers return None for it and the extractor leaves it alone: never a wrong number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# One-to-one character folds, so offsets into the folded text are offsets into the original: full-width
# digits and signs, and the traditional forms of numeral characters.
FOLD = str.maketrans({
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    "．": ".", "％": "%", "／": "/", "－": "-", "～": "~", "＜": "<", "＞": ">", "＝": "=",
    "萬": "万", "億": "亿", "兩": "两", "貳": "贰", "陸": "陆", "幾": "几", "點": "点", "負": "负", "個": "个",
    "倆": "俩",
})

# Financial (anti-fraud) numerals and colloquial digits, folded onto the standard ones before parsing.
_STANDARD = str.maketrans({
    "壹": "一", "贰": "二", "叁": "三", "肆": "四", "伍": "五", "陆": "六", "柒": "七", "捌": "八", "玖": "九",
    "拾": "十", "佰": "百", "仟": "千", "俩": "两", "仨": "三", "〇": "零",
})
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
FINANCIAL_CHARS = "壹贰叁肆伍陆柒捌玖拾佰仟"
CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿" + FINANCIAL_CHARS + "俩仨"
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
APPROX_MORE = "几多余"  # 十几万, 五百多, 500余万: more than the round number
APPROX_ABOUT = "来"  # 十来个: about

# Possessive digits: a digit run is read whole. With plain \d+ inside the repeated atoms below, a long digit string
# (an ID or account number) splits into atoms in exponentially many ways before a failing match gives up.
_ASCII = r"\d++(?:,\d{3})*(?:\.\d++)?"
_CN = f"[{CN_NUMERAL_CHARS}]"
_ATOM = rf"(?:{_ASCII}|{_CN}|点(?=[零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖\d])|[{APPROX_MORE}](?=[万亿]))"
_RUN = rf"(?:{_ASCII}|{_CN})(?:{_ATOM})*"
# Every number expression, longest forms first. Run on folded text.
NUMBER_RE = re.compile(
    rf"(?:百|千|万|{_RUN}?[百千万亿])分之(?:百(?![{CN_NUMERAL_CHARS}])|{_RUN})"
    rf"|(?:{_RUN})分之(?:{_RUN})"
    r"|(?<![\d./])\d{1,3}/\d{1,3}(?![\d/])"
    rf"|(?<![\d.]){_RUN}(?![\d])"
)
_DIGIT_ONLY = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# A number written with digits then place words multiplied in order: 1.5万, 4.78万亿, 1.5千万, 10万万.
_DIGITS_TIMES = re.compile(r"(?P<n>\d+(?:\.\d+)?)(?P<small>[十百千]?)(?P<big>万万|万亿|万|亿)?")
_NEIGHBOURS = re.compile(r"(?P<a>[一二两三四五六七八九])(?P<b>[二三四五六七八九])(?P<units>[十百千万亿]*)")
_FRACTION_DIGITS = re.compile(r"(?P<digits>[零一二三四五六七八九\d]+)(?P<big>万亿|万|亿)?")


@dataclass(frozen=True)
class Parsed:
    """A parsed number.

    `unit` is the unit the numeral itself implies (`%` for fractions and percentages). `comparator` is `=`,
    `>` for 几/多/余 (`十几万` is more than 100000), `~` for 来, or `range` for neighbouring digits (`两三`),
    whose upper end is `high`.
    """

    value: float
    unit: str | None = None
    comparator: str = "="
    high: float | None = None


def fold(text: str) -> str:
    """Full-width digits and traditional numeral characters as their plain forms, one character for one."""
    # A full-width comma between digit groups (４，５６５) is a thousands separator; elsewhere it is punctuation.
    return re.sub(r"(?<=\d)，(?=\d{3}(?!\d))", ",", text.translate(FOLD))


def _section(s: str) -> int | None:
    """A numeral below 10000 (`三千零五十` → 3050, `两千四百五` → 2450, `1千零20` → 1020), else None."""
    tokens = re.findall(r"\d+|\D", s)
    if not tokens or not any(t in CN_DIGITS or t.isdigit() for t in tokens) and tokens != ["十"]:
        return None  # a bare place word (百花, 千方百计) is not a number; 十 alone is ten
    value, last, pending, zero, has_unit = 0, 10_000, None, False, False
    for t in tokens:
        if t.isdigit():
            if pending is not None:
                return None
            pending, zero = int(t), zero or (len(t) > 1 and t.startswith("0"))
        elif t == "零":
            if pending is not None:
                return None
            zero = True
        elif t in CN_DIGITS:
            if pending is not None:
                return None  # two digits in a row (一五, 十四五) are a name
            pending = CN_DIGITS[t]
        elif t in SMALL_UNITS:
            unit = SMALL_UNITS[t]
            if unit >= last or (pending is not None and pending >= 10):
                return None
            value += (1 if pending is None else pending) * unit
            last, pending, zero, has_unit = unit, None, False, True
        else:
            return None
    if pending is not None:
        if pending >= last:
            return None
        if has_unit and not zero and last > 10 and pending < 10:
            value += pending * last // 10  # spoken short form: 两千四百五 → 2450
        else:
            value += pending
    return value


def _lower_part(low: str, scale: int) -> int | None:
    """What follows 万 or 亿: `零一` → 1, a lone digit in the short form (`三万五` → 5000), else a numeral."""
    if not low:
        return 0
    pinned = low[0] == "零"
    low = low.lstrip("零")
    if not low:
        return None
    if not pinned and len(low) == 1 and low in CN_DIGITS:
        return CN_DIGITS[low] * scale // 10
    value = _integer(low)
    return value if value is not None and value < scale else None


def _integer(s: str) -> int | None:
    """A whole numeral in standard characters (ASCII digits may stand for digits: `3万4000`), else None."""
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if len(s) >= 2 and all(c in CN_DIGITS for c in s):
        # Read digit by digit only with a written zero (二〇二三, 一七二零); 一五 or 九九 is a name.
        return int("".join(str(CN_DIGITS[c]) for c in s)) if "零" in s and "两" not in s else None
    s = s.replace("万万", "亿")
    for big in ("亿", "万"):
        if big in s:
            high, _, low = s.partition(big)
            scale = BIG_UNITS[big]
            high_value = _integer(high) if high and high[-1] != "零" else None
            low_value = _lower_part(low, scale)
            if not high_value or low_value is None:
                return None
            return high_value * scale + low_value
    return _section(s)


def _decimal(s: str) -> Decimal | None:
    """A non-negative number in standard characters, integer or decimal, exact."""
    if not s:
        return None
    m = _THOUSANDS.match(s)
    if m and not s[m.end():m.end() + 1].isdigit():
        s = m.group().replace(",", "") + s[m.end():]
    m = _DIGITS_TIMES.fullmatch(s)
    if m and ("." in s or m.group("small") or m.group("big")):
        value = Decimal(m.group("n"))
        if m.group("small"):
            value *= SMALL_UNITS[m.group("small")]
        for big in m.group("big") or "":
            value *= BIG_UNITS[big]
        return value
    if "点" in s:
        whole, _, rest = s.partition("点")
        f = _FRACTION_DIGITS.fullmatch(rest)
        whole_value = _integer(whole) if whole else None
        if whole_value is None or not f:
            return None
        digits = "".join(str(CN_DIGITS[c]) if c in CN_DIGITS else c for c in f.group("digits"))
        value = whole_value + Decimal("0." + digits)
        if f.group("big"):
            if any(c in whole for c in BIG_UNITS):
                return None
            for big in f.group("big"):
                value *= BIG_UNITS[big]
        return value
    integer = _integer(s)
    return Decimal(integer) if integer is not None else None


def _round_percent(value: Decimal) -> float:
    """Exact when it terminates within six places (千分之一 → 0.1), else four significant digits (66.67)."""
    try:
        if value == value.quantize(Decimal("0.000001")):
            return float(value)
    except InvalidOperation:  # too many digits to quantize: it is no short decimal
        pass
    return float(f"{value:.4g}")


def _approximate(s: str) -> tuple[str, str] | None:
    """`十几万` → (`十万`, `>`), `十来` → (`十`, `~`); (s, `=`) when there is no approximation word."""
    if not any(c in s for c in APPROX_MORE + APPROX_ABOUT):
        return s, "="
    if s[-1] in APPROX_ABOUT and not any(c in s[:-1] for c in APPROX_MORE + APPROX_ABOUT):
        return (s[:-1], "~") if s[:-1] and s[-2] in "十百千万亿" else None
    out: list[str] = []
    for i, c in enumerate(s):
        if c in APPROX_MORE:
            # Only after a round part: 十几, 五百多, 一百零几万, 500余万, 19万余; never 几十 or 3多.
            before = s[:i]
            if not before or not (before[-1] in "十百千万亿零" or (before[-1] == "0" and before[-2:-1].isdigit())):
                return None
            if before[-1] == "零":
                out.pop()  # 一百零几万 is 一百万 and then some
            continue
        out.append(c)
    return "".join(out), ">"


def _plain(s: str) -> Parsed | None:
    """A number without a fraction word: integer, decimal, approximation or neighbouring-digit range."""
    m = _NEIGHBOURS.fullmatch(s)
    if m and CN_DIGITS[m.group("b")] == CN_DIGITS[m.group("a")] + 1:
        scale = Decimal(1)
        units = m.group("units").replace("万万", "亿")
        if units and not re.fullmatch(r"[十百千]?(?:万亿|万|亿)?", units):
            return None
        for c in units:
            scale *= SMALL_UNITS.get(c) or BIG_UNITS[c]
        return Parsed(float(CN_DIGITS[m.group("a")] * scale), None, "range", float(CN_DIGITS[m.group("b")] * scale))
    approx = _approximate(s)
    if approx is None:
        return None
    core, comparator = approx
    value = _decimal(core)
    return Parsed(float(value), None, comparator) if value is not None else None


def _fraction(denominator: str, numerator: str) -> Parsed | None:
    den: Decimal | None = Decimal(1)
    if re.fullmatch(r"[十百千万亿]+", denominator):  # 百分之, 千分之, 百万分之: place words alone
        for c in denominator:
            den = (den or Decimal(1)) * (SMALL_UNITS.get(c) or BIG_UNITS[c])
    else:
        den = _decimal(denominator)
        if "." in numerator or "点" in numerator:
            return None  # 五百分之2.2: a decimal share is written against 百/千/万 alone
    num = Decimal(100) if numerator == "百" and denominator == "百" else _decimal(numerator)
    if not den or num is None:
        return None
    return Parsed(_round_percent(num / den * 100), "%")


def parse_number(s: str) -> Parsed | None:
    """Any number expression as a whole: `30`, `1.5万`, `两千四百五`, `百分之零点九` → 0.9 %, `千分之一` →
    0.1 %, `三分之二` → 66.67 %, `1/3`, `25%`, `八点五成` → 85 %, `十几万` → > 100000, else None."""
    s = fold(s.strip()).translate(_STANDARD).replace(" ", "")
    if not s:
        return None
    negative = s[0] in "负-" and len(s) > 1
    s = s[1:] if negative else s
    parsed = _parse_positive(s)
    if parsed is None or not negative:
        return parsed
    if parsed.comparator != "=":
        return None
    return Parsed(-parsed.value, parsed.unit)


def _parse_positive(s: str) -> Parsed | None:
    if "分之" in s:
        denominator, _, numerator = s.partition("分之")
        return _fraction(denominator, numerator) if "分之" not in numerator else None
    m = re.fullmatch(r"(\d{1,3})/(\d{1,3})", s)
    if m:
        return _fraction(m.group(2), m.group(1))
    if s.endswith("%"):
        value = _decimal(s[:-1])
        return Parsed(float(value), "%") if value is not None else None
    if s.endswith("成") or s.endswith("成半"):
        half = s.endswith("半")
        core = s[:-2] if half else s[:-1]
        value = Decimal("0.5") if core == "半" else _decimal(core)
        if value is None or value > 10:
            return None
        return Parsed(float(value * 10 + (5 if half else 0)), "%")
    if s == "半":
        return Parsed(0.5)
    if s.endswith("个半"):  # 一个半 (小时): one and a half
        whole = _decimal(s[:-2])
        return Parsed(float(whole) + 0.5) if whole is not None and whole == int(whole) else None
    return _plain(s)


def parse_chinese_integer(s: str) -> int | None:
    """A Chinese integer (`十二` → 12, `两` → 2, `十九万` → 190000, `二〇二三` → 2023), else None."""
    s = fold(s).translate(_STANDARD)
    if not s or any(c not in CN_DIGITS and c not in SMALL_UNITS and c not in BIG_UNITS for c in s):
        return None
    return _integer(s)


def parse_plain(s: str) -> float | None:
    """A number without a fraction word (`1.5万` → 15000, `十二` → 12), exact values only, else None."""
    parsed = parse_number(s)
    return parsed.value if parsed is not None and parsed.unit is None and parsed.comparator == "=" else None


@dataclass(frozen=True)
class Found:
    """A number found in running text: where it is, what it says."""

    start: int
    end: int
    text: str
    parsed: Parsed


def find_numbers(text: str) -> list[Found]:
    """Every number expression of `text` that parses, left to right; a run that breaks counting grammar
    (`十四五`) yields nothing rather than a piece of it."""
    folded = fold(text)
    out: list[Found] = []
    for m in NUMBER_RE.finditer(folded):
        s, e = m.start(), match_end(folded, m)
        if e is None:
            continue
        # A trailing approximation word (四百多, 十来个), percent sign or 成 belongs to the number.
        for tail in ("成半", "%", "成", "多", "余", "几", "来"):
            if folded.startswith(tail, e) and parse_number(folded[s:e + len(tail)]) is not None:
                e += len(tail)
                break
        parsed = parse_number(folded[s:e])
        if parsed is None:
            continue
        # A vague range of a share (二三十个百分点, 百分之二三十) gives no value.
        if parsed.comparator == "range" and re.match(r"\s*(?:个?百分点|%|成)", folded[e:]):
            continue
        out.append(Found(s, e, text[s:e], parsed))
    return out


def match_end(text: str, m: re.Match[str]) -> int | None:
    """Where the number matched by NUMBER_RE ends, or None when it is no number. A fraction that runs into a
    following word (`百分之七十百分位`) is cut back to the longest part that parses."""
    s, e = m.start(), m.end()
    if parse_number(text[s:e]) is not None:
        return e
    if "分之" in text[s:e]:
        floor = text.index("分之", s) + 2
        for end in range(e - 1, floor, -1):
            # Never inside a numeral: 百分之二三十 is not 百分之二, 五百分之2.2 is not 五百分之2.
            if text[end] in "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖.0123456789":
                continue
            if parse_number(text[s:end]) is not None:
                return end
    return None
