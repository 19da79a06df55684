"""Web pages and JSON for document alignment and the draft builder, added to the app by `web.create_app`.

Each route parses its parameters, makes one KnowledgeBase call (plus the export for downloads) and renders.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from policykb import web_views
from policykb.align import suggest_pairs
from policykb.docx_export import numbered_headings

Page = Callable[[Request, str, dict[str, Any]], HTMLResponse]

STATUS_LABELS = {"identical": "相同", "changed": "修改", "only_a": "仅甲文件有", "only_b": "仅乙文件有"}
POLICY_LABELS = {
    "parent": "与上级一致",
    "strictest": "取各地最严",
    "median": "取同级中位数",
    "custom": "自定义数值",
}
LEVEL_LABELS = {"": "按名称判断", "district": "区", "county": "县", "city": "市", "province": "省"}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PolicyParam = Annotated[str, Query(pattern="^(parent|strictest|median|custom)$", description="how numbers are set")]
LevelParam = Annotated[str, Query(pattern="^(|district|county|city|province)$", description="empty: from the name")]
_LIST_SPLIT = re.compile(r"[,，、;；\n]+")


# ----- pure view helpers ----------------------------------------------------------------------------------


def diff_pieces(pair: dict[str, Any], side: str) -> list[tuple[str, str | None]]:
    """One side of an aligned pair as (text, css class) pieces: deleted text on A, inserted text on B."""
    clause = pair.get(side)
    if not clause:
        return []
    if pair["status"] != "changed" or not pair.get("diff"):
        return [(clause["text"], None)]
    mark = "del" if side == "a" else "ins"
    pieces: list[tuple[str, str | None]] = []
    for op in pair["diff"]:
        text = op[side]
        if text:
            pieces.append((text, None if op["op"] == "equal" else mark))
    return pieces


def split_measures(raw: str) -> list[str]:
    """`教师流动比例,共享课程` (any of ,，、; or new lines) as a list of measures."""
    return [m.strip() for m in _LIST_SPLIT.split(raw or "") if m.strip()]


def parse_custom(raw: str) -> dict[str, float]:
    """Custom targets, one `指标=数值` per line or comma; refuses what is not a number, naming it."""
    out: dict[str, float] = {}
    for item in _LIST_SPLIT.split(raw or ""):
        if not item.strip():
            continue
        name, sep, value = item.replace("＝", "=").partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value.strip().rstrip("%％"))
        except ValueError:
            raise HTTPException(400, f"自定义数值格式不正确：“{item.strip()}”，应为 指标=数值，例如 教师流动比例=25") from None
    return out


def default_parent(region_name: str, regions: list[dict[str, Any]]) -> str:
    """The parent the draft page proposes: the nearest indexed region above the new region in the gazetteer
    (虹口区 → 上海市), else the indexed region of the highest level (a province or city plan is what a lower
    level localises), else nothing."""
    from policykb import gazetteer

    indexed = {r["region_id"]: r for r in regions}
    place = gazetteer.lookup(region_name.strip()) if region_name.strip() else None
    if place is not None:
        for rid in gazetteer.parent_ids(place):
            if rid in indexed:
                return rid
    rank = {"province": 0, "city": 1, "district": 2, "county": 2}
    ranked = sorted(regions, key=lambda r: (rank.get(str(r.get("level")), 3), str(r["region_id"])))
    return str(ranked[0]["region_id"]) if ranked else ""


def _download(body: bytes, media_type: str, filename: str) -> Response:
    safe = "".join(ch for ch in filename if ch not in '\\/:*?"<>|\r\n')[:120]
    disposition = f"attachment; filename=\"draft{Path(safe).suffix}\"; filename*=UTF-8''{quote(safe)}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


# ----- routes ---------------------------------------------------------------------------------------------


def add_routes(app: FastAPI, kb: Any, page: Page) -> None:
    """Register /align, /draft, their downloads and their JSON twins under /api on `app`."""

    def documents() -> list[dict[str, Any]]:
        return [
            {"doc_id": d.doc_id, "region_id": d.metadata.region_id, "region": d.metadata.region,
             "title": d.metadata.title, "level": d.metadata.level}
            for d in kb.documents()
        ]

    def suggestions(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_id = {d["doc_id"]: d for d in docs}
        return [{"a": a, "b": b, "a_region": by_id[a]["region"], "b_region": by_id[b]["region"]}
                for a, b in suggest_pairs(kb) if a in by_id and b in by_id]

    @app.get("/align", response_class=HTMLResponse, include_in_schema=False)
    def align_page(request: Request, a: str = "", b: str = "", show: str = "all") -> HTMLResponse:
        docs = documents()
        suggested = suggestions(docs)
        if not a and not b and suggested:  # a district's plan against its parent's, never a document with itself
            parent, child = suggested[0]["a"], suggested[0]["b"]
            a, b = child, parent
        context: dict[str, Any] = {"docs": docs, "suggestions": suggested, "a": a, "b": b,
                                   "show": show, "labels": STATUS_LABELS, "data": None}
        if a and b:
            data = kb.align(a, b).to_dict()
            for pair in data["pairs"]:
                pair["a_pieces"] = diff_pieces(pair, "a")
                pair["b_pieces"] = diff_pieces(pair, "b")
            context["data"] = data
        return page(request, "align.html", context)

    @app.get("/api/align", summary="两份文件逐条对照",
             description="相同、修改（逐字差异）、仅一方有；与命令行文件对照的 JSON 输出相同。")
    def api_align(a: str, b: str) -> dict[str, Any]:
        return dict(kb.align(a, b).to_dict())

    @app.get("/api/align/pairs", summary="值得对照的文件组合，上下级地区的在前")
    def api_align_pairs() -> list[dict[str, Any]]:
        return suggestions(documents())

    def build(region: str, parent: str, measures: str, policy: str, level: str, custom: str) -> Any:
        names = split_measures(measures)
        if not region.strip() or not parent.strip() or not names:
            raise HTTPException(400, "请填写新地区名称、上级地区和至少一项措施，例如：某某区、shanghai、教师流动比例,共享课程")
        return kb.draft(region=region.strip(), parent_region_id=parent.strip(), measures=names, policy=policy,
                        level=level or None, custom_values=parse_custom(custom) if policy == "custom" else None)

    @app.get("/draft", response_class=HTMLResponse, include_in_schema=False)
    def draft_page(
        request: Request, region: str = "", parent: str = "", measures: str = "", policy: PolicyParam = "strictest",
        level: LevelParam = "", custom: str = "",
    ) -> HTMLResponse:
        regions = kb.regions()
        parent = parent or default_parent(region, regions)
        context: dict[str, Any] = {
            "form": {"region": region, "parent": parent, "measures": measures, "policy": policy, "level": level,
                     "custom": custom},
            "regions": regions, "parent_groups": web_views.parent_choices(regions), "policies": POLICY_LABELS, "levels": LEVEL_LABELS, "draft": None,
        }
        if region or measures:
            draft = build(region, parent, measures, policy, level, custom)
            data = draft.to_dict()
            numbers = {c["clause_id"]: c["n"] for c in data["citations"]}
            for heading, section in zip(numbered_headings(draft), data["sections"], strict=True):
                section["numbered"] = heading
                for clause in section["clauses"]:
                    clause["n"] = numbers[clause["source"]["clause_id"]]
            query = urlencode({"region": region, "parent": parent, "measures": measures, "policy": policy,
                               "level": level, "custom": custom})
            context.update(draft=data, query=query, count=len(draft.clauses))
        return page(request, "draft.html", context)

    @app.get("/draft/export.docx", include_in_schema=False)
    def draft_docx(region: str, parent: str, measures: str, policy: PolicyParam = "strictest", level: LevelParam = "",
                   custom: str = "") -> Response:
        return _export(build(region, parent, measures, policy, level, custom), ".docx", DOCX_TYPE)

    @app.get("/draft/export.md", include_in_schema=False)
    def draft_md(region: str, parent: str, measures: str, policy: PolicyParam = "strictest", level: LevelParam = "",
                 custom: str = "") -> Response:
        return _export(build(region, parent, measures, policy, level, custom), ".md", "text/markdown; charset=utf-8")

    def _export(draft: Any, suffix: str, media_type: str) -> Response:
        with tempfile.TemporaryDirectory(prefix="policykb-draft-") as tmp:
            out = kb.export_draft(draft, Path(tmp) / f"draft{suffix}")
            body = out.read_bytes()
        return _download(body, media_type, f"{draft.title}{suffix}")

    @app.get("/api/draft", summary="为新地区起草实施方案，逐条注明来源",
             description="measures 为逗号分隔的措施；取值方式 policy=custom 时，custom 写成“指标=数值”，每行一项。")
    def api_draft(region: str, parent: str, measures: str, policy: PolicyParam = "parent", level: LevelParam = "",
                  custom: str = "") -> dict[str, Any]:
        return dict(build(region, parent, measures, policy, level, custom).to_dict())
