"""The cost of adding one 100-clause document to a collection of N clauses, next to a full rebuild.

The collection is synthetic (real clause halves recombined, as in scale.py) and its vectors are put in the
embedding cache beforehand, so building it takes minutes, not hours of encoding. The added document is a real
file going through the whole ingest (clean, segment, extract, embed with the loaded model, one new segment,
publish). The rebuild is `build_index` over the collection plus the document, vectors from the cache (so it
measures store, BM25 and faiss; encoding everything again would add clauses / throughput on top).

Run alone: `PYTHONPATH=src .venv/bin/python bench/growth.py --sizes 1000,100000 [--model hash]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLAUSES_PER_DOC = 100


def synthetic_collection(size: int, texts: list[str], region_id: str = "benchshi") -> list[Any]:
    """ProcessedDocuments of CLAUSES_PER_DOC body clauses each, `size` clauses in all, every text unique."""
    from policykb.pipeline import ProcessedDocument
    from policykb.records import Clause, Document, Metadata

    rng = np.random.default_rng(7)
    docs = []
    for d in range(max(1, size // CLAUSES_PER_DOC)):
        doc_id = f"{region_id}-bench-{d}"
        clauses = []
        body_parts = []
        offset = 0
        for c in range(CLAUSES_PER_DOC):
            a, b = texts[int(rng.integers(len(texts)))], texts[int(rng.integers(len(texts)))]
            text = f"{a[: len(a) // 2]}{b[len(b) // 2 :]}(第{d}号第{c}条)"
            clauses.append(Clause(f"{doc_id}/{c + 1}#1", doc_id, region_id, [f"{c + 1}."], text, offset,
                                  offset + len(text), "body", c))
            body_parts.append(text)
            offset += len(text) + 1
        meta = Metadata(region_id, "基准市", f"基准文件{d}", None, None, None, "policy", "city", [])
        body = "\n".join(body_parts)
        docs.append(ProcessedDocument(Document(doc_id, f"bench/{doc_id}.txt", body, body, meta, []), clauses, []))
    return docs


def one_document_file(folder: Path, texts: list[str]) -> Path:
    """A raw policy text of about CLAUSES_PER_DOC numbered clauses under ten headings."""
    lines = ["某某区教育局关于推进集团化办学的实施意见", "", "各学校:"]
    n = 0
    for h in range(10):
        lines.append(f"{'一二三四五六七八九十'[h]}、第{h + 1}项工作")
        for i in range(CLAUSES_PER_DOC // 10):
            lines.append(f"{i + 1}.{texts[n % len(texts)]}(新增第{n}条)")
            n += 1
    lines += ["某某区教育局", "2024年3月2日"]
    path = folder / "one-new-document.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def timed_parts(embedder: Any) -> Iterator[dict[str, float]]:
    """Seconds spent in each stage of an ingest (stages overlapping on the prefetch thread are counted in full)."""
    from policykb import extract, indexer, ingesting, pipeline, segment

    parts: dict[str, float] = {}
    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - started

        patched.append((owner, attr, original))
        setattr(owner, attr, timed)

    wrap(ingesting, "read_file", "read+clean")
    wrap(segment, "segment_document", "segment")
    wrap(extract, "extract_requirements", "tag requirements")
    wrap(embedder, "encode_passages", "embed")
    wrap(indexer.Store, "write_documents", "write store")
    wrap(indexer.VectorIndex, "build", "faiss")
    wrap(indexer.KeywordIndex, "build", "bm25")
    wrap(indexer, "_fsync_tree", "fsync")
    wrap(ingesting, "publish", "publish")
    wrap(pipeline, "process_document", "process again in commit")
    try:
        yield parts
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


def measure(sizes: list[int], model: str | None = None, report: Any = None,
            overlap: bool | None = None) -> list[dict[str, Any]]:
    """One row per size; `report` (if given) is called with each row as soon as it is measured."""
    from policykb import pipeline
    from policykb.embed import EmbeddingCache, load_embedder
    from policykb.indexer import CACHE_FILE, build_index, embedder_key, embedding_text
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    corpus_texts = [c.text for f in sorted((ROOT / "corpus").glob("*.txt"))
                    for c in pipeline.process_file(f).clauses if c.role == "body"]
    settings = Settings.load(**({"model": model} if model else {}))
    embedder = load_embedder(settings)
    embedder.encode_passages(["预热"])  # the model is loaded before timing, as in a running server
    rows = []
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"policykb-growth-{size}-"))
        root = work / "index"
        root.mkdir()
        collection = synthetic_collection(size, corpus_texts)
        # Vectors for the collection go straight into the cache: random unit vectors (only cost matters here).
        texts = [embedding_text(c) for p in collection for c in p.clauses]
        rng = np.random.default_rng(1)
        vectors = rng.standard_normal((len(texts), int(embedder.dimension))).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with EmbeddingCache(root / CACHE_FILE, embedder_key(embedder)) as cache:
            for start in range(0, len(texts), 5000):
                cache.put_many(texts[start : start + 5000], vectors[start : start + 5000],
                               str(getattr(embedder, "passage_prompt", "")))
        started = time.perf_counter()
        build_index(collection, root, embedder, settings)
        base_s = time.perf_counter() - started
        path = one_document_file(work, corpus_texts)
        print(f"growth: {size} clauses built in {base_s:.0f} s; adding one document", file=sys.stderr, flush=True)
        kb = KnowledgeBase(Settings.load(index_dir=str(root), **({"model": model} if model else {}),
                                         **({"ingest_overlap": overlap} if overlap is not None else {})),
                           embedder_factory=lambda s: embedder)
        with timed_parts(embedder) as parts:
            started = time.perf_counter()
            ingest_report = kb.ingest([path])  # the service path: clean, segment, tag, embed, segment, publish
            add_s = time.perf_counter() - started
        [outcome] = ingest_report.files
        assert outcome.outcome == "added", outcome
        processed = kb.store.processed_documents()
        started = time.perf_counter()
        build_index(processed, root, embedder, settings)  # same cache: nothing is embedded again
        rebuild_s = time.perf_counter() - started
        kb.close()
        rows.append({"size": sum(len(p.clauses) for p in collection), "added_clauses": outcome.clauses,
                     "add_s": add_s, "parts_s": {k: round(v, 3) for k, v in parts.items()},
                     "rebuild_s": rebuild_s, "base_build_s": base_s, "model": str(embedder.name)})
        if report is not None:
            report(rows[-1])
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000")
    ap.add_argument("--model", default=None, help="e.g. `hash` for the test embedder")
    ap.add_argument("--overlap", choices=("on", "off"), default=None, help="the ingest_overlap setting")
    args = ap.parse_args()
    overlap = None if args.overlap is None else args.overlap == "on"
    measure([int(s) for s in args.sizes.split(",") if s], args.model, overlap=overlap,
            report=lambda row: print(json.dumps(row, ensure_ascii=False), flush=True))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
