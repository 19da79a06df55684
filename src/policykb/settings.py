"""All settings in one place: name, default and help text. `POLICYKB_<NAME>` environment variables override.

Add a setting here and document it in README.md (a test checks that every setting is documented).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("index_dir", "indexes", "The knowledge-base folder: the library of originals and the index builds."),
    Setting("models_dir", "models", "Folder where `policykb models install` writes sentence-transformers models."),
    Setting("model", "multilingual-e5-small", "Embedding model: a folder name under models_dir, or a path to any "
            "local sentence-transformers folder."),
    Setting("embed_backend", "onnx-int8", "Embedding backend: `onnx-int8` (ONNX Runtime, int8 dynamic quantisation: "
            "same recall on the query sets, 2x+ faster, a third of the memory) or `torch` (sentence-transformers "
            "fp32)."),
    Setting("embed_batch_size", 32, "Clauses per embedding batch."),
    Setting("torch_threads", 1, "Torch intra-op threads per process (1 keeps query latency stable under load)."),
    Setting("query_threads", 0, "Threads for one query's int8 embedding: 0 chooses per query (2 when this process "
            "embeds no other query and at least half a core is idle, else 1); a number fixes it."),
    Setting("ingest_overlap", True, "Embed each file's clauses on a background thread while the next file is cleaned "
            "(same vectors as embedding after cleaning; false embeds after cleaning every file)."),
    Setting("max_file_mb", 20.0, "Largest raw file accepted by the loader, in megabytes."),
    Setting("max_pdf_pages", 300, "Most pages read from one PDF; a longer file is refused with its page count."),
    Setting("convert_timeout_s", 120.0, "Seconds LibreOffice may take to convert one .doc/.wps file before it is "
            "given up with an error."),
    Setting("max_query_chars", 200, "Longest query accepted, in characters."),
    Setting("ann_threshold", 50000, "Above this many clauses the dense index is approximate (IVF-SQ8), exact below."),
    Setting("ivf_nlist", 4096, "IVF lists for the approximate index (capped at clauses/39)."),
    Setting("ivf_nprobe", 64, "IVF lists probed per query."),
    Setting("refine_factor", 2, "IVF only: the IVF's best candidates × this many are re-scored on the float32 vectors "
            "saved beside the index (memory-mapped) and the best candidates kept, so SQ8 rounding no longer reorders "
            "near-ties; 0 turns it off (an index saved without the file answers unrefined)."),
    Setting("fusion", "convex", "How hybrid search merges the rankings: `convex` (dense_share·min-max scaled cosine + "
            "(1 − dense_share)·BM25 / best BM25 over both rankers' candidates) or `rrf` (reciprocal rank fusion)."),
    Setting("dense_share", 0.6, "Share of the scaled cosine in `convex` fusion; the BM25 share is 1 − dense_share."),
    Setting("fusion_k", 60, "Reciprocal-rank-fusion constant (`rrf` fusion only)."),
    Setting("dense_weight", 1.0, "Weight of the dense ranking in `rrf` fusion."),
    Setting("keyword_weight", 1.0, "Weight of the BM25 ranking in `rrf` fusion."),
    Setting("quantity_boost", 0.1, "Hybrid (convex) only: weight of a 'sets a number' flag mixed into the fused score when "
            "the query asks for an amount (比例, 多少, 几次, 期限…); 0 turns it off."),
    Setting("candidates", 100, "Candidates taken from each ranker before fusion."),
    Setting("query_expansion", False, "BM25 also looks for the policy synonyms of the query's words (考核 → 考评, "
            "评价, 评估; 经费 → 资金, 拨款 …; see synonyms.py)."),
    Setting("region_diversity", 2, "Hybrid only: at most this many hits of one region before a hit of a region not "
            "yet shown (among candidates scoring at least diversity_floor of the best); 0 turns it off."),
    Setting("rerank_weight", 0.3, "Hybrid (convex) only: share of the second stage's concept coverage (the query's policy "
            "concepts and their synonyms named by the clause or its headings, policykb.rerank) mixed into the fused "
            "score of every candidate; 0 turns the second stage off."),
    Setting("question_discount", 0.1, "With the second stage: subtracted from the score of a candidate that is a "
            "question (ends in ？: a headline, a rhetorical question, the 问 of a Q&A), so that the statement answering "
            "it ranks first; 0 turns it off."),
    Setting("concept_candidates", 50, "Hybrid (convex) with the second stage only: the best this many clauses of a BM25 "
            "ranking of the query's concepts (its words' policy synonyms, 钱 → 经费 资金 …) join the candidate pool and "
            "are scored by the second stage; 0 turns it off."),
    Setting("concept_keyword_share", 0.3, "With concept_candidates: a concept candidate's BM25 side in the fusion is "
            "at least this share of its concept-ranking score over the best one."),
    Setting("diversity_floor", 0.5, "With region_diversity: a deferred region's hit must score at least this share "
            "of the best hit to be lifted."),
    Setting("common_term_share", 1.0, "BM25 ignores query terms found in more than this share of the clauses "
            "(1.0 keeps every term; a term in at most 20 clauses is always kept)."),
    Setting("compare_threshold", 0.80, "Calibrated minimum dense similarity for a region to count as specifying "
            "a measure in `compare`."),
    Setting("max_upload_mb", 5.0, "Largest file accepted by the web upload form, in megabytes."),
    Setting("ray_address", "", "Where `policykb ingest --engine ray` runs: empty starts a local Ray; `auto` or "
            "`ray://host:10001` joins a Ray cluster whose workers have policykb and the model installed."),
    Setting("ray_cpus", 2, "CPUs a local Ray (ray_address empty) may use; also the size of its embedding actor pool."),
    Setting("host", "127.0.0.1", "Address `policykb serve` binds to."),
    Setting("port", 8000, "Port `policykb serve` listens on."),
    Setting("allowed_hosts", "", "Extra host names (comma-separated) the web server answers to, besides `host`, "
            "127.0.0.1 and localhost; requests naming any other Host are refused (DNS rebinding)."),
    Setting("backend", "local", "Where clauses are indexed and ranked: `local` (the index folder's faiss + bm25s "
            "segments, in-process) or `milvus` (one Milvus collection per knowledge base; needs the `scale` extra)."),
    Setting("milvus_uri", "milvus.db", "Milvus to use with backend `milvus`: a file path means Milvus Lite (embedded; "
            "a relative path lies inside index_dir), `http://host:19530` a Milvus standalone or cluster."),
    Setting("milvus_collection", "policykb", "Name of the knowledge base's Milvus collection (one per knowledge base)."),
    Setting("milvus_batch", 500, "Rows per Milvus upsert while the collection catches up with a build: bounded "
            "memory, well under a server's gRPC message limit."),
)


def _coerce(raw: str, default: Any, variable: str = "") -> Any:
    """An environment value in its setting's type; a value that is not one is a one-line error naming it."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        from policykb.errors import PolicyKBError

        kind = "a whole number" if isinstance(default, int) else "a number"
        raise PolicyKBError(f"{variable or 'setting'}={raw!r} is not {kind} (default {default})") from None
    return raw


@dataclass
class Settings:
    """Resolved settings. Build with `Settings.load()` so environment overrides apply."""

    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        for s in SETTINGS:
            env = os.environ.get(f"POLICYKB_{s.name.upper()}")
            variable = f"POLICYKB_{s.name.upper()}"
            values[s.name] = _coerce(env, s.default, variable) if env not in (None, "") else s.default
        for key, val in overrides.items():
            if key not in values:
                raise KeyError(f"unknown setting {key!r}")
            if val is not None:
                values[key] = val
        return cls(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def index_path(self) -> Path:
        return Path(self.values["index_dir"]).expanduser()

    @property
    def model_path(self) -> Path:
        """The model folder: `model` as a path if it exists, else a folder under models_dir."""
        model = str(self.values["model"])
        direct = Path(model).expanduser()
        if direct.is_dir():
            return direct.resolve()
        models_dir = Path(self.values["models_dir"]).expanduser()
        if not models_dir.is_absolute() and not models_dir.exists():
            models_dir = PROJECT_ROOT / models_dir
        return (models_dir / model).resolve()


def web_dir() -> Path:
    """Templates and static files: the top-level `web/` of a checkout, or the copy packaged with the code."""
    checkout = PROJECT_ROOT / "web"
    if (checkout / "templates").is_dir():
        return checkout
    return Path(__file__).resolve().parent / "web"


__all__ = ["SETTINGS", "Setting", "Settings", "web_dir", "fields"]
