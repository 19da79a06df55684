"""Compare one measure across regions: the clauses that set it, a calibrated found/未规定 decision, aligned values.

How `found` is decided (calibrated on tests/golden/compare_measures.toml and the `calibration` rows of
tests/golden/compare_regions.toml, checked on their held-out rows, with bench/calibrate_compare.py):

1. The query is read as a *measure*: its topic terms (jieba words weighted by jieba's IDF, then down-weighted
   when most candidate clauses share them, as 集团化办学 in a corpus about group schooling), grouped into concepts
   (a compound's parts, a synonym group of policykb.synonyms: 考核/考评/评价, 经费/资金, 交流/轮岗 …); generic
   policy verbs (开设, 建立, 健全 …) and quantity words (比例, 期限, 个数 …) weigh little; and, when it asks for a
   number (比例, 次数, 期限, 时长, 收费标准, 多少, 几, a digit, a word ending in 率 …), the units the answer can have.
2. Each region's best clauses (hybrid search within the region) are scored by topic coverage: the weighted share
   of the terms the clause names (a synonym counts; a term named only in the headings above the clause or the
   document title counts half; a quantity word counts half when the value's unit answers it: 3年 for 期限).
3. A clause must be semantically close at all: dense cosine >= settings.compare_threshold (a floor).
   - A *quantitative* measure is set only by a requirement of a fitting unit and sense (a 年 of age, service,
     experience or a plan's span is no rotation period; 后50%的学校 picks schools, it is no 50%) whose own phrase
     (the comma-delimited fragment around the number; the rest of the clause counts half) names the measure,
     value coverage >= MIN_VALUE_COVERAGE, and whose clause, headings and title leave less than
     MAX_MISSING_CONCEPTS of the measure unnamed (毕业年级交流轮岗教师比例 is not set by a share of all teachers).
   - A *qualitative* measure (专项经费, 评价机制) is set by a clause with coverage >= MIN_CLAUSE_COVERAGE that
     names at least two of its terms (all of them when the query has fewer).
   A region none of whose clauses passes is 未规定, with the nearest clause and the reason it fails.

No decision sits on a knife edge (the same answers on every CPU). The dense scores come from int8 kernels
that differ between CPUs by up to about 0.01 in cosine, so: each lexical bound lies in the middle of the gap
between the labelled positives and negatives (MIN_CLAUSE_COVERAGE: negatives reach 0.556, positives start at
0.604; MIN_VALUE_COVERAGE: 0.323 against 0.578; MAX_MISSING_CONCEPTS: values that set the measure leave at most
0.28 unnamed, wrong ones 0.46), every golden cell's cosine is more than 0.015 from the floor,
and SEARCH_DEPTH clauses are judged per region, so that a near-tie at the cut of the ranking cannot hide the
clause that sets a measure. tests/test_compare.py moves every cosine by ±0.01 and checks that no golden
decision or value changes, on the seed corpus and on the collection with other regions' pages.

Regions are listed in a stable order: by administrative level (province, city, district, county, unknown), then
by region_id.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policykb import synonyms
from policykb.query import fold as fold_text
from policykb.records import MONEY_UNITS, Hit, Requirement
from policykb.render import format_value

# ----- the decision rule's constants (calibrated, see module docstring) ----------------------------------------
SEARCH_DEPTH = 20  # clauses judged per region: deep enough that a near-tie at the cut cannot hide the one that
# sets the measure (a clause ranked 10th on one CPU is 11th on another)
BACKGROUND_DEPTH = 10  # each region's best clauses whose shared words count as background
MATCHES_SHOWN = 3  # clauses returned per region (contract: up to 3)
COVERAGE_WEIGHT = 0.2  # ranking only: how much full topic coverage adds to the dense cosine
MIN_CLAUSE_COVERAGE = 0.58  # a qualitative measure: share of its (weighted) topic the clause must name
MIN_NAMED_TERMS = 2  # … and how many of its terms it must name outright (all, if the query has fewer)
MIN_VALUE_COVERAGE = 0.45  # a value counts when its own phrase names at least this share of the topic
MAX_MISSING_CONCEPTS = 0.37  # … and its clause (with headings and title) leaves unnamed less than this share
VALUE_TIE = 0.1  # values whose phrases name the measure this nearly as well as the best count as equally sure
BOUND_BONUS = 0.15  # ranking only: a value whose comparator matches the floor/ceiling the query asks for
CUE_TERM_WEIGHT = 0.3  # a quantity word (比例, 期限) names the measure only weakly
CONTEXT_CREDIT = 0.5  # a term named only in the headings or title above a clause counts half
BACKGROUND_DAMPING = 0.9  # a term found in every candidate clause keeps only 1 - 0.8 of its weight  # a clause carrying a fitting value may sit this far below the threshold

LEVEL_ORDER = {"province": 0, "city": 1, "district": 2, "county": 3}

# Words that say "give me a number" and which unit the number has. Checked on the folded query text.
UNIT_CUES: tuple[tuple[str, frozenset[str]], ...] = (
    ("百分比", frozenset({"%"})),
    ("比例", frozenset({"%"})),
    ("占比", frozenset({"%"})),
    ("比重", frozenset({"%"})),
    ("权重", frozenset({"%"})),
    ("满意度", frozenset({"%"})),
    ("次数", frozenset({"次"})),
    ("频次", frozenset({"次"})),
    ("频率", frozenset({"次"})),
    ("几次", frozenset({"次"})),
    ("多少次", frozenset({"次"})),
    ("期限", frozenset({"年", "学年", "月", "学期"})),
    ("年限", frozenset({"年", "学年"})),
    ("几年", frozenset({"年", "学年"})),
    ("多少年", frozenset({"年", "学年"})),
    ("多久", frozenset({"年", "学年", "月", "学期", "周", "天", "小时", "分钟"})),
    ("几门", frozenset({"门"})),
    ("门数", frozenset({"门"})),
    ("人数", frozenset({"人", "名"})),
    ("几人", frozenset({"人", "名"})),
    ("多少人", frozenset({"人", "名"})),
    ("几所", frozenset({"所"})),
    ("多少所", frozenset({"所"})),
    ("时长", frozenset({"小时", "分钟", "课时"})),
    ("几小时", frozenset({"小时"})),
    ("多少小时", frozenset({"小时"})),
    ("几分钟", frozenset({"分钟"})),
    ("多少分钟", frozenset({"分钟"})),
    ("多长时间", frozenset({"年", "学年", "月", "学期", "周", "天", "小时", "分钟"})),  # DURATION_UNITS
    ("天数", frozenset({"天"})),
    # money: a fee, a wage or a subsidy standard is an amount
    ("收费标准", MONEY_UNITS), ("工资标准", MONEY_UNITS), ("补助标准", MONEY_UNITS), ("补贴标准", MONEY_UNITS),
    ("金额", MONEY_UNITS), ("多少钱", MONEY_UNITS), ("多少元", MONEY_UNITS), ("几元", MONEY_UNITS),
    ("经费标准", MONEY_UNITS), ("拨款标准", MONEY_UNITS), ("公用经费", MONEY_UNITS), ("生均经费", MONEY_UNITS),
    ("收费", MONEY_UNITS), ("费用标准", MONEY_UNITS), ("资助标准", MONEY_UNITS),
    ("几天", frozenset({"天"})),
    ("多少天", frozenset({"天"})),
)
# 时间 asks for a duration when it is the time of an activity (体育活动时间, 作业时间, 睡眠时间) or is counted per day or
# week (每天…时间): 每天校内体育活动时间不少于1小时. Alone (放假时间, 报名时间) it is a date and asks for none.
ACTIVITY_TIME = re.compile(
    r"(?:活动|作业|锻炼|运动|睡眠|阅读|学习|训练|实践|劳动|户外|课外|在校|上课|教研|培训)(?:完成)?时[间长]"
    r"|(?:每天|每日|每周|每月|每学期|每学年|日均|周均|天天).{0,12}时间")
ACTIVITY_TIME_UNITS = frozenset({"小时", "分钟", "课时"})
# A rate word: 合格率, 入学率, 覆盖率 … (the 率 of 效率/频率 is excluded by the cue table above or by the list).
RATE_WORD = re.compile(r"[\u4e00-\u9fff]率")
NOT_RATE = ("效率", "频率", "税率", "汇率", "利率", "概率", "草率", "坦率", "直率", "轻率")
# A digit asks for a number, unless it is a year (2023-2025年 names a period, it does not ask for a value).
NUMBER_ASKED = re.compile(r"多少|几|数量|数值|(?<!\d)(?!(?:19|20)\d\d(?!\d))\d")
FLOOR_WORDS = re.compile(r"最少|至少|最低|不少于|不低于|起码|下限")
CEILING_WORDS = re.compile(r"最多|至多|最高|不超过|不高于|不得超过|上限|以内")
# "How many" of countable things (数量, 几个): any count unit answers, a percentage never does (优质教育集团数量
# is 80个, not the share of schools in groups). No topic term is added: 数量 names no measure.
COUNT_UNITS = frozenset({"个", "所", "家", "项", "人", "名", "门", "次", "支", "批", "类", "条", "处", "座"})
# 数量 / 个数 count things (schools, groups, teachers); how many times something happens is 次数, so 每学期不超过1次
# does not answer 成员校数量.
THING_COUNT_UNITS = COUNT_UNITS - {"次"}
COUNT_CUES: tuple[tuple[str, frozenset[str]], ...] = (
    ("几个", frozenset({"个"})), ("多少个", frozenset({"个"})), ("个数", THING_COUNT_UNITS),
    ("数量", THING_COUNT_UNITS),
    ("多少家", frozenset({"家"})), ("几家", frozenset({"家"})),
)
# What a number of years measures. A query about how long a teacher rotates (期限, 年限, 待几年) is not answered by
# an age or a distance to retirement (距退休不足5年, 男55周岁) nor by a plan's span (通过3年努力, 用3年时间).
YEAR_SENSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("age", re.compile(r"退休|年龄|周岁|岁|年满|工龄|教龄")),
    # a qualification (任教1年以上的工作经历, 2年交流轮岗工作经历) is what a teacher must have done, not how long
    # a rotation lasts
    ("experience", re.compile(r"经历|经验|资历")),
    # how long one has served at the present school (任职满6年, 连续任教6年及以上), which makes one due to rotate
    ("service", re.compile(r"任职|任教|同一所|连续")),
    ("period", re.compile(r"努力|用.{0,8}时间|年内|行动计划|规划|周期|[到至]20\d\d年")),
)
YEAR_UNITS = frozenset({"年", "学年"})
# A plan horizon: 通过/经过/用 … N年 … 努力/时间 (policykb.extract tags it as the plan's span).
PLAN_SPAN_BEFORE = re.compile(r"(?:通过|经过|用|历时|利用|花)\s*$")
PLAN_SPAN_AFTER = re.compile(r"(?:左右)?(?:的)?(?:时间|努力)")
# A share that picks out whom the requirement is about (后50%的学校, 前30%的学生) is not its value: 后50%的学校
# …全覆盖 asks for full coverage of those schools, not 50% coverage.
SELECTOR_BEFORE = re.compile(r"[前后末]$")
DIGIT_UNIT = re.compile(r"(?<!\d)(?!(?:19|20)\d\d(?!\d))\d+(?:\.\d+)?\s*(%|％|次|年|门|人|名|所|个|项)")

# Words that carry no topic in a measure query: function words, question words, quantity cues, generic nouns.
QUERY_STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 是 对 为 以 于 把 被 将 由 从 向 并 其 之 也 而 则 就 都 又 中 上 下 这 那 个 着 "
    "得 地 所 如 要 应 应当 须 必须 有 无 不 让 给 里 占 多 大 小 最 最少 最多 至少 "
    "吗 呢 吧 啊 哪 什么 怎么 怎样 多少 哪些 如何 是否 几 几次 几年 几门 几人 多久 多长 多长时间 长时间 "
    "一个 一些 这个 那个 以及 或者 并且 而且 进行 关于 通过 按照 根据 对于 其中 相关 有关 "
    "比例 占比 比重 权重 百分比 次数 频次 频率 期限 年限 门数 人数 数量 数值 "
    "要求 规定 目标 标准 指标 情况 水平 不少 不少于 不低于 不高于 不超过 低于 高于 超过 达到 以上 以下 左右 "
    "上限 下限 最低 最高 "
    "每年 每学年 每学期 每月 每周 每天 每期 每所 每校 每个 年度 学期 学年 时长 "
    "各地 各区 全市 全区 地区 区域".split()
)

# Policy verbs that say an action is taken, not what it is about: 开设几门共享课程 is answered by 每校至少有1门共享课程,
# 健全评价机制 by 优化考核评价机制. They keep CUE_TERM_WEIGHT of their weight.
GENERIC_VERBS = frozenset(
    "开设 开展 建立 设立 推进 实施 落实 健全 完善 加强 提高 提升 培育 组建 建设 推动 深化 创建 形成 实现 "
    "构建 探索 优化 加大 强化 制定 做好".split()
)
MODALS = "要应须需得能可"
DURATION_UNITS = frozenset({"年", "学年", "月", "学期", "周", "天", "小时", "分钟"})
# Nouns that name the kind of quantity asked for, not the topic: weak terms, named by a value of their units.
QUANTITY_NOUNS: dict[str, frozenset[str]] = {
    "个数": COUNT_UNITS, "数目": COUNT_UNITS, "天数": frozenset({"天"}), "时间": DURATION_UNITS,
    "周期": DURATION_UNITS, "时限": DURATION_UNITS, "课时": frozenset({"课时", "%"}),
}

FRAGMENT_BREAK = re.compile(r"[，,；;。！？!?：:、\n]")
COMPARATOR_FAMILY = {">=": ">=", ">": ">=", "<=": "<=", "<": "<=", "=": "=", "~": "=", "range": "range"}


# Judging a comparison folds the same clause texts and asks whether each names the same few terms thousands of
# times (20 clauses × every region, each against its clause, headings and title). Both are pure functions of
# their strings, so they are memoised across requests: a compare is repeated with the same clauses.
FOLD_CACHE_SIZE = 1 << 14
CREDIT_CACHE_SIZE = 1 << 16


@functools.lru_cache(maxsize=FOLD_CACHE_SIZE)
def fold(text: str) -> str:
    """query.fold, memoised (clause texts recur in every compare)."""
    return fold_text(text)


# ----- records --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasureQuery:
    """A query read as a measure: topic terms with weights, and the units a numeric answer may have."""

    text: str
    terms: tuple[tuple[str, float], ...]
    wants_number: bool
    units: frozenset[str]
    bound: str | None = None  # ">=" when the query asks for a floor (最少, 不低于), "<=" for a ceiling
    year_sense: str | None = None  # what a number of years must measure: age, period, or None (tenure)
    concepts: tuple[tuple[str, str], ...] = ()  # term → the concept it belongs to (骨干, 教师 → 骨干教师)
    weak: frozenset[str] = frozenset()  # quantity cues and generic verbs: they name the measure only weakly
    cue_units: tuple[tuple[str, frozenset[str]], ...] = ()  # a cue term a value of these units answers (比例: %)

    def credited_by(self, unit: str | None) -> frozenset[str]:
        """The cue terms that a value of `unit` names by being one (a 3年 names 期限, a 30% names 比例)."""
        return frozenset(t for t, units in self.cue_units if (unit or "") in units)

    def to_dict(self) -> dict[str, Any]:
        return {
            "terms": [t for t, _ in self.terms],
            "wants_number": self.wants_number,
            "units": sorted(self.units),
            "bound": self.bound,
            "year_sense": self.year_sense,
            "concepts": sorted({c for _, c in self.concepts}),
        }


@dataclass
class Candidate:
    """One clause of a region judged against the measure."""

    hit: Hit
    relevance: float
    coverage: float
    value: Requirement | None = None
    value_coverage: float = 0.0
    value_rank: float = 0.0  # value_coverage plus ranking bonuses
    named: int = 0
    missing: float = 0.0  # share of the measure held by the heaviest concept the clause does not name

    def evidence(self) -> dict[str, Any]:
        return {
            "clause_id": self.hit.clause.clause_id,
            "dense": None if self.hit.dense_score is None else round(float(self.hit.dense_score), 4),
            "coverage": round(self.coverage, 3),
            "relevance": round(self.relevance, 4),
            "value_coverage": round(self.value_coverage, 3),
            "named_terms": self.named,
            "missing_concept": round(self.missing, 3),
        }


@dataclass
class RegionResult:
    """One region's column: found or not, its best clauses, and the value it sets (if any)."""

    region_id: str
    region: str
    level: str | None
    found: bool
    matches: list[Hit] = field(default_factory=list)
    value: Requirement | None = None
    nearest: Candidate | None = None
    value_options: list[Requirement] = field(default_factory=list)  # every accepted value, best first
    value_ranks: list[float] = field(default_factory=list)  # how surely each option is the measure's value
    parents: list[str] = field(default_factory=list)  # parent region ids, nearest first
    doc_id: str | None = None  # set for a document without a region: the column is that document
    reason: str = ""  # 未规定: why the nearest clause does not set the measure, in Chinese

    def to_dict(self) -> dict[str, Any]:
        return {
            "region_id": self.region_id,
            "region": self.region,
            "level": self.level,
            "found": self.found,
            "matches": [mark_aligned(h.to_dict(), self.value) for h in self.matches],
            "value": requirement_view(self.value) if self.value is not None else None,
            "evidence": self.nearest.evidence() if self.nearest is not None else None,
            # 未规定: the clause that came nearest, so the reader can check the verdict
            "nearest_clause": None if self.found or self.nearest is None else self.nearest.hit.to_dict(),
            "nearest": None if self.found or self.nearest is None else {
                "clause_id": self.nearest.hit.clause.clause_id,
                "section": list(self.nearest.hit.clause.section),
                "text": self.nearest.hit.clause.text,
                "reason": self.reason,
            },
            "parent_region_ids": list(self.parents),
            "doc_id": self.doc_id,
        }


@dataclass
class AlignedValues:
    """Values of the same unit and comparator family side by side, with the strictest region marked."""

    unit: str | None
    comparator: str
    values: dict[str, Requirement]
    strictest: str | None
    strictest_all: list[str] = field(default_factory=list)  # every region tied for the strictest value

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "comparator": self.comparator,
            "values": {rid: r.value for rid, r in self.values.items()},
            "display": {rid: format_value(r) for rid, r in self.values.items()},
            "label": {rid: chinese_value(r) for rid, r in self.values.items()},
            "clause_ids": {rid: r.clause_id for rid, r in self.values.items()},
            "strictest": self.strictest,
            "strictest_all": list(self.strictest_all),
        }


@dataclass
class Comparison:
    """The compare result: every region in a stable order, plus the aligned values."""

    query: str
    measure: MeasureQuery
    regions: list[RegionResult]
    aligned: list[AlignedValues]
    threshold: float
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # doc_id → title, date

    def to_dict(self) -> dict[str, Any]:
        strictest = {rid for a in self.aligned for rid in a.strictest_all}
        by_id = {r.region_id: r for r in self.regions}
        names = {r.region_id: r.region for r in self.regions}
        regions = []
        for r in self.regions:
            row = r.to_dict()
            row["strictest"] = r.region_id in strictest
            row["label"] = chinese_value(r.value) if r.value is not None else None
            row["sort_value"] = sort_value(r.value)
            row["conflicts"] = [
                {**requirement_view(v), "label": chinese_value(v), **self.documents.get(v.doc_id, {})}
                for v in conflicting_values(r, self.documents)
            ]
            row["versus_parent"] = versus_parent(r, by_id, names)
            row["group"] = region_group(r)
            regions.append(row)
        return {
            "query": self.query,
            "regions": regions,
            "aligned": [a.to_dict() for a in self.aligned],
            "measure": self.measure.to_dict(),
            "threshold": self.threshold,
        }


def mark_aligned(hit: dict[str, Any], value: Requirement | None) -> dict[str, Any]:
    """Flag the requirement of a match that is the region's aligned value (`aligned: true`), so a page can set it
    apart from the clause's other numbers; every other requirement gets `aligned: false`."""
    for req in hit.get("requirements", []):
        req["aligned"] = bool(
            value is not None and req.get("clause_id") == value.clause_id
            and req.get("span_start") == value.span_start and req.get("span_end") == value.span_end
        )
    return hit


def requirement_view(req: Requirement) -> dict[str, Any]:
    """A requirement as shown in a compare cell: the contract keys plus a display string."""
    return {**req.to_dict(), "label": chinese_value(req)}


# How a comparator reads before a number in Chinese; amounts and durations are 不少于, shares and rates 不低于.
def chinese_value(req: Requirement) -> str:
    """A value as a planner reads it (不低于30%, 不少于3年, 3–5年, 约15%, 不超过1次): render.chinese_value."""
    from policykb.render import chinese_value as render_value

    return render_value(req.comparator, req.value, req.unit)


def sort_value(req: Requirement | None) -> float | None:
    """A number to order columns by: the value, or the low end of a range."""
    if req is None:
        return None
    return float(req.value[0]) if isinstance(req.value, list) else float(req.value)


LEVEL_NAMES = {"province": "省级", "city": "市级", "district": "区县级", "county": "区县级"}
UNREGIONED_GROUP = "未标明地区的文件"


def region_group(result: RegionResult) -> str:
    """The province (or top-level unit) a column belongs to, by name: the table groups columns under it."""
    from policykb import gazetteer

    if result.doc_id is not None:
        return UNREGIONED_GROUP
    top = result.parents[-1] if result.parents else result.region_id
    place = gazetteer.by_id(top)
    if place is not None:
        return place.name
    return result.region if top == result.region_id else top


def conflicting_values(result: RegionResult, documents: dict[str, dict[str, Any]]) -> list[Requirement]:
    """When the region's documents set the measure to different values, each document's value, newest first.

    Only values of the shown value's unit and comparator family count (a share and a count are two measures);
    one value per document (its best). Empty when every document agrees or only one sets a value.
    """
    if result.value is None:
        return []
    key = _value_key(result.value)
    per_doc: dict[str, Requirement] = {}
    for req in [result.value, *result.value_options]:
        if _value_key(req) == key:
            per_doc.setdefault(req.doc_id, req)
    if len(per_doc) < 2 or len({json_value(r) for r in per_doc.values()}) < 2:
        return []
    return sorted(per_doc.values(), key=lambda r: (str(documents.get(r.doc_id, {}).get("date") or ""), r.doc_id),
                  reverse=True)


def json_value(req: Requirement) -> tuple[str, tuple[float, ...]]:
    values = req.value if isinstance(req.value, list) else [req.value]
    return (req.comparator, tuple(float(v) for v in values))


def versus_parent(result: RegionResult, by_id: dict[str, RegionResult], names: dict[str, str]) -> dict[str, Any] | None:
    """The region's value against its nearest compared parent's of the same unit and comparator family:
    `stricter`, `same`, `looser` (for a floor higher is stricter, for a ceiling lower), or `differs` (targets)."""
    if result.value is None:
        return None
    for pid in result.parents:
        parent = by_id.get(pid)
        if parent is None or parent.value is None or _value_key(parent.value) != _value_key(result.value):
            continue
        own, theirs = result.value.value, parent.value.value
        if isinstance(own, list) or isinstance(theirs, list):
            relation = "same" if json_value(result.value) == json_value(parent.value) else "differs"
        elif math.isclose(float(own), float(theirs)):
            relation = "same"
        else:
            family = comparator_family(result.value.comparator)
            higher = float(own) > float(theirs)
            relation = ("stricter" if higher else "looser") if family == ">=" else \
                ("looser" if higher else "stricter") if family == "<=" else "differs"
        return {"parent_id": pid, "parent": names.get(pid, pid), "relation": relation,
                "parent_label": chinese_value(parent.value)}
    return None


# ----- reading the query ------------------------------------------------------------------------------------------
def _idf() -> tuple[Mapping[str, float], float]:
    """jieba's general-language IDF table: rare words (轮岗) weigh more than common ones (教师)."""
    from policykb.lexicon import idf_table

    return idf_table()


@functools.lru_cache(maxsize=1024)
def _cut(text: str) -> tuple[str, ...]:
    """The search-mode words of a text (a query, a heading), cached: one compare explains every region's cell
    with the same query."""
    from policykb.keyword_index import query_jieba

    return tuple(t.strip() for t in query_jieba().lcut_for_search(text) if t.strip())


def topic_terms(text: str) -> list[str]:
    """The topic words of a query, finest first: compounds whose parts are also listed are dropped."""
    return list(term_concepts(text))


def term_concepts(text: str) -> dict[str, str]:
    """Each topic word of a query (finest first) with the concept it names: the compound it was cut from
    (毕业年级 → 毕业, 年级 both name 毕业年级), merged with the words of its synonym group (考核评价制度: 考核 and 评价
    name one concept). A clause that names no word of a heavy concept is about something else."""
    tokens = [t for t in _cut(text) if t not in QUERY_STOPWORDS and _is_wordlike(t)]
    unique = list(dict.fromkeys(tokens))
    concept: dict[str, str] = {}
    dropped = []
    for tok in unique:
        parts = [o for o in unique if o != tok and o in tok]
        if len(tok) > 2 and parts and sum(len(p) for p in parts) >= len(tok) - 1:
            dropped.append((tok, parts))  # 骨干教师 is covered by 骨干 + 教师: counting both would weigh one idea twice
            continue
        concept[tok] = tok
    for tok, parts in dropped:
        for part in parts:
            if part in concept and concept[part] == part and part not in synonyms.synonyms_of(tok):
                concept[part] = tok
    for term in concept:
        for other in concept:
            if other != term and other in synonyms.synonyms_of(term):
                concept[other] = concept[term] = min(concept[term], concept[other])
    return concept


def _overlapping_pieces(text: str, terms: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Each longest word of `text` with the `terms` that are overlapping pieces of it (中小学校: 中小, 小学, 学校).
    Pieces that tile a word without overlap (骨干 + 教师 = 骨干教师) are two ideas and are not listed."""
    kept = list(terms)
    words = [w for w in dict.fromkeys(_cut(text)) if len(w) > 2]
    out = []
    for word in words:
        if any(word != other and word in other for other in words):
            continue  # only the longest word of a nest decides
        pieces = [t for t in kept if t != word and t in word]
        if len(pieces) >= 2 and sum(len(p) for p in pieces) > len(word):
            out.append((word, pieces))
    return out


def fragment_shares(text: str, terms: Iterable[str]) -> dict[str, float]:
    """The share of one word's weight each of its overlapping fragments carries (中小学校 → 中小, 小学, 学校: ⅓ each).

    Search-mode cutting lists overlapping pieces of one word; weighed in full, 中小学校 would count three times and
    a clause naming only its schools would look two-thirds on topic."""
    shares: dict[str, float] = {}
    for _, pieces in _overlapping_pieces(text, terms):
        for piece in pieces:
            shares[piece] = min(shares.get(piece, 1.0), 1.0 / len(pieces))
    return shares


def whole_words(text: str, terms: Sequence[str]) -> list[str]:
    """`terms` as a reader names them: overlapping fragments of one word of `text` (中小, 小学) become that word
    (中小学校), once, where its first fragment stood."""
    word_of = {piece: word for word, pieces in _overlapping_pieces(text, terms) for piece in pieces}
    return list(dict.fromkeys(word_of.get(t, t) for t in terms))


def _is_wordlike(token: str) -> bool:
    if len(token) == 2 and token[0] in MODALS:
        return False  # 要待, 应派, 须搞: a modal before a one-character verb is grammar
    if re.fullmatch(r"[\d.%％]+", token):
        return False  # a bare number is a value, not a topic
    if len(token) == 1:
        return False  # single characters (占, 多, 里) are grammar in a measure query, not topic
    return bool(re.search(r"[\u4e00-\u9fffA-Za-z]", token))


def parse_measure(query: str) -> MeasureQuery:
    """Read a query as a measure: weighted topic terms, whether it asks for a number, and in which units."""
    folded = fold(query)
    idf, median = _idf()
    concepts = term_concepts(folded)
    units: set[str] = set()
    cue_units: dict[str, frozenset[str]] = {}
    for cue, unit_set in (*UNIT_CUES, *COUNT_CUES):
        if cue in folded:
            units |= unit_set
            if len(cue) > 1 and cue[0] not in "几多":
                # 期限 in 流动期限 also names the measure: a weak topic term (it is often in the subject).
                concepts.setdefault(cue, cue)
                cue_units[cue] = cue_units.get(cue, frozenset()) | unit_set
    if ACTIVITY_TIME.search(folded):
        units |= ACTIVITY_TIME_UNITS
        concepts.setdefault("时间", "时间")
        cue_units["时间"] = cue_units.get("时间", frozenset()) | ACTIVITY_TIME_UNITS
    for noun, unit_set in QUANTITY_NOUNS.items():
        if noun in concepts:
            cue_units[noun] = cue_units.get(noun, frozenset()) | unit_set
    weak = frozenset(t for t in concepts if t in GENERIC_VERBS or t in cue_units)
    shares = fragment_shares(folded, concepts)
    terms = tuple((t, float(idf.get(t, median)) * (CUE_TERM_WEIGHT if t in weak else 1.0) * shares.get(t, 1.0))
                  for t in concepts)
    for match in RATE_WORD.finditer(folded):
        if not any(w in folded[max(0, match.start() - 1) : match.end() + 1] for w in NOT_RATE):
            units.add("%")
    for match in DIGIT_UNIT.finditer(folded):
        units.add("%" if match.group(1) in "%％" else match.group(1))
    wants = bool(units) or bool(NUMBER_ASKED.search(folded))
    bound = ">=" if FLOOR_WORDS.search(folded) else "<=" if CEILING_WORDS.search(folded) else None
    return MeasureQuery(text=folded, terms=terms, wants_number=wants, units=frozenset(units), bound=bound,
                        year_sense=year_sense(folded), concepts=tuple(concepts.items()), weak=weak,
                        cue_units=tuple(sorted(cue_units.items())))


def year_sense(text: str) -> str | None:
    """What a number of years in this text measures: `age`, a plan `period`, or None (a tenure or unknown)."""
    for sense, pattern in YEAR_SENSES:
        if pattern.search(text):
            return sense
    return None


# ----- scoring ---------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _term_probe(term: str) -> tuple[Callable[[str], object], frozenset[str], int]:
    """What `_term_credit` asks of a text for this term, prepared once: one search for every string whose
    presence means the text names the term (synonyms.names: the term, its other synonyms, and for a
    one-character synonym such as 校 the forms 每校, 各校 …), and the term's characters for partial credit."""
    needles = [term]
    for other in sorted(synonyms.synonyms_of(term)):
        if other == term:
            continue
        if len(other) == 1:
            if term.endswith(other):
                needles.extend(ch + other for ch in "每各全本该")
            continue
        needles.append(other)
    pattern = re.compile("|".join(re.escape(n) for n in dict.fromkeys(needles)))
    chars = frozenset(term)
    return pattern.search, chars, len(chars)


@functools.lru_cache(maxsize=CREDIT_CACHE_SIZE)
def _term_credit(term: str, text: str) -> float:
    """1 when the text names the term (or a synonym); partial credit when it shares characters with it."""
    named, chars, count = _term_probe(term)
    if named(text) is not None:
        return 1.0
    shared = sum(1 for ch in chars if ch in text)
    return 0.4 * shared / count if len(term) > 1 else 0.0


def coverage(terms: Sequence[tuple[str, float]], text: str, context: str = "",
             credited: frozenset[str] = frozenset()) -> float:
    """IDF-weighted share of the topic terms that the text names, in [0, 1]; `context` (the headings above the
    clause, the document title) counts at half weight, since it names the topic of the clause only broadly;
    `credited` terms (a cue word such as 期限 answered by the value's unit, 3年) count half as well: the unit
    says what kind of quantity it is, the phrase naming 期限 says which one."""
    if not terms:
        return 0.0
    folded, around = fold(text), fold(context)
    total = sum(w for _, w in terms)
    got = sum(w * max(_term_credit(t, folded), CONTEXT_CREDIT * _term_credit(t, around),
                      CONTEXT_CREDIT if t in credited else 0.0)
              for t, w in terms)
    return got / total if total else 0.0


def value_phrase(clause_text: str, req: Requirement) -> str:
    """The comma-delimited fragment of the clause that holds a requirement."""
    start = max(0, min(req.span_start, len(clause_text)))
    end = max(start, min(req.span_end, len(clause_text)))
    breaks = [m.start() for m in FRAGMENT_BREAK.finditer(clause_text, 0, start)]
    frag_start = breaks[-1] + 1 if breaks else 0
    after = FRAGMENT_BREAK.search(clause_text, end)
    return clause_text[frag_start : after.start() if after else len(clause_text)]


def value_coverage(terms: Sequence[tuple[str, float]], clause_text: str, req: Requirement, context: str = "",
                   credited: frozenset[str] = frozenset()) -> float:
    """How well a requirement's own phrase names the measure; the rest of the clause and its headings count at
    half weight (sentence-sized clauses often name the topic one phrase earlier: 因需实施教师组团流入,流入教师…)."""
    own = value_phrase(clause_text, req)
    return coverage(terms, f"{req.subject or ''} {own}", f"{clause_text} {context}", credited)


def unit_fits(req: Requirement, units: frozenset[str]) -> bool:
    """Whether a requirement's unit answers the query; a bare ratio (差异率低于0.15) answers a rate question."""
    if not units:
        return True
    return (req.unit or "") in units or (req.unit is None and "%" in units)


def judge(measure: MeasureQuery, hit: Hit, title: str = "") -> Candidate:
    """Score one clause against the measure and pick the requirement in it that sets the measure, if any."""
    headings = " ".join(hit.clause.section)
    cov = coverage(measure.terms, hit.clause.text, f"{headings} {title}")
    dense = float(hit.dense_score) if hit.dense_score is not None else 0.0
    named = named_terms(measure.terms, f"{hit.clause.text} {headings} {title}")
    cand = Candidate(hit=hit, relevance=dense + COVERAGE_WEIGHT * cov, coverage=cov, named=named,
                     missing=missing_concepts(measure, hit.clause.text, f"{headings} {title}"))
    best: tuple[float, float, int] | None = None
    for i, req in enumerate(hit.requirements):
        if req.kind != "requirement" or not unit_fits(req, measure.units) or not answers(measure, hit.clause.text, req):
            continue
        if is_plan_span(req, hit.clause.text):
            # 通过3年努力 has no subject of its own: it is the span of the plan the document is, so the document's
            # title names what it measures as its own phrase would
            vc = coverage(measure.terms, f"{req.subject or ''} {value_phrase(hit.clause.text, req)} {title}",
                          f"{hit.clause.text} {headings}", measure.credited_by(req.unit))
        else:
            vc = value_coverage(measure.terms, hit.clause.text, req, headings, measure.credited_by(req.unit))
        rank = vc + bound_bonus(measure, req)
        if best is None or rank > best[0] + 1e-9:
            best = (rank, vc, i)
    if best is not None:
        cand.value_rank, cand.value_coverage, cand.value = best[0], best[1], hit.requirements[best[2]]
    return cand


def answers(measure: MeasureQuery, clause_text: str, req: Requirement) -> bool:
    """Whether the requirement measures what the query asks, beyond its unit: a number of years of the same
    sense (no age for a tenure), and a share that is the value rather than a selector (后50%的学校)."""
    if is_selector(req, clause_text):
        return False
    if names_another_rate(measure.text, req.subject or ""):
        return False
    if req.unit in YEAR_UNITS:
        sense = year_sense(f"{req.subject or ''} {value_phrase(clause_text, req)}")
        if sense is not None and sense != measure.year_sense:
            return False
    return True


RATE_STEM = re.compile(r"([\u4e00-\u9fff]{2})率")


def names_another_rate(measure_text: str, subject: str) -> bool:
    """Whether the value's subject is a different rate from the one the measure asks for: 学业水平合格率 does
    not answer 入学率, nor 巩固率 a 入园率 (a synonym, 达标率 for 合格率, does)."""
    asked = [stem for stem in RATE_STEM.findall(measure_text) if f"{stem[-1]}率" not in NOT_RATE]
    given = [stem for stem in RATE_STEM.findall(subject) if f"{stem[-1]}率" not in NOT_RATE]
    return bool(asked and given) and not any(synonyms.names(stem, subject) for stem in asked)


def is_plan_span(req: Requirement, clause_text: str) -> bool:
    """Whether a number of years is a plan horizon (通过3年努力, 用3至5年的时间): the span of the document's own
    plan, rather than a window with a goal of its own (3年内实现全覆盖) or a tenure."""
    if req.unit not in YEAR_UNITS:
        return False
    start = max(0, min(req.span_end, len(clause_text)))
    return PLAN_SPAN_AFTER.match(clause_text, start) is not None and req.span_start > 0 \
        and PLAN_SPAN_BEFORE.search(clause_text, 0, req.span_start) is not None


def is_selector(req: Requirement, clause_text: str | None = None) -> bool:
    """Whether a share picks out whom the requirement is about (后50%的学校…全覆盖, 前30%的学生) rather than
    being its value."""
    text = req.text if clause_text is None else clause_text
    start = max(0, min(req.span_start, len(text)))
    end = max(start, min(req.span_end, len(text)))
    return req.unit == "%" and bool(SELECTOR_BEFORE.search(text[:start]) or req.span[:1] in "前后末") \
        and text[end:end + 1] == "的"


def bound_bonus(measure: MeasureQuery, req: Requirement) -> float:
    """Ranking only: a query asking for a floor (最少要待几年) prefers 不少于3年 over a plain 2年."""
    if measure.bound is None:
        return 0.0
    return BOUND_BONUS if comparator_family(req.comparator) == measure.bound else 0.0


def missing_concepts(measure: MeasureQuery, text: str, context: str = "") -> float:
    """The share of the measure's (non-weak) weight that neither the clause nor its headings and title name, by a
    word or a synonym of its concept: 毕业年级交流轮岗教师比例 against a clause on all rotating teachers misses
    毕业 and 年级; 骨干教师比例 against one on all teachers misses 骨干."""
    folded = f"{fold(text)} {fold(context)}"
    concept_of = dict(measure.concepts)
    strong = [(t, w) for t, w in measure.terms if t not in measure.weak]
    total = sum(w for _, w in strong)
    if not total:
        return 0.0
    named_concepts = {concept_of.get(t, t) for t, _ in strong if _term_credit(t, folded) >= 1.0}
    named_terms_ = {t for t, _ in strong if _term_credit(t, folded) >= 1.0}
    missing = 0.0
    for term, weight in strong:
        key = concept_of.get(term, term)
        # a synonym of the same concept names it (轮岗 for 交流); a part of a compound must be named itself
        if term in named_terms_ or (key in named_concepts and _synonym_concept(measure, key)):
            continue
        missing += weight
    return missing / total


def _synonym_concept(measure: MeasureQuery, key: str) -> bool:
    """Whether a concept's words are synonyms of one another (any names it), not the parts of a compound."""
    words = [t for t, c in measure.concepts if c == key]
    return len(words) > 1 and all(w in synonyms.synonyms_of(words[0]) for w in words[1:])


def named_terms(terms: Sequence[tuple[str, float]], text: str) -> int:
    """How many topic terms the text names outright (or by a synonym)."""
    folded = fold(text)
    return sum(1 for t, _ in terms if _term_credit(t, folded) >= 1.0)


def decides_found(measure: MeasureQuery, cand: Candidate, threshold: float) -> bool:
    """The calibrated rule: see the module docstring."""
    dense = float(cand.hit.dense_score) if cand.hit.dense_score is not None else 0.0
    if dense < threshold:
        return False
    if measure.wants_number:
        return (cand.value is not None and cand.value_coverage >= MIN_VALUE_COVERAGE
                and cand.missing < MAX_MISSING_CONCEPTS)
    needed = min(MIN_NAMED_TERMS, len(measure.terms))
    return cand.coverage >= MIN_CLAUSE_COVERAGE and cand.named >= needed


def judge_region(
    measure: MeasureQuery, region: dict[str, Any], hits: Sequence[Hit], threshold: float,
    titles: dict[str, str] | None = None,
) -> RegionResult:
    """One region's column from its best search hits (`titles`: doc_id → title, used as weak context)."""
    titles = titles or {}
    candidates = [judge(measure, h, titles.get(h.clause.doc_id, "")) for h in hits]
    accepted = [c for c in candidates if decides_found(measure, c, threshold)]
    result = RegionResult(
        region_id=str(region["region_id"]),
        region=str(region.get("region") or region["region_id"]),
        level=region.get("level"),
        found=bool(accepted),
        parents=[str(p) for p in region.get("parent_region_ids") or []],
        doc_id=region.get("doc_id"),
    )
    if accepted:
        accepted.sort(key=lambda c: (-(c.value_rank if measure.wants_number else 0.0), -c.relevance))
        result.matches = [c.hit for c in accepted[:MATCHES_SHOWN]]
        result.nearest = accepted[0]
        valued = [c for c in accepted if c.value is not None and c.value_coverage >= MIN_VALUE_COVERAGE]
        result.value_options = [c.value for c in valued if c.value is not None]
        result.value_ranks = [c.value_rank for c in valued]
        result.value = result.value_options[0] if result.value_options else None
    elif candidates:
        result.nearest = max(candidates, key=lambda c: c.relevance)
        result.reason = why_not(measure, result.nearest, threshold)
    return result


def why_not(measure: MeasureQuery, cand: Candidate, threshold: float) -> str:
    """Why a clause does not set the measure, as a reader would check it (the 未规定 cell shows it)."""
    dense = float(cand.hit.dense_score) if cand.hit.dense_score is not None else 0.0
    clause = f"{cand.hit.clause.text} {' '.join(cand.hit.clause.section)}"
    unnamed = whole_words(measure.text, [t for t, _ in measure.terms
                                         if t not in measure.weak and _term_credit(t, fold(clause)) < 1.0])
    if dense < threshold:
        return "条款与该指标语义相关度不足"
    if measure.wants_number:
        if cand.value is None:
            # A clause that names hardly any of the measure is not "about it without a number": say what it lacks.
            return f"条款未提及{'、'.join(unnamed)}，也未设定数值" if len(unnamed) >= 2 else "条款未设定该指标的数值"
        if cand.missing >= MAX_MISSING_CONCEPTS or cand.value_coverage < MIN_VALUE_COVERAGE:
            return "数值所指的不是该指标" + (f"（未提及{'、'.join(unnamed)}）" if unnamed else "")
    return "条款未提及" + "、".join(unnamed) if unnamed else "条款对该指标的表述不充分"


# ----- aligning values --------------------------------------------------------------------------------------------
def comparator_family(comparator: str) -> str:
    """`>=` and `>` are one family (a floor), `<=` and `<` another (a ceiling); = and ~ a target."""
    return COMPARATOR_FAMILY.get(comparator, comparator)


def strictest_regions(values: dict[str, Requirement], family: str) -> list[str]:
    """Every region tied for the strictest value: for a floor the highest, for a ceiling the lowest; a target
    has no strictest, and when all values are equal nobody is stricter."""
    numeric = {rid: float(r.value) for rid, r in values.items() if not isinstance(r.value, list)}
    if len(numeric) < 2 or family not in (">=", "<="):
        return []
    pick = max if family == ">=" else min
    best = pick(numeric.values())
    winners = [rid for rid, v in numeric.items() if math.isclose(v, best)]
    return winners if len(winners) < len(numeric) else []


def strictest_region(values: dict[str, Requirement], family: str) -> str | None:
    """The first of `strictest_regions` (kept for the JSON `strictest` key)."""
    winners = strictest_regions(values, family)
    return winners[0] if winners else None


def align_values(regions: Sequence[RegionResult]) -> list[AlignedValues]:
    """Each found region's value grouped by (unit, comparator family); groups in order of first appearance."""
    groups: dict[tuple[str | None, str], dict[str, Requirement]] = {}
    for r in regions:
        if r.found and r.value is not None:
            key = (r.value.unit, comparator_family(r.value.comparator))
            groups.setdefault(key, {})[r.region_id] = r.value
    return [
        AlignedValues(unit=unit, comparator=family, values=vals, strictest=strictest_region(vals, family),
                      strictest_all=strictest_regions(vals, family))
        for (unit, family), vals in groups.items()
    ]


# ----- entry point -------------------------------------------------------------------------------------------------
def ordered_regions(regions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable column order: administrative level (province first), then region_id."""
    return sorted(regions, key=lambda r: (LEVEL_ORDER.get(str(r.get("level")), len(LEVEL_ORDER)), r["region_id"]))


def background_weighted(measure: MeasureQuery, texts: Sequence[str]) -> MeasureQuery:
    """Down-weight terms that most candidate clauses share: in a corpus about 集团化办学, naming 集团 says little.

    The candidate pool (every region's best clauses) stands in for the collection, so the weights adapt to
    whatever the index is about.
    """
    if not texts or not measure.terms:
        return measure
    folded = [fold(t) for t in texts]
    weighted = []
    for term, weight in measure.terms:
        rate = sum(1 for t in folded if _term_credit(term, t) >= 1.0) / len(folded)
        weighted.append((term, weight * (1.0 - BACKGROUND_DAMPING * rate)))
    return MeasureQuery(measure.text, tuple(weighted), measure.wants_number, measure.units, measure.bound,
                        measure.year_sense, measure.concepts, measure.weak, measure.cue_units)


def _value_key(req: Requirement) -> tuple[str, str]:
    return (req.unit or "", comparator_family(req.comparator))


def prefer_shared_units(results: list[RegionResult]) -> list[RegionResult]:
    """Where a region sets the measure twice in different units (1门共享课程 and 二分之一的学生有共享课程),
    show the value whose unit and comparator the other regions use, so the row lines up; else keep the best."""
    for result in results:
        if len(result.value_options) < 2:
            continue
        others = Counter(
            _value_key(other.value_options[0]) for other in results
            if other is not result and other.value_options
        )
        ranks = result.value_ranks or [0.0] * len(result.value_options)
        # only a value about as sure as the best may be preferred: lining a row up must not pick a worse match
        # (北京's 任职满6年 is a 年 floor like the others' 期限不少于3年, but its phrase does not name 期限)
        close = [req for req, rank in zip(result.value_options, ranks, strict=False) if rank >= ranks[0] - VALUE_TIE]
        best = max(close, key=lambda req: others[_value_key(req)])
        if others[_value_key(best)] > others[_value_key(result.value_options[0])]:
            result.value = best
    return results


def compare_hits(
    query: str, regions: Sequence[dict[str, Any]], hits: dict[str, list[Hit]], threshold: float,
    titles: dict[str, str] | None = None, documents: dict[str, dict[str, Any]] | None = None,
) -> Comparison:
    """The comparison from each region's search hits: pure, so calibration can replay it at many thresholds.
    `documents` (doc_id → title, date) dates the values when a region's documents disagree."""
    pool = {
        h.clause.clause_id: h.clause.text for region_hits in hits.values() for h in region_hits[:BACKGROUND_DEPTH]
    }
    measure = background_weighted(parse_measure(query), list(pool.values()))
    results = prefer_shared_units(
        [judge_region(measure, r, hits.get(r["region_id"], []), threshold, titles) for r in regions]
    )
    return Comparison(query=query, measure=measure, regions=results, aligned=align_values(results),
                      threshold=threshold, documents=documents or {})


DOC_COLUMN_PREFIX = "doc:"


def document_columns(kb: Any, regions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A column per document that names no region, titled by the document: national and unplaced texts must not
    merge into one nameless column. A knowledge base that keeps them per build (`unplaced_columns`) is asked."""
    if not any(not r["region_id"] for r in regions):
        return []
    if hasattr(kb, "unplaced_columns"):
        return list(kb.unplaced_columns())
    return unplaced_columns(kb.documents())


def unplaced_columns(documents: Sequence[Any]) -> list[dict[str, Any]]:
    """The compare columns of the documents without a region, by column id."""
    columns = []
    for doc in documents:
        if not doc.metadata.region_id:
            title = doc.metadata.title or untitled_name(doc.text)
            columns.append({"region_id": DOC_COLUMN_PREFIX + doc.doc_id, "region": title, "level": None,
                            "parent_region_ids": [], "doc_id": doc.doc_id})
    return sorted(columns, key=lambda c: c["region_id"])


# Markers a scraped text may open with that name no document: a journal's <正>, a bracketed rubric 【新闻背景】.
_OPENING_MARKERS = re.compile(r"^(?:\s|<[^<>]{1,4}>|【[^【】]{1,8}】|\[[^\[\]]{1,8}\])+")
UNTITLED_OPENING_CHARS = 14


def untitled_name(text: str) -> str:
    """A column name for a document without a title: its opening words, so a reader can tell two such columns
    apart and recognise the text (a document id means nothing to a planner)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    opening = _OPENING_MARKERS.sub("", first)
    if len(opening) > UNTITLED_OPENING_CHARS:
        opening = opening[:UNTITLED_OPENING_CHARS].rstrip("，,、；;：:") + "…"
    return f"（无标题）{opening}" if opening else "（无标题）"


def region_hits(kb: Any, query: str, region: dict[str, Any], below: int) -> list[Hit]:
    """A column's best clauses: its own, not those of the regions below it (a city's column must not show a
    district's clause), so the search looks deeper when `below` regions share the filter."""
    if region.get("doc_id"):
        return list(kb.search(query, k=SEARCH_DEPTH, doc_id=region["doc_id"]))
    depth = min(200, SEARCH_DEPTH * (1 + below))
    hits = kb.search(query, k=depth, region_ids=[region["region_id"]])
    return [h for h in hits if h.clause.region_id == region["region_id"]][:SEARCH_DEPTH]


def column_search(region: dict[str, Any], below: int) -> tuple[int, list[str] | None, str | None]:
    """The search (k, region filter, document) that finds a column's clauses: see `region_hits`."""
    if region.get("doc_id"):
        return SEARCH_DEPTH, None, str(region["doc_id"])
    return min(200, SEARCH_DEPTH * (1 + below)), [str(region["region_id"])], None


def columns_hits(kb: Any, query: str, regions: Sequence[dict[str, Any]], below: dict[str, int]) -> dict[str, list[Hit]]:
    """Every column's best clauses (as `region_hits` finds them), in one batched search when the knowledge base
    offers one: one engine, the query read once, two store round trips for all columns."""
    if not hasattr(kb, "search_columns"):
        return {r["region_id"]: region_hits(kb, query, r, below[r["region_id"]]) for r in regions}
    searches = [column_search(r, below[r["region_id"]]) for r in regions]
    found = kb.search_columns(query, searches)
    out: dict[str, list[Hit]] = {}
    for region, hits in zip(regions, found, strict=True):
        if region.get("doc_id"):
            out[region["region_id"]] = list(hits)
        else:
            out[region["region_id"]] = [h for h in hits if h.clause.region_id == region["region_id"]][:SEARCH_DEPTH]
    return out


def compare_measure(kb: Any, query: str, region_ids: Sequence[str] | None = None) -> Comparison:
    """One measure across regions: each region's best clauses, `found` by the calibrated rule, values aligned."""
    indexed = kb.regions()
    regions = ordered_regions([r for r in indexed if r["region_id"]]) + document_columns(kb, indexed)
    if region_ids:
        wanted = set(region_ids)
        regions = [r for r in regions if r["region_id"] in wanted or r.get("doc_id") and "" in wanted]
    below = {r["region_id"]: sum(1 for o in indexed if r["region_id"] in (o.get("parent_region_ids") or []))
             for r in regions}
    hits = columns_hits(kb, query, regions, below)
    doc_ids = {h.clause.doc_id for column in hits.values() for h in column}
    documents = {}
    if hasattr(kb, "document_headings"):  # one query for every document's title and date
        headings = kb.document_headings(sorted(doc_ids))
        documents = {d: {"title": headings[d][0], "date": headings[d][1]} for d in sorted(doc_ids)}
    else:
        for d in sorted(doc_ids):
            meta = kb.document(d).metadata
            documents[d] = {"title": meta.title or "", "date": meta.date}
    titles = {d: str(v["title"]) for d, v in documents.items()}
    return compare_hits(query, regions, hits, float(kb.settings.compare_threshold), titles, documents)
