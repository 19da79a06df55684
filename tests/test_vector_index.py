"""Dense index: exact below the threshold, IVF-SQ8 above it, filters, persistence, similarity look-ups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policykb.vector_index import VectorIndex, effective_nlist, refine_path


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


# -- the refine step: IVF candidates re-scored on the float32 vectors saved beside the index ---------------------


def exact_top(rows: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    """The best k of ids by inner product with their rows (ties to the lower id), as refine must rank them."""
    scores = rows[ids].astype(np.float32) @ query
    order = np.lexsort((ids, -scores))[:k]
    return ids[order].tolist(), scores[order]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), k=st.integers(1, 30), factor=st.integers(1, 8))
def test_refine_returns_the_exact_top_k_among_the_ivf_candidates(
    ivf: VectorIndex, seed: int, k: int, factor: int
) -> None:
    query = unit_rows(1, seed=seed)[0]
    assert ivf.refine_vectors is not None and ivf.refine_vectors.dtype == np.float32
    old = ivf.refine_factor
    ivf.refine_factor = 0
    candidates, _ = ivf.search(query[None], k * factor)  # what the IVF alone ranks first
    ivf.refine_factor = factor
    try:
        ids, scores = ivf.search(query[None], k)
    finally:
        ivf.refine_factor = old
    expected_ids, expected_scores = exact_top(ivf.refine_vectors, candidates[0], query, k)
    assert ids[0].tolist() == expected_ids
    np.testing.assert_allclose(scores[0], expected_scores, rtol=1e-6, atol=1e-7)
    # similarity agrees with the refined scores, so a BM25-only candidate's cosine is on the same scale
    np.testing.assert_allclose(ivf.similarity(query, ids[0]), scores[0], rtol=1e-6, atol=1e-7)


def test_refine_with_every_list_probed_is_exact_search_on_the_stored_vectors(vectors: np.ndarray) -> None:
    index = VectorIndex.build(vectors, ann_threshold=1000, nprobe=4096, refine_factor=40)  # 51 lists, all probed
    query = unit_rows(3, seed=5)
    ids, _ = index.search(query, 50)  # depth 50 x 40 = every row
    stored = vectors
    for row in range(3):
        assert ids[row].tolist() == exact_top(stored, np.arange(2000), query[row], 50)[0]
    # without the refine step the SQ8 codes reorder the same candidates
    index.refine_factor = 0
    unrefined, _ = index.search(query, 50)
    assert unrefined[:, :10].tolist() != ids[:, :10].tolist()


def test_refine_serves_filtered_searches_large_and_small(ivf: VectorIndex, vectors: np.ndarray) -> None:
    query = unit_rows(1, seed=9)[0]
    small = np.arange(0, 2000, 7)  # under EXACT_SUBSET_MAX: scored on the refine vectors directly
    ids, scores = ivf.search(query[None], 10, allowed_ids=small)
    assert ids[0].tolist() == exact_top(ivf.refine_vectors, small, query, 10)[0]  # type: ignore[arg-type]
    large = np.arange(0, 2000, 2)
    # a float16 refine file (half the disk, where its rounding is fine) is used as well
    with_subset_max = VectorIndex(ivf._index, refine=vectors.astype(np.float16), refine_factor=4)
    import policykb.vector_index as vector_index

    old, vector_index.EXACT_SUBSET_MAX = vector_index.EXACT_SUBSET_MAX, 10
    try:
        ids, _ = with_subset_max.search(query[None], 10, allowed_ids=large)
    finally:
        vector_index.EXACT_SUBSET_MAX = old
    assert set(ids[0].tolist()) <= set(large.tolist()) and len(set(ids[0].tolist())) == 10
    scores = vectors[ids[0]].astype(np.float16).astype(np.float32) @ query
    assert list(scores) == sorted(scores, reverse=True)  # ranked by the refine (here float16) vectors


def test_save_writes_the_refine_file_beside_an_ivf_index_only(
    ivf: VectorIndex, vectors: np.ndarray, tmp_path: Path
) -> None:
    ivf.save(tmp_path / "dense.faiss")
    stored = np.load(refine_path(tmp_path / "dense.faiss"))
    assert refine_path(tmp_path / "dense.faiss").name == "dense.refine.npy"
    assert (stored.dtype, stored.shape) == (np.float32, (2000, 32))
    np.testing.assert_array_equal(stored, vectors)
    VectorIndex.build(vectors[:100]).save(tmp_path / "flat.faiss")
    assert not refine_path(tmp_path / "flat.faiss").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.faiss", "dense.refine.npy", "flat.faiss"]


def test_loaded_refine_vectors_are_memory_mapped(ivf: VectorIndex, tmp_path: Path) -> None:
    ivf.save(tmp_path / "dense.faiss")
    loaded = VectorIndex.load(tmp_path / "dense.faiss", refine_factor=3)
    assert loaded.refined and loaded.refine_factor == 3
    assert isinstance(loaded.refine_vectors, np.memmap)
    query = unit_rows(2, seed=1)
    for a, b in zip(loaded.search(query, 7), ivf.search(query, 7), strict=False):
        assert a.shape == b.shape
    assert not VectorIndex.load(tmp_path / "dense.faiss", refine_factor=0).refined


@pytest.mark.parametrize("damage", ["missing", "truncated", "wrong shape"])
def test_an_index_without_a_usable_refine_file_answers_unrefined_and_says_so_once(
    ivf: VectorIndex, tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import policykb.vector_index as vector_index

    monkeypatch.setattr(vector_index, "_missing_refine_logged", False)
    ivf.save(tmp_path / "dense.faiss")
    refine_file = refine_path(tmp_path / "dense.faiss")
    if damage == "missing":
        refine_file.unlink()
    elif damage == "truncated":
        refine_file.write_bytes(refine_file.read_bytes()[:5000])
    else:
        np.save(refine_file, np.zeros((10, 32), dtype=np.float16))
    query = unit_rows(2, seed=3)
    old, ivf.refine_factor = ivf.refine_factor, 0
    try:
        expected = ivf.search(query, 10)
    finally:
        ivf.refine_factor = old
    with caplog.at_level("WARNING", logger="policykb.vector_index"):
        first = VectorIndex.load(tmp_path / "dense.faiss")
        VectorIndex.load(tmp_path / "dense.faiss")
    assert not first.refined
    for a, b in zip(first.search(query, 10), expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert len([r for r in caplog.records if "dense.refine.npy" in r.getMessage()]) == 1


def test_a_failed_save_leaves_no_half_written_file(
    ivf: VectorIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    def crash(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(faiss, "write_index", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        ivf.save(tmp_path / "dense.faiss")
    # the refine file went first and is complete; no index file, no temporary names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.refine.npy"]
    assert np.load(tmp_path / "dense.refine.npy").shape == (2000, 32)
