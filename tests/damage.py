"""Damage clean Chinese text the way the content farm did, to test that cleaning restores it.

The farm pushed simplified text to traditional, inserted pinyin after random characters, handled the result as
GBK bytes (losing a byte, replacing one with `?`, or splicing an annotation between the two bytes of a
character), decoded with a decoder that shows `?` for an invalid pair and swallows both bytes, and applied NFKC.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import cache

BYTE_DAMAGE_KINDS = ("delete", "replace", "split")


@cache
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _reading(ch: str, toned: bool) -> str | None:
    from pypinyin import Style, pinyin

    style = Style.TONE if toned else Style.NORMAL
    got = pinyin(ch, style=style, errors="ignore")
    return got[0][0] if got and got[0] and got[0][0].isalpha() else None


def farm_decode(data: bytes) -> str:
    """Decode GBK like the farm: an invalid pair becomes one `?` and its second byte is swallowed."""
    out: list[str] = []
    i = 0
    while i < len(data):
        if data[i] < 0x80:
            out.append(chr(data[i]))
            i += 1
            continue
        try:
            out.append(data[i : i + 2].decode("gbk"))
        except UnicodeDecodeError:
            out.append("?")
        i += 2
    return "".join(out)


def annotate(text: str, rng: random.Random, rate: float) -> str:
    """Insert `(reading)` after random Han characters, with tone marks or without."""
    out: list[str] = []
    for ch in text:
        out.append(ch)
        if _is_han(ch) and rng.random() < rate:
            reading = _reading(ch, toned=rng.random() < 0.7)
            if reading:
                out.append(f"({reading})")
    return "".join(out)


@dataclass
class ByteDamage:
    kind: str
    char_index: int  # index in the text (before damage) of the character whose bytes were hit


def damage_bytes(text: str, rng: random.Random, kind: str) -> tuple[str, ByteDamage | None]:
    """Apply one byte-level accident to a Han character away from the ends of the text."""
    spots = [i for i, ch in enumerate(text) if _is_han(ch) and 2 <= i < len(text) - 3]
    if not spots:
        return text, None
    i = rng.choice(spots)
    head, ch, tail = text[:i].encode("gbk"), text[i].encode("gbk"), text[i + 1 :].encode("gbk")
    if kind == "delete":
        ch = ch[1:] if rng.random() < 0.5 else ch[:1]
    elif kind == "replace":
        ch = b"?" + ch[1:]
    elif kind == "split":
        reading = _reading(text[i - 1], toned=True) or "de"
        ch = ch[:1] + f"({reading})".encode("gbk") + ch[1:]
    else:
        raise ValueError(kind)
    return farm_decode(head + ch + tail), ByteDamage(kind, i)


def farm_text(clean: str, seed: int, pinyin_rate: float = 0.08) -> str:
    """Clean simplified text → traditional with pinyin annotations (no byte damage)."""
    rng = random.Random(seed)
    return annotate(_s2t().convert(clean), rng, pinyin_rate)


def damage(text: str, seed: int, byte_errors: int = 1, pinyin_rate: float = 0.08) -> str:
    """Damage clean simplified text like the content farm, reproducibly for a given seed."""
    rng = random.Random(seed)
    damaged = annotate(_s2t().convert(text), rng, pinyin_rate)
    for _ in range(byte_errors):
        damaged, _event = damage_bytes(damaged, rng, rng.choice(BYTE_DAMAGE_KINDS))
    return unicodedata.normalize("NFKC", damaged)


def repair_chain(text: str) -> str:
    """Run the text-repair steps in the cleaner's order (without chrome removal and whitespace tidy)."""
    from policykb.cleaning.mojibake import repair_mojibake
    from policykb.cleaning.pinyin import remove_pinyin
    from policykb.cleaning.punctuation import normalise_punctuation, restore_indent_spaces
    from policykb.cleaning.script import to_simplified

    for step in (repair_mojibake, remove_pinyin, restore_indent_spaces, to_simplified, normalise_punctuation):
        text = step(text).text
    return text
