"""How plausible a piece of Chinese text is: character rarity and a word-segmentation log-probability.

Both come from jieba's dictionary (word frequencies of a large simplified corpus). Traditional characters are
folded to simplified first, so text pushed through a simplified → traditional converter scores like the original.
Everything loads lazily on first use.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from functools import cache

from policykb.cleaning.script import t2s_char_table

MAX_WORD_LEN = 8

# Costs (natural-log probabilities) for tokens the dictionary does not hold. Chosen relative to jieba's
# floor for a known single character (about -17.9): ordinary punctuation is cheap, stray Latin letters
# and symbols from the wrong code page are expensive, because misaligned GBK produces exactly those.
SPACE_COST = -8.0  # a space inside Chinese is as odd as a stray punctuation mark
DIGIT_RUN_COST = -8.0
LATIN_RUN_COST = -14.0
UNKNOWN_HAN_COST = -18.6
OTHER_COST = -22.0

SYMBOL_COST = -12.0  # ASCII symbols (#, &, @, ...) are rare in prose; a misaligned byte makes ＃ from a3 a3
RARE_PUNCT_COST = -10.0  # punctuation prose hardly uses (〗, ′, 〃): misaligned bytes make plenty of it

# Punctuation by how often Chinese prose uses it (NFKC forms alike): a comma is far likelier than a bracket,
# which decides between re-decodings that differ only there (`目標，列入` against `目標（列入`).
PUNCT_COSTS = {
    **dict.fromkeys("，,", -3.0),
    **dict.fromkeys("。", -3.3),
    **dict.fromkeys("、", -4.0),
    **dict.fromkeys(".", -4.5),
    **dict.fromkeys('“”"', -5.0),
    **dict.fromkeys("：；:;《》（）()", -5.5),
    **dict.fromkeys("-/", -6.0),
    **dict.fromkeys("—…·", -8.0),
    **dict.fromkeys("？！?!【】〔〕[]〈〉", -7.0),
    **dict.fromkeys("‘’'", -8.0),
}
NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*%?")  # 20%, 0.15, 1,000: one token
COMMON_PUNCT = set(PUNCT_COSTS)
PINYIN_LETTERS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹḿ")


def is_han(ch: str) -> bool:
    """True for a CJK unified ideograph (basic block or extension A, the ranges GBK covers)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def is_latin_letter(ch: str) -> bool:
    """True for an ASCII letter or a pinyin letter with a tone mark."""
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch in PINYIN_LETTERS


@cache
def _jieba_dictionary() -> tuple[dict[str, int], float]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.initialize()
    return jieba.dt.FREQ, math.log(jieba.dt.total)


def word_frequencies() -> dict[str, int]:
    """jieba's word table: word → frequency, with every prefix of every word present (0 if not a word)."""
    return _jieba_dictionary()[0]


@cache
def _char_counts() -> tuple[dict[str, int], float]:
    """Character frequencies summed over every dictionary word the character occurs in."""
    freq, _ = _jieba_dictionary()
    counts: dict[str, int] = {}
    for word, n in freq.items():
        if n:
            for ch in word:
                counts[ch] = counts.get(ch, 0) + n
    return counts, math.log(sum(counts.values()))


@cache
def _fold_table() -> dict[int, str]:
    # Characters that are also simplified in their own right (於, 乾) stay: which one is meant is a question of
    # context that scoring is asked to answer, so folding must not decide it.
    return {ord(t): s[0] for t, s in t2s_char_table().items() if t not in s}


def fold(text: str) -> str:
    """Map each unambiguously traditional character to its simplified form, keeping the length unchanged."""
    return text.translate(_fold_table())


def char_log_prob(ch: str) -> float:
    """Log-probability of a single (folded) Han character; very low for characters the dictionary lacks."""
    counts, log_total = _char_counts()
    n = max(counts.get(c, 0) for c in (fold(ch), *t2s_char_table().get(ch, ())))
    return math.log(n) - log_total if n else UNKNOWN_HAN_COST


def _token_cost(text: str, i: int) -> tuple[float, int]:
    """Cost and length of the non-dictionary token starting at text[i]."""
    ch = text[i]
    j = i + 1
    if ch.isascii() and ch.isdigit():
        number = NUMBER.match(text, i)
        return DIGIT_RUN_COST, number.end() - i if number else 1
    if is_latin_letter(ch):
        while j < len(text) and is_latin_letter(text[j]):
            j += 1
        return LATIN_RUN_COST, j - i
    if ch.isspace():
        return SPACE_COST, 1
    if ch in PUNCT_COSTS:
        return PUNCT_COSTS[ch], 1
    if ch.isascii() and not ch.isalnum():
        return SYMBOL_COST, 1
    if is_han(ch):
        return UNKNOWN_HAN_COST, 1
    if unicodedata.category(ch).startswith("P"):
        return RARE_PUNCT_COST, 1
    return OTHER_COST, 1


def log_prob(text: str, word_cost: float = 0.0) -> float:
    """Log-probability of the best segmentation of `text` into dictionary words and other tokens.

    `word_cost` is added per Chinese token: a unigram model scores a run of common single characters nearly as
    well as the word they could have been (入 + 可 against 入口); a cost per token makes words stick together.
    """
    freq, log_total = _jieba_dictionary()
    folded = fold(text)
    n = len(folded)
    best = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        cost, length = _token_cost(folded, i)
        score = cost + best[i + length]
        if is_han(folded[i]):
            score += word_cost
            for j in range(i + 1, min(n, i + MAX_WORD_LEN) + 1):
                word = folded[i:j]
                count = freq.get(word)
                if count is None:
                    break  # jieba's FREQ holds every prefix of every word, so no longer word can match
                if count:
                    score = max(score, math.log(count) - log_total + word_cost + best[j])
        best[i] = score
    return best[0]
