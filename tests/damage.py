"""Damage clean Chinese text the way the content farm did, to test that cleaning restores it.

What the real pages show (corpus 000 and 003, checked byte for byte in test_damaged_pages.py):

1. The farm pushed simplified text to traditional (OpenCC s2t, full-width punctuation kept).
2. It chose a list of traditional characters and annotated EVERY occurrence with its toned reading by a
   byte-level search and replace on the GBK bytes: gbk("區") → gbk("區(qū)"). The search also matches across
   a character boundary: `域實` is d3 f2 | 8c 8d, and f2 8c is 驅, so `(qū)` lands between the two bytes of 實.
   Likewise `詢入` (d4 83 | c8 eb) holds 內 (83 c8), so `入` was split by `(nèi)`.
3. In a few places a lead byte became `?` (`確保` b4 5f | b1 a3 → b4 5f 3f a3: `確?!皯`).
4. It decoded the bytes with a decoder that shows an invalid pair as one `?` and consumes both bytes, so a split
   character's lead byte swallows the `(` of the annotation (`?qū)`), and a shifted run swallows the first ASCII
   byte it meets (`?chuàng)`, `?/span>`) or re-synchronises on a trail byte that is ASCII (`嶋H`, `磙k`).
5. NFKC on the result: `！` → `!`, `，` → `,`.

A silent byte deletion (no `?`) is not something the farm did; `delete_lead_byte` exists only to measure it.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from functools import cache

CODEC = "gbk"
ANNOTATED_SHARE = 0.25  # 000 annotates 51 of its 188 converted character types, 003 27 of 155
# Off-page characters in the list: calibrated so that a page of 4000 characters gets a handful of split
# characters, as 000 (4 in 4084 characters) and 003 (1 in 3206) did.
OFF_PAGE_SHARE = 0.02
QUESTION_RATE = 1 / 4000  # lead bytes turned into `?`: one or two on a page of a few thousand characters


@cache
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified → traditional, as the farm did (OpenCC's phrase-level s2t)."""
    return _s2t().convert(text)


WIDE_PUNCTUATION = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}


def to_fullwidth_punctuation(text: str) -> str:
    """Undo NFKC on punctuation beside Chinese text: the farm's input had `，` where the corpus shows `,`.

    (`?!豆芾` shows that `！` was full-width when the bytes were damaged: its first byte a3 paired with a lost one.)
    """
    out = []
    for i, ch in enumerate(text):
        wide = WIDE_PUNCTUATION.get(ch)
        near = text[max(0, i - 1) : i] + text[i + 1 : i + 2]
        if wide and any(not c.isascii() for c in near):
            out.append(wide)
        else:
            out.append(ch)
    return "".join(out)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _reading(ch: str, toned: bool = True) -> str | None:
    from pypinyin import Style, pinyin

    style = Style.TONE if toned else Style.NORMAL
    got = pinyin(ch, style=style, errors="ignore")
    return got[0][0] if got and got[0] and got[0][0].isalpha() else None


@cache
def _traditional_only() -> tuple[str, ...]:
    """Traditional characters that differ from their simplified form and that GBK encodes: the farm's pool."""
    from policykb.cleaning.script import t2s_char_table

    out = []
    for t, simplified in sorted(t2s_char_table().items()):
        if t in simplified or not _is_han(t):
            continue
        try:
            if len(t.encode(CODEC)) == 2 and _reading(t):
                out.append(t)
        except UnicodeEncodeError:
            continue
    return tuple(out)


def farm_table(
    rng: random.Random, page: str, share: float = ANNOTATED_SHARE, elsewhere: float = OFF_PAGE_SHARE
) -> dict[str, str]:
    """The farm's annotation list: a share of the page's traditional-only characters and a few others.

    The list is not limited to the page's characters: 驅 never occurs in 000, yet its bytes split 實 there.
    """
    present = set(page)
    pool = [ch for ch in _traditional_only() if rng.random() < (share if ch in present else elsewhere)]
    rng.shuffle(pool)  # the farm's replace passes run in some order; it matters where matches overlap
    return {ch: _reading(ch) or "" for ch in pool}


def farm_decode(data: bytes) -> str:
    """Decode GBK like the farm: an invalid pair becomes one `?` and its second byte is swallowed."""
    return "".join(piece for piece, _ in _farm_pieces(data))


def _farm_pieces(data: bytes) -> list[tuple[str, int]]:
    """farm_decode's output character by character, each with the index of its first byte."""
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(data):
        if data[i] < 0x80:
            out.append((chr(data[i]), i))
            i += 1
            continue
        try:
            out.append((data[i : i + 2].decode(CODEC), i))
        except UnicodeDecodeError:
            out.append(("?", i))
        i += 2
    return out


def farm_decode_nfkc(data: bytes) -> tuple[str, list[int]]:
    """farm_decode then NFKC, and for each byte the offset in the result of the character it ended up in."""
    text: list[str] = []
    where = [0] * (len(data) + 1)
    length = 0
    pieces = _farm_pieces(data)
    for k, (piece, start) in enumerate(pieces):
        end = pieces[k + 1][1] if k + 1 < len(pieces) else len(data)
        for b in range(start, end):
            where[b] = length
        shown = unicodedata.normalize("NFKC", piece)
        text.append(shown)
        length += len(shown)
    where[len(data)] = length
    return "".join(text), where


# Who owns each byte of the stream being damaged: the index of a character of the traditional text, or -1 for
# bytes the farm added (annotations).
ADDED = -1


@dataclass
class Site:
    """One damaged run: which character's bytes were hit, how, and the characters the shifted decoding garbled."""

    kind: str  # "split" (an annotation between the two bytes), "question" (lead byte → `?`), "delete"
    char: int  # index into the traditional text
    span: tuple[int, int] = (0, 0)  # traditional characters [start, end) whose decoding the run changed
    shown: int = 0  # where the run starts in the damaged text


@dataclass
class FarmPage:
    """A damaged page and what was done to it."""

    traditional: str  # the traditional text before annotation and byte damage
    damaged: str  # what the scrape shows (NFKC applied)
    sites: list[Site] = field(default_factory=list)


def _stream(text: str) -> tuple[bytearray, list[int], list[int]]:
    """GBK bytes of text, and for each byte its character index and its position inside the character."""
    data = bytearray()
    owner: list[int] = []
    part: list[int] = []
    for k, ch in enumerate(text):
        encoded = ch.encode(CODEC)
        data += encoded
        owner += [k] * len(encoded)
        part += list(range(len(encoded)))
    return data, owner, part


def annotate_bytes(
    data: bytearray, owner: list[int], part: list[int], table: dict[str, str]
) -> tuple[bytearray, list[int], list[int], list[Site]]:
    """The farm's annotation: for each listed character, replace its bytes by its bytes + `(reading)`."""
    splits: list[Site] = []
    for ch, reading in table.items():
        needle = ch.encode(CODEC)
        hits = []
        j = data.find(needle)
        while j >= 0:
            hits.append(j)
            j = data.find(needle, j + len(needle))
        if not hits:
            continue
        added = f"({reading})".encode(CODEC)
        new_data, new_owner, new_part = bytearray(), [], []
        cursor = 0
        for j in hits:
            end = j + len(needle)
            new_data += data[cursor:end]
            new_owner += owner[cursor:end]
            new_part += part[cursor:end]
            new_data += added
            new_owner += [ADDED] * len(added)
            new_part += list(range(len(added)))
            cursor = end
            if end < len(data) and owner[j] != owner[end - 1] and owner[end] == owner[end - 1] != ADDED:
                splits.append(Site("split", owner[end - 1]))  # matched across a boundary: a character split
        new_data += data[cursor:]
        new_owner += owner[cursor:]
        new_part += part[cursor:]
        data, owner, part = new_data, new_owner, new_part
    return data, owner, part, splits


def question_lead_bytes(
    data: bytearray, owner: list[int], part: list[int], rng: random.Random, count: int
) -> list[Site]:
    """Turn the lead byte of `count` random two-byte characters into `?`."""
    leads = [
        j
        for j in range(len(data) - 1)
        if owner[j] != ADDED and part[j] == 0 and data[j] >= 0x80 and owner[j + 1] == owner[j]
    ]
    sites = []
    for j in sorted(rng.sample(leads, min(count, len(leads)))):
        data[j] = 0x3F
        sites.append(Site("question", owner[j]))
    return sites


def delete_lead_byte(data: bytearray, owner: list[int], part: list[int], rng: random.Random) -> Site:
    """Drop the lead byte of one random two-byte character, silently: not the farm's damage, measured apart."""
    leads = [j for j in range(len(data) - 1) if owner[j] != ADDED and part[j] == 0 and data[j] >= 0x80]
    j = rng.choice(leads)
    site = Site("delete", owner[j])
    del data[j], owner[j], part[j]
    return site


def _spans(data: bytes, owner: list[int], part: list[int]) -> dict[int, tuple[int, int]]:
    """For each damaged character, the characters the misaligned decoding garbled, found by decoding."""
    spans: dict[int, tuple[int, int]] = {}
    i = 0
    while i < len(data):
        aligned = owner[i] == ADDED or part[i] == 0
        if aligned or data[i] < 0x80:
            i += 1 if data[i] < 0x80 else 2
            continue
        # A misaligned read starts here: follow it until a read starts on a character boundary again.
        first = owner[i]
        last = first
        while i < len(data) and not (part[i] == 0 or owner[i] == ADDED):
            if owner[i] != ADDED:
                last = max(last, owner[i])
            step = 1 if data[i] < 0x80 else 2
            if step == 2 and i + 1 < len(data) and owner[i + 1] != ADDED:
                last = max(last, owner[i + 1])
            i += step
        spans[first] = (first, last + 1)
    return spans


def farm_segment(traditional: str, table: dict[str, str], question: int | None = None) -> str:
    """Damage a traditional segment with a given annotation list (and the lead byte of text[question] → `?`)."""
    data, owner, part = _stream(traditional)
    data, owner, part, _ = annotate_bytes(data, owner, part, table)
    if question is not None:
        j = next(j for j in range(len(data)) if owner[j] == question and part[j] == 0)
        data[j] = 0x3F
    return unicodedata.normalize("NFKC", farm_decode(bytes(data)))


def farm_page(
    clean: str,
    seed: int,
    share: float = ANNOTATED_SHARE,
    questions: int | None = None,
    delete: bool = False,
) -> FarmPage:
    """Damage a clean simplified page like the content farm, reproducibly for a seed."""
    rng = random.Random(seed)
    traditional = to_traditional(to_fullwidth_punctuation(clean))
    data, owner, part = _stream(traditional)
    data, owner, part, sites = annotate_bytes(data, owner, part, farm_table(rng, traditional, share))
    if questions is None:
        questions = max(1, round(len(traditional) * QUESTION_RATE))
    sites += question_lead_bytes(data, owner, part, rng, questions)
    if delete:
        sites.append(delete_lead_byte(data, owner, part, rng))
    spans = _spans(bytes(data), owner, part)
    damaged, where = farm_decode_nfkc(bytes(data))
    first_byte = {}
    for j, k in enumerate(owner):
        if k != ADDED and k not in first_byte:
            first_byte[k] = j
    for site in sites:
        site.shown = where[first_byte.get(site.char, 0)]
        # The run starts at the damaged character; find the misaligned read that begins in it.
        site.span = next(
            (span for first, span in spans.items() if site.char <= first <= site.char + 1),
            (site.char, site.char + 1),
        )
        site.span = (min(site.span[0], site.char), site.span[1])
    sites.sort(key=lambda s: s.char)
    return FarmPage(traditional, damaged, sites)


def annotate(text: str, rng: random.Random, rate: float) -> str:
    """Insert `(reading)` after random Han characters, with tone marks or without (002's kind, no byte damage)."""
    out: list[str] = []
    for ch in text:
        out.append(ch)
        if _is_han(ch) and rng.random() < rate:
            reading = _reading(ch, toned=rng.random() < 0.7)
            if reading:
                out.append(f"({reading})")
    return "".join(out)


def farm_text(clean: str, seed: int, pinyin_rate: float = 0.08) -> str:
    """Clean simplified text → traditional with random pinyin annotations (no byte damage)."""
    rng = random.Random(seed)
    return annotate(to_traditional(clean), rng, pinyin_rate)


def damage(text: str, seed: int, pinyin_rate: float = 0.08) -> str:
    """Traditional + random pinyin + NFKC, reproducibly for a seed (no byte damage)."""
    return unicodedata.normalize("NFKC", farm_text(text, seed, pinyin_rate))


def repair_chain(text: str) -> str:
    """Run the text-repair steps in the cleaner's order (without chrome removal and whitespace tidy)."""
    from policykb.cleaning.mojibake import repair_mojibake
    from policykb.cleaning.pinyin import remove_pinyin
    from policykb.cleaning.punctuation import normalise_punctuation, restore_indent_spaces
    from policykb.cleaning.script import to_simplified

    for step in (repair_mojibake, remove_pinyin, restore_indent_spaces, to_simplified, normalise_punctuation):
        text = step(text).text
    return text


@dataclass
class Outcomes:
    """How the repair did on each damaged run of a page, and edits that touch no damaged run."""

    restored: int = 0
    marked: int = 0
    wrong: int = 0
    stray: list[tuple[str, str]] = field(default_factory=list)  # (expected, got) away from any damaged run
    wrong_runs: list[tuple[str, str]] = field(default_factory=list)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # site kind → verdict → count

    def __iadd__(self, other: Outcomes) -> Outcomes:
        self.restored += other.restored
        self.marked += other.marked
        self.wrong += other.wrong
        self.stray += other.stray
        self.wrong_runs += other.wrong_runs
        for kind, verdicts in other.by_kind.items():
            mine = self.by_kind.setdefault(kind, {})
            for verdict, n in verdicts.items():
                mine[verdict] = mine.get(verdict, 0) + n
        return self

    @property
    def runs(self) -> int:
        return self.restored + self.marked + self.wrong


def _nfkc_offsets(text: str) -> list[int]:
    """Offset in NFKC(text) of each character of text (NFKC works character by character on this text)."""
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + len(unicodedata.normalize("NFKC", ch)))
    return offsets


def score_page(clean: str, page: FarmPage, cleaned: str, marker: str = "\ufffd") -> Outcomes:
    """Compare a cleaned page with the clean original, run by run."""
    import difflib

    from policykb.cleaning.punctuation import fold_for_matching

    # The cleaner writes GB/T punctuation; the fold (one character for one) puts it back in NFKC's form.
    cleaned = fold_for_matching(cleaned)
    expected = unicodedata.normalize("NFKC", clean)
    offsets = _nfkc_offsets(clean)
    assert len(page.traditional) == len(clean), "s2t kept the length"
    spans = [(offsets[s.span[0]], offsets[s.span[1]]) for s in page.sites]
    verdicts = ["restored"] * len(spans)
    out = Outcomes()
    matcher = difflib.SequenceMatcher(None, expected, cleaned, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        hit = [
            k
            for k, (s, e) in enumerate(spans)
            if (s <= i1 < e or s < i2 <= e or i1 <= s < i2 or s == i1 == i2)
        ]
        hit = hit or [k for k, (s, e) in enumerate(spans) if i1 == i2 == e]
        got = cleaned[j1:j2]
        if not hit:
            out.stray.append((expected[i1:i2], got))
        for k in hit:
            if marker in got:
                verdicts[k] = "marked" if verdicts[k] != "wrong" else "wrong"
            else:
                verdicts[k] = "wrong"
                s, e = spans[k]
                out.wrong_runs.append((expected[s - 2 : e + 2], cleaned[max(0, j1 - 4) : j2 + 4]))
    for site, v in zip(page.sites, verdicts, strict=True):
        setattr(out, v, getattr(out, v) + 1)
        kind = out.by_kind.setdefault(site.kind, {})
        kind[v] = kind.get(v, 0) + 1
    return out
