"""Boilerplate from evidence beyond one line: a site's template lines, and the main content of an HTML page."""

from __future__ import annotations

from pathlib import Path

from policykb.cleaning import clean_text, find_template_lines
from policykb.cleaning.main_content import line_key, strip_outside_main_content, strip_template_lines
from policykb.loading import html_to_text

PAGE = Path(__file__).parent / "pages" / "html" / "portal_news.html"


def test_html_page_keeps_its_main_content_only() -> None:
    markup = PAGE.read_text(encoding="utf-8")
    result = clean_text(html_to_text(markup), html=markup)
    assert result.text.split("\n") == [
        "集团化办学推进会召开",
        "3月5日，全市集团化办学推进会召开。会议总结了2023年集团化办学工作，部署了2024年重点任务。各区教育局、"
        "各集团牵头学校负责人参加会议。会议要求，各区要把集团化办学作为推进义务教育优质均衡发展的重要举措，加强统筹，完善机制。",
        "目前，全市已组建教育集团56个，覆盖近80%的义务教育学校。下一步，市教育局将进一步完善集团化办学评价办法，"
        "推动优质资源共建共享，促进教师在集团内交流轮岗，每年交流比例不低于10%。",
        "市教育局",
        "2024年3月5日",
    ]
    outside = [c.before for c in result.changes if c.note == "outside the main content"]
    assert outside == ["首页 | 政务公开 | 办事服务 | 互动交流 | 数据开放", "当前位置：首页 > 教育动态",
                       "发布时间：2024-03-05 来源：市教育局", "热门专题", "学前教育宣传月", "平安校园",
                       "主办单位：某某市教育局 | 网站地图 | 联系我们", "Copyright 2024 All Rights Reserved"]


def test_main_content_never_removes_running_text_or_document_lines() -> None:
    text = "一、总体要求\n各校要认真组织实施,确保取得实效,按时报送材料。\n2024年3月5日\n返回列表"
    result = strip_outside_main_content(text, "无关的正文")
    assert [c.before for c in result.changes] == ["返回列表"]


def test_main_content_without_extraction_changes_nothing() -> None:
    assert strip_outside_main_content("返回列表", None).changes == []


SITE_PAGES = [
    f"某某区教育局\n网站首页 机构概况 政务公开\n{title}\n{body}\n主办:某某区教育局 承办:某某区信息中心\n"
    "技术支持:某某网络公司 地址:某某路1号\n特此通知。"
    for title, body in [
        ("关于开展教师交流轮岗的通知", "各校要按照每年10%的比例安排教师交流轮岗。"),
        ("集团化办学推进会召开", "全区已组建教育集团12个,覆盖近80%的学校。"),
        ("关于做好2024年招生工作的通知", "各校要严格执行免试就近入学政策。"),
        ("区教育局召开安全工作会议", "会议部署了春季学期校园安全工作。"),
    ]
]


def test_template_lines_are_those_the_site_repeats() -> None:
    template = find_template_lines(SITE_PAGES)
    # The issuer line and 特此通知。 recur on every page too, but a document has them: never template.
    assert template == frozenset(
        line_key(line) for line in ["网站首页 机构概况 政务公开", "主办:某某区教育局 承办:某某区信息中心",
                                    "技术支持:某某网络公司 地址:某某路1号"]
    )


def test_template_step_reports_each_removal() -> None:
    template = find_template_lines(SITE_PAGES)
    result = clean_text(SITE_PAGES[0], template=template)
    assert result.text == "某某区教育局\n关于开展教师交流轮岗的通知\n各校要按照每年10%的比例安排教师交流轮岗。\n特此通知。"
    assert [c.note for c in result.changes if c.note == "site template"] == ["site template"] * 3


def test_template_lines_need_enough_pages() -> None:
    assert find_template_lines(SITE_PAGES[:2]) == frozenset()
    assert strip_template_lines("一行\n二行", frozenset()).changes == []


def test_an_html_file_goes_through_the_main_content_step_when_loaded() -> None:
    """The loader hands the page's markup to the cleaner: navigation and footers outside the article go."""
    from policykb.pipeline import clean_file

    document = clean_file(Path(__file__).parent / "pages" / "html" / "portal_news.html")
    outside = [c.before for c in document.changes if c.note == "outside the main content"]
    assert outside[:2] == ["首页 | 政务公开 | 办事服务 | 互动交流 | 数据开放", "当前位置：首页 > 教育动态"]
    assert "网站地图" not in document.text and "覆盖近80%的义务教育学校" in document.text
