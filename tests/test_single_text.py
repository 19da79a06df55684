"""The single-text int8 graph one query runs: same vectors as the batch graph, made once, rebuilt when missing."""

from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from policykb import embed
from policykb import modelconvert as mc
from policykb.settings import PROJECT_ROOT, Settings


def _tiny(kind: str):  # noqa: ANN202
    """A random two-layer BERT (positions from 0) or XLM-R (positions from padding_idx + 1 = 2)."""
    import torch
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    sizes = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 32}
    if kind == "bert":
        return BertModel(BertConfig(vocab_size=50, **sizes), add_pooling_layer=False).eval()
    config = XLMRobertaConfig(vocab_size=50, max_position_embeddings=40, pad_token_id=1, **sizes)
    return XLMRobertaModel(config, add_pooling_layer=False).eval()


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_single_text_module_equals_the_transformer_on_one_unpadded_text(kind: str) -> None:
    import torch

    encoder = _tiny(kind)
    ids = torch.tensor([[0, 7, 9, 11, 23, 5, 2]])
    with torch.no_grad():
        reference = encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
        packed = mc.packed_encoder(encoder)(ids, torch.ones_like(ids))[0]
        single = mc.single_text_module(encoder)(encoder.embeddings.word_embeddings.weight[ids[0]])
    assert single.shape == (7, 16)
    assert torch.allclose(single, reference, atol=1e-6)
    assert torch.allclose(single, packed, atol=1e-6)


def test_single_text_module_positions_differ_from_a_shuffled_text() -> None:
    """The rows are position-aware: the same tokens in another order give other states (no bag of words)."""
    import torch

    encoder = _tiny("xlm-roberta")
    rows = encoder.embeddings.word_embeddings.weight[torch.tensor([0, 7, 9, 2])]
    with torch.no_grad():
        forward = mc.single_text_module(encoder)(rows).mean(0)
        backward = mc.single_text_module(encoder)(rows.flip(0)).mean(0)
    assert not torch.allclose(forward, backward, atol=1e-3)


def test_word_rows_dequantise_exactly_as_onnx_runtime_does(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    table = rng.integers(0, 256, (300, 8), dtype=np.uint8)
    scale, zero = np.float32(0.009432445), np.uint8(143)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["q"]),
         helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["rows"])],
        "lookup",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("rows", TensorProto.FLOAT, [None, 8])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array(scale), "scale"),
         numpy_helper.from_array(np.array(zero), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.save(tmp_path / "rows.npy", table)
    ids = np.array([0, 299, 17, 17, 143], dtype=np.int64)
    ours = embed._WordRows(tmp_path / "rows.npy", float(scale), int(zero))(ids)
    theirs = session.run(None, {"ids": ids})[0]
    assert ours.dtype == np.float32 and ours.shape == (5, 8)
    assert np.array_equal(ours, theirs)
    assert onnx.checker.check_model(model) is None


@pytest.fixture
def fake_single(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A model folder whose exports are fakes that count their calls."""
    (tmp_path / "model.safetensors").write_bytes(b"weights v1")
    calls: dict = {"n": 0, "fail": False, "dir": tmp_path}

    def fake_batch(model_dir: Path, force: bool = False) -> Path:
        target = model_dir / mc.ONNX_INT8_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"batch")
        (model_dir / mc.ONNX_MARKER_FILE).write_text(json.dumps(mc.onnx_marker(model_dir)))
        return target

    def fake_table(batch_export: Path) -> tuple[np.ndarray, float, int]:
        return np.arange(12, dtype=np.uint8).reshape(4, 3), 0.5, 3

    def fake_fp32(model_dir: Path, out: Path) -> None:
        calls["n"] += 1
        out.write_bytes(b"fp32 single")

    def fake_quantise(src: Path, out: Path) -> None:
        if calls["fail"]:
            raise RuntimeError("out of memory")
        out.write_bytes(b"int8 " + src.read_bytes())

    monkeypatch.setattr(mc, "export_onnx_int8", fake_batch)
    monkeypatch.setattr(mc, "word_table_of", fake_table)
    monkeypatch.setattr(mc, "_export_single_text_fp32", fake_fp32)
    monkeypatch.setattr(mc, "quantise_int8", fake_quantise)
    return calls


def test_single_text_graph_is_made_once_with_its_table(fake_single: dict) -> None:
    folder = fake_single["dir"]
    target = mc.export_single_text(folder)
    assert target == folder / "onnx" / "single_qint8.onnx" and target.read_bytes() == b"int8 fp32 single"
    assert mc.export_single_text(folder) == target and fake_single["n"] == 1
    marker = json.loads((folder / mc.SINGLE_TEXT_MARKER_FILE).read_text())
    assert marker["table"] == {"scale": 0.5, "zero_point": 3} and marker["single"] == mc.SINGLE_TEXT_VERSION
    assert np.load(folder / mc.WORD_ROWS_FILE).tolist()[1] == [3, 4, 5]


@pytest.mark.parametrize("damage", ["table", "graph", "marker", "weights", "version"])
def test_single_text_graph_is_redone_when_a_part_is_missing_or_stale(fake_single: dict, damage: str) -> None:
    folder = fake_single["dir"]
    mc.export_single_text(folder)
    marker = folder / mc.SINGLE_TEXT_MARKER_FILE
    if damage == "table":
        (folder / mc.WORD_ROWS_FILE).unlink()
    elif damage == "graph":
        (folder / mc.SINGLE_TEXT_FILE).unlink()
    elif damage == "marker":
        marker.unlink()
    elif damage == "weights":
        (folder / "model.safetensors").write_bytes(b"weights v2")  # new weights: a new batch export too
    else:
        marker.write_text(json.dumps({**json.loads(marker.read_text()), "single": mc.SINGLE_TEXT_VERSION - 1}))
    assert not mc.single_text_is_current(folder)
    mc.export_single_text(folder)
    assert fake_single["n"] == 2 and mc.single_text_is_current(folder)


def test_failed_single_text_export_leaves_the_old_one_and_no_temporaries(fake_single: dict) -> None:
    folder = fake_single["dir"]
    target = mc.export_single_text(folder)
    fake_single["fail"] = True
    with pytest.raises(RuntimeError, match="out of memory"):
        mc.export_single_text(folder, force=True)
    assert target.read_bytes() == b"int8 fp32 single" and mc.single_text_is_current(folder)
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == [
        "model_qint8.json", "model_qint8.onnx", "single_qint8.json", "single_qint8.onnx", "word_rows_qint8.npy"]


def test_encoder_without_a_single_text_graph_runs_one_text_on_the_batch_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(model_dir: Path, force: bool = False) -> Path:
        raise OSError("read-only file system")

    monkeypatch.setattr(mc, "export_single_text", refuse)
    assert embed._OnnxEncoder._single_text_parts(tmp_path, 1) == (None, None)


# --- the real model -----------------------------------------------------------------------------------------


def real_texts() -> list[str]:
    """Benchmark queries (with the query prompt) and corpus sentences (with the passage prompt): ~400 real texts."""
    queries = []
    for name in ("queries.toml", "queries_dev.toml", "queries_heldout.toml"):
        queries += [q["text"] for q in tomllib.loads((PROJECT_ROOT / "bench" / name).read_text())["query"]]
    sentences = []
    for path in sorted((PROJECT_ROOT / "corpus").glob("*.txt")):
        parts = re.split(r"(?<=[。；;])|\n", path.read_text(encoding="utf-8"))
        sentences += [s.strip() for s in parts if 10 <= len(s.strip()) <= 300][::2]
    return ["query: " + q for q in dict.fromkeys(queries)] + ["passage: " + s for s in dict.fromkeys(sentences)]


@pytest.fixture(scope="module")
def onnx_encoder() -> embed._OnnxEncoder:
    path = Settings.load().model_path
    if not path.is_dir():
        pytest.skip("model not installed")
    return embed._OnnxEncoder(path, 1, 512)


@pytest.mark.model
def test_one_text_gets_the_batch_graphs_vector_on_real_queries_and_clauses(onnx_encoder) -> None:  # noqa: ANN001
    texts = real_texts()
    assert len(texts) >= 300
    encoder = onnx_encoder
    assert encoder.single_session is not None
    single = np.vstack([encoder([t]) for t in texts])
    batch = []
    for text in texts:
        ids, mask = encoder.token_ids([text])
        hidden = encoder.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        batch.append(embed.l2_normalise(hidden.mean(axis=1)))
    cosines = np.sum(single * np.vstack(batch), axis=1)
    # Measured on AVX2: lowest 0.9999998 (float sums in another order); int8 against fp32 is 0.995.
    assert cosines.min() >= 0.99999


@pytest.mark.model
def test_a_query_loads_neither_the_batch_graph_nor_the_vocabulary_table() -> None:
    path = Settings.load().model_path
    if not path.is_dir():
        pytest.skip("model not installed")
    encoder = embed._OnnxEncoder(path, 1, 512)
    vector = encoder(["query: 教师交流轮岗比例"])
    assert vector.shape == (1, 384) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert encoder._batch_session is None
    assert isinstance(encoder.word_rows.table, np.memmap)  # only the query's rows are read from disk
    graph = path / mc.SINGLE_TEXT_FILE
    assert graph.stat().st_size < 40e6 < (path / mc.ONNX_INT8_FILE).stat().st_size  # the 96 MB table is out


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A folder with a single-text marker and table; exporting and session creation are fakes that count calls."""
    (tmp_path / "onnx").mkdir()
    np.save(tmp_path / mc.WORD_ROWS_FILE, np.zeros((4, 3), np.uint8))
    (tmp_path / mc.SINGLE_TEXT_MARKER_FILE).write_text(json.dumps({"table": {"scale": 0.5, "zero_point": 3}}))
    calls: dict = {"sessions": [], "dir": tmp_path}
    monkeypatch.setattr(mc, "export_single_text", lambda model_dir, force=False: model_dir / mc.SINGLE_TEXT_FILE)

    def fake_session(path: Path, threads: int) -> object:
        calls["sessions"].append(threads)
        return object()

    monkeypatch.setattr(embed, "onnx_session", fake_session)
    monkeypatch.setattr(embed, "_SINGLE_TEXT_PARTS", {})
    return calls


def test_single_text_session_is_made_once_per_process_and_thread_count(fake_parts: dict) -> None:
    folder = fake_parts["dir"]
    first, rows = embed.single_text_parts(folder, 1)
    assert embed.single_text_parts(folder, 1)[0] is first and fake_parts["sessions"] == [1]
    assert embed.single_text_parts(folder, 2)[0] is not first and fake_parts["sessions"] == [1, 2]
    assert rows is not None and rows(np.array([1])).tolist() == [[-1.5, -1.5, -1.5]]


def test_prefetch_loads_the_session_the_encoder_then_uses(fake_parts: dict) -> None:
    folder = fake_parts["dir"]
    # query_threads fixed: with 0 (auto) the thread count would follow how idle the machine is
    settings = Settings.load(model=str(folder), embed_backend="onnx-int8", torch_threads=1, query_threads=1)
    assert Path(settings.model_path) == folder
    thread = embed.prefetch_query_encoder(settings)
    assert thread is not None and thread.daemon
    thread.join(10)
    assert fake_parts["sessions"] == [1]
    embed.single_text_parts(folder, 1)
    assert fake_parts["sessions"] == [1]  # the encoder found it loaded


@pytest.mark.parametrize("overrides", [{"model": "hash"}, {"embed_backend": "torch"}])
def test_prefetch_does_nothing_for_models_that_do_not_use_it(fake_parts: dict, overrides: dict) -> None:
    settings = Settings.load(**{"model": str(fake_parts["dir"]), "embed_backend": "onnx-int8", **overrides})
    assert embed.prefetch_query_encoder(settings) is None and fake_parts["sessions"] == []


@pytest.mark.parametrize(("configured", "in_flight", "idle", "threads"), [
    (0, 0, 1.6, 2),  # a quiet machine and no other query: both cores
    (0, 0, 0.4, 1),  # the machine is busy (a loaded server, other programs): one
    (0, 1, 1.6, 1),  # another query of this process is being embedded: one each
    (1, 0, 1.6, 1),  # a fixed setting wins
    (3, 2, 0.0, 3),
])
def test_a_query_uses_two_threads_only_when_a_core_is_idle_and_no_other_query_runs(
    monkeypatch: pytest.MonkeyPatch, configured: int, in_flight: int, idle: float, threads: int,
) -> None:
    monkeypatch.setattr(embed, "idle_cores", lambda: idle)
    assert embed.query_threads(configured, in_flight) == threads


@pytest.mark.model
def test_a_query_gets_the_same_vector_on_one_or_two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Settings.load().model_path
    if not path.is_dir():
        pytest.skip("model not installed")
    monkeypatch.setattr(embed, "idle_cores", lambda: 0.0)
    encoder = embed._OnnxEncoder(path, 1, 512, query_thread_setting=0)
    assert set(encoder.single_sessions) == {1}
    texts = ["query: 教师交流轮岗比例", "query: 学区集团建设的钱由谁出", "query: 課後服務時長"]
    one = np.vstack([encoder([t]) for t in texts])
    monkeypatch.setattr(embed, "idle_cores", lambda: 2.0)
    encoder([texts[0]])  # the first idle query starts making the two-thread session and runs on the one it has
    deadline = time.monotonic() + 60
    while encoder.single_sessions[2] is encoder.single_session and time.monotonic() < deadline:
        time.sleep(0.05)
    assert encoder.single_sessions[2] is not encoder.single_session
    two = np.vstack([encoder([t]) for t in texts])
    assert float(np.min(np.sum(one * two, axis=1))) >= 0.99999
