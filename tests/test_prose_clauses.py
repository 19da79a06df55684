"""News and prose: paragraphs without outline markers are searchable body clauses with their numbers tagged, a
notice that forwards nothing keeps its paragraphs as body text, and lettered options are items, never headings."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.pipeline import ProcessedDocument, clean_raw_text, process_document, process_file
from policykb.store import SEARCHABLE_ROLES

TESTS = Path(__file__).resolve().parent


def processed(name: str) -> ProcessedDocument:
    path = TESTS / name
    return process_document(clean_raw_text(path.read_text(encoding="utf-8"), path))


def shape(doc: ProcessedDocument) -> list[tuple[str, str]]:
    return [(c.role, c.clause_id.rsplit("/", 1)[-1]) for c in doc.clauses]


def tagged(doc: ProcessedDocument) -> list[tuple[str, str]]:
    return [(r.clause_id.rsplit("/", 1)[-1], r.span) for r in doc.requirements]


def test_a_news_item_is_body_text_with_its_numbers() -> None:
    doc = processed("pages_heldout/huhehaote_northnews.txt")  # http://www.northnews.cn/p/2239637.html
    assert shape(doc) == [("heading", "title#0"), ("body", "body#1"), ("body", "body#2"), ("body", "body#3"),
                          ("body", "body#4")]
    assert tagged(doc) == [("body#1", "53个"), ("body#1", "14个"), ("body#4", "三年"), ("body#4", "达到110.88%"),
                           ("body#4", "提升到100.61%"), ("body#4", "117.25%")]


def test_a_portal_news_page_tags_its_only_share() -> None:
    doc = process_file(TESTS / "pages" / "html" / "portal_news.html")
    assert [role for role, _ in shape(doc)] == ["heading", *["body"] * 6, "signature", "signature"]
    assert tagged(doc) == [("body#5", "56个"), ("body#5", "近80%"), ("body#6", "不低于10%")]


def test_a_notice_that_forwards_nothing_is_its_own_body() -> None:
    """现将…通知如下: … 特此通知。: the notice is the document, so its paragraphs are searchable body clauses."""
    doc = processed("pages_heldout/urumqi_holiday_notice.txt")  # http://zhukunart.com/zkartzx/23460.html
    assert shape(doc) == [
        ("body", "body#1"), ("body", "body#2"), ("heading", "s1#0"), ("heading", "s2#0"), ("body", "s2#1"),
        ("body", "s2#2"), ("heading", "s3#0"), ("body", "s3#1"), ("body", "s3#2"), ("heading", "s4#0"),
        ("body", "s4#1"), ("body", "s4#2"), ("notice", "notice#1"), ("signature", "signature#1"),
        ("signature", "signature#2")]
    assert [c.text for c in doc.clauses if c.role == "heading"] == ["放假时间", "小学、初中", "高中", "注意事项"]


QUIZ = """集团化办学推进会召开
3月5日,全市集团化办学推进会召开。目前,全市已组建教育集团56个,覆盖近80%的学校。
你认为集团化办学最重要的是什么?
A.共享优质师资
B.统一课程管理
C.教师交流轮岗,每年交流比例不低于10%"""


def test_lettered_options_are_items_not_headings() -> None:
    doc = process_document(clean_raw_text(QUIZ, "quiz.txt"))
    assert [(c.role, c.clause_id.rsplit("/", 1)[-1], c.text) for c in doc.clauses] == [
        ("heading", "title#0", "集团化办学推进会召开"),
        ("body", "body#1", "3月5日，全市集团化办学推进会召开。"),
        ("body", "body#2", "目前，全市已组建教育集团56个，覆盖近80%的学校。"),
        ("body", "body#3", "你认为集团化办学最重要的是什么？"),
        ("body", "body#4", "A.共享优质师资"),
        ("body", "body#5", "B.统一课程管理"),
        ("body", "body#6", "C.教师交流轮岗，每年交流比例不低于10%"),
    ]
    assert tagged(doc) == [("body#2", "56个"), ("body#2", "近80%"), ("body#6", "不低于10%")]


SENTENCE = st.sampled_from(["全市已组建教育集团56个,覆盖近80%的学校。", "会议部署了春季学期校园安全工作。",
                            "各校要严格执行免试就近入学政策。", "下一步将完善集团化办学评价办法。"])


@settings(max_examples=25, deadline=None)
@given(st.lists(SENTENCE, min_size=1, max_size=6))
def test_every_paragraph_of_unnumbered_prose_is_searchable(paragraphs: list[str]) -> None:
    text = "\n".join(paragraphs)
    doc = process_document(clean_raw_text(text, "prose.txt"))
    searchable = "".join(c.text for c in doc.clauses if c.role in SEARCHABLE_ROLES)
    assert searchable == doc.document.text.replace("\n", "")
