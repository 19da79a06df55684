"""Cold CLI: `policykb search QUERY` and `policykb compare QUERY`, each in a fresh process with no server to hand
the query to; median wall and CPU seconds over several runs.

CPU seconds (user + system of the child) are reported beside wall seconds: on a shared machine a process waits
for a core, and the CPU time is what the command itself costs. Usage: python bench/cold_cli.py INDEX_DIR [RUNS]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ("教师交流轮岗比例", "骨干教师比例不低于多少", "联合教研每学期几次")


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("policykb")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "policykb.cli"]


def time_command(args: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one run of `policykb ARGS` in a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*_command(), *args], cwd=ROOT, capture_output=True,
                          env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def measure(index_dir: str | Path, runs: int = 5) -> dict[str, dict[str, Any]]:
    """Median wall and CPU seconds of cold `search` and `compare` (one warm-up run each first: it writes the
    once-only files, the lexicon and the fast tokenizer's vocabulary, as an ingest or install would)."""
    out: dict[str, dict[str, Any]] = {}
    for command in ("search", "compare"):
        time_command(["--index-dir", str(index_dir), command, QUERIES[0]])
        walls, cpus, failures = [], [], 0
        for i in range(runs):
            wall, cpu, code = time_command(["--index-dir", str(index_dir), command, QUERIES[i % len(QUERIES)]])
            walls.append(wall)
            cpus.append(cpu)
            failures += code != 0
        out[command] = {"runs": runs, "wall_s": round(statistics.median(walls), 2),
                        "cpu_s": round(statistics.median(cpus), 2), "failures": failures,
                        "walls": [round(w, 2) for w in walls]}
    return out


def main(argv: list[str]) -> int:
    index_dir = argv[1] if len(argv) > 1 else "indexes"
    runs = int(argv[2]) if len(argv) > 2 else 5
    for command, r in measure(index_dir, runs).items():
        print(f"cold {command}: median wall {r['wall_s']} s, CPU {r['cpu_s']} s over {r['runs']} runs "
              f"{r['walls']}, failures {r['failures']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
