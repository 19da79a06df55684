"""`make bench`: retrieval quality, ingest and PDF/OCR throughput, embedding paths, latency and memory at scale,
load test.

Everything is measured side by side in one run (the machine is shared and noisy) and printed as one table.
Options: --sizes 1000,100000,1000000,10000000 (the default; the 10M collection is built once, ~15 minutes and ~27 GB
in the bench cache, and skipped with a row saying why when the disk lacks the room; POLICYKB_BENCH_10M=0 leaves it
out)  --skip-scale  --skip-load  --quick (sizes 1000,100000 only)  --perf-only (no retrieval, OCR or embedding rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


@dataclass
class Row:
    section: str
    measure: str
    value: str
    baseline: str = ""
    target: str = ""
    ok: str = ""


def load_queries(name: str = "queries.toml") -> list[dict[str, Any]]:
    return tomllib.loads((ROOT / "bench" / name).read_text(encoding="utf-8"))["query"]


def relevant(hit: Any, expect: list[list[str]]) -> int | None:
    """Index of the expectation this hit satisfies, or None."""
    from policykb.query import fold

    text = fold(hit.clause.text)
    for i, (region_id, needle) in enumerate(expect):
        if hit.clause.region_id == region_id and fold(needle) in text:
            return i
    return None


def retrieval_scores(kb: Any, queries: list[dict[str, Any]], mode: str) -> dict[str, float]:
    """recall@5, recall@10 (share of expected clauses found) and MRR (first relevant hit) over the query set."""
    r5, r10, rr = [], [], []
    for q in queries:
        hits = kb.search(q["text"], k=10, mode=mode)
        found10: set[int] = set()
        found5: set[int] = set()
        first = 0.0
        for rank, hit in enumerate(hits, 1):
            idx = relevant(hit, q["expect"])
            if idx is None:
                continue
            found10.add(idx)
            if rank <= 5:
                found5.add(idx)
            if not first:
                first = 1.0 / rank
        n = len(q["expect"])
        r5.append(len(found5) / n)
        r10.append(len(found10) / n)
        rr.append(first)
    return {"recall@5": float(np.mean(r5)), "recall@10": float(np.mean(r10)), "mrr": float(np.mean(rr))}


def traditional_twins(kb: Any, queries: list[dict[str, Any]]) -> float:
    """Share of traditional-script queries whose top-10 equals that of their simplified fold."""
    from policykb.query import fold

    same = []
    for q in (q for q in queries if q["style"] == "traditional"):
        a = [h.clause.clause_id for h in kb.search(q["text"], k=10)]
        b = [h.clause.clause_id for h in kb.search(fold(q["text"]), k=10)]
        same.append(a == b)
    return float(np.mean(same)) if same else float("nan")


def scale_rows(r: dict[str, Any], backend: str) -> list[Row]:
    """The rows of one scale point: service-path latency and memory (with its target), its parts, dense recall."""
    size = r["size"]
    if size >= 10_000_000:
        target, ok = "p95 <= 30 ms, RSS <= 8192 MB", r["p95_ms"] <= 30 and r["rss_mb"] <= 8192
    elif size >= 1_000_000:
        target, ok = "p95 <= 10 ms, RSS <= 2048 MB", r["p95_ms"] <= 10 and r["rss_mb"] <= 2048
    else:
        target, ok = "p95 <= 10 ms", r["p95_ms"] <= 10
    built = (f"built {r['built_at']} in {r['build_s']:.0f} s (bm25 {r['build_bm25_s']:.0f}, faiss "
             f"{r['build_faiss_s']:.0f}, store {r['build_store_s']:.0f}; load {r['build_load_average']:.1f})"
             + (", reused from the cache" if r["reused"] else ""))
    index = r["index"] if r["index"] == "flat" else (
        f"{r['index']} nlist {r['nlist']} nprobe {r['nprobe']}"
        + (f" refine x{r['refine_factor']}" if r.get("refine_factor") else ""))
    rows = [Row(
        "scale", f"{size:,} clauses KnowledgeBase.search p50 / p95 [{index}, bm25 {r['bm25_backend']}, {backend}]",
        f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms, RSS {r['rss_mb']:.0f} MB",
        f"{built}; queried at load {r['load_average']:.1f}; CPU time per query p50 / p95 "
        f"{r['cpu_p50_ms']:.1f} / {r['cpu_p95_ms']:.1f} ms", target, "yes" if ok else "no",
    ), Row(
        "scale", f"{size:,} clauses parts p50: embed / bm25 / faiss / fusion / fetch",
        f"{r['embed_p50_ms']:.1f} / {r['bm25_p50_ms']:.2f} / {r['faiss_p50_ms']:.2f} / "
        f"{max(0.0, r['rank_p50_ms'] - r['embed_p50_ms'] - r['bm25_p50_ms'] - r['faiss_p50_ms']):.2f} / "
        f"{r['fetch_p50_ms']:.2f} ms",
        f"CPU p50 {' / '.join(f'{k} {v:.2f}' for k, v in r['cpu_parts_p50_ms'].items())} ms; "
        f"rank alone p50 {r['rank_p50_ms']:.1f} / p95 {r['rank_p95_ms']:.1f} ms; without the embedding p50 "
        f"{r['p50_ms'] - r['embed_p50_ms']:.1f} ms; bm25 p95 {r['bm25_p95_ms']:.2f}, faiss p95 "
        f"{r['faiss_p95_ms']:.2f} ms"
        + (f" (faiss includes the refine: without it p50 / p95 {r['faiss_unrefined_p50_ms']:.2f} / "
           f"{r['faiss_unrefined_p95_ms']:.2f} ms)" if r.get("refine_factor") else ""),
    )]
    if r["index"] != "flat":
        # Judged on the tie-aware figure: the synthetic rows repeat each (head, tail) text many times, and rows of
        # identical text tie to ~1e-7 in exact search, so which of them is 10th is rounding noise; SQ8's own
        # reordering moves fused scores by ~1e-3 and still counts as a miss (bench/scale.py, TIE_TOLERANCE).
        recall, strict = r.get("tie_aware_recall@10", r["recall@10"]), r["recall@10"]
        refine = (f"; without the refine {r['unrefined_tie_aware_recall@10']:.3f} (strict "
                  f"{r['unrefined_recall@10']:.3f}, dense alone {r['unrefined_dense_recall@10']:.3f})"
                  if r.get("refine_factor") else "")
        rows.append(Row("scale", f"{size:,} clauses top-10 recall vs exact dense search [nprobe {r['nprobe']}"
                        + (f", refine x{r['refine_factor']}" if r.get("refine_factor") else "") + "]",
                        f"{recall:.3f} (strict {strict:.3f})",
                        f"exact float inner product on all rows, {r['recall_queries']} queries; ties of identical "
                        f"text count as hits; dense ranking alone {r['dense_recall@10']:.3f}; against every IVF "
                        f"list probed {r['all_lists_recall@10']:.3f}{refine}",
                        ">= 0.99", "yes" if recall >= 0.99 else "no"))
    return rows


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000,1000000,10000000")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--perf-only", action="store_true",
                    help="only the scale, load, cold-CLI, memory and throughput rows (no retrieval, OCR or embedding rows)")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-growth", action="store_true")
    ap.add_argument("--skip-scaleout", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--memory-cycles", type=int, default=100)
    ap.add_argument("--throughput-docs", type=int, default=200)
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results.md",
                    help="where the markdown table is written")
    ap.add_argument("--readme", type=Path, default=None,
                    help="README whose table (between the bench-table markers) is replaced by this run's; a full "
                         "run (no --quick, --perf-only or --skip-*) updates README.md unless --no-readme")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()
    sizes = [1000, 100000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    if os.environ.get("POLICYKB_BENCH_10M") == "1" and 10_000_000 not in sizes:
        sizes.append(10_000_000)
    elif os.environ.get("POLICYKB_BENCH_10M") == "0" and 10_000_000 in sizes:
        sizes.remove(10_000_000)
    started = time.monotonic()
    section_start = [started]

    def section_done(name: str) -> None:
        """Progress on stderr: a whole run takes about an hour, most of it in the scale, memory and throughput rows."""
        now = time.monotonic()
        print(f"bench: {name} done in {now - section_start[0]:.0f} s ({(now - started) / 60:.1f} min so far)",
              file=sys.stderr, flush=True)
        section_start[0] = now

    from policykb import pipeline
    from policykb.embed import load_embedder
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    rows: list[Row] = []
    queries = load_queries()
    dev_queries = load_queries("queries_dev.toml")
    heldout2_queries = load_queries("queries_heldout2.toml")
    work = Path(tempfile.mkdtemp(prefix="policykb-bench-"))
    corpus_files = sorted((ROOT / "corpus").glob("*.txt"))
    print(f"bench: {len(queries)} queries, {len(corpus_files)} documents, work folder {work}", file=sys.stderr)

    speeds: dict[str, float] = {}
    if args.perf_only:
        # the performance rows only (issue 16): one int8 index of the seed corpus for the load test and the cold CLI
        speeds["onnx-int8"] = 0.0
        for name in ("index-torch", "index-onnx-int8"):
            perf_kb = KnowledgeBase(Settings.load(index_dir=str(work / name), embed_backend="onnx-int8"))
            perf_kb.ingest([ROOT / "corpus"])
            perf_kb.close()
    else:
        # --- ingest throughput: clean + segment + extract --------------------------------------------------------
        total_bytes = sum(f.stat().st_size for f in corpus_files)
        pipeline.process_file(corpus_files[0])  # load jieba/spaCy/opencc once, outside the timing
        rounds = 3
        start = time.perf_counter()
        for _ in range(rounds):
            processed = [pipeline.process_file(f) for f in corpus_files]
        elapsed = time.perf_counter() - start
        mbps = total_bytes * rounds / elapsed / 1e6
        rows.append(Row("ingest", "clean+segment+extract", f"{mbps:.3f} MB/s", f"{total_bytes / 1e3:.0f} kB corpus", "", ""))

        # --- printed input: PDF text layer pages/s, OCR pages/s and character error (bench/printed.py) -------------
        from printed import printed_rows

        rows.extend(Row(*row) for row in printed_rows(work))

        # --- embedding: our pipeline path vs the model's raw encode, torch fp32 vs onnx int8 ----------------------
        # The two backends encode the same batches in turn (alternating which goes first), so a burst of load from
        # elsewhere on this shared machine hits both alike; three rounds.
        clause_texts = [c.text for d in processed for c in d.clauses if c.role == "body"]
        embedders: dict[str, Any] = {}
        for backend in ("torch", "onnx-int8"):
            try:
                embedder = load_embedder(Settings.load(embed_backend=backend))
                embedder.encode_passages(clause_texts[:8])  # load (and export ONNX once)
                embedders[backend] = embedder
            except Exception as exc:  # report, do not hide, a missing path
                rows.append(Row("embedding", f"{backend} path", f"unavailable: {exc}"))
        batch_size = Settings.load().embed_batch_size
        # Sorted by length first, as both paths do over a whole ingest, so neither pays for padding the other avoids.
        by_length = sorted(clause_texts, key=len)
        batches = [by_length[i : i + batch_size] for i in range(0, len(by_length), batch_size)]
        seconds = dict.fromkeys(embedders, 0.0)
        rounds = 3
        for r in range(rounds):
            for i, batch in enumerate(batches):
                order = list(embedders) if (r + i) % 2 == 0 else list(reversed(embedders))
                for backend in order:
                    start = time.perf_counter()
                    embedders[backend].encode_passages(batch)
                    seconds[backend] += time.perf_counter() - start
        speeds = {b: rounds * len(clause_texts) / t for b, t in seconds.items()}
        if "torch" in speeds:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(Settings.load().model_path), device="cpu")
            model.encode(clause_texts[:8], prompt="passage: ")
            start = time.perf_counter()
            model.encode(clause_texts, prompt="passage: ", batch_size=batch_size)
            raw_speed = len(clause_texts) / (time.perf_counter() - start)
            del model
            rows.append(Row("embedding", f"torch passages ({len(clause_texts)} clauses)", f"{speeds['torch']:.1f} clauses/s",
                            f"model's raw encode {raw_speed:.1f}/s, ratio {speeds['torch'] / raw_speed:.2f}"))
        if "onnx-int8" in speeds:
            rows.append(Row("embedding", f"onnx-int8 passages ({len(clause_texts)} clauses)",
                            f"{speeds['onnx-int8']:.1f} clauses/s", "interleaved with torch, same batches"))
        if len(speeds) == 2:
            ratio = speeds["onnx-int8"] / speeds["torch"]
            rows.append(Row("embedding", "onnx-int8 / torch speed", f"{ratio:.2f}x", "", ">= 2x", "yes" if ratio >= 2 else "no"))

        # --- retrieval quality: policykb vs BM25-only vs dense-only, per backend -----------------------------------
        quality: dict[str, dict[str, float]] = {}
        for backend in ("torch", "onnx-int8"):
            if backend not in speeds:
                continue
            settings = Settings.load(index_dir=str(work / f"index-{backend}"), embed_backend=backend)
            kb = KnowledgeBase(settings)
            kb.ingest([ROOT / "corpus"])
            # queries.toml is the untouched test set; queries_dev.toml is the one fusion settings were tuned on;
            # queries_heldout2.toml (never tuned on) is labelled on the seed corpus plus tests/compare_pages.
            regions_kb = KnowledgeBase(Settings.load(index_dir=str(work / f"index-regions-{backend}"),
                                                     embed_backend=backend))
            regions_kb.ingest([ROOT / "corpus", *sorted((ROOT / "tests" / "compare_pages").glob("*.txt"))])
            for set_name, query_set, set_kb in (("test", queries, kb), ("dev", dev_queries, kb),
                                                ("held-out 2, 12 regions", heldout2_queries, regions_kb)):
                for mode in ("hybrid", "keyword", "dense") if backend == "torch" or set_kb is regions_kb else ("hybrid",):
                    s = retrieval_scores(set_kb, query_set, mode)
                    if set_name == "test":
                        quality[f"{backend}/{mode}"] = s
                    name = {"hybrid": "policykb (hybrid)", "keyword": "BM25 only", "dense": "dense only"}[mode]
                    # issue 13: every answering region's clause in the top 10 (recall@10 >= 0.95, MRR >= 0.90)
                    least_mrr = 0.90 if set_kb is regions_kb else 0.85
                    target = f">= 0.95 / >= {least_mrr:.2f}" if mode == "hybrid" else ""
                    ok = ("yes" if s["recall@10"] >= 0.95 and s["mrr"] >= least_mrr else "no") if mode == "hybrid" else ""
                    rows.append(Row(
                        "retrieval", f"{name} [{backend}, {set_name}] recall@5 / recall@10 / MRR",
                        f"{s['recall@5']:.3f} / {s['recall@10']:.3f} / {s['mrr']:.3f}",
                        f"{len(query_set)} queries", target, ok,
                    ))
            regions_kb.close()
            if backend == "torch":
                twins = traditional_twins(kb, queries)
                rows.append(Row("retrieval", "traditional query top-10 == simplified twin", f"{twins:.2f}", "", "1.00",
                                "yes" if twins == 1.0 else "no"))
            kb.close()
        if "torch/hybrid" in quality and "onnx-int8/hybrid" in quality:
            drop = quality["torch/hybrid"]["recall@10"] - quality["onnx-int8/hybrid"]["recall@10"]
            rows.append(Row("embedding", "onnx-int8 recall@10 change vs fp32", f"{-drop:+.3f}", "", "within 0.02",
                            "yes" if drop <= 0.02 else "no"))

    section_done("ingest, printed, embedding and retrieval rows" if not args.perf_only else "seed indexes")

    # --- latency and memory at scale, each size in its own process, through KnowledgeBase.search ----------------
    if not args.skip_scale:
        from cpu import cpu_label

        backend = "onnx-int8" if "onnx-int8" in speeds else "torch"
        for size in sizes:
            print(f"bench: scale {size} …", file=sys.stderr)
            room = disk_room_row(size)
            if room is not None:
                rows.append(room)
                continue
            command = [sys.executable, str(ROOT / "bench" / "scale.py"), "--size", str(size), "--backend", backend]
            if size >= 5_000_000:  # exact search and every-list probing cost seconds per query there
                command += ["--recall-queries", "20"]
            # The synthetic collection and its real clause pool are cached (bench/synthbuild.py): a size built once
            # is only loaded and queried by later runs. A build runs niced (the machine is shared), the timed
            # queries not.
            subprocess.run([*command, "--build-only"], capture_output=True, text=True,
                           env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}, preexec_fn=lambda: os.nice(10))
            proc = subprocess.run(
                command,
                capture_output=True, text=True, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
            )
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                rows.append(Row("scale", f"{size:,} clauses", "failed: " + last, cpu_label()))
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.extend(scale_rows(r, backend))
            section_done(f"scale {size:,}")
        if 10_000_000 not in sizes:
            rows.append(Row("scale", "10,000,000 clauses", "not run (left out by --sizes or POLICYKB_BENCH_10M=0)",
                            cpu_label(), "p95 <= 30 ms, RSS <= 8192 MB", "no"))

    # --- growth: adding one 100-clause document to a collection, next to a full rebuild ----------------------
    if not args.skip_growth:
        try:
            from growth import measure

            for r in measure([s for s in (1000, 100000) if s <= max(sizes)]):
                target = "< 3 s" if r["size"] >= 100000 else ""
                rows.append(Row(
                    "growth", f"add one {r['added_clauses']}-clause document to {r['size']:,} clauses",
                    f"{r['add_s']:.2f} s", f"full rebuild {r['rebuild_s']:.1f} s (vectors cached); {r['model']}",
                    target, ("yes" if r["add_s"] < 3 else "no") if target else "",
                ))
                rows.append(Row("growth", f"  its stages at {r['size']:,} clauses (embedding overlaps tagging)",
                                ", ".join(f"{k} {v:.2f}" for k, v in r["parts_s"].items()) + " s"))
        except Exception as exc:
            rows.append(Row("growth", "add one document", f"failed: {exc}"))

    section_done("growth")
    # --- load test: 200 searches from 8 clients against `policykb serve` ----------------------------------------
    # --- scale-out: Ray ingest against the single-process one; Milvus Lite against the local backend ----------
    if not args.skip_scaleout:
        try:
            from cpu import cpu_label
            from scaleout import ingest_rows, milvus_rows

            by_engine = {r["engine"]: r for r in ingest_rows(copies=4)}
            for engine in ("local", "ray"):
                r = by_engine[engine]
                rows.append(Row("scale-out", f"ingest --engine {engine}: {r['files']} files, {r['clauses']} clauses",
                                f"{r['clauses_per_s']:.1f} clauses/s", cpu_label(), "", ""))
            ratio = by_engine["ray"]["clauses_per_s"] / max(by_engine["local"]["clauses_per_s"], 1e-9)
            rows.append(Row("scale-out", "Ray / single-process ingest (local Ray on this machine)", f"{ratio:.2f}x",
                            "Ray start-up and one model per actor on 2 cores", "near 1 on 2 cores",
                            "yes" if ratio >= 0.5 else "no"))
            # 1k and 10k: Milvus Lite searches by brute force in Python (about 31 s a query at 100k here), so the
            # 100k row (`bench/scaleout.py --sizes 100000`) would add most of an hour to `make bench`.
            for r in milvus_rows([1000, 10000]):
                overlap = r.get("top10_overlap_with_local")
                rows.append(Row("scale-out", f"{r['size']:,} clauses, {r['backend']} backend: p50 / p95 (hash embedder)",
                                f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms",
                                "" if overlap is None else f"top-10 overlap with local {overlap:.3f}",
                                "overlap >= 0.9" if overlap is not None else "",
                                "" if overlap is None else ("yes" if overlap >= 0.9 else "no")))
                rows.append(Row("scale-out", f"{r['size']:,} clauses, {r['backend']} backend: build / first open",
                                f"{r['build_s']:.1f} / {r['open_s']:.1f} s",
                                "first open fills the Milvus collection" if r["backend"] == "milvus" else ""))
        except Exception as exc:  # the scale extra missing, or Ray failing to start: say so, keep the table
            rows.append(Row("scale-out", "Ray ingest and Milvus Lite", f"failed: {exc}"))

    section_done("scale-out")
    if not args.skip_load:
        try:
            from load_test import run_load_test

            # The server a user starts (`make serve`) embeds queries with the default backend: load that one's index.
            served = "onnx-int8" if (work / "index-onnx-int8").is_dir() else "torch"
            for distinct in (False, True):
                r = run_load_test(work / f"index-{served}", distinct=distinct)
                kinds = r["kinds"]
                how = "every query asked once" if distinct else "benchmark queries in turn"
                rows.append(Row("serve", f"{r['requests']} requests (search, compare, pages), 8 clients, {how}: "
                                "errors", str(r["errors"]),
                                f"{served} queries; {r['throughput_rps']:.1f} requests/s, server CPU "
                                f"{r['server_cpu_ms_per_request']:.1f} ms per request, load {os.getloadavg()[0]:.1f}",
                                "0 errors", "yes" if r["errors"] == 0 else "no"))
                rows.append(Row("serve", f"mixed load ({how}): search p50 / p95",
                                f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} ms",
                                f"{kinds['search']['count']} searches, {kinds['search']['repeats']} repeated", "", ""))
                compare = kinds["compare"]
                rows.append(Row("serve", f"mixed load ({how}): compare p50 / p95",
                                f"{compare['p50_ms']:.0f} / {compare['p95_ms']:.0f} ms",
                                f"{compare['count']} compares, {compare['repeats']} repeated (answered from the "
                                "compare cache)", "p95 <= 150 ms", "yes" if compare["p95_ms"] <= 150 else "no"))
                rows.append(Row("serve", f"mixed load ({how}): page views p50 / p95",
                                f"{kinds['page']['p50_ms']:.0f} / {kinds['page']['p95_ms']:.0f} ms",
                                "document pages and the catalogue", "", ""))
        except Exception as exc:
            rows.append(Row("serve", "load test", f"failed: {exc}"))
        # --- cold CLI: search and compare in a fresh process, no server to hand over to -------------------------
        try:
            from cold_cli import measure as cold_measure
            from cpu import cpu_label

            for command, c in cold_measure(work / "index-onnx-int8").items():
                rows.append(Row("cli", f"cold `policykb {command}` (no server), median of {c['runs']}",
                                f"{c['wall_s']:.2f} s wall, {c['cpu_s']:.2f} s CPU", cpu_label(), "<= 1 s",
                                "yes" if c["wall_s"] <= 1.0 and not c["failures"] else "no"))
        except Exception as exc:
            rows.append(Row("cli", "cold CLI", f"failed: {exc}"))

    section_done("load test and cold CLI")
    # --- memory: 100 upload-and-commit cycles through the web app ------------------------------------------
    if not args.skip_memory:
        try:
            from memory import measure as measure_memory

            rows.extend(memory_rows(measure_memory(args.memory_cycles, checkpoints=(10, args.memory_cycles))))
        except Exception as exc:
            rows.append(Row("memory", "upload-and-commit cycles", f"failed: {exc}"))

    section_done("memory")
    # --- ingest throughput end to end against the raw embedding rate ---------------------------------------
    if not args.skip_throughput:
        try:
            from throughput import measure as measure_throughput

            rows.extend(throughput_rows(measure_throughput(args.throughput_docs)))
        except Exception as exc:
            rows.append(Row("ingest", "end-to-end throughput", f"failed: {exc}"))

    section_done("throughput")
    print_table(rows)
    minutes = (time.monotonic() - started) / 60
    write_results(args.results, rows, sys.argv[1:], minutes=minutes)
    full_run = not (args.quick or args.perf_only or any(v for k, v in vars(args).items() if k.startswith("skip_")))
    readme = args.readme or (ROOT / "README.md" if full_run else None)
    if readme is not None and not args.no_readme:
        write_readme_table(readme, rows, sys.argv[1:], minutes)
    return 0


README_START, README_END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def write_readme_table(readme: Path, rows: list[Row], argv: list[str], minutes: float) -> None:
    """Replace the README's benchmark table (between the markers) with this run's: the README never quotes figures
    a run did not produce."""
    from cpu import cpu_label

    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        print(f"bench: {readme} has no {README_START} … {README_END} block; README left as it is", file=sys.stderr)
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = [README_START, "",
             f"Generated by `make bench` (`bench/run.py {' '.join(argv)}`) on {when}, {minutes:.0f} minutes, on "
             f"{cpu_label()}, {os.cpu_count()} cores; load average over its last 15 minutes "
             f"{os.getloadavg()[2]:.1f}.", "", *table_lines(rows), "", README_END]
    readme.write_text(head + "\n".join(block) + tail, encoding="utf-8")


# Bytes per synthetic clause in the bench cache (BM25 postings, IVF-SQ8 codes, float32 refine vectors, SQLite rows),
# measured on the 10M build, with room to spare for the build's temporary files.
CACHE_BYTES_PER_CLAUSE = 2800


def disk_room_row(size: int) -> Row | None:
    """None when the size's synthetic collection is cached or fits on the disk; else the row that says why not."""
    if size < 5_000_000:
        return None
    import shutil

    from cpu import cpu_label
    from synthbuild import cache_root

    root = cache_root()
    if any(p.is_dir() and ".tmp-" not in p.name for p in root.glob(f"{size}-*")):
        return None  # built before (a stale key only costs the rebuild the room check below would allow)
    root.mkdir(parents=True, exist_ok=True)
    free, need = shutil.disk_usage(root).free, size * CACHE_BYTES_PER_CLAUSE
    if free >= need:
        return None
    return Row("scale", f"{size:,} clauses", f"not run: building it needs about {need / 2**30:.0f} GB free in "
               f"{root}, {free / 2**30:.0f} GB are", cpu_label(), "p95 <= 30 ms, RSS <= 8192 MB", "no")


def memory_rows(r: dict[str, Any]) -> list[Row]:
    """RSS of the web app at the start, after the first checkpoint and after the last upload-and-commit cycle
    (bench/memory.py's result)."""
    growth = r["growth_after_warmup"]
    first, last = sorted(c for c in r["rss_mb"] if c > 1)[0], max(r["rss_mb"])
    return [Row("memory", f"web app RSS: start / after {first} / after {last} upload-and-commit cycles",
                f"{r['rss_mb'][0]:.0f} / {r['rss_mb'][first]:.0f} / {r['rss_mb'][last]:.0f} MB",
                f"{growth * 100:+.1f}% after warm-up ({r['per_commit_mb']:.2f} MB per commit), "
                f"{r['documents']} documents; model {r['model']}",
                f"growth <= 10% after {first}", "yes" if growth <= 0.10 else "no")]


def throughput_rows(r: dict[str, Any]) -> list[Row]:
    """Whole-ingest clauses/s against the raw embedding rate on the same clauses (bench/throughput.py's result)."""
    return [Row("ingest", f"end to end: {r['docs']} real-sized documents, {r['clauses']:,} clauses (overlapped)",
                f"{r['pipeline_clauses_per_s']:.1f} clauses/s",
                f"raw embedding {r['raw_clauses_per_s']:.1f} clauses/s ({r['backend']}), ratio {r['ratio']:.2f}",
                ">= 0.8 of raw", "yes" if r["ratio"] >= 0.8 else "no")]


def table_lines(rows: list[Row]) -> list[str]:
    from cpu import cpu_label

    cpu = cpu_label()
    headers = ("section", "measure", "value", "context", "target", "met", "cpu")
    cells = [headers] + [(r.section, r.measure, r.value, r.baseline, r.target, r.ok, cpu) for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in cells[1:]:
        lines.append("| " + " | ".join(str(c).replace("|", "/").ljust(w) for c, w in zip(row, widths, strict=True))
                     + " |")
    return lines


def print_table(rows: list[Row]) -> None:
    print("\n".join(table_lines(rows)))


def write_results(path: Path, rows: list[Row], argv: list[str], minutes: float | None = None) -> None:
    """The table as markdown, with the date, the CPU and the options of the run (the README quotes this file)."""
    from cpu import cpu_label

    took = f" in {minutes:.0f} minutes" if minutes is not None else ""
    load = os.getloadavg()[2]
    head = [f"# Benchmark results ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
            f"`bench/run.py {' '.join(argv)}` on {cpu_label()}, {os.cpu_count()} cores, ran{took} (load average "
            f"over the last 15 minutes at the end {load:.1f}; a shared machine makes absolute figures noisy, ratios "
            "measured side by side are the reliable part).", ""]
    path.write_text("\n".join(head + table_lines(rows)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
