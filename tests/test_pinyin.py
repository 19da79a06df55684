"""Pinyin annotation removal: real readings only, genuine parentheses survive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.cleaning.pinyin import is_reading, remove_pinyin

REMOVED = [
    # from the corpus, traditional characters with tone marks
    ("關(guān)于印發(fā)", "關于印發"),
    ("若(ruò)幹意見", "若幹意見"),
    ("虹口區(qū)推進(jìn)", "虹口區推進"),
    # tone marks missing, as in 002
    ("發展的(de)若", "發展的若"),
    # full-width parentheses
    ("學（xué）區", "學區"),
    # a heteronym: 行 reads both háng and xíng
    ("銀行(háng)和行(xíng)動", "銀行和行動"),
    # ü written with tone
    ("綠(lǜ)色", "綠色"),
]

KEPT = [
    "(一)健全治理体系",  # list numbering
    "实施意见(试行)",
    "县(区)域",
    "三年行动计划(2023-2025年)",
    "(见附件)",
    "科学、技术、工程和数学(STEM)教育",
    "国际学生评估项目(PISA)",
    "关(xué)于",  # a syllable that is not a reading of 关
    "人工智能(AI)",  # upper case is an abbreviation, not an annotation
    "word(de)",  # not after a Han character
]


@pytest.mark.parametrize(("raw", "clean"), REMOVED)
def test_remove_pinyin_deletes_real_readings(raw: str, clean: str) -> None:
    assert remove_pinyin(raw).text == clean


@pytest.mark.parametrize("text", KEPT)
def test_remove_pinyin_keeps_genuine_parentheses(text: str) -> None:
    result = remove_pinyin(text)
    assert result.text == text
    assert result.changes == []


def test_remove_pinyin_reports_each_annotation_at_its_offset() -> None:
    result = remove_pinyin("關(guān)于印發(fā)")
    assert [(c.kind, c.before, c.after, c.offset) for c in result.changes] == [
        ("pinyin", "(guān)", "", 1),
        ("pinyin", "(fā)", "", 10),
    ]


@pytest.mark.parametrize(
    ("ch", "syllable", "expected"),
    [("的", "de", True), ("的", "dí", True), ("的", "dì", True), ("的", "dā", False), ("幹", "gàn", True)],
)
def test_is_reading(ch: str, syllable: str, expected: bool) -> None:
    assert is_reading(ch, syllable) is expected


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("的关於發區学(一)（）guānfādexué2023-年 ")), max_size=40))
def test_remove_pinyin_properties(text: str) -> None:
    result = remove_pinyin(text)
    for change in result.changes:
        assert text[change.offset : change.offset + len(change.before)] == change.before
    assert remove_pinyin(result.text).text == result.text
