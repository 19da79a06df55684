"""Embedding while reading (the `ingest_overlap` setting) builds the very index the sequential ingest builds."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policykb.embed import HashEmbedder
from policykb.indexer import DB_FILE, DENSE_FILE, SEGMENTS_DIR, read_current_manifest
from policykb.service import KnowledgeBase
from policykb.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from synth import synthetic_documents, write_documents  # noqa: E402


class RecordingEmbedder(HashEmbedder):
    """The hashing embedder, remembering every batch of passages it was asked for (and from which thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        return super().encode_passages(texts, progress)


def _ingest(folder: Path, inputs: list[Path], overlap: bool) -> tuple[KnowledgeBase, RecordingEmbedder, Any]:
    embedder = RecordingEmbedder()
    kb = KnowledgeBase(Settings.load(index_dir=str(folder), ingest_overlap=overlap),
                       embedder_factory=lambda s: embedder)
    report = kb.ingest(inputs)
    return kb, embedder, report


def _segment_files(root: Path) -> dict[str, bytes]:
    manifest = read_current_manifest(root)
    assert manifest is not None
    out: dict[str, bytes] = {}
    for i, seg in enumerate(manifest.segments):
        folder = root / SEGMENTS_DIR / seg["name"]
        out[f"{i}/{DENSE_FILE}"] = (folder / DENSE_FILE).read_bytes()
        for path in sorted((folder / "bm25").iterdir()):
            out[f"{i}/bm25/{path.name}"] = path.read_bytes()
        conn = sqlite3.connect(folder / DB_FILE)
        out[f"{i}/{DB_FILE}"] = "\n".join(conn.iterdump()).encode("utf-8")
        conn.close()
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    # 300+ clauses of new text, so the embedding runs over more than one CACHE_COMMIT_EVERY chunk.
    folder = tmp_path_factory.mktemp("synthetic")
    return [ROOT / "corpus", *write_documents(folder, synthetic_documents(6, clauses_per_doc=40, seed=5))]


def test_overlapped_ingest_gives_the_same_index_and_the_same_batches(tmp_path: Path, inputs: list[Path]) -> None:
    seq_kb, seq_embedder, seq_report = _ingest(tmp_path / "sequential", inputs, overlap=False)
    ovl_kb, ovl_embedder, ovl_report = _ingest(tmp_path / "overlapped", inputs, overlap=True)
    assert [f.outcome for f in ovl_report.files] == [f.outcome for f in seq_report.files] == ["added"] * 11
    # The same texts in the same batches: with a real model, the same vectors to the last bit.
    assert ovl_embedder.calls == seq_embedder.calls
    assert len(seq_embedder.calls) >= 2
    assert _segment_files(tmp_path / "overlapped") == _segment_files(tmp_path / "sequential")
    seq_hits = [(h.clause.clause_id, round(h.score, 9)) for h in seq_kb.search("教师交流轮岗比例", k=10)]
    ovl_hits = [(h.clause.clause_id, round(h.score, 9)) for h in ovl_kb.search("教师交流轮岗比例", k=10)]
    assert ovl_hits == seq_hits and len(seq_hits) == 10
    seq_kb.close()
    ovl_kb.close()


def test_overlap_embeds_nothing_for_unchanged_files_and_nothing_twice(tmp_path: Path, inputs: list[Path]) -> None:
    kb, embedder, _ = _ingest(tmp_path / "index", inputs[:1], overlap=True)
    first = [t for call in embedder.calls for t in call]
    assert len(first) == len(set(first)) > 0
    embedder.calls.clear()
    again = kb.ingest(inputs[:1])
    assert {f.outcome for f in again.files} == {"unchanged"}
    assert embedder.calls == []
    kb.close()


def test_upload_commit_reuses_the_prefetched_document(tmp_path: Path, inputs: list[Path]) -> None:
    kb, embedder, _ = _ingest(tmp_path / "index", inputs[:1], overlap=True)
    name, text = synthetic_documents(1, clauses_per_doc=30, seed=99)[0]
    embedder.calls.clear()
    report = kb.add_upload(name, text.encode("utf-8"))
    [outcome] = report.files
    assert outcome.outcome == "added" and outcome.clauses >= 30
    # one batch of the new document's searchable clauses, embedded before the commit's own pass found them cached
    assert len(embedder.calls) == 1 and len(embedder.calls[0]) >= 30
    assert kb.search("教师交流轮岗", k=3, doc_id=outcome.doc_id)
    kb.close()
