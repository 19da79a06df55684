"""The drafting and alignment pages end to end in headless Chromium, over the real index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

import live_server

pytestmark = [pytest.mark.browser, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """policykb's web app over the real index, served by uvicorn in a thread."""
    from draft_fakes import real_kb

    kb = real_kb()
    kb.warm_up()
    yield from live_server.serve(kb)
    kb.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from live_server.chromium()


def test_drafting_page_builds_previews_and_downloads_a_cited_draft(server: str, browser, tmp_path: Path) -> None:
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{server}/draft")
    page.fill("#draft-region", "某某区")
    page.select_option("#draft-parent", "shanghai")
    page.fill("#draft-measures", "教师流动比例,共享课程")
    page.check("input[name=policy][value=strictest]")
    page.click("#draft-build")
    page.wait_for_selector("#draft-preview")

    assert page.inner_text(".draft-title") == "某某区示范性学区和集团建设实施方案（草案）"
    headings = page.locator("#draft-preview h3, #draft-preview h4").all_inner_texts()
    assert headings[:7] == ["一、总体要求", "（一）指导思想", "（二）工作目标", "二、主要任务", "（一）加大教师流动力度",
                            "（二）实施课程教学资源共建共享", "三、保障措施"]
    rotation = page.locator(".draft-clause p", has_text="流动期限不少于3年").first.inner_text()
    assert "教师总数的20%" in rotation and "骨干教师不低于30%" in rotation
    # every clause carries a [n] marker that points at a row of the source table
    markers = page.locator(".draft-clause sup a").all_inner_texts()
    rows = page.locator("#draft-sources tbody tr").count()
    assert markers == [f"[{n}]" for n in range(1, rows + 1)]
    assert page.inner_text("#draft-count") == f"共 {rows} 条，每条均注明来源"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "draft-page.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#download-docx")
    saved = tmp_path / "draft.docx"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "某某区示范性学区和集团建设实施方案（草案）.docx"
    document = docx.Document(str(saved))
    assert document.paragraphs[0].text == "某某区示范性学区和集团建设实施方案\n（草案）"  # GB/T 9704: a long title breaks
    assert len(document.tables[0].rows) == rows + 1
    page.close()


def test_drafting_page_explains_bad_input(server: str, browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/draft?region=某某区&parent=shanghai&measures=教师流动比例&policy=custom&custom=abc")
    assert "自定义数值格式不正确：“abc”，应为 指标=数值，例如 教师流动比例=25" in page.inner_text("main")
    page.close()


def test_alignment_page_shows_hongkou_changes_side_by_side(server: str, browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/align")
    page.click("a.pair-link:has-text('上海市 ⟷ 虹口区')")
    page.wait_for_selector("#alignment-table")
    row = page.locator("tr.pair", has_text="骨干教师").first
    assert row.get_attribute("data-status") == "changed"
    assert row.locator("del").all_inner_texts() == ["创建市示范性", "在教育教学领域表现突出的"]
    assert row.locator("ins").all_inner_texts() == ["建设高质量", "“五层级”梯队等", "占比"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "align-page.png"), full_page=False)
    page.close()
