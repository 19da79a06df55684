"""The web app through FastAPI's TestClient on a hash-embedder index of the corpus: pages, JSON twins, safety."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policykb.service import KnowledgeBase
from policykb.settings import Settings
from policykb.web import bar_chart, create_app, highlight

REGIONS = ["haidian", "hongkou", "linping", "shanghai", "zhenjiang"]
UPLOAD = (
    "某某区教育局关于推进学区化集团化办学的实施方案\n"
    "一、工作目标\n"
    "每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的25%，流动期限不少于4年。\n"
    "二、保障措施\n"
    "设立专项经费支持集团化办学。页面里有一段 <script>alert('x')</script> 文字。\n"
    "某某区教育局\n2024年3月1日\n"
)

LOCAL = "http://127.0.0.1"  # the server refuses other Host names (DNS rebinding)


@pytest.fixture(scope="module")
def client(hash_kb: KnowledgeBase) -> TestClient:
    return TestClient(create_app(hash_kb), base_url=LOCAL)


def _copy_kb(hash_kb: KnowledgeBase, tmp_path: Path, **settings: Any) -> KnowledgeBase:
    """A private copy of the hash index, so tests that add documents do not change the shared one."""
    folder = tmp_path / "index"
    shutil.copytree(hash_kb.index_root, folder, symlinks=True)
    from policykb.embed import HashEmbedder

    return KnowledgeBase(Settings.load(index_dir=str(folder), **settings), embedder_factory=lambda s: HashEmbedder())


# ----- pure view helpers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "spans", "pieces"),
    [
        ("不低于30%的教师", [(0, 6, "t")], [("不低于30%", "t"), ("的教师", None)]),
        ("abcdef", [(2, 4, "x"), (3, 5, "y")], [("ab", None), ("cd", "x"), ("e", "y"), ("f", None)]),  # overlap
        ("abc", [(5, 9, "x")], [("abc", None)]),  # out of range: ignored
        ("", [], []),
    ],
)
def test_highlight_splits_text_at_spans(text: str, spans: list[tuple[int, int, str]], pieces: list[Any]) -> None:
    assert highlight(text, spans) == pieces


def test_bar_chart_scales_bars_marks_every_tie_and_counts_missing_regions() -> None:
    regions = [{"region_id": r, "region": n} for r, n in (("a", "甲"), ("b", "乙"), ("c", "丙"), ("d", "丁"))]
    group = {"unit": "%", "comparator": ">=", "values": {"a": 20.0, "b": 30.0, "d": 30.0},
             "display": {"a": ">= 20 %", "b": ">= 30 %", "d": ">= 30 %"},
             "label": {"a": "不低于20%", "b": "不低于30%", "d": "不低于30%"},
             "strictest": "b", "strictest_all": ["b", "d"]}
    chart = bar_chart(group, regions)
    assert chart is not None
    assert [(b["label"], b["width"], b["strictest"], b["shown"]) for b in chart["bars"]] == [
        ("甲", 200, False, "不低于20%"), ("乙", 300, True, "不低于30%"), ("丁", 300, True, "不低于30%")]
    assert chart["missing"] == ["丙"]
    assert chart["title"] == "下限（%）"  # the chart is titled in Chinese, never `>= %`
    assert bar_chart({**group, "values": {"a": [1.0, 2.0]}}, regions) is None  # ranges are not drawn


# ----- pages -----------------------------------------------------------------------------------------------------
def test_every_response_carries_security_headers(client: TestClient) -> None:
    for path in ["/", "/api/documents", "/static/style.css", "/nope"]:
        r = client.get(path)
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_search_page_shows_hits_with_highlighted_values_and_links(client: TestClient) -> None:
    r = client.get("/", params={"q": "骨干教师不低于30%", "region": "shanghai"})
    assert r.status_code == 200
    html = r.text
    assert 'value="shanghai" checked' in html
    assert '<mark class="req"' in html and "不低于30%</mark>" in html
    assert 'href="/documents/shanghai-2023-15#c-' in html
    assert "<script>" not in html.split("</head>", 1)[1]  # no inline script in the body


def test_search_page_without_query_shows_the_form_and_region_filters(client: TestClient) -> None:
    html = client.get("/").text
    assert all(f'value="{rid}"' in html for rid in REGIONS)
    assert 'class="hits"' not in html


@pytest.mark.parametrize("path", ["/", "/api/search", "/compare", "/api/compare"])
def test_overlong_query_is_refused_in_chinese(client: TestClient, path: str) -> None:
    r = client.get(path, params={"q": "教" * 201})
    assert r.status_code == 400
    assert "查询太长：共 201 个字符，最多允许 200 个字符" in r.text


def test_empty_api_query_is_refused(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "  "})
    assert r.status_code == 400
    assert r.json()["error"].startswith("请输入要查询的内容")


def test_compare_page_has_a_column_per_region_and_export_links(client: TestClient) -> None:
    html = client.get("/compare", params={"q": "流动期限"}).text
    assert html.count('<th scope="col" class="region-col ') == 5
    assert "未规定" in html  # the hash embedder is far below the dense floor: nothing is found
    assert 'href="/compare/export.xlsx?q=%E6%B5%81%E5%8A%A8%E6%9C%9F%E9%99%90"' in html


def test_compare_csv_export_has_bom_and_one_column_per_region(client: TestClient) -> None:
    r = client.get("/compare/export.csv", params={"q": "流动期限"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["指标", "流动期限"]
    assert rows[1] == ["项目", "上海市（shanghai）", "镇江市（zhenjiang）", "海淀区（haidian）", "虹口区（hongkou）",
                       "临平区（linping）"]
    assert rows[2][0] == "是否规定"


def test_compare_xlsx_export_opens_in_openpyxl(client: TestClient) -> None:
    from openpyxl import load_workbook

    r = client.get("/compare/export.xlsx", params={"q": "流动期限"})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["比较", "条款"]
    sheet = book["比较"]
    assert (sheet["A1"].value, sheet["B1"].value, sheet["B2"].value) == ("指标", "流动期限", "上海市（shanghai）")


def test_measures_page_is_sortable(client: TestClient) -> None:
    html = client.get("/measures", params={"sort": "name"}).text
    assert 'class="sortable measures"' in html and "/static/app.js" in html
    names = [m["name"] for m in client.get("/api/measures", params={"sort": "name"}).json()]
    assert names == sorted(names)
    positions = [html.find(f">{n}</a>") for n in names[:5]]
    assert positions == sorted(positions)


def test_documents_list_and_document_page(client: TestClient) -> None:
    docs = client.get("/api/documents").json()
    assert sorted(d["region_id"] for d in docs) == REGIONS
    html = client.get("/documents/shanghai-2023-15").text
    assert 'id="outline"' in html and 'href="#c-shanghai-2023-15/' in html
    assert '<span id="c-shanghai-2023-15/' in html
    assert "骨干教师不低于30%" in html.replace('<mark class="req" title="', "").replace("</mark>", "")
    assert 'id="raw-text"' in html and 'id="change-list"' in html


def test_document_page_escapes_html_from_the_scrape(client: TestClient) -> None:
    html = client.get("/documents/haidian-2022-07-26").text
    assert '<th id="oyc5u">' not in html
    assert "&lt;th id=&#34;oyc5u&#34;&gt;" in html  # shown as text in the raw view


def test_unknown_ids_give_404_in_json_and_in_chinese_pages(client: TestClient) -> None:
    r = client.get("/api/documents/nope")
    assert r.status_code == 404 and r.json()["title"] == "找不到"
    r = client.get("/documents/nope")
    assert r.status_code == 404 and "找不到" in r.text and "nope" in r.text
    r = client.get("/api/search", params={"q": "教师", "region": "atlantis"})
    assert r.status_code == 404 and "atlantis" in r.json()["error"]
    assert client.get("/no/such/page").status_code == 404


# ----- JSON twins: contract shapes ----------------------------------------------------------------------------
def test_api_search_shape(client: TestClient) -> None:
    data = client.get("/api/search", params={"q": "联合教研", "k": 3, "region": "shanghai,hongkou"}).json()
    assert data["query"] == "联合教研" and len(data["hits"]) == 3
    for hit in data["hits"]:
        assert set(hit) >= {"clause_id", "doc_id", "region_id", "region", "section", "text", "score", "requirements"}
        assert hit["region_id"] in {"shanghai", "hongkou"}


def test_api_compare_shape(client: TestClient) -> None:
    data = client.get("/api/compare", params={"q": "流动期限"}).json()
    assert data["query"] == "流动期限"
    assert [r["region_id"] for r in data["regions"]] == ["shanghai", "zhenjiang", "haidian", "hongkou", "linping"]
    assert all(set(r) >= {"region_id", "region", "found", "matches"} for r in data["regions"])
    assert isinstance(data["aligned"], list)


def test_api_clauses_and_requirements_filters(client: TestClient) -> None:
    clauses = client.get("/api/clauses", params={"region": "hongkou"}).json()
    assert clauses and {c["region_id"] for c in clauses} == {"hongkou"}
    assert set(clauses[0]) >= {"clause_id", "doc_id", "region_id", "section", "text"}
    reqs = client.get("/api/requirements", params={"region": "shanghai", "unit": "次"}).json()
    assert {r["region_id"] for r in reqs} == {"shanghai", "hongkou"}  # 上海市 includes 虹口区
    assert [(r["subject"], r["value"]) for r in reqs if r["region_id"] == "shanghai"][:1] == [("学科联合教研", 5.0)]
    by_name = client.get("/api/requirements", params={"region": "虹口区", "unit": "次"}).json()
    assert by_name and {r["region_id"] for r in by_name} == {"hongkou"}
    assert client.get("/api/requirements", params={"comparator": "!!"}).status_code == 400


def test_api_document_has_text_changes_and_clauses(client: TestClient) -> None:
    data = client.get("/api/documents/hongkou-2025-03-10").json()
    assert data["region"] == "虹口区" and data["date"] == "2025-03-10"
    assert data["changes"] and data["clauses"] and "raw_text" in data


def test_openapi_documents_every_api_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ["/api/search", "/api/compare", "/api/measures", "/api/documents", "/api/documents/{doc_id}",
                 "/api/clauses", "/api/requirements", "/api/ingest/preview", "/api/ingest/commit"]:
        ops = schema["paths"][path]
        assert all(op.get("summary") for op in ops.values()), path
    assert "CompareOut" in schema["components"]["schemas"]
    assert "/api/search" in client.get("/api").text


# ----- uploads -------------------------------------------------------------------------------------------------
def test_upload_preview_then_commit_with_a_corrected_region_makes_it_searchable(hash_kb: Any, tmp_path: Path) -> None:
    kb = _copy_kb(hash_kb, tmp_path)
    client = TestClient(create_app(kb), base_url=LOCAL)
    r = client.post("/api/ingest/preview", files={"file": ("moumou.txt", UPLOAD.encode("utf-8"), "text/plain")})
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["document"]["date"] == "2024-03-01"
    assert "25%" in preview["document"]["text"]
    before = client.get("/api/documents").json()
    assert len(before) == 5  # a preview indexes nothing
    r = client.post("/api/ingest/commit", json={"token": preview["token"], "region": "某某区", "date": "2024-03-02"})
    assert r.status_code == 200, r.text
    outcome = r.json()["files"][0]
    assert outcome["ok"] and outcome["region_id"] == "moumou"
    hits = client.get("/api/search", params={"q": "流动期限", "region": "moumou"}).json()["hits"]
    assert hits and hits[0]["region"] == "某某区"
    doc = client.get(f"/api/documents/{outcome['doc_id']}").json()
    assert doc["date"] == "2024-03-02"
    # the <script> of the uploaded text is shown as text (in the raw view and the change list), never run
    body = client.get(f"/documents/{outcome['doc_id']}").text.split("</head>", 1)[1]
    assert "<script" not in body
    assert '<td class="before">&lt;script&gt;</td>' in body and "&lt;/script&gt;</mark>" in body
    # the token is spent
    assert client.post("/api/ingest/commit", json={"token": preview["token"]}).status_code == 404


def test_upload_form_flow_renders_preview_and_result_pages(hash_kb: Any, tmp_path: Path) -> None:
    client = TestClient(create_app(_copy_kb(hash_kb, tmp_path)), base_url=LOCAL)
    assert 'enctype="multipart/form-data"' in client.get("/ingest").text
    html = client.post("/ingest", files={"file": ("notice.txt", UPLOAD.encode("utf-8"))}).text
    assert 'id="detected-date">2024-03-01<' in html
    token = html.split('name="token" value="', 1)[1].split('"', 1)[0]
    done = client.post("/ingest/commit", data={"token": token, "region": "某某区", "date": "", "title": ""})
    assert done.status_code == 200 and "已加入索引" in done.text and "moumou" in done.text


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("policy.xls", b"text", 415, "不支持的文件类型"),
        ("policy", b"text", 415, "不支持的文件类型"),
        ("policy.pdf", b"<html>not a pdf</html>", 415, "不是 PDF 文件"),
        ("scan.jpg", b"\x89PNG\r\n\x1a\n", 415, "不是 JPEG 图片"),
        ("policy.pdf", b"%PDF-1.4 ...", 400, "文件“policy.pdf”无法读取：不是可读取的 PDF，文件可能已损坏"),
        ("policy.docx", b"not a zip file", 415, "不是 Word 文档"),
        ("policy.txt", b"\x00\x01\x02binary", 415, "二进制"),
        ("policy.txt", b"", 400, "文件是空的"),
    ],
)
def test_upload_type_checks(client: TestClient, name: str, data: bytes, status: int, message: str) -> None:
    r = client.post("/api/ingest/preview", files={"file": (name, data)})
    assert r.status_code == status and message in r.json()["error"]


def test_upload_size_limit_gives_413(hash_kb: Any, tmp_path: Path) -> None:
    client = TestClient(create_app(_copy_kb(hash_kb, tmp_path, max_upload_mb=0.01)), base_url=LOCAL)
    big = ("教育" * 6000).encode("utf-8")  # 36 kB > 10 kB
    r = client.post("/api/ingest/preview", files={"file": ("big.txt", big)})
    assert r.status_code == 413 and "上传上限为 0.01 MB" in r.json()["error"]


def test_an_upload_keeps_the_source_url_it_was_given_so_site_templates_can_use_it(hash_kb: Any, tmp_path: Path) -> None:
    from policykb.indexer import read_current_manifest

    kb = _copy_kb(hash_kb, tmp_path)
    client = TestClient(create_app(kb), base_url=LOCAL)
    html = client.post("/ingest", files={"file": ("notice.txt", UPLOAD.encode("utf-8"))}).text
    assert 'name="source_url"' in html
    token = html.split('name="token" value="', 1)[1].split('"', 1)[0]
    url = "https://jyj.moumou.gov.cn/art/2024/3/1/art_1.html"
    assert client.post("/ingest/commit", data={"token": token, "region": "某某区", "source_url": url}).status_code == 200
    other = UPLOAD.replace("25%", "30%").replace("某某区", "另一区").encode("utf-8")
    token = client.post("/api/ingest/preview", files={"file": ("other.txt", other)}).json()["token"]
    r = client.post("/api/ingest/commit", json={"token": token, "region": "另一区",
                                                "source_url": "http://www.lingyi.edu.cn/x?id=3"})
    assert r.status_code == 200, r.text
    catalog = read_current_manifest(kb.index_root).read_catalog()
    sites = sorted(e.latest.site for e in catalog.live() if e.latest.site)
    assert sites == ["lingyi.edu.cn", "moumou.gov.cn"]


@pytest.mark.parametrize("url", ["jyj.moumou.gov.cn/a.html", "ftp://x.cn/a", "https://", "javascript:alert(1)",
                                 "https://x .cn/a"])
def test_commit_refuses_a_malformed_source_url(client: TestClient, url: str) -> None:
    token = client.post("/api/ingest/preview", files={"file": ("a.txt", UPLOAD.encode("utf-8"))}).json()["token"]
    r = client.post("/api/ingest/commit", json={"token": token, "region": "某某区", "source_url": url})
    assert r.status_code == 400 and r.json()["error"].startswith("来源网址格式不正确")


def test_commit_refuses_a_malformed_date(client: TestClient) -> None:
    token = client.post("/api/ingest/preview", files={"file": ("a.txt", UPLOAD.encode("utf-8"))}).json()["token"]
    r = client.post("/api/ingest/commit", json={"token": token, "date": "2024/3/1"})
    assert r.status_code == 400 and "日期格式不正确" in r.json()["error"]


def test_searches_keep_answering_while_an_upload_is_being_indexed(hash_kb: Any, tmp_path: Path) -> None:
    import threading

    client = TestClient(create_app(_copy_kb(hash_kb, tmp_path)), base_url=LOCAL)
    token = client.post("/api/ingest/preview", files={"file": ("a.txt", UPLOAD.encode("utf-8"))}).json()["token"]
    done: list[int] = []
    worker = threading.Thread(
        target=lambda: done.append(client.post("/api/ingest/commit", json={"token": token, "region": "某某区"}).status_code))
    worker.start()
    statuses: list[int] = []
    while worker.is_alive() or not statuses:
        statuses.append(client.get("/api/search", params={"q": "流动期限", "k": 50}).status_code)
    worker.join()
    assert done == [200]
    assert set(statuses) == {200} and len(statuses) > 1
    assert client.get("/api/search", params={"q": "流动期限", "region": "moumou"}).status_code == 200


def test_upload_an_official_pdf_previews_its_text_and_metadata(client: TestClient, tmp_path: Path) -> None:
    from official_layout import Frame, official_pdf, soffice

    if soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed: make system-deps")
    text = "沪教委基〔2023〕15号\n各区教育局：\n" + "为全面贯彻党的二十大精神，加快促进义务教育优质均衡发展，现印发给你们，请结合实际贯彻执行。" * 4
    text += "\n特此通知。\n上海市教育委员会\n2023年5月4日"
    path = official_pdf(text, Frame("上海市教育委员会文件"), tmp_path, "notice")
    r = client.post("/api/ingest/preview", files={"file": ("通知.pdf", path.read_bytes(), "application/pdf")})
    assert r.status_code == 200, r.text
    document = r.json()["document"]
    assert (document["issuer"], document["doc_number"], document["date"], document["region_id"]) == (
        "上海市教育委员会", "沪教委基〔2023〕15号", "2023-05-04", "shanghai")
    assert document["source_format"] == "pdf" and document["ocr_confidence"] is None
    assert document["text"].split("\n")[2] == text.split("\n")[2]  # four printed lines joined back into one
    assert r.json()["report"]["by_kind"]["pagination"] >= 1
