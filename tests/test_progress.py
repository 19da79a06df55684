"""Progress a person can see (issue 14 item 8): ingest prints a line per file when stdout is not a terminal and one bar
per stage on a terminal (none of bm25s's internal bars); `make install`/`make serve`'s long steps print a line at
least every 10 s (scripts/heartbeat.sh, scripts/serve_until_ready.sh), checked here by running the scripts.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
FILES = [CORPUS / "000_378b8ca429274a32.txt", CORPUS / "001_867a7dc465003806.txt"]
ENV = {**os.environ, "POLICYKB_MODEL": "hash", "PYTHONPATH": str(ROOT / "src")}


def _ingest(index: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policykb.cli", "--index-dir", str(index), "ingest", *extra,
                           *map(str, FILES)], capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=300)


def test_ingest_into_a_pipe_prints_a_line_per_file_before_the_report(tmp_path: Path) -> None:
    out = _ingest(tmp_path / "index")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:3] == [f"[1/2] 读取 {FILES[0]}", f"[2/2] 读取 {FILES[1]}",
                         "正在建立索引：2 份文件已读取，计算向量并写入检索索引…"]
    assert lines[3].startswith("added ") and lines[4].startswith("added ")
    assert lines[5] == "2 added; the knowledge base holds 2 documents"
    assert out.stderr == ""  # nothing but errors on stderr, and no bars into a pipe


def test_ingest_json_keeps_stdout_one_json_document(tmp_path: Path) -> None:
    out = _ingest(tmp_path / "index", "--json")
    assert out.returncode == 0, out.stderr
    assert [f["outcome"] for f in json.loads(out.stdout)["files"]] == ["added", "added"]


def _run_on_a_terminal(args: list[str]) -> str:
    """Everything the command writes to a pseudo-terminal (stdout and stderr both on it)."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a window: bars need a width
    proc = subprocess.Popen(args, stdout=child, stderr=child, stdin=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    os.close(child)
    chunks = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_ingest_on_a_terminal_shows_one_bar_per_stage_and_no_bm25s_bars(tmp_path: Path) -> None:
    shown = _run_on_a_terminal([sys.executable, "-m", "policykb.cli", "--index-dir", str(tmp_path / "index"),
                                "ingest", *map(str, FILES)])
    assert "读取文件" in shown and "建立关键词索引" in shown
    assert "BM25S" not in shown and "Split strings" not in shown and "Count Tokens" not in shown
    assert "[1/2] 读取" not in shown  # lines are for logs; a terminal gets the bars


def _timed_lines(proc: subprocess.Popen[str], until: str, limit: float = 60) -> list[tuple[float, str]]:
    assert proc.stdout is not None
    start = time.monotonic()
    out: list[tuple[float, str]] = []
    for line in proc.stdout:
        out.append((time.monotonic() - start, line.rstrip("\n")))
        if until in line or time.monotonic() - start > limit:
            break
    return out


def test_heartbeat_prints_while_a_silent_step_runs_and_keeps_its_status() -> None:
    proc = subprocess.Popen(["bash", "scripts/heartbeat.sh", "安装依赖", "bash", "-c", "sleep 3.5; exit 3"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**ENV, "HEARTBEAT_SECONDS": "1"})
    lines = _timed_lines(proc, "失败")
    assert proc.wait(timeout=30) == 3
    texts = [t for _, t in lines]
    assert texts[0] == "==> 安装依赖"
    assert sum(1 for t in texts if t.startswith("    …安装依赖，已用 ")) >= 2
    assert texts[-1] == "    失败：安装依赖（退出码 3）"
    gaps = [b - a for (a, _), (b, _) in zip(lines, lines[1:], strict=False)]
    assert max(gaps) < 2.5  # a line at least every interval (1 s here, 5 s in make)


def test_serve_wrapper_prints_until_the_server_answers() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # a stand-in server that takes 2.5 s to start listening, as the model load does
    server = (f"import time, http.server; time.sleep(2.5); "
              f"http.server.HTTPServer(('127.0.0.1', {port}), http.server.BaseHTTPRequestHandler).serve_forever()")
    proc = subprocess.Popen(["bash", "scripts/serve_until_ready.sh", "127.0.0.1", str(port), sys.executable, "-c",
                             server], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**ENV, "HEARTBEAT_SECONDS": "1"}, start_new_session=True)
    try:
        lines = [t for _, t in _timed_lines(proc, "服务已就绪")]
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    assert lines[0] == f"==> 启动服务：http://127.0.0.1:{port}"
    assert any(t.startswith("    …正在启动服务（加载模型和索引），已用 ") for t in lines)
    assert lines[-1] == f"==> 服务已就绪：http://127.0.0.1:{port}（按 Ctrl+C 停止）"
