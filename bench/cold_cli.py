"""Cold CLI: `policykb search QUERY` and `policykb compare QUERY`, each in a fresh process with no server to hand
the query to; median wall and CPU seconds over several runs.

CPU seconds (user + system of the child) are reported beside wall seconds: on a shared machine a process waits
for a core, and the CPU time is what the command itself costs. Each run is `-v`, and a run that did not answer
in its own process (a server took the query over) or printed no hit counts as a failure.

The children cache their bytecode (in a folder of their own, outside the tree) even when this shell sets
PYTHONDONTWRITEBYTECODE, as an installed policykb does: otherwise every run would also compile policykb's
modules from source, a cost no user pays twice. Usage: python bench/cold_cli.py INDEX_DIR [RUNS]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ("教师交流轮岗比例", "骨干教师比例不低于多少", "联合教研每学期几次")
LOCAL = "runs in this process"  # what `-v` logs when the command answered without a server
PYCACHE = Path(tempfile.gettempdir()) / "policykb-cold-cli-pycache"


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("policykb")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "policykb.cli"]


def child_env() -> dict[str, str]:
    """The children's environment: bytecode cached (see the module docstring), no tokenizer thread pool."""
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_command(args: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one run of `policykb -v ARGS` in a new process; exit code 1 when it answered
    through a server or printed nothing."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*_command(), "-v", *args], cwd=ROOT, capture_output=True, env=child_env(), check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    answered_here = LOCAL in proc.stderr.decode("utf-8", "replace") and proc.stdout.strip()
    return wall, cpu, proc.returncode or (0 if answered_here else 1)


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
