"""Compare's CPU per request and its exact answers, for before/after checks of compare speed-ups (issue 16 item 4).

Usage: python bench/compare_snapshot.py INDEX_DIR OUT.json [--check EARLIER.json] [--prefixes N]
Serves INDEX_DIR in-process (the web app through Starlette's test client, as /api/compare answers a browser),
asks /api/compare for every benchmark query with the first N of load_test's distinct prefixes (default 2: 92
measures), then the first 20 again (the compare memo), then /api/search for each query; prints the CPU time
per request (process time: the client's share included, so compare it only with runs of this script) and
writes every /api/compare body to OUT.json. --check EARLIER.json: exit 1 unless every body is byte-identical to
that earlier run's (made before a change, on the same index and CPU: cosines differ between CPUs).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from load_test import DISTINCT_PREFIXES, _queries  # noqa: E402


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"mean {statistics.fmean(ordered):.1f} p50 {ordered[len(ordered) // 2]:.1f} "
            f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms")


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    prefixes = int(argv[argv.index("--prefixes") + 1]) if "--prefixes" in argv else 2
    earlier = argv[argv.index("--check") + 1] if "--check" in argv else None
    args = [a for a in args if a not in (earlier, str(prefixes))]
    from fastapi.testclient import TestClient

    from policykb.service import KnowledgeBase
    from policykb.settings import Settings
    from policykb.web import create_app

    kb = KnowledgeBase(Settings.load(index_dir=args[0]))
    kb.warm_up()
    kb.measures()
    client = TestClient(create_app(kb), base_url="http://127.0.0.1")
    queries = _queries()
    texts = [p + q for p in DISTINCT_PREFIXES[:prefixes] for q in queries]
    client.get("/api/compare", params={"q": "预热比例"})
    bodies: dict[str, str] = {}
    first: list[float] = []
    for q in texts:
        start = time.process_time()
        response = client.get("/api/compare", params={"q": q})
        first.append((time.process_time() - start) * 1000.0)
        if response.status_code != 200:
            print(f"/api/compare?q={q}: HTTP {response.status_code}", file=sys.stderr)
            return 1
        bodies[q] = response.text
    again: list[float] = []
    for q in texts[:20]:
        start = time.process_time()
        client.get("/api/compare", params={"q": q})
        again.append((time.process_time() - start) * 1000.0)
    searches: list[float] = []
    for q in queries:
        start = time.process_time()
        client.get("/api/search", params={"q": "有关" + q, "k": 10})
        searches.append((time.process_time() - start) * 1000.0)
    print(f"compare, first time ({len(first)}): {_summary(first)}")
    print(f"compare, asked again ({len(again)}): {_summary(again)}")
    print(f"search ({len(searches)}): {_summary(searches)}")
    Path(args[1]).write_text(json.dumps(bodies, ensure_ascii=False), encoding="utf-8")
    kb.close()
    if earlier is not None:
        before = json.loads(Path(earlier).read_text(encoding="utf-8"))
        changed = [q for q in texts if before.get(q) != bodies[q]]
        if changed or set(before) != set(bodies):
            print(f"{len(changed)} of {len(texts)} answers differ from {earlier}: first {changed[:3]}")
            return 1
        print(f"all {len(texts)} answers byte-identical to {earlier}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
