"""Lost indents and NFKC punctuation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.cleaning.punctuation import normalise_punctuation, restore_indent_spaces


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


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("各区教育局：", "各区教育局:"),
        ("（一）健全体系；加强领导！是否？", "(一)健全体系;加强领导!是否?"),
        ("２０２３年，ＡＢＣ", "2023年,ABC"),
        ("提出要求。《管理办法》、“应考尽考”〔2023〕", "提出要求。《管理办法》、“应考尽考”〔2023〕"),
        ("已经是 ASCII, : ; ( ) ! ?", "已经是 ASCII, : ; ( ) ! ?"),
        ("省略号……保留", "省略号……保留"),
    ],
)
def test_normalise_punctuation(raw: str, clean: str) -> None:
    assert normalise_punctuation(raw).text == clean


def test_normalise_punctuation_groups_runs() -> None:
    result = normalise_punctuation("是否？！好")
    assert [(c.kind, c.before, c.after, c.offset) for c in result.changes] == [
        ("punctuation", "？！", "?!", 2)
    ]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("?？！，\u3000 \n一二。（）ＡＢ１a")), max_size=30))
def test_punctuation_steps_properties(text: str) -> None:
    for step in (restore_indent_spaces, normalise_punctuation):
        result = step(text)
        for change in result.changes:
            assert text[change.offset : change.offset + len(change.before)] == change.before
        assert step(result.text).text == result.text
