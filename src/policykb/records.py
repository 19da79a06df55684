"""The small typed records that flow through the stages: load → clean → segment → extract → index → service."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Literal

ChangeKind = Literal[
    "spam", "chrome", "template", "html", "pinyin", "mojibake", "mojibake_unrepaired", "traditional",
    "whitespace", "punctuation", "duplicate", "metadata",
    "encoding", "pagination", "frame", "ocr", "ocr_low_confidence",  # made while loading a file
]
Comparator = Literal[">=", "<=", ">", "<", "=", "~", "range"]
ClauseRole = Literal["body", "heading", "preamble", "notice", "signature", "attachment"]

# Units of money: an amount is 50 with unit 万元 (extract), answers a fee or subsidy measure (compare), and shows with
# its per-basis (render).
MONEY_UNITS = frozenset({"元", "万元", "千元", "亿元"})


def flat_dict(record: Any) -> dict[str, Any]:
    """`dataclasses.asdict` for a record of plain fields (str, numbers, None, lists of them), several times
    faster: search and compare turn hundreds of clauses and requirements into JSON per request. Lists are copied,
    as asdict copies them; a nested record falls back to asdict."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, list):
            if any(is_dataclass(v) or isinstance(v, (list, dict, tuple)) for v in value):
                return asdict(record)
            value = list(value)
        elif is_dataclass(value) or isinstance(value, (dict, tuple)):
            return asdict(record)
        out[f.name] = value
    return out


@dataclass
class Change:
    """One edit made by a cleaning step. `offset` is where `before` starts in that step's input text."""

    kind: str
    before: str
    after: str
    offset: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


OCR_CONFIDENCE_NOTE = re.compile(r"mean confidence ([0-9.]+)")


def ocr_confidence_of(changes: list[Change]) -> float | None:
    """The mean OCR confidence that loading recorded in its `ocr` change, if the text was OCR'd."""
    for change in changes:
        if change.kind == "ocr":
            match = OCR_CONFIDENCE_NOTE.search(change.note)
            return float(match.group(1)) if match else None
    return None


@dataclass
class CleanResult:
    """The output of the cleaner: the cleaned text and every change, in the order the steps made them."""

    text: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class Metadata:
    """What a document says about itself. Every field may be None when the document does not say it."""

    region_id: str | None = None
    region: str | None = None
    title: str | None = None
    issuer: str | None = None
    date: str | None = None  # YYYY-MM-DD
    doc_number: str | None = None
    kind: str = "policy"  # "policy" | "news"
    level: str | None = None  # "province" | "city" | "district" | "county"
    parent_region_ids: list[str] = field(default_factory=list)  # nearest first
    source_format: str = "text"  # text | html | docx | doc | wps | pdf | image
    ocr_confidence: float | None = None  # mean OCR confidence when any page was read by OCR


@dataclass
class Document:
    """A cleaned document with its metadata."""

    doc_id: str
    source_path: str
    raw_text: str
    text: str
    metadata: Metadata
    changes: list[Change] = field(default_factory=list)

    def to_dict(self, with_raw: bool = False) -> dict[str, Any]:
        """The `clean --json` shape of the CLI contract."""
        m = self.metadata
        out: dict[str, Any] = {
            "doc_id": self.doc_id,
            "region_id": m.region_id,
            "region": m.region,
            "title": m.title,
            "issuer": m.issuer,
            "date": m.date,
            "doc_number": m.doc_number,
            "kind": m.kind,
            "level": m.level,
            "parent_region_ids": list(m.parent_region_ids),
            "source_format": m.source_format,
            "ocr_confidence": m.ocr_confidence,
            "source_path": self.source_path,
            "text": self.text,
            "changes": [c.to_dict() for c in self.changes],
        }
        if with_raw:
            out["raw_text"] = self.raw_text
        return out


@dataclass
class Clause:
    """A unit of the outline: a sentence-sized piece of body text, or a heading, with its place in the outline.

    `start`/`end` are offsets into the cleaned document text; `text == doc.text[start:end]`.
    `section` lists the headings above the clause, outermost first.
    """

    clause_id: str
    doc_id: str
    region_id: str
    section: list[str]
    text: str
    start: int
    end: int
    role: str = "body"
    ordinal: int = 0  # position of the clause within its document

    def to_dict(self) -> dict[str, Any]:
        return flat_dict(self)


@dataclass
class Requirement:
    """A quantitative requirement (or a reported statistic) found inside a clause.

    `span_start`/`span_end` are offsets into the clause text; `span == clause.text[span_start:span_end]`.
    `value` is a float, or [low, high] for comparator "range"; percentages are in percent.
    """

    clause_id: str
    doc_id: str
    region_id: str
    text: str
    span: str
    span_start: int
    span_end: int
    subject: str | None
    comparator: str
    value: float | list[float]
    unit: str | None
    period: str | None = None
    base: str | None = None
    kind: str = "requirement"  # "requirement" | "statistic"

    def to_dict(self) -> dict[str, Any]:
        """The machine fields plus `display`, the value as a reader writes it (不低于30%)."""
        from policykb.render import requirement_display  # render imports records: import when called

        out = flat_dict(self)
        out["display"] = requirement_display(out)
        return out


@dataclass
class Hit:
    """One search result: a clause, its fused score and the requirements it carries."""

    clause: Clause
    region: str
    score: float
    requirements: list[Requirement] = field(default_factory=list)
    dense_score: float | None = None
    keyword_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = self.clause.to_dict()
        out["region"] = self.region
        out["score"] = round(float(self.score), 6)
        out["requirements"] = [r.to_dict() for r in self.requirements]
        return out
