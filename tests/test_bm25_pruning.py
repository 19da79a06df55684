"""MaxScore top-k BM25 (policykb.bm25_pruning): the same ids, scores and tie order as exhaustive scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb import keyword_index
from policykb.bm25_pruning import compute_bounds, maxscore_top_k
from policykb.keyword_index import BOUNDS_FILE, KeywordIndex

# A few weights only, so that many clauses tie (also at the k-th place) and float32 sums round alike or not.
TIED_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5, 0.1, 0.3)


@st.composite
def postings(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A random CSC score matrix: per term a sorted list of distinct clause ids and positive float32 weights."""
    n_docs = draw(st.integers(1, 80))
    n_terms = draw(st.integers(1, 7))
    tied = draw(st.booleans())
    data, indices, indptr = [], [], [0]
    for _ in range(n_terms):
        docs = sorted(draw(st.sets(st.integers(0, n_docs - 1), max_size=n_docs)))
        if tied:
            weights = [draw(st.sampled_from(TIED_WEIGHTS)) for _ in docs]
        else:
            weights = [draw(st.floats(0.0625, 5.0, width=32)) for _ in docs]
        indices.extend(docs)
        data.extend(weights)
        indptr.append(len(indices))
    return (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64),
            n_docs)


@settings(max_examples=400, deadline=None)
@given(postings(), st.data())
def test_maxscore_answers_exactly_as_exhaustive_scoring(
    matrix: tuple[np.ndarray, np.ndarray, np.ndarray, int], data: st.DataObject
) -> None:
    weights, ids, indptr, n_docs = matrix
    n_terms = indptr.size - 1
    query = data.draw(st.lists(st.integers(0, n_terms - 1), min_size=1, max_size=n_terms, unique=True))
    k = data.draw(st.integers(1, 15))
    allowed = None
    if data.draw(st.booleans()):
        allowed = np.array(sorted(data.draw(st.sets(st.integers(0, n_docs - 1)))), dtype=np.int64)
    exhaustive = KeywordIndex(None, n_docs, postings=(weights, ids, indptr), vocab={})
    expected_ids, expected_scores = exhaustive._score_postings(query, k, allowed)
    bounds = compute_bounds(weights, ids, indptr)
    assert bounds is not None
    # Small windows make the threshold rise, and the essential terms change, between windows.
    window = data.draw(st.sampled_from([1, 2, 3, 7, 16, 4096]))
    got_ids, got_scores = maxscore_top_k(weights, ids, indptr, bounds, query, k, allowed, window=window)
    assert got_ids.tolist() == expected_ids.tolist()
    assert got_scores.dtype == np.float32
    assert got_scores.tobytes() == expected_scores.astype(np.float32).tobytes()  # bit for bit


def test_bounds_are_each_terms_largest_weight_and_refuse_unsorted_lists() -> None:
    weights = np.array([0.5, 2.0, 1.0, 3.0], dtype=np.float32)
    indptr = np.array([0, 2, 2, 4], dtype=np.int64)
    bounds = compute_bounds(weights, np.array([1, 4, 0, 2], dtype=np.int32), indptr)
    assert bounds is not None
    assert bounds.tolist() == [2.0, 0.0, 3.0]
    assert compute_bounds(weights, np.array([4, 1, 0, 2], dtype=np.int32), indptr) is None


# Real clauses (see test_keyword_index.py); repeated ones tie exactly.
TEXTS = [
    "积极推进“县管校聘”“校长职级制”等人事制度改革,对集团内教师实施整体管理。",
    "严格落实“区管校聘”,按岗聘用、竞争择优、强化考核,加强校级教师交流力度,优化师资结构。",
    "每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%。",
    "其中学区、集团内各学科联合教研每学期不少于5次。",
    "每学年召开1-2次作业改革现场交流会。",
    "目前,海淀区共建立36个教育集团,涉及140余个校址。",
    "同学段校际差异率低于0.15,相对薄弱学校进步明显。",
]
QUERIES = ("县管校聘", "教师交流轮岗", "学期", "集团内教师", "薄弱学校进步", "薄弱校的教师人数", "每学年交流会 差异率")


@pytest.fixture
def large_from_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every index counts as large (maxscore's territory) without indexing twenty thousand clauses."""
    monkeypatch.setattr(keyword_index, "NUMBA_MIN_DOCS", 1)


def _recombined(n: int, seed: int) -> list[str]:
    """Clauses made of halves of the real ones, as the 10M benchmark makes them: many exact ties."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a, b = rng.integers(0, len(TEXTS), 2)
        out.append(TEXTS[a][: len(TEXTS[a]) // 2] + TEXTS[b][len(TEXTS[b]) // 2 :])
    return out


@pytest.mark.usefixtures("large_from_one")
def test_saved_index_searches_with_maxscore_exactly_as_the_csc_scorer(tmp_path: Path) -> None:
    texts = [TEXTS[2]] * 4 + TEXTS + _recombined(300, 7)
    built = KeywordIndex.build(texts)
    assert built.backend == "maxscore"
    built.save(tmp_path / "bm25")
    assert (tmp_path / "bm25" / BOUNDS_FILE).is_file()
    pruned = KeywordIndex.load(tmp_path / "bm25")
    exhaustive = KeywordIndex.load(tmp_path / "bm25", backend="csc")
    assert (pruned.backend, exhaustive.backend) == ("maxscore", "csc")
    # Clauses 67, 164 and 268 are one recombined text, 0-3 another: a top 2 cuts ties by id, also among the allowed.
    assert pruned.search("薄弱校的教师人数", 2)[0].tolist() == exhaustive.search("薄弱校的教师人数", 2)[0].tolist() \
        == [67, 164]
    tied = pruned.search("薄弱校的教师人数", 6)
    assert tied[1][0] == tied[1][1]
    assert pruned.search("薄弱校的教师人数", 2, allowed_ids=np.array([0, 1, 3, 164, 200]))[0].tolist() == [164, 0]
    rng = np.random.default_rng(3)
    for query in QUERIES:
        for k in (1, 5, 40, 1000):
            for allowed in (None, np.sort(rng.choice(len(texts), 60, replace=False))):
                a = exhaustive.search(query, k, allowed_ids=allowed)
                b = pruned.search(query, k, allowed_ids=allowed)
                c = built.search(query, k, allowed_ids=allowed)
                assert a[0].tolist() == b[0].tolist() == c[0].tolist()
                assert a[1].tobytes() == b[1].tobytes() == c[1].tobytes()


@pytest.mark.usefixtures("large_from_one")
def test_index_saved_without_bounds_answers_exhaustively_until_they_are_written(tmp_path: Path) -> None:
    texts = _recombined(200, 11)
    folder = tmp_path / "bm25"
    KeywordIndex.build(texts).save(folder)
    reference = [KeywordIndex.load(folder, backend="csc").search(q, 10) for q in QUERIES]
    (folder / BOUNDS_FILE).unlink()  # as an index saved before MaxScore
    old = KeywordIndex.load(folder)
    assert old.backend == "numba"  # bm25s's exhaustive scorer, as before
    for query, (ids, scores) in zip(QUERIES, reference, strict=True):
        got_ids, got_scores = old.search(query, 10)
        np.testing.assert_allclose(got_scores, scores, rtol=1e-6)
        above_cut = scores > scores[-1]  # bm25s breaks a tie at the k-th place as its partition happens to
        assert got_ids[above_cut].tolist() == ids[above_cut].tolist()
    with pytest.raises(keyword_index.PolicyKBError, match=BOUNDS_FILE):
        KeywordIndex.load(folder, backend="maxscore")
    assert KeywordIndex.ensure_impact_bounds(folder) is True
    assert KeywordIndex.ensure_impact_bounds(folder) is False  # written once
    assert sorted(p.name for p in folder.iterdir() if "tmp" in p.name) == []
    new = KeywordIndex.load(folder)
    assert new.backend == "maxscore"
    for query, (ids, scores) in zip(QUERIES, reference, strict=True):
        got = new.search(query, 10)
        assert got[0].tolist() == ids.tolist()
        assert got[1].tobytes() == scores.tobytes()


@pytest.mark.usefixtures("large_from_one")
def test_bounds_of_another_index_are_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "bm25"
    KeywordIndex.build(_recombined(50, 5)).save(folder)
    np.save(folder / BOUNDS_FILE, np.ones(3, dtype=np.float32))
    index = KeywordIndex.load(folder)
    assert index.backend == "csc"
    assert "ignored" in caplog.text
    assert index.search("县管校聘", 3)[0].size == 3


@pytest.mark.usefixtures("large_from_one")
def test_search_many_on_the_maxscore_scorer_answers_as_search(tmp_path: Path) -> None:
    texts = TEXTS + _recombined(200, 11)
    KeywordIndex.build(texts).save(tmp_path / "bm25")
    pruned = KeywordIndex.load(tmp_path / "bm25")
    assert pruned.backend == "maxscore"
    rng = np.random.default_rng(5)
    asked = [(k, None if k == 40 else np.sort(rng.choice(len(texts), 30, replace=False))) for k in (1, 5, 40, 300)]
    for query in QUERIES:
        together = pruned.search_many(query, asked)
        alone = [pruned.search(query, k, allowed_ids=allowed) for k, allowed in asked]
        assert [(a.tolist(), b.tobytes()) for a, b in together] == [(a.tolist(), b.tobytes()) for a, b in alone]
