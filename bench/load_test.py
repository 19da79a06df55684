"""Load test: 8 concurrent clients against `policykb serve` on loopback, mixing searches, compares and page
views as people use the UI; p50/p95 per kind of request, and errors.

Usage: python bench/load_test.py [INDEX_DIR] [--distinct]   (default indexes/, which must already hold an index;
--distinct: no query text is asked twice, so no answer can come from a cache; --two-servers: two server
processes share the requests, as two uvicorn workers would)
bench/run.py calls `run_load_test(index_dir)`; `mix=("search",)` gives the searches-only test of before.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "bench" / "queries.toml"
FALLBACK_QUERIES = ["教师交流轮岗比例", "骨干教师比例", "流动期限", "联合教研次数", "满意度", "专项经费"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _queries() -> list[str]:
    """The benchmark's query texts (every style), or a few fixed ones when the file is missing."""
    if QUERIES.exists():
        rows = tomllib.loads(QUERIES.read_text(encoding="utf-8")).get("query", [])
        texts = [r["text"] for r in rows if r.get("text")]
        if texts:
            return texts
    return FALLBACK_QUERIES


def _get(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"policykb serve exited with code {proc.returncode}")
        try:
            if _get(base + "/api/regions", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"policykb serve did not answer within {timeout:.0f} s")


# `distinct` runs ask every query text once: the benchmark queries behind words a measure query ignores (各地, 关于:
# compare's stopwords), so the answers mean the same but no cache keyed on the text (compare answers, query
# vectors) can serve them.
DISTINCT_PREFIXES = ("", "各地", "关于", "全市", "有关", "地区", "全区")


def _query_texts(queries: list[str], requests: int, distinct: bool) -> list[str]:
    """The query of each request: the benchmark queries in turn (repeating after len(queries) requests), or with
    `distinct` each one once per prefix, so that no two requests of the run share a text."""
    if not distinct:
        return [queries[i % len(queries)] for i in range(requests)]
    variants = [prefix + q for prefix in DISTINCT_PREFIXES for q in queries]
    if requests > len(variants):
        raise ValueError(f"only {len(variants)} distinct queries for {requests} requests")
    return variants[:requests]


def repeats(work: list[tuple[str, str, str]], kind: str) -> int:
    """How many requests of `kind` ask a query an earlier request of that kind already asked (what a cache of
    that kind's answers can serve; earlier means earlier in the work list, the clients take it in order)."""
    seen: set[str] = set()
    count = 0
    for k, query, _ in work:
        if k == kind:
            count += query in seen
            seen.add(query)
    return count


# Out of every ten requests: five searches, three compares, two page views (a document page, the catalogue).
DEFAULT_MIX = ("search", "compare", "search", "page", "search", "compare", "search", "page", "search", "compare")


def _timed(url: str, ok_key: str | None) -> tuple[float, bool]:
    """(latency in ms, ok): HTTP 200, and for a JSON answer the key it must hold."""
    start = time.perf_counter()
    try:
        status, body = _get(url)
        ok = status == 200 and (ok_key is None or ok_key in json.loads(body))
    except (OSError, ValueError):
        ok = False
    return (time.perf_counter() - start) * 1000.0, ok


def _search(base: str, query: str) -> tuple[float, bool]:
    """One search: (latency in ms, ok). ok means HTTP 200 with a JSON body holding `hits`."""
    return _timed(f"{base}/api/search?{urllib.parse.urlencode({'q': query, 'k': 10})}", "hits")


def _request(base: str, kind: str, query: str, page: str) -> tuple[str, float, bool]:
    if kind == "search":
        return (kind, *_search(base, query))
    if kind == "compare":
        return (kind, *_timed(f"{base}/api/compare?{urllib.parse.urlencode({'q': query})}", "regions"))
    return (kind, *_timed(f"{base}{page}", None))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[index]


def _process_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds used so far, resident MB) of a process, from /proc (NaN where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        rss = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS"))
        return cpu_s, int(rss.split()[1]) / 1024.0
    except (OSError, StopIteration, IndexError, ValueError):
        return float("nan"), float("nan")


def run_load_test(index_dir: str | Path, requests: int = 200, clients: int = 8,
                  startup_timeout: float = 180.0, mix: tuple[str, ...] = DEFAULT_MIX,
                  distinct: bool = False, servers: int = 1) -> dict[str, Any]:
    """Serve `index_dir` on a free loopback port, fire `requests` requests of the mix from `clients` threads, report.

    The top-level p50/p95 are the searches'; `kinds` holds p50/p95/count per kind (search, compare, page) and
    `repeats`, how many of that kind's requests repeat an earlier one's query (0 for every kind with `distinct`).
    `servers` > 1 starts that many `policykb serve` processes and deals the requests out in turn, as uvicorn's
    worker processes would share them: what a second worker buys, and its memory (`server_rss_mb`, each).
    `server_cpu_ms_per_request` is the servers' CPU time over the run divided by the requests: unlike latencies
    it hardly depends on what else the machine is running."""
    exe = Path(sys.executable).with_name("policykb")
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        started = time.perf_counter()
        for _ in range(servers):
            port = _free_port()
            cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "policykb.cli"]
            cmd += ["--index-dir", str(index_dir), "serve", "--host", "127.0.0.1", "--port", str(port)]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            bases.append(f"http://127.0.0.1:{port}")
        for proc, base in zip(procs, bases, strict=True):
            _wait_until_up(base, proc, startup_timeout)
        startup_s = time.perf_counter() - started
        queries = _queries()
        doc_ids = [d["doc_id"] for d in json.loads(_get(bases[0] + "/api/documents")[1])] or [""]
        pages = [f"/documents/{urllib.parse.quote(d)}" for d in doc_ids] + ["/measures"]
        texts = _query_texts(queries, requests, distinct)
        work = [(mix[i % len(mix)], texts[i], pages[i % len(pages)]) for i in range(requests)]
        cpu_before = [_process_stats(p.pid)[0] for p in procs]
        wall_start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            # each server gets every kind of request in turn (plain i % servers would send all the compares of
            # the ten-request mix to one server and all the searches to the other)
            results = list(pool.map(lambda iw: _request(bases[(iw[0] + iw[0] // len(mix)) % len(bases)], *iw[1]),
                                    enumerate(work)))
        wall_s = time.perf_counter() - wall_start
        after = [_process_stats(p.pid) for p in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    server_cpu_s = sum(cpu for cpu, _ in after) - sum(cpu_before)
    kinds: dict[str, dict[str, Any]] = {}
    for kind in dict.fromkeys(mix):
        ms = [m for k, m, ok in results if k == kind and ok]
        kinds[kind] = {"count": sum(1 for k, _, _ in results if k == kind),
                       "p50_ms": round(_percentile(ms, 50), 1), "p95_ms": round(_percentile(ms, 95), 1),
                       "repeats": repeats(work, kind) if kind != "page" else 0}
    latencies = [ms for k, ms, ok in results if ok and k == "search"]
    return {
        "requests": requests,
        "clients": clients,
        "errors": sum(1 for _, _, ok in results if not ok),
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p95_ms": round(_percentile(latencies, 95), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else float("nan"),
        "max_ms": round(max(latencies), 1) if latencies else float("nan"),
        "throughput_rps": round(requests / wall_s, 1) if wall_s else float("nan"),
        "startup_s": round(startup_s, 1),
        "kinds": kinds,
        "distinct": distinct,
        "servers": servers,
        "server_cpu_ms_per_request": round(server_cpu_s * 1000.0 / requests, 1),
        "server_rss_mb": [round(rss) for _, rss in after],
    }


def format_table(result: dict[str, Any]) -> str:
    rows = [
        ("requests", f"{result['requests']} from {result['clients']} concurrent clients"),
        ("errors", str(result["errors"])),
        ("p50", f"{result['p50_ms']} ms"),
        ("p95", f"{result['p95_ms']} ms"),
        ("mean / max", f"{result['mean_ms']} / {result['max_ms']} ms"),
        ("throughput", f"{result['throughput_rps']} requests/s"),
        *((f"{kind} p50 / p95", f"{k['p50_ms']} / {k['p95_ms']} ms ({k['count']} requests"
           + (f", {k['repeats']} repeating an earlier query)" if kind != "page" else ")"))
          for kind, k in result.get("kinds", {}).items()),
        ("server start-up", f"{result['startup_s']} s (model and index warm-up)"),
        ("server CPU", f"{result['server_cpu_ms_per_request']} ms per request"),
        ("server RSS", " + ".join(f"{mb} MB" for mb in result["server_rss_mb"])
         + (f" ({result['servers']} processes)" if result["servers"] > 1 else "")),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    distinct = "--distinct" in argv
    servers = 2 if "--two-servers" in argv else 1
    index_dir = args[0] if args else "indexes"
    result = run_load_test(index_dir, distinct=distinct, servers=servers)
    print("load test: policykb serve, searches + compares + page views"
          + (" (every query asked once)" if distinct else " (the benchmark queries in turn)"))
    print(format_table(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
