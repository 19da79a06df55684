"""Dense index: exact below the threshold, IVF-SQ8 above it, filters, persistence, similarity look-ups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policykb.vector_index import VectorIndex, effective_nlist


def unit_rows(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return unit_rows(2000)


@pytest.fixture(scope="module")
def ivf(vectors: np.ndarray) -> VectorIndex:
    return VectorIndex.build(vectors, ann_threshold=1000, nlist=4096, nprobe=16)


@pytest.mark.parametrize(
    ("n", "nlist", "expected"),
    [
        (2000, 4096, 51),  # capped at n/39
        (1_000_000, 4096, 4096),  # the setting once there is enough data
        (10, 4096, 1),  # never below one list
    ],
)
def test_effective_nlist_caps_lists_by_training_points(n: int, nlist: int, expected: int) -> None:
    assert effective_nlist(n, nlist) == expected


def test_vector_index_is_exact_up_to_the_threshold(vectors: np.ndarray) -> None:
    flat = VectorIndex.build(vectors[:1000], ann_threshold=1000)
    assert (flat.kind, flat.nlist, flat.nprobe) == ("flat", None, None)
    ids, scores = flat.search(vectors[:3], 4)
    expected = np.argsort(-(vectors[:3] @ vectors[:1000].T), axis=1)[:, :4]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores[:, 0], 1.0, rtol=1e-5)


def test_vector_index_turns_approximate_above_the_threshold(ivf: VectorIndex, vectors: np.ndarray) -> None:
    assert (ivf.kind, ivf.nlist, ivf.nprobe, len(ivf), ivf.dimension) == ("ivf-sq8", 51, 16, 2000, 32)
    ids, scores = ivf.search(vectors[:50], 1)
    # every vector finds itself, at a cosine SQ8 rounding keeps near 1
    assert ids[:, 0].tolist() == list(range(50))
    assert np.all(scores[:, 0] > 0.99)


def test_vector_index_ivf_recall_against_exact(ivf: VectorIndex, vectors: np.ndarray) -> None:
    queries = unit_rows(40, seed=1)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found, _ = ivf.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found.tolist(), exact.tolist(), strict=True)])
    # random 32-d vectors are the hard case for IVF (no clusters); 16 of 51 lists still find most neighbours
    assert recall >= 0.6


@pytest.mark.parametrize("kind_threshold", [5000, 1000])  # flat, then IVF
@pytest.mark.parametrize("subset_max", [0, 10_000])  # faiss's id selector, then exact scoring of the subset
def test_vector_index_returns_only_allowed_ids(
    vectors: np.ndarray, kind_threshold: int, subset_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("policykb.vector_index.EXACT_SUBSET_MAX", subset_max)
    index = VectorIndex.build(vectors, ann_threshold=kind_threshold, nprobe=51)
    allowed = np.arange(1, 2000, 7)
    ids, scores = index.search(vectors[:5], 10, allowed_ids=allowed)
    assert set(ids.ravel().tolist()) <= set(allowed.tolist())
    exact = np.sort(vectors[:5] @ vectors[allowed].T, axis=1)[:, ::-1][:, :10]
    found = np.take_along_axis(vectors[:5] @ vectors.T, ids, axis=1)
    # all lists probed: the true neighbours, up to SQ8 rounding among near-ties
    np.testing.assert_allclose(found, exact, atol=0.01)
    # should not match: an empty allow-list gives nothing
    ids, _ = index.search(vectors[:1], 10, allowed_ids=np.array([], dtype=np.int64))
    assert ids.shape == (1, 0)


def test_vector_index_pads_with_minus_one_when_fewer_are_allowed(vectors: np.ndarray) -> None:
    flat = VectorIndex.build(vectors[:100])
    ids, _ = flat.search(vectors[:1], 3, allowed_ids=np.array([7, 9]))
    assert sorted(ids[0, :2].tolist()) == [7, 9] and ids[0, 2] == -1


@pytest.mark.parametrize("mmap", [False, True])
def test_vector_index_round_trips_through_disk(
    ivf: VectorIndex, vectors: np.ndarray, tmp_path: Path, mmap: bool
) -> None:
    ivf.save(tmp_path / "dense.faiss")
    loaded = VectorIndex.load(tmp_path / "dense.faiss", mmap=mmap)
    assert (loaded.kind, loaded.nprobe, len(loaded)) == ("ivf-sq8", 16, 2000)
    for a, b in zip(loaded.search(vectors[:5], 5), ivf.search(vectors[:5], 5), strict=True):
        np.testing.assert_array_equal(a, b)
    # the nprobe setting wins over the stored one
    assert VectorIndex.load(tmp_path / "dense.faiss", nprobe=51, mmap=mmap).nprobe == 51


def test_vector_index_similarity_matches_search_scores(ivf: VectorIndex, vectors: np.ndarray) -> None:
    ids, scores = ivf.search(vectors[:1], 5)
    np.testing.assert_allclose(ivf.similarity(vectors[0], ids[0]), scores[0], rtol=1e-5, atol=1e-6)
    flat = VectorIndex.build(vectors[:10])
    np.testing.assert_allclose(
        flat.similarity(vectors[0], np.array([3, 0])), [float(vectors[0] @ vectors[3]), 1.0], rtol=1e-5
    )


def test_vector_index_of_nothing_answers_nothing(tmp_path: Path) -> None:
    empty = VectorIndex.build(np.zeros((0, 8), dtype=np.float32))
    empty.save(tmp_path / "dense.faiss")
    loaded = VectorIndex.load(tmp_path / "dense.faiss")
    assert (loaded.kind, len(loaded), loaded.dimension) == ("flat", 0, 8)
    assert loaded.search(np.ones((1, 8), dtype=np.float32), 5)[0].shape == (1, 0)


def test_vector_index_finds_every_member_of_a_small_filter_even_in_unprobed_lists(
    vectors: np.ndarray,
) -> None:
    # one probed list out of 51: a plain IVF search would only see the allowed ids that happen to sit in it
    ivf = VectorIndex.build(vectors, ann_threshold=1000, nprobe=1)
    allowed = np.arange(0, 2000, 100)  # 20 ids spread over the lists
    ids, scores = ivf.search(vectors[:3], 25, allowed_ids=allowed)
    assert [sorted(row[:20].tolist()) for row in ids] == [allowed.tolist()] * 3
    assert ids[:, 20:].tolist() == [[-1] * 5] * 3
    assert ids[0, 0] == 0 and scores[0, 0] > 0.99
