"""Repair runs garbled by GBK byte misalignment: a lost, replaced or split byte shifts the decoding.

The content farm handled text as GBK bytes. Where one byte went missing (shown as `?`), or where it inserted a
pinyin annotation between the two bytes of a character, the decoder paired the wrong bytes until the stream
re-synchronised: `。《管理辦法》` came out as `?!豆芾磙k法》`. A decoder that meets a lead byte with an invalid
partner shows `?` and swallows the partner too, which is why the `(` of a following annotation disappears
(`實際` split by `(qū)` became `?qū)嶋H`).

The repair is a search: find suspicious windows (a `?` inside Chinese, characters rare in the frequency model,
stray Latin letters glued to Chinese), re-encode them to GBK bytes, try what the `?` may have been (one or two
lost bytes, a byte plus a swallowed `(` or `<`) or put back / take out a byte, decode, and keep the most
plausible Chinese only when it beats the damaged text by a clear margin. Otherwise the `?` becomes U+FFFD and
the run is reported as unrepaired.

Known limits: a deleted byte whose garbled run holds only common characters is not detected at all, and a
deleted byte combined with a `?` in the same run needs two edits, which the search does not try; where the
dictionary model cannot tell two readings apart (有/市 before 示范) the page's own vocabulary decides.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from policykb.cleaning.charfreq import char_log_prob, is_han, log_prob
from policykb.cleaning.script import t2s_char_table
from policykb.records import Change, CleanResult

MARKER = "\ufffd"
CODEC = "gbk"
RARE_CHAR_LOG_PROB = -11.5  # below this a Han character is rare enough to suspect (凝 ≈ -10, 芾 ≈ -12.5)
MARGIN = 12.0  # nats a repair must gain over the damaged text: roughly one implausible character
CONTEXT = 2  # characters either side of a window that are scored but never changed
PAD_LEFT = 2  # a lost byte can garble characters that still look common, just before the rare ones
PAD_RIGHT = 2
BEAM = 4
MAX_PUNCT_VARIANTS = 2  # ASCII punctuation that may have been full-width before NFKC, tried both ways
MAX_WINDOW = 24
CACHE_WEIGHT = 0.5  # a weak tie-breaker: the dictionary model must still do most of the work
CACHE_CAP = 2.0
ANNOTATION_WEIGHT = 4.0
FOREIGN_SCRIPT_COST = -6.0  # a simplified-only character in a traditional page (or the reverse) is suspect

# A `?` that stands for one byte stands for a lead byte (0x81..0xFE): a lost trail byte takes its lead byte
# with it, because the farm's decoder shows one `?` for an invalid pair.
LEAD_BYTE = tuple(range(0x81, 0xFF))
ANY_BYTE = tuple(range(0x20, 0x7F)) + LEAD_BYTE

PINYIN_TAIL = re.compile(r"[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê]{1,6}\)")
TAG_TAIL = re.compile(r"/?[A-Za-z][A-Za-z0-9]*[^<>\n]{0,40}>")
INDENT_RUN = re.compile(r"^[ \t\u3000]*\?{2,}", re.MULTILINE)
STRAY_LETTERS = re.compile(r"[A-Za-z]{1,2}")

SLOT = -1  # placeholder in a byte template for one unknown lead byte
ANY = -2  # placeholder for one unknown byte of any kind: a trail byte, or ASCII a decoder swallowed


@dataclass
class _Window:
    start: int
    end: int
    anchors: list[int]  # positions of suspicious characters
    holes: list[int]  # positions of `?` that may stand for lost bytes


def _gbk(ch: str) -> bytes | None:
    try:
        return ch.encode(CODEC)
    except UnicodeEncodeError:
        return None


def _fullwidth(ch: str) -> str | None:
    """The full-width form NFKC folds to this ASCII character, if any."""
    if ch == " ":
        return "\u3000"
    if "!" <= ch <= "~":
        return chr(ord(ch) + 0xFEE0)
    return None


def _in_dictionary_word(text: str, i: int) -> bool:
    """True when text[i] belongs to a known word of 2-4 characters around it (百舸 makes 舸 fine)."""
    from policykb.cleaning.charfreq import _jieba_dictionary, fold

    freq, _ = _jieba_dictionary()
    for length in (2, 3, 4):
        for start in range(i - length + 1, i + 1):
            if start >= 0 and start + length <= len(text):
                if freq.get(fold(text[start : start + length])):
                    return True
    return False


def _indent_positions(text: str) -> set[int]:
    """`?` runs at line starts: lost full-width indent spaces, the business of restore_indent_spaces."""
    return {i for m in INDENT_RUN.finditer(text) for i in range(m.start(), m.end()) if text[i] == "?"}


def _is_hole(text: str, i: int, indent: set[int]) -> bool:
    if text[i] != "?" or i in indent:
        return False
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if PINYIN_TAIL.match(text, i + 1) or TAG_TAIL.match(text, i + 1):
        return bool(prev) and not (prev.isascii() and prev.isalnum())
    return any(c and not c.isascii() and not c.isspace() for c in (prev, nxt))


def _anchors(text: str) -> tuple[list[int], list[int]]:
    """Positions of suspicious characters, and of the `?` among them that may be lost bytes."""
    indent = _indent_positions(text)
    anchors: list[int] = []
    holes: list[int] = []
    for i, ch in enumerate(text):
        if ch == "?":
            if _is_hole(text, i, indent):
                anchors.append(i)
                holes.append(i)
        elif is_han(ch):
            if char_log_prob(ch) < RARE_CHAR_LOG_PROB and not _in_dictionary_word(text, i):
                anchors.append(i)
        elif unicodedata.category(ch) in ("Co", "Cn", "So") and _gbk(ch) is not None:
            if (i > 0 and is_han(text[i - 1])) or (i + 1 < len(text) and is_han(text[i + 1])):
                anchors.append(i)
    for m in STRAY_LETTERS.finditer(text):
        s, e = m.start(), m.end()
        before = text[s - 1] if s > 0 else ""
        after = text[e] if e < len(text) else ""
        if (
            before.isascii()
            and (before.isalnum() or before in "(/.-_@")
            or (after.isascii() and after.isalnum())
        ):
            continue  # part of a longer Latin token, a URL or an annotation
        if after == ")" or PINYIN_TAIL.fullmatch(text, s, min(len(text), e + 1)):
            continue
        if is_han(before) or is_han(after):
            anchors.extend(range(s, e))
    return sorted(set(anchors)), holes


def _extent(text: str, i: int, is_hole: bool) -> int:
    """Where the damage signalled at text[i] ends: a hole may consume the annotation after it."""
    if is_hole:
        tail = PINYIN_TAIL.match(text, i + 1) or TAG_TAIL.match(text, i + 1)
        if tail:
            return tail.end()
    return i + 1


def _windows(text: str) -> list[_Window]:
    """Group nearby anchors into windows, padded, cut at line breaks and at characters GBK cannot encode."""
    anchors, holes = _anchors(text)
    hole_set = set(holes)
    groups: list[tuple[list[int], int]] = []  # anchors, end of their extent
    for a in anchors:
        end = _extent(text, a, a in hole_set)
        if groups and a <= groups[-1][1] + PAD_LEFT + PAD_RIGHT:
            groups[-1][0].append(a)
            groups[-1] = (groups[-1][0], max(groups[-1][1], end))
        else:
            groups.append(([a], end))
    out: list[_Window] = []
    for members, end in groups:
        lo, hi = members[0], end
        for _ in range(PAD_LEFT):
            if lo > 0 and text[lo - 1] != "\n" and _gbk(text[lo - 1]) is not None:
                lo -= 1
        for _ in range(PAD_RIGHT):
            if hi < len(text) and text[hi] != "\n" and _gbk(text[hi]) is not None:
                hi += 1
        encodable = all(_gbk(c) is not None and c != "\n" for c in text[lo:hi])
        if not encodable or hi - lo > MAX_WINDOW:
            continue
        if MARKER in text[max(0, lo - 1) : hi + 1]:
            continue  # already marked as unrepairable by an earlier pass
        out.append(_Window(lo, hi, members, [h for h in members if h in hole_set]))
    return out


def _hole_templates(text: str, i: int, pair_possible: bool) -> list[tuple[list[int], int]]:
    """What a `?` at text[i] may have been: (byte template, number of following characters it consumes)."""
    templates: list[tuple[list[int], int]] = [([0x3F], 0), ([0xA3, 0xBF], 0)]
    tail = PINYIN_TAIL.match(text, i + 1)
    if tail:
        # `qū)` with no `(`: a lead byte swallowed the `(`. The annotation was either genuine (keep it) or
        # was inserted between the two bytes of a character (drop it, and the bytes rejoin).
        templates.append(([SLOT, 0x28], 0))
        templates.append(([SLOT], tail.end() - i - 1))
    elif TAG_TAIL.match(text, i + 1):
        templates.append(([SLOT, 0x3C], 0))  # `/span>` with no `<`: the `<` was swallowed
    else:
        templates.append(([SLOT], 0))  # a lead byte replaced by `?`
        if pair_possible:
            templates.append(([SLOT, ANY], 0))  # an invalid pair in a misaligned stream, shown as one `?`
    return templates


def _decode(data: bytes) -> str | None:
    try:
        return data.decode(CODEC)
    except UnicodeDecodeError:
        return None


def _decode_lenient(data: bytes) -> str:
    return data.decode(CODEC, errors="replace")


def _punct_variants(text: str, w: _Window) -> list[dict[int, bytes]]:
    """Byte choices for ASCII punctuation next to a hole or an oddity: as typed, or the full-width form NFKC
    folded (`?!豆` was `?` + `！`, and the lost byte paired with the first byte of `！`)."""
    anchors = set(w.anchors)
    positions = [
        i
        for i in range(w.start, w.end)
        if i not in anchors
        and not text[i].isalnum()
        and _fullwidth(text[i])
        and ((i - 1) in anchors or ((i + 1) in anchors and (i + 1) not in w.holes))
    ][:MAX_PUNCT_VARIANTS]
    variants: list[dict[int, bytes]] = []
    for choice in itertools.product((False, True), repeat=len(positions)):
        variant: dict[int, bytes] = {}
        for pos, wide in zip(positions, choice, strict=True):
            encoded = _gbk(_fullwidth(text[pos]) or "") if wide else None
            if encoded:
                variant[pos] = encoded
        variants.append(variant)
    return variants


@cache
def _simplified_only() -> frozenset[str]:
    """Simplified characters whose traditional form differs (离, 开): foreign in a traditional text."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "STCharacters.txt"
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        if source and source not in targets.split():
            out.add(source)
    return frozenset(out)


@cache
def _traditional_only() -> frozenset[str]:
    return frozenset(t for t, s in t2s_char_table().items() if t not in s)


def _foreign_script(text: str) -> frozenset[str]:
    """The characters of the script the document does not use; misdecoded bytes do not respect script."""
    simplified, traditional = _simplified_only(), _traditional_only()
    n_simplified = sum(ch in simplified for ch in text)
    n_traditional = sum(ch in traditional for ch in text)
    if n_traditional >= 3 * n_simplified + 5:
        return simplified
    if n_simplified >= 3 * n_traditional + 5:
        return traditional
    return frozenset()


@dataclass(frozen=True)
class _Document:
    """What the whole page tells about one window: its script and the characters it uses elsewhere."""

    foreign: frozenset[str] = frozenset()
    counts: Counter[str] = field(default_factory=Counter)


_DOCUMENT: ContextVar[_Document | None] = ContextVar("document", default=None)


def _score(left: str, middle: str, right: str) -> float:
    """Plausibility of a re-decoded window: language model, script consistency, the page's own vocabulary.

    The vocabulary bonus is a cache model: a page reuses its characters (入 in 入學, 入園 ... makes 入口 more
    likely than 半空 where the dictionary alone cannot tell them apart).
    """
    doc = _DOCUMENT.get() or _Document()
    bonus = 0.0
    for ch in middle:
        if ch in doc.foreign:
            bonus += FOREIGN_SCRIPT_COST
        elif not ch.isascii():
            bonus += min(CACHE_CAP, CACHE_WEIGHT * math.log1p(doc.counts.get(ch, 0)))
    return _log_prob(left + middle + right) + bonus + _annotation_evidence(left + middle + right)


ANNOTATED = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff])\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê]{1,6})\)")


@lru_cache(maxsize=65536)
def _annotation_evidence(text: str) -> float:
    """A pinyin annotation tells which character precedes it: 區(qū) confirms 區 and speaks against 过(qū)."""
    from policykb.cleaning.pinyin import is_reading

    return sum(
        ANNOTATION_WEIGHT if is_reading(m.group(1), m.group(2)) else -ANNOTATION_WEIGHT
        for m in ANNOTATED.finditer(text)
    )


@lru_cache(maxsize=65536)
def _log_prob(text: str) -> float:
    return log_prob(text)


Choices = dict[int, tuple[tuple[int, ...], int]]  # hole position → (byte template, characters consumed)


def _search_holes(
    text: str, w: _Window, punct: dict[int, bytes], left: str, right: str
) -> list[tuple[float, str]]:
    """Beam search over what each `?` was, left to right, one unknown byte at a time."""

    def build(choices: Choices) -> bytes:
        out = bytearray()
        i = w.start
        while i < w.end:
            if i in choices:
                template, skip = choices[i]
                out.extend(0x3F if b < 0 else b for b in template)  # unfilled slots stay invalid for now
                i += 1 + skip
                continue
            out.extend(punct.get(i) or _gbk(text[i]) or b"?")
            i += 1
        return bytes(out)

    def consumed(choices: Choices, hole: int) -> bool:
        return any(h < hole <= h + skip for h, (_, skip) in choices.items())

    beam: list[tuple[float, Choices]] = [(0.0, {})]
    for hole in w.holes:
        states: list[tuple[float, Choices]] = []
        for score, choices in beam:
            if consumed(choices, hole):
                states.append((score, choices))  # the `?` sat inside an annotation an earlier hole dropped
                continue
            for template, skip in _hole_templates(text, hole, len(w.anchors) > 1):
                trial = dict(choices)
                trial[hole] = (tuple(template), skip)
                states.append((0.0, trial))
        # Fill the unknown bytes of this hole one at a time, pruning to the best few after each byte.
        while True:
            expanded: list[tuple[float, Choices]] = []
            pending = False
            for _, choices in states:
                filled, skip = choices.get(hole, ((), 0))
                k = next((k for k, b in enumerate(filled) if b < 0), None)
                if k is None:
                    expanded.append((_score(left, _decode_lenient(build(choices)), right), choices))
                    continue
                pending = True
                for b in LEAD_BYTE if filled[k] == SLOT else ANY_BYTE:
                    if filled[k] == ANY and k > 0 and _decode(bytes((filled[k - 1], b))) is not None:
                        continue  # a valid pair would have decoded as a character, not as `?`
                    trial = dict(choices)
                    trial[hole] = (filled[:k] + (b,) + filled[k + 1 :], skip)
                    expanded.append((_score(left, _decode_lenient(build(trial)), right), trial))
            expanded.sort(key=lambda item: -item[0])
            states = _prune_per_shape(_dedupe(expanded), hole)
            if not pending:
                break
        beam = states[: 2 * BEAM]
    results = []
    for _, choices in beam:
        decoded = _decode(build(choices))
        if decoded is not None:
            results.append((_score(left, decoded, right), decoded))
    return results


def _prune_per_shape(items: list[tuple[float, Choices]], hole: int) -> list[tuple[float, Choices]]:
    """Keep the best few of each kind of guess for this hole, so that a guess still missing a byte (scored
    with a placeholder) does not crowd out complete ones, or the reverse."""
    kept: dict[tuple, int] = {}
    out = []
    for score, choices in items:
        template, skip = choices.get(hole, ((), 0))
        shape = (
            len(template),
            skip,
            template[1:] if len(template) == 2 and template[1] in (0x28, 0x3C) else None,
        )
        if kept.get(shape, 0) < BEAM:
            kept[shape] = kept.get(shape, 0) + 1
            out.append((score, choices))
    return out


def _dedupe(items: list[tuple[float, Choices]]) -> list[tuple[float, Choices]]:
    seen: set[tuple] = set()
    out = []
    for score, choices in items:
        key = tuple(sorted((k, v) for k, v in choices.items()))
        if key not in seen:
            seen.add(key)
            out.append((score, choices))
    return out


def _search_shifts(
    text: str, w: _Window, punct: dict[int, bytes], left: str, right: str
) -> list[tuple[float, str]]:
    """Put back one lost lead byte, or take out one extra byte, at every offset of the window."""
    data = b"".join(punct.get(i) or _gbk(text[i]) or b"?" for i in range(w.start, w.end))
    results = []
    for k in range(len(data) + 1):
        for b in LEAD_BYTE:
            decoded = _decode(data[:k] + bytes([b]) + data[k:])
            if decoded is not None:
                results.append((_score(left, decoded, right), decoded))
        if k < len(data) and data[k] >= 0x80:
            decoded = _decode(data[:k] + data[k + 1 :])
            if decoded is not None:
                results.append((_score(left, decoded, right), decoded))
    return results


def _best_repair(text: str, w: _Window) -> tuple[str, float, float]:
    """The most plausible re-decoding of the window, its score, and the damaged window's score."""
    left = text[max(0, w.start - CONTEXT) : w.start]
    right = text[w.end : w.end + CONTEXT]
    original = text[w.start : w.end]
    base = _score(left, original, right)
    candidates: list[tuple[float, str]] = []
    for punct in _punct_variants(text, w):
        if w.holes:
            candidates += _search_holes(text, w, punct, left, right)
        else:
            candidates += _search_shifts(text, w, punct, left, right)
    best_text, best_score = original, base
    for _, decoded in candidates:
        repaired = _normalise_candidate(original, decoded)
        score = _score(left, repaired, right)
        if score > best_score:
            best_text, best_score = repaired, score
    return best_text, best_score, base


def _normalise_candidate(original: str, decoded: str) -> str:
    """NFKC the re-decoded part only, as the farm did, leaving untouched text exactly as it was."""
    p = 0
    while p < min(len(original), len(decoded)) and original[p] == decoded[p]:
        p += 1
    s = 0
    while s < min(len(original), len(decoded)) - p and original[-1 - s] == decoded[-1 - s]:
        s += 1
    middle = decoded[p : len(decoded) - s]
    return decoded[:p] + unicodedata.normalize("NFKC", middle) + decoded[len(decoded) - s :]


def _trimmed_change(kind: str, before: str, after: str, offset: int) -> Change:
    p = 0
    while p < min(len(before), len(after)) and before[p] == after[p]:
        p += 1
    s = 0
    while s < min(len(before), len(after)) - p and before[-1 - s] == after[-1 - s]:
        s += 1
    return Change(kind, before[p : len(before) - s], after[p : len(after) - s], offset + p)


def _is_strong_damage(text: str, w: _Window) -> bool:
    """Enough evidence to mark a run we could not repair.

    A lone `?` between Chinese characters may be a real question mark (活力?如何), but not one that stands
    next to another `?`, before a bracketless annotation, or among rare characters and stray letters.
    """
    oddities = [a for a in w.anchors if a not in w.holes]
    if len(oddities) >= 2 or (oddities and w.holes):
        return True
    return any(
        (h + 1 < len(text) and text[h + 1] == "?")
        or PINYIN_TAIL.match(text, h + 1)
        or TAG_TAIL.match(text, h + 1)
        for h in w.holes
    )


def _mark(text: str, w: _Window) -> str:
    chars = list(text[w.start : w.end])
    if w.holes:
        for h in w.holes:
            chars[h - w.start] = MARKER
    else:
        chars.insert(w.anchors[0] - w.start, MARKER)
    return "".join(chars)


def repair_mojibake(text: str) -> CleanResult:
    """Re-decode GBK-misaligned runs; Change(kind="mojibake") per repair, "mojibake_unrepaired" per marker."""
    token = _DOCUMENT.set(_Document(_foreign_script(text), Counter(text)))
    try:
        return _repair(text)
    finally:
        _DOCUMENT.reset(token)


def _repair(text: str) -> CleanResult:
    changes: list[Change] = []
    pieces: list[str] = []
    cursor = 0
    for w in _windows(text):
        original = text[w.start : w.end]
        repaired, score, base = _best_repair(text, w)
        if repaired != original and score - base >= MARGIN:
            change = _trimmed_change("mojibake", original, repaired, w.start)
            note = f"gain {score - base:.1f}"
        elif _is_strong_damage(text, w):
            repaired = _mark(text, w)
            change = _trimmed_change("mojibake_unrepaired", original, repaired, w.start)
            note = "no plausible re-decoding"
        else:
            continue
        change.note = note
        changes.append(change)
        pieces.append(text[cursor : w.start])
        pieces.append(repaired)
        cursor = w.end
    pieces.append(text[cursor:])
    return CleanResult("".join(pieces), changes)
