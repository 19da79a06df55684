"""`policykb ingest --engine ray` killed with SIGKILL (its whole process group: driver, local Ray, Milvus Lite) into a
knowledge base that already holds documents: nothing committed is lost, `policykb check` passes, and a rerun
completes the ingest, on the local backend and on Milvus (Lite)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS_DIR, CORPUS_FILES, ROOT
from policykb.service import KnowledgeBase
from policykb.settings import Settings

pytest.importorskip("ray")
pytestmark = [pytest.mark.scale, pytest.mark.slow]

sys.path.insert(0, str(ROOT / "bench"))
CLI = "import sys; from policykb.cli import main; sys.exit(main(sys.argv[1:]))"
QUERIES = ("骨干教师交流轮岗比例", "课后服务时间", "集团化办学")


def _env(folder: Path, backend: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), POLICYKB_INDEX_DIR=str(folder), POLICYKB_MODEL="hash",
               POLICYKB_RAY_CPUS="2", POLICYKB_BACKEND=backend, RAY_USAGE_STATS_ENABLED="0")
    if backend == "milvus":
        env["POLICYKB_MILVUS_URI"] = "kb-milvus.db"
    return env


def _session_pids(sid: int) -> list[int]:
    """Processes of one session (the one the killed ingest started): whatever Ray left running."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # after the name: state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def _kill_session(sid: int) -> None:
    for pid in _session_pids(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _killed_at(marker: str, paths: list[Path], env: dict[str, str], timeout_s: float = 400) -> list[str]:
    """Start the Ray ingest in its own session, SIGKILL its process group on the first stderr line that starts
    with `marker`; the lines read so far."""
    proc = subprocess.Popen([sys.executable, "-c", CLI, "ingest", "--engine", "ray", *map(str, paths)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines: list[str] = []
    watchdog = threading.Timer(timeout_s, _kill_session, [proc.pid])  # a silent hang ends the read loop too
    watchdog.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith(marker):
                os.killpg(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finally:
        watchdog.cancel()
        _kill_session(proc.pid)  # Ray's own processes, should any have outlived the group
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, f"the ingest ended before {marker!r}: {lines[-5:]}"
    return lines


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=600)


def _kb(folder: Path, backend: str) -> KnowledgeBase:
    extra = {"milvus_uri": "kb-milvus.db"} if backend == "milvus" else {}
    return KnowledgeBase(Settings.load(index_dir=str(folder), model="hash", backend=backend, **extra))


def _snapshot(kb: KnowledgeBase) -> dict[str, Any]:
    """What a reader sees: every document's record and clause texts, and the top 10 of a few searches."""
    docs = {r["doc_id"]: r for r in kb.document_records()}
    return {
        "docs": docs,
        "clauses": {d: [c.text for c in kb.store.clauses(doc_id=d)] for d in sorted(docs)},
        "search": {q: [h.clause.clause_id for h in kb.search(q, k=10)] for q in QUERIES},
    }


def _current(folder: Path) -> str:
    return os.readlink(folder / "current")


@pytest.fixture()
def inputs(tmp_path: Path) -> list[Path]:
    """Two variants of every seed file: the 上海 and 虹口 variants are new versions of committed documents."""
    from scaleout import variant_files

    (tmp_path / "in").mkdir()
    return variant_files(tmp_path / "in", 2)


def _seeded(folder: Path, backend: str) -> dict[str, Any]:
    """The seed corpus committed by a complete ingest (in its own process, as a user would have done)."""
    done = _cli(["ingest", str(CORPUS_DIR)], _env(folder, backend))
    assert done.returncode == 0, done.stderr[-500:]
    kb = _kb(folder, backend)
    try:
        before = _snapshot(kb)
    finally:
        _release(kb)
    assert len(before["docs"]) == len(CORPUS_FILES)
    return before


def _release(kb: KnowledgeBase) -> None:
    """Close the knowledge base: its Milvus Lite file is then free for another process (one at a time)."""
    kb.close()


def _clause_ids(folder: Path, doc_id: str) -> list[str]:
    from policykb.store import SEARCHABLE_ROLES

    kb = _kb(folder, "local")  # the store only: the local backend never touches Milvus
    try:
        return [c.clause_id for c in kb.store.clauses(doc_id=doc_id, roles=SEARCHABLE_ROLES)]
    finally:
        kb.close()


def test_a_killed_ray_ingest_loses_nothing_and_a_rerun_completes(tmp_path: Path, inputs: list[Path]) -> None:
    folder = tmp_path / "kb"
    before = _seeded(folder, "local")
    build = _current(folder)
    reference = tmp_path / "reference"  # the same ingest, never interrupted
    shutil.copytree(folder, reference, symlinks=True)
    ref = _kb(reference, "local")
    try:
        expected = [(Path(f.path).name, f.outcome, f.doc_id) for f in ref.ingest(inputs).files]
        expected_after = _snapshot(ref)
    finally:
        ref.close()
    assert {o for _, o, _ in expected} == {"added", "updated"}  # the kill interrupts new versions as well
    env = _env(folder, "local")
    # killed while Ray reads and cleans; then killed while the actors embed (the cache has some vectors)
    for marker in ("Ray：读取并清洗", "Ray：已嵌入"):
        lines = _killed_at(marker, inputs, env)
        assert lines[-1].startswith(marker)
        assert _current(folder) == build, f"killed at {marker}: a build was published"
        checked = _cli(["check"], env)
        assert (checked.returncode, checked.stdout) == (0, "ok\n"), checked.stdout + checked.stderr
        kb = _kb(folder, "local")
        try:
            assert kb.check() == []
            assert _snapshot(kb) == before, f"killed at {marker}: what a reader sees changed"
        finally:
            kb.close()
    rerun = _cli(["ingest", "--json", "--engine", "ray", *map(str, inputs)], env)
    assert rerun.returncode == 0, rerun.stderr[-800:]
    report = json.loads(rerun.stdout)
    assert [(Path(f["path"]).name, f["outcome"], f["doc_id"]) for f in report["files"]] == expected
    kb = _kb(folder, "local")
    try:
        assert kb.check() == []
        after = _snapshot(kb)
    finally:
        kb.close()
    for part in ("clauses", "search"):
        assert after[part] == expected_after[part]
    assert _cli(["check"], env).returncode == 0


def test_a_ray_ingest_killed_while_writing_to_milvus_never_shows_half_a_collection(
    tmp_path: Path, inputs: list[Path]
) -> None:
    from policykb.indexer import read_current_manifest
    from policykb.milvus_backend import SYNC_FILE, MilvusIndex, resolve_uri
    from policykb.store import SEARCHABLE_ROLES

    inputs = [f for f in inputs if f.stem.endswith("-v0")]  # one version per document: a rerun finds all unchanged
    folder = tmp_path / "kb"
    before = _seeded(folder, "milvus")
    state = json.loads((folder / SYNC_FILE).read_text(encoding="utf-8"))
    build = _current(folder)
    env = {**_env(folder, "milvus"), "POLICYKB_MILVUS_BATCH": "40"}  # a dozen upserts: the kill lands between two
    lines = _killed_at("Milvus：已写入", inputs, env)  # after the publish
    assert any(line.startswith("Ray：已嵌入") for line in lines)
    assert _current(folder) != build  # the build was published; the collection had not caught up
    checked = _cli(["check"], env)
    assert (checked.returncode, checked.stdout) == (0, "ok\n"), checked.stdout + checked.stderr
    cut_short = json.loads((folder / SYNC_FILE).read_text(encoding="utf-8"))
    assert cut_short["generation"] == state["generation"]  # not recorded as in sync: every reader resyncs first
    assert set(cut_short["pending"]) and set(cut_short["docs"]) == set(state["docs"])

    settings = Settings.load(index_dir=str(folder), model="hash", backend="milvus", milvus_uri="kb-milvus.db")
    raw = MilvusIndex(resolve_uri(settings), str(settings.milvus_collection),
                      read_current_manifest(folder).dimension)
    try:
        rows = raw.client.query(raw.collection, filter='clause_id != ""', output_fields=["clause_id", "doc_id"],
                                limit=16384)
    finally:
        raw.close()
    held = {str(r["clause_id"]): str(r["doc_id"]) for r in rows}
    untouched = set(before["docs"]) - set(cut_short["pending"])
    assert untouched and all(
        cid in held for d in untouched for cid in _clause_ids(folder, d))

    kb = _kb(folder, "milvus")  # a reader after the kill: it completes the sync before its first answer
    try:
        assert kb.check() == []
        hits = kb.search(QUERIES[0], k=10)
        assert hits
        index = kb.engine().backend.index
        rows = index.client.query(index.collection, filter='clause_id != ""', output_fields=["clause_id"],
                                  limit=16384)
        assert {str(r["clause_id"]) for r in rows} == {c.clause_id for c in kb.store.clauses(roles=SEARCHABLE_ROLES)}
        for doc_id in untouched:
            assert [c.text for c in kb.store.clauses(doc_id=doc_id)] == before["clauses"][doc_id]
    finally:
        _release(kb)
    rerun = _cli(["ingest", "--json", "--engine", "ray", *map(str, inputs)], env)
    assert rerun.returncode == 0, rerun.stderr[-800:]
    assert {f["outcome"] for f in json.loads(rerun.stdout)["files"]} == {"unchanged"}  # published before the kill
    synced = json.loads((folder / SYNC_FILE).read_text(encoding="utf-8"))
    assert synced["pending"] == [] and synced["generation"] != state["generation"]
    assert _cli(["check"], env).returncode == 0
