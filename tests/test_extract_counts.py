"""Counts of things built or selected and amounts of money, read as requirements (issue 13, item 2).

Rows are (span, comparator, value, unit, period, subject, base, kind). Sentences are written as real policy texts
write them; where one is taken from a public page its source is named beside it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.extract import extract_from_text


def _rows(text: str) -> list[tuple]:
    return [(r.span, r.comparator, r.value, r.unit, r.period, r.subject, r.base, r.kind)
            for r in extract_from_text(text)]


COUNTS = [
    # 深圳: https://www.xuehua.us/a/628501e23adb58e2a86d623d (simplified)
    ("明确至2025年,深圳市将培育80个优质公办中小学教育集团。", [
        ("80个", "=", 80.0, "个", "至2025年", "优质公办中小学教育集团", None, "requirement")]),
    # 浙江 (quoted in https://www.renrendoc.com/paper/508199846.html)
    ("到2025年建成100个省级教育集约化示范区。", [
        ("100个", "=", 100.0, "个", "到2025年", "省级教育集约化示范区", None, "requirement")]),
    ("建成10所新优质学校,组建20个学区。", [
        ("10所", "=", 10.0, "所", None, "新优质学校", None, "requirement"),
        ("20个", "=", 20.0, "个", None, "学区", None, "requirement")]),
    ("力争三年内培育八十个优质教育集团。", [
        ("八十个", "=", 80.0, "个", "三年内", "优质教育集团", None, "requirement")]),
    ("到2025年,全市新增公办学位5万个,遴选20所市级新优质学校。", [
        ("5万个", "=", 50000.0, "个", "到2025年", "全市新增公办学位", None, "requirement"),
        ("20所", "=", 20.0, "所", "到2025年", "市级新优质学校", None, "requirement")]),
    ("每校遴选不少于3名骨干教师参加培训。", [
        ("不少于3名", ">=", 3.0, "名", None, "骨干教师", None, "requirement")]),
    # should stay facts: the sentence reports, or the count is an estimate
    ("截至目前,全区已建成10所新优质学校。", [
        ("10所", "=", 10.0, "所", None, "新优质学校", None, "statistic")]),
    ("2022年共组建了20个学区。", [("20个", "=", 20.0, "个", None, "学区", None, "statistic")]),
    ("近三年来,全区共新建学校12所。", [("12所", "=", 12.0, "所", None, "全区共新建学校", None, "statistic")]),
    ("全省组建500余个教育集团。", [("500余个", ">", 500.0, "个", None, "教育集团", None, "statistic")]),
]

AMOUNTS = [
    ("课后服务收费标准为每生每课时2元。", [
        ("2元", "=", 2.0, "元", None, "课后服务收费标准", "每生每课时", "requirement")]),
    ("对参加课后服务的学生,每人每年补助不低于500元。", [
        ("不低于500元", ">=", 500.0, "元", "每年", "补助", "每人", "requirement")]),
    ("义务教育学校生均公用经费不低于1200元。", [
        ("不低于1200元", ">=", 1200.0, "元", None, "义务教育学校生均公用经费", "生均", "requirement")]),
    # http://m.kidbbs.com/baike/jiaoyu/676037.html
    ("实行课后服务收费的,要按照成本补偿和非营利原则设定收费标准,小学、初中每月每生收费不高于200元。", [
        ("不高于200元", "<=", 200.0, "元", "每月", "初中收费", "每生", "requirement")]),
    ("课后服务经费按每生每学期300元的标准予以补助。", [
        ("300元", "=", 300.0, "元", "每学期", "课后服务经费", "每生", "requirement")]),
    ("义务教育阶段家庭经济困难寄宿生生活补助标准为小学每生每年1000元、初中每生每年1250元。", [
        ("1000元", "=", 1000.0, "元", "每年", "困难寄宿生生活补助标准", "每生", "requirement"),
        ("1250元", "=", 1250.0, "元", "每年", "初中", "每生", "requirement")]),
    # the basis written as a rate after the amount, as fee tables do (太原市发改委, 2024: 课后服务性收费标准)
    ("小学阶段课后服务性收费标准为1.0元/生·小时;初中阶段课后服务性收费标准为1.5元/生·小时。", [
        ("1.0元/生·小时", "=", 1.0, "元", None, "课后服务性收费标准", "每生每小时", "requirement"),
        ("1.5元/生·小时", "=", 1.5, "元", None, "课后服务性收费标准", "每生每小时", "requirement")]),
    ("寄宿生生活补助标准为1250元/生/年。", [
        ("1250元/生/年", "=", 1250.0, "元", None, "寄宿生生活补助标准", "每生每年", "requirement")]),
    ("乡村教师交通补贴300元/人·月。", [
        ("300元/人·月", "=", 300.0, "元", None, "乡村教师交通补贴", "每人每月", "requirement")]),
    # an amount with no per-basis and no requirement word stays out
    ("城乡二元结构逐步破除,总投入1200元。", []),
]

# Look-alike numbers beside counts: none is a requirement.
LOOK_ALIKES = [
    "根据沪教委〔2023〕5号文件,实施135行动,第3条规定,联系电话021-12345678。",
    "依据苏教基〔2021〕12号文件,2021年9月1日起执行,咨询电话0512-68881234。",
    "“十四五”期间,深入实施“1+N”集团化办学模式。",
    "一、总体要求 (二)主要目标 3.工作措施",
]


@pytest.mark.parametrize(("text", "expected"), COUNTS + AMOUNTS)
def test_counts_and_amounts_are_read_with_subject_basis_and_period(text: str, expected: list[tuple]) -> None:
    assert _rows(text) == expected


@pytest.mark.parametrize(("text", "display"), [
    ("课后服务收费标准为每生每课时2元。", "每生每课时2元"),
    ("对参加课后服务的学生,每人每年补助不低于500元。", "每人每年不少于500元"),
    ("小学课后服务性收费标准为1.0元/生·小时。", "每生每小时1元"),
    ("义务教育学校生均公用经费不低于1200元。", "不少于1200元"),  # 生均 is in the subject already
])
def test_an_amount_displays_with_its_basis(text: str, display: str) -> None:
    assert [r.to_dict()["display"] for r in extract_from_text(text)] == [display]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_numbers_near_counts_yield_nothing(text: str) -> None:
    assert _rows(text) == []


CLAUSES = ["到2025年,培育80个优质教育集团。", "建成10所新优质学校。", "课后服务收费标准为每生每课时2元。"]
NOISE = ["沪教委基〔2023〕15号", "2023年5月4日", "第3条", "联系电话021-12345678", "(一)", "“十四五”", "135行动"]


@settings(max_examples=40, deadline=None)
@given(clause=st.sampled_from(CLAUSES), noise=st.sampled_from(NOISE), before=st.booleans())
def test_a_look_alike_inserted_next_to_a_clause_adds_no_requirement(clause: str, noise: str, before: bool) -> None:
    alone = [r.value for r in extract_from_text(clause) if r.kind == "requirement"]
    text = f"{noise}。{clause}" if before else f"{clause}{noise}。"
    assert [r.value for r in extract_from_text(text) if r.kind == "requirement"] == alone


CN_DIGITS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


def _chinese(n: int) -> str:
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{'二' if tens == 2 else CN_DIGITS[tens]}十")
    # 两 counts alone (两个), 二 inside a larger numeral (十二个, 二十个)
    return head + ({2: "二"}.get(ones) or CN_DIGITS.get(ones, "")) if n >= 10 else CN_DIGITS[n]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=99), unit=st.sampled_from(["个", "所"]))
def test_chinese_numerals_count_like_digits(n: int, unit: str) -> None:
    def read(number: str) -> list[tuple]:
        return [(r.value, r.unit, r.subject, r.kind) for r in extract_from_text(f"到2025年,培育{number}{unit}优质教育集团。")]

    assert read(_chinese(n)) == read(str(n)) == [(float(n), unit, "优质教育集团", "requirement")]
