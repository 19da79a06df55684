"""A knowledge base that grows: the library of originals, outcomes, versions, removal, rebuild, check, segments,
crash safety under kill -9 at each phase, one truth across processes, damaged builds and the fallback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import CORPUS_DIR, CORPUS_FILES, corpus_path
from policykb.embed import HashEmbedder
from policykb.errors import IndexError_, NotFoundError
from policykb.indexer import current_build, read_current_manifest
from policykb.service import KnowledgeBase
from policykb.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
LINPING = corpus_path("linping")


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.embedded += len(texts)
        return super().encode_passages(texts, progress)


def make_kb(root: Path, embedder: HashEmbedder | None = None) -> KnowledgeBase:
    chosen = embedder or HashEmbedder()
    return KnowledgeBase(Settings.load(index_dir=str(root), model="hash"), embedder_factory=lambda s: chosen)


def outcomes(report: Any) -> list[tuple[str, str | None, str | None]]:
    return [(f.outcome, f.doc_id, f.of) for f in report.files]


def changed_linping(folder: Path) -> Path:
    """Linping's plan with one value changed (30% → 40%), under its own file name: a new version."""
    folder.mkdir(parents=True, exist_ok=True)
    text = LINPING.read_text(encoding="utf-8")
    assert text.count("30%") >= 1
    out = folder / LINPING.name
    out.write_text(text.replace("30%", "40%"), encoding="utf-8")
    return out


def doc_texts(kb: KnowledgeBase, doc_id: str) -> str:
    return "\n".join(c.text for c in kb.clauses(doc_id=doc_id))


# ----- outcomes, versions, removal -----------------------------------------------------------------------------


def test_ingest_adds_and_never_removes_what_it_was_not_given(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "idx")
    first = kb.ingest([corpus_path("hongkou")])
    assert outcomes(first) == [("added", "hongkou-2025-03-10", None)] and first.documents == 1
    report = kb.ingest([CORPUS_DIR])
    assert [f.outcome for f in report.files] == ["unchanged", "added", "added", "added", "added"]
    assert report.documents == 5 and len(kb.documents()) == 5
    again = kb.ingest([corpus_path("shanghai")])  # one file again: the other four stay
    assert outcomes(again) == [("unchanged", "shanghai-2023-15", None)] and again.documents == 5
    assert {r["doc_id"] for r in kb.document_records()} == {d.doc_id for d in kb.documents()}


def test_a_gbk_copy_is_a_duplicate_and_never_a_second_document(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "idx")
    kb.ingest([corpus_path("shanghai")])
    copy = tmp_path / "copy-in-gbk.txt"
    copy.write_bytes(corpus_path("shanghai").read_text(encoding="utf-8").encode("gbk"))
    report = kb.ingest([copy])
    assert outcomes(report) == [("duplicate", "shanghai-2023-15", "shanghai-2023-15")]
    assert report.documents == 1
    hits = kb.search("教师流动", k=20)
    assert len({h.clause.text for h in hits}) == len(hits)  # no clause shown twice


def test_changed_text_becomes_a_new_version_searches_see_the_newest(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "idx")
    kb.ingest([CORPUS_DIR])
    doc_id = "linping-2023-06-07"
    assert "30%" in doc_texts(kb, doc_id)
    report = kb.ingest([changed_linping(tmp_path / "new")])
    assert outcomes(report) == [("updated", doc_id, doc_id)] and report.files[0].version == 2
    assert report.documents == 5
    texts = doc_texts(kb, doc_id)
    assert "40%" in texts and "30%" not in texts
    hits = kb.search("比例 40%", k=50, region_ids=["linping"])
    assert hits and all(h.clause.doc_id == doc_id for h in hits)
    assert all("30%" not in h.clause.text for h in kb.search("30%", k=200, region_ids=["linping"]))
    versions = kb.versions(doc_id)
    assert [(v["version"], v["latest"]) for v in versions] == [(1, False), (2, True)]
    diff = kb.version_diff(doc_id, 1, 2).to_dict()
    changed = [p for p in diff["pairs"] if p["status"] != "identical"]
    assert changed and all(p["status"] == "changed" for p in changed)
    assert all("30%" in p["a"]["text"] and "40%" in p["b"]["text"] for p in changed)
    # the documents listing says version 2, and the same new file again is unchanged
    [record] = [r for r in kb.document_records() if r["doc_id"] == doc_id]
    assert record["version"] == 2 and record["source"] == LINPING.name
    assert outcomes(kb.ingest([tmp_path / "new"])) == [("unchanged", doc_id, None)]


def test_remove_leaves_nothing_searchable_and_is_logged(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "idx")
    kb.ingest([CORPUS_DIR])
    assert kb.search("镇江", k=5, region_ids=["zhenjiang"])
    result = kb.remove(["zhenjiang-2019-08-05"])
    assert result == {"removed": ["zhenjiang-2019-08-05"], "documents": 4}
    assert "zhenjiang" not in {r["region_id"] for r in kb.regions()}
    assert all(h.clause.region_id != "zhenjiang" for h in kb.search("镇江市集团化办学", k=200))
    assert kb.clauses(doc_id="zhenjiang-2019-08-05") == []
    with pytest.raises(NotFoundError):
        kb.document("zhenjiang-2019-08-05")
    with pytest.raises(NotFoundError, match="no document nowhere-1"):
        kb.remove(["nowhere-1"])
    log = [json.loads(line) for line in (tmp_path / "idx/library/log.jsonl").read_text().splitlines()]
    assert log[-1]["event"] == "removed" and log[-1]["doc_id"] == "zhenjiang-2019-08-05"
    # the original is still in the library: ingesting it again brings the document back
    again = kb.ingest([corpus_path("zhenjiang")])
    assert outcomes(again) == [("added", "zhenjiang-2019-08-05", None)] and again.documents == 5


def test_rebuild_rederives_everything_from_the_library_alone(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "idx")
    work = tmp_path / "work"
    shutil.copytree(CORPUS_DIR, work)
    kb.ingest([work])
    kb.ingest([changed_linping(tmp_path / "new")])
    before = {c.clause_id: c.text for c in kb.clauses()}
    hits_before = [h.clause.clause_id for h in kb.search("教师流动比例", k=10)]
    shutil.rmtree(work)  # the originals live in the library now
    result = kb.rebuild()
    assert result["documents"] == 5
    manifest = read_current_manifest(tmp_path / "idx")
    assert manifest is not None and len(manifest.segments) == 1
    assert {c.clause_id: c.text for c in kb.clauses()} == before
    assert [h.clause.clause_id for h in kb.search("教师流动比例", k=10)] == hits_before
    assert [v["version"] for v in kb.versions("linping-2023-06-07")] == [1, 2]
    assert kb.check() == []


def test_many_small_ingests_are_merged_and_keep_every_document(tmp_path: Path) -> None:
    from policykb.indexer import MERGE_AT

    kb = make_kb(tmp_path / "idx")
    folder = tmp_path / "many"
    folder.mkdir()
    base = corpus_path("haidian").read_text(encoding="utf-8")
    for i in range(MERGE_AT + 2):
        path = folder / f"note-{i}.txt"
        path.write_text(f"某某区第{i}号通知\n\n" + base, encoding="utf-8")  # same body, another title
        assert [f.outcome for f in kb.ingest([path]).files] == ["added"]
    manifest = read_current_manifest(tmp_path / "idx")
    assert manifest is not None and len(manifest.segments) <= MERGE_AT
    records = kb.document_records()
    assert len(records) == MERGE_AT + 2
    per_doc = len(kb.clauses(doc_id=records[0]["doc_id"]))
    assert len(kb.clauses()) == per_doc * len(records)
    for record in records:
        assert kb.search("教育集团", k=3, doc_id=record["doc_id"])


# ----- the CLI: commands, --json shapes, global options ---------------------------------------------------------


def cli(*args: str, index: Path, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYKB_MODEL": "hash", "PYTHONPATH": str(ROOT / "src")}
    env.pop("POLICYKB_INDEX_DIR", None)
    out = subprocess.run([sys.executable, "-m", "policykb.cli", *args, "--index-dir", str(index)],
                         capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, **kwargs)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_cli_ingest_documents_remove_check_shapes(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    report = json.loads(cli("ingest", str(CORPUS_DIR), "--json", index=index).stdout)
    assert report["documents"] == 5
    assert all({"doc_id", "of", "outcome", "path", "reason"} <= set(f) for f in report["files"])
    assert [f["outcome"] for f in report["files"]] == ["added"] * 5
    docs = json.loads(cli("documents", "--json", index=index).stdout)
    assert len(docs) == 5
    keys = {"doc_id", "title", "region_id", "region", "date", "version", "source", "ingested_at", "sha256"}
    assert all(keys <= set(d) for d in docs)
    assert sorted(d["source"] for d in docs) == sorted(CORPUS_FILES.values())
    assert all(len(d["sha256"]) == 64 and d["version"] == 1 for d in docs)
    cli("remove", "haidian-2022-07-26", index=index)
    assert len(json.loads(cli("documents", "--json", index=index).stdout)) == 4
    assert cli("check", index=index).stdout.strip() == "ok"
    # --index-dir before the subcommand works as well as after it
    env = {**os.environ, "POLICYKB_MODEL": "hash", "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-m", "policykb.cli", "--index-dir", str(index), "documents", "--json"],
                         capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120)
    assert len(json.loads(out.stdout)) == 4


def test_an_upload_survives_a_later_ingest_of_the_corpus(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    cli("ingest", str(corpus_path("hongkou")), index=index)
    kb = make_kb(index)
    text = "某某区教育局关于教师交流的通知\n\n一、总体要求\n(一)每年交流教师比例不低于25%。\n某某区教育局\n2024年3月2日\n"
    report = kb.add_upload("moumou.txt", text.encode("utf-8"), {"region": "某某区"})
    [uploaded] = report.files
    assert uploaded.outcome == "added"
    cli("ingest", str(CORPUS_DIR), index=index)  # what `make index` runs
    docs = {d["doc_id"] for d in json.loads(cli("documents", "--json", index=index).stdout)}
    assert uploaded.doc_id in docs and len(docs) == 6
    hits = json.loads(cli("search", "交流教师比例不低于25%", "--json", index=index).stdout)["hits"]
    assert any(h["doc_id"] == uploaded.doc_id for h in hits)


# ----- kill -9 at each phase of an ingest ------------------------------------------------------------------------

KILLED_INGEST = """
import sys, time
from pathlib import Path
sys.path.insert(0, {src!r})
import numpy as np
from policykb import embed, indexer, ingesting, pipeline
from policykb.embed import HashEmbedder
from policykb.service import KnowledgeBase
from policykb.settings import Settings

ready, phase = Path({ready!r}), {phase!r}

def stall():
    ready.write_text(phase)
    time.sleep(120)

class Embedder(HashEmbedder):
    calls = 0
    def encode_passages(self, texts, progress=False):
        Embedder.calls += 1
        if phase == "embedding" and Embedder.calls == 3:
            stall()
        return super().encode_passages(texts, progress)

if phase == "cleaning":
    clean = pipeline.clean_raw_text
    def slow_clean(*args, **kwargs):
        stall()
    pipeline.clean_raw_text = slow_clean
if phase == "embedding":
    embed.CACHE_COMMIT_EVERY = 4
if phase == "publishing":
    swap = indexer._swap_current
    def slow_swap(root, target):
        stall()
    indexer._swap_current = slow_swap
kb = KnowledgeBase(Settings.load(index_dir={root!r}, model="hash"), embedder_factory=lambda s: Embedder())
kb.ingest([{path!r}])
"""


def run_until_killed(tmp_path: Path, root: Path, phase: str, path: Path) -> None:
    ready = tmp_path / f"ready-{phase}"
    script = KILLED_INGEST.format(src=str(ROOT / "src"), ready=str(ready), phase=phase, root=str(root),
                                  path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "ingest exited"
            assert time.monotonic() < deadline, f"the ingest never reached {phase}"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("phase", ["cleaning", "embedding", "publishing"])
def test_kill_9_at_each_phase_loses_nothing_and_shows_nothing_half_done(tmp_path: Path, phase: str) -> None:
    root = tmp_path / "idx"
    kb = make_kb(root)
    kb.ingest([corpus_path(r) for r in ("hongkou", "shanghai", "zhenjiang", "haidian")])
    before = {c.clause_id for c in kb.clauses()}
    expected_hits = [h.clause.clause_id for h in kb.search("教师流动比例", k=5)]
    run_until_killed(tmp_path, root, phase, LINPING)
    after = make_kb(root)  # a fresh process's view
    assert {c.clause_id for c in after.clauses()} == before  # nothing of linping half-visible
    assert [h.clause.clause_id for h in after.search("教师流动比例", k=5)] == expected_hits
    assert len(after.document_records()) == 4 and after.check() == []
    counting = CountingEmbedder()
    rerun = make_kb(root, counting)
    report = rerun.ingest([LINPING])
    assert outcomes(report) == [("added", "linping-2023-06-07", None)] and report.documents == 5
    indexed = sum(1 for c in rerun.clauses(doc_id="linping-2023-06-07") if c.role == "body")
    if phase == "embedding":
        assert 0 < counting.embedded <= indexed - 8  # the two committed batches of 4 are reused
    elif phase == "publishing":
        assert counting.embedded == 0  # every vector was committed before the kill
    assert rerun.check() == []


# ----- one truth for every process ----------------------------------------------------------------------------


def test_two_concurrent_ingests_both_end_up_in_the_index(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    cli("ingest", str(corpus_path("hongkou")), index=index)
    env = {**os.environ, "POLICYKB_MODEL": "hash", "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-m", "policykb.cli", "ingest", str(corpus_path(name)),
                          "--index-dir", str(index)], env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
        for name in ("shanghai", "linping")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    docs = {d["doc_id"] for d in json.loads(cli("documents", "--json", index=index).stdout)}
    assert docs == {"hongkou-2025-03-10", "shanghai-2023-15", "linping-2023-06-07"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def test_a_running_server_sees_a_cli_ingest_and_a_removal_without_restart(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    cli("ingest", str(corpus_path("hongkou")), index=index)
    port = free_port()
    env = {**os.environ, "POLICYKB_MODEL": "hash", "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "policykb.cli", "serve", "--port", str(port), "--index-dir",
                               str(index)], env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert [d["doc_id"] for d in get_json(base + "/api/documents")] == ["hongkou-2025-03-10"]
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server never came up"
                time.sleep(0.2)
        cli("ingest", str(corpus_path("haidian")), index=index)
        published = time.monotonic()
        while "haidian-2022-07-26" not in {d["doc_id"] for d in get_json(base + "/api/documents")}:
            assert time.monotonic() - published < 5, "the server did not pick up the new build"
            time.sleep(0.1)
        hits = get_json(base + "/api/search?q=" + urllib.parse.quote("海淀区教育集团"))["hits"]
        assert any(h["doc_id"] == "haidian-2022-07-26" for h in hits)
        cli("remove", "hongkou-2025-03-10", index=index)
        assert [d["doc_id"] for d in get_json(base + "/api/documents")] == ["haidian-2022-07-26"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


# ----- damaged builds: clear errors, the fallback, check ------------------------------------------------------


def two_builds(root: Path) -> tuple[KnowledgeBase, Path]:
    """hongkou in build 1; haidian added in build 2 (its own segment). Returns the kb and haidian's segment."""
    kb = make_kb(root)
    kb.ingest([corpus_path("hongkou")])
    kb.ingest([corpus_path("haidian")])
    manifest = read_current_manifest(root)
    assert manifest is not None
    return kb, root / "segments" / manifest.segments[-1]["name"]


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda seg: (seg / "dense.faiss").unlink(), "dense.faiss: file missing"),
        (lambda seg: next((seg / "bm25").glob("*.npy")).unlink(), "file missing"),
        (lambda seg: (seg / "kb.sqlite").write_bytes(b"garbage!" * ((seg / "kb.sqlite").stat().st_size // 8)),
         "kb.sqlite"),
    ],
    ids=["dense", "bm25", "sqlite"],
)
def test_a_damaged_current_build_names_the_file_and_the_server_falls_back(
    tmp_path: Path, damage: Any, named: str
) -> None:
    from fastapi.testclient import TestClient

    from policykb.web import create_app

    root = tmp_path / "idx"
    _, segment = two_builds(root)
    damage(segment)
    problems = make_kb(root).check()
    assert problems and all(segment.name in p and "\n" not in p for p in problems)
    assert any(named in p for p in problems)
    kb = make_kb(root)
    kb.allow_fallback = True  # as the server does
    assert [d.doc_id for d in kb.documents()] == ["hongkou-2025-03-10"]  # the previous complete build
    assert kb.index_problem is not None and named.split(":")[0] in kb.index_problem
    assert str(tmp_path) not in kb.index_problem
    client = TestClient(create_app(kb), base_url="http://127.0.0.1")
    for path in ("/", "/documents", "/compare"):
        page = client.get(path)
        assert page.status_code == 200 and 'id="index-banner"' in page.text and str(tmp_path) not in page.text
    # the CLI names the file in one line; a rebuild from the library repairs it
    out = cli("search", "教育集团", index=root, check=False)
    assert out.returncode == 2 and segment.name in out.stderr and len(out.stderr.strip().splitlines()) == 1
    kb.rebuild()
    assert kb.check() == [] and len(kb.documents()) == 2
    assert 'id="index-banner"' not in client.get("/").text


def test_a_damaged_library_original_is_reported_by_check(tmp_path: Path) -> None:
    root = tmp_path / "idx"
    kb = make_kb(root)
    kb.ingest([corpus_path("hongkou")])
    [obj] = (root / "library" / "objects").rglob("*.txt")
    obj.write_bytes(b"changed")
    out = cli("check", index=root, check=False)
    assert out.returncode == 1
    assert out.stdout.strip() == f"library/objects/{obj.parent.name}/{obj.name}: damaged original of " \
                                 "hongkou-2025-03-10 version 1"


def test_no_fallback_when_every_build_shares_the_damaged_segment(tmp_path: Path) -> None:
    root = tmp_path / "idx"
    kb = make_kb(root)
    kb.ingest([corpus_path("hongkou")])
    build = current_build(root)
    assert build is not None
    manifest = read_current_manifest(root)
    assert manifest is not None
    (root / "segments" / manifest.segments[0]["name"] / "dense.faiss").unlink()
    with pytest.raises(IndexError_, match=r"^damaged index file segments/seg-[^/]+/dense.faiss: file missing"):
        make_kb(root).documents()


# ----- hostile requests ---------------------------------------------------------------------------------------


def test_foreign_host_is_refused_and_500_is_a_chinese_page_with_the_headers(hash_kb: Any, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from policykb.web import SECURITY_HEADERS, create_app

    app = create_app(hash_kb)
    evil = TestClient(app, base_url="http://evil.example")
    refused = evil.get("/api/documents")
    assert refused.status_code == 421 and refused.json()["status"] == 421
    assert evil.get("/").status_code == 421
    local = TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False)
    assert local.get("/api/regions").status_code == 200

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom in {tmp_path}/secret.py")

    original = hash_kb.search
    hash_kb.search = broken
    try:
        page = local.get("/?q=教师")
        api = local.get("/api/search?q=教师")
    finally:
        hash_kb.search = original
    assert page.status_code == 500 and "服务器内部错误" in page.text and "text/html" in page.headers["content-type"]
    assert api.status_code == 500 and api.json()["title"] == "服务器内部错误"
    for response in (page, api, refused):
        for key, value in SECURITY_HEADERS.items():
            assert response.headers[key] == value
        assert str(tmp_path) not in response.text and "Traceback" not in response.text


def test_upload_errors_never_show_a_server_path(hash_kb: Any) -> None:
    from fastapi.testclient import TestClient

    from policykb.web import create_app

    client = TestClient(create_app(hash_kb), base_url="http://127.0.0.1")
    r = client.post("/api/ingest/preview", files={"file": ("blank.html", b"<html><body> </body></html>")})
    assert r.status_code == 400
    assert r.json()["error"] == "文件“blank.html”无法读取：文件里没有可读取的文字。"  # in Chinese (issue 14)


def test_scrub_paths_keeps_file_names_only() -> None:
    from policykb.web import scrub_paths

    assert scrub_paths("no index at /srv/kb/indexes: run x", ["/srv/kb/indexes"]) == "no index at 索引目录: run x"
    assert scrub_paths("bad /tmp/policykb-upload-x1/a.txt: empty") == "bad a.txt: empty"
    assert scrub_paths("keep 1/2 and 50%/年") == "keep 1/2 and 50%/年"


def test_upload_preview_says_new_version_with_the_diff_before_committing(hash_kb: Any, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from policykb.web import create_app

    folder = tmp_path / "index"
    shutil.copytree(hash_kb.index_root, folder, symlinks=True)
    kb = make_kb(folder)
    client = TestClient(create_app(kb), base_url="http://127.0.0.1")
    data = changed_linping(tmp_path / "new").read_bytes()
    preview = client.post("/api/ingest/preview", files={"file": (LINPING.name, data)}).json()
    assert (preview["outcome"], preview["of"], preview["version"]) == ("updated", "linping-2023-06-07", 1)
    changed = [p for p in preview["diff"]["pairs"] if p["status"] == "changed"]
    assert changed and "30%" in changed[0]["a"]["text"] and "40%" in changed[0]["b"]["text"]
    assert "30%" in doc_texts(kb, "linping-2023-06-07")  # nothing committed yet
    html = client.post("/ingest", files={"file": (LINPING.name, data)}).text
    assert "的新版本" in html and 'id="diff-table"' in html
    gbk = corpus_path("shanghai").read_text(encoding="utf-8").encode("gbk")
    dup = client.post("/api/ingest/preview", files={"file": ("copy.txt", gbk)}).json()
    assert (dup["outcome"], dup["of"]) == ("duplicate", "shanghai-2023-15")
    done = client.post("/api/ingest/commit", json={"token": preview["token"]}).json()
    assert done["files"][0]["outcome"] == "updated" and done["documents"] == 5
    page = client.get("/documents/linping-2023-06-07").text
    assert 'id="versions"' in page and "/documents/linping-2023-06-07/changes?a=1&b=2" in page
    assert client.get("/documents/linping-2023-06-07/changes?a=1&b=2").status_code == 200
