"""Lost indents, punctuation as GB/T 15834 writes it, and the one-for-one fold that matching uses."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.cleaning.punctuation import fold_for_matching, normalise_punctuation, restore_indent_spaces


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("??现将《实施意见》印发给你们", "现将《实施意见》印发给你们"),  # 000: two U+3000 lost in GBK
        ("标题\n??特此通知。\n??(一)目标", "标题\n特此通知。\n(一)目标"),
        ("\u3000\u3000为落实", "为落实"),
        ("    ??海淀区", "    海淀区"),  # leading ASCII spaces are the whitespace tidy's business
        ("作用?\n如何?", "作用?\n如何?"),  # question marks at line ends stay
        ("a?b", "a?b"),
    ],
)
def test_restore_indent_spaces(raw: str, clean: str) -> None:
    assert restore_indent_spaces(raw).text == clean


def test_restore_indent_spaces_reports_offsets() -> None:
    result = restore_indent_spaces("一\n??二")
    assert [(c.kind, c.before, c.after, c.offset) for c in result.changes] == [("whitespace", "??", "", 2)]


# GB/T 15834: the seven marks full-width inside Chinese, ASCII between Latin letters and digits.
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # NFKC-folded scrapes: ASCII marks inside Chinese sentences take their Chinese form
        ("各区教育局:", "各区教育局："),
        ("(一)健全体系;加强领导!是否?", "（一）健全体系；加强领导！是否？"),
        ("计划(2023-2025年)", "计划（2023-2025年）"),
        ("达到30%;", "达到30%；"),  # after a number at the line end: the sentence around it is Chinese
        ("1)加强领导", "1）加强领导"),
        ("(1)2023年起", "（1）2023年起"),
        ("好?!", "好？！"),
        ("参加国际学生评估项目(PISA)测试", "参加国际学生评估项目（PISA）测试"),
        ("PISA,中国", "PISA，中国"),
        # already as written, or mixed: full-width stays, the stray half-width mark follows it
        ("（一）健全体系；加强领导！是否？", "（一）健全体系；加强领导！是否？"),
        ("（一)健全体系,加强领导", "（一）健全体系，加强领导"),
        ("各区教育局﹕", "各区教育局："),  # a small form
        # full-width digits, letters and signs fold to ASCII; so do the marks between digits
        ("２０２３年，ＡＢＣ", "2023年，ABC"),
        ("３．５倍，１：１，共４，５６５人", "3.5倍，1:1，共4,565人"),
        ("会议于１０：３０开始", "会议于10:30开始"),
        # ASCII between Latin letters and digits stays: URLs, times, decimals, thousands, English
        ("网址:http://www.a.cn/x?id=1,请查阅", "网址：http://www.a.cn/x?id=1，请查阅"),
        ("时间:10:30,共1,000人", "时间：10:30，共1,000人"),
        ("f(x) = 1", "f(x) = 1"),
        ("version 3; ok", "version 3; ok"),
        ("已经是 ASCII, : ; ( ) ! ?", "已经是 ASCII, : ; ( ) ! ?"),
        # `.` is never converted: the outline marker `1.` and decimals
        ("1.加大教师流动力度。3.5倍", "1.加大教师流动力度。3.5倍"),
        # marks without an ASCII form stay
        ("提出要求。《管理办法》、“应考尽考”〔2023〕", "提出要求。《管理办法》、“应考尽考”〔2023〕"),
        ("省略号……保留", "省略号……保留"),
        # a line with no letter at all keeps what it has
        ("(1)", "(1)"),
        ("（1）", "（1）"),
    ],
)
def test_normalise_punctuation(raw: str, clean: str) -> None:
    assert normalise_punctuation(raw).text == clean


# Lines of real pages (tests/pages, tests/pages_metadata) as their scrapes carry them.
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # tests/pages_metadata/shanghai_chinaedu.txt: an English notice below a Chinese page stays English
        ("Notice: The articles / manuscripts, which does not", "Notice: The articles / manuscripts, which does not"),
        ("时间:2023-09-28 18:45:02 来源:网友投稿", "时间：2023-09-28 18:45:02 来源：网友投稿"),
        ("中小学校(幼儿园)设立党组织10645个,符合条件", "中小学校（幼儿园）设立党组织10645个，符合条件"),
        ("的意见》(以下简称《交流意见》),并首次提出“县管校聘”。", "的意见》（以下简称《交流意见》），并首次提出“县管校聘”。"),
        ("(2014年3月5日)", "（2014年3月5日）"),
        ("Word文档下载推荐.docx(9页珍藏版)", "Word文档下载推荐.docx（9页珍藏版）"),
        ("2017-02-18 14:26:00来源:央广网", "2017-02-18 14:26:00来源：央广网"),
    ],
)
def test_normalise_punctuation_of_real_lines(raw: str, clean: str) -> None:
    assert normalise_punctuation(raw).text == clean


def test_normalise_punctuation_groups_runs() -> None:
    result = normalise_punctuation("是否?!好，ＡＢ")
    assert [(c.kind, c.before, c.after, c.offset) for c in result.changes] == [
        ("punctuation", "?!", "？！", 2),
        ("punctuation", "ＡＢ", "AB", 6),
    ]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("（一）健全体系；加强领导！是否？", "(一)健全体系;加强领导!是否?"),
        ("２０２３年，ＡＢＣ　", "2023年,ABC "),
        ("《办法》、“应考尽考”。", "《办法》、“应考尽考”。"),
    ],
)
def test_fold_for_matching(text: str, folded: str) -> None:
    assert fold_for_matching(text) == folded


MIXED = st.text(alphabet=st.sampled_from(list("?？！!，,:：;；()（）\u3000 \n一二。ＡＢ１a1x.%“")), max_size=30)


@settings(max_examples=120, deadline=None)
@given(MIXED)
def test_punctuation_steps_properties(text: str) -> None:
    for step in (restore_indent_spaces, normalise_punctuation):
        result = step(text)
        for change in result.changes:
            assert text[change.offset : change.offset + len(change.before)] == change.before
        assert step(result.text).text == result.text


@settings(max_examples=120, deadline=None)
@given(MIXED)
def test_normalise_punctuation_changes_the_written_form_only(text: str) -> None:
    result = normalise_punctuation(text)
    assert fold_for_matching(result.text) == fold_for_matching(text)
    rebuilt = text
    for change in reversed(result.changes):  # the changes, applied, give the output
        rebuilt = rebuilt[: change.offset] + change.after + rebuilt[change.offset + len(change.before) :]
    assert rebuilt == result.text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_fold_for_matching_is_one_for_one_and_idempotent(text: str) -> None:
    folded = fold_for_matching(text)
    assert len(folded) == len(text)
    assert fold_for_matching(folded) == folded
    assert all(a == b or unicodedata.normalize("NFKC", a) == b for a, b in zip(text, folded, strict=True))
