"""The second stage of hybrid search: concept coverage mixed into the fused score of the candidate pool.

A planner's question names a few policy concepts (经费, 考核评价, 交流轮岗 …), often in other words than the clauses
that answer it (钱 for 经费, 考评 for 考核评价). Dense similarity and BM25 both favour clauses that repeat the
query's most common words (学区, 集团, 办学 in a collection about group schooling), so a region whose funding
clause says 专项经费 without 集团 falls far down the pool. The second stage scores every fused candidate by the
weighted share of the query's concepts it names:

- concepts are the query's topic words grouped with their policy synonyms (policykb.synonyms) and the policy
  words of its colloquial ones (钱 → 经费), weighted by jieba's IDF;
- a concept named by most of the pool's best candidates is background (集团 here) and keeps little weight, and
  one named by no candidate (a filler word of the question) none;
- a concept most of the collection names (教育 in a collection of education policy) weighs less, by the root of its
  IDF in the collection over the largest possible one: jieba's IDF is that of general Chinese text;
- a concept named only in the headings above a clause counts almost fully: a clause under 保障措施 / 经费保障 is
  about funding even when it says 加大支持力度;
- a concept word that starts a bureau's name (财政局) does not name the concept;
- a listed policy phrase of three characters or more (第三方, 大班额, 课后服务) is read whole, however the segmenter
  cuts it.

The search then mixes `rerank_weight` of that coverage into the fused score. It is lexical and uses no cosine,
so it adds no decision that a small move of the dense scores could flip (tests/test_search.py checks the top 10
under ±0.01 cosine moves). It runs above the backend seam, the same on the local index and on Milvus.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from policykb import synonyms

RERANK_DEPTH = 100  # fused candidates the second stage scores (the rest keep their fused score, mixed with 0):
# on the dev and old held-out queries depth 80 already scored as the whole pool, depth 50 lost clauses
BACKGROUND_DEPTH = 30  # the pool's best candidates whose shared concepts count as background
BACKGROUND_DAMPING = 0.9  # a concept named by every one of them keeps only 1 - 0.9 of its weight
# A concept named only in the headings above a clause counts almost as if the clause named it: 落实专项经费支持
# under 经费保障 and 研制评估标准 under 完善评估标准 are what the heading says (0.9–1.0 scored alike on the dev and old
# held-out queries, 0.5–0.75 lost short clauses); the clause's own words still win a tie against its siblings.
HEADING_CREDIT = 0.9
GENERIC_WEIGHT = 0.3  # a concept that only says something is done (建设, 推进) keeps this share of its IDF
# How strongly the collection's own IDF of a concept scales its weight: 0.35–0.75 scored alike on the dev and old
# held-out queries (1.0 lost dev MRR), so the middle
COLLECTION_IDF_POWER = 0.5


# Words of a planner's question that name no topic: pronouns, question and aspect words (自己, 之间, 已经, 有没有, 干什么)
# and the boilerplate of policy prose (发挥…作用, 重要). A clause that repeats them is not more about the question, yet
# jieba weighs them like topic words, so they would outweigh the one concept that matters (骨干教师怎么在学校之间发挥
# 带动作用: 之间, 发挥, 作用 named by any clause about anything).
FILLER_WORDS = frozenset(
    "自己 之间 一起 这些 那些 已经 没有 有没有 是不是 能不能 要不要 算不算 不算 哪个 哪里 哪来 不要 不能 一共 具体 一点 "
    "以后 之后 干什么 怎么办 所以 打算 有过 不管 还是 可以 需要 应该 一下 现在 目前 今后 作用 发挥 重要 方面".split()
)

# A question that asks for an amount in a unit (几年, 多少次, 几门, 多长时间) is answered by a clause that states one: 这些
# 计划打算用几年 by 通过3年努力 or 用3至5年的时间, which share no topic word with it. The asked unit is a concept of its
# own, named by a number before that unit (a calendar year, 2025年, is a date, not a number of years).
AMOUNT_MARK = "#"  # concept words starting with it are units, named by a number before them (never a BM25 term)
_ASKED_UNIT = re.compile(r"(?:几|多少)(个月|课时|小时|分钟|学期|年|次|门|个|人|名|所|天|周|项|节|期|倍)")
_ASKED_DURATION = re.compile(r"多久|多长时间|多长|时长|期限|年限")
DURATION_UNITS = ("年", "个月", "学期", "周", "天", "小时")
_NUMBER = r"(?<![\d.])(?:\d{1,3}(?:\.\d+)?|[一二两三四五六七八九十百半]+)(?:\s*[-—~～至到]\s*(?:\d{1,3}|[一二两三四五六七八九十]+))?\s*"
_UNIT_AFTER = {"年": "(?![级度代初底末中])", "个": "", "期": "(?!间)"}


def asked_units(folded_query: str) -> tuple[str, ...]:
    """The units a question asks an amount in (几年 → 年; 多长时间 → every duration unit), none for other questions."""
    units = list(dict.fromkeys(m.group(1) for m in _ASKED_UNIT.finditer(folded_query)))
    if _ASKED_DURATION.search(folded_query):
        units += [u for u in DURATION_UNITS if u not in units]
    return tuple(units)


def _amount_pattern(unit: str) -> str:
    """A number before the unit; for a duration also 每 before it (多久评定一次 is answered by 每年组织评定)."""
    amount = _NUMBER + re.escape(unit) + _UNIT_AFTER.get(unit, "")
    if unit in DURATION_UNITS:
        amount = f"(?:{amount}|每学?{re.escape(unit.removeprefix('个'))})"
    return amount


_LONG_GROUP_WORDS = tuple(sorted({w for group in synonyms.CONCEPT_GROUPS for w in group if len(w) >= 3},
                                 key=lambda w: (-len(w), w)))


@functools.lru_cache(maxsize=256)
def query_concepts(folded_query: str) -> tuple[tuple[frozenset[str], float], ...]:
    """The policy concepts of a query: each a set of words that name it (synonyms included) and an IDF weight."""
    from policykb.compare import GENERIC_VERBS, term_concepts
    from policykb.lexicon import idf_table

    idf, median = idf_table()
    rest = folded_query
    groups: dict[str, set[str]] = {}
    # Longest colloquial phrase first (收多少钱 before 钱); each is read once and taken out of the query.
    for phrase in sorted(synonyms.COLLOQUIAL, key=len, reverse=True):
        if phrase in rest:
            rest = rest.replace(phrase, " ")
            word = synonyms.COLLOQUIAL[phrase]
            groups.setdefault(word, set()).add(word)
    # A listed policy phrase of three characters or more names its group even where the segmenter cuts it
    # (第三方 → 第三 三方, 大班额 → 大班 额): read it whole and take it out, as the colloquial phrases.
    for phrase in _LONG_GROUP_WORDS:
        if phrase in rest:
            rest = rest.replace(phrase, " ")
            groups.setdefault(phrase, set()).add(phrase)
    for term, concept in term_concepts(rest).items():
        if term not in FILLER_WORDS:
            groups.setdefault(concept, set()).add(term)
    out = []
    units = asked_units(folded_query)
    for terms in groups.values():
        words = frozenset(w for t in terms for w in synonyms.synonyms_of(t) if len(w) > 1)
        if words:
            weight = max(float(idf.get(t, median)) for t in terms)
            if all(t in GENERIC_VERBS for t in terms):
                weight *= GENERIC_WEIGHT  # 建设, 建立, 推进: say that something is done, not what
            out.append((words, weight))
    if units:  # what the question asks for weighs as much as its heaviest topic word
        best = max((w for _, w in out), default=float(median))
        out.append((frozenset(AMOUNT_MARK + u for u in units), best))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def concept_query(folded_query: str) -> str | None:
    """The words of the query's concepts as one BM25 query (钱由谁出 → 经费 资金 拨款 投入 财政 …), or None when they
    add no word to the query's own: the BM25 ranking of the query already found what they would find.

    Concepts that only say that something is done (建设, 推进) are left out; they would find everything."""
    from policykb.compare import GENERIC_VERBS

    words: set[str] = set()
    for concept, _ in query_concepts(folded_query):
        if not concept <= GENERIC_VERBS:
            words |= {w for w in concept if not w.startswith(AMOUNT_MARK)}
    if not any(w not in folded_query for w in words):
        return None
    return " ".join(sorted(words))


def weighted_by_collection(
    concepts: Sequence[tuple[frozenset[str], float]], shares: Sequence[float], n_docs: int
) -> tuple[tuple[frozenset[str], float], ...]:
    """The concepts with each weight scaled by (its IDF in the collection / log(n_docs + 1)) ** COLLECTION_IDF_POWER;
    `shares` are the shares of the clauses naming each concept. Unchanged without a collection (n_docs < 2)."""
    if n_docs < 2:
        return tuple(concepts)
    top = float(np.log(n_docs + 1.0))
    return tuple(
        (words, weight * (float(np.log((n_docs + 1.0) / (share * n_docs + 1.0))) / top) ** COLLECTION_IDF_POWER)
        for (words, weight), share in zip(concepts, shares, strict=True)
    )


# A concept word that begins a bureau's name names the bureau, not the concept: 财政局 and 财政厅 co-sign clauses about
# anything (a working group, a rotation scheme), so they must not make a clause about funding. (部门 is left alone:
# on the dev queries 教育部门 and 督导部门 still named their concept.)
ORGAN_SUFFIX = r"(?![局厅])"


@functools.lru_cache(maxsize=1024)
def _alternation(words: frozenset[str]) -> re.Pattern[str]:
    """One compiled search for any of a concept's words (one regex pass per text instead of one `in` per word),
    skipping a word used as the start of an organ's name."""
    amounts = [_amount_pattern(w[len(AMOUNT_MARK):]) for w in sorted(words) if w.startswith(AMOUNT_MARK)]
    plain = [re.escape(w) for w in sorted(words, key=len, reverse=True) if not w.startswith(AMOUNT_MARK)]
    return re.compile("|".join(([f"(?:{'|'.join(plain)}){ORGAN_SUFFIX}"] if plain else []) + amounts))


def concept_coverage(
    concepts: Sequence[tuple[frozenset[str], float]], texts: Sequence[str], headings: Sequence[str]
) -> np.ndarray:
    """Weighted share of the concepts each candidate names, in [0, 1]; candidates in fused order (best first).

    Texts and headings are the stored, cleaned ones (simplified script already: not folded again, which would
    cost more than the rest of the search's second stage)."""
    if not concepts or not texts:
        return np.zeros(len(texts), dtype=np.float64)
    return coverage_of_matches(concepts, *concept_matches(concepts, texts, headings))


# A clause that ends in a question mark asks instead of stating: a news headline (集团化办学从“挂牌子”转向“要质量”，
# 教育管理部门该怎么做？), a rhetorical question in a commentary, the 问 of a policy Q&A. It shares the question's words
# and meaning, so it ranks like an answer while the answer is the clause after it. Closing quotes and brackets may
# follow the mark.
_ENDS_AS_QUESTION = re.compile(r"[？?][”’\"'」』）)】]*\s*$")


def is_question(text: str) -> bool:
    """Whether a clause is a question rather than a statement (its last sentence ends in ？ or ?)."""
    return _ENDS_AS_QUESTION.search(text) is not None


def concept_matches(
    concepts: Sequence[tuple[frozenset[str], float]], texts: Sequence[str], headings: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each concept is named in each text and in each heading path: two (concepts, texts) bool arrays.
    They depend on one candidate alone, so searches of one query under many filters can share them."""
    patterns = [_alternation(words) for words, _ in concepts]
    in_text = np.array([[p.search(t) is not None for t in texts] for p in patterns], dtype=bool)
    in_head = np.array([[p.search(h) is not None for h in headings] for p in patterns], dtype=bool)
    return in_text.reshape(len(patterns), len(texts)), in_head.reshape(len(patterns), len(headings))


def coverage_of_matches(
    concepts: Sequence[tuple[frozenset[str], float]], in_text: np.ndarray, in_head: np.ndarray
) -> np.ndarray:
    """`concept_coverage` from the candidates' `concept_matches`, in fused order (the background is the share of
    the best BACKGROUND_DEPTH naming a concept)."""
    n = in_text.shape[1]
    if not concepts or not n:
        return np.zeros(n, dtype=np.float64)
    named = np.where(in_text, 1.0, np.where(in_head, HEADING_CREDIT, 0.0))
    background = in_text[:, :BACKGROUND_DEPTH].mean(axis=1)
    weights = np.array([w for _, w in concepts], dtype=np.float64) * (1.0 - BACKGROUND_DAMPING * background)
    weights[~in_text.any(axis=1)] = 0.0  # a word no candidate names cannot tell them apart
    total = float(weights.sum())
    if total <= 0:
        return np.zeros(n, dtype=np.float64)
    return np.asarray(weights @ named / total, dtype=np.float64)
