"""What a document says about itself: region, title, issuer, date, document number and kind.

Fields a page shows only in its chrome (metadata tables, `来源: 发布时间:` lines, news bylines) are read from
the raw text, folded (no pinyin, simplified); everything else is read from the cleaned body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from policykb import gazetteer
from policykb.cleaning.chrome import (
    DATE_TIME,
    FIELD_LABELS,
    TABLE_LABELS,
    fold_line,
    is_field_line,
    is_metadata_table_row,
)
from policykb.errors import InputFileError
from policykb.gazetteer import Region
from policykb.records import Metadata

# --- patterns ---------------------------------------------------------------------------------------------

OPEN_BRACKETS = "〔[【(（［"
CLOSE_BRACKETS = "〕]】)）］"
DOC_NUMBER = re.compile(
    rf"([\u4e00-\u9fff]{{1,12}})\s*[{re.escape(OPEN_BRACKETS)}]\s*((?:19|20)\d{{2}})\s*"
    rf"[{re.escape(CLOSE_BRACKETS)}]\s*第?\s*(\d{{1,5}})\s*号"
)
CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
CN_DATE = re.compile(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
# Document genres that end a title (…实施意见, …行动计划(2023-2025年), …办法(试行)).
GENRE = (
    r"(?:通知|意见|实施意见|指导意见|方案|实施方案|工作方案|计划|行动计划|工作计划|办法|管理办法|规定|规划|细则|"
    r"决定|纲要|指南|标准|要点|工作要点|措施|条例|公告|通告|批复|报告|通报|章程|规程|清单)"
)
TITLE_SHAPE = re.compile(rf"^[^。;:,!?]{{4,80}}{GENRE}(?:\([^()]{{1,20}}\))?$")
WRAPPER = re.compile(r"^(?:[\u4e00-\u9fff]{2,30}?)?关于(?:印发|转发|发布|颁布|公布)[^《》]{0,10}《(.+)》(?:的)?通知$")
NOTICE_PLAN = re.compile(r"(?:现将|制定了|制订了|印发|研究制定了)《([^《》]{4,80})》")
ATTACHMENT = re.compile(r"^附件\d*\s*[:：]?\s*\d*[.、]?\s*(.+)$")
NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+、|\(?[一二三四五六七八九十\d]+\)|\d+[.、]|第[一二三四五六七八九十\d]+[章条节])")
ORG_SUFFIX = r"(?:教育委员会|教委|教育局|教育厅|教育部|教育体育局|教体局|人民政府|政府|办公室|办公厅|委员会|局|厅|中心)"
ORG_LINE = re.compile(rf"^[\u4e00-\u9fff()]{{2,30}}{ORG_SUFFIX}$")
NEWS_SOURCE = re.compile(rf"(?:^|[。,;])([\u4e00-\u9fff]{{2,12}}?{ORG_SUFFIX})(?:近日|日前|今天|昨天)?(?:发布|印发|出台|公布|召开|举行|介绍|消息|获悉)")
SALUTATION = re.compile(r"^各[^。]{1,60}:$")
NEWS_WORDS = re.compile(r"目前|已经?|日前|近日|记者|获悉")
BYLINE_LABELS = ("编辑", "责任编辑", "记者", "作者", "通讯员", "阅读", "阅读量", "阅读数", "摄影")
ISSUER_FIELDS = ("发布机构", "发文机关", "发文单位", "责任部门", "所属机构", "来源", "信息来源", "稿源")
POLICY_DATE_FIELDS = ("成文日期", "发布日期", "发布时间", "公开日期", "来源时间", "page_date")
NEWS_DATE_FIELDS = ("发布时间", "发布日期", "page_date", "来源时间", "公开日期", "成文日期")
FIELD_PAIR = re.compile(
    rf"({'|'.join(FIELD_LABELS)})为?\s*:\s*((?:[^|:]|(?<=\d):(?=\d)){{0,40}}?)(?=\s*(?:\||$|(?:{'|'.join(FIELD_LABELS)})为?\s*:))"
)
HEAD_LINES = 15  # titles, document numbers and salutations sit at the top of a document


# --- small parsers ----------------------------------------------------------------------------------------


def parse_date(text: str) -> str | None:
    """The first valid date in `text` as YYYY-MM-DD (2023年5月4日, 2023-06-07, 二〇二三年五月四日), or None."""
    for match in DATE.finditer(text):
        iso = _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if iso:
            return iso
    for match in CN_DATE.finditer(text):
        year = int("".join(str(CN_DIGITS[c]) for c in match.group(1)))
        iso = _iso(year, _cn_number(match.group(2)), _cn_number(match.group(3)))
        if iso:
            return iso
    return None


def _cn_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23."""
    if "十" not in text:
        return CN_DIGITS.get(text, 0)
    tens, _, units = text.partition("十")
    return (CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (CN_DIGITS.get(units, 0) if units else 0)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def normalise_doc_number(text: str) -> str | None:
    """A document number with 〔〕 brackets and no spaces (沪教委基[2023]15号 → 沪教委基〔2023〕15号)."""
    match = DOC_NUMBER.search(text)
    if not match:
        return None
    return f"{match.group(1)}〔{match.group(2)}〕{match.group(3)}号"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- page fields from the raw text ------------------------------------------------------------------------


def page_fields(raw_text: str) -> dict[str, str]:
    """Label → value from a page's metadata table and field lines; an unlabelled date there is `page_date`."""
    found: dict[str, str] = {}
    for line in raw_text.split("\n"):
        folded = fold_line(line)
        if not folded:
            continue
        if is_metadata_table_row(folded):
            cells = [c.strip().rstrip(":").strip() for c in folded.split("|")]
            for label, value in zip(cells, cells[1:], strict=False):
                if label in TABLE_LABELS and value and value not in TABLE_LABELS:
                    found.setdefault(label, value)
        elif is_field_line(folded):
            for match in FIELD_PAIR.finditer(folded):
                if match.group(2).strip():
                    found.setdefault(match.group(1), match.group(2).strip())
            loose = DATE_TIME.search(FIELD_PAIR.sub("", folded))
            if loose:
                found.setdefault("page_date", loose.group())
    return found


# --- body readers -----------------------------------------------------------------------------------------


def find_doc_number(lines: list[str], fields_: dict[str, str]) -> str | None:
    """The document's own number: a labelled field, or a head line that is nothing but a number."""
    for label in ("文件编号", "发文字号", "文号"):
        number = normalise_doc_number(fields_.get(label, ""))
        if number:
            return number
    for line in lines[:HEAD_LINES]:
        match = DOC_NUMBER.fullmatch(_compact(line))
        if match:
            return normalise_doc_number(line)
    return None  # numbers inside sentences are citations of other documents


def find_title(lines: list[str], kind: str) -> str | None:
    """The plan's own title: 关于印发《X》的通知 → X; else a title-shaped head line; a news item's headline."""
    head = lines[:HEAD_LINES]
    for line in head:
        match = WRAPPER.match(_compact(line))
        if match:
            return match.group(1)
    for line in head:
        match = NOTICE_PLAN.search(line)
        if match and ("印发给你们" in line or "印发" in match.group(0)):
            return match.group(1)
    for line in head:
        compact = _compact(line)
        if NUMBERED.match(compact) or DOC_NUMBER.fullmatch(compact):
            continue
        attached = ATTACHMENT.match(compact)
        if attached and TITLE_SHAPE.match(attached.group(1)):
            return attached.group(1)
        if TITLE_SHAPE.match(compact):
            return line.strip()
    if kind == "news" and lines:
        first = lines[0].strip()
        if 6 <= len(first) <= 60 and "。" not in first:
            return first
    return None


@dataclass
class Signature:
    """The issuer line(s) and date that close a policy or its covering notice."""

    issuers: list[str] = field(default_factory=list)
    date: str | None = None


def find_signature(lines: list[str]) -> Signature:
    """The first date line preceded by organisation lines; the date alone if no organisation precedes it."""
    fallback = Signature()
    for i, line in enumerate(lines):
        compact = _compact(line)
        if len(compact) > 16 or not (DATE.fullmatch(compact) or CN_DATE.fullmatch(compact)):
            continue
        date = parse_date(compact)
        issuers: list[str] = []
        j = i - 1
        while j >= 0 and len(issuers) < 4:
            names = _org_names(lines[j])
            if not names:
                break
            issuers[:0] = names
            j -= 1
        if issuers:
            return Signature(issuers, date)
        if fallback.date is None and i >= len(lines) - 5:
            fallback = Signature([], date)
    return fallback


def _org_names(line: str) -> list[str]:
    """Organisation names on a signature line: one (possibly letter-spaced) or several separated by spaces."""
    tokens = line.split()
    if len(tokens) > 1 and all(ORG_LINE.match(t) for t in tokens):
        return tokens
    compact = _compact(line)
    return [compact] if ORG_LINE.match(compact) else []


def detect_kind(raw_fields: dict[str, str], raw_text: str, lines: list[str], doc_number: str | None,
                signature: Signature) -> str:
    """news or policy, by weighing the signs of each (bylines and reporting words against 文号, signature, genre)."""
    news = 2 * sum(1 for label in BYLINE_LABELS if label in raw_fields or f"{label}:" in raw_text[:2000])
    news += 1 if lines and NEWS_WORDS.search(lines[0]) and "。" not in lines[0] else 0
    news += 1 if re.search(r"本文来源|公众号|记者", raw_text) else 0
    policy = 2 * bool(doc_number) + 2 * bool(signature.issuers)
    policy += 2 * any(TITLE_SHAPE.match(_compact(line)) for line in lines[:HEAD_LINES])
    policy += any(SALUTATION.match(_compact(line)) for line in lines[:HEAD_LINES])
    policy += any(_compact(line) in ("特此通知。", "特此通知") for line in lines)
    return "news" if news > policy else "policy"


def find_issuer(signature: Signature, raw_fields: dict[str, str], lines: list[str], kind: str) -> str | None:
    """The signing organisation, else the page's publisher field, else (for news) the organisation reported on."""
    if signature.issuers:
        return "、".join(signature.issuers)
    for label in ISSUER_FIELDS:
        value = _compact(raw_fields.get(label, ""))
        if ORG_LINE.match(value):
            return value
    if kind == "news":
        for line in lines[:6]:
            match = NEWS_SOURCE.search(line)
            if match:
                return match.group(1)
    return None


# --- region -----------------------------------------------------------------------------------------------

CITATIONS = re.compile(r"《[^《》]*》|[(（][^()（）]*\d{4}[^()（）]*号[)）]")


def detect_region(issuer: str | None, title: str | None, doc_number: str | None, body: str) -> Region | None:
    """The most specific region the document is about, weighing issuer, title, number prefix and the text."""
    scores: dict[str, float] = {}
    regions: dict[str, Region] = {}

    def vote(region: Region, weight: float) -> None:
        regions.setdefault(region.region_id, region)
        scores[region.region_id] = scores.get(region.region_id, 0.0) + weight

    for source, weight in ((issuer, 10.0), (title, 6.0)):
        if not source:
            continue
        named = gazetteer.leading_regions(source) + [r for r, _ in gazetteer.find_mentions(source)]
        if named:
            vote(max(named, key=gazetteer.depth), weight)
    if doc_number:
        province = gazetteer.by_id(gazetteer.PROVINCE_ABBREVIATIONS.get(doc_number[0], ""))
        if province:
            vote(province, 4.0)
    # Cited documents (《省政府关于…》, (苏政发〔2017〕1号)) name other authorities, not this document's region.
    counts: dict[str, int] = {}
    for region, _ in gazetteer.find_mentions(CITATIONS.sub("", body)):
        counts[region.region_id] = counts.get(region.region_id, 0) + 1
        regions.setdefault(region.region_id, region)
    for region_id, count in counts.items():
        vote(regions[region_id], min(count, 5))
    if not scores:
        return None
    best = regions[max(scores, key=lambda rid: (scores[rid], gazetteer.depth(regions[rid])))]
    if best.parent_id is None and gazetteer.lookup(best.name) is None:
        best = _with_parent_from_text(best, "\n".join(filter(None, (issuer, title, body))))
    return best


def _with_parent_from_text(region: Region, text: str) -> Region:
    """Give a region the gazetteer does not know the parent written right before it (成都市武侯区 → 成都市)."""
    parents = [known for known in gazetteer.REGIONS if known.name + region.name in text]
    if not parents:
        return region
    return replace(region, parent_id=max(parents, key=gazetteer.depth).region_id)


def qualify_issuer(issuer: str | None, region: Region | None) -> str | None:
    """Give an unqualified issuer its region (区教育局 → 临平区教育局) when the region's level fits."""
    if not issuer or region is None:
        return issuer
    prefix = {"district": "区", "city": "市", "county": "县", "province": "市" if region.name.endswith("市") else "省"}
    if issuer[0] == prefix.get(region.level) and not issuer.startswith(region.name):
        return region.name + issuer[1:]
    return issuer


# --- entry points -----------------------------------------------------------------------------------------


def extract_metadata(
    raw_text: str, clean_text: str, source_path: Path, fields: dict[str, str] | None = None
) -> Metadata:
    """Read a document's metadata from its raw page and its cleaned body; `fields` come from the file's form
    (an official document's red header gives 发文机关) and count as page fields."""
    raw_fields = {**(fields or {}), **page_fields(raw_text)}
    lines = [line.strip() for line in clean_text.split("\n") if line.strip()]
    if not lines:  # nothing survived cleaning: read what we can from the folded raw text
        lines = [folded for folded in (fold_line(line) for line in raw_text.split("\n")) if folded]
    doc_number = find_doc_number(lines, raw_fields)
    signature = find_signature(lines)
    folded_raw = "\n".join(fold_line(line) for line in raw_text[:5000].split("\n"))
    kind = detect_kind(raw_fields, folded_raw, lines, doc_number, signature)
    title = find_title(lines, kind)
    issuer = find_issuer(signature, raw_fields, lines, kind)
    region = detect_region(issuer, title, doc_number, "\n".join(lines))
    date_fields = POLICY_DATE_FIELDS if kind == "policy" else NEWS_DATE_FIELDS
    candidates = ([signature.date] if kind == "policy" else []) + [
        parse_date(raw_fields[label]) for label in date_fields if label in raw_fields
    ] + [signature.date]
    date = next((d for d in candidates if d), None)
    return Metadata(
        region_id=region.region_id if region else None,
        region=region.name if region else None,
        title=title,
        issuer=qualify_issuer(issuer, region),
        date=date,
        doc_number=doc_number,
        kind=kind,
        level=region.level if region else None,
        parent_region_ids=_parents(region),
    )


def _parents(region: Region | None) -> list[str]:
    if region is None:
        return []
    known = gazetteer.parent_ids(region)
    return known or ([region.parent_id] if region.parent_id else [])


def sidecar_path(source_path: Path) -> Path:
    """foo.txt → foo.meta.toml beside it."""
    source_path = Path(source_path)
    return source_path.with_name(source_path.stem + ".meta.toml")


OVERRIDABLE = tuple(f.name for f in fields(Metadata))


def read_sidecar(source_path: Path) -> dict[str, Any]:
    """The overrides in NAME.meta.toml beside the raw file ({} when there is none)."""
    path = sidecar_path(source_path)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"invalid TOML in metadata sidecar: {exc}") from exc
    unknown = sorted(set(data) - set(OVERRIDABLE))
    if unknown:
        raise InputFileError(path, f"unknown metadata field(s) {', '.join(unknown)}; allowed: {', '.join(OVERRIDABLE)}")
    return data


def apply_overrides(meta: Metadata, overrides: dict[str, Any]) -> Metadata:
    """A copy of `meta` with `overrides` applied; a new region also brings its id, level and parents."""
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ValueError(f"unknown metadata field(s) {', '.join(unknown)}; allowed: {', '.join(OVERRIDABLE)}")
    values = {key: _override_value(key, value) for key, value in overrides.items()}
    if "region" in values or "region_id" in values:
        region = _override_region(values.get("region"), values.get("region_id"))
        derived: dict[str, Any] = {
            "region": region.name if region else values.get("region"),
            "region_id": region.region_id if region else values.get("region_id"),
            "level": region.level if region else None,
            "parent_region_ids": _parents(region),
        }
        values = {**derived, **values}
    return replace(meta, **values)


def _override_region(name: str | None, region_id: str | None) -> Region | None:
    if name:
        return gazetteer.region_for_name(name)
    if region_id:
        return gazetteer.by_id(region_id)
    return None


def _override_value(key: str, value: Any) -> Any:
    """Check one override's type; an empty string clears an optional field (TOML has no null)."""
    if key == "parent_region_ids":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("parent_region_ids must be a list of region ids")
        return list(value)
    if key == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"metadata field {key} must be a string, not {type(value).__name__}")
    if key == "kind":
        if not value:
            raise ValueError("kind must not be empty")
        return value
    if key == "date" and value and not (re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and parse_date(value) == value):
        raise ValueError(f"date must be YYYY-MM-DD, got {value!r}")
    if key == "doc_number" and value:
        return normalise_doc_number(value) or value
    return value or None


def make_doc_id(meta: Metadata, source_path: Path, text: str) -> str:
    """A stable ASCII id: region-year-number, else region-date, else region-hash of the text."""
    region = meta.region_id or "unknown"
    if meta.doc_number:
        match = DOC_NUMBER.search(meta.doc_number)
        if match:
            return f"{region}-{match.group(2)}-{int(match.group(3))}"
    if meta.date:
        return f"{region}-{meta.date}"
    basis = text if text.strip() else Path(source_path).name
    return f"{region}-{hashlib.sha1(basis.encode('utf-8')).hexdigest()[:8]}"
