"""The `milvus` backend through the KnowledgeBase, on Milvus Lite (a temp .db file): the same answers as `local`
on the corpus, add/update/remove behave the same, and the collection never shows what the build does not hold."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS_DIR, CORPUS_FILES, ROOT, corpus_path
from policykb.backends import ClauseFilter
from policykb.embed import HashEmbedder
from policykb.service import KnowledgeBase
from policykb.settings import Settings

pytest.importorskip("pymilvus")
pytestmark = pytest.mark.scale

from policykb.milvus_backend import SYNC_FILE, filter_expression  # noqa: E402


def _kb(folder: Path, backend: str) -> KnowledgeBase:
    settings = Settings.load(index_dir=str(folder), backend=backend, milvus_uri="kb-milvus.db")
    return KnowledgeBase(settings, embedder_factory=lambda s: HashEmbedder())


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Any:
    local = _kb(tmp_path_factory.mktemp("local"), "local")
    milvus = _kb(tmp_path_factory.mktemp("milvus"), "milvus")
    for kb in (local, milvus):
        assert kb.ingest([CORPUS_DIR]).indexed == len(CORPUS_FILES)
    yield local, milvus
    local.close()
    milvus.close()


def _queries() -> list[str]:
    data = tomllib.loads((ROOT / "bench" / "queries.toml").read_text(encoding="utf-8"))
    entries = next(v for v in data.values() if isinstance(v, list))
    return [str(e["text"]) for e in entries]


def test_filter_expression_is_a_milvus_boolean_expression() -> None:
    assert filter_expression(ClauseFilter()) == ""
    assert filter_expression(ClauseFilter(("haidian", "shanghai"), "d-1", True)) == (
        'region_id in ["haidian", "shanghai"] and doc_id == "d-1" and has_requirement == true'
    )
    assert filter_expression(ClauseFilter(), within=["北京"]) == 'array_contains_any(regions, ["北京"])'


def _overlap(local: KnowledgeBase, milvus: KnowledgeBase) -> float:
    queries = _queries()
    assert len(queries) >= 20
    overlaps = []
    for query in queries:
        a = [h.clause.clause_id for h in local.search(query, k=10)]
        b = [h.clause.clause_id for h in milvus.search(query, k=10)]
        overlaps.append(len(set(a) & set(b)) / max(len(a), 1))
    return sum(overlaps) / len(overlaps)


def test_milvus_top10_overlaps_local_with_the_hash_embedder(pair: Any) -> None:
    # The hash embedder's cosines are near-random, so BM25 decides more here than with a real model, and
    # Milvus's jieba terms differ from the local jieba words + bigrams: measured 0.88.
    assert _overlap(*pair) >= 0.85


@pytest.mark.model
def test_milvus_top10_overlaps_local_with_the_real_model(tmp_path: Path) -> None:
    from conftest import MODEL_DIR

    if not (MODEL_DIR / "config.json").exists():
        pytest.skip("the default model is not installed")
    kbs = []
    for backend in ("local", "milvus"):
        settings = Settings.load(index_dir=str(tmp_path / backend), backend=backend, models_dir=str(ROOT / "models"))
        kb = KnowledgeBase(settings)
        kb.ingest([CORPUS_DIR])
        kbs.append(kb)
    try:
        assert _overlap(*kbs) >= 0.9
    finally:
        for kb in kbs:
            kb.close()


@pytest.mark.parametrize(("region", "within"), [("haidian", {"haidian"}), ("shanghai", {"shanghai", "hongkou"})])
def test_milvus_region_filter_returns_that_region_and_its_districts(pair: Any, region: str, within: set[str]) -> None:
    local, milvus = pair
    hits = milvus.search("教师交流轮岗", k=10, region_ids=[region])
    assert hits and {h.clause.region_id for h in hits} <= within  # a city includes its districts (上海 → 虹口)
    # Milvus scores BM25 with its own engine (its IDF and length normalisation, not bm25s's), so the fused order may
    # swap clauses near the bottom whose scores differ by that: the best five agree in order, nine of ten as a set.
    milvus_ids = [h.clause.clause_id for h in hits]
    local_ids = [h.clause.clause_id for h in local.search("教师交流轮岗", k=10, region_ids=[region])]
    assert milvus_ids[:5] == local_ids[:5]
    assert len(set(milvus_ids) & set(local_ids)) >= 9


def test_milvus_collection_holds_every_searchable_clause_with_region_parents(pair: Any) -> None:
    local, milvus = pair
    index = milvus.engine().backend.index
    assert index.count() == local.store.indexed_count() == milvus.store.indexed_count()
    rows = index.client.query(index.collection, filter='region_id == "haidian"', output_fields=["regions"], limit=3)
    assert rows and all(list(r["regions"])[0] == "haidian" and len(r["regions"]) >= 2 for r in rows)


def test_milvus_compare_matches_local(pair: Any) -> None:
    local, milvus = pair
    for query in ("课后服务时间", "教师交流轮岗比例", "体育活动时间"):
        a, b = local.compare(query), milvus.compare(query)
        as_ids = [(r.region_id, r.found, [m.clause.clause_id for m in r.matches][:1]) for r in a.regions]
        bs_ids = [(r.region_id, r.found, [m.clause.clause_id for m in r.matches][:1]) for r in b.regions]
        assert as_ids == bs_ids


def _state(kb: KnowledgeBase) -> dict[str, Any]:
    import json

    return dict(json.loads((kb.index_root / SYNC_FILE).read_text(encoding="utf-8")))


def test_add_update_remove_work_the_same_on_both_backends(tmp_path: Path) -> None:
    kbs = {b: _kb(tmp_path / b, b) for b in ("local", "milvus")}
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus_path("haidian"), src / "haidian.txt")
    shutil.copy(corpus_path("linping"), src / "linping.txt")
    try:
        reports = {b: kb.ingest([src]) for b, kb in kbs.items()}
        assert [f.outcome for f in reports["local"].files] == [f.outcome for f in reports["milvus"].files]
        changed = src / "haidian.txt"
        changed.write_text(changed.read_text(encoding="utf-8") + "\n十、附则\n本方案自发布之日起施行，试行两年。\n",
                           encoding="utf-8")
        updates = {b: kb.ingest([changed]) for b, kb in kbs.items()}
        assert [f.outcome for f in updates["milvus"].files] == ["updated"] == [
            f.outcome for f in updates["local"].files]
        hits = {b: [h.clause.clause_id for h in kb.search("试行两年", k=3)] for b, kb in kbs.items()}
        assert hits["milvus"] == hits["local"] and hits["local"]
        doc_id = updates["local"].files[0].doc_id
        for kb in kbs.values():
            kb.remove([doc_id])
        for b, kb in kbs.items():
            assert {h.clause.doc_id for h in kb.search("教师交流", k=20)} == {
                h.clause.doc_id for h in kbs["local"].search("教师交流", k=20)}, b
        milvus = kbs["milvus"]
        index = milvus.engine().backend.index
        live = [c for c in milvus.store.clauses(roles=("body",))]
        assert index.count() == len(live) < milvus.store.indexed_count()  # the segment still holds the removed rows
        assert doc_id not in _state(milvus)["docs"]
        assert not index.client.query(index.collection, filter=f'doc_id == "{doc_id}"', output_fields=["doc_id"])
    finally:
        for kb in kbs.values():
            kb.close()


def test_rows_of_an_unpublished_document_are_never_hits(tmp_path: Path) -> None:
    """A writer killed after writing rows to Milvus but before publishing: the rows are invisible."""
    from policykb.backends import ClauseRow

    kb = _kb(tmp_path / "kb", "milvus")
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus_path("zhenjiang"), src / "zhenjiang.txt")
    try:
        kb.ingest([src])
        backend = kb.engine().backend
        vec = HashEmbedder().encode_passages(["幽灵条款：每校配备独角兽饲养员"])[0]
        backend.index.upsert([ClauseRow("ghost-1", "ghost", "zhenjiang", ("zhenjiang",), "", "policy", True,
                                        "幽灵条款：每校配备独角兽饲养员", vec)])
        assert backend.index.count() == kb.store.indexed_count() + 1
        assert "ghost-1" not in [h.clause.clause_id for h in kb.search("独角兽饲养员", k=5)]
    finally:
        kb.close()


class _Killed(BaseException):
    """Stands for a SIGKILL between two Milvus writes (a BaseException: nothing on the way may catch it)."""


def _collection_ids(index: Any) -> dict[str, str]:
    rows = index.client.query(index.collection, filter='clause_id != ""', output_fields=["clause_id", "doc_id"],
                              limit=16384)
    return {str(r["clause_id"]): str(r["doc_id"]) for r in rows}


def _build_ids(kb: KnowledgeBase) -> dict[str, str]:
    from policykb.store import SEARCHABLE_ROLES

    return {c.clause_id: c.doc_id for c in kb.store.clauses(roles=SEARCHABLE_ROLES)}


def test_a_sync_cut_short_is_redone_and_leaves_no_rows_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed between two upserts, then a document it was writing is removed: the collection ends up holding
    exactly the build's clauses (a sync that only trusted its last complete record would keep the orphans)."""
    from policykb import milvus_backend

    kb = _kb(tmp_path / "kb", "milvus")
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus_path("zhenjiang"), src / "zhenjiang.txt")
    try:
        kb.ingest([src])
        index = kb.engine().backend.index
        before = _collection_ids(index)
        assert before == _build_ids(kb)
        generation = _state(kb)["generation"]
        shutil.copy(corpus_path("haidian"), src / "haidian.txt")
        shutil.copy(corpus_path("linping"), src / "linping.txt")
        real_upsert, calls = milvus_backend.MilvusIndex.upsert, []

        def upsert_then_die(self: Any, rows: Any) -> None:
            if calls:
                raise _Killed
            calls.append(len(rows))
            real_upsert(self, rows)

        index.batch = 40
        monkeypatch.setattr(milvus_backend.MilvusIndex, "upsert", upsert_then_die)
        lines: list[str] = []
        with pytest.raises(_Killed):
            kb.ingest([src / "haidian.txt", src / "linping.txt"], report=lines.append)
        assert lines == ["Milvus：已写入 40 条条款（0/2 个文件已完成）"]
        state = _state(kb)
        assert state["generation"] == generation  # not recorded as done: every opener resyncs first
        assert len(state["pending"]) == 2
        half = _collection_ids(index)
        assert len(half) == len(before) + 40 and set(before) <= set(half)  # the committed document untouched
        monkeypatch.setattr(milvus_backend.MilvusIndex, "upsert", real_upsert)
        linping = next(d for d in state["pending"] if d.startswith("linping"))
        kb.remove([linping])
        assert _collection_ids(index) == _build_ids(kb)
        assert {d for d in _build_ids(kb).values()} == {d for d in state["pending"] if d != linping} | set(
            before.values())
        assert _state(kb)["pending"] == []
    finally:
        kb.close()
