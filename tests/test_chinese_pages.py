"""Every page, as real Chromium shows it, speaks Chinese: no comparator signs, no `range [`, no region ids.

Runs over the hashing-embedder index of the corpus (real clauses and requirements, no model needed); the
search page's screenshot goes to test-artifacts/ to be looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import live_server

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
# What a programmer writes and a planner does not read: comparator signs, an interval in brackets.
PROGRAMMER_MARKS = (">=", "<=", "range [", "`")
URL = re.compile(r"(?:https?://|/)[\w\-./?=&%#:]+")
# An English sentence: three Latin words in a row (a doc id, a file name or OpenAPI is one word).
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,.']+[A-Za-z]{2,}){2,}")


@pytest.fixture(scope="module")
def base_url(hash_kb: Any) -> Iterator[str]:
    live_server.require_chromium()
    yield from live_server.serve(hash_kb)


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Any]:
    for browser in live_server.chromium():
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        yield context.new_page()


def region_ids(kb: Any) -> list[str]:
    return [r["region_id"] for r in kb.regions()]


def visible_text(page: Any, path: str) -> str:
    page.goto(path)
    return str(page.inner_text("body"))


def problems(text: str, ids: list[str]) -> list[str]:
    """The programmer's marks and raw region ids in a page's visible text (URLs shown as text are allowed)."""
    words = URL.sub(" ", text)
    found = [mark for mark in PROGRAMMER_MARKS if mark in words]
    found += [rid for rid in ids if re.search(rf"(?<![A-Za-z]){re.escape(rid)}(?![A-Za-z])", words)]
    found += [m.group(0) for m in ENGLISH_SENTENCE.finditer(words)]
    return found


def test_the_corpus_has_the_regions_this_test_looks_for(hash_kb: Any) -> None:
    assert {"shanghai", "hongkou", "haidian"} <= set(region_ids(hash_kb))


def test_problems_finds_marks_and_ids_but_not_urls() -> None:
    assert problems("流动比例 >= 30 % · 限定地区：shanghai、hongkou", ["shanghai", "hongkou"]) == [
        ">=", "shanghai", "hongkou"]
    assert problems("range [1, 2] 项，见 /documents/shanghai-2021", ["shanghai"]) == ["range ["]
    assert problems("不低于30%；上海市、虹口区", ["shanghai", "hongkou"]) == []
    assert problems("Same shape as `policykb search --json`.", []) == ["`", "Same shape as"]
    assert problems("文件 shanghai-2023-15 · OpenAPI", []) == []


def test_every_page_speaks_chinese(page: Any, base_url: str, hash_kb: Any) -> None:
    ids = region_ids(hash_kb)
    docs = [d.doc_id for d in hash_kb.documents()]
    by_region = {d.metadata.region_id: d.doc_id for d in hash_kb.documents()}
    paths = [
        "/", "/?q=" + quote("教师交流轮岗比例"), "/?q=" + quote("流动期限") + "&region=shanghai&region=hongkou",
        "/compare?q=" + quote("教师交流轮岗比例"), "/compare?q=" + quote("骨干教师比例"),
        "/measures", "/documents", *[f"/documents/{quote(d)}" for d in docs],
        "/align", f"/align?a={quote(by_region['hongkou'])}&b={quote(by_region['shanghai'])}",
        "/draft", "/ingest", "/api", "/compare", "/compare?q=" + quote("教师交流轮岗比例") + "&sort=strict",
        "/compare?q=" + quote("教师交流轮岗比例") + "&level=district", "/?region=zhejiang&q=" + quote("教师"),
        "/no-such-page", "/documents/no-such-document", "/?q=" + quote("教师") + "&k=500", "/?region=mars&q=x",
        "/draft?region=" + quote("新城") + "&parent=shanghai&measures=" + quote("教师流动比例"),
    ]
    found = {path: problems(visible_text(page, base_url + path), ids) for path in paths}
    assert {path: p for path, p in found.items() if p} == {}


def test_search_page_shows_region_names_values_in_chinese_and_a_relevance_bar(page: Any, base_url: str) -> None:
    text = visible_text(page, base_url + "/?q=" + quote("交流轮岗比例") + "&region=shanghai&region=hongkou")
    assert "限定地区：上海市、虹口区" in text
    assert page.locator(".hit .relevance").count() == page.locator(".hit").count() > 0
    assert not re.search(r"\b0\.\d{4}\b", text)  # no raw fusion score
    values = page.locator(".hit .value").all_inner_texts()
    assert values and all(re.match(r"^(每\S+)?(不低于|不少于|不超过|高于|低于|多于|少于|约|\d)", v) for v in values)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-chinese.png"), full_page=False)


def test_error_pages_say_what_is_wrong_in_chinese(page: Any, base_url: str) -> None:
    text = visible_text(page, base_url + "/?q=" + quote("教师") + "&k=500")
    assert "结果数不能大于 50" in text and "Input should" not in text
    text = visible_text(page, base_url + "/documents/no-such-document")
    assert "知识库中没有文件“no-such-document”" in text
