"""Remove pinyin annotations a content farm inserted after characters: 關(guān)于, 若(ruò)幹, 的(de).

An annotation is removed only when it is one of the preceding character's real readings (with or without tone
marks), so genuine parentheses such as (一), (试行), 县(区)域, (2023-2025年) or (STEM) survive.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from policykb.cleaning.script import t2s_char_table
from policykb.records import Change, CleanResult

# A lowercase syllable in parentheses (ASCII or full-width) right after a Han character; tone marks optional,
# and some tools write ü as v or append a tone digit.
ANNOTATION = re.compile(
    r"(?<=[\u3400-\u4dbf\u4e00-\u9fff])[(（]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêḿńňǹ]{1,6}[1-5]?)[)）]"
)


def _plain(syllable: str) -> str:
    """The syllable without tone marks or tone digit, ü spelled as v."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c))
    return stripped.rstrip("12345").replace("ü", "v")


@lru_cache(maxsize=8192)
def readings(ch: str) -> frozenset[str]:
    """Every reading pypinyin knows for `ch` or its simplified forms, with tone marks and without."""
    from pypinyin import Style, pinyin

    out: set[str] = set()
    for form in (ch, *t2s_char_table().get(ch, ())):
        for style in (Style.TONE, Style.NORMAL, Style.TONE3):
            for group in pinyin(form, style=style, heteronym=True, errors="ignore"):
                for reading in group:
                    out.add(reading)
                    out.add(_plain(reading))
    return frozenset(out)


def is_reading(ch: str, syllable: str) -> bool:
    """True when `syllable` is a reading of `ch`; a toneless syllable matches any tone."""
    syllable = unicodedata.normalize("NFC", syllable)
    known = readings(ch)
    if syllable in known:
        return True
    has_tone = syllable != _plain(syllable) or syllable[-1:].isdigit()
    return not has_tone and _plain(syllable) in known


def remove_pinyin(text: str) -> CleanResult:
    """Delete annotations that spell a reading of the character before them; Change(kind="pinyin") each."""
    changes: list[Change] = []
    pieces: list[str] = []
    cursor = 0
    for m in ANNOTATION.finditer(text):
        if not is_reading(text[m.start() - 1], m.group(1)):
            continue
        changes.append(Change("pinyin", m.group(0), "", m.start()))
        pieces.append(text[cursor : m.start()])
        cursor = m.end()
    pieces.append(text[cursor:])
    return CleanResult("".join(pieces), changes)
