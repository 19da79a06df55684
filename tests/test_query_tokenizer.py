"""The fast query tokenizer gives the ids of the model's own tokenizer.json, on real clauses and odd inputs."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.query_tokenizer import QueryTokenizer, query_tokenizer, write_query_vocab
from policykb.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
MODEL = Settings.load().model_path
pytestmark = pytest.mark.skipif(not (MODEL / "tokenizer.json").is_file(), reason="model not installed")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the model folder's tokenizer (the vocabulary file is written beside it, not in the shared one)."""
    out = tmp_path_factory.mktemp("model")
    shutil.copy(MODEL / "tokenizer.json", out / "tokenizer.json")
    return out


@pytest.fixture(scope="module")
def fast(folder: Path) -> QueryTokenizer:
    tokenizer = query_tokenizer(folder, 512)
    assert tokenizer is not None
    return tokenizer


@pytest.fixture(scope="module")
def full(folder: Path) -> object:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=512)
    return tokenizer


def _texts() -> list[str]:
    corpus = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    lines = [s for s in re.split(r"[。\n]", corpus) if s.strip()][:400]
    queries = [q["text"] for q in tomllib.loads((ROOT / "bench" / "queries.toml").read_text("utf-8"))["query"]]
    odd = ["", " ", "query: ", "  两个  空格  ", "Ｆｕｌｌ－ｗｉｄｔｈ　１２３", "縣管校聘（繁體）", "emoji 🎓📚 和 ㊣",
           "\u200b零宽\u00a0空格", "ǅ ﬁ ① ⅷ", "x" * 3000, "県と縣と县", "𠀀𪚥 rare CJK"]
    return [f"query: {t}" for t in queries + lines] + lines[:50] + odd


def test_fast_ids_are_the_tokenizers_ids(fast: QueryTokenizer, full: object) -> None:
    for text in _texts():
        assert fast.encode(text) == full.encode(text).ids, text  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("教师交流轮岗比例不低于%30年 的学校A b,，。・ー𠀀é\u0301")), max_size=40))
def test_fast_ids_match_on_generated_text(fast: QueryTokenizer, full: object, text: str) -> None:
    assert fast.encode(text) == full.encode(text).ids  # type: ignore[attr-defined]


def test_special_tokens_are_left_to_the_full_tokenizer(fast: QueryTokenizer) -> None:
    assert fast.handles("教师交流") and not fast.handles("教师<mask>交流")


def test_a_changed_tokenizer_makes_the_vocabulary_stale(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    copy.mkdir()
    shutil.copy(folder / "tokenizer.json", copy / "tokenizer.json")
    assert write_query_vocab(copy) is not None
    assert query_tokenizer(copy, 512, create=False) is not None
    (copy / "tokenizer.json").write_text((copy / "tokenizer.json").read_text("utf-8") + " ", encoding="utf-8")
    assert query_tokenizer(copy, 512, create=False) is None
