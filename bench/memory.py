"""Resident memory of the web app over upload-and-commit cycles: does the server grow with every upload?

One process: the seed corpus is ingested, the FastAPI app is created over it (the code `policykb serve` runs) and
driven through Starlette's TestClient, as a browser would: each cycle previews a new real-sized document
(POST /ingest), commits it (POST /ingest/commit) and runs a search (the first request after a publish opens the
new build). RSS is read after the first cycle (the warm-up: model, jieba, spaCy and the numba scorer are loaded
by then), and again after `checkpoints` cycles. Growth is measured from the warm-up point.

Run alone: `PYTHONPATH=src .venv/bin/python bench/memory.py --cycles 100 [--model hash]`; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
LOCAL = "http://127.0.0.1"  # the app refuses other Host names
QUERIES = ("集团化办学", "教师交流轮岗比例", "课后服务时间", "心理健康教育")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(cycles: int = 100, model: str | None = None, checkpoints: tuple[int, ...] = (10, 100),
            clauses_per_doc: int = 60, work: Path | None = None) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from synth import synthetic_documents

    from policykb.service import KnowledgeBase
    from policykb.settings import Settings
    from policykb.web import create_app

    work = work or Path(tempfile.mkdtemp(prefix="policykb-memory-"))
    settings = Settings.load(index_dir=str(work / "index"), **({"model": model} if model else {}))
    kb = KnowledgeBase(settings)
    kb.ingest([ROOT / "corpus"])
    client = TestClient(create_app(kb), base_url=LOCAL)
    docs = synthetic_documents(cycles, clauses_per_doc=clauses_per_doc, seed=23)
    rss: dict[int, float] = {0: rss_mb()}
    seconds: list[float] = []
    for i, (name, text) in enumerate(docs, 1):
        started = time.perf_counter()
        preview = client.post("/ingest", files={"file": (name, text.encode("utf-8"), "text/plain")})
        assert preview.status_code == 200, preview.text[:300]
        token = preview.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        done = client.post("/ingest/commit", data={"token": token, "region": "", "date": "", "title": ""})
        assert done.status_code == 200, done.text[:300]
        found = client.get("/", params={"q": QUERIES[i % len(QUERIES)]})
        assert found.status_code == 200, found.text[:300]
        seconds.append(time.perf_counter() - started)
        if i == 1 or i in checkpoints:
            rss[i] = rss_mb()
            print(f"memory: cycle {i}: RSS {rss[i]:.0f} MB", file=sys.stderr, flush=True)
    documents = len(kb.documents())
    kb.close()
    warm = rss[1]
    last = max(rss)
    after_warm = min((c for c in rss if c >= min(checkpoints)), default=last)
    return {
        "cycles": cycles, "documents": documents, "model": settings.model, "rss_mb": rss,
        "rss_start_mb": rss[0], "rss_warm_mb": warm, "rss_last_mb": rss[last],
        # growth from the first checkpoint (10 cycles: every lazily built cache has been built) to the last
        "growth_after_warmup": (rss[last] - rss[after_warm]) / rss[after_warm],
        "per_commit_mb": (rss[last] - rss[after_warm]) / max(1, last - after_warm),
        "cycle_s_median": sorted(seconds)[len(seconds) // 2],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--model", default=None, help="e.g. `hash` for the test embedder")
    ap.add_argument("--checkpoints", default="10,100")
    ap.add_argument("--clauses", type=int, default=60)
    args = ap.parse_args()
    checkpoints = tuple(int(c) for c in args.checkpoints.split(",") if c)
    row = measure(args.cycles, args.model, checkpoints, args.clauses)
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
