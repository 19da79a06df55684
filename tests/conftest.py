"""Shared fixtures: the raw corpus. Import the helpers with `from conftest import raw_text, CORPUS_FILES`."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

# One query's embedding on one thread in every test (and the CLI processes they start): with `query_threads` 0 the
# thread count follows how idle the machine is, and goldens should not depend on that. The two-thread path has its
# own equivalence test (tests/test_single_text.py).
os.environ.setdefault("POLICYKB_QUERY_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "corpus"
# The five raw scrapes, by the region_id each is about.
CORPUS_FILES = {
    "hongkou": "000_378b8ca429274a32.txt",
    "shanghai": "001_867a7dc465003806.txt",
    "zhenjiang": "002_f9aa5eef70a0c370.txt",
    "haidian": "003_2aa76531205a0dc0.txt",
    "linping": "004_ce93898c2184bccb.txt",
}


def corpus_path(name: str) -> Path:
    """A raw corpus file by region id (`hongkou`), number prefix (`000`) or file name."""
    if name in CORPUS_FILES:
        return CORPUS_DIR / CORPUS_FILES[name]
    matches = [f for f in CORPUS_FILES.values() if f == name or f.startswith(name + "_")]
    if len(matches) != 1:
        raise KeyError(f"no single corpus file named {name!r}")
    return CORPUS_DIR / matches[0]


@cache
def raw_text(name: str) -> str:
    """The raw text of a corpus file exactly as scraped (UTF-8, \\n newlines)."""
    return corpus_path(name).read_text(encoding="utf-8")


@pytest.fixture
def corpus_dir() -> Path:
    """The folder of raw corpus files (read only: never write into it)."""
    return CORPUS_DIR


# ----- indexed knowledge bases over the corpus (built once per test session) ---------------------------------
MODEL_DIR = ROOT / "models" / "multilingual-e5-small"


@pytest.fixture(scope="session")
def hash_kb(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The corpus indexed with the hashing embedder: real clauses and requirements, fast, no model."""
    from policykb.embed import HashEmbedder
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    folder = tmp_path_factory.mktemp("hash-index")
    kb = KnowledgeBase(Settings.load(index_dir=str(folder)), embedder_factory=lambda s: HashEmbedder())
    report = kb.ingest([CORPUS_DIR])
    assert report.indexed == len(CORPUS_FILES)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def real_kb(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The corpus indexed with the real e5 model (tests using it carry @pytest.mark.model)."""
    if not (MODEL_DIR / "config.json").exists() and not any(MODEL_DIR.glob("*.json")):
        pytest.skip(f"the default model is not installed in {MODEL_DIR}: run `make install`")
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    folder = tmp_path_factory.mktemp("real-index")
    kb = KnowledgeBase(Settings.load(index_dir=str(folder), models_dir=str(ROOT / "models")))
    report = kb.ingest([CORPUS_DIR])
    assert report.indexed == len(CORPUS_FILES)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def real_milvus_kb(real_kb):  # type: ignore[no-untyped-def]
    """real_kb's index folder read through the `milvus` backend (Milvus Lite in that folder): the same build and
    store, rankings from Milvus. Opening syncs the collection from the build's embedding cache: nothing is
    embedded again."""
    pytest.importorskip("pymilvus")
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    settings = Settings.load(index_dir=str(real_kb.index_root), models_dir=str(ROOT / "models"), backend="milvus",
                             milvus_uri="kb-milvus.db")
    kb = KnowledgeBase(settings, embedder_factory=lambda s: real_kb.embedder())
    yield kb
    kb.close()


# The golden tests on the real model run on both backends; the Milvus one needs the scale extra.
BACKENDS = ["local", pytest.param("milvus", marks=pytest.mark.scale)]


@pytest.fixture(scope="session", params=BACKENDS)
def real_kb_on(request):  # type: ignore[no-untyped-def]
    """real_kb on each backend in turn (tests using it carry @pytest.mark.model)."""
    return request.getfixturevalue("real_kb" if request.param == "local" else "real_milvus_kb")
