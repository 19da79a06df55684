"""The lexicon file cuts queries exactly as jieba's loaded dictionary does, and weighs them with the same IDF."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from policykb import lexicon
from policykb.keyword_index import _jieba

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> lexicon.Lexicon:
    path = lexicon.write_lexicon(tmp_path_factory.mktemp("lex") / lexicon.LEXICON_FILE)
    return lexicon.Lexicon(path)


def _texts() -> list[str]:
    corpus = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    sentences = [s for s in re.split(r"[。\n]", corpus) if s.strip()][:600]
    queries = [q["text"] for q in tomllib.loads((ROOT / "bench" / "queries.toml").read_text("utf-8"))["query"]]
    # Words jieba has never seen go through its HMM; Latin, digits and mixed scripts through its other paths.
    return sentences + queries + ["县管校聘和区管校聘", "ＡＢＣ教育集团2025年", "囧囧有神的薄弱校", "e5模型 policy KB"]


def test_lexicon_cuts_every_text_as_the_loaded_dictionary(written: lexicon.Lexicon) -> None:
    lazy, full = lexicon._lexicon_tokenizer(written), _jieba()
    assert lazy is not full
    for text in _texts():
        assert lazy.lcut(text) == full.lcut(text), text
        assert lazy.lcut_for_search(text) == full.lcut_for_search(text), text


def test_lexicon_idf_is_jiebas(written: lexicon.Lexicon) -> None:
    idf, median = lexicon._full_idf()
    assert written.median_idf == median
    for word in ("轮岗", "教师", "集团化", "不存在的词语xyz"):
        assert written.idf.get(word, median) == idf.get(word, median)
    assert "教师" in written.freq and "教师x" not in written.freq


def test_a_lexicon_of_another_jieba_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = lexicon.write_lexicon(tmp_path / lexicon.LEXICON_FILE)
    monkeypatch.setattr(lexicon, "lexicon_path", lambda: path)
    assert lexicon.configured_lexicon() is not None
    monkeypatch.setattr(lexicon, "stamp", lambda: "jieba 9.9; 1,2")
    with pytest.raises(ValueError, match="made from jieba"):
        lexicon.Lexicon(path)
    lexicon._open_cached.cache_clear()
    assert lexicon.configured_lexicon() is None
