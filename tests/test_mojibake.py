"""GBK misalignment repair: golden runs from the real corpus, clean text left alone, properties."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from damage import farm_decode, repair_chain
from policykb.cleaning.mojibake import MARKER, repair_mojibake

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@cache
def raw(prefix: str) -> str:
    return next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


@cache
def repaired(prefix: str):  # type: ignore[no-untyped-def]
    return repair_mojibake(raw(prefix))


@cache
def chained(prefix: str) -> str:
    return repair_chain(raw(prefix))


# (file, damaged run as scraped, repair reported by the step)
GOLDEN_RUNS = [
    # 000 Hongkou: annotations spliced between the two bytes of a character; the lead byte swallowed the `(`
    ("000", "?qū)嶋H", "實際"),
    ("000", "?qū)W", "學"),
    ("000", "?qū)用鎰?chuàng)", "層面創"),
    # 000: a lost byte shown as `?`, then `！` (NFKC `!`) paired with it; the annotation after 應 is dropped
    ("000", "?!皯?yīng)", "保“應"),
    # 003 Haidian: corpus-notes' byte-level example, and a `<` swallowed before `/span>`
    ("003", "?!豆芾磙k", "。《管理辦"),
    ("003", "?nèi)肟?", "入口<"),
]


@pytest.mark.parametrize(("prefix", "before", "after"), GOLDEN_RUNS)
def test_mojibake_repairs_corpus_runs(prefix: str, before: str, after: str) -> None:
    changes = [(c.kind, c.before, c.after) for c in repaired(prefix).changes]
    assert ("mojibake", before, after) in changes


@pytest.mark.parametrize("prefix", ["000", "003"])
def test_mojibake_reports_exactly_the_damaged_runs(prefix: str) -> None:
    expected = sorted((b, a) for p, b, a in GOLDEN_RUNS if p == prefix)
    assert sorted((c.before, c.after) for c in repaired(prefix).changes) == expected


@pytest.mark.parametrize("prefix", ["001", "002", "004"])
def test_mojibake_leaves_undamaged_files_alone(prefix: str) -> None:
    result = repaired(prefix)
    assert result.changes == []
    assert result.text == raw(prefix)


@pytest.mark.parametrize(
    ("prefix", "restored"),
    [
        ("003", "提出要求。《管理办法》则明确"),
        ("003", "划片查询入口</span>"),
        ("000", "确保“应考尽考”"),
        ("000", "结合区域实际,特制定"),
        ("000", "研制指向学生科学素养"),
        ("000", "区域层面创新"),
    ],
)
def test_clean_chain_restores_original_words(prefix: str, restored: str) -> None:
    assert restored in chained(prefix)


@pytest.mark.parametrize(
    "clean",
    [
        "注入新的动力和活力?如何梳理经验再出发",  # a real question mark between Chinese clauses
        "推动各集团校百舸争流、百花齐放",  # 舸 is rare, but 百舸 is a word
        "文章来源于:http://www.example.com/a?b=1&c=2",  # `?` in a URL
        "开展科学、技术、工程和数学(STEM)教育",
        "做实X课程,推进5G网络和B超设备",  # single Latin letters that belong there
        "關(guān)于印發(fā)《實施意見》的通知",  # pinyin annotations are the next step's business
        "??现将《实施意见》印发给你们",  # lost indent spaces are the indent step's business
        "遴选骨干教师,跻身前列,夯实基础",  # rare but correct characters
    ],
)
def test_mojibake_does_not_touch_healthy_text(clean: str) -> None:
    assert repair_mojibake(clean).text == clean


def test_mojibake_repairs_a_byte_replaced_by_question_mark() -> None:
    # The first byte of 。 replaced by `?`, as in corpus-notes: `要求?!豆芾磙k法》則`
    data = "方面提出要求。《管理辦法》則明確設立".encode("gbk")
    i = data.index("。".encode("gbk"))
    damaged = farm_decode(data[:i] + b"?" + data[i + 1 :])
    assert damaged != "方面提出要求。《管理辦法》則明確設立"
    import unicodedata

    assert (
        repair_mojibake(unicodedata.normalize("NFKC", damaged)).text == "方面提出要求。《管理辦法》則明確設立"
    )


def test_mojibake_marks_what_it_cannot_repair() -> None:
    # Two `?` in a row inside Chinese, among garbage no re-decoding explains.
    result = repair_mojibake("加强对年级??鼾鼾X进行")
    assert MARKER in result.text
    assert [c.kind for c in result.changes] == ["mojibake_unrepaired"]


TEXT = st.text(
    alphabet=st.sampled_from(list("的是在教育学校集团区管理办法實際確保豆芾磙嶋皯鎰?!()qūèk H,。《》“”\n")),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_mojibake_properties(text: str) -> None:
    result = repair_mojibake(text)
    for change in result.changes:
        assert text[change.offset : change.offset + len(change.before)] == change.before
    assert repair_mojibake(result.text).text == result.text
