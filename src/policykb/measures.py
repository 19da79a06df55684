"""The measure catalogue: every region's requirements grouped into measures (same subject and unit across regions).

Subjects are normalised (folded, jieba words, frequency and modal words such as 每年/应/等 dropped); two
requirements of one unit belong to the same measure when their subject word sets overlap enough (Jaccard) or
one set contains the other. Groups are the connected components of that relation.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from policykb.compare import (
    chinese_value,
    comparator_family,
    is_selector,
    ordered_regions,
    strictest_region,
    strictest_regions,
)
from policykb.query import fold
from policykb.records import Requirement
from policykb.render import format_value

MIN_JACCARD = 0.5  # two subjects of one unit with at least this word overlap name the same measure

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


def group_requirements(reqs: Sequence[Requirement]) -> list[list[Requirement]]:
    """Group requirements of one unit whose subjects name the same measure, most similar pairs first.

    One document rarely states one measure twice under different subjects (每校至少1门共享课程 and 可共享课程
    不低于5门 are two measures), so two groups holding different subjects from the same document never merge.
    """
    words = [subject_words(r.subject) for r in reqs]
    keys = [fold(r.subject or "") for r in reqs]
    members: dict[int, list[int]] = {i: [i] for i in range(len(reqs))}
    owner = list(range(len(reqs)))
    pairs = []
    for i in range(len(reqs)):
        for j in range(i + 1, len(reqs)):
            if reqs[i].unit == reqs[j].unit:
                score = 2.0 if keys[i] and keys[i] == keys[j] else similarity(words[i], words[j])
                if score >= MIN_JACCARD:
                    pairs.append((-score, i, j))
    for _, i, j in sorted(pairs):
        a, b = owner[i], owner[j]
        if a == b or _conflict(reqs, keys, members[a], members[b]):
            continue
        for k in members[b]:
            owner[k] = a
        members[a].extend(members.pop(b))
    return [[reqs[k] for k in sorted(group)] for _, group in sorted(members.items())]


def _conflict(reqs: Sequence[Requirement], keys: Sequence[str], a: list[int], b: list[int]) -> bool:
    """Whether merging would put two differently named requirements of one document into one measure."""
    return any(reqs[i].doc_id == reqs[j].doc_id and keys[i] != keys[j] for i in a for j in b)


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
    unit = reqs[0].unit
    named = measure_name(reqs).strip()
    holder = next((r for r in reqs if (r.subject or "").strip() == named), reqs[0])
    subject = EDGE_WORDS.sub("", whole_words(named, holder)) if any(r.subject for r in reqs) else ""
    if len(subject) <= 2 or NOT_A_SUBJECT.match(subject):
        lead = _phrase_before_value(reqs[0])
        if len(lead) > len(subject) and not NOT_A_SUBJECT.match(lead):
            subject = lead
    if not subject or NOT_A_SUBJECT.match(subject):
        return reqs[0].span  # nothing names the measure: show what the text says, not an invented noun
    if unit == "%" and COUNT_ENDING.search(subject):
        return COUNT_ENDING.sub("", subject) + "比例"  # 交流轮岗人数 as a share of those eligible: a 比例
    if QUANTITY_ENDINGS.search(subject):
        return subject
    if unit in ("年", "学年") and all(WITHIN.search(r.span) for r in reqs):
        return subject + "期限"  # 3-5年内开展一次复核: a time limit, not a length of service
    return subject + UNIT_NOUNS.get(unit or "", "")


def _phrase_before_value(req: Requirement) -> str:
    """The nearest comma fragment before the requirement's number that names something, trimmed:
    每学期组织学生参加社会实践不少于2次 → 组织学生参加社会实践; in 减少进校检查,除…外,原则上3年内每学期不超过一次
    the number's own fragment is only scope and the exception (除…外) is not the topic → 进校检查."""
    text = req.text or ""
    start = max(0, min(req.span_start, len(text)))
    for head in reversed(re.split(r"[，,；;。：:、\n]", text[:start])):
        head = EDGE_WORDS.sub("", LEADING_VERB.sub("", OUTLINE_MARK.sub("", head.strip())))
        head = LEADING_VERB.sub("", EDGE_WORDS.sub("", SCOPE_WORDS.sub("", head)))
        if head.startswith("除") or len(head) < 2 or NOT_A_SUBJECT.match(head):
            continue
        return head[-16:]
    return ""


# A fragment's outline number, opening verb and time scope say nothing about what is measured.
OUTLINE_MARK = re.compile(r"^[(（]?[一二三四五六七八九十\d]+[)）.、]")
LEADING_VERB = re.compile(r"^(?:减少|增加|加强|加大|推进|落实|严格|积极|确保|力争|建立|开展|组织)")
SCOPE_WORDS = re.compile(r"^(?:原则上)?(?:\d+|[一二三四五两]+)?年内|^(?:到|至)20\d\d年(?:底)?|^\d+[天周月年个]")


def measure_id(name: str, unit: str | None) -> str:
    """A stable id from the measure's name and unit, so links survive a re-ingest."""
    return "m" + hashlib.sha1(f"{fold(name)}|{unit or ''}".encode()).hexdigest()[:10]


def build_measures(reqs: Sequence[Requirement], region_names: dict[str, str]) -> list[Measure]:
    """Group requirements into measures; shared measures (more regions) first, then by name."""
    measures = []
    values = [r for r in reqs if r.kind == "requirement" and not is_selector(r)]
    for group in group_requirements(values):
        name = readable_name(group)
        unit = group[0].unit
        measures.append(Measure(measure_id(name, unit), name, unit, list(group), region_names))
    seen: Counter[str] = Counter()
    for m in measures:  # two groups may share a name: keep ids unique and stable by order
        seen[m.measure_id] += 1
        if seen[m.measure_id] > 1:
            m.measure_id = f"{m.measure_id}-{seen[m.measure_id]}"
    measures.sort(key=lambda m: (-len(m.region_ids), m.name, m.unit or ""))
    return measures


def build_catalogue(kb: Any) -> list[Measure]:
    """The catalogue over everything indexed."""
    names = {r["region_id"]: r.get("region") or (r["region_id"] or UNREGIONED) for r in ordered_regions(kb.regions())}
    return build_measures(kb.requirements(), names)


UNREGIONED = "未标明地区"


SORT_KEYS = ("regions", "name", "unit")


def sort_catalogue(measures: Sequence[dict[str, Any]], key: str = "regions") -> list[dict[str, Any]]:
    """Catalogue rows (to_dict form) sorted by `regions` (most shared first), `name` or `unit`."""
    if key == "name":
        return sorted(measures, key=lambda m: (m["name"], m["unit"] or ""))
    if key == "unit":
        return sorted(measures, key=lambda m: (m["unit"] or "", -m["regions"], m["name"]))
    return sorted(measures, key=lambda m: (-m["regions"], m["name"]))
