"""Repair runs garbled by GBK byte misalignment, by re-decoding them under the content farm's own mechanism.

How the farm garbled text (reproduced byte for byte by tests/damage.py on all six runs of corpus 000 and 003):
it annotated characters by search-and-replace on GBK bytes (gbk("驅") → gbk("驅(qū)")), which also matched across
character boundaries (`域實` is d3 f2 | 8c 8d, and f2 8c is 驅), so an annotation could land between the two
bytes of a character; elsewhere a lead byte became `?`. Its decoder showed an invalid pair as one `?` and
consumed both bytes, so every damaged run

- starts with `?`: the lead byte L of a character, paired with the swallowed `(` of a spliced annotation (whose
  tail `qū)` follows) or replaced outright;
- continues with characters read one byte late: each shown character is the trail byte of one original
  character followed by the lead byte of the next;
- ends where the reading re-aligns: on a trail byte that is ASCII (`嶋H`), on an ASCII byte it swallowed (the
  `(` of the next annotation or `<` of a tag: `?chuàng)`, `?/span>`; a digit or a line break), and it may pass
  through `?` where a shifted pair happened to be invalid, or through an annotation spliced again further on
  (shown right after the character it was matched on: `壗(jìn)`);
- was then NFKC-normalised (`！` shows as `!`).

The repair walks that model from each `?`: a beam search over the unknown bytes (the lost lead, and the two
halves of any `?` inside or at the end of the run), scored by a word-level language model (jieba's dictionary)
over the re-decoded run and its context, plus what the page itself says: the characters and bigrams it uses
elsewhere, its script (traditional or simplified), which characters it annotates everywhere, and the reading of
the spliced annotation (`qū` after 域 says f2 + L reads qū: L is 8c, so the split character is 實). A repair is
kept only when it beats the damaged text by a clear margin and no different repair comes close; a run that is
certainly damaged but not clearly repairable gets U+FFFD in place of its `?` and a mojibake_unrepaired entry.

Known limits: a byte lost without any `?` (not something the farm did) is not detected; a swallowed digit
cannot be told from another (`?0%`), nor `、` from `。` where both read well, so such runs are marked.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache

from policykb.cleaning.charfreq import char_log_prob, fold, is_han, log_prob, word_frequencies
from policykb.cleaning.script import t2s_char_table
from policykb.records import Change, CleanResult

MARKER = "\ufffd"
CODEC = "gbk"

CONTEXT = 3  # characters either side of a run that are scored but never changed
MARGIN = 10.0  # nats a repair must gain over the damaged text
AMBIGUITY = 1.5  # nats by which the best repair must beat a different one; otherwise mark, do not guess
BEAM = 24  # partial re-decodings kept after each character
PRESELECT = 24  # candidate characters at a `?` ranked cheaply before the language model scores the best
HOLE_STATES = 8  # partial runs expanded at a `?` (the others are far behind)
LEADS_PER_READING = 3  # lead bytes kept at a `?` for each reading of the character shown after it
PER_END = 8  # repairs ending at the same place that the final scoring compares
TRAIL_BEAM = 6  # trail bytes tried for the character completed at a `?` inside or at the end of a run
SEARCH_CONTEXT = 6  # characters looked back at when the search scores one more character
MAX_RUN = 40  # characters a misaligned run may span before the hypothesis is dropped

SPLICE_EVIDENCE = 14.0  # the spliced annotation spells a reading of the byte pair it was matched on
ANNOTATION_WEIGHT = 6.0  # an annotation that spells (or does not spell) a reading of the character before it
MISSING_ANNOTATION_COST = -8.0  # a character the page annotates everywhere, shown here without annotation
FOREIGN_SCRIPT_COST = -6.0  # a simplified-only character in a traditional page, or the reverse
CHAR_CACHE_WEIGHT, CHAR_CACHE_CAP = 0.5, 2.0  # the page reuses its characters
BIGRAM_CACHE_WEIGHT, BIGRAM_CACHE_CAP = 1.5, 4.0  # and, more tellingly, its words
WORD_COST = -2.0  # per Chinese token, so that words beat runs of unrelated common characters
PUNCTUATION_CLASH_COST = -8.0
UNBALANCED_COST = -6.0  # a bracket or quote the line never closes, or closes without opening
MARK_REACH = 10.0  # re-decodings this close to the best decide how far an unrepaired run is marked
LINE_BREAK_COST = -2.0  # a paragraph break after a sentence-final mark
ODD_LINE_BREAK_COST = -14.0  # a paragraph break in mid-sentence
HEADING_LENGTH = 40  # a line this short without a comma or full stop is a heading

LEADS = tuple(range(0x81, 0xFF))
PAIR_TRAILS = tuple(range(0x80, 0xFF))  # a trail byte the decoder read as a lead, so it showed `?`, not ASCII
SWALLOWED = "\n0123456789 "  # ASCII bytes below 0x40 a misaligned run may swallow, besides `(` and `<`
SENTENCE_END = set("。；：！？!?;:")
CLAUSE_MARKS = set("，、。；：？！,;:?!")  # two in a row (`,,` or `，、`) do not occur in prose
OPENERS = set("（《【〔“‘〈「『")  # nor does one of these right before a clause mark

PINYIN = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê"
PINYIN_TAIL = re.compile(rf"([{PINYIN}]{{1,6}})\)")
TAG_TAIL = re.compile(r"/?[A-Za-z][A-Za-z0-9]*[^<>\n]{0,40}>")
ANNOTATED = re.compile(rf"([\u3400-\u4dbf\u4e00-\u9fff])\(([{PINYIN}]{{1,6}})\)")
ANNOTATION_AT = re.compile(rf"\(([{PINYIN}]{{1,6}})\)")
ANNOTATION_BEFORE = re.compile(rf"[\u3400-\u4dbf\u4e00-\u9fff]\([{PINYIN}]{{1,6}}\)$")
LIST_MARKER = re.compile(
    r"\d{1,2}[.、]|[(（][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、|第[一二三四五六七八九十百\d]+[条章节]"
)
INDENT_RUN = re.compile(r"^[ \t\u3000]*\?{2,}", re.MULTILINE)
# A page title is often stored as `TITLE_SITE` or `TITLE | SITE`: a question mark right before that separator, with
# only a short site name after it to the end of the line, ends the headline (`能跨越的?_風聞`), whereas the farm's
# damage shows a trail byte such as `_` inside running text.
TITLE_SUFFIX = re.compile(r"[ \t]*[_|][ \t]*[^\s。，,;；:：!！?？]{1,16}[ \t]*$", re.MULTILINE)


# --- GBK tables -------------------------------------------------------------------------------------------


@cache
def _pairs() -> dict[int, dict[int, str]]:
    """Every valid two-byte GBK character, by lead byte then trail byte."""
    table: dict[int, dict[int, str]] = {}
    for lead in LEADS:
        row = {}
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF)):
            try:
                row[trail] = bytes((lead, trail)).decode(CODEC)
            except UnicodeDecodeError:
                continue
        table[lead] = row
    return table


@cache
def _nfkc_sources() -> dict[str, tuple[tuple[str, int, int], ...]]:
    """What NFKC made of two-byte GBK characters (`！` → `!`), by first character: (shown text, lead, trail)."""
    found: dict[str, list[tuple[str, int, int]]] = {}
    for lead, row in _pairs().items():
        for trail, ch in row.items():
            shown = unicodedata.normalize("NFKC", ch)
            if shown and shown != ch:
                found.setdefault(shown[0], []).append((shown, lead, trail))
    return {k: tuple(v) for k, v in found.items()}


@lru_cache(maxsize=65536)
def _gbk(ch: str) -> bytes | None:
    try:
        return ch.encode(CODEC)
    except UnicodeEncodeError:
        return None


def _byte_pairs(text: str, i: int) -> list[tuple[int, int, int]]:
    """The two-byte GBK characters text[i:] may show: (lead, trail, characters shown) for each reading."""
    out = []
    encoded = _gbk(text[i])
    if encoded is not None and len(encoded) == 2:
        out.append((encoded[0], encoded[1], 1))
    for shown, lead, trail in _nfkc_sources().get(text[i], ()):
        if text.startswith(shown, i):
            out.append((lead, trail, len(shown)))
    return out


@cache
def _readings(ch: str) -> frozenset[str]:
    """Every reading of a character or its simplified forms, with tone marks and without (ü also as v).

    pypinyin's character table read directly: the search asks this of thousands of candidate characters.
    """
    from pypinyin.pinyin_dict import pinyin_dict

    out: set[str] = set()
    for form in (ch, *t2s_char_table().get(ch, ())):
        for reading in pinyin_dict.get(ord(form), "").split(","):
            if reading:
                plain = "".join(
                    c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c)
                )
                out.update((reading, plain, plain.replace("ü", "v")))
    return frozenset(out)


def _spells(ch: str, syllable: str) -> bool:
    """True when `syllable` (with or without tone marks) is a reading of `ch`."""
    syllable = unicodedata.normalize("NFC", syllable)
    return syllable in _readings(ch)


# --- What the page says -----------------------------------------------------------------------------------


@cache
def _simplified_only() -> frozenset[str]:
    """Simplified characters whose traditional form differs (离, 开): foreign in a traditional text."""
    from policykb.cleaning.script import simplified_only

    return simplified_only()


@cache
def _traditional_only() -> frozenset[str]:
    return frozenset(t for t, s in t2s_char_table().items() if t not in s)


def _foreign_script(text: str) -> frozenset[str]:
    """The characters of the script the page does not use; misdecoded bytes do not respect script."""
    simplified, traditional = _simplified_only(), _traditional_only()
    n_simplified = sum(ch in simplified for ch in text)
    n_traditional = sum(ch in traditional for ch in text)
    if n_traditional >= 3 * n_simplified + 5:
        return simplified
    if n_simplified >= 3 * n_traditional + 5:
        return traditional
    return frozenset()


def _always_annotated(text: str) -> frozenset[str]:
    """Characters the page annotates at (nearly) every occurrence: the farm's list, as far as this page shows."""
    annotated = Counter(m.group(1) for m in ANNOTATED.finditer(text) if _spells(m.group(1), m.group(2)))
    totals = Counter(ch for ch in text if ch in annotated)
    return frozenset(ch for ch, n in annotated.items() if n >= 2 and n >= 0.8 * totals[ch])


def _bigrams(text: str) -> Iterator[str]:
    """Adjacent pairs that say something about a page's wording: two characters, or a character and a mark."""
    for a, b in zip(text, text[1:], strict=False):
        if (is_han(a) or a in CLAUSE_MARKS) and (is_han(b) or b in CLAUSE_MARKS) and (is_han(a) or is_han(b)):
            yield a + b


@dataclass(frozen=True)
class _Page:
    """What the whole page tells about any run on it."""

    foreign: frozenset[str] = frozenset()
    annotated: frozenset[str] = frozenset()
    chars: Counter[str] = field(default_factory=Counter)
    bigrams: Counter[str] = field(default_factory=Counter)
    # the characters the page writes after each character
    followers: dict[str, frozenset[str]] = field(default_factory=dict)

    @staticmethod
    def of(text: str) -> _Page:
        bigrams = Counter(_bigrams(text))
        followers: dict[str, set[str]] = {}
        for bigram in bigrams:
            followers.setdefault(bigram[0], set()).add(bigram[1])
        return _Page(
            _foreign_script(text),
            _always_annotated(text),
            Counter(text),
            bigrams,
            {ch: frozenset(after) for ch, after in followers.items()},
        )


# --- Scoring ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _lm(text: str) -> float:
    """Language-model log-probability, line by line, with a cost for each line break by where it falls."""
    lines = text.split("\n")
    score = sum(log_prob(line, WORD_COST) for line in lines if line)
    score += PUNCTUATION_CLASH_COST * _clashes(text)
    for k, line in enumerate(lines[:-1]):
        score += LINE_BREAK_COST if LIST_MARKER.match(lines[k + 1]) else _break_cost(line, whole=k > 0)
    return score


def _clashes(text: str) -> int:
    """Marks that prose does not put together: two clause marks (`,,` `，、`), an opening bracket before a clause
    mark (`【。`), or three marks in a row (`,’、`)."""
    count = 0
    for k in range(len(text) - 1):
        a, b = text[k], text[k + 1]
        if (a in CLAUSE_MARKS or a in OPENERS) and b in CLAUSE_MARKS:
            count += 1
        elif k + 2 < len(text) and _is_mark(a) and _is_mark(b) and _is_mark(text[k + 2]):
            count += 1
    return count


def _is_mark(ch: str) -> bool:
    """Punctuation or a symbol: anything but a character, a letter, a digit or a space."""
    return not (is_han(ch) or ch.isalnum() or ch.isspace())


def _break_cost(line: str, whole: bool) -> float:
    """A paragraph break is likely after a sentence or a heading (a short line without a sentence in it)."""
    if line and line[-1] in SENTENCE_END:
        return LINE_BREAK_COST
    if whole and 0 < len(line) <= HEADING_LENGTH and not any(c in "，。；,;" for c in line):
        return LINE_BREAK_COST
    return ODD_LINE_BREAK_COST


@lru_cache(maxsize=65536)
def _without_annotations(text: str) -> tuple[str, float]:
    """The text without the annotations that spell a reading of the character before them, and the evidence
    the annotations give: 創(chuàng) confirms 創, while 鎰(chuàng) is not an annotation at all. The farm added them,
    so they cost nothing in the language model."""
    evidence = 0.0
    pieces = []
    cursor = 0
    for m in ANNOTATED.finditer(text):
        if _spells(m.group(1), m.group(2)):
            evidence += ANNOTATION_WEIGHT
            pieces.append(text[cursor : m.start(2) - 1])
            cursor = m.end()
        else:
            evidence -= ANNOTATION_WEIGHT
    pieces.append(text[cursor:])
    return "".join(pieces), evidence


@dataclass(frozen=True)
class _Scorer:
    """Scores windows of one run: language model plus page evidence, not counting the run's own damaged text."""

    page: _Page
    own_chars: Counter[str]
    own_bigrams: Counter[str]

    @staticmethod
    def around(page: _Page, damaged: str) -> _Scorer:
        return _Scorer(page, Counter(damaged), Counter(_bigrams(damaged)))

    def char_evidence(self, ch: str, following: str) -> float:
        """Script, page vocabulary and annotation habit for one character, given the character after it."""
        page = self.page
        bonus = 0.0
        if ch in page.foreign:
            bonus += FOREIGN_SCRIPT_COST
        elif not ch.isascii():
            seen = page.chars.get(ch, 0) - self.own_chars.get(ch, 0)
            bonus += min(CHAR_CACHE_CAP, CHAR_CACHE_WEIGHT * math.log1p(max(0, seen)))
        if following and ch in page.annotated and following != "(":
            bonus += MISSING_ANNOTATION_COST
        return bonus

    def bigram_evidence(self, bigram: str) -> float:
        seen = self.page.bigrams.get(bigram, 0) - self.own_bigrams.get(bigram, 0)
        return min(BIGRAM_CACHE_CAP, BIGRAM_CACHE_WEIGHT * math.log1p(max(0, seen)))

    def page_evidence(self, text: str) -> float:
        return sum(self.char_evidence(ch, text[k + 1 : k + 2]) for k, ch in enumerate(text)) + sum(
            self.bigram_evidence(text[k : k + 2]) for k in range(len(text) - 1)
        )

    def __call__(self, text: str) -> float:
        plain, evidence = _without_annotations(text)
        return _lm(plain) + evidence + self.page_evidence(text)

    def extend(self, context: str, new: str) -> float:
        """What appending `new` to `context` adds to the score, looking back a few characters only."""
        line_start = context.rfind("\n")
        if "\n" in new and line_start >= 0 and len(context) - line_start <= HEADING_LENGTH + 1:
            tail = context[line_start:]  # a line break is judged by the whole line before it
        else:
            tail = context[-SEARCH_CONTEXT:]
        joined = tail + new
        delta = _lm(joined) - _lm(tail) if tail else _lm(new)
        start = max(0, len(tail) - 1)
        for k in range(start, len(joined) - 1):
            delta += self.bigram_evidence(joined[k : k + 2])
            delta += self.char_evidence(joined[k], joined[k + 1]) if k >= len(tail) else 0.0
            if k == len(tail) - 1 and joined[k] in self.page.annotated and joined[k + 1] != "(":
                delta += MISSING_ANNOTATION_COST  # the character before is now known not to be annotated
        return delta + self.char_evidence(joined[-1], "")


# --- The search -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """A partial re-decoding: the run so far (after the left context) and the lead byte awaiting its trail."""

    at: int  # next position of the damaged text to read
    lead: int
    decoded: str  # left context + re-decoded run
    score: float  # search score: language model increments, page evidence, splice evidence
    evidence: float = 0.0  # the splice evidence alone, which the final scoring adds to the window's score


@dataclass(frozen=True)
class _Repair:
    """A complete re-decoding of the damaged text from the `?` up to `end`."""

    end: int
    text: str
    evidence: float
    search_score: float = 0.0


def _splice_evidence(text: str, hole: int, syllable: str, lead: int) -> float:
    """The farm matched an annotated character on the byte pair (trail of the previous character, L)."""
    # The farm may have annotated the previous character afterwards: its bytes are those before the annotation.
    annotation = ANNOTATION_BEFORE.search(text, max(0, hole - 9), hole)
    previous = annotation.start() if annotation else hole - 1
    before = _gbk(text[previous]) if previous >= 0 else None
    if before is None or len(before) != 2:
        return 0.0
    matched = _pairs().get(before[1], {}).get(lead)
    if matched is None or not _spells(matched, syllable):
        return -SPLICE_EVIDENCE
    return SPLICE_EVIDENCE if matched in _traditional_only() else SPLICE_EVIDENCE / 2


def _run_ends(text: str, at: int) -> tuple[str, ...]:
    """What the `?` at text[at] may have swallowed when it ends a run (after the character it completes)."""
    if PINYIN_TAIL.match(text, at + 1):
        return ("(",)  # the `(` of a genuine annotation of the character the `?` completes
    if TAG_TAIL.match(text, at + 1):
        return ("<",)
    if at + 1 == len(text) or text[at + 1] == "\n":
        return ("",)  # a byte left dangling at the end of a line
    return tuple(SWALLOWED)


class _Search:
    """Beam search over the unknown bytes of the run that starts at the `?` at text[hole]."""

    def __init__(self, text: str, hole: int, score: _Scorer) -> None:
        self.text, self.hole, self.score = text, hole, score
        # The model reads the words, not `(guǎng)`.
        self.left = _without_annotations(_left_context(text, hole))[0]
        self.repairs: list[_Repair] = []

    def run(self) -> list[_Repair]:
        live = sorted(self._starts(), key=lambda s: -s.score)
        budget = len(live)  # at first every candidate lead byte may need the expansion at a `?`
        for step in range(MAX_RUN):
            if not live:
                break
            successors: list[_State] = []
            holes = HOLE_STATES - budget
            for state in live:
                successors += self._advance(state)  # a `?` may also be a shifted `？`
                if state.at < len(self.text) and self.text[state.at] == "?" and holes < HOLE_STATES:
                    holes += 1  # only the best few partial runs are worth the wide expansion a `?` needs
                    successors += self._advance_hole(state)
            # The first character alone says little (到 beats 督 until 導 follows), so the lost lead byte's
            # candidates all survive one more character.
            live = sorted(_unique(successors), key=lambda s: -s.score)[: BEAM if step else len(LEADS)]
            budget = HOLE_STATES
        return _best_per_end(self.repairs)

    def _state(self, state: _State, at: int, lead: int, new: str) -> _State:
        score = state.score + self.score.extend(state.decoded, new)
        return _State(at, lead, state.decoded + new, score, state.evidence)

    def _end(self, state: _State, end: int) -> None:
        run = unicodedata.normalize("NFKC", state.decoded[len(self.left) :])
        self.repairs.append(_Repair(end, run, state.evidence, state.score))

    def _starts(self) -> list[_State]:
        """The lost lead byte, for each value it may have had; a spliced annotation's tail is dropped."""
        text, hole = self.text, self.hole
        tail = PINYIN_TAIL.match(text, hole + 1)
        at = tail.end() if tail else hole + 1
        states = []
        for lead in LEADS:
            evidence = _splice_evidence(text, hole, tail.group(1), lead) if tail else 0.0
            states.append(_State(at, lead, self.left, evidence, evidence))
        if at < len(text) and text[at] == "?":
            # Another `?` at once: the lead byte and the trail byte it is missing make one character, so keep
            # the leads of the characters likely there (those spelling a following annotation, if any) and
            # those the spliced annotation speaks for.
            likely = {lead for _, lead in self._likely(self.left, self._before_hole(at))}
            states = [s for s in states if s.lead in likely or s.evidence > 0]
        return states

    def _advance(self, state: _State) -> list[_State]:
        """Read one more shown character as (trail of the pending character, lead of the next)."""
        text, at = self.text, state.at
        if at >= len(text) or text[at] == "\n":
            return []  # a misaligned read would have swallowed the line break and shown `?`
        row = _pairs()[state.lead]
        states = []
        for lead, trail, width in _byte_pairs(text, at):
            completed = row.get(lead)
            if completed is None:
                continue
            if trail in _pairs():
                states.append(self._state(state, at + width, trail, completed))
                spliced = ANNOTATION_AT.match(text, at + width)
                if spliced and width == 1 and _spells(text[at], spliced.group(1)):
                    # The shown character is one the farm annotated, matched across two characters here, so
                    # its annotation split the next character too: drop it, the reading stays shifted.
                    split = self._state(state, spliced.end(), trail, completed)
                    states.append(
                        replace(
                            split,
                            score=split.score + SPLICE_EVIDENCE,
                            evidence=split.evidence + SPLICE_EVIDENCE,
                        )
                    )
            elif trail < 0x80:
                # The shown character paired the last trail byte with an ASCII letter: swallowed, aligned again.
                self._end(self._state(state, at + width, 0, completed + chr(trail)), at + width)
        code = ord(text[at])
        if 0x40 <= code < 0x7F and code in row:
            # A trail byte that is ASCII: shown as itself, and the reading is aligned again after it.
            self._end(self._state(state, at + 1, 0, row[code]), at + 1)
        return states

    def _advance_hole(self, state: _State) -> list[_State]:
        """A `?` inside a run: the trail byte completing the pending character, then either the ASCII byte it
        swallowed (the run ends) or the lead byte of the next character (an invalid pair; the run goes on)."""
        text, at = self.text, state.at
        row = _pairs()[state.lead]
        tail = PINYIN_TAIL.match(text, at + 1)
        if tail:
            # The `?` swallowed the `(` of an annotation: it spells the reading of the character completed here.
            for t, ch in row.items():
                if t in PAIR_TRAILS and _spells(ch, tail.group(1)):
                    self._end(self._state(state, at + 1, 0, ch + "("), at + 1)
        likely = self._likely(state.decoded, _row_by_prior(state.lead))
        completions = sorted(
            ((self._state(state, at + 1, 0, ch), t) for ch, t in likely),
            key=lambda item: -item[0].score,
        )[:TRAIL_BEAM]
        ahead = self._ahead(at + 1)
        states: list[_State] = []
        for done, trail in completions:
            for swallowed in _run_ends(text, at):
                if swallowed != "(":
                    self._end(self._state(done, at + 1, 0, swallowed) if swallowed else done, at + 1)
            invalid_after = _pairs().get(trail, {})
            # Choose the lead byte by the characters it makes with what is shown next; before another `?` the
            # next character's trail byte is unknown too, so any character may follow.
            # Each reading of what is shown next proposes its best few; their scores do not compare, as the
            # readings cover different lengths.
            leads: list[int] = []
            for first, rest in ahead or [(-1, "")]:
                column = [
                    (ch, lead)
                    for ch, lead in (_column_by_prior(first) if first >= 0 else self._before_hole(at + 1))
                    if lead not in invalid_after
                ]
                scored = sorted(
                    (
                        (self.score.extend(done.decoded, ch + rest), lead)
                        for ch, lead in self._likely(done.decoded, column)
                    ),
                    reverse=True,
                )
                leads += [lead for _, lead in scored[:LEADS_PER_READING]]
            states += [
                _State(at + 1, lead, done.decoded, done.score, done.evidence) for lead in dict.fromkeys(leads)
            ]
        return states

    def _before_hole(self, at: int) -> Sequence[tuple[str, int]]:
        """The characters that may be completed at the `?` at text[at]: any, or those spelling its annotation."""
        tail = PINYIN_TAIL.match(self.text, at + 1)
        return _by_reading().get(tail.group(1), ()) if tail else _all_by_prior()

    def _ahead(self, at: int) -> list[tuple[int, str]]:
        """What the shown text from `at` says about the next character: (its trail byte, the text after it).

        The character itself needs the unknown lead byte; the one after it is known from the next shown one.
        """
        text = self.text
        if at >= len(text) or text[at] in "?\n":
            return []
        out: list[tuple[int, str]] = []
        code = ord(text[at])
        if 0x40 <= code < 0x7F:
            out.append((code, ""))  # an ASCII trail byte: the run ends with this character
        for first, second, width in _byte_pairs(text, at):
            if at + width >= len(text) or second not in _pairs():
                out.append((first, ""))
                continue
            # The character after is (second, first byte shown next): try each reading of what is shown next,
            # past an annotation spliced there (see _advance).
            nxt = at + width
            spliced = ANNOTATION_AT.match(text, nxt)
            if spliced and width == 1 and _spells(text[at], spliced.group(1)) and spliced.end() < len(text):
                nxt = spliced.end()
            after = [lead for lead, _, _ in _byte_pairs(text, nxt)]
            if 0x40 <= ord(text[nxt]) < 0x7F:
                after.append(ord(text[nxt]))
            followings = {_pairs()[second].get(byte, "") for byte in after} or {""}
            out += [(first, following) for following in followings]
        return out

    def _likely(self, decoded: str, ranked: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        """The candidates most worth scoring properly: the most frequent, any the page writes after the
        character before, and any that make a dictionary word with it (`ranked` comes sorted by frequency)."""
        previous = decoded[-1:]
        followers = self.score.page.followers.get(previous, frozenset())
        in_words = _word_followers().get(fold(previous), frozenset())
        out = list(ranked[:PRESELECT])
        out += [item for item in ranked[PRESELECT:] if item[0] in followers or fold(item[0][:1]) in in_words]
        return out


@cache
def _word_followers() -> dict[str, frozenset[str]]:
    """For each character, the characters that can follow it at the start of a dictionary word (simplified
    forms; jieba's table holds every prefix of every word, so its two-character keys are exactly these)."""
    found: dict[str, set[str]] = {}
    for word in word_frequencies():
        if len(word) == 2:
            found.setdefault(word[0], set()).add(word[1])
    return {a: frozenset(bs) for a, bs in found.items()}


@lru_cache(maxsize=65536)
def _char_prior(ch: str) -> float:
    """A cheap plausibility of one character, to choose which candidates the language model scores."""
    if is_han(ch):
        return char_log_prob(ch)
    return log_prob(ch)


@lru_cache(maxsize=256)
def _row_by_prior(lead: int) -> tuple[tuple[str, int], ...]:
    """The characters a lead byte makes with a trail byte that reads as a lead, most frequent first."""
    row = _pairs()[lead]
    return tuple(
        sorted(((row[t], t) for t in PAIR_TRAILS if t in row), key=lambda item: -_char_prior(item[0]))
    )


@cache
def _all_by_prior() -> tuple[tuple[str, int], ...]:
    """Every two-byte character whose trail byte reads as a lead, with its lead byte, most frequent first."""
    every = [(ch, lead) for lead in LEADS for ch, _ in _row_by_prior(lead)]
    return tuple(sorted(every, key=lambda item: -_char_prior(item[0])))


@cache
def _by_reading() -> dict[str, tuple[tuple[str, int], ...]]:
    """The characters of _all_by_prior by each reading they have (with tone marks and without)."""
    index: dict[str, list[tuple[str, int]]] = {}
    for ch, lead in _all_by_prior():
        for reading in _readings(ch):
            index.setdefault(reading, []).append((ch, lead))
    return {reading: tuple(found) for reading, found in index.items()}


@lru_cache(maxsize=256)
def _column_by_prior(trail: int) -> tuple[tuple[str, int], ...]:
    """The characters each lead byte makes with this trail byte, most frequent first."""
    pairs = _pairs()
    column = [(pairs[lead][trail], lead) for lead in LEADS if trail in pairs[lead]]
    return tuple(sorted(column, key=lambda item: -_char_prior(item[0])))


def _best_per_end(repairs: list[_Repair]) -> list[_Repair]:
    """The best few distinct repairs for each place the run may end (search scores compare only there)."""
    by_end: dict[int, dict[str, _Repair]] = {}
    for r in repairs:
        kept = by_end.setdefault(r.end, {})
        if r.text not in kept or kept[r.text].search_score < r.search_score:
            kept[r.text] = r
    out: list[_Repair] = []
    for kept in by_end.values():
        out += sorted(kept.values(), key=lambda r: -r.search_score)[:PER_END]
    return out


def _left_context(text: str, hole: int) -> str:
    """The scored text before a run: a few characters, or the whole line with its break if it starts near."""
    start = _line_start(text, hole)
    if hole - start <= HEADING_LENGTH:
        return "\n" + text[start:hole]  # the break tells the model where this line began
    begin, content = hole, 0
    while content < CONTEXT and begin > start:
        annotation = ANNOTATION_BEFORE.search(text, max(start, begin - 9), begin)
        begin = annotation.start() if annotation else begin - 1  # an annotation counts as its character
        content += 1
    return text[begin:hole]


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _unique(states: list[_State]) -> list[_State]:
    seen: set[tuple[int, int, str]] = set()
    out = []
    for s in states:
        key = (s.at, s.lead, s.decoded)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


# --- Decisions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    end: int  # the damaged text text[hole:end] is replaced
    text: str
    kind: str  # "mojibake", "mojibake_unrepaired" or "" (a genuine question mark)
    note: str = ""


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _judge(text: str, hole: int, page: _Page) -> _Verdict:
    """Repair, mark, or leave the `?` at text[hole], comparing every re-decoding with the damaged text."""
    line_start, line_end = _line_start(text, hole), _line_end(text, hole)
    preliminary = _Scorer.around(page, text[max(line_start, hole - CONTEXT) : min(line_end, hole + MAX_RUN)])
    repairs = _Search(text, hole, preliminary).run()
    certain = _certainly_damaged(text, hole)
    if not repairs:
        return (
            _Verdict(hole + 1, MARKER, "mojibake_unrepaired", "no re-decoding fits")
            if certain
            else _genuine(hole)
        )
    # Score every repair over one window, reaching past the longest, so that they compare like with like.
    stop = max(r.end for r in repairs)
    tail = PINYIN_TAIL.match(text, stop)
    # An annotation right after the run is evidence about its last character.
    stop = tail.end() if tail else stop
    left = _left_context(text, hole)
    right = text[stop : min(line_end, stop + CONTEXT)] if stop <= line_end else text[stop : stop + CONTEXT]
    score = _Scorer.around(page, left + text[hole:stop] + right)
    before, after = text[line_start:hole], text[stop:line_end]

    def total(run: str) -> float:
        return score(left + run + right) + _bracket_evidence(before, run, after)

    damaged = total(text[hole:stop])
    ranked = sorted(
        ((total(r.text + text[r.end : stop]) + r.evidence, r) for r in repairs), key=lambda item: -item[0]
    )
    best_score, best = ranked[0]
    best_text = best.text + text[best.end : stop]
    # A rival is a repair that says something else: 考核 and 考覈 say the same once the page is simplified.
    rival = next(
        (s for s, r in ranked[1:] if fold(r.text + text[r.end : stop]) != fold(best_text)), -math.inf
    )
    gain = best_score - damaged
    if gain >= MARGIN and best_score - rival >= AMBIGUITY:
        return _Verdict(
            best.end, best.text, "mojibake", f"gain {gain:.1f}, next best {best_score - rival:.1f} behind"
        )
    if certain or gain >= MARGIN:
        # Mark as far as the plausible re-decodings reach: the reader should see where the damage may go.
        end = (
            max((r.end for s, r in ranked if s >= best_score - MARK_REACH), default=hole + 1)
            if gain > 0
            else hole + 1
        )
        marked = text[hole:end].replace("?", MARKER)
        return _Verdict(
            end, marked, "mojibake_unrepaired", f"gain {gain:.1f}, ambiguous by {best_score - rival:.1f}"
        )
    return _genuine(hole)


def _certainly_damaged(text: str, hole: int) -> bool:
    """A `?` no genuine question mark explains: before an annotation or a tag that lost its opening bracket, or
    before one ASCII symbol standing alone between Chinese characters (`研?\\斷`: a trail byte shown as itself)."""
    if PINYIN_TAIL.match(text, hole + 1) or TAG_TAIL.match(text, hole + 1):
        return True
    if hole == 0 or hole + 2 >= len(text):
        return False
    lone = text[hole + 1]  # a letter may be a word (`吗?A类学校`), a symbol between characters is not
    return (
        0x40 <= ord(lone) < 0x7F
        and not lone.isalpha()
        and not text[hole - 1].isascii()
        and not text[hole + 2].isascii()
    )


BRACKETS = {
    "》": "《",
    "）": "（",
    ")": "(",
    "】": "【",
    "〕": "〔",
    "”": "“",
    "’": "‘",
    "」": "「",
    "』": "『",
    "〉": "〈",
}


def _bracket_evidence(before: str, run: str, after: str) -> float:
    """Brackets and quotes a re-decoding opens or closes that the rest of the line does not close or open."""
    cost = 0.0
    for close, open_ in BRACKETS.items():
        depth = before.count(open_) - before.count(close)
        for ch in run:
            if ch == open_:
                depth += 1
            elif ch == close:
                if depth <= 0:
                    cost += UNBALANCED_COST
                depth = max(0, depth - 1)
        opened_here = run.count(open_) - run.count(close)
        if opened_here > 0 and after.count(close) - after.count(open_) < opened_here:
            cost += UNBALANCED_COST * opened_here
    return cost


def _genuine(hole: int) -> _Verdict:
    return _Verdict(hole + 1, "?", "")


def _holes(text: str) -> Iterator[int]:
    """`?` that may start a damaged run: not lost indent spaces, not inside Latin text such as a URL."""
    indent = {i for m in INDENT_RUN.finditer(text) for i in range(m.start(), m.end())}
    for m in re.finditer(r"\?", text):
        i = m.start()
        if i in indent or TITLE_SUFFIX.match(text, i + 1):
            continue
        annotation = ANNOTATION_BEFORE.search(text, max(0, i - 9), i)
        before = text[annotation.start()] if annotation else text[i - 1] if i > 0 else "\n"
        after = text[i + 1] if i + 1 < len(text) else "\n"
        if PINYIN_TAIL.match(text, i + 1) or TAG_TAIL.match(text, i + 1):
            if not (before.isascii() and before.isalnum()):
                yield i
        elif not (_latin(before) and _latin(after)):
            yield i


def _latin(ch: str) -> bool:
    """A character of a Latin token or a URL, where `?` is at home (`a?b=1`)."""
    return ch.isascii() and (ch.isalnum() or ch in "/=&%.:#_-")


def _trimmed_change(kind: str, before: str, after: str, offset: int) -> Change:
    p = 0
    while p < min(len(before), len(after)) and before[p] == after[p]:
        p += 1
    s = 0
    while s < min(len(before), len(after)) - p and before[-1 - s] == after[-1 - s]:
        s += 1
    return Change(kind, before[p : len(before) - s], after[p : len(after) - s], offset + p)


def repair_mojibake(text: str) -> CleanResult:
    """Re-decode GBK-misaligned runs; Change(kind="mojibake") per repair, "mojibake_unrepaired" per marker."""
    page = _Page.of(text)
    changes: list[Change] = []
    pieces: list[str] = []
    cursor = 0
    for hole in _holes(text):
        if hole < cursor:
            continue  # inside a run already re-decoded
        verdict = _judge(text, hole, page)
        if not verdict.kind:
            continue
        change = _trimmed_change(verdict.kind, text[hole : verdict.end], verdict.text, hole)
        change.note = verdict.note
        changes.append(change)
        pieces.append(text[cursor:hole])
        pieces.append(verdict.text)
        cursor = verdict.end
    pieces.append(text[cursor:])
    return CleanResult("".join(pieces), changes)
