"""Pages that scale and speak Chinese (issue 14 items 1 and 6, issue 13 item 3), through FastAPI's TestClient over the
hash-embedder index of the corpus and over hand-made region lists: the home page's summary, the region tree, the
compare columns, the ingest preview and its refusal of a document without a region, the /api page and error pages.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb import gazetteer
from policykb.service import KnowledgeBase
from policykb.settings import Settings
from policykb.web import create_app
from policykb.web_views import aligned_title, compare_columns, header_spans, parent_choices, region_tree

LOCAL = "http://127.0.0.1"
UNPLACED = ("关于加强中小学教师队伍建设的若干意见\n一、总体要求\n全面提高教师队伍素质。\n"
            "二、主要任务\n（一）交流轮岗。每年交流轮岗教师人数应不低于符合条件教师总数的15%，交流期限不少于3年。\n"
            "（二）培训。每位教师每学年参加培训不少于72学时。\n三、保障措施\n加强经费保障。\n2024年5月6日\n")
# English a reader would meet: three Latin words in a row (ids and file names are single words).
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,.']+[A-Za-z]{2,}){2,}")


@pytest.fixture(scope="module")
def client(hash_kb: KnowledgeBase) -> TestClient:
    return TestClient(create_app(hash_kb), base_url=LOCAL)


def _private_client(hash_kb: KnowledgeBase, tmp_path: Path) -> TestClient:
    from policykb.embed import HashEmbedder

    folder = tmp_path / "index"
    shutil.copytree(hash_kb.index_root, folder, symlinks=True)
    kb = KnowledgeBase(Settings.load(index_dir=str(folder)), embedder_factory=lambda s: HashEmbedder())
    return TestClient(create_app(kb), base_url=LOCAL)


def _row(rid: str, **extra: Any) -> dict[str, Any]:
    place = gazetteer.by_id(rid)
    assert place is not None
    return {"region_id": rid, "region": place.name, "level": place.level,
            "parent_region_ids": gazetteer.parent_ids(place), **extra}


# ----- the region tree ---------------------------------------------------------------------------------------------
def _flatten(nodes: list[dict[str, Any]], depth: int = 0) -> list[tuple[int, str, int, bool]]:
    out = []
    for n in nodes:
        out.append((depth, n["name"], n["count"], n["indexed"]))
        out += _flatten(n["children"], depth + 1)
    return out


def test_the_corpus_regions_hang_under_their_provinces_and_cities(hash_kb: KnowledgeBase) -> None:
    tree = region_tree(hash_kb.regions())
    assert _flatten(tree) == [
        (0, "北京市", 1, False), (1, "海淀区", 1, True),
        (0, "上海市", 2, True), (1, "虹口区", 1, True),
        (0, "江苏省", 1, False), (1, "镇江市", 1, True),
        (0, "浙江省", 1, False), (1, "杭州市", 1, False), (2, "临平区", 1, True),
    ]
    assert all(n["open"] for n in tree)  # a small tree is shown unfolded


def test_a_big_tree_is_folded_except_where_a_region_is_chosen() -> None:
    ids = [r.region_id for r in gazetteer.REGIONS if r.region_id.startswith(("z", "h")) and r.region_id != "linping"]
    ids = ids[:299] + ["linping"]
    rows = [_row(rid) for rid in ids]
    tree = region_tree(rows, chosen=["linping"])
    flat = _flatten(tree)
    assert sum(1 for _, _, _, indexed in flat if indexed) == 300
    assert sum(n["count"] for n in tree) == 300
    opened = [n["name"] for n in tree if n["open"]]
    assert opened == ["浙江省"]  # only the branch holding the chosen region unfolds
    zhejiang = next(n for n in tree if n["name"] == "浙江省")
    hangzhou = next(c for c in zhejiang["children"] if c["name"] == "杭州市")
    assert hangzhou["open"] and any(c["checked"] for c in hangzhou["children"])
    linping = next(c for c in hangzhou["children"] if c["region_id"] == "linping")
    assert linping["search"] == "临平 临平区 杭州 杭州市 浙江 浙江省"  # its names and its ancestors', for the filter


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([r.region_id for r in gazetteer.REGIONS[:400]]), min_size=1, max_size=40, unique=True))
def test_every_indexed_region_is_in_the_tree_exactly_once(ids: list[str]) -> None:
    tree = region_tree([_row(rid) for rid in ids])
    flat_ids: list[str] = []

    def walk(nodes: list[dict[str, Any]]) -> None:
        for n in nodes:
            flat_ids.append(n["region_id"])
            walk(n["children"])

    walk(tree)
    assert len(flat_ids) == len(set(flat_ids))
    assert set(ids) <= set(flat_ids)
    assert sum(n["count"] for n in tree) == len(ids)


def test_the_draft_parent_picker_groups_regions_by_province_and_indents_them(client: TestClient) -> None:
    html = client.get("/draft").text
    picker = html.split('id="draft-parent">', 1)[1].split("</select>", 1)[0]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', picker)
    shown = {label: re.findall(r'<option value="([^"]*)"(?: selected)?( disabled)?>([^<]*)</option>', body)
             for label, body in groups}
    assert re.findall(r'<option value="([^"]*)" selected', picker) == ["shanghai"]  # the default parent
    assert shown == {
        "北京市": [("beijing", " disabled", "北京市（未收录）"), ("haidian", "", "\u3000海淀区")],
        "上海市": [("shanghai", "", "上海市"), ("hongkou", "", "\u3000虹口区")],
        "江苏省": [("jiangsu", " disabled", "江苏省（未收录）"), ("zhenjiang", "", "\u3000镇江市")],
        "浙江省": [("zhejiang", " disabled", "浙江省（未收录）"), ("hangzhou", " disabled", "\u3000杭州市（未收录）"),
                 ("linping", "", "\u3000\u3000临平区")],
    }


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([r.region_id for r in gazetteer.REGIONS[:400]]), min_size=1, max_size=40, unique=True))
def test_every_indexed_region_can_be_chosen_as_a_parent_exactly_once(ids: list[str]) -> None:
    options = [o for g in parent_choices([_row(rid) for rid in ids]) for o in g["options"]]
    assert sorted(o["region_id"] for o in options if o["indexed"]) == sorted(ids)
    assert len({o["region_id"] for o in options}) == len(options)


def test_search_page_renders_the_tree_and_a_chosen_ancestor_includes_its_districts(client: TestClient) -> None:
    html = client.get("/").text
    assert 'id="region-search"' in html and html.count('name="region"') == 9
    r = client.get("/", params={"q": "教师交流轮岗比例", "region": "zhejiang"})
    assert r.status_code == 200
    assert "限定地区：浙江省" in r.text  # a name, never the id
    regions = set(re.findall(r'class="hit" data-region="([^"]+)"', r.text))
    assert regions == {"linping"}


# ----- the home page ----------------------------------------------------------------------------------------------
def test_home_page_says_what_is_indexed_and_offers_example_queries(client: TestClient) -> None:
    html = client.get("/").text
    text = re.sub(r"<[^>]+>", "", html.split('id="collection-counts">', 1)[1].split("</p>", 1)[0])
    assert re.sub(r"\s+", " ", text).strip() == (
        "共 5 份文件，来自 4 个省（区、市）的 5 个地区：省级 1 个、市级 1 个、区县级 3 个。 "
        "发文日期 2019-08-05 至 2025-03-10。 类型：政策文件 4 份、新闻 1 份。")
    examples = re.findall(r'<a class="example" href="([^"]+)">', html)
    assert len(examples) == 6 and examples[0] == "/?q=%E6%95%99%E5%B8%88%E4%BA%A4%E6%B5%81%E8%BD%AE%E5%B2%97%E6%AF%94%E4%BE%8B"
    assert 'id="collection-summary"' not in client.get("/", params={"q": "流动期限"}).text  # results replace it


# ----- the compare columns ----------------------------------------------------------------------------------------
ROWS = [("hangzhou", 20.0), ("zhejiang", 25.0), ("linping", 30.0), ("beijing", None), ("haidian", 15.0),
        ("ningbo", 30.0), ("shangcheng", None)]


def _compare_rows() -> list[dict[str, Any]]:
    rows = [_row(rid, sort_value=v) for rid, v in ROWS]
    rows.append({"region_id": "doc:x", "region": "某某指导意见", "level": None, "parent_region_ids": [],
                 "doc_id": "x", "sort_value": 10.0})
    return rows


def test_compare_columns_group_by_province_then_city_higher_level_first() -> None:
    columns = compare_columns(_compare_rows())
    assert [(c["province"], c["city"], c["region"]) for c in columns] == [
        ("北京市", "", "北京市"), ("北京市", "", "海淀区"),
        ("浙江省", "", "浙江省"), ("浙江省", "杭州市", "杭州市"), ("浙江省", "杭州市", "上城区"),
        ("浙江省", "杭州市", "临平区"), ("浙江省", "宁波市", "宁波市"), ("未标明地区的文件", "", "某某指导意见"),
    ]
    assert header_spans(columns, "province") == [("北京市", 2), ("浙江省", 5), ("未标明地区的文件", 1)]
    assert header_spans(columns, "city") == [("", 3), ("杭州市", 3), ("宁波市", 1), ("", 1)]


def test_compare_columns_filter_by_level_and_sort_by_value() -> None:
    assert [c["region"] for c in compare_columns(_compare_rows(), level="district")] == ["海淀区", "上城区", "临平区"]
    assert [c["region"] for c in compare_columns(_compare_rows(), level="doc")] == ["某某指导意见"]
    strict = [c["region"] for c in compare_columns(_compare_rows(), order="strict")]
    assert strict == ["临平区", "宁波市", "浙江省", "杭州市", "海淀区", "某某指导意见", "北京市", "上城区"]
    # a ceiling: lower is stricter
    assert [c["region"] for c in compare_columns(_compare_rows(), order="strict", ceiling=True)][:2] == [
        "某某指导意见", "海淀区"]
    assert [c["region"] for c in compare_columns(_compare_rows(), order="loose")][:2] == ["某某指导意见", "海淀区"]


@pytest.mark.parametrize(("group", "title"), [
    ({"comparator": ">=", "unit": "%"}, "下限（%）"), ({"comparator": "<=", "unit": "次"}, "上限（次）"),
    ({"comparator": "range", "unit": "年"}, "区间（年）"), ({"comparator": "=", "unit": None}, "目标值"),
])
def test_aligned_groups_are_titled_in_chinese(group: dict[str, Any], title: str) -> None:
    assert aligned_title(group) == title


def test_compare_page_has_province_and_city_header_rows_and_level_filter(client: TestClient) -> None:
    html = client.get("/compare", params={"q": "教师交流轮岗比例"}).text
    assert re.findall(r'class="group-col province-col"><span class="group-name">([^<]*)<', html) == ["北京市", "上海市", "江苏省", "浙江省"]
    assert re.findall(r'class="group-col city-col[^"]*"><span class="group-name">([^<]*)<', html) == ["", "镇江市", "杭州市"]
    only = client.get("/compare", params={"q": "教师交流轮岗比例", "level": "district"}).text
    assert re.findall(r'data-region="([^"]+)" data-level', only) == ["haidian", "hongkou", "linping"]
    assert "共 5 个地区/文件，显示 3 个" in only
    assert client.get("/compare", params={"q": "教师", "level": "x<y"}).status_code == 200  # unknown: all levels


# ----- the ingest preview -----------------------------------------------------------------------------------------
def test_preview_shows_parsed_clauses_and_requirements_in_chinese(client: TestClient) -> None:
    html = client.post("/ingest", files={"file": ("guideline.txt", UNPLACED.encode("utf-8"))}).text
    assert 'id="parsed-summary"' in html
    table = html.split('id="preview-requirements"', 1)[1].split("</table>", 1)[0]
    values = re.findall(r'<td class="req-value"><span class="value">([^<]+)</span></td>', table)
    assert values == ["每年不低于15%", "不少于3年", "每学年不少于72学时"]
    assert "交流轮岗。每年交流轮岗教师人数" in html.split('id="preview-clauses"', 1)[1]
    # no region was recognised: the page asks for one before committing
    assert '<span class="unspecified">未识别</span>' in html
    assert re.search(r'<input type="text" name="region" id="region" value="" [^>]*required>', html)


def test_commit_without_a_region_is_refused_until_one_is_given(hash_kb: KnowledgeBase, tmp_path: Path) -> None:
    client = _private_client(hash_kb, tmp_path)
    token = client.post("/api/ingest/preview", files={"file": ("g.txt", UNPLACED.encode("utf-8"))}).json()["token"]
    r = client.post("/api/ingest/commit", json={"token": token})
    assert r.status_code == 400
    assert r.json()["error"].startswith("没有识别出这份文件所属的地区：请在“地区名称”中填写或选择地区")
    page = client.post("/ingest/commit", data={"token": token, "region": ""})
    assert page.status_code == 400 and "没有识别出这份文件所属的地区" in page.text and 'id="next-steps"' in page.text
    done = client.post("/api/ingest/commit", json={"token": token, "region": "镇江市"}).json()
    assert done["files"][0]["region_id"] == "zhenjiang"


def test_a_national_text_may_be_committed_without_a_region(hash_kb: KnowledgeBase, tmp_path: Path) -> None:
    client = _private_client(hash_kb, tmp_path)
    token = client.post("/api/ingest/preview", files={"file": ("g.txt", UNPLACED.encode("utf-8"))}).json()["token"]
    done = client.post("/ingest/commit", data={"token": token, "no_region": "1"})
    assert done.status_code == 200 and "已加入索引" in done.text


# ----- the API page and error pages -------------------------------------------------------------------------------
def test_api_page_describes_every_route_in_chinese_without_backticks(client: TestClient) -> None:
    html = client.get("/api").text
    rows = re.findall(r"<tr><td>(GET|POST)</td><td><code>([^<]+)</code></td><td>(.*?)</td></tr>", html, flags=re.S)
    assert len(rows) >= 15
    for method, path, described in rows:
        words = re.sub(r"<[^>]+>", " ", described)
        assert re.search(r"[\u4e00-\u9fff]", words), (method, path)
        assert "`" not in words and not ENGLISH_SENTENCE.search(words), (method, path, words)


@pytest.mark.parametrize(("path", "status", "step"), [
    ("/no-such-page", 404, "检查地址是否输入正确"),
    ("/documents/no-such-document", 404, "文件列表"),
    ("/?q=教师&k=500", 400, "按上面的提示修改后重新提交"),
])
def test_error_pages_are_chinese_and_say_what_to_do_next(client: TestClient, path: str, status: int, step: str) -> None:
    r = client.get(path)
    assert r.status_code == status
    main = r.text.split("<main>", 1)[1].split("</main>", 1)[0]
    words = re.sub(r"<[^>]+>", " ", main)
    assert step in words and 'id="next-steps"' in main
    assert not ENGLISH_SENTENCE.search(words), words


def test_a_document_page_is_rendered_once_per_build_and_again_after_a_publish(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import corpus_path
    from policykb.embed import HashEmbedder

    kb = KnowledgeBase(Settings.load(index_dir=str(tmp_path / "index")), embedder_factory=lambda s: HashEmbedder())
    kb.ingest([corpus_path("shanghai")])
    client = TestClient(create_app(kb), base_url="http://127.0.0.1")
    doc_id = kb.documents()[0].doc_id
    built: list[str] = []
    original = kb.document_view

    def counted(wanted: str) -> Any:
        built.append(wanted)
        return original(wanted)

    monkeypatch.setattr(kb, "document_view", counted)
    first = client.get(f"/documents/{doc_id}")
    again = client.get(f"/documents/{doc_id}")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["content-type"] == first.headers["content-type"]
    assert again.headers.get("content-security-policy") == first.headers.get("content-security-policy")
    assert built == [doc_id]  # the second answer came from the rendered page
    kb.ingest([corpus_path("hongkou")])  # a publish: the next request renders from the new build
    assert client.get(f"/documents/{doc_id}").status_code == 200 and built == [doc_id, doc_id]
    kb.remove([doc_id])
    gone = client.get(f"/documents/{doc_id}")
    assert gone.status_code == 404 and "文件列表" in gone.text
    kb.close()


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(min_value=0, max_value=40),
                                st.sampled_from(["g1", "g2"])), max_size=40))
def test_a_generation_cache_stays_within_its_bounds_and_serves_only_its_build(steps: list[tuple[str, int, str]]) -> None:
    from policykb.memo import GenerationCache

    pages = GenerationCache(3, max_bytes=100)
    current: dict[str, bytes] = {}
    generation = None
    for key, size, gen in steps:
        body = key.encode() * size
        got = pages.get(gen, key)
        if gen != generation:
            current, generation = {}, gen
            assert got is None  # another build: nothing rendered from the last one is served
        else:
            assert got is None or got == current[key]
        pages.keep(gen, key, body)
        if size * 4 <= 100:
            current[key] = body
        assert len(pages) <= 3 and pages.kept_bytes <= 100
        assert pages.kept_bytes == sum(len(pages.get(gen, k) or b"") for k in "abcdef")
