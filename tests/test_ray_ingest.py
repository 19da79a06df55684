"""`ingest --engine ray` on a local Ray: the same report and the same index as a local ingest; bad files skipped."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS_DIR, CORPUS_FILES
from policykb.service import KnowledgeBase
from policykb.settings import Settings

pytest.importorskip("ray")
pytestmark = [pytest.mark.scale, pytest.mark.slow]


def _kb(folder: Path) -> KnowledgeBase:
    return KnowledgeBase(Settings.load(index_dir=str(folder), model="hash", ray_cpus=2))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for name in CORPUS_FILES.values():
        shutil.copy(CORPUS_DIR / name, folder / name)
    (folder / "broken.docx").write_bytes(b"not a zip archive")
    return folder


def _outcomes(report: Any) -> list[tuple[str, str, str | None]]:
    return [(Path(f.path).name, f.outcome, f.doc_id) for f in report.files]


def test_ray_ingest_reports_and_indexes_like_a_local_one(inputs: Path, tmp_path: Path) -> None:
    import ray

    local, distributed = _kb(tmp_path / "local"), _kb(tmp_path / "ray")
    try:
        by_local = local.ingest([inputs])
        reported: list[str] = []
        by_ray = distributed.ingest([inputs], engine="ray", report=reported.append)
        assert _outcomes(by_ray) == _outcomes(by_local)
        assert [o for _, o, _ in _outcomes(by_ray)].count("added") == len(CORPUS_FILES)
        skipped = [f for f in by_ray.files if f.outcome == "skipped"]
        assert len(skipped) == 1 and "broken.docx" in skipped[0].reason
        assert reported[0] == f"Ray：读取并清洗 {len(CORPUS_FILES) + 1} 个文件"
        query = "骨干教师比例"
        assert [h.clause.clause_id for h in distributed.search(query)] == [
            h.clause.clause_id for h in local.search(query)]
        # a second Ray ingest of the same files changes nothing and embeds nothing
        reported.clear()
        again = distributed.ingest([inputs], engine="ray", report=reported.append)
        assert {o for _, o, _ in _outcomes(again)} == {"unchanged", "skipped"}
        assert any(line.startswith("Ray：嵌入 0 条条款") for line in reported)
    finally:
        local.close()
        distributed.close()
        ray.shutdown()


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    from policykb.errors import PolicyKBError

    with pytest.raises(PolicyKBError, match="未知的导入引擎"):
        _kb(tmp_path).ingest([CORPUS_DIR], engine="spark")
