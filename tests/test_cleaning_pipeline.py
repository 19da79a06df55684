"""The composed cleaner: step order, the cleaned corpus, and properties (no crash, idempotent, honest reports)."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS_FILES, raw_text
from policykb.cleaning import STEPS, clean_text, trace_clean
from policykb.cleaning.punctuation import fold_for_matching
from policykb.records import CleanResult
from policykb.render import chinese_punctuation


@cache
def cleaned(name: str) -> CleanResult:
    return clean_text(raw_text(name))


def test_steps_run_in_the_documented_order() -> None:
    assert [name for name, _ in STEPS] == [
        "html", "chrome", "mojibake", "pinyin", "indent", "script", "punctuation", "whitespace", "duplicates",
    ]


# --- the cleaned corpus -----------------------------------------------------------------------------------------

FIRST_AND_LAST_LINES = {
    "hongkou": ("关于印发《虹口区推进学区化集团化办学高质量发展的实施意见》的通知",
                "积极搭建交流研讨的平台，鼓励学区、集团在市、区层面开展展示交流活动，及时推广学区、集团工作中的好做法、好经验，"
                "推出一批在学区和集团走向高质量发展过程中涌现的好学校、好校长和好教师，扩大高质量学区集团建设的影响力和显示度。"),
    "shanghai": ("沪教委基〔2023〕15号", "（六）加大宣传力度，在有关媒体上开设专栏，对市示范性学区和集团创建典型进行集中报道。"),
    "zhenjiang": ("各市、区人民政府，镇江新区、高新区管委会，市发改委、教育局、财政局、人社局、编办：",
                  "3.加大宣传力度。要积极利用新闻媒体向家长、社会广泛宣传集团化办学的重大意义、进展情况和工作成效，"
                  "及时报道集团化办学中涌现出的“家门口的好学校”，为推动集团化办学提供良好的舆论环境。"
                  "要加强对集团化办学工作的调研指导，坚持典型示范和榜样引领，通过现场推进会、经验交流会、总结表彰会等，"
                  "及时总结和宣传集团化办学的好做法、好经验、好典型，激发学校主动参与集团化办学实践的积极性，"
                  "形成全社会关心支持基础教育改革和发展的良好氛围。"),
    "haidian": ("海淀区集团化办学进入新阶段，目前海淀区已建立36个教育集团",
                "本次采取的海淀区集团化办学质量评估指标体系，是由首都师范大学课题组、区教师进修学校、区教科院和发展规划科共同研制。"
                "指标体系包括健全集团管理架构、深化集团课程改革、创新人才培养方式、加强集团教师队伍建设、加强集团文化建设、"
                "集团化效果等6个维度，共19项细化指标。"),
    "linping": ("临平区义务教育“优质均衡”行动计划",
                "（四）加大宣传，营造氛围。加强与媒体的联系沟通，充分利用报纸、广播、电视、网络等多种途径对“学在临平”名师名校长"
                "教育高峰论坛、“优质均衡行动”和“家门口的好学校”进行专题介绍和宣传，让社会、家长更全面地了解我区中小学学校的办学成效，"
                "引导社会、家长尊重教育规律和孩子成长规律，积极营造政府重视、社会支持、家长理解、学生满意的良好氛围。"),
}


@pytest.mark.parametrize("name", sorted(FIRST_AND_LAST_LINES))
def test_clean_body_starts_and_ends_with_the_document(name: str) -> None:
    lines = cleaned(name).text.split("\n")
    assert (lines[0], lines[-1]) == FIRST_AND_LAST_LINES[name]


# Raw non-blank lines minus the removed chrome (hongkou 40-3, linping 39-8, zhenjiang 24-3, haidian 74-57).
LINE_COUNTS = {"hongkou": 37, "shanghai": 42, "zhenjiang": 21, "haidian": 17, "linping": 31}


@pytest.mark.parametrize("name", sorted(LINE_COUNTS))
def test_clean_body_has_one_paragraph_per_line(name: str) -> None:
    text = cleaned(name).text
    assert len(text.split("\n")) == LINE_COUNTS[name]
    assert all(line and line == line.strip() for line in text.split("\n"))


CHROME_MARKERS = [
    "字号", "分享", "登录", "注册", "扫一扫", "二维码", "QR Code", "阅读:", "浏览次数", "编辑:", "打印本页",
    "关闭窗口", "信息索引号", "成文日期", "来源:", "来源时间", "http", "www.", "本站", "声明", "摘要", "无码", "久久",
    "<", ">", "&nbsp", "|", "•", "??",
]


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_clean_body_has_no_chrome_left(name: str) -> None:
    text = fold_for_matching(cleaned(name).text)  # `来源:` is chrome in either form of its colon
    assert [marker for marker in CHROME_MARKERS if marker in text] == []


def test_clean_haidian_keeps_summary_and_headline_once() -> None:
    result = cleaned("haidian")
    summary = "海淀区教委发布了海淀区集团化现阶段教育规模及下一步方向"
    assert result.text.count(summary) == 1
    assert result.text.count("海淀区集团化办学进入新阶段，目前海淀区已建立36个教育集团") == 1
    assert [c.kind for c in result.changes].count("duplicate") == 2


# Restored damage (corpus-notes.md): these come out of the other steps but are checked on the whole cleaner.
RESTORED = [
    ("haidian", "提出要求。《管理办法》则明确"),
    ("hongkou", "确保“应考尽考”"),
    ("hongkou", "结合区域实际"),
    ("hongkou", "指向学生科学素养"),
    ("hongkou", "区域层面创新政策"),
    ("zhenjiang", "若干意见"),
    ("zhenjiang", "对于单法人式的集团学校"),
]


@pytest.mark.parametrize(("name", "phrase"), RESTORED)
def test_clean_restores_damaged_phrases(name: str, phrase: str) -> None:
    assert phrase in cleaned(name).text


# An ASCII mark of the seven with a Han character beside it is Chinese punctuation written the NFKC way.
ASCII_MARK_BY_HAN = re.compile(r"[\u4e00-\u9fff][,:;()!?]|[,:;()!?][\u4e00-\u9fff]")


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_clean_corpus_writes_chinese_punctuation_full_width(name: str) -> None:
    text = cleaned(name).text
    assert [text[max(0, m.start() - 8) : m.end() + 8] for m in ASCII_MARK_BY_HAN.finditer(text)] == []
    # the seed documents hold no URL, decimal time or English sentence: no ASCII mark of the seven is left
    assert not set(",:;()!?") & set(text) and "，" in text
    # the display-time conversion has nothing left to do
    assert chinese_punctuation(text) == text


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_clean_corpus_is_idempotent(name: str) -> None:
    once = cleaned(name).text
    again = clean_text(once)
    assert again.text == once
    assert again.changes == []


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_every_change_is_found_in_its_step_input(name: str) -> None:
    for run in trace_clean(raw_text(name)):
        for change in run.result.changes:
            assert run.input[change.offset : change.offset + len(change.before)] == change.before, (run.name, change)


# --- properties on arbitrary text -----------------------------------------------------------------------------------

# Fragments of the kinds of text the cleaner meets, so random inputs reach every step's interesting paths.
FRAGMENTS = [
    "關(guān)于", "若(ruò)幹", "的(de)", "(一)", "(试行)", "(2023-2025年)", "??", "?!豆芾磙k法》", "區域?qū)嶋H",
    "字號:", "分享:", "登錄 | 注冊", "<th id=\"x\"></th>", "&nbsp;", "&amp;lt;", "<<b>b>", "无码,久久,日韩,欧美",
    "信息索引号 | 1 | 文件编号 |", "来源:区教育局 发布时间: 2023-06-07 11:44", "http://www.a.com", "声明:本文来源于网络",
    "。", ",", "“", "”", "\n", "\n\n", " ", "\u3000", "\r\n", "特此通知。", "一、指导思想", "教师不低于30%",
    "沪教委基〔2023〕15号", "2023年5月4日", "虹口区教育局", "學校", "體製", "於",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=25).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_clean_never_crashes_and_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert isinstance(once.text, str)
    assert clean_text(once.text).text == once.text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_every_change_before_is_in_its_step_input(raw: str) -> None:
    runs = trace_clean(raw)
    assert runs[0].input == raw
    assert [run.name for run in runs[: len(STEPS)]] == [name for name, _ in STEPS]
    for previous, run in zip(runs, runs[1:], strict=False):
        assert run.input == previous.result.text
    for run in runs:
        for change in run.result.changes:
            assert run.input[change.offset : change.offset + len(change.before)] == change.before, (run.name, change)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_clean_never_crashes_on_decoded_bytes(data: bytes) -> None:
    # Whatever bytes a page had, the decoded text (with replacement characters) can be cleaned.
    text = data.decode("gb18030", errors="replace")
    clean_text(text)
