"""The draft builder: a first draft of a local plan, every clause adapted from and citing an indexed clause.

No language model. For each measure (a theme query) the comparison gives each region's clauses and values; the
source clause is the parent region's (a district localises its city's plan) or else the best peer's. Its text is
adapted mechanically: the requirement numbers are set to the chosen targets inside their spans (comparator and
unit words kept), then region, issuer and level words are renamed. A district may be stricter than its parent,
never looser: a looser target is raised back to the parent's value with a warning. Framing sections (指导思想,
工作目标, 保障措施) are the parent's own clauses, adapted the same way. Every clause carries its citation.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb.errors import NotFoundError, PolicyKBError
from policykb.records import Clause, Document, Hit, Requirement
from policykb.render import chinese_punctuation, chinese_value

log = logging.getLogger(__name__)

POLICIES = ("parent", "strictest", "median", "custom")

# The parts a plan's clauses are sorted into, and the standard outline of a local plan they are written under:
# 一、总体要求 ((一)指导思想 (二)工作目标) 二、主要任务 三、保障措施.
OUTLINE: tuple[str, ...] = ("指导思想", "工作目标", "主要任务", "保障措施")
GENERAL_PART = "总体要求"
GENERAL_SUBPARTS = ("指导思想", "工作目标")
PART_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("指导思想", re.compile(r"指导思想|总体思路|基本原则")),
    ("工作目标", re.compile(r"目标|愿景")),
    ("保障措施", re.compile(r"保障|组织实施|组织领导|工作要求")),
    ("主要任务", re.compile(r"任务|举措|措施|重点|内容")),
)
FRAMING_PARTS = ("指导思想", "工作目标", "保障措施")

LEVEL_SUFFIX = {"province": "省", "city": "市", "district": "区", "county": "县"}
SUFFIX_LEVEL = {v: k for k, v in LEVEL_SUFFIX.items()}
# The education authority of a region at each level.
AUTHORITY = {"province": "教育厅", "city": "教育局", "district": "教育局", "county": "教育局"}

# Two requirements in different clauses set the same measure when their phrases are this alike.
COUNTERPART_MIN_SIMILARITY = 0.3

_TITLE = re.compile(r"《[^《》]*》")
_YEARS = re.compile(r"[(（]\s*\d{4}\s*[-—–~至]\s*\d{4}\s*年?\s*[)）]")
_DOC_KIND = re.compile(
    r"(?:[一二三四五]年|\d年)?(?:行动计划|实施意见|实施方案|工作方案|指导意见|行动方案|意见|方案|规划|计划|办法|通知)$"
)
_CN_DIGIT = "零一二三四五六七八九"
_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


# ----- records --------------------------------------------------------------------------------------------


@dataclass
class Citation:
    """Where a draft clause came from."""

    doc_id: str
    region_id: str
    region: str
    clause_id: str
    section: list[str]
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "region_id": self.region_id, "region": self.region,
            "clause_id": self.clause_id, "section": list(self.section), "title": self.title,
        }

    def label(self) -> str:
        """`上海市《…》 二、主要任务 > … (clause id)`: one line for a footnote or a table."""
        title = f"《{self.title}》" if self.title else ""
        section = " > ".join(self.section)
        return f"{self.region}{title} {section} ({self.clause_id})".strip()


@dataclass
class Target:
    """The number chosen for one requirement of a source clause, and how it was chosen."""

    span: str
    comparator: str
    unit: str | None
    source_value: float | list[float]
    value: float | list[float]
    parent_value: float | list[float] | None
    policy: str
    basis: dict[str, float | list[float]] = field(default_factory=dict)  # region_id → that region's value

    @property
    def departs(self) -> bool:
        return self.parent_value is not None and not _same(self.value, self.parent_value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "span": self.span, "comparator": self.comparator, "unit": self.unit,
            "source_value": self.source_value, "value": self.value, "parent_value": self.parent_value,
            "policy": self.policy, "basis": dict(self.basis), "departs_from_parent": self.departs,
        }


@dataclass
class DraftClause:
    """One clause of the draft: adapted text, its source, the targets set in it and notes for the drafter."""

    text: str
    source: Citation
    original: str
    part: str
    measures: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changes: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source.to_dict(),
            "original": self.original,
            "measures": list(self.measures),
            "target": self.targets[0].to_dict() if self.targets else None,
            "targets": [t.to_dict() for t in self.targets],
            "note": "；".join(self.notes) if self.notes else None,
            "notes": list(self.notes),
            "changes": list(self.changes),
        }


@dataclass
class DraftSection:
    """A heading of the draft (level 1: 一、; level 2: (一)) and the clauses directly under it."""

    heading: str
    level: int = 1
    clauses: list[DraftClause] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"heading": self.heading, "level": self.level, "clauses": [c.to_dict() for c in self.clauses]}


@dataclass
class Draft:
    """A draft plan: title, outline, clauses with citations, and warnings about measures not found."""

    title: str
    region: str
    level: str
    parent_region_id: str
    parent_region: str | None
    policy: str
    measures: list[str]
    sections: list[DraftSection]
    warnings: list[str] = field(default_factory=list)

    @property
    def clauses(self) -> list[DraftClause]:
        return [c for s in self.sections for c in s.clauses]

    def citations(self) -> list[Citation]:
        """Each distinct source once, numbered in order of first use (the [n] markers)."""
        seen: dict[str, Citation] = {}
        for c in self.clauses:
            seen.setdefault(c.source.clause_id, c.source)
        return list(seen.values())

    def citation_number(self, clause: DraftClause) -> int:
        ids = [c.clause_id for c in self.citations()]
        return ids.index(clause.source.clause_id) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "region": self.region,
            "level": self.level,
            "parent_region_id": self.parent_region_id,
            "parent_region": self.parent_region,
            "policy": self.policy,
            "measures": list(self.measures),
            "sections": [s.to_dict() for s in self.sections],
            "citations": [{"n": i, **c.to_dict()} for i, c in enumerate(self.citations(), 1)],
            "warnings": list(self.warnings),
        }


# ----- regions and names ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionNames:
    """What a region is called in a plan: its name, its level word (省/市/区/县) and its education authority."""

    name: str
    suffix: str
    issuer: str | None = None

    @property
    def stem(self) -> str:
        return self.name[:-1] if self.name.endswith(self.suffix) and len(self.name) > 2 else self.name


def level_of(name: str, level: str | None = None) -> str:
    """The level of a region: given, or read from its name's suffix (某某区 → district)."""
    if level:
        if level not in LEVEL_SUFFIX:
            raise PolicyKBError(f"unknown level {level!r}; use one of {', '.join(LEVEL_SUFFIX)}")
        return level
    if name and name[-1] in SUFFIX_LEVEL:
        return SUFFIX_LEVEL[name[-1]]
    raise PolicyKBError(f"cannot tell the level of {name!r} from its name; give --level")


def names_for(region: str, level: str | None, issuer: str | None = None) -> RegionNames:
    """Region naming for the adapter; the issuer defaults to the level's education authority."""
    lvl = level_of(region, level)
    suffix = region[-1] if region and region[-1] in SUFFIX_LEVEL else LEVEL_SUFFIX[lvl]
    return RegionNames(region, suffix, issuer or f"{region}{AUTHORITY[lvl]}")


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans never renamed: titles of other documents in 《》 (renaming would invent a document)."""
    return [m.span() for m in _TITLE.finditer(text)]


def adapt_names(text: str, source: RegionNames, target: RegionNames) -> tuple[str, list[dict[str, str]], list[str]]:
    """Rename the source region's name, issuer and level words for the target; returns text, changes, notes.

    `上海市` → target name; `上海市教育委员会`/`市教委` → the target's authority; when the level changes,
    `本市/全市` → `本区/全区`, `市委/市政府/市级` → `区委/区政府/区级`, and `各区` (the parent's sub-units) →
    `本区`. Titles in 《》 are kept and flagged when they name the source region.
    """
    rules: list[tuple[re.Pattern[str], str]] = []
    short_authority = target.suffix + (AUTHORITY[SUFFIX_LEVEL[target.suffix]] if target.suffix in SUFFIX_LEVEL else "")
    if source.issuer and source.issuer != target.issuer and target.issuer:
        rules.append((re.compile(re.escape(source.issuer)), target.issuer))
    if source.name != target.name:
        rules.append((re.compile(re.escape(source.name)), target.name))
    p, t = source.suffix, target.suffix
    if p != t:
        rules += [
            (re.compile(rf"{p}(?:教委|教育委员会|教育局|教育厅)"), short_authority),
            (re.compile(rf"([本全]){p}"), rf"\g<1>{t}"),
            (re.compile(rf"(?:鼓励|支持|指导|督促|要求)各{t}(?=[^级]|$)"), f"本{t}"),
            (re.compile(rf"各{t}(?=[^级]|$)"), f"本{t}"),
            (re.compile(rf"(?<![城都县省区本全各]){p}(?=委(?!员)|政府|人民政府|级|教科院|直属)"), t),
        ]
    protected = _protected(text)
    out: list[str] = []
    changes: list[dict[str, str]] = []
    pos = 0
    while pos < len(text):
        best: tuple[int, int, str] | None = None
        for pattern, repl in rules:
            m = pattern.search(text, pos)
            while m and any(s <= m.start() < e for s, e in protected):
                m = pattern.search(text, m.end())
            if m and (best is None or m.start() < best[0] or (m.start() == best[0] and m.end() > best[1])):
                best = (m.start(), m.end(), m.expand(repl))
        if best is None:
            out.append(text[pos:])
            break
        start, end, new = best
        out.append(text[pos:start])
        out.append(new)
        if text[start:end] != new:
            changes.append({"kind": "name", "before": text[start:end], "after": new})
        pos = end
    notes = [
        f"保留了引用的文件名{text[s:e]}，请核对本地是否有对应文件"
        for s, e in protected
        if source.name in text[s:e] or (source.stem and source.stem in text[s:e])
    ]
    return "".join(out), changes, notes


def strip_marker(text: str) -> str:
    """Drop a leading outline marker (`(一)`, `1.`, `二、`): the draft numbers its own outline."""
    from policykb.segment import parse_marker

    body = text.lstrip()
    marker = parse_marker(body)
    return body[marker.length :].lstrip() if marker else text


def heading_label(label: str) -> str:
    """A source heading without its marker and trailing punctuation."""
    return strip_marker(label).strip().rstrip("。；;：:，,")


def part_of(section: Sequence[str]) -> str:
    """Which part of the four-part outline a source section belongs to (innermost matching heading wins)."""
    for label in reversed(section):
        text = heading_label(label)
        for part, cue in PART_CUES:
            if cue.search(text):
                return part
    return "主要任务"


def theme_of(title: str | None, region: str | None) -> str | None:
    """The theme words of a plan's title: 上海市示范性学区和集团建设三年行动计划(2023-2025年) → 示范性学区和集团建设."""
    if not title:
        return None
    theme = _YEARS.sub("", title).strip()
    if region and theme.startswith(region):
        theme = theme[len(region) :]
    theme = re.sub(r"^关于", "", theme)
    theme = _DOC_KIND.sub("", theme).strip()
    theme = re.sub(r"的$", "", theme)
    return theme or None


# ----- numbers --------------------------------------------------------------------------------------------

_NUMBER_FORMS = re.compile(
    r"(?P<frac>[一二两三四五六七八九十]+分之[一二三四五六七八九十]+)"
    r"|(?P<arabic>\d+(?:\.\d+)?)"
    r"|(?P<cn>[一二两三四五六七八九十百]+)"
)


def _same(x: float | list[float] | None, y: float | list[float] | None) -> bool:
    if isinstance(x, list) or isinstance(y, list):
        return x == y
    if x is None or y is None:
        return x is y
    return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def cn_int(n: int) -> str:
    """An integer below 100 in Chinese numerals (3 → 三, 12 → 十二, 25 → 二十五)."""
    if n < 10:
        return _CN_DIGIT[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGIT[tens]) + "十" + (_CN_DIGIT[ones] if ones else "")


def _cn_value(s: str) -> int | None:
    if not s or any(ch not in _CN_VALUE and ch not in "十百" for ch in s):
        return None
    total, current = 0, 0
    for ch in s:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            current = _CN_VALUE[ch]
    return total + current


def rewrite_number(span: str, old: float, new: float, unit: str | None) -> str | None:
    """The span with the number that states `old` replaced by `new` in the same style; None if not found.

    `不低于30%` → `不低于35%`; `不少于三年` → `不少于五年`; a fraction (`二分之一`, a share in %) becomes a
    percentage (`60%`) since most new values have no neat fraction.
    """
    for m in _NUMBER_FORMS.finditer(span):
        text = m.group(0)
        if m.group("arabic"):
            value = float(text)
            if _same(value, old) or (unit == "%" and _same(value * 100, old)):
                return span[: m.start()] + _fmt(new) + span[m.end() :]
        elif m.group("cn"):
            value_cn = _cn_value(text)
            if value_cn is not None and _same(float(value_cn), old):
                shown = cn_int(int(new)) if float(new).is_integer() and 0 <= new < 100 else _fmt(new)
                return span[: m.start()] + shown + span[m.end() :]
        elif m.group("frac"):
            den, num = text.split("分之")
            d, n = _cn_value(den), _cn_value(num)
            if d and n is not None and _same(100.0 * n / d, old):
                return span[: m.start()] + f"{_fmt(new)}%" + span[m.end() :]
    return None


def _family(comparator: str) -> str:
    return {">": ">=", ">=": ">=", "<": "<=", "<=": "<="}.get(comparator, comparator)


def _phrase(clause_text: str, req: Requirement) -> str:
    """The words that say what a requirement measures: its subject and the fragment around its span."""
    from policykb.compare import value_phrase

    own = value_phrase(clause_text, req)
    # The fragment before it often names the measure (因需实施教师组团流入,流入教师人数不少于3人).
    head = clause_text[: clause_text.find(own)].rstrip(",，;；:： ") if own else ""
    previous = re.split(r"[,，;；:：]", head)[-1] if head else ""
    return f"{req.subject or ''}{previous}{own}".replace(req.span, "")


def _dice(a: str, b: str) -> float:
    ga = {a[i : i + 2] for i in range(len(a) - 1)}
    gb = {b[i : i + 2] for i in range(len(b) - 1)}
    return 2.0 * len(ga & gb) / (len(ga) + len(gb)) if ga and gb else 0.0


def counterparts(
    req: Requirement, clause_text: str, region_hits: dict[str, list[Hit]]
) -> dict[str, Requirement]:
    """Each region's requirement that sets the same thing as `req`: same unit and comparator family, alike words."""
    mine = _phrase(clause_text, req)
    out: dict[str, Requirement] = {}
    for region_id, hits in region_hits.items():
        best: tuple[float, Requirement] | None = None
        for hit in hits:
            for other in hit.requirements:
                if other.kind != "requirement" or other.unit != req.unit or _family(other.comparator) != _family(req.comparator):
                    continue
                if other.clause_id == req.clause_id and other.span_start == req.span_start:
                    score = 2.0  # the requirement itself
                else:
                    score = _dice(mine, _phrase(hit.clause.text, other))
                if score >= COUNTERPART_MIN_SIMILARITY and (best is None or score > best[0]):
                    best = (score, other)
        if best is not None:
            out[region_id] = best[1]
    return out


def choose_value(
    req: Requirement, basis: dict[str, Requirement], parent_id: str, policy: str, custom: float | None
) -> tuple[float | list[float], list[str]]:
    """The target for one requirement under a policy, and notes on how it was reached."""
    notes: list[str] = []
    parent = basis.get(parent_id)
    fallback = parent.value if parent is not None else req.value
    numeric = {rid: float(r.value) for rid, r in basis.items() if not isinstance(r.value, list)}
    family = _family(req.comparator)
    if isinstance(req.value, list):
        if policy != "parent":
            notes.append(f"{req.span}为范围值，沿用来源数值")
        return fallback, notes
    if policy == "parent":
        return fallback, notes
    if policy == "custom":
        if custom is None:
            notes.append(f"未给出{req.span}的自定义值，沿用上级数值")
            return fallback, notes
        return float(custom), notes
    if policy == "strictest":
        if family not in (">=", "<="):
            notes.append(f"{req.span}不是上下限，无所谓最严，沿用上级数值")
            return fallback, notes
        return (max if family == ">=" else min)(numeric.values()), notes
    if policy == "median":
        peers = [v for rid, v in numeric.items() if rid != parent_id] or list(numeric.values())
        return float(statistics.median(peers)), notes
    raise PolicyKBError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")


def floor_at_parent(value: float | list[float], parent: Requirement | None, comparator: str) -> tuple[float | list[float], bool]:
    """A district may be stricter than its parent, not looser: a looser value is raised back to the parent's."""
    if parent is None or isinstance(value, list) or isinstance(parent.value, list):
        return value, False
    family = _family(comparator)
    if (family == ">=" and value < parent.value) or (family == "<=" and value > parent.value):
        return float(parent.value), True
    return value, False


# ----- building -------------------------------------------------------------------------------------------


@dataclass
class _Sources:
    """What the builder knows about the indexed documents, by region and by document id."""

    documents: dict[str, Document]
    regions: dict[str, dict[str, Any]]

    def region_name(self, region_id: str) -> str:
        r = self.regions.get(region_id) or {}
        return str(r.get("region") or region_id)

    def names(self, region_id: str, doc_id: str | None) -> RegionNames:
        doc = self.documents.get(doc_id or "")
        name = (doc.metadata.region if doc else None) or self.region_name(region_id)
        level = (doc.metadata.level if doc else None) or (self.regions.get(region_id) or {}).get("level")
        try:
            return names_for(name, level if level in LEVEL_SUFFIX else None, doc.metadata.issuer if doc else None)
        except PolicyKBError:
            return RegionNames(name, name[-1:], doc.metadata.issuer if doc else None)

    def citation(self, clause: Clause) -> Citation:
        doc = self.documents.get(clause.doc_id)
        return Citation(
            doc_id=clause.doc_id, region_id=clause.region_id, region=self.region_name(clause.region_id),
            clause_id=clause.clause_id, section=list(clause.section),
            title=doc.metadata.title if doc else None,
        )


def _sources(kb: Any) -> _Sources:
    docs = {d.doc_id: d for d in kb.documents()}
    regions = {r["region_id"]: r for r in kb.regions()}
    return _Sources(docs, regions)


def _parent_document(sources: _Sources, parent_id: str) -> Document | None:
    """The parent's plan: a policy document of that region, the newest first."""
    docs = [d for d in sources.documents.values() if d.metadata.region_id == parent_id]
    docs.sort(key=lambda d: (d.metadata.kind != "policy", _neg_date(d.metadata.date), d.doc_id))
    return docs[0] if docs else None


def _neg_date(date: str | None) -> str:
    # Newest first under an ascending sort: invert the digits of YYYY-MM-DD.
    return "".join(str(9 - int(ch)) if ch.isdigit() else ch for ch in (date or "0000-00-00"))


def _pick_source(comparison: Any, parent_id: str) -> tuple[Hit, Any] | None:
    """The parent's clause if the parent sets the measure, else the best-scoring peer clause."""
    found = [r for r in comparison.regions if r.found and r.matches]
    if not found:
        return None
    for region in found:
        if region.region_id == parent_id:
            return _best_hit(region), region
    region = max(found, key=lambda r: r.matches[0].score)
    return _best_hit(region), region


def _best_hit(region: Any) -> Hit:
    """The match holding the region's value for the measure, else its best match."""
    value = getattr(region, "value", None)
    if value is not None:
        for hit in region.matches:
            if hit.clause.clause_id == value.clause_id:
                return hit
    return region.matches[0]


def adapt_clause(
    clause: Clause,
    requirements: Sequence[Requirement],
    citation: Citation,
    part: str,
    source_names: RegionNames,
    target_names: RegionNames,
    targets: Sequence[Target] = (),
) -> DraftClause:
    """Set the targets' numbers inside their spans, strip the outline marker, then rename region words."""
    text = clause.text
    changes: list[dict[str, str]] = []
    notes: list[str] = []
    by_span = sorted(zip(requirements, targets, strict=True), key=lambda rt: rt[0].span_start, reverse=True)
    for req, tgt in by_span:
        if _same(tgt.value, req.value) or isinstance(tgt.value, list) or isinstance(req.value, list):
            continue
        span = text[req.span_start : req.span_end]
        new_span = rewrite_number(span, float(req.value), float(tgt.value), req.unit)
        if new_span is None:
            notes.append(f"未能在“{span}”中改写数值，请手工改为{_fmt(float(tgt.value))}{req.unit or ''}")
            continue
        text = text[: req.span_start] + new_span + text[req.span_end :]
        changes.append({"kind": "number", "before": span, "after": new_span})
    stripped = strip_marker(text)
    if stripped != text:
        changes.append({"kind": "marker", "before": text[: len(text) - len(stripped)], "after": ""})
        text = stripped
    text, name_changes, name_notes = adapt_names(text, source_names, target_names)
    full = chinese_punctuation(text)
    if full != text:  # GB/T 15834: the marks inside Chinese sentences are full-width
        marks = "".join(a for a, b in zip(text, full, strict=True) if a != b)
        name_changes.append({"kind": "punctuation", "before": marks, "after": chinese_punctuation(marks)})
        text = full
    return DraftClause(
        text=text, source=citation, original=clause.text, part=part, targets=list(targets),
        notes=notes + name_notes, changes=changes + name_changes,
    )


def _target_notes(tgt: Target, parent_name: str) -> list[str]:
    """Notes for a target that was not raised: the parent set nothing, or the target is stricter than it."""
    unit = tgt.unit or ""
    if tgt.parent_value is None:
        return [f"上级{parent_name}未对“{tgt.span}”作出数量规定"]
    if tgt.departs:
        return [
            f"较上级{parent_name}要求更严：{chinese_value(tgt.comparator, tgt.parent_value, unit)}"
            f"→{chinese_value(tgt.comparator, tgt.value, unit)}"
        ]
    return []


def _show_value(v: Any) -> str:
    if isinstance(v, list):
        return "-".join(_fmt(x) for x in v)
    return _fmt(float(v))


def _custom_for(custom_values: dict[str, Any], measure: str, index: int) -> float | None:
    raw = custom_values.get(measure)
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        return float(raw[index]) if index < len(raw) else None
    return float(raw) if index == 0 else None


def _measure_clause(
    kb: Any, sources: _Sources, measure: str, parent_id: str, policy: str, custom_values: dict[str, Any],
    target: RegionNames, warnings: list[str],
) -> DraftClause | None:
    comparison = kb.compare(measure)
    picked = _pick_source(comparison, parent_id)
    if picked is None:
        warnings.append(f"“{measure}”：没有地区的条款规定此项，未写入草案")
        return None
    hit, region = picked
    clause = hit.clause
    region_hits = {r.region_id: list(r.matches) for r in comparison.regions if r.found and r.matches}
    reqs = sorted((r for r in hit.requirements if r.kind == "requirement"), key=lambda r: r.span_start)
    parent_name = sources.region_name(parent_id)
    targets: list[Target] = []
    notes: list[str] = []
    for index, req in enumerate(reqs):
        basis = counterparts(req, clause.text, region_hits)
        parent_req = basis.get(parent_id)
        chosen, why = choose_value(req, basis, parent_id, policy, _custom_for(custom_values, measure, index))
        value, raised = floor_at_parent(chosen, parent_req, req.comparator)
        tgt = Target(
            span=req.span, comparator=req.comparator, unit=req.unit, source_value=req.value, value=value,
            parent_value=parent_req.value if parent_req is not None else None, policy=policy,
            basis={rid: r.value for rid, r in basis.items()},
        )
        targets.append(tgt)
        notes += why
        if raised:
            notes.append(
                f"警告：按“{policy}”策略得到{_show_value(chosen)}{req.unit or ''}，比上级{parent_name}的要求"
                f"（{chinese_value(req.comparator, tgt.parent_value if tgt.parent_value is not None else value, req.unit)}）宽松；下级不得低于上级，已改回上级数值"
            )
        elif region.region_id == parent_id or parent_req is not None:
            notes += _target_notes(tgt, parent_name)
    if region.region_id != parent_id:
        notes.insert(0, f"上级{parent_name}未规定此项，取自{sources.region_name(region.region_id)}的条款")
    part = part_of(clause.section) if region.region_id == parent_id else "主要任务"
    if part in FRAMING_PARTS and part != "工作目标":
        part = "主要任务"
    drafted = adapt_clause(
        clause, reqs, sources.citation(clause), part, sources.names(region.region_id, clause.doc_id), target, targets
    )
    drafted.measures = [measure]
    drafted.notes = notes + drafted.notes
    source_names = sources.names(region.region_id, clause.doc_id)
    _complete(kb, sources, drafted, clause, source_names, target)
    if drop_higher_level_duties(drafted, source_names.suffix, target.suffix):
        warnings.append(f"“{measure}”：来源条款只规定了上级职责，未写入草案（{clause.clause_id}）")
        return None
    return drafted


def _framing_clauses(
    kb: Any, sources: _Sources, parent_doc: Document | None, target: RegionNames, skip: set[str],
    omitted: list[str],
) -> dict[str, list[DraftClause]]:
    """The parent plan's own 指导思想, 工作目标 and 保障措施 clauses, adapted (the plan's frame)."""
    out: dict[str, list[DraftClause]] = {}
    if parent_doc is None:
        return out
    names = sources.names(parent_doc.metadata.region_id or "", parent_doc.doc_id)
    for clause in kb.clauses(doc_id=parent_doc.doc_id):
        if clause.role != "body" or clause.clause_id in skip or not clause.section:
            continue
        part = part_of(clause.section)
        if part not in FRAMING_PARTS:
            continue
        out.setdefault(part, []).append(
            adapt_clause(clause, [], sources.citation(clause), part, names, target)
        )
    for part, clauses in out.items():
        kept = []
        for dc in whole_paragraphs(clauses):
            if drop_higher_level_duties(dc, names.suffix, target.suffix):
                omitted.append(f"删去{dc.source.clause_id}：{'；'.join(dc.notes[-1:])}")
            else:
                kept.append(dc)
        out[part] = kept
    return out


def _subheading(clause: DraftClause) -> str | None:
    """The source's innermost heading below the part heading, used as the draft's (一) heading."""
    labels = [heading_label(s) for s in clause.source.section]
    labels = [lbl for lbl in labels if lbl and part_of([lbl]) == "主要任务" and not PART_CUES[3][1].fullmatch(lbl)]
    return labels[-1] if labels else None


def build_draft(
    kb: Any,
    region: str,
    parent_region_id: str,
    measures: Sequence[str],
    policy: str = "parent",
    level: str | None = None,
    custom_values: dict[str, Any] | None = None,
    framing: bool = True,
    title: str | None = None,
) -> Draft:
    """A first draft of `region`'s plan under `parent_region_id`, with the measures' targets set by `policy`."""
    region = (region or "").strip()
    if not region:
        raise PolicyKBError("the new region's name is empty")
    if policy not in POLICIES:
        raise PolicyKBError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    measures = [m.strip() for m in measures if m and m.strip()]
    if not measures:
        raise PolicyKBError("no measures given; name at least one, e.g. 教师流动比例")
    lvl = level_of(region, level)
    sources = _sources(kb)
    if parent_region_id not in sources.regions:
        known = ", ".join(sorted(sources.regions)) or "none"
        raise NotFoundError(f"unknown parent region {parent_region_id}; indexed regions: {known}")
    target = names_for(region, lvl)
    warnings: list[str] = []

    drafted: list[DraftClause] = []
    for measure in measures:
        dc = _measure_clause(kb, sources, measure, parent_region_id, policy, custom_values or {}, target, warnings)
        if dc is None:
            continue
        same = next((d for d in drafted if d.source.clause_id == dc.source.clause_id), None)
        if same is not None:
            same.measures.append(measure)  # two queries found the same clause: write it once
            continue
        drafted.append(dc)

    parent_doc = _parent_document(sources, parent_region_id)
    framing_by_part = (
        _framing_clauses(kb, sources, parent_doc, target, {d.source.clause_id for d in drafted}, warnings)
        if framing else {}
    )
    sections = _outline(drafted, framing_by_part)
    theme = theme_of(parent_doc.metadata.title if parent_doc else None, parent_doc.metadata.region if parent_doc else None)
    draft_title = title or f"{region}{theme or '、'.join(measures)}实施方案（草案）"
    return Draft(
        title=draft_title, region=region, level=lvl, parent_region_id=parent_region_id,
        parent_region=sources.region_name(parent_region_id), policy=policy, measures=measures,
        sections=sections, warnings=warnings,
    )


def _outline(drafted: list[DraftClause], framing: dict[str, list[DraftClause]]) -> list[DraftSection]:
    """一、总体要求 ((一)指导思想 (二)工作目标) 二、主要任务 (grouped by the source's sub-heading) 三、保障措施."""
    sections: list[DraftSection] = []
    for part in OUTLINE:
        own = list(framing.get(part, [])) + [d for d in drafted if d.part == part and part != "主要任务"]
        if part in GENERAL_SUBPARTS:
            if own:
                if not any(sec.heading == GENERAL_PART for sec in sections):
                    sections.append(DraftSection(GENERAL_PART, 1, []))
                sections.append(DraftSection(part, 2, own))
            continue
        if part != "主要任务":
            if own:
                sections.append(DraftSection(part, 1, own))
            continue
        tasks = [d for d in drafted if d.part == "主要任务"]
        if not tasks:
            continue
        sections.append(DraftSection(part, 1, []))
        groups: dict[str, DraftSection] = {}
        for d in tasks:
            label = _subheading(d) or d.measures[0]
            if label not in groups:
                groups[label] = DraftSection(label, 2, [])
                sections.append(groups[label])
            groups[label].clauses.append(d)
    return sections


# ----- whole sentences, and duties of a higher level ----------------------------------------------------------

# A paragraph ends a sentence; a clause that ends otherwise was cut inside one (the segmenter splits long
# paragraphs at commas) and is joined with the clauses that follow it in the source.
SENTENCE_END = tuple("。！？；…”’）)")
# A sentence opening with one of these words leans on the sentence before it and cannot stand alone.
LEANING_OPENERS = re.compile(r"^(?:其中|同时|此外|另外|对此|为此|并且?|且)")
_SENTENCE = re.compile(r"[^。！？；]*[。！？；]?")


def is_whole(text: str) -> bool:
    return text.rstrip().endswith(SENTENCE_END)


def higher_level_duty(sentence: str, source_suffix: str, target_suffix: str) -> str | None:
    """Why a sentence is a duty of the source's level that a lower level cannot take over, or None.

    Chinese plans name the level that acts: `市对区…考核` (the city assesses its districts), `由市…牵头`
    (a city body leads), `市级/市教委…评估认定/命名/督导` (a city-level body judges the districts). A district's
    plan can neither assess itself as the city nor say which city body leads.
    """
    if source_suffix == target_suffix or source_suffix not in "省市" or target_suffix not in "市区县":
        return None
    p, t = source_suffix, target_suffix
    if re.search(rf"{p}对[各本]?(?:{t}|下级)", sentence):
        return f"“{p}对{t}”的考核评价是上级职责"
    if re.search(rf"由{p}(?!场|民)[^，,。；;]{{0,30}}?(?:牵头|负责|组织)", sentence):
        return f"由{p}级单位牵头的事项不属于本级职责"
    if re.search(rf"(?<![本全各]){p}(?:级|教委|教育委员会|教育厅|政府)[^，,。；;]{{0,12}}?"
                 rf"(?:评估认定|认定|命名|验收|督导|督查|考核)(?![的])", sentence):
        return f"{p}级的评估认定、督导考核是上级职责"
    return None


def drop_higher_level_duties(clause: DraftClause, source_suffix: str, target_suffix: str) -> bool:
    """Leave out the sentences that state a higher level's duty, noting each; True if nothing is left."""
    kept: list[str] = []
    for sentence in (m.group(0) for m in _SENTENCE.finditer(clause.text) if m.group(0)):
        why = higher_level_duty(sentence, source_suffix, target_suffix)
        if why is None:
            kept.append(sentence)
            continue
        clause.changes.append({"kind": "higher_level", "before": sentence, "after": ""})
        clause.notes.append(f"删去“{sentence}”：{why}，请按本级实际改写或删除")
    clause.text = "".join(kept).strip()
    return not clause.text


def _join(first: DraftClause, second: DraftClause, why: str) -> None:
    first.changes.append({"kind": "join", "before": second.source.clause_id, "after": first.source.clause_id})
    first.notes.append(f"{why}，已与来源条款 {second.source.clause_id} 合为一段")
    first.text = first.text.rstrip() + second.text.lstrip()
    first.original = first.original + second.original
    first.changes += second.changes
    first.notes += second.notes
    first.targets += second.targets


def whole_paragraphs(clauses: list[DraftClause]) -> list[DraftClause]:
    """Join, within one source section, a clause cut inside a sentence with what follows, and a clause that
    leans on the one before it (`其中…`) with that one."""
    out: list[DraftClause] = []
    for clause in clauses:
        prev = out[-1] if out else None
        same = prev is not None and prev.source.doc_id == clause.source.doc_id and prev.source.section == clause.source.section
        if prev is not None and same and not is_whole(prev.text):
            _join(prev, clause, "原条款在句中断开")
        elif prev is not None and same and LEANING_OPENERS.match(clause.text):
            _join(prev, clause, f"“{LEANING_OPENERS.match(clause.text).group(0)}”承接上句")  # type: ignore[union-attr]
        else:
            out.append(clause)
    return out


def _complete(kb: Any, sources: _Sources, drafted: DraftClause, clause: Clause, names: RegionNames,
              target: RegionNames) -> None:
    """A measure clause cut inside a sentence gets the rest of the sentence from the clauses after it."""
    if is_whole(drafted.text):
        return
    following = [c for c in kb.clauses(doc_id=clause.doc_id)
                 if c.section == clause.section and c.ordinal > clause.ordinal and c.role == clause.role]
    for nxt in sorted(following, key=lambda c: c.ordinal):
        _join(drafted, adapt_clause(nxt, [], sources.citation(nxt), drafted.part, names, target), "原条款在句中断开")
        if is_whole(drafted.text):
            return


# ----- export ---------------------------------------------------------------------------------------------


def export_draft(draft: Draft, path: str | Path) -> Path:
    """Write a draft as .docx or .md, chosen by the file's suffix."""
    from policykb import docx_export

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return docx_export.write_docx(draft, path)
    if suffix == ".md":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(docx_export.to_markdown(draft), encoding="utf-8")
        return path
    shown = suffix or "(none)"
    raise PolicyKBError(f"cannot export a draft to {path.name}: unsupported suffix {shown}; use .docx or .md")
