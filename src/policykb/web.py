"""The web UI (Jinja2 pages in Chinese) and its JSON twin under /api: each route parses, makes one service call, renders.

Everything shown comes from `KnowledgeBase`; templates autoescape, so document text (which may hold HTML tags
from the scrape) is always shown as text. Security headers go on every response; uploads and queries are
bounded by the settings `max_upload_mb` and `max_query_chars`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import tempfile
import threading
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.exceptions import HTTPException

from policykb import exporting, pipeline, web_drafting, web_views
from policykb.errors import IndexError_, InputFileError, NotFoundError, PolicyKBError, QueryError
from policykb.measures import SORT_KEYS, sort_catalogue
from policykb.memo import GenerationCache
from policykb.records import Clause, Document, Hit, Requirement
from policykb.render import requirement_display
from policykb.service import SUPPORTED_SUFFIXES, KnowledgeBase
from policykb.settings import web_dir

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PENDING_UPLOADS = 16  # previews kept for a later "add to index"; the oldest is forgotten first
ERROR_STATUS: tuple[tuple[type[PolicyKBError], int, str], ...] = (
    (QueryError, 400, "查询无效"),
    (NotFoundError, 404, "找不到"),
    (InputFileError, 400, "文件无法读取"),
    (IndexError_, 503, "索引不可用"),
    (PolicyKBError, 400, "请求无效"),
)
HTTP_TITLES = {400: "请求无效", 404: "找不到页面", 405: "不支持的请求方法", 413: "文件太大", 415: "不支持的文件类型",
               421: "主机名不被接受", 422: "参数无效", 500: "服务器内部错误", 503: "服务暂不可用"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# An absolute POSIX path of two or more parts (what a server must never show): its last part is kept.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/:：，,;'\"“”()（）]+/)+([^\s/:：，,;'\"“”()（）]*)")
CHANGE_KINDS = {
    "spam": "垃圾广告", "chrome": "网页框架", "template": "网站模板行", "html": "HTML 标签", "pinyin": "拼音注音", "mojibake": "乱码修复",
    "mojibake_unrepaired": "未能修复的乱码", "traditional": "繁体转简体", "whitespace": "空白", "punctuation": "标点",
    "duplicate": "重复段落", "metadata": "元数据", "encoding": "编码错误", "pagination": "页码页眉", "frame": "公文版头版记",
    "ocr": "文字识别（OCR）", "ocr_low_confidence": "识别可信度低，请核对",
}


# ----- JSON shapes (documented in the OpenAPI schema; extra keys pass through) ----------------------------------
class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RequirementOut(_Open):
    clause_id: str
    doc_id: str
    region_id: str
    text: str = Field(description="the whole clause")
    span: str = Field(description="the matched words")
    subject: str | None
    comparator: str = Field(description="one of >=, <=, >, <, =, ~, range")
    value: float | list[float] = Field(description="a number; [low, high] for range; percentages in percent")
    unit: str | None
    period: str | None
    kind: str = Field(description="requirement | statistic")


class ClauseOut(_Open):
    clause_id: str
    doc_id: str
    region_id: str
    section: list[str] = Field(description="headings above the clause, outermost first")
    text: str


class HitOut(ClauseOut):
    region: str
    score: float
    requirements: list[RequirementOut]


class SearchOut(_Open):
    query: str
    hits: list[HitOut]


class CompareRegionOut(_Open):
    region_id: str
    region: str
    found: bool = Field(description="false when the region has no clause that really specifies this measure")
    matches: list[HitOut] = Field(description="up to 3 hits, best first")


class AlignedOut(_Open):
    unit: str | None
    comparator: str = Field(description="comparator family: >= (a floor), <= (a ceiling), = or range")
    values: dict[str, float | list[float]] = Field(description="region_id → value")
    strictest: str | None = Field(description="region_id of the strictest value, if one is strictest")


class CompareOut(_Open):
    query: str
    regions: list[CompareRegionOut] = Field(description="every indexed region, by level then region_id")
    aligned: list[AlignedOut]


_COMPARE_OUT = TypeAdapter(CompareOut)


def compare_json(data: dict[str, Any]) -> bytes:
    """The /api/compare body, made as FastAPI makes a `response_model=CompareOut` answer (validated, then dumped
    by pydantic): the route returns these bytes itself so that a repeated measure is sent from the compare memo
    without validating and encoding the answer again."""
    return _COMPARE_OUT.dump_json(_COMPARE_OUT.validate_python(data), by_alias=True)


class MeasureValueOut(_Open):
    region_id: str
    region: str
    display: str
    comparator: str
    value: float | list[float]
    clause_id: str
    span: str


class MeasureOut(_Open):
    measure_id: str
    name: str
    unit: str | None
    values: list[MeasureValueOut]
    regions: int


class ChangeOut(_Open):
    kind: str
    before: str
    after: str
    offset: int


class DocumentSummaryOut(_Open):
    doc_id: str
    region_id: str | None
    region: str | None
    title: str | None
    issuer: str | None
    date: str | None
    doc_number: str | None
    kind: str


class DocumentOut(DocumentSummaryOut):
    text: str
    changes: list[ChangeOut]


class IngestPreviewOut(_Open):
    token: str = Field(description="pass back to /api/ingest/commit to add this document")
    outcome: str = Field(description="what committing would do: added | updated | unchanged | duplicate")
    of: str | None = Field(description="the existing doc_id for updated and duplicate")
    document: DocumentOut
    report: dict[str, Any] = Field(description="cleaning report: changes per kind, size of the text")


class IngestCommitIn(BaseModel):
    token: str
    region: str | None = Field(None, description="corrected region name, e.g. 某某区")
    region_id: str | None = Field(None, description="corrected region id (ASCII slug)")
    date: str | None = Field(None, description="corrected date, YYYY-MM-DD")
    title: str | None = None
    source_url: str | None = Field(None, description="网页来源地址（http/https）：同一网站的模板行据此识别")
    no_region: bool = Field(False, description="该文件不属于任何地区（如全国性文件）：未识别地区时也可加入")


class IngestReportOut(_Open):
    files: list[dict[str, Any]]
    documents: int = Field(description="how many documents the knowledge base holds now")
    indexed: int


class ErrorOut(BaseModel):
    error: str
    status: int


RegionParam = Annotated[
    list[str] | None, Query(description="region id; repeat (region=a&region=b) or comma-separate")
]
UploadParam = Annotated[UploadFile, File(description="a raw .txt, .html, .htm, .docx, .doc, .wps, .pdf, .png or .jpg file")]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "bad query or input"},
    404: {"model": ErrorOut, "description": "unknown id"},
}


# ----- pure view helpers -------------------------------------------------------------------------------------------
def highlight(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """Split text into (piece, title) pairs; pieces inside a span carry its title, overlaps keep the first span."""
    pieces: list[tuple[str, str | None]] = []
    cursor = 0
    for start, end, title in sorted(spans, key=lambda s: (s[0], -s[1])):
        start, end = max(start, cursor), min(end, len(text))
        if end <= start:
            continue
        if start > cursor:
            pieces.append((text[cursor:start], None))
        pieces.append((text[start:end], title))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces


def requirement_spans(reqs: Sequence[Requirement], offset: int = 0) -> list[tuple[int, int, str]]:
    """Highlight spans for requirements, shifted by `offset` (a clause's start in its document)."""
    return [(offset + r.span_start, offset + r.span_end, _req_title(r)) for r in reqs]


def _req_title(req: Requirement) -> str:
    kind = "要求" if req.kind == "requirement" else "统计"
    subject = f"{req.subject}：" if req.subject else ""
    return f"{kind} · {subject}{requirement_display(req)}"


def doc_link(doc_id: str, clause_id: str | None = None) -> str:
    return f"/documents/{quote(doc_id)}" + (f"#c-{quote(clause_id)}" if clause_id else "")


DOCUMENT_PAGES_KEPT = 64  # rendered document pages kept per build
DOCUMENT_PAGE_BYTES_KEPT = 32 * 1024 * 1024  # and at most this many bytes of them (a page is its text twice, marked)


def hit_view(hit: Hit) -> dict[str, Any]:
    """A hit as the templates use it: the contract dict plus highlighted pieces and a link."""
    out = hit.to_dict()
    out["pieces"] = highlight(hit.clause.text, requirement_spans(hit.requirements))
    out["values"] = [requirement_display(r) for r in hit.requirements if r.kind == "requirement"]
    out["link"] = doc_link(hit.clause.doc_id, hit.clause.clause_id)
    return out


def relevance_bars(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each hit's relevance as a share of the best hit's score, in tenths (a bar of 1–10 steps, no raw score)."""
    top = max((float(h["score"]) for h in hits), default=0.0)
    for h in hits:
        share = float(h["score"]) / top if top > 0 else 0.0
        h["relevance"] = max(1, min(10, round(share * 10)))
    return hits


def region_names(region_ids: Sequence[str], regions: Sequence[dict[str, Any]]) -> list[str]:
    """Region names for ids: the index's, else the gazetteer's (an id neither knows is shown as typed)."""
    return web_views.chosen_names(region_ids, regions)


# What a parameter is called on the page, for validation messages.
PARAMETER_NAMES = {"q": "查询", "k": "结果数", "region": "地区", "sort": "排序方式", "a": "甲文件", "b": "乙文件",
                   "doc": "文件", "unit": "单位", "comparator": "比较方式", "min": "最小值", "max": "最大值",
                   "kind": "类型", "has_requirement": "只看量化要求", "file": "上传文件", "token": "上传凭据",
                   "policy": "取值方式", "level": "行政级别", "measures": "措施", "parent": "上级地区"}


def validation_message(errors: Sequence[Any]) -> str:
    """FastAPI's validation errors as one Chinese sentence that says what to change."""
    parts = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path", "form")]
        name = PARAMETER_NAMES.get(loc[-1], f"“{loc[-1]}”") if loc else "参数"
        ctx = e.get("ctx") or {}
        kind = str(e.get("type", ""))
        if kind == "missing":
            parts.append(f"缺少{name}")
        elif kind in ("less_than_equal", "less_than"):
            parts.append(f"{name}不能大于 {ctx.get('le', ctx.get('lt'))}")
        elif kind in ("greater_than_equal", "greater_than"):
            parts.append(f"{name}不能小于 {ctx.get('ge', ctx.get('gt'))}")
        elif kind.startswith(("int_", "float_")):
            parts.append(f"{name}应为数字")
        elif kind.startswith("bool_"):
            parts.append(f"{name}应为是或否")
        else:
            parts.append(f"{name}的取值不正确")
    return "请求参数不正确：" + "；".join(parts or ["参数的取值不正确"]) + "。请修改后再试。"


_CHINESE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^cannot tell the level of '(.*)' from its name", "无法从名称“{0}”看出行政级别：请写全名称（如某某区、某某县、某某市），或选择行政级别。"),
    (r"^unknown level '(.*)'", "不认识的行政级别“{0}”：请选择省、市、区或县。"),
    (r"^no document '(.*)' in the", "知识库中没有文件“{0}”：请从文件列表中选择。"),
    (r"^document '(.*)' has no version (\d+)", "文件“{0}”没有第 {1} 版：请从版本列表中选择。"),
    (r"^no clause '(.*)' in the", "没有条款“{0}”：请从文件页面中选择条款。"),
    (r"^unknown region ([^;]*);", "知识库中没有地区“{0}”：请从地区列表中选择。"),
    (r"^k must be between 1 and 200", "结果数应在 1 到 200 之间。"),
    (r"^query is empty", "请输入要查询的内容，例如：教师交流轮岗比例。"),
    (r"^query is too long: (\d+) characters, the limit is (\d+)", "查询太长：共 {0} 个字符，最多允许 {1} 个字符。请缩短后再试。"),
))
# Why a file cannot be read (InputFileError.reason), as the person who uploaded it can act on it.
_FILE_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^PDF is encrypted", "PDF 有密码保护，请保存一份未加密的副本后再导入。"),
    (r"^not a readable PDF", "不是可读取的 PDF，文件可能已损坏，请重新下载或重新导出 PDF 后再试。"),
    (r"^PDF has no pages", "PDF 没有页面。"),
    (r"^PDF has (\d+) pages, over the limit of (\d+)", "PDF 共 {0} 页，超过了 {1} 页的上限，请拆分后分别导入。"),
    (r"needs OCR", "这是没有文字层的扫描件，需要文字识别（OCR），但服务器没有安装识别组件。"),
    (r"^no text found|has no text", "文件里没有可读取的文字。"),
    (r"^undecodable", "无法识别文字编码（不是 UTF-8、GB18030/GBK 或 Big5），请另存为 UTF-8 文本后再试。"),
    (r"LibreOffice", "无法转换这份文档，请用办公软件另存为 .docx 后再试。"),
    (r"^not a valid|^cannot read \.docx", "文件已损坏或不是 Word 文档，请用办公软件重新保存后再试。"),
    (r"binary file|^looks like", "看起来不是文本或网页文件。"),
    (r"^file is empty", "文件是空的。"),
    (r"metadata", "元数据更正不正确，请检查地区、日期和标题。"),
    (r"^unsupported file type", f"不支持这种文件类型，只接受 {'、'.join(SUPPORTED_SUFFIXES)} 文件。"),
))
_HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def chinese_message(exc: PolicyKBError | str) -> str:
    """A service error as a person reads it: the service speaks English (the CLI contract), pages speak Chinese."""
    if isinstance(exc, InputFileError):
        name = Path(exc.path).name
        for pattern, template in _FILE_REASONS:
            m = pattern.search(exc.reason)
            if m:
                return f"文件“{name}”无法读取：" + template.format(*m.groups())
        if _HAS_CHINESE.search(exc.reason):
            return f"文件“{name}”无法读取：{exc.reason}"
        log.info("file error shown in general terms: %s", exc)
        return f"文件“{name}”无法读取：请确认文件没有损坏，或另存为 .docx、.pdf 或 .txt 后再试。"
    message = str(exc)
    for pattern, template in _CHINESE_MESSAGES:
        m = pattern.search(message)
        if m:
            return template.format(*m.groups())
    if _HAS_CHINESE.search(message) and not re.search(r"[A-Za-z]{4,} [A-Za-z]{3,} [A-Za-z]{3,}", message):
        return message
    log.info("error shown in general terms: %s", message)
    if isinstance(exc, IndexError_):
        return "索引暂不可用：请导入文件或重建索引后再试；详细原因已记录在服务器日志中。"
    return "请求无法完成：请检查输入后再试；详细原因已记录在服务器日志中。"


def bar_chart(group: dict[str, Any], regions: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Geometry of a horizontal bar chart for one aligned group (server-side SVG: no script, no inline style).

    A bar per region with a value, in the order of `regions` (the table's columns); every region tied for the
    strictest value (`strictest_all`) is marked; the regions without a value are counted in one last line, so
    the chart stays short with dozens of regions."""
    numeric = {rid: v for rid, v in group["values"].items() if isinstance(v, int | float)}
    if not numeric:
        return None
    winners = set(group.get("strictest_all") or ([group["strictest"]] if group.get("strictest") else []))
    labels = group.get("label") or group.get("display") or {}
    top = max(numeric.values()) or 1.0
    label_w, bar_w, row_h = 150, 300, 26
    bars: list[dict[str, Any]] = []
    missing: list[str] = []
    for region in regions:
        rid = region["region_id"]
        value = numeric.get(rid)
        if value is None:
            missing.append(region["region"])
            continue
        y = 10 + len(bars) * row_h
        width = max(2, round(bar_w * value / top))
        bars.append({
            "label": region["region"], "y": y, "text_y": y + 15, "x": label_w, "width": width,
            "text_x": label_w + width + 6, "shown": labels.get(rid, ""), "strictest": rid in winners,
        })
    height = 20 + row_h * len(bars) + (row_h if missing else 0)
    return {"width": label_w + bar_w + 160, "height": height, "bars": bars, "missing": missing,
            "missing_y": 25 + row_h * len(bars), "title": web_views.aligned_title(group)}


def document_pieces(
    doc: Document, clauses: Sequence[Clause], reqs: Sequence[Requirement]
) -> list[dict[str, Any]]:
    """The cleaned text as runs: clauses (with anchors, roles and highlighted requirements) and the text between."""
    by_clause: dict[str, list[Requirement]] = {}
    for r in reqs:
        by_clause.setdefault(r.clause_id, []).append(r)
    runs: list[dict[str, Any]] = []
    cursor = 0
    for c in sorted(clauses, key=lambda c: (c.start, c.end)):
        if c.start < cursor or c.end > len(doc.text):
            continue  # overlapping or out-of-range offsets: show the text once, never twice
        if c.start > cursor:
            runs.append({"clause": None, "pieces": [(doc.text[cursor : c.start], None)]})
        text = doc.text[c.start : c.end]
        runs.append({"clause": c, "pieces": highlight(text, requirement_spans(by_clause.get(c.clause_id, [])))})
        cursor = c.end
    if cursor < len(doc.text):
        runs.append({"clause": None, "pieces": [(doc.text[cursor:], None)]})
    return runs


def raw_marks(raw: str, changes: Sequence[Any], limit: int = 3000) -> list[tuple[str, str | None]]:
    """The raw text with the text each cleaning change removed or rewrote marked (located by offset or search)."""
    spans: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for ch in list(changes)[:limit]:
        before = ch.before
        if len(before.strip()) < 2:
            continue  # a lone character could be marked anywhere: too weak to locate
        start = ch.offset if raw[ch.offset : ch.offset + len(before)] == before else raw.find(before)
        if start < 0 or any(start < e and start + len(before) > s for s, e in taken):
            continue
        taken.append((start, start + len(before)))
        spans.append((start, start + len(before), f"{CHANGE_KINDS.get(ch.kind, ch.kind)} → {ch.after or '（删除）'}"))
    return highlight(raw, spans)


PREVIEW_CLAUSES = 300  # a preview lists this many clauses; the rest are counted


def preview_parts(clauses: Sequence[Clause], reqs: Sequence[Requirement]) -> dict[str, Any]:
    """What the upload preview shows of the parsed document: its clauses (section, role, requirement values
    highlighted) and its requirements in Chinese, as they would be indexed."""
    by_clause: dict[str, list[Requirement]] = {}
    for r in reqs:
        by_clause.setdefault(r.clause_id, []).append(r)
    text_of = {c.clause_id: c for c in clauses}
    shown = [{"clause": c, "pieces": highlight(c.text, requirement_spans(by_clause.get(c.clause_id, [])))}
             for c in clauses[:PREVIEW_CLAUSES]]
    rows = [{"subject": r.subject or "—", "display": requirement_display(r), "span": r.span,
             "kind": "要求" if r.kind == "requirement" else "统计",
             "section": list(text_of[r.clause_id].section) if r.clause_id in text_of else []} for r in reqs]
    return {"clauses": shown, "clause_count": len(clauses), "requirement_rows": rows,
            "requirement_count": sum(1 for r in reqs if r.kind == "requirement")}


def cleaning_report(doc: Document) -> dict[str, Any]:
    counts = Counter(c.kind for c in doc.changes)
    return {
        "changes": len(doc.changes),
        "by_kind": dict(counts.most_common()),
        "raw_chars": len(doc.raw_text),
        "clean_chars": len(doc.text),
    }


# ----- uploads kept between preview and commit -------------------------------------------------------------------
class PendingUploads:
    """The last few previewed uploads (name and bytes), keyed by an unguessable token."""

    def __init__(self, size: int = PENDING_UPLOADS) -> None:
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._unplaced: set[str] = set()  # uploads whose region was not recognised
        self._size = size
        self._lock = threading.Lock()

    def put(self, filename: str, data: bytes, placed: bool = True) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._items[token] = (filename, data)
            if not placed:
                self._unplaced.add(token)
            while len(self._items) > self._size:
                self._unplaced.discard(self._items.popitem(last=False)[0])
        return token

    def check_placed(self, token: str, overrides: dict[str, str], national: bool = False) -> None:
        """Refuse to commit an upload whose region was not recognised unless one is given now (or the person
        says it belongs to no region, as a national text): a document filed under no place is lost to every
        regional search and comparison."""
        with self._lock:
            unplaced = token in self._unplaced
        if unplaced and not national and not (overrides.get("region") or overrides.get("region_id")):
            raise HTTPException(400, "没有识别出这份文件所属的地区：请在“地区名称”中填写或选择地区（例如某某区），"
                                     "如果是全国性文件请勾选“不属于某个地区”，然后再加入索引。")

    def get(self, token: str) -> tuple[str, bytes]:
        with self._lock:
            item = self._items.get(token)
        if item is None:
            raise NotFoundError("上传的文件已过期或不存在：请在“导入文件”页重新上传。")
        return item

    def drop(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)
            self._unplaced.discard(token)


def scrub_paths(message: str, roots: Sequence[str | Path] = ()) -> str:
    """A message with every server path taken out: known folders become “索引目录” or go, other absolute paths
    keep only their last part (the file's own name)."""
    for root in sorted({str(r) for r in roots if str(r) not in ("", ".", "/")}, key=len, reverse=True):
        message = message.replace(root.rstrip("/") + "/", "").replace(root, "索引目录")
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", message)


def allowed_hosts(configured: str, extra: str = "") -> set[str]:
    """Host names a request may carry: the configured bind host, loopback, and any listed in `allowed_hosts`."""
    names = {configured.strip().lower(), *LOOPBACK_NAMES}
    names.update(h.strip().lower() for h in extra.split(",") if h.strip())
    return {n for n in names if n and n not in ("0.0.0.0", "::")}


def host_name(header: str) -> str:
    """The name part of a Host header (`[::1]:8000` → `::1`, `localhost:8000` → `localhost`)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


# ----- the app -------------------------------------------------------------------------------------------------------
def create_app(kb: KnowledgeBase, announce_at: tuple[str, int] | None = None) -> FastAPI:
    """The FastAPI app over one KnowledgeBase: HTML pages and their JSON twins under /api.

    announce_at (host, port): while the app runs, serve.json in the index folder tells one-shot CLI searches
    where to hand their query (handoff.py); the app's shutdown removes it, however the server is stopped.
    """
    settings = kb.settings
    kb.allow_fallback = True  # a damaged current build: serve the previous complete one, with a banner
    from policykb.malloc import limit_arenas

    limit_arenas()  # before the worker threads start: RSS stays flat over uploads (policykb/malloc.py)
    max_query = int(settings.max_query_chars)
    max_upload = int(float(settings.max_upload_mb) * 1024 * 1024)
    root = web_dir()
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from policykb import handoff

        announcement = handoff.announce(settings.index_path, *announce_at) if announce_at else None
        try:
            yield
        finally:
            handoff.withdraw(announcement)

    app = FastAPI(
        lifespan=lifespan,
        title="policykb",
        summary="地方教育政策知识库：检索、比较、指标目录、文件与导入",
        description="每个页面的 JSON 接口，字段与命令行的 JSON 输出一致（可能另有附加字段）。",
        version="0.1.0",
        docs_url=None,  # Swagger UI loads from a CDN and runs inline script: not offline, not CSP-clean
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=str(root / "templates"))
    templates.env.autoescape = True  # every template, whatever its suffix
    templates.env.globals.update(doc_link=doc_link, change_kinds=CHANGE_KINDS, max_query=max_query,
                                 max_upload_mb=settings.max_upload_mb, index_problem=lambda: shown_problem())
    hosts = allowed_hosts(str(settings.host), str(settings.allowed_hosts))
    index_root = Path(settings.index_path)
    secret_roots: list[str | Path] = [index_root.resolve(), index_root.absolute(), tempfile.gettempdir(), Path.cwd(), Path.home()]
    if index_root.is_absolute():
        secret_roots.append(index_root)

    def shown_problem() -> str | None:
        problem = getattr(kb, "index_problem", None)
        return scrub_paths(problem, secret_roots) if problem else None
    app.mount("/static", StaticFiles(directory=str(root / "static")), name="static")
    uploads = PendingUploads()

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/api"

    def error_response(request: Request, status: int, title: str, message: str) -> Response:
        message = scrub_paths(message, secret_roots)
        if wants_json(request):
            return JSONResponse({"error": message, "status": status, "title": title}, status_code=status)
        return page(request, "error.html", {"title": title, "message": message, "status": status}, status)

    # -- middleware and errors ------------------------------------------------------------------------------------
    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own name as Host: refuse it.
        if host_name(request.headers.get("host", "")) not in hosts:
            response = error_response(request, 421, HTTP_TITLES[421],
                                      "这个服务只接受以本机地址或配置的主机名访问的请求。")
        elif request.method == "POST" and length and length.isdigit() and int(length) > max_upload + 64 * 1024:
            response = error_response(request, 413, HTTP_TITLES[413], _too_large(settings.max_upload_mb))
        else:
            try:
                response = await call_next(request)
            except Exception:  # a bug: a Chinese page (or JSON) with the usual headers, never a traceback
                log.exception("internal error on %s", request.url.path)
                response = error_response(request, 500, HTTP_TITLES[500],
                                          "服务器处理这个请求时出错了，请稍后再试；问题已记录在服务器日志中。")
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(PolicyKBError)
    async def service_error(request: Request, exc: PolicyKBError) -> Response:
        for cls, status, title in ERROR_STATUS:
            if isinstance(exc, cls):
                return error_response(request, status, title, chinese_message(exc))
        return error_response(request, 400, "请求无效", chinese_message(exc))  # pragma: no cover

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        generic = not isinstance(exc.detail, str) or exc.detail in ("Not Found", "Method Not Allowed")
        message = {404: "没有这个页面或条目：地址可能有误，或者该条目已被删除。",
                   405: "这个地址不支持该请求方法：请从页面上的链接或按钮进入。"}.get(exc.status_code, "请求无效：请检查输入后再试。")
        if not generic:
            message = str(exc.detail)
        return error_response(request, exc.status_code, HTTP_TITLES.get(exc.status_code, "出错了"), message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 400, "参数无效", validation_message(exc.errors()))

    def check_query(q: str) -> str:
        q = (q or "").strip()
        if not q:
            raise HTTPException(400, "请输入要查询的内容，例如：教师交流轮岗比例")
        if len(q) > max_query:
            raise HTTPException(400, f"查询太长：共 {len(q)} 个字符，最多允许 {max_query} 个字符。请缩短后再试。")
        return q

    def regions_or_none(region: list[str] | None) -> list[str] | None:
        out = [r.strip() for value in region or [] for r in value.split(",") if r.strip()]
        return out or None

    # -- pages ------------------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, summary="搜索页", include_in_schema=False)
    def search_page(
        request: Request, q: str = "", region: RegionParam = None, k: Annotated[int, Query(ge=1, le=50)] = 10
    ) -> HTMLResponse:
        regions = kb.regions()
        chosen = regions_or_none(region)
        hits: list[dict[str, Any]] | None = None
        if q.strip():
            query = check_query(q)
            hits = relevance_bars([hit_view(h) for h in kb.search(query, k=k, region_ids=chosen)])
        summary = web_views.collection_summary(kb.documents(), regions) if hits is None else None
        return page(request, "search.html", {"q": q, "hits": hits, "regions": regions, "chosen": chosen or [],
                                             "tree": web_views.region_tree(regions, chosen or []),
                                             "chosen_names": region_names(chosen or [], regions), "k": k,
                                             "summary": summary})

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request, q: str = "", region: RegionParam = None, level: str = "",
                     sort: str = "") -> HTMLResponse:
        chosen = regions_or_none(region)
        if not q.strip():
            return page(request, "compare.html", {"q": "", "data": None, "chosen": chosen or [],
                                                  "examples": web_views.EXAMPLE_QUERIES})
        data = kb.compare_view(check_query(q), region_ids=chosen)
        return page(request, "compare.html", _compare_context(q, data, chosen, level, sort))

    @app.get("/compare/export.csv", include_in_schema=False)
    def compare_csv(q: str, region: RegionParam = None) -> Response:
        data = kb.compare_view(check_query(q), region_ids=regions_or_none(region))
        return _download(exporting.to_csv(exporting.comparison_rows(data)), "text/csv; charset=utf-8",
                         f"比较_{q}.csv")

    @app.get("/compare/export.xlsx", include_in_schema=False)
    def compare_xlsx(q: str, region: RegionParam = None) -> Response:
        data = kb.compare_view(check_query(q), region_ids=regions_or_none(region))
        book = exporting.to_xlsx([("比较", exporting.comparison_rows(data)),
                                  ("条款", exporting.comparison_clause_rows(data))])
        return _download(book, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         f"比较_{q}.xlsx")

    @app.get("/export.{fmt}", include_in_schema=False)
    def export_download(fmt: str) -> Response:
        """The whole knowledge base, as `policykb export` writes it (CSV: the requirements table)."""
        if fmt not in ("xlsx", "csv", "jsonl"):
            raise HTTPException(404, "没有这种下载格式：可下载 xlsx、csv 或 jsonl。")
        records = exporting.export_records(kb.documents(), kb.clauses(), kb.requirements())
        if fmt == "jsonl":
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
            return _download(body, "application/x-ndjson; charset=utf-8", "政策知识库.jsonl")
        tables = exporting.export_tables(records)
        if fmt == "csv":
            return _download(exporting.to_csv(dict(tables)["量化要求"]), "text/csv; charset=utf-8", "政策知识库_量化要求.csv")
        return _download(exporting.to_xlsx(tables), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         "政策知识库.xlsx")

    @app.get("/measures", response_class=HTMLResponse, include_in_schema=False)
    def measures_page(request: Request, sort: str = "regions") -> HTMLResponse:
        rows = sort_catalogue([m.to_dict() for m in kb.measures()], sort if sort in SORT_KEYS else "regions")
        columns = web_views.catalogue_columns(rows, kb.regions())
        return page(request, "measures.html", {"measures": rows, "columns": columns, "sort": sort,
                                               "province_spans": web_views.header_spans(columns, "province")})

    @app.get("/documents", response_class=HTMLResponse, include_in_schema=False)
    def documents_page(request: Request) -> HTMLResponse:
        return page(request, "documents.html", {"documents": [_summary(d) for d in kb.documents()]})

    rendered_documents = GenerationCache(DOCUMENT_PAGES_KEPT, DOCUMENT_PAGE_BYTES_KEPT)

    @app.get("/documents/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, doc_id: str) -> HTMLResponse:
        # A document page (up to a few hundred kB: the text, its raw form with every change marked) costs 7-30 ms
        # to build and changes only with the build: the same build answers with the bytes it rendered before.
        generation = kb.generation()
        key = (doc_id, request.url.path)
        body = rendered_documents.get(generation, key)
        if body is not None:
            return HTMLResponse(body)
        doc, clauses, reqs = kb.document_view(doc_id)
        outline = [c for c in clauses if c.role == "heading"]
        response = page(request, "document.html", {
            "doc": _summary(doc), "runs": document_pieces(doc, clauses, reqs), "outline": outline,
            "versions": document_versions(doc_id),
            "raw": raw_marks(doc.raw_text, doc.changes), "changes": doc.changes[:2000],
            "report": cleaning_report(doc), "requirements": reqs,
        })
        rendered_documents.keep(generation, key, bytes(response.body))
        return response

    def document_versions(doc_id: str) -> list[dict[str, Any]]:
        try:
            return kb.versions(doc_id)
        except PolicyKBError:
            return []

    def diff_view(alignment: Any) -> dict[str, Any]:
        data = alignment.to_dict()
        for pair in data["pairs"]:
            pair["a_pieces"] = web_drafting.diff_pieces(pair, "a")
            pair["b_pieces"] = web_drafting.diff_pieces(pair, "b")
        return data

    @app.get("/documents/{doc_id}/changes", response_class=HTMLResponse, include_in_schema=False)
    def version_changes_page(request: Request, doc_id: str, a: int, b: int) -> HTMLResponse:
        data = diff_view(kb.version_diff(doc_id, a, b))
        return page(request, "versions.html", {"doc_id": doc_id, "a": a, "b": b, "diff": data,
                                               "labels": web_drafting.STATUS_LABELS})

    def upload_status(name: str, data: bytes) -> dict[str, Any]:
        status = kb.classify_upload(name, data)
        status.pop("document", None)
        if status.get("diff") is not None:
            status["diff"] = diff_view(status["diff"])
        return status

    @app.get("/ingest", response_class=HTMLResponse, include_in_schema=False)
    def ingest_page(request: Request) -> HTMLResponse:
        return page(request, "ingest.html", {})

    @app.post("/ingest", response_class=HTMLResponse, include_in_schema=False)
    def ingest_preview_page(request: Request, file: UploadParam) -> HTMLResponse:
        name, data = _read_upload(file, max_upload, settings.max_upload_mb)
        doc = kb.preview_upload(name, data)
        status = upload_status(name, data)
        token = uploads.put(name, data, placed=doc.metadata.region_id is not None)
        processed = pipeline.process_document(doc)
        return page(request, "ingest_preview.html", {
            "token": token, "doc": _summary(doc), "text": doc.text, "report": cleaning_report(doc),
            "changes": doc.changes[:300], "filename": name, "status": status,
            "labels": web_drafting.STATUS_LABELS, **preview_parts(processed.clauses, processed.requirements),
            "region_choices": sorted({r["region"] for r in kb.regions() if r.get("region")}),
        })

    @app.post("/ingest/commit", response_class=HTMLResponse, include_in_schema=False)
    def ingest_commit_page(
        request: Request, token: Annotated[str, Form()], region: Annotated[str, Form()] = "",
        date: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
        source_url: Annotated[str, Form()] = "", no_region: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        name, data = uploads.get(token)
        overrides = _overrides(region=region, date=date, title=title, source_url=source_url)
        uploads.check_placed(token, overrides, national=bool(no_region))
        report = kb.add_upload(name, data, overrides)
        uploads.drop(token)
        outcome = report.files[0]
        names = region_names([outcome.region_id] if outcome.region_id else [], kb.regions())
        doc_title: str | None = None
        if outcome.doc_id:
            try:
                doc_title = kb.document(outcome.doc_id).metadata.title
            except PolicyKBError:  # a skipped file has no document to name
                pass
        return page(request, "ingest_done.html", {"report": report.to_dict(), "outcome": outcome,
                                                  "region_name": names[0] if names else None, "title": doc_title})

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_page(request: Request) -> HTMLResponse:
        routes = [
            {"method": method.upper(), "path": path, "summary": op.get("summary", ""),
             "description": op.get("description", "")}
            for path, ops in app.openapi()["paths"].items() for method, op in ops.items()
        ]
        return page(request, "api.html", {"routes": routes})

    # -- JSON twins ------------------------------------------------------------------------------------------------
    @app.get("/api/search", response_model=SearchOut, summary="检索条款（语义与关键词混合），最相关的在前",
             description="与命令行检索的 JSON 输出相同；可用 region 限定地区（上级地区包含其下各地区），k 为结果数（1–200）。", responses=ERROR_RESPONSES)
    def api_search(
        q: str, region: RegionParam = None, k: Annotated[int, Query(ge=1, le=200)] = 10,
        has_requirement: bool = False,
    ) -> dict[str, Any]:
        query = check_query(q)
        hits = kb.search(query, k=k, region_ids=regions_or_none(region), has_requirement=has_requirement)
        return {"query": query, "hits": [h.to_dict() for h in hits]}

    @app.get("/api/compare", response_model=CompareOut, summary="按地区比较一项指标",
             description="每个地区是否规定、规定的条款和数值，对齐后的数值及最严的地区（并列者均列出）；与命令行比较的 JSON 输出相同。",
             responses=ERROR_RESPONSES)
    def api_compare(q: str, region: RegionParam = None) -> Response:
        body = kb.compare_body(check_query(q), regions_or_none(region), compare_json, "api")
        return Response(content=body, media_type="application/json")

    @app.get("/api/measures", response_model=list[MeasureOut], summary="指标目录",
             description="全部量化要求按指标归并，列出各地区的数值；sort 可按地区数（regions）、名称（name）或单位（unit）排序。")
    def api_measures(sort: Annotated[str, Query(pattern="^(regions|name|unit)$")] = "regions") -> list[dict[str, Any]]:
        return sort_catalogue([m.to_dict() for m in kb.measures()], sort)

    @app.get("/api/documents", response_model=list[DocumentSummaryOut], summary="已收录的文件（摘要信息）")
    def api_documents() -> list[dict[str, Any]]:
        return [_summary(d) for d in kb.documents()]

    @app.get("/api/documents/{doc_id}", response_model=DocumentOut, summary="一份文件：清洗后的正文和清洗修改",
             description="另含原始文本、条款和量化要求。",
             responses=ERROR_RESPONSES)
    def api_document(doc_id: str) -> dict[str, Any]:
        doc, clauses, reqs = kb.document_view(doc_id)
        return {**doc.to_dict(with_raw=True), "clauses": [c.to_dict() for c in clauses],
                "requirements": [r.to_dict() for r in reqs]}

    @app.get("/api/documents/{doc_id}/versions", summary="一份文件的全部版本，旧的在前",
             responses=ERROR_RESPONSES)
    def api_versions(doc_id: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k not in ("segment", "source_path")} for item in kb.versions(doc_id)]

    @app.get("/api/documents/{doc_id}/changes", summary="一份文件两个版本之间的变化",
             description="第 a 版与第 b 版逐条对照，格式与文件对照接口相同。", responses=ERROR_RESPONSES)
    def api_version_changes(doc_id: str, a: int, b: int) -> dict[str, Any]:
        return dict(kb.version_diff(doc_id, a, b).to_dict())

    @app.get("/api/library", summary="知识库中的全部文件（含版本、来源和导入时间）")
    def api_library() -> list[dict[str, Any]]:
        return kb.document_records()

    @app.get("/api/clauses", response_model=list[ClauseOut], summary="条款列表",
             description="可按地区（region）或文件（doc）筛选。", responses=ERROR_RESPONSES)
    def api_clauses(region: RegionParam = None, doc: str | None = None) -> list[dict[str, Any]]:
        return [c.to_dict() for c in kb.clauses(regions_or_none(region), doc_id=doc)]

    @app.get("/api/requirements", response_model=list[RequirementOut], summary="量化要求列表",
             description="可按地区、单位、比较方式、数值范围和类型（要求或统计）筛选；每项都带中文写法（display）。", responses=ERROR_RESPONSES)
    def api_requirements(
        region: RegionParam = None, unit: str | None = None,
        comparator: Annotated[str | None, Query(pattern="^(>=|<=|>|<|=|~|range)$")] = None,
        min: float | None = None, max: float | None = None,  # noqa: A002 - the CLI's option names
        kind: Annotated[str | None, Query(pattern="^(requirement|statistic)$")] = None,
    ) -> list[dict[str, Any]]:
        reqs = kb.requirements(regions_or_none(region), unit=unit, comparator=comparator, value_min=min,
                               value_max=max, kind=kind)
        return [r.to_dict() for r in reqs]

    @app.get("/api/regions", summary="已收录的地区")
    def api_regions() -> list[dict[str, Any]]:
        return kb.regions()

    @app.post("/api/ingest/preview", response_model=IngestPreviewOut, summary="上传文件并预览清洗结果（不加入索引）",
              description=f"以表单字段 file 上传 .txt、.html、.htm、.docx、.doc、.wps、.pdf、.png 或 .jpg 文件，"
                          f"最大 {settings.max_upload_mb} MB；过大返回 413，类型不支持返回 415。",
              responses={**ERROR_RESPONSES, 413: {"model": ErrorOut}, 415: {"model": ErrorOut}})
    def api_ingest_preview(file: UploadParam) -> dict[str, Any]:
        name, data = _read_upload(file, max_upload, settings.max_upload_mb)
        doc = kb.preview_upload(name, data)
        status = upload_status(name, data)
        if status.get("diff") is not None:
            for pair in status["diff"]["pairs"]:
                pair.pop("a_pieces", None)
                pair.pop("b_pieces", None)
        return {"token": uploads.put(name, data, placed=doc.metadata.region_id is not None),
                "document": doc.to_dict(), "report": cleaning_report(doc), "needs_region": doc.metadata.region_id is None,
                **status}

    @app.post("/api/ingest/commit", response_model=IngestReportOut, summary="把预览过的文件加入索引",
              description="可更正地区、日期和标题；没有识别出地区时须给出地区（或声明不属于某个地区）。"
                          "加入期间检索照常使用旧索引。", responses=ERROR_RESPONSES)
    def api_ingest_commit(body: IngestCommitIn) -> dict[str, Any]:
        name, data = uploads.get(body.token)
        overrides = _overrides(region=body.region or "", region_id=body.region_id or "", date=body.date or "",
                               title=body.title or "", source_url=body.source_url or "")
        uploads.check_placed(body.token, overrides, national=body.no_region)
        report = kb.add_upload(name, data, overrides)
        uploads.drop(body.token)
        return report.to_dict()

    web_drafting.add_routes(app, kb, page)  # /align, /draft and their /api twins (H8)
    return app


# ----- helpers used by the routes --------------------------------------------------------------------------------
def _too_large(limit_mb: float) -> str:
    return f"文件太大：上传上限为 {limit_mb:g} MB。"


ACCEPTED_NAMES = "、".join(SUPPORTED_SUFFIXES)
# Files that are not text must start with their format's signature: a renamed file is refused before parsing.
BINARY_SIGNATURES: dict[str, tuple[tuple[bytes, ...], str]] = {
    ".docx": ((b"PK",), "不是 Word 文档"),
    ".doc": ((b"\xd0\xcf\x11\xe0", b"{\\rtf", b"PK"), "不是 Word 文档"),
    ".wps": ((b"\xd0\xcf\x11\xe0", b"PK"), "不是 WPS 文档"),
    ".pdf": ((b"%PDF",), "不是 PDF 文件"),
    ".png": ((b"\x89PNG",), "不是 PNG 图片"),
    ".jpg": ((b"\xff\xd8\xff",), "不是 JPEG 图片"),
    ".jpeg": ((b"\xff\xd8\xff",), "不是 JPEG 图片"),
}


def _looks_like_utf16(head: bytes) -> bool:
    """UTF-16 text without a byte-order mark: NULs on one side of the byte pairs only."""
    head = head[: len(head) - len(head) % 2] if len(head) == 4096 else head
    if len(head) % 2:
        return False
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return (even == 0) != (odd == 0)


def _read_upload(file: UploadFile, max_bytes: int, limit_mb: float) -> tuple[str, bytes]:
    """The upload's safe base name and bytes; 413 when too large, 415 when not a supported type."""
    name = Path((file.filename or "").replace("\\", "/")).name.strip()
    suffix = Path(name).suffix.lower()
    if not name or suffix not in SUPPORTED_SUFFIXES:
        raise HTTPException(415, f"不支持的文件类型“{suffix or name or '无扩展名'}”：只接受 {ACCEPTED_NAMES} 文件。")
    data = file.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HTTPException(413, _too_large(limit_mb))
    if not data:
        raise HTTPException(400, "文件是空的。")
    signature = BINARY_SIGNATURES.get(suffix)
    if signature and not data.startswith(signature[0]):
        raise HTTPException(415, f"这个 {suffix} 文件{signature[1]}（内容格式不符）。")
    if signature is None and b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if not _looks_like_utf16(data[:4096]):
            raise HTTPException(415, "这个文件看起来是二进制文件，不是文本或网页。")
    return name, data


def _overrides(**fields: str) -> dict[str, str]:
    """The user's corrections (empty fields mean "keep what was extracted"); a malformed date is refused."""
    out = {k: v.strip() for k, v in fields.items() if v and v.strip()}
    if "date" in out and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", out["date"]):
        raise HTTPException(400, f"日期格式不正确：“{out['date']}”，应为 YYYY-MM-DD，例如 2024-03-01。")
    url = out.get("source_url")
    if url is not None and not re.fullmatch(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?", url, flags=re.IGNORECASE):
        shown = url if len(url) <= 60 else url[:60] + "…"
        raise HTTPException(400, f"来源网址格式不正确：“{shown}”，应为以 http:// 或 https:// 开头的网页地址。")
    return out


def _download(body: bytes, media_type: str, filename: str) -> Response:
    safe = "".join(ch for ch in filename if ch not in '\\/:*?"<>|\r\n')[:120]
    disposition = f"attachment; filename=\"export{Path(safe).suffix}\"; filename*=UTF-8''{quote(safe)}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def _summary(doc: Document) -> dict[str, Any]:
    m = doc.metadata
    return {"doc_id": doc.doc_id, "region_id": m.region_id, "region": m.region, "title": m.title,
            "issuer": m.issuer, "date": m.date, "doc_number": m.doc_number, "kind": m.kind, "level": m.level,
            "source_path": doc.source_path, "chars": len(doc.text), "changes": len(doc.changes),
            "source_format": m.source_format, "ocr_confidence": m.ocr_confidence}


def _regions_of(measures: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    seen: dict[str, str] = {}
    for m in measures:
        for v in m["values"]:
            seen.setdefault(v["region_id"], v["region"])
    return [{"region_id": rid, "region": name} for rid, name in sorted(seen.items())]


COMPARE_LEVELS = (("", "全部级别"), ("province", "省级"), ("city", "市级"), ("district", "区县级"),
                  ("doc", "未标明地区的文件"))
COMPARE_ORDERS = (("", "按省、市分组"), ("strict", "按数值：从严到宽"), ("loose", "按数值：从宽到严"))


def _compare_context(q: str, data: dict[str, Any], chosen: list[str] | None, level: str = "",
                     order: str = "") -> dict[str, Any]:
    """Everything the compare page shows, derived from the compare JSON (so page and API cannot disagree)."""
    regions = data["regions"]
    for r in regions:
        r["views"] = [_hit_dict_view(m) for m in r["matches"]]
        near = r.get("nearest_clause")
        r["nearest_view"] = _hit_dict_view(near) if near else None
    level = level if level in dict(COMPARE_LEVELS) else ""
    order = order if order in dict(COMPARE_ORDERS) else ""
    ceiling = bool(data["aligned"]) and data["aligned"][0]["comparator"] == "<="
    columns = web_views.compare_columns(regions, level, order, ceiling)
    grouped = not order
    charts = [c for c in (bar_chart(g, columns) for g in data["aligned"]) if c]
    for g in data["aligned"]:
        g["title"] = web_views.aligned_title(g)
        g["winners"] = list(g.get("strictest_all") or ([g["strictest"]] if g.get("strictest") else []))
    params = [("q", q)] + [("region", r) for r in (chosen or [])]
    return {"q": q, "data": data, "regions": regions, "columns": columns, "charts": charts, "chosen": chosen or [],
            "grouped": grouped, "province_spans": web_views.header_spans(columns, "province") if grouped else [],
            "city_spans": web_views.header_spans(columns, "city") if grouped else [],
            "has_cities": grouped and any(c.get("city") for c in columns),
            "level": level, "order": order, "levels": COMPARE_LEVELS, "orders": COMPARE_ORDERS,
            "export_query": urlencode(params)}


def _hit_dict_view(m: dict[str, Any]) -> dict[str, Any]:
    spans = [(r["span_start"], r["span_end"], requirement_display(r)) for r in m.get("requirements", [])]
    return {**m, "pieces": highlight(m["text"], spans), "link": doc_link(m["doc_id"], m["clause_id"])}


def serve(kb: KnowledgeBase, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Warm the model and index, then serve the UI and API with uvicorn (loopback by default)."""
    import uvicorn

    try:
        kb.warm_up()
        # The catalogue page cuts subjects with jieba's full dictionary (seconds to load, holding the GIL): the
        # first visitor of /measures must not stall every other request, so it is built now, once per build.
        kb.measures()
    except PolicyKBError as exc:  # serve anyway: every page then says what is wrong and how to fix it
        log.error("%s", exc)
    uvicorn.run(create_app(kb, announce_at=(str(host), int(port))), host=host, port=port, log_level="info",
                access_log=False)


__all__ = ["create_app", "serve", "highlight", "bar_chart"]
