"""Index builds: folder layout, manifest, atomic swap, crash safety (exception and SIGKILL), cache, refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from policykb.embed import HashEmbedder
from policykb.errors import IndexError_
from policykb.indexer import (
    BUILD_PREFIX,
    CACHE_FILE,
    KEEP_BUILDS,
    TMP_PREFIX,
    build_index,
    corpus_hash,
    current_build,
    embedding_text,
    open_index,
)
from policykb.search import SearchEngine
from policykb.settings import Settings
from test_store import sample_corpus


class CountingEmbedder(HashEmbedder):
    """HashEmbedder that records how many passages it was asked to embed, and can fail on demand."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.embedded = 0
        self.fail = fail

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if self.fail:
            raise RuntimeError("embedding crashed")
        self.embedded += len(texts)
        return super().encode_passages(texts, progress)


def settings_for(root: Path, **overrides: object) -> Settings:
    return Settings.load(model="hash", index_dir=str(root), **overrides)


def answer(root: Path, query: str = "县管校聘") -> list[str]:
    """Open the current index the way the service does and return the clause ids of a search."""
    settings = settings_for(root)
    store, keyword_index, vector_index, manifest = open_index(root, settings, HashEmbedder())
    engine = SearchEngine(store, keyword_index, vector_index, HashEmbedder(), settings, manifest)
    try:
        return [h.clause.clause_id for h in engine.search(query, k=2)]
    finally:
        engine.close()


def builds(root: Path) -> list[str]:
    """Complete and unfinished builds and segments (unfinished ones start with .tmp-)."""
    return sorted(p.name for sub in ("builds", "segments") if (root / sub).is_dir() for p in (root / sub).iterdir()
                  if p.name.startswith((BUILD_PREFIX, TMP_PREFIX)))


def complete_builds(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "builds").iterdir() if p.name.startswith(BUILD_PREFIX))


def unfinished(root: Path) -> list[str]:
    return [name for name in builds(root) if name.startswith(TMP_PREFIX)]


EXPECTED_ANSWER = ["zhenjiang-2019/三.(二)#1", "linping-2023/三.(一)#1"]


def test_build_writes_a_complete_folder_behind_a_relative_symlink(tmp_path: Path) -> None:
    manifest = build_index(sample_corpus(), tmp_path, HashEmbedder(), settings_for(tmp_path))
    link = tmp_path / "current"
    assert (
        link.is_symlink() and os.readlink(link) == f"builds/{manifest.build}"
        and manifest.build.startswith(BUILD_PREFIX)
    )
    assert sorted(p.name for p in (tmp_path / "builds" / manifest.build).iterdir()) == ["manifest.json"]
    [segment] = manifest.segments
    assert sorted(p.name for p in (tmp_path / "segments" / segment["name"]).iterdir()) == [
        "bm25",
        "dense.faiss",
        "kb.sqlite",
        "segment.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".lock", "builds", "current", "library", "segments", CACHE_FILE]
    )
    assert answer(tmp_path) == EXPECTED_ANSWER


def test_build_manifest_records_model_corpus_and_versions(tmp_path: Path) -> None:
    processed = sample_corpus()
    manifest = build_index(processed, tmp_path, HashEmbedder(), settings_for(tmp_path))
    on_disk = json.loads((tmp_path / "current" / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest.to_dict()
    assert {
        k: on_disk[k]
        for k in (
            "format_version",
            "policykb_version",
            "model",
            "model_key",
            "model_setting",
            "embed_backend",
            "dimension",
            "documents",
            "clauses",
            "indexed_clauses",
            "requirements",
            "dense_index",
            "embed_text",
            "tokenizer",
        )
    } == {
        "format_version": 2,
        "policykb_version": "0.1.0",
        "model": "hash-64",
        "model_key": "hash-64@hash",
        "model_setting": "hash",
        "embed_backend": "hash",
        "dimension": 64,
        "documents": 5,
        "clauses": 15,
        "indexed_clauses": 10,
        "requirements": 10,
        "dense_index": "flat",
        "embed_text": "clause",
        "tokenizer": "cut+bigrams",
    }
    assert on_disk["corpus_hash"] == corpus_hash(processed) and len(on_disk["corpus_hash"]) == 64
    assert {"faiss-cpu", "bm25s", "sentence-transformers"} <= set(on_disk["packages"])
    assert time.strptime(on_disk["created"], "%Y-%m-%dT%H:%M:%SZ")


def test_corpus_hash_depends_on_ids_and_texts_not_on_order() -> None:
    a = sample_corpus()
    assert corpus_hash(a) == corpus_hash(list(reversed(a)))
    b = sample_corpus()
    b[0].document.text += "。"
    assert corpus_hash(b) != corpus_hash(a)
    c = sample_corpus()
    c[0].document.doc_id = "shanghai-2023-16"
    assert corpus_hash(c) != corpus_hash(a)


def test_build_chooses_the_approximate_index_above_the_threshold(tmp_path: Path) -> None:
    manifest = build_index(sample_corpus(), tmp_path, HashEmbedder(), settings_for(tmp_path, ann_threshold=5))
    assert manifest.dense_index == "ivf-sq8"
    _, _, vector_index, _ = open_index(tmp_path, settings_for(tmp_path))
    assert (
        vector_index.kind == "ivf-sq8" and vector_index.nlist == 1
    )  # 10 clauses: capped at n/39, at least 1


def test_rebuild_swaps_in_the_new_build_and_keeps_the_previous_ones(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    made = [build_index(sample_corpus()[i % 3 :], tmp_path, HashEmbedder(), settings) for i in range(KEEP_BUILDS + 1)]
    assert current_build(tmp_path) == tmp_path / "builds" / made[-1].build
    assert complete_builds(tmp_path) == sorted(m.build for m in made[1:])  # the oldest is gone
    # each build replaced the whole index: the segments left are those of the kept builds, nothing else
    assert sorted(p.name for p in (tmp_path / "segments").iterdir()) == sorted(
        m.segments[0]["name"] for m in made[1:]
    )
    assert [m.generation for m in made] == list(range(1, KEEP_BUILDS + 2))


def test_an_open_index_keeps_answering_after_a_rebuild_swaps_it_out(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    build_index(sample_corpus(), tmp_path, HashEmbedder(), settings)
    store, keyword_index, vector_index, manifest = open_index(tmp_path, settings)
    engine = SearchEngine(store, keyword_index, vector_index, HashEmbedder(), settings, manifest)
    before = [h.clause.clause_id for h in engine.search("县管校聘", k=2)]
    for subset in (sample_corpus()[3:], sample_corpus()[4:]):  # the first build is deleted by the second swap
        build_index(subset, tmp_path, HashEmbedder(), settings)
    assert [h.clause.clause_id for h in engine.search("县管校聘", k=2)] == before == EXPECTED_ANSWER
    engine.close()


def test_rebuild_of_unchanged_text_embeds_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = CountingEmbedder()
    build_index(sample_corpus(), tmp_path, first, settings)
    assert first.embedded == 10
    again = CountingEmbedder()
    build_index(sample_corpus(), tmp_path, again, settings)
    assert again.embedded == 0
    changed = sample_corpus()
    changed[3].clauses[0].text = "目前,海淀区共建立37个教育集团。"
    partly = CountingEmbedder()
    build_index(changed, tmp_path, partly, settings)
    assert partly.embedded == 1


def test_a_failed_build_leaves_the_old_index_in_place(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    good = build_index(sample_corpus(), tmp_path, HashEmbedder(), settings).build
    changed = sample_corpus()
    changed[0].clauses[3].text += "新增内容。"  # not in the cache, so the embedder is called
    with pytest.raises(RuntimeError, match="embedding crashed"):
        build_index(changed, tmp_path, CountingEmbedder(fail=True), settings)
    assert current_build(tmp_path) == tmp_path / "builds" / good
    assert unfinished(tmp_path) == []  # the half-written segment is gone
    assert answer(tmp_path) == EXPECTED_ANSWER


KILLED_BUILDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_store import sample_corpus
from policykb.embed import HashEmbedder
from policykb.indexer import build_index
from policykb.settings import Settings

class Stalling(HashEmbedder):
    def encode_passages(self, texts, progress=False):
        Path({ready!r}).write_text("embedding")
        time.sleep(60)

root = Path({root!r})
corpus = sample_corpus()
corpus[0].clauses[3].text += "尚未嵌入。"
build_index(corpus, root, Stalling(), Settings.load(model="hash", index_dir=str(root)))
"""


def test_an_ingest_killed_mid_build_leaves_the_old_index_usable(tmp_path: Path) -> None:
    root = tmp_path / "indexes"
    settings = settings_for(root)
    good = build_index(sample_corpus(), root, HashEmbedder(), settings).build
    ready = tmp_path / "ready"
    script = KILLED_BUILDER.format(tests=str(Path(__file__).parent), ready=str(ready), root=str(root))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "builder exited"
            assert time.monotonic() < deadline, "the builder never reached the embedding step"
            time.sleep(0.05)
        # mid-build: the new folder holds a store already, the old index is still the current one
        [left] = unfinished(root)
        assert (root / "segments" / left / "kb.sqlite").exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert current_build(root) == root / "builds" / good
    assert answer(root) == EXPECTED_ANSWER
    # the next build clears what the dead builder left behind
    newer = build_index(sample_corpus(), root, HashEmbedder(), settings).build
    assert unfinished(root) == [] and complete_builds(root) == sorted([good, newer])


def test_open_index_reports_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexError_) as err:
        open_index(tmp_path / "indexes", settings_for(tmp_path / "indexes"))
    assert str(err.value) == f"no index at {tmp_path / 'indexes'}: run `policykb ingest` (or `make index`)"


@pytest.mark.parametrize(
    ("embedder", "message"),
    [
        # another dimension of the same kind of model
        (
            HashEmbedder(32),
            "the index was built with the model hash-64 (64 dimensions) but the settings load hash-32 "
            "(32 dimensions): rebuild the index with `policykb ingest`, or set POLICYKB_MODEL back to "
            "hash",
        ),
    ],
)
def test_open_index_refuses_another_model(tmp_path: Path, embedder: HashEmbedder, message: str) -> None:
    build_index(sample_corpus(), tmp_path, HashEmbedder(), settings_for(tmp_path))
    for given in (embedder, lambda: embedder):  # an embedder, or a factory as the service passes
        with pytest.raises(IndexError_) as err:
            open_index(tmp_path, settings_for(tmp_path), given)
        assert str(err.value) == message


def test_open_index_checks_the_settings_model_when_given_no_embedder(tmp_path: Path) -> None:
    build_index(sample_corpus(), tmp_path, HashEmbedder(), settings_for(tmp_path))
    model = tmp_path / "bge-small-zh"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 512}', encoding="utf-8")
    with pytest.raises(IndexError_) as err:
        open_index(tmp_path, Settings.load(model=str(model), index_dir=str(tmp_path)))
    assert str(err.value).startswith(
        "the index was built with the model hash-64 (64 dimensions) but the settings load bge-small-zh "
        "(512 dimensions)"
    )


def test_open_index_reports_a_damaged_manifest(tmp_path: Path) -> None:
    build_index(sample_corpus(), tmp_path, HashEmbedder(), settings_for(tmp_path))
    (tmp_path / "current" / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexError_, match="unreadable index manifest .*: rebuild with `policykb ingest`"):
        open_index(tmp_path, settings_for(tmp_path))


def test_embedding_text_is_the_clause_itself() -> None:
    clause = sample_corpus()[0].clauses[3]
    assert embedding_text(clause) == clause.text


def test_an_approximate_segment_is_published_with_its_refine_file(tmp_path: Path) -> None:
    manifest = build_index(sample_corpus(), tmp_path, HashEmbedder(), settings_for(tmp_path, ann_threshold=5))
    segment = tmp_path / "segments" / manifest.segments[0]["name"]
    assert {"dense.faiss", "dense.refine.npy"} <= set(manifest.segments[0]["files"])
    assert np.load(segment / "dense.refine.npy").shape == (10, HashEmbedder().dimension)
    _, _, vector_index, _ = open_index(tmp_path, settings_for(tmp_path))
    assert vector_index.refined and vector_index.refine_factor == 2
    # the flat index is exact already: no refine file
    flat = build_index(sample_corpus(), tmp_path / "flat", HashEmbedder(), settings_for(tmp_path / "flat"))
    assert "dense.refine.npy" not in flat.segments[0]["files"]


def test_a_build_failing_between_the_refine_and_the_index_file_publishes_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    settings = settings_for(tmp_path, ann_threshold=5)
    good = build_index(sample_corpus(), tmp_path, HashEmbedder(), settings)
    before = sorted(p.name for p in (tmp_path / "segments").iterdir())

    def crash(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(faiss, "write_index", crash)  # the refine file is written, then the index fails
    changed = sample_corpus()
    changed[0].clauses[3].text += "新增内容。"
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(changed, tmp_path, HashEmbedder(), settings)
    monkeypatch.undo()
    assert current_build(tmp_path) == tmp_path / "builds" / good.build
    assert sorted(p.name for p in (tmp_path / "segments").iterdir()) == before  # no half-written segment
    assert unfinished(tmp_path) == []


def test_a_segment_without_its_refine_file_still_opens_and_answers(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, ann_threshold=5)
    manifest = build_index(sample_corpus(), tmp_path, HashEmbedder(), settings)
    refined = answer(tmp_path)
    (tmp_path / "segments" / manifest.segments[0]["name"] / "dense.refine.npy").unlink()  # as an older version
    _, _, vector_index, _ = open_index(tmp_path, settings)
    assert vector_index.kind == "ivf-sq8" and not vector_index.refined
    assert answer(tmp_path) == refined == EXPECTED_ANSWER
