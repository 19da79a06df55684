"""The measure catalogue: every region's requirements grouped into measures by meaning, subject and unit family.

Two requirements may share a measure only when their units are of one family (a share, a count of things, a
number of people, a duration, an amount of money …): a percentage never joins a count. Within a family, a pair
is scored by what its words name and what it means:

- subject words: the normalised subjects' content words (jieba, policy synonyms made one word), Jaccard or
  containment (`similarity`);
- meaning: the cosine of the embeddings of the two values' own phrases (the comma fragment holding the number,
  with its subject), through the index's embedding cache, so a phrase that is a whole clause reuses the clause's
  vector. Cosines are read relative to the collection: the median cosine of all pairs maps to 0, 1 stays 1, so
  the same rule holds for the e5 model (whose unrelated phrases still score ~0.8) and the hashing stub.

Pairs are merged best first (agglomerative, single linkage) while the score is at least MERGE_AT, except that
two groups holding differently named requirements of one document never merge. The catalogue's golden test
checks that every merge decision keeps its side when every cosine moves by ±0.01.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from policykb.compare import (
    chinese_value,
    comparator_family,
    is_selector,
    ordered_regions,
    strictest_region,
    strictest_regions,
)
from policykb.errors import PolicyKBError
from policykb.extract import FULL_COVERAGE, PER_BASIS
from policykb.query import fold
from policykb.records import Requirement
from policykb.render import format_value

log = logging.getLogger(__name__)

MIN_JACCARD = 0.5  # two subjects of one unit with at least this word overlap name the same measure
# A pair's blended score (words and meaning) from which it names one measure. Off the points where word overlap
# alone lands (0.5 · {1, 1/2, …} when the meaning adds nothing), so no float noise decides a pair; on the corpus
# plus the compare pages the nearest pair score is 0.0156 away on both the e5 model and the hashing stub
# (tests/test_catalogue.py checks > 0.01). Without vectors the word overlap alone decides at MIN_JACCARD.
MERGE_AT = 0.47
BASELINE_SAMPLE = 2000  # values whose pairwise cosines set the collection's baseline (the median)
WORD_WEIGHT = 0.5  # the share of the score that subject words carry when vectors are given (the rest: meaning)

# Units of one family measure the same kind of quantity; a measure never mixes families.
UNIT_FAMILIES: dict[str, str] = {
    **dict.fromkeys(("%", "百分点", "个百分点"), "share"),
    **dict.fromkeys(("个", "所", "家", "项", "支", "批", "座", "处", "条", "套", "间", "校", "班", "篇", "部"), "count"),
    **dict.fromkeys(("人", "名", "位", "人次"), "people"),
    **dict.fromkeys(("年", "学年", "个学年", "月", "个月", "学期", "个学期", "周"), "duration"),
    **dict.fromkeys(("天",), "days"),
    **dict.fromkeys(("小时", "分钟", "课时", "学时", "节"), "hours"),
    **dict.fromkeys(("元", "万元", "千元", "亿元"), "money"),
    **dict.fromkeys(("岁", "周岁"), "age"),
}


def unit_family(unit: str | None) -> str:
    """The kind of quantity a unit measures (`所` and `个` are both counts); an unknown unit is its own family and
    a bare number (差异率低于0.15) reads as a share."""
    if unit is None:
        return "share"
    return UNIT_FAMILIES.get(unit, unit)

# Words that say how often, how firmly or where, not what: they must not split or join measures.
SUBJECT_STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 是 对 为 以 于 把 被 将 由 从 向 并 其 之 也 而 则 都 又 中 上 下 个 "
    "应 应当 须 必须 要 需 可 能 有 原则上 原则 至少 最多 不少 不少于 不低于 不高于 不超过 低于 高于 超过 达到 "
    "其中 每年 每学年 每学期 每月 每周 每校 每所 年度 逐年 当年 学期 学年 "
    "各 各校 各区 全区 全市 内 以上 以下 左右 约".split()
)
_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")

# A readable measure name is the subject plus the noun of its unit: 骨干教师 + % → 骨干教师比例, 流动 + 年 →
# 流动年限. A subject that already ends with a quantity noun keeps it (合格率, 流动期限, 校长考评中的占比).
UNIT_NOUNS = {"%": "比例", "年": "年限", "学年": "年限", "月": "期限", "次": "次数", "门": "门数", "人": "人数",
              "名": "人数", "个": "数量", "所": "数量", "家": "数量", "项": "数量", "课时": "课时数", "学时": "学时数",
              "元": "金额", "万元": "金额", "亿元": "金额",
              "校": "校数", "天": "天数", "小时": "时长", "分钟": "时长"}
QUANTITY_ENDINGS = re.compile(r"(率|比例|占比|比重|权重|满意度|期限|年限|时间|次数|频次|门数|人数|数量|数|金额|标准|课时|学时)$")
# Words that open or close a subject without naming anything: frequency, scope, modality, comparison.
EDGE_WORDS = re.compile(
    r"^(?:其中|原则上|每年|每学年|每学期|每月|每周|每天|每日|每校|每所学校|各校|各区|全区|全市|力争|确保|要求|实现|"
    r"今后|但|即|并|且|同时|一般)+"
    r"|(?:应|须|要|需|均|应当|必须|原则上|一般|平均|达到|不低于|不少于|不高于|不超过|低于|高于|超过|至少|以上|以下|"
    r"每天|每周|每年|的)+$"
)
WITHIN = re.compile(r"年内$")
COUNT_ENDING = re.compile(r"(?:人数|数量|个数)$")


def whole_words(subject: str, req: Requirement) -> str:
    """The subject widened or trimmed to whole words of its clause: an extractor that cut 周末 to 末 or 平均 to 平
    leaves a fragment no reader would write (末提供托管服务 → 周末提供托管服务, 完成时间平 → 完成时间)."""
    import jieba

    text = req.text or ""
    if len(subject) < 2:
        return subject
    # the extractor may have dropped words inside the subject (初中[每天]书面作业…): place its head and its tail
    # separately, by their longest pieces found in the clause
    head = next((subject[:n] for n in range(len(subject), 1, -1) if subject[:n] in text), "")
    tail = next((subject[-n:] for n in range(len(subject), 1, -1) if subject[-n:] in text), "")
    if not head or not tail:
        return subject
    start, end = text.find(head), text.find(tail) + len(tail)
    cut_start, cut_end = 0, len(subject)
    dictionary = jieba.dt.FREQ
    for word, w_start, w_end in jieba.tokenize(text):
        if not dictionary.get(word):
            continue  # only a dictionary word (周末, 平均) moves the edge, not one jieba guessed (项体)
        if w_start < start < w_end:
            return text[w_start:start] + subject  # widen to the word the subject starts inside (末 → 周末)
        if w_start < end < w_end:
            cut_end = len(subject) - (end - w_start)  # drop the part of a word it ends inside (平 of 平均)
    return subject[cut_start:cut_end].strip() or subject
# A subject that is only a comparison or a number (不超过一次) names no measure.
NOT_A_SUBJECT = re.compile(r"^(?:[不没未]?(?:超过|少于|低于|高于|多于)|至少|最多|约|[\d.一二三四五六七八九十两百千万%％]+)")


@dataclass
class Measure:
    """One measure: a name, a unit and every region's values for it."""

    measure_id: str
    name: str
    unit: str | None
    requirements: list[Requirement] = field(default_factory=list)
    region_names: dict[str, str] = field(default_factory=dict)

    @property
    def region_ids(self) -> list[str]:
        return list(dict.fromkeys(r.region_id for r in self.requirements))

    def strictest(self) -> str | None:
        """The region with the strictest value, when all values share one comparator family."""
        firsts: dict[str, Requirement] = {}
        for r in self.requirements:
            firsts.setdefault(r.region_id, r)
        families = {comparator_family(r.comparator) for r in firsts.values()}
        if len(families) != 1:
            return None
        return strictest_region(firsts, families.pop())

    def strictest_all(self) -> list[str]:
        """Every region tied for the strictest value (one value per region: its first)."""
        firsts: dict[str, Requirement] = {}
        for r in self.requirements:
            firsts.setdefault(r.region_id, r)
        families = {comparator_family(r.comparator) for r in firsts.values()}
        return strictest_regions(firsts, families.pop()) if len(families) == 1 else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure_id": self.measure_id,
            "name": self.name,
            "unit": self.unit,
            "values": [
                {
                    "region_id": r.region_id,
                    "region": self.region_names.get(r.region_id, r.region_id),
                    "display": format_value(r),
                    "label": chinese_value(r),
                    "comparator": r.comparator,
                    "value": r.value,
                    "period": r.period,
                    "subject": r.subject,
                    "clause_id": r.clause_id,
                    "doc_id": r.doc_id,
                    "span": r.span,
                }
                for r in self.requirements
            ],
            "regions": len(self.region_ids),
            "strictest": self.strictest(),
            "strictest_all": self.strictest_all(),
            # every indexed region, in catalogue order: its values, or none (未规定)
            "cells": [
                {"region_id": rid, "region": name,
                 "values": [i for i, r in enumerate(self.requirements) if r.region_id == rid]}
                for rid, name in self.region_names.items()
            ],
        }


def subject_words(subject: str | None) -> frozenset[str]:
    """A subject as a set of content words: 每年流入薄弱校的教师人数 → {流入, 薄弱, 教师, 人数}."""
    if not subject:
        return frozenset()
    # The same words as jieba.lcut gives, without loading its dictionary in a server that has the lexicon.
    from policykb.keyword_index import query_jieba

    text = re.sub(r"[\d.%％]+", " ", fold(subject))
    words = {w for w in query_jieba().lcut(text) if w.strip() and w not in SUBJECT_STOPWORDS and _WORD.search(w)}
    # A single character only counts when it is all the subject has (率, 次): otherwise it is grammar.
    multi = {w for w in words if len(w) > 1}
    return frozenset(multi or words)


def _canonical(words: frozenset[str]) -> frozenset[str]:
    """Each word replaced by one representative of its policy synonyms (流动, 轮岗 → 交流; 考评 → 考核): 流动期限
    and 交流轮岗期限 name one measure."""
    from policykb import synonyms

    return frozenset(min(synonyms.synonyms_of(w)) for w in words)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """How surely two subject word sets name the same measure: Jaccard, or 1 when one contains the other, after
    policy synonyms are made one word."""
    if not a or not b:
        return 0.0
    a, b = _canonical(a), _canonical(b)
    shared = len(a & b)
    if shared and shared == min(len(a), len(b)) and shared >= 2:
        return 1.0  # 集团满意度 ⊂ 群体对集团满意度
    return shared / len(a | b)


def same_measure(a: frozenset[str], b: frozenset[str]) -> bool:
    """Word sets naming the same measure: enough overlap, or one a (non-trivial) subset of the other."""
    return similarity(a, b) >= MIN_JACCARD


def group_requirements(reqs: Sequence[Requirement], cosines: np.ndarray | None = None,
                       floor: float | None = None) -> list[list[Requirement]]:
    """Group requirements of one unit family that name the same measure, most similar pairs first.

    `cosines` (n × n) are the meaning cosines of the requirements' phrases (see `meaning_texts`), read against
    `floor` (the collection's median cosine; by default this block's); without them the subject words decide
    alone. One document rarely states one measure twice under different subjects
    (每校至少1门共享课程 and 可共享课程不低于5门 are two measures), so two groups holding different subjects
    from the same document never merge.
    """
    keys = [fold(r.subject or "") for r in reqs]
    members: dict[int, list[int]] = {i: [i] for i in range(len(reqs))}
    owner = list(range(len(reqs)))
    cut = MERGE_AT if cosines is not None else MIN_JACCARD
    pairs = [(-score, i, j) for i, j, score in pair_scores(reqs, cosines, floor) if score >= cut]
    for _, i, j in sorted(pairs):
        a, b = owner[i], owner[j]
        if a == b or _conflict(reqs, keys, members[a], members[b]):
            continue
        for k in members[b]:
            owner[k] = a
        members[a].extend(members.pop(b))
    return [[reqs[k] for k in sorted(group)] for _, group in sorted(members.items())]


def pair_scores(reqs: Sequence[Requirement], cosines: np.ndarray | None = None,
                floor: float | None = None) -> list[tuple[int, int, float]]:
    """(i, j, score) for every pair of one unit family: 2 for one subject as written, else the subject words'
    similarity, blended with the relative meaning cosine when cosines are given."""
    words = [name_words(r) for r in reqs]
    keys = [fold(r.subject or "") for r in reqs]
    families = [unit_family(r.unit) for r in reqs]
    meaning = relative_cosines(cosines, floor) if cosines is not None else None
    out = []
    for i in range(len(reqs)):
        for j in range(i + 1, len(reqs)):
            if families[i] != families[j]:
                continue
            if keys[i] and keys[i] == keys[j]:
                out.append((i, j, 2.0))
                continue
            score = similarity(words[i], words[j])
            if meaning is not None:
                score = WORD_WEIGHT * score + (1 - WORD_WEIGHT) * float(meaning[i, j])
            out.append((i, j, score))
    return out


def relative_cosines(cosines: np.ndarray, floor: float | None = None) -> np.ndarray:
    """Cosines read against the collection: `floor` (by default the median of these pairs) becomes 0, and below
    it stays 0; 1 stays 1."""
    if floor is None:
        floor = median_cosine(cosines)
    return np.clip((cosines - floor) / max(1e-6, 1.0 - floor), 0.0, 1.0)


def median_cosine(cosines: np.ndarray) -> float:
    """The median cosine of distinct pairs (0 when there is no pair)."""
    n = len(cosines)
    return float(np.median(cosines[~np.eye(n, dtype=bool)])) if n > 1 else 0.0


def name_words(req: Requirement) -> frozenset[str]:
    """The words that name what a requirement measures: its subject's, or, when the subject names nothing (none,
    a bare 学生, a comparison), those of the phrase before its number (每天至少开展2小时 after 课后服务)."""
    words = subject_words(req.subject)
    if len(words) >= 1 and not NOT_A_SUBJECT.match(req.subject or "") and len(req.subject or "") > 2:
        return words
    return subject_words(_phrase_before_value(req)) or words


def meaning_texts(reqs: Sequence[Requirement]) -> list[str]:
    """The text embedded for each requirement: its value's own phrase, with the subject when the phrase lacks it.
    A phrase that is its whole clause is the clause's text, whose vector the index already holds."""
    from policykb.compare import value_phrase

    out = []
    for r in reqs:
        phrase = value_phrase(r.text or r.span, r).strip() or r.span
        subject = (r.subject or "").strip()
        out.append(phrase if not subject or subject in phrase else f"{subject} {phrase}")
    return out


def _conflict(reqs: Sequence[Requirement], keys: Sequence[str], a: list[int], b: list[int]) -> bool:
    """Whether merging would put two differently named requirements of one document into one measure."""
    # two values of one document without a subject are two statements too (其中…): nothing says they are one
    return any(reqs[i].doc_id == reqs[j].doc_id and (keys[i] != keys[j] or not keys[i]) for i in a for j in b)


def measure_name(reqs: Sequence[Requirement]) -> str:
    """The most common subject of the group, the shortest among equals; the span when no subject was found."""
    subjects = Counter((r.subject or "").strip() for r in reqs if (r.subject or "").strip())
    if subjects:
        top = max(subjects.values())
        return min((s for s, n in subjects.items() if n == top), key=lambda s: (len(s), s))
    return reqs[0].span


def readable_name(reqs: Sequence[Requirement]) -> str:
    """The measure as a noun phrase a planner would write: the common subject, trimmed of frequency and modal
    words, plus the noun of its unit (骨干教师比例, 联合教研次数); when the subject names nothing (empty, a bare
    word such as 学生, or a comparison such as 不超过一次), the words before the number in its phrase."""
    from policykb.compare import is_plan_span

    unit = group_unit(reqs)
    if all(is_plan_span(r, r.text or r.span) for r in reqs):
        return PLAN_SPAN_NAME
    named = measure_name(reqs).strip()
    holder = next((r for r in reqs if (r.subject or "").strip() == named), reqs[0])
    subject = LEADING_VERB.sub("", EDGE_WORDS.sub("", whole_words(named, holder))) if any(r.subject for r in reqs) else ""
    if len(subject) <= 2 or NOT_A_SUBJECT.match(subject):
        # each value's own phrase is a candidate; the most common, then the shortest, names them all
        leads = Counter(lead for r in reqs if len(lead := _phrase_before_value(r) or _phrase_after_value(r)) > 1)
        lead = min(leads, key=lambda t: (-leads[t], len(t), t)) if leads else ""
        if len(lead) > len(subject) and not NOT_A_SUBJECT.match(lead):
            subject = lead
    elif GENERIC_SUBJECT.match(subject):
        subject = _widened(subject, holder)
    subject = SCOPE_IN.sub("", subject)
    if not subject or NOT_A_SUBJECT.match(subject):
        return reqs[0].span  # nothing names the measure: show what the text says, not an invented noun
    if unit in MONEY and not QUANTITY_ENDINGS.search(subject):
        # an amount paid per pupil, per lesson (每生每课时2元) is a standard; any other sum an amount
        return subject + ("标准" if any(r.base for r in reqs) else "金额")
    if unit == "%" and all(FULL_COVERAGE.fullmatch(r.span) for r in reqs):
        return subject + "覆盖率"  # 实现…集团化办学全覆盖: a coverage, 100% in words
    if unit == "%" and COUNT_ENDING.search(subject):
        return COUNT_ENDING.sub("", subject) + "比例"  # 交流轮岗人数 as a share of those eligible: a 比例
    if QUANTITY_ENDINGS.search(subject):
        return subject
    if unit in ("年", "学年") and all(WITHIN.search(r.span) for r in reqs):
        return subject + "期限"  # 3-5年内开展一次复核: a time limit, not a length of service
    return subject + UNIT_NOUNS.get(unit or "", "")


def _widened(subject: str, req: Requirement) -> str:
    """A subject that only names a kind of quantity (指导标准, 比例) with the noun phrase it belongs to:
    晚自习托管服务费的指导标准 → 晚自习托管服务费指导标准."""
    text = req.text or ""
    at = text.find(subject)
    if at <= 0:
        return subject
    head = re.split(r"[，,；;。：:、\n]", text[:at])[-1]
    head = EDGE_WORDS.sub("", LEADING_VERB.sub("", OUTLINE_MARK.sub("", head.strip()))).removesuffix("的")
    if len(head) < 2 or CLEAN_NAME.search(head) is None:
        return subject
    return head[-10:] + subject


def _phrase_after_value(req: Requirement) -> str:
    """The thing a value is of when it is written after it (每周5天开展课后服务 → 课后服务)."""
    text = req.text or ""
    rest = re.split(r"[，,；;。：:、\n]", text[max(0, min(req.span_end, len(text))):])[0]
    rest = EDGE_WORDS.sub("", LEADING_VERB.sub("", rest.strip().removeprefix("的")))
    return rest if 2 <= len(rest) <= 12 and CLEAN_NAME.fullmatch(rest) else ""


def _phrase_before_value(req: Requirement) -> str:
    """The nearest comma fragment before the requirement's number that names something, trimmed:
    每学期组织学生参加社会实践不少于2次 → 组织学生参加社会实践; in 减少进校检查,除…外,原则上3年内每学期不超过一次
    the number's own fragment is only scope and the exception (除…外) is not the topic → 进校检查."""
    text = req.text or ""
    start = max(0, min(req.span_start, len(text)))
    for head in reversed(re.split(r"[，,；;。：:、\n]", text[:start])):
        head = EDGE_WORDS.sub("", LEADING_VERB.sub("", OUTLINE_MARK.sub("", head.strip())))
        head = LEADING_VERB.sub("", EDGE_WORDS.sub("", SCOPE_WORDS.sub("", PER_BASIS.sub("", head))))
        if head.startswith("除") or FRAME.match(head) or len(head) < 2 or NOT_A_SUBJECT.match(head) or not CLEAN_NAME.fullmatch(head):
            continue  # an exception (除…外), a comparison, or a name in quotes (推行“5+2”模式) is no topic
        return head[-16:]
    return ""


# A fragment's outline number, opening verb and time scope say nothing about what is measured.
OUTLINE_MARK = re.compile(r"^[(（]?[一二三四五六七八九十\d]+[)）.、]")
LEADING_VERB = re.compile(
    r"^(?:可以|按照|按|即|减少|增加|加强|加大|推进|落实|严格|积极|确保|力争|建立|开展|组织|提供|实施)+")
# A name is words: no quotes, brackets of titles, digits or latin (推行“5+2”模式 is a slogan, not a measure).
CLEAN_NAME = re.compile(r"^[\u4e00-\u9fff()（）]+$")
# 在同一所学校任职…满6年: the preposition opens a place, the measure is what is done there (在校生 is a word).
SCOPE_IN = re.compile(r"^在(?![校园读职])(?=.{4,})")
# 在服务时间上, 在…方面: a frame around the topic, not the topic.
FRAME = re.compile(r"^在.{1,8}(?:上|方面|中)$")
# A subject that names only the kind of quantity, not what it is of.
GENERIC_SUBJECT = re.compile(r"^(?:指导|收费|最低|最高|基本|统一)?(?:标准|比例|金额|费用|时间|期限|人数|数量)$")
MONEY = frozenset({"元", "万元", "千元", "亿元"})
SCOPE_WORDS = re.compile(r"^(?:原则上)?(?:\d+|[一二三四五两]+)?年内|^(?:到|至)20\d\d年(?:底)?|^\d+[天周月年个]")


# The span a plan gives itself (通过3年努力, 用3至5年的时间): one measure across documents, whatever each achieves.
PLAN_SPAN_NAME = "规划实施年限"


def measure_id(name: str, unit: str | None) -> str:
    """A stable id from the measure's name and unit, so links survive a re-ingest."""
    return "m" + hashlib.sha1(f"{fold(name)}|{unit or ''}".encode()).hexdigest()[:10]


def build_measures(reqs: Sequence[Requirement], region_names: dict[str, str],
                   embed: Callable[[list[str]], np.ndarray] | None = None) -> list[Measure]:
    """Group requirements into measures; shared measures (more regions) first, then by name.

    `embed` turns texts into unit vectors (the knowledge base's cached passage encoder); without it subject words
    and unit families decide alone.
    """
    measures = []
    values = [r for r in reqs if r.kind == "requirement" and not is_selector(r)]
    vectors = np.asarray(embed(meaning_texts(values)), dtype=np.float32) if embed is not None and values else None
    for group in group_values(values, vectors):
        name = readable_name(group)
        unit = group_unit(group)
        measures.append(Measure(measure_id(name, unit), name, unit, list(group), region_names))
    seen: Counter[str] = Counter()
    for m in measures:  # two groups may share a name: keep ids unique and stable by order
        seen[m.measure_id] += 1
        if seen[m.measure_id] > 1:
            m.measure_id = f"{m.measure_id}-{seen[m.measure_id]}"
    measures.sort(key=lambda m: (-len(m.region_ids), m.name, m.unit or ""))
    return measures


def group_values(values: Sequence[Requirement], vectors: np.ndarray | None,
                 adjust: Callable[[np.ndarray], np.ndarray] | None = None) -> list[list[Requirement]]:
    """`group_requirements` one unit family at a time (values of two families never meet, and one cosine block
    per family keeps memory to the largest family); groups in the order of their first value. `adjust` may move
    each block's cosines (the margin test moves every one by ±0.01)."""
    from policykb.compare import is_plan_span

    families: dict[str, list[int]] = {}
    plan_spans: list[int] = []
    for i, r in enumerate(values):
        if is_plan_span(r, r.text or r.span):
            plan_spans.append(i)  # 通过3年努力: each document's own plan span, whatever it achieves
        else:
            families.setdefault(unit_family(r.unit), []).append(i)
    floor = None
    if vectors is not None:
        # the baseline is the whole collection's: a family of two has no median of its own worth reading
        sample = vectors[:: max(1, len(vectors) // BASELINE_SAMPLE)]
        cosines = sample @ sample.T
        floor = median_cosine(adjust(cosines) if adjust is not None else cosines)
    groups: list[tuple[int, list[Requirement]]] = []
    for members in families.values():
        block = vectors[members] @ vectors[members].T if vectors is not None else None
        if block is not None and adjust is not None:
            block = adjust(block)
        position = {id(values[i]): i for i in members}
        found = group_requirements([values[i] for i in members], block, floor)
        groups.extend((position[id(g[0])], g) for g in found)
    if plan_spans:
        groups.append((plan_spans[0], [values[i] for i in plan_spans]))
    return [g for _, g in sorted(groups, key=lambda item: item[0])]


def group_unit(group: Sequence[Requirement]) -> str | None:
    """The unit most of a measure's values are written in (所 and 个 may share a count measure)."""
    counts = Counter(r.unit for r in group)
    return max(counts, key=lambda u: (counts[u], -[r.unit for r in group].index(u)))


def build_catalogue(kb: Any) -> list[Measure]:
    """The catalogue over everything indexed, grouped by meaning with the knowledge base's embedder."""
    names = {r["region_id"]: r.get("region") or (r["region_id"] or UNREGIONED) for r in ordered_regions(kb.regions())}
    embed = getattr(kb, "meaning_vectors", None)
    reqs = kb.requirements()
    try:
        return build_measures(reqs, names, embed)
    except PolicyKBError as exc:  # no model installed: the subject words and unit families still group
        log.warning("catalogue grouped without meaning vectors: %s", exc)
        return build_measures(reqs, names)


UNREGIONED = "未标明地区"


SORT_KEYS = ("regions", "name", "unit")


def sort_catalogue(measures: Sequence[dict[str, Any]], key: str = "regions") -> list[dict[str, Any]]:
    """Catalogue rows (to_dict form) sorted by `regions` (most shared first), `name` or `unit`."""
    if key == "name":
        return sorted(measures, key=lambda m: (m["name"], m["unit"] or ""))
    if key == "unit":
        return sorted(measures, key=lambda m: (m["unit"] or "", -m["regions"], m["name"]))
    return sorted(measures, key=lambda m: (-m["regions"], m["name"]))
