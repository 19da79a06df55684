"""BM25 keyword index: tokenisation (script folding, stopwords, bigrams), filtering, persistence, backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.keyword_index import KeywordIndex, choose_backend, fold_text, tokenize
from policykb.query import to_simplified

# Real sentences from the five documents (simplified, as the cleaner leaves them).
TEXTS = [
    "积极推进“县管校聘”“校长职级制”等人事制度改革,对集团内教师实施整体管理。",  # 0 zhenjiang
    "严格落实“区管校聘”,按岗聘用、竞争择优、强化考核,加强校级教师交流力度,优化师资结构。",  # 1 linping
    "每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%。",  # 2 shanghai
    "其中学区、集团内各学科联合教研每学期不少于5次。",  # 3 shanghai
    "每学年召开1-2次作业改革现场交流会。",  # 4 linping
    "目前,海淀区共建立36个教育集团,涉及140余个校址。",  # 5 haidian
    "同学段校际差异率低于0.15,相对薄弱学校进步明显。",  # 6 shanghai
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # jieba words first, then the character bigrams jieba did not already produce
        ("县管校聘", ["县管", "校聘", "管校"]),
        # traditional script and full-width brackets fold before splitting
        ("積極推進「縣管校聘」", ["积极", "推进", "县管", "校聘", "极推", "管校"]),
        # digits stay terms; a full-width percent sign folds to ASCII (NFKC)
        (
            "骨干教师占比不低于30％",
            ["骨干教师", "占", "比", "低于", "30%", "骨干", "干教", "教师", "师占", "占比", "比不", "不低"],
        ),
        # Latin is lowercased, full-width letters folded
        ("ＡＢＣ和Policy KB", ["abc", "policy", "kb"]),
        # should not produce terms: punctuation only, stopwords only
        ("，。！、“”", []),
        ("的", []),
    ],
)
def test_tokenize_folds_and_splits(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("縣管校聘", "县管校聘"),
        ("優質學校每年要派多少比例的教師到薄弱學校", "优质学校每年要派多少比例的教师到薄弱学校"),
        ("聯合教研每學期不少於5次", "联合教研每学期不少于5次"),
    ],
)
def test_tokenize_gives_traditional_and_simplified_twins_the_same_terms(
    traditional: str, simplified: str
) -> None:
    assert tokenize(traditional) == tokenize(simplified)


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("（一）健全组织，统筹协调。", "(一)健全组织,统筹协调。"),
        ("比例：一至六年级１５％左右；七到九年级20%左右", "比例:一至六年级15%左右;七到九年级20%左右"),
    ],
)
def test_tokenize_reads_full_width_and_ascii_punctuation_alike(written: str, typed: str) -> None:
    assert tokenize(written) == tokenize(typed)
    assert tokenize(written)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("體製若幹", "体制若干"),
        ("ＮＦＫＣ（一）", "NFKC(一)"),
        # phrase-level conversion: 乾 is 干 in 乾淨 but stays in 乾隆 (OpenCC 1.4 dictionaries)
        ("乾淨", "干净"),
        ("乾隆", "乾隆"),
        ("沈阳", "沈阳"),
        # should not change: already simplified text
        ("县管校聘", "县管校聘"),
    ],
)
def test_fold_text(text: str, expected: str) -> None:
    assert fold_text(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("县管校聘體製若幹沈默於的,。ABC 12%"), max_size=30))
def test_to_simplified_fast_path_agrees_with_opencc(text: str) -> None:
    """Text holding a traditional character converts exactly as OpenCC does; text without one is left alone
    (OpenCC would still rewrite a phrase such as 沈默 whose characters are all simplified)."""
    from opencc import OpenCC

    from policykb.query import _traditional_chars

    if any(ch in _traditional_chars() for ch in text):
        assert to_simplified(text) == OpenCC("t2s").convert(text)
    else:
        assert to_simplified(text) == text


@pytest.fixture(scope="module")
def index() -> KeywordIndex:
    return KeywordIndex.build(TEXTS, backend="numpy")


def test_keyword_search_finds_exact_policy_term_first(index: KeywordIndex) -> None:
    ids, scores = index.search("县管校聘", 3)
    # 0 holds the term; 1 (区管校聘) shares the bigrams 管校 and 校聘 and comes second
    assert ids.tolist() == [0, 1]
    assert scores[0] > scores[1] > 0


def test_keyword_search_matches_traditional_query_like_simplified(index: KeywordIndex) -> None:
    simplified = index.search("县管校聘", 5)
    traditional = index.search("縣管校聘", 5)
    assert simplified[0].tolist() == traditional[0].tolist()
    np.testing.assert_array_equal(simplified[1], traditional[1])


def test_keyword_search_keeps_only_allowed_ids(index: KeywordIndex) -> None:
    ids, _ = index.search("县管校聘", 3, allowed_ids=np.array([1, 5]))
    assert ids.tolist() == [1]
    ids, _ = index.search("县管校聘", 3, allowed_ids=np.array([], dtype=np.int64))
    assert ids.tolist() == []


@pytest.mark.parametrize(
    ("query", "k", "expected"),
    [
        # 4 shares only 每学 and 次 with the query, so it comes second
        ("联合教研每学期几次", 10, [3, 4]),
        # 5 has 教育集团; 3 and 0 only 集团
        ("教育集团数量", 10, [5, 3, 0]),
        # k caps the answer; ties are broken by id
        ("交流", 2, [4, 1]),
        # should not match: nothing in common, stopwords only, empty
        ("飞机场", 10, []),
        ("的了", 10, []),
        ("", 10, []),
    ],
)
def test_keyword_search_returns_only_documents_sharing_a_term(
    index: KeywordIndex, query: str, k: int, expected: list[int]
) -> None:
    assert index.search(query, k)[0].tolist() == expected


def test_keyword_index_round_trips_through_disk(index: KeywordIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "bm25")
    loaded = KeywordIndex.load(tmp_path / "bm25", backend="numpy")
    assert len(loaded) == len(TEXTS)
    for query in ("县管校聘", "教师交流", "差异率"):
        a, b = index.search(query, 5), loaded.search(query, 5)
        assert a[0].tolist() == b[0].tolist()
        np.testing.assert_array_equal(a[1], b[1])


def test_keyword_index_of_nothing_answers_nothing(tmp_path: Path) -> None:
    empty = KeywordIndex.build([])
    empty.save(tmp_path / "bm25")
    assert KeywordIndex.load(tmp_path / "bm25").search("县管校聘", 5)[0].tolist() == []


@pytest.mark.parametrize(("n_docs", "expected"), [(10, "numpy"), (19_999, "numpy"), (20_000, "numba")])
def test_keyword_backend_is_numba_only_where_it_pays(n_docs: int, expected: str) -> None:
    assert choose_backend(n_docs) == expected
    assert choose_backend(n_docs, "numpy") == "numpy"


def test_numba_backend_scores_like_numpy(index: KeywordIndex, tmp_path: Path) -> None:
    """Compiles the numba scorer (several seconds once): the backend the large benchmark indexes use."""
    index.save(tmp_path / "bm25")
    fast = KeywordIndex.load(tmp_path / "bm25", backend="numba")
    fast.warm_up()
    assert fast.backend == "numba"
    for query in ("县管校聘", "教师交流轮岗", "学期"):
        a, b = index.search(query, 5), fast.search(query, 5)
        assert a[0].tolist() == b[0].tolist()
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    assert fast.search("县管校聘", 5, allowed_ids=np.array([1]))[0].tolist() == [1]


def test_posting_list_scorer_answers_like_bm25s_with_ties_at_the_cut(tmp_path: Path) -> None:
    """The csc scorer (no bm25s at query time) gives bm25s's scores; equal scores at the k-th place go to lower ids."""
    # Clauses 0-3 are the same text: they tie, so a top-2 must take 0 and 1, whatever a partition does.
    texts = [TEXTS[2]] * 4 + TEXTS
    built = KeywordIndex.build(texts, backend="numpy")
    built.save(tmp_path / "bm25")
    csc = KeywordIndex.load(tmp_path / "bm25")
    assert csc.backend == "csc"
    assert csc.search("薄弱校的教师人数", 2)[0].tolist() == [0, 1]
    assert csc.search("薄弱校的教师人数", 2, allowed_ids=np.array([1, 3, 8]))[0].tolist() == [1, 3]
    for query in ("县管校聘", "教师交流轮岗", "学期", "集团内教师", "薄弱学校进步"):
        for allowed in (None, np.array([0, 2, 5, 7, 9])):
            a, b = built.search(query, 20, allowed_ids=allowed), csc.search(query, 20, allowed_ids=allowed)
            assert a[0].tolist() == b[0].tolist()
            np.testing.assert_array_equal(a[1], b[1])


@settings(max_examples=40, deadline=None)
@given(
    query=st.sampled_from(["县管校聘", "教师交流轮岗", "学期", "集团内教师", "薄弱学校进步", "交流", "没有的词"]),
    requests=st.lists(
        st.tuples(st.integers(min_value=0, max_value=12),
                  st.one_of(st.none(), st.lists(st.integers(min_value=0, max_value=len(TEXTS) + 2), max_size=8))),
        min_size=1, max_size=6),
    share=st.sampled_from([1.0, 0.3]),
)
def test_search_many_answers_each_request_as_search_alone(
    tmp_path_factory: pytest.TempPathFactory, query: str, requests: list[tuple[int, list[int] | None]], share: float
) -> None:
    """Compare asks one query under many filters at once; each answer must be the one `search` gives alone, on
    every scorer (posting lists, bm25s's numpy one), with unsorted, repeated and empty allowed lists."""
    folder = tmp_path_factory.mktemp("many")
    built = KeywordIndex.build([TEXTS[2]] * 3 + TEXTS, backend="numpy")
    built.save(folder)
    asked = [(k, None if ids is None else np.array(ids, dtype=np.int64)) for k, ids in requests]
    for index in (built, KeywordIndex.load(folder)):
        together = index.search_many(query, asked, common_share=share)
        alone = [index.search(query, k, allowed_ids=allowed, common_share=share) for k, allowed in asked]
        assert [(ids.tolist(), scores.tobytes()) for ids, scores in together] == \
            [(ids.tolist(), scores.tobytes()) for ids, scores in alone]
