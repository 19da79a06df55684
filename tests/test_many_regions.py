"""The compare, measures and search pages with 42 regions and two documents without one (tests/many_regions.py), in
real headless Chromium over a real-model index: grouped headers that stay in view, every tied strictest marked,
conflicting documents of one region shown newest first, the level filter and value sort, the region tree's filter,
and a scan of every page's visible text for programmer marks, raw region ids and English sentences.
Screenshots go to test-artifacts/ to be looked at.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import live_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
import many_regions  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
MODELS = ROOT / "models"
MEASURE = "教师交流轮岗比例"
PROGRAMMER_MARKS = (">=", "<=", "range [", "`")
URL = re.compile(r"(?:https?://|/)[\w\-./?=&%#:]+")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,.']+[A-Za-z]{2,}){2,}")
PLANS = many_regions.plans()
SHARE = {p.region_id: p.share for p in PLANS if p.region_id and p.region_id != many_regions.CONFLICTED}
SHARE[many_regions.CONFLICTED] = next(p.share for p in PLANS if p.region_id == many_regions.CONFLICTED)


@pytest.fixture(scope="module")
def many_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (MODELS / "multilingual-e5-small" / "config.json").exists():
        pytest.skip("the default model is not installed: run `make install`")
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    root = tmp_path_factory.mktemp("many-regions")
    many_regions.write_collection(root / "corpus")
    kb = KnowledgeBase(Settings.load(index_dir=str(root / "index"), models_dir=str(MODELS)))
    report = kb.ingest([root / "corpus"])
    assert report.indexed == len(PLANS)
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def base_url(many_kb: Any) -> Iterator[str]:
    live_server.require_chromium()
    yield from live_server.serve(many_kb)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from live_server.chromium()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    # an error page's own status is logged as a failed load: expected where a test visits one on purpose
    pg.on("console", lambda m: errors.append(m.text)
          if m.type == "error" and "responded with a status of 4" not in m.text else None)
    yield pg
    assert errors == []  # a CSP violation or a script error
    context.close()


def shot(page: Any, name: str, full: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def _expected_strictest() -> set[str]:
    top = max(v for v in SHARE.values() if v)
    return {rid for rid, v in SHARE.items() if v == top}


def test_compare_with_42_regions_groups_marks_every_tie_and_shows_conflicts(page: Any, base_url: str) -> None:
    page.goto(base_url + "/compare?q=" + quote(MEASURE))
    headers = page.locator("#compare-table th.region-col")
    assert headers.count() == 44  # 42 regions and the two documents without one
    assert page.locator("tr.row-province th.province-col").all_inner_texts() == [
        "北京市", "上海市", "江苏省", "浙江省", "湖北省", "广东省", "四川省", "未标明地区的文件"]  # code order
    cities = [t for t in page.locator("tr.row-city th.city-col").all_inner_texts() if t.strip()]
    assert cities == ["南京市", "无锡市", "徐州市", "杭州市", "宁波市", "温州市", "武汉市", "黄石市", "广州市", "韶关市",
                      "成都市", "自贡市"]
    # the two documents without a region are columns of their own, named by title
    assert [h.split("\n")[0] for h in headers.all_inner_texts()[-2:]] == [
        "义务教育阶段教师流动情况调研报告", "关于推进义务教育学校教师队伍管理改革的指导意见"]
    values = {}
    for cell in page.locator("#compare-table tr.row-value td").all():
        values[cell.get_attribute("data-region")] = cell
    for rid, share in SHARE.items():
        shown = values[rid].inner_text()
        assert shown.startswith(f"不低于{share}%" if share else "未规定"), (rid, shown)
    starred = {rid for rid, cell in values.items() if "★最严" in cell.inner_text()}
    assert starred == _expected_strictest() and len(starred) >= 10  # every tie, not only the first
    # a district against its parent: 南京市 25% against 江苏省 20%
    assert "比上级严格（江苏省：不低于20%）" in values["nanjing"].inner_text()
    # Hangzhou's two documents disagree: both values, newest first, with their dates
    conflict = values[many_regions.CONFLICTED].locator("ol.conflict-list li").all_inner_texts()
    assert [c.split(" ")[0] for c in conflict] == ["不低于25%", "不低于15%"]
    assert "2025-06-30" in conflict[0]
    # 未规定 cells show the nearest clause that was checked
    clause_cells = {c.get_attribute("data-region"): c for c in page.locator("#compare-table tr.row-clause td").all()}
    unspecified = [rid for rid, share in SHARE.items() if share is None]
    assert unspecified and all("已检查的最接近条款" in clause_cells[rid].inner_text() for rid in unspecified)
    # the chart reads strictest_all and is titled in Chinese
    chart = page.locator("figure.chart").first
    assert chart.locator("figcaption").inner_text().startswith("数值图：下限（%）")
    assert chart.locator("rect.bar-strictest").count() == len(_expected_strictest())
    assert ">=" not in chart.inner_text()
    shot(page, "many-compare", full=False)
    shot(page, "many-compare-full")


def test_compare_headers_stay_in_view_when_the_table_scrolls(page: Any, base_url: str) -> None:
    page.goto(base_url + "/compare?q=" + quote(MEASURE))
    wrap = page.locator(".compare-wrap").first
    wrap.evaluate("w => { w.scrollTop = 600; w.scrollLeft = 2500; }")
    top = wrap.bounding_box()
    region_row = page.locator("tr.row-region th.region-col").nth(20).bounding_box()
    province_row = page.locator("tr.row-province th.corner").bounding_box()
    label = page.locator("tr.row-clause th[scope=row]").bounding_box()
    assert abs(province_row["y"] - top["y"]) < 3  # the header rows stuck to the top of the scrolled box
    assert region_row["y"] < top["y"] + 120
    assert abs(label["x"] - top["x"]) < 3  # the row labels stuck to its left edge
    shot(page, "many-compare-scrolled", full=False)


def test_compare_filter_by_level_and_sort_by_value(page: Any, base_url: str) -> None:
    page.goto(base_url + "/compare?q=" + quote(MEASURE))
    page.select_option("#level-filter", "district")
    page.click("#apply-view")
    page.wait_for_url("**level=district**")
    levels = set(page.locator("#compare-table th.region-col").evaluate_all("hs => hs.map(h => h.dataset.level)"))
    assert levels == {"district"}
    assert page.locator("#compare-table th.region-col").count() == 23
    page.select_option("#sort-order", "strict")
    page.click("#apply-view")
    page.wait_for_url("**sort=strict**")
    shown = page.locator("#compare-table tr.row-value td .value").all_inner_texts()
    numbers = [int(re.search(r"(\d+)%", v).group(1)) for v in shown if re.match(r"不低于\d+%", v)]  # type: ignore[union-attr]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == 30
    assert page.locator("tr.row-province").count() == 0  # sorted by value: no province grouping
    shot(page, "many-compare-districts-sorted", full=False)


def test_measures_catalogue_has_every_region_as_a_column(page: Any, base_url: str, many_kb: Any) -> None:
    page.goto(base_url + "/measures")
    heads = page.locator("#measures-table thead th[data-region]")
    regions = [r for r in many_kb.regions() if r["region_id"]]
    assert len(regions) == 42
    assert set(heads.evaluate_all("hs => hs.map(h => h.dataset.region)")) >= {r["region_id"] for r in regions}
    first = page.locator("#measures-table tbody tr").first
    assert first.locator("td[data-region]").count() == heads.count()
    shot(page, "many-measures", full=False)


def test_region_tree_filters_and_a_parent_includes_its_children(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    assert page.locator("#collection-counts").inner_text().startswith(
        "共 45 份文件，来自 7 个省（区、市）的 42 个地区：省级 7 个、市级 12 个、区县级 23 个；另有 2 份未标明地区。")
    tree = page.locator("#region-tree")
    assert tree.locator("input[value=shangcheng]").is_visible() is False  # folded: 42 regions
    page.fill("#region-search", "杭州")
    visible = [t.strip() for t in tree.locator("label:visible").all_inner_texts()]
    assert visible == ["浙江省", "杭州市", "上城区", "拱墅区", "西湖区"]
    shot(page, "many-tree-filtered", full=False)
    page.check("input[name=region][value=hangzhou]")
    assert tree.locator("input[value=xihu]").is_checked() and tree.locator("input[value=xihu]").is_disabled()
    page.fill("input[name=q]", MEASURE)
    page.click("form.query button[type=submit]")
    page.locator("li.hit").first.wait_for()
    assert "限定地区：杭州市" in page.locator("main").inner_text()
    regions = set(page.locator("li.hit").evaluate_all("hs => hs.map(h => h.dataset.region)"))
    assert regions and regions <= {"hangzhou", "shangcheng", "gongshu", "xihu"}
    shot(page, "many-search-tree", full=False)


def test_every_page_of_the_big_collection_speaks_chinese(page: Any, base_url: str, many_kb: Any) -> None:
    ids = [r["region_id"] for r in many_kb.regions() if r["region_id"]]
    docs = [d.doc_id for d in many_kb.documents()]
    paths = ["/", "/?q=" + quote(MEASURE), "/?q=" + quote("课后服务时间") + "&region=zhejiang",
             "/compare", "/compare?q=" + quote(MEASURE), "/compare?q=" + quote("交流期限") + "&sort=strict",
             "/compare?q=" + quote(MEASURE) + "&level=doc", "/measures", "/documents", "/api", "/ingest", "/align",
             "/draft", *[f"/documents/{quote(d)}" for d in docs[:6]],
             "/no-such-page", "/documents/no-such-document", "/?q=" + quote("教师") + "&k=500", "/?region=mars&q=x"]
    found = {}
    for path in paths:
        page.goto(base_url + path)
        words = URL.sub(" ", str(page.inner_text("body")))
        bad = [m for m in PROGRAMMER_MARKS if m in words]
        bad += [rid for rid in ids if re.search(rf"(?<![A-Za-z\-]){re.escape(rid)}(?![A-Za-z\-])", words)]
        bad += [m.group(0) for m in ENGLISH_SENTENCE.finditer(words)]
        if bad:
            found[path] = bad
    assert found == {}


UNPLACED = ("关于加强中小学教师队伍建设的若干意见\n一、总体要求\n全面提高教师队伍素质。\n"
            "二、主要任务\n（一）交流轮岗。每年交流轮岗教师人数应不低于符合条件教师总数的15%，交流期限不少于3年。\n"
            "（二）培训。每位教师每学年参加培训不少于72学时。\n三、保障措施\n加强经费保障。\n2024年5月6日\n")


def test_upload_preview_shows_parsed_requirements_and_asks_for_a_region(page: Any, base_url: str,
                                                                          tmp_path: Path) -> None:
    source = tmp_path / "若干意见.txt"
    source.write_text(UNPLACED, encoding="utf-8")
    page.goto(base_url + "/ingest")
    page.set_input_files("#file", str(source))
    page.click("#preview-button")
    page.locator("#parsed-summary").wait_for()
    assert page.locator("#detected-region").inner_text() == "未识别：请在下方填写或选择所属地区"
    values = page.locator("#preview-requirements td.req-value").all_inner_texts()
    assert values == ["每年不低于15%", "不少于3年", "每学年不少于72学时"]
    assert page.locator("#preview-clauses li").count() >= 6
    assert page.locator("#region").get_attribute("required") is not None
    shot(page, "ingest-preview-unplaced")
    # past the browser's own check, the server refuses too, in Chinese, saying what to do
    page.evaluate("document.getElementById('region').removeAttribute('required')")
    page.click("#commit-button")
    message = page.locator("#error-message").inner_text()
    assert message.startswith("没有识别出这份文件所属的地区")
    assert len([r for r in page.locator("#next-steps li").all_inner_texts() if r]) >= 2
    shot(page, "ingest-commit-refused", full=False)
