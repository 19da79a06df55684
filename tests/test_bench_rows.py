"""The memory, ingest-throughput and growth rows of `make bench` run at a tiny size, so they cannot break unseen."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402
from synth import halves, synthetic_documents  # noqa: E402


def test_synthetic_documents_are_distinct_real_sized_and_recombine_seed_clauses() -> None:
    pool = ("教师交流轮岗比例不低于10%,骨干教师不低于20%。", "每年组织开展课后服务,时间不少于2小时。",
            "集团内学校实行统一管理、资源共享,推进课程共建。")
    docs = synthetic_documents(4, clauses_per_doc=12, seed=3, texts=pool)
    assert [name for name, _ in docs] == [f"synthetic-{i:04d}.txt" for i in range(4)]
    assert len({text for _, text in docs}) == 4
    heads, tails = {halves(t)[0] for t in pool}, {halves(t)[1].rstrip("。") for t in pool}
    numbered = [line for line in docs[0][1].splitlines() if re.match(r"\d+\.", line)]
    assert len(numbered) == 12
    for line in numbered:
        body = line.split(".", 1)[1]
        assert any(body.startswith(h) for h in heads) and any(body.rstrip("。").endswith(t) for t in tails)
    assert halves("甲乙丙丁,戊己庚辛") == ("甲乙丙丁,", "戊己庚辛")


def test_memory_row_runs_upload_commit_cycles_through_the_web_app(tmp_path: Path) -> None:
    from memory import measure

    r = measure(cycles=3, model="hash", checkpoints=(2, 3), clauses_per_doc=8, work=tmp_path)
    assert r["documents"] == 5 + 3  # the seed corpus, then one new document per cycle
    assert set(r["rss_mb"]) == {0, 1, 2, 3} and min(r["rss_mb"].values()) > 50
    assert r["growth_after_warmup"] == pytest.approx((r["rss_mb"][3] - r["rss_mb"][2]) / r["rss_mb"][2])
    [row] = run.memory_rows(r)
    assert row.measure == "web app RSS: start / after 2 / after 3 upload-and-commit cycles"
    assert row.value == f"{r['rss_mb'][0]:.0f} / {r['rss_mb'][2]:.0f} / {r['rss_mb'][3]:.0f} MB"
    assert row.ok == ("yes" if r["growth_after_warmup"] <= 0.10 else "no")


def test_throughput_row_ingests_every_document_and_compares_with_raw_embedding(tmp_path: Path) -> None:
    from throughput import measure

    r = measure(docs=3, clauses_per_doc=8, model="hash", sequential=True, work=tmp_path / "work")
    assert r["docs"] == 3
    assert r["clauses"] == r["embedded_texts"] >= 24
    assert r["ratio"] == pytest.approx(r["pipeline_clauses_per_s"] / r["raw_clauses_per_s"])
    assert r["sequential_clauses_per_s"] > 0
    [row] = run.throughput_rows(r)
    assert row.measure.startswith("end to end: 3 real-sized documents")
    assert row.ok == ("yes" if r["ratio"] >= 0.8 else "no")


def test_results_table_names_the_cpu_on_every_row(tmp_path: Path) -> None:
    rows = [run.Row("memory", "m", "1 MB", "ctx", "t", "yes"), run.Row("ingest", "a|b", "2", "", "", "")]
    out = tmp_path / "results.md"
    run.write_results(out, rows, ["--quick"])
    text = out.read_text(encoding="utf-8")
    from cpu import cpu_label

    table = [line for line in text.splitlines() if line.startswith("| ") and "section" not in line]
    assert len(table) == 2 and all(line.rstrip(" |").endswith(cpu_label()) for line in table)
    assert "a/b" in text and "`bench/run.py --quick`" in text


def test_the_10m_row_says_why_when_the_disk_lacks_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    monkeypatch.setenv("POLICYKB_BENCH_CACHE", str(tmp_path))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(100 * 2**30, 95 * 2**30, 5 * 2**30))
    assert run.disk_room_row(1_000_000) is None  # small sizes always run
    row = run.disk_room_row(10_000_000)
    assert row is not None and row.ok == "no" and row.target == "p95 <= 30 ms, RSS <= 8192 MB"
    assert row.value == f"not run: building it needs about 26 GB free in {tmp_path}, 5 GB are"
    (tmp_path / "10000000-0123456789ab.tmp-42").mkdir()  # an unfinished build is no cache
    assert run.disk_room_row(10_000_000) is not None
    (tmp_path / "10000000-0123456789ab").mkdir()
    assert run.disk_room_row(10_000_000) is None
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(100 * 2**30, 50 * 2**30, 50 * 2**30))
    shutil.rmtree(tmp_path / "10000000-0123456789ab")
    assert run.disk_room_row(10_000_000) is None


def test_a_full_run_replaces_the_readme_table_between_its_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# p\n\nbefore\n\n{run.README_START}\nold table\n{run.README_END}\n\nafter\n", encoding="utf-8")
    run.write_readme_table(readme, [run.Row("scale", "1,000 clauses", "1.0 ms", "ctx", "p95 <= 10 ms", "yes")],
                           [], 61.2)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# p\n\nbefore\n\n<!-- bench-table:start -->\n") and text.endswith("-->\n\nafter\n")
    assert "old table" not in text and "| scale   | 1,000 clauses |" in text and ", 61 minutes, on " in text
    untouched = tmp_path / "OTHER.md"
    untouched.write_text("no markers\n", encoding="utf-8")
    run.write_readme_table(untouched, [], [], 1.0)
    assert untouched.read_text(encoding="utf-8") == "no markers\n"
