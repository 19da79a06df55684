"""The JSON API adds the Chinese rendering of every requirement; errors reach a person in Chinese."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from policykb.errors import IndexError_, InputFileError, NotFoundError, PolicyKBError
from policykb.render import requirement_display
from policykb.web import chinese_message, create_app, relevance_bars, validation_message

LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def client(hash_kb: Any) -> TestClient:
    return TestClient(create_app(hash_kb), base_url=LOCAL)


def _requirements(data: Any) -> list[dict[str, Any]]:
    """Every dict with a comparator and a value anywhere in a JSON answer."""
    found = []
    if isinstance(data, dict):
        if "comparator" in data and "value" in data and "span" in data:
            found.append(data)
        for v in data.values():
            found += _requirements(v)
    elif isinstance(data, list):
        for v in data:
            found += _requirements(v)
    return found


@pytest.mark.parametrize("path", [
    "/api/search?q=" + quote("教师交流轮岗比例"),
    "/api/requirements",
    "/api/compare?q=" + quote("教师交流轮岗比例"),
    "/api/documents/shanghai-2023-15",
])
def test_every_requirement_in_json_carries_its_chinese_display(client: TestClient, path: str) -> None:
    reqs = _requirements(client.get(path).json())
    assert reqs
    for r in reqs:
        assert r["display"] == requirement_display(r)
        assert not any(sign in r["display"] for sign in (">", "<", "[", "~"))
        assert r["comparator"] in (">=", "<=", ">", "<", "=", "~", "range")  # the machine fields stay


def test_requirements_json_golden_values(client: TestClient) -> None:
    rows = client.get("/api/requirements", params={"region": "shanghai"}).json()
    shown = {(r["span"], r["display"]) for r in rows}
    assert ("不低于符合交流轮岗条件教师总数的20%", "每年不低于20%") in shown
    assert ("不少于3年", "不少于3年") in shown


def test_validation_errors_are_one_chinese_sentence() -> None:
    assert validation_message([{"loc": ("query", "k"), "type": "less_than_equal", "ctx": {"le": 50}}]) == (
        "请求参数不正确：结果数不能大于 50。请修改后再试。")
    assert validation_message([{"loc": ("query", "q"), "type": "missing"},
                               {"loc": ("query", "k"), "type": "int_parsing"}]) == (
        "请求参数不正确：缺少查询；结果数应为数字。请修改后再试。")


def test_search_page_validation_error_is_chinese(client: TestClient) -> None:
    r = client.get("/", params={"q": "教师", "k": 500})
    assert r.status_code == 400 and "结果数不能大于 50" in r.text and "Input should" not in r.text
    r = client.get("/api/search", params={"q": "教师", "k": "many"})
    assert r.json()["error"] == "请求参数不正确：结果数应为数字。请修改后再试。"


@pytest.mark.parametrize(("error", "shown"), [
    (PolicyKBError("cannot tell the level of '新城' from its name; give --level"),
     "无法从名称“新城”看出行政级别：请写全名称（如某某区、某某县、某某市），或选择行政级别。"),
    (NotFoundError("no document 'x-1' in the knowledge base"), "知识库中没有文件“x-1”：请从文件列表中选择。"),
    (NotFoundError("unknown region mars; indexed regions: a, b"), "知识库中没有地区“mars”：请从地区列表中选择。"),
    (InputFileError("/tmp/up/a.pdf", "PDF is encrypted (password protected): save an unprotected copy"),
     "文件“a.pdf”无法读取：PDF 有密码保护，请保存一份未加密的副本后再导入。"),
    (InputFileError("b.txt", "something new went wrong"),
     "文件“b.txt”无法读取：请确认文件没有损坏，或另存为 .docx、.pdf 或 .txt 后再试。"),
    (IndexError_("the index at x was built with another model"),
     "索引暂不可用：请导入文件或重建索引后再试；详细原因已记录在服务器日志中。"),
    (PolicyKBError("请填写新地区名称"), "请填写新地区名称"),
])
def test_service_errors_in_chinese(error: PolicyKBError, shown: str) -> None:
    assert chinese_message(error) == shown


def test_draft_with_a_name_without_level_says_so_in_chinese(client: TestClient) -> None:
    r = client.get("/api/draft", params={"region": "新城", "parent": "shanghai", "measures": "教师流动比例"})
    assert r.status_code == 400 and "无法从名称“新城”看出行政级别" in r.json()["error"]


def test_relevance_is_tenths_of_the_best_hit() -> None:
    hits = relevance_bars([{"score": 0.9}, {"score": 0.45}, {"score": 0.001}])
    assert [h["relevance"] for h in hits] == [10, 5, 1]
    assert relevance_bars([]) == []


def test_align_page_defaults_to_a_district_and_its_parents_plan(client: TestClient) -> None:
    html = client.get("/align").text
    assert 'id="align-counts"' in html
    assert '<option value="hongkou-2025-03-10" selected>' in html.split('id="align-b"')[0]
    assert '<option value="shanghai-2023-15" selected>' in html.split('id="align-b"')[1]
