"""Tokenise one query without loading the model's 250,000-piece tokenizer (1.5 s or more in a cold process).

The e5 tokenizer is a sentencepiece Unigram model: normalise (the Precompiled character map), split at spaces
(Metaspace), then per word the Viterbi path over the vocabulary pieces that match it. A query needs only the
pieces that occur in it. `write_query_vocab` stores every piece's id and score in SQLite once (next to the ONNX
export), with the normaliser and pre-tokeniser as a tiny tokenizer; `QueryTokenizer` looks up the substrings of
a query and runs the same Viterbi as the `tokenizers` library (its optimised Unigram encoder: byte positions,
ties to the first candidate, unknown characters scored min_score - 10 and fused), then adds <s> and </s>.

A text holding a special token (<s>, <mask>…) or a tokenizer that is not this shape is left to the full
tokenizer, and tests/test_query_tokenizer.py checks the ids against it on real clauses and odd inputs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VOCAB_FILE = "onnx/query_vocab.sqlite"
UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY
FORMAT = "1"


def _fingerprint(tokenizer_json: Path) -> str:
    stat = tokenizer_json.stat()
    return hashlib.sha256(f"{FORMAT}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def _shape(data: dict[str, Any]) -> str | None:
    """Why this tokenizer.json is not the shape QueryTokenizer reproduces (None: it is)."""
    model = data.get("model") or {}
    if model.get("type") != "Unigram" or model.get("byte_fallback") or model.get("fuse_unk") is False:
        return "not a plain Unigram model"
    if (data.get("pre_tokenizer") or {}).get("type") != "Metaspace":
        return "not a Metaspace pre-tokenizer"
    post = data.get("post_processor") or {}
    single = post.get("single") or []
    if post.get("type") != "TemplateProcessing" or [list(item)[0] for item in single] != [
        "SpecialToken", "Sequence", "SpecialToken"
    ]:
        return "not a <s> A </s> template"
    return None


def write_query_vocab(model_dir: Path) -> Path | None:
    """Store the folder's Unigram vocabulary for QueryTokenizer (atomically); None when it is not that shape."""
    model_dir = Path(model_dir)
    source = model_dir / "tokenizer.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    reason = _shape(data)
    if reason is not None:
        log.info("no fast query tokenizer for %s: %s", model_dir.name, reason)
        return None
    model = data["model"]
    vocab = model["vocab"]
    post = data["post_processor"]
    first, last = (post["special_tokens"][post["single"][i]["SpecialToken"]["id"]]["ids"] for i in (0, 2))
    if len(first) != 1 or len(last) != 1:
        return None
    shell = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": data.get("normalizer"), "pre_tokenizer": data["pre_tokenizer"], "post_processor": None,
        "decoder": None, "model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"},
    }
    meta = {
        "fingerprint": _fingerprint(source),
        "shell": json.dumps(shell, ensure_ascii=False),
        "unk_id": str(int(model["unk_id"])),
        "min_score": repr(min(float(s) for _, s in vocab)),
        "bos_id": str(int(first[0])), "eos_id": str(int(last[0])),
        "added": json.dumps([t["content"] for t in data.get("added_tokens") or []], ensure_ascii=False),
        "max_piece": str(max(len(p) for p, _ in vocab)),
    }
    target = model_dir / VOCAB_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE piece (piece TEXT PRIMARY KEY, id INTEGER, score REAL) WITHOUT ROWID;"
        )
        with conn:
            # tokenizers maps a piece listed twice to its last id, with that id's score.
            conn.executemany("INSERT OR REPLACE INTO piece VALUES (?, ?, ?)",
                             ((p, i, float(s)) for i, (p, s) in enumerate(vocab)))
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.close()
        os.replace(tmp, target)
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    return target


class QueryTokenizer:
    """Token ids of one text as the folder's tokenizer.json gives them (with <s> … </s>), from the SQLite vocab."""

    def __init__(self, path: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        uri = f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        self.fingerprint = meta["fingerprint"]
        shell = Tokenizer.from_str(meta["shell"])
        self._normalizer, self._pre_tokenizer = shell.normalizer, shell.pre_tokenizer
        self._unk_id = int(meta["unk_id"])
        self._unk_score = float(meta["min_score"]) - UNK_PENALTY
        self._bos, self._eos = int(meta["bos_id"]), int(meta["eos_id"])
        self._added = json.loads(meta["added"])
        self._max_piece = int(meta["max_piece"])
        self._max_length = max_length

    def handles(self, text: str) -> bool:
        """False for a text the full tokenizer treats specially (it names a special token)."""
        return not any(token in text for token in self._added)

    def _pieces(self, candidates: list[str]) -> dict[str, tuple[int, float]]:
        found: dict[str, tuple[int, float]] = {}
        with self._lock:
            for start in range(0, len(candidates), 900):
                chunk = candidates[start : start + 900]
                rows = self._conn.execute(
                    f"SELECT piece, id, score FROM piece WHERE piece IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                found.update((p, (int(i), float(s))) for p, i, s in rows)
        return found

    def _viterbi(self, word: str, vocab: dict[str, tuple[int, float]]) -> list[int]:
        """tokenizers' `encode_optimized`: best path per end position, first candidate kept on ties."""
        n = len(word)
        best_score = [0.0] * (n + 1)
        best_start: list[int | None] = [None] * (n + 1)
        best_id = [0] * (n + 1)
        for start in range(n):
            here = best_score[start]
            single = False
            for end in range(start + 1, min(n, start + self._max_piece) + 1):
                entry = vocab.get(word[start:end])
                if entry is None:
                    continue
                candidate = entry[1] + here
                if best_start[end] is None or candidate > best_score[end]:
                    best_score[end], best_start[end], best_id[end] = candidate, start, entry[0]
                if end == start + 1:
                    single = True
            if not single:
                end = start + 1
                candidate = self._unk_score + here
                if best_start[end] is None or candidate > best_score[end]:
                    best_score[end], best_start[end], best_id[end] = candidate, start, self._unk_id
        ids: list[int] = []
        end = n
        unknown_run = False
        while end > 0:
            begin = best_start[end]
            assert begin is not None
            if best_id[end] == self._unk_id:
                if not unknown_run:
                    ids.append(self._unk_id)  # consecutive unknown pieces fuse into one <unk>
                unknown_run = True
            else:
                ids.append(best_id[end])
                unknown_run = False
            end = begin
        ids.reverse()
        return ids

    def encode(self, text: str) -> list[int]:
        """<s>, the text's pieces (truncated to max_length in all), </s>."""
        normalized = self._normalizer.normalize_str(text) if self._normalizer is not None else text
        words = [w for w, _ in self._pre_tokenizer.pre_tokenize_str(normalized)]
        candidates = sorted({w[i:j] for w in words for i in range(len(w))
                             for j in range(i + 1, min(len(w), i + self._max_piece) + 1)})
        vocab = self._pieces(candidates)
        ids: list[int] = []
        for word in words:
            if word:
                ids.extend(self._viterbi(word, vocab))
        return [self._bos, *ids[: max(0, self._max_length - 2)], self._eos]


@functools.lru_cache(maxsize=4)
def _open(path: Path, fingerprint: str, max_length: int, mtime_ns: int) -> QueryTokenizer | None:
    try:
        tokenizer = QueryTokenizer(path, max_length)
    except (sqlite3.Error, KeyError, ValueError, OSError, Exception) as exc:  # tokenizers raises its own
        log.info("not using the fast query tokenizer %s: %s", path, exc)
        return None
    return tokenizer if tokenizer.fingerprint == fingerprint else None


def query_tokenizer(model_dir: Path, max_length: int, create: bool = True) -> QueryTokenizer | None:
    """The folder's fast query tokenizer, written first when missing or stale (and `create`); None if unusable."""
    model_dir = Path(model_dir)
    source, path = model_dir / "tokenizer.json", model_dir / VOCAB_FILE
    try:
        fingerprint = _fingerprint(source)
    except OSError:
        return None
    for attempt in range(2):
        try:
            found = _open(path, fingerprint, max_length, path.stat().st_mtime_ns)
        except OSError:
            found = None
        if found is not None or not create or attempt:
            return found
        try:
            if write_query_vocab(model_dir) is None:
                return None
        except OSError as exc:
            log.info("could not write the fast query tokenizer into %s: %s", path.parent, exc)
            return None
    return None
