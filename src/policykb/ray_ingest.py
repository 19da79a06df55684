"""Ingest on Ray: files read, cleaned, segmented and tagged in Ray Data tasks, clauses embedded by an actor pool.

The distributed part does the expensive, independent work; the decisions and the publish stay the local
`ingesting.commit`, under the index folder's writer lock. So the per-file report is the one a local ingest
gives, and a killed Ray ingest leaves nothing half-written: until the one atomic publish, its only traces are
originals in the library and vectors in the embedding cache (which the next run reuses).

`ray_address` unset starts a local Ray on this machine's cores; `ray://host:10001` or `auto` joins a cluster
whose workers have policykb and the model installed.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policykb.errors import PolicyKBError
from policykb.settings import Settings

log = logging.getLogger(__name__)

EMBED_BATCH = 64  # clauses per actor call


def _start(settings: Settings) -> Any:
    try:
        import ray
    except ImportError as exc:  # the optional extra is not installed
        raise PolicyKBError("--engine ray 需要 scale 扩展：pip install -e '.[scale]'") from exc
    if not ray.is_initialized():
        address = str(settings.ray_address or "") or None
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
        if address is None:
            kwargs["num_cpus"] = max(1, int(settings.ray_cpus))
        try:
            ray.init(address=address, **kwargs)
        except Exception as exc:  # Ray raises a bare Exception when its raylet misses the 30 s start window
            if address is not None or "timed out during startup" not in str(exc):
                raise
            # A loaded 2-core machine can start the local raylet too slowly once; a second start usually works.
            log.warning("本机 Ray 启动超时，正在重试一次：%s", exc)
            ray.shutdown()
            ray.init(address=address, **kwargs)
    return ray


def _read_task(row: dict[str, Any], max_file_mb: float, limits: dict[str, Any]) -> dict[str, Any]:
    """One file → a pickled Candidate (with its clauses' texts to embed) or a skip reason."""
    from policykb import ingesting, pipeline
    from policykb.indexer import embedding_text
    from policykb.store import SEARCHABLE_ROLES

    path = Path(row["path"])
    try:
        candidate = ingesting.read_file(path, max_file_mb, **limits)
        processed = pipeline.process_document(candidate.document)
        texts = [embedding_text(c) for c in processed.clauses if c.role in SEARCHABLE_ROLES]
        return {"path": row["path"], "item": pickle.dumps(candidate), "texts": texts, "reason": ""}
    except PolicyKBError as exc:
        return {"path": row["path"], "item": b"", "texts": [], "reason": str(exc)}
    except Exception as exc:  # a bug on one file must not stop the others
        return {"path": row["path"], "item": b"", "texts": [], "reason": f"{path}: internal error: {exc}"}


class _Embedder:
    """An actor: loads the model once, embeds batches of clause texts."""

    def __init__(self, settings_values: dict[str, Any]) -> None:
        from policykb.embed import load_embedder

        self.embedder = load_embedder(Settings(dict(settings_values)))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        vectors = np.asarray(self.embedder.encode_passages(texts), dtype=np.float32)
        return {"text": texts, "vector": list(vectors)}


def read_and_embed(
    paths: Sequence[str | Path], settings: Settings, embedder: Any, index_root: Path,
    report: Callable[[str], None] | None = None, **limits: Any,
) -> list[Any]:
    """Candidates (or skipped outcomes) for every file, their clause vectors already in the embedding cache."""
    from policykb import ingesting
    from policykb.embed import EmbeddingCache
    from policykb.indexer import CACHE_FILE, embedder_key

    say = report or (lambda line: None)
    ray = _start(settings)
    files = ingesting.expand_paths(paths)
    if not files:
        return []
    say(f"Ray：读取并清洗 {len(files)} 个文件")
    max_file_mb = float(settings.max_file_mb)
    read = ray.data.from_items([{"path": str(f)} for f in files]).map(
        _read_task, fn_kwargs={"max_file_mb": max_file_mb, "limits": limits}
    )
    rows = sorted(read.take_all(), key=lambda r: files.index(Path(r["path"])))
    items: list[Any] = []
    texts: list[str] = []
    for row in rows:
        if row["reason"]:
            items.append(ingesting.FileOutcome(row["path"], "skipped", reason=row["reason"]))
        else:
            items.append(pickle.loads(row["item"]))  # noqa: S301 - our own task's output
            texts.extend(row["texts"])
    if hasattr(embedder, "warm_up"):
        embedder.warm_up()  # the int8 self-check fixes the backend, hence the cache key
    prompt = str(getattr(embedder, "passage_prompt", ""))
    with EmbeddingCache(Path(index_root) / CACHE_FILE, embedder_key(embedder)) as cache:
        unique = list(dict.fromkeys(texts))
        cached = cache.get_many(unique, prompt)
        missing = [t for i, t in enumerate(unique) if i not in cached]
        say(f"Ray：嵌入 {len(missing)} 条条款（{len(unique) - len(missing)} 条已在缓存中）")
        if missing:
            values = dict(settings.values)
            if getattr(embedder, "backend", None):
                values["embed_backend"] = embedder.backend  # the actors embed as this machine decided
            pool = max(1, int(settings.ray_cpus) if not settings.ray_address else 2)
            embedded = ray.data.from_items([{"text": t} for t in missing]).map_batches(
                _Embedder, fn_constructor_kwargs={"settings_values": values}, batch_size=EMBED_BATCH,
                compute=ray.data.ActorPoolStrategy(size=pool),
            )
            done = 0
            for batch in embedded.iter_batches(batch_size=256):
                batch_texts = [str(t) for t in batch["text"]]
                cache.put_many(batch_texts, np.stack([np.asarray(v, dtype=np.float32) for v in batch["vector"]]),
                               prompt)
                done += len(batch_texts)
                say(f"Ray：已嵌入 {done}/{len(missing)}")
    return items
