"""GBK misalignment repair: golden runs from the real corpus, the farm's mechanisms one by one, clean text left
alone, properties."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from damage import farm_segment, repair_chain
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


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# (file, damaged run as scraped, repair reported by the step)
GOLDEN_RUNS = [
    # 000 Hongkou: `(qū)` of 驅 (f2 8c) matched across 域實 / 向學 / 域層 and split the second character; its lead
    # byte swallowed the `(`. The run re-aligns on an ASCII trail byte (際 = eb 48 → `H`) ...
    ("000", "?qū)嶋H", "實際"),
    ("000", "?qū)W", "學"),
    # ... or on the `(` of the next character's genuine annotation, which the repair gives back.
    ("000", "?qū)用鎰?", "層面創("),
    # 000: the lead byte of 保 became `?`; `！` (NFKC `!`) is the trail of 保 read with the lead of “.
    ("000", "?!皯?", "保“應("),
    # 003 Haidian: corpus-notes' byte-level example (the lead byte of 。 became `?`) ...
    ("003", "?!豆芾磙k", "。《管理辦"),
    # ... and `(nèi)` of 內 (83 c8) matched across 詢入; the run swallowed the `<` of `</span>`.
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
        ("000", "结合区域实际，特制定"),
        ("000", "研制指向学生科学素养"),
        ("000", "区域层面创新"),
    ],
)
def test_clean_chain_restores_original_words(prefix: str, restored: str) -> None:
    assert restored in chained(prefix)


# The farm's mechanisms one at a time, on traditional text as the farm had it (full-width punctuation):
# (text, the farm's annotation list, index of a character whose lead byte became `?`, what the scrape shows).
MECHANISMS = [
    # a lead byte became `?`; the shifted reading ends on the ASCII trail byte of 課 (n)
    ("\n3.強化集體備課，打造高效課堂。", {}, 7, "\n3.強化集體?湔n,打造高效課堂。"),
    # the run passes through invalid pairs shown as `?` (化“ and 網+ read one byte late)
    ("\n2.深化“互聯網+義務教育”工作。", {}, 3, "\n2.?罨?盎ヂ摼W+義務教育”工作。"),
    # the `?` that replaced 覈's lead byte is followed by another: its trail byte swallowed the `(` of (hé)
    ("制定本校教研考覈細則，把各校的教研工作", {"覈": "hé"}, 7, "制定本校教研考??hé)細則,把各校的教研工作"),
]


@pytest.mark.parametrize(("text", "table", "question", "shown"), MECHANISMS)
def test_mojibake_undoes_each_farm_mechanism(
    text: str, table: dict[str, str], question: int, shown: str
) -> None:
    damaged = farm_segment(text, table, question)
    assert damaged == shown
    # Compared after the later steps: 考覈 and 考核 are the same words once simplified.
    assert repair_chain(damaged) == repair_chain(nfkc(text))


@pytest.mark.parametrize(
    ("damaged", "why"),
    [
        # the `?` swallowed the first digit of 20%: any digit fits, so the run is marked, not guessed
        (farm_segment("各校骨幹教師交流比例不低於20%，其中", {}, 12), "swallowed digit"),
        # two `?` in a row inside Chinese, among garbage no re-decoding explains
        ("加强对年级??鼾鼾X进行", "no re-decoding"),
    ],
)
def test_mojibake_marks_what_it_cannot_repair(damaged: str, why: str) -> None:
    result = repair_mojibake(damaged)
    assert MARKER in result.text, why
    assert [c.kind for c in result.changes] == ["mojibake_unrepaired"]


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
        "你知道吗?A类学校怎么评?",  # a question mark before a Latin letter that is a word
        # a headline's question mark before the site's name (http://www.outputnews.com, a 观察者网 风闻 mirror)
        "教育不公的鴻溝,豈是一塊屏幕能跨越的?_風聞\n· 食物主权按 ·",
        "减负之后,孩子的时间去哪儿了? | 中国教育新闻网",
    ],
)
def test_mojibake_does_not_touch_healthy_text(clean: str) -> None:
    assert repair_mojibake(clean).text == clean


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
