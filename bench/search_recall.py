"""Search recall across regions (issue 13 item 6): recall@10 and MRR on the query sets, hybrid against BM25 alone
and dense alone.

Usage: python bench/search_recall.py WORK_DIR [SETTING=VALUE ...]
    WORK_DIR: where the two collections are indexed with the real model (built on first use, reused after):
    `seeds-<backend>` (the seed corpus) and `regions-<backend>` (the seed corpus plus the real pages of
    tests/compare_pages: seven more regions and one page naming none). The embedding backend is the setting's
    (POLICYKB_EMBED_BACKEND=torch for fp32). SETTING=VALUE pairs override settings for the run
    (rerank_weight=0, query_expansion=true …), so variants can be compared on the same indexes;
    sets=dev,dev2,heldout,test,heldout2,heldout3 picks the query files (default: all six).
Query sets: bench/queries_dev.toml (tune on it), bench/queries_heldout.toml (written before the first tuning),
bench/queries.toml (the benchmark's test set), all on the seed corpus; bench/queries_heldout2.toml (written and
committed before the second-stage scorer, never tuned on) on the larger collection; bench/queries_heldout3.toml
(written blind before the next round of second-stage changes, never tuned on) on `wide-<backend>`: the larger
collection plus the real pages of tests/pages_heldout and tests/pages (news, reports, wenku copies, traditional
script and noise pages), so most of what is indexed answers none of its queries; bench/queries_dev2.toml (tune on
it) on the same `wide` collection: questions that three regions or more answer.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from run import load_queries, retrieval_scores  # noqa: E402

from policykb.service import KnowledgeBase  # noqa: E402
from policykb.settings import Settings  # noqa: E402

# (query set, collection it is labelled on)
SETS = (("queries_dev.toml", "seeds"), ("queries_heldout.toml", "seeds"), ("queries.toml", "seeds"),
        ("queries_heldout2.toml", "regions"), ("queries_heldout3.toml", "wide"),
        ("queries_dev2.toml", "wide"))
MODES = ("hybrid", "keyword", "dense")


def collection_paths(name: str) -> list[Path]:
    paths = [ROOT / "corpus"]
    if name in ("regions", "wide"):
        paths += sorted((ROOT / "tests" / "compare_pages").glob("*.txt"))
    if name == "wide":  # real pages of many more places and kinds (news, reports, traditional script, noise)
        paths += sorted((ROOT / "tests" / "pages_heldout").glob("*.txt"))
        paths += sorted((ROOT / "tests" / "pages").glob("*.txt"))
    return paths


def open_collection(work: Path, name: str) -> KnowledgeBase:
    settings = Settings.load(models_dir=str(ROOT / "models"))
    index_dir = work / f"{name}-{settings.embed_backend}"
    kb = KnowledgeBase(Settings.load(index_dir=str(index_dir), models_dir=str(ROOT / "models")))
    if not (index_dir / "current").exists():
        print(f"indexing {name} into {index_dir} …", file=sys.stderr)
        kb.ingest(collection_paths(name))
    return kb


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    chosen = SETS
    for pair in argv[2:]:  # settings read as the environment would give them, so they are coerced alike
        key, value = pair.split("=", 1)
        if key == "sets":  # sets=dev,heldout: only those query files (tuning must not look at heldout2)
            names = {f"queries_{n}.toml" if n != "test" else "queries.toml" for n in value.split(",")}
            chosen = tuple(s for s in SETS if s[0] in names)
            continue
        os.environ[f"POLICYKB_{key.upper()}"] = value
    work = Path(argv[1])
    work.mkdir(parents=True, exist_ok=True)
    kbs: dict[str, KnowledgeBase] = {}
    for name, collection in chosen:
        kb = kbs.get(collection) or kbs.setdefault(collection, open_collection(work, collection))
        queries = load_queries(name)
        for mode in MODES:
            start = time.perf_counter()
            s = retrieval_scores(kb, queries, mode)
            ms = (time.perf_counter() - start) * 1e3 / len(queries)
            print(f"{name:22} {collection:7} {mode:8} n={len(queries):3} recall@5 {s['recall@5']:.3f}"
                  f" recall@10 {s['recall@10']:.3f} MRR {s['mrr']:.3f}  ({ms:.1f} ms/query)")
    for kb in kbs.values():
        kb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
