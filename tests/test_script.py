"""Traditional → simplified, including what phrase conversion leaves behind."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from damage import repair_chain
from policykb.cleaning.script import to_simplified

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# Characters that are simplified in their own right in some words (乾隆, 瞭望): opencc's t2s of the lone
# character is not a verdict on them.
AMBIGUOUS = set("乾於瞭藉夥徵麼餘")


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        # the farm's wrong round trips
        ("若幹意見", "若干意见"),
        ("辦學體製機製", "办学体制机制"),
        # a single character phrase conversion leaves behind
        ("對於單法人式的集團學校", "对于单法人式的集团学校"),
        ("用於派駐", "用于派驻"),
        ("文章來源於網絡", "文章来源于网络"),
        ("關於印發", "关于印发"),
        ("骨幹教師", "骨干教师"),
        ("學區製", "学区制"),
        # context keeps a character that is also simplified
        ("乾隆年間", "乾隆年间"),
        ("乾淨", "干净"),
        # 著 is simplified in 著作/显著, but writes 着 in 本着/着力/随着 (Zhenjiang's 本著合作, 著力)
        ("各地本著合作共贏", "各地本着合作共赢"),
        ("著力“人員調配", "着力“人员调配"),
        ("隨著改革深入", "随着改革深入"),
        ("著作權", "著作权"),
        ("顯著提高", "显著提高"),
        ("著名學者", "著名学者"),
        # already simplified: unchanged, whatever characters OpenCC would touch (覆 复, 乾 干, 著 着)
        ("上海市示范性学区和集团建设三年行动计划", "上海市示范性学区和集团建设三年行动计划"),
        ("辐射覆盖范围", "辐射覆盖范围"),
        ("乾元县和乾安县的著作家研究乾隆年间史料", "乾元县和乾安县的著作家研究乾隆年间史料"),
        ("本著合作共赢的原则", "本著合作共赢的原则"),  # a simplified page's own spelling is not ours to fix
        # place names inside traditional sentences
        ("乾安縣教育局著作權", "乾安县教育局著作权"),
    ],
)
def test_to_simplified(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional).text == simplified


def test_to_simplified_groups_runs_into_one_change() -> None:
    result = to_simplified("若幹體製,好")
    assert [(c.kind, c.before, c.after, c.offset) for c in result.changes] == [
        ("traditional", "幹體製", "干体制", 1)
    ]


@pytest.mark.parametrize("prefix", ["000", "002", "003"])
def test_clean_chain_leaves_no_traditional_character(prefix: str) -> None:
    text = repair_chain(next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8"))
    t2s = opencc.OpenCC("t2s")
    assert sorted({ch for ch in text if t2s.convert(ch) != ch} - AMBIGUOUS) == []


def test_only_the_traditional_sentences_are_converted() -> None:
    text = "辐射覆盖范围扩大。學區製改革穩步推進。乾元县著作家"
    result = to_simplified(text)
    assert result.text == "辐射覆盖范围扩大。学区制改革稳步推进。乾元县著作家"
    assert [(c.before, c.after, c.offset) for c in result.changes] == [("學區製", "学区制", 9), ("穩", "稳", 14),
                                                                       ("進", "进", 17)]


@cache
def simplified_words() -> list[str]:
    """jieba's dictionary words that are simplified text (every character in GB2312)."""
    import jieba

    words = []
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            word = line.split(" ", 1)[0]
            if i % 40 == 0 and _gb2312(word):
                words.append(word)
    return words


def _gb2312(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(simplified_words()), min_size=1, max_size=30),
       st.lists(st.sampled_from(["", "，", "。", "\n", "、", "；"]), min_size=30, max_size=30))
def test_simplified_text_goes_through_unchanged(words: list[str], separators: list[str]) -> None:
    text = "".join(word + sep for word, sep in zip(words, separators, strict=False))
    result = to_simplified(text)
    assert (result.text, result.changes) == (text, [])


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("若幹體製對於單法人乾隆淨學區发展,。 \nab")), max_size=30))
def test_to_simplified_properties(text: str) -> None:
    result = to_simplified(text)
    for change in result.changes:
        assert text[change.offset : change.offset + len(change.before)] == change.before
    assert to_simplified(result.text).text == result.text


def test_the_query_path_keeps_the_traditional_character_set_on_disk(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import tempfile

    from policykb import query
    from policykb.cleaning.script import t2s_char_table

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    query._traditional_chars.cache_clear()
    try:
        made = query._traditional_chars()
        files = list(tmp_path.glob("policykb-*-opencc-*-t2s.txt"))
        assert made == frozenset(t2s_char_table()) and len(files) == 1
        query._traditional_chars.cache_clear()
        assert query._traditional_chars() == made  # read back from the file
        assert query.to_simplified("縣管校聘") == "县管校聘" and query.to_simplified("县管校聘") == "县管校聘"
    finally:
        query._traditional_chars.cache_clear()
