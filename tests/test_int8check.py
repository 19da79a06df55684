"""The int8 self-check: int8 embeddings measured against the fp32 reference, fp32 used where int8 misbehaves."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from policykb import embed, int8check
from policykb.embed import SentenceTransformerEmbedder
from policykb.indexer import embed_check_record

PROMPTS = ("query: ", "passage: ")


def fake_encoder(noise: float, seed: int = 0):  # type: ignore[no-untyped-def]
    """A deterministic 'model': a text's vector from its hash, plus `noise` of per-call random direction."""

    def encode(texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            base = np.random.default_rng(abs(hash(text)) % 2**32).normal(size=16)
            jitter = np.random.default_rng(seed + len(text)).normal(size=16)
            row = base / np.linalg.norm(base) + noise * jitter / np.linalg.norm(jitter)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32)

    return encode


def test_probe_has_real_queries_and_clauses() -> None:
    queries, passages = int8check.probe_texts()
    assert len(queries) == 12 and len(passages) == 31
    assert queries[0] == "优质学校每年要派多少比例的教师到薄弱学校"
    assert all(len(p) >= 15 for p in passages)


def test_agreement_of_identical_vectors_is_perfect() -> None:
    vectors = fake_encoder(0.0)([f"文本{i}" for i in range(20)])
    assert int8check.agreement(vectors, vectors, n_queries=5) == pytest.approx((1.0, 1.0))


@pytest.mark.parametrize(
    ("min_cosine", "top10", "ok", "reason"),
    [
        (0.9949, 0.908, True, ""),  # measured on an AVX2 EPYC
        (0.9801, 0.61, True, ""),
        (0.97, 0.9, False, "lowest cosine with fp32 0.9700 < 0.98"),
        (0.99, 0.5, False, "top-10 agreement with fp32 0.50 < 0.6"),
    ],
)
def test_judge_applies_the_bounds(min_cosine: float, top10: float, ok: bool, reason: str) -> None:
    verdict = int8check.judge(min_cosine, top10, "cpu")
    assert (verdict.ok, verdict.reason) == (ok, reason)


def test_check_passes_a_close_encoder_and_caches_the_verdict(tmp_path: Path) -> None:
    calls: list[int] = []
    reference = fake_encoder(0.0)

    def fp32(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return reference(texts)

    verdict = int8check.check_int8(tmp_path, fake_encoder(0.02), PROMPTS, fp32=fp32)
    assert verdict.ok and verdict.min_cosine > 0.99
    assert (tmp_path / int8check.REFERENCE_FILE).is_file()
    saved = json.loads((tmp_path / int8check.CHECK_FILE).read_text(encoding="utf-8"))
    assert saved["verdict"]["ok"] is True and saved["context"]["cpu"] == int8check.cpu_signature()
    # a second process reads the verdict: neither encoder runs again
    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError("the cached verdict should have been used")

    assert int8check.check_int8(tmp_path, refuse, PROMPTS, fp32=refuse) == verdict
    assert len(calls) == 2  # queries and passages, once


def test_check_fails_an_encoder_far_from_fp32(tmp_path: Path) -> None:
    verdict = int8check.check_int8(tmp_path, fake_encoder(0.8), PROMPTS, fp32=fake_encoder(0.0))
    assert not verdict.ok
    assert verdict.reason.startswith("lowest cosine with fp32 ")


def test_a_new_cpu_is_checked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    int8check.check_int8(tmp_path, fake_encoder(0.02), PROMPTS, fp32=fake_encoder(0.0))
    monkeypatch.setattr(int8check, "cpu_signature", lambda: "Other CPU [avx2 avx512f avx512_vnni]")
    verdict = int8check.check_int8(tmp_path, fake_encoder(0.8), PROMPTS, fp32=fake_encoder(0.0))
    assert not verdict.ok and verdict.cpu == "Other CPU [avx2 avx512f avx512_vnni]"


def test_cpu_signature_names_the_model_and_the_flags_that_matter() -> None:
    signature = int8check.cpu_signature()
    flags = signature[signature.rindex("[") + 1 : -1].split()
    assert set(flags) <= set(int8check.CPU_FLAGS) | {"no", "avx2"}


class _FakeOnnx:
    dimension = 16

    def __init__(self, *args: object) -> None:
        self.encode = fake_encoder(0.8)  # a CPU whose int8 kernels are broken

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


class _FakeTorch(_FakeOnnx):
    def __init__(self, *args: object) -> None:
        self.encode = fake_encoder(0.0)


def test_embedder_falls_back_to_fp32_where_int8_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setattr(embed, "_OnnxEncoder", _FakeOnnx)
    monkeypatch.setattr(embed, "_TorchEncoder", _FakeTorch)
    monkeypatch.setattr(int8check, "reference_vectors", lambda model_dir, prompts, fp32=None: np.vstack(
        [_FakeTorch()([prompts[0] + q for q in int8check.probe_texts()[0]]),
         _FakeTorch()([prompts[1] + p for p in int8check.probe_texts()[1]])]))
    embedder = SentenceTransformerEmbedder(tmp_path, backend="onnx-int8")
    with caplog.at_level(logging.WARNING, logger="policykb.embed"):
        embedder.warm_up()
    assert embedder.backend == "torch"
    assert "@torch#" in embedder.key
    assert "too far from the fp32 reference" in caplog.text
    record = embed_check_record(embedder)
    assert record["ok"] is False and record["fallback"].startswith("int8 self-check failed on ")
    vectors = embedder.encode_passages(["教师交流轮岗"])
    assert np.allclose(vectors, _FakeTorch()([embedder.passage_prompt + "教师交流轮岗"]))


def test_embedder_keeps_int8_where_it_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setattr(embed, "_OnnxEncoder", _FakeTorch)  # int8 identical to the reference
    monkeypatch.setattr(int8check, "reference_vectors", lambda model_dir, prompts, fp32=None: np.vstack(
        [_FakeTorch()([prompts[0] + q for q in int8check.probe_texts()[0]]),
         _FakeTorch()([prompts[1] + p for p in int8check.probe_texts()[1]])]))
    embedder = SentenceTransformerEmbedder(tmp_path, backend="onnx-int8")
    embedder.warm_up()
    assert embedder.backend == "onnx-int8" and embedder.fallback_reason == ""
    assert embed_check_record(embedder) == {
        "ok": True, "min_cosine": 1.0, "top10_agreement": 1.0, "cpu": int8check.cpu_signature(), "reason": "",
    }
