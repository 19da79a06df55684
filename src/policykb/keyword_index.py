"""BM25 keyword index over jieba tokens (bm25s), with traditional script folded to simplified first."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Sequence
from importlib import util as importlib_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policykb.errors import PolicyKBError
from policykb.query import fold as fold_text

if TYPE_CHECKING:
    import bm25s

log = logging.getLogger(__name__)

# Below this many clauses the numpy backend answers in a few milliseconds, so numba's ~6 s JIT compilation
# on the first query would cost more than it saves.
NUMBA_MIN_DOCS = 20_000
# Posting files larger than this are memory-mapped rather than read into the heap.
MMAP_MIN_BYTES = 64 * 1024 * 1024

# Function words that carry no topic; single characters only matter as jieba tokens (bigrams keep them).
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 是 对 为 以 于 把 被 将 由 从 向 并 其 之 也 而 则 就 都 又 中 上 下 这 那 个 着 "
    "得 地 所 如 要 应 有 无 不 让 给 我 你 他 她 它 们 吗 呢 吧 啊 哪 什么 怎么 怎样 多少 哪些 如何 是否 "
    "一个 一些 这个 那个 以及 或者 并且 而且 进行 关于 通过 按照 根据 对于 其中 相关 有关".split()
)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORDLIKE = re.compile(rf"[0-9a-z{_CJK}]")

# Below this many clauses every word shared by a few clauses looks "common"; document frequencies only say
# something about a term once the index is this large.
COMMON_TERM_MIN_DOCS = 20

# Tokenizer variants, kept selectable so the benchmark can compare them on the same queries.
TOKENIZERS = ("search+bigrams", "cut+bigrams", "search", "cut")
DEFAULT_TOKENIZER = "cut+bigrams"




@functools.cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _bigrams(text: str) -> list[str]:
    """Character bigrams inside each CJK run, so `校聘` matches `县管校聘` however jieba splits it."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def query_jieba() -> Any:
    """The jieba tokenizer for queries: the loaded dictionary, or the index's lexicon file (same words, no load)."""
    from policykb.lexicon import query_tokenizer

    return query_tokenizer(_jieba)


def tokenize(text: str, variant: str = DEFAULT_TOKENIZER, query: bool = False) -> list[str]:
    """Fold, lowercase and split text into BM25 terms: jieba words without punctuation or stopwords, plus bigrams.

    `query`: cut with `query_jieba()` (a query of a cold process need not load the whole dictionary)."""
    if variant not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer variant {variant!r}: choose one of {', '.join(TOKENIZERS)}")
    folded = fold_text(text).lower()
    jb = query_jieba() if query else _jieba()
    words = jb.lcut_for_search(folded) if variant.startswith("search") else jb.lcut(folded)
    tokens = [w for w in (w.strip() for w in words) if w and _WORDLIKE.search(w) and w not in STOPWORDS]
    if variant.endswith("+bigrams"):
        # A bigram equal to a jieba word would count that word twice; skip those.
        seen = set(tokens)
        tokens.extend(b for b in _bigrams(folded) if b not in seen and b not in STOPWORDS)
    return tokens


@functools.lru_cache(maxsize=256)
def _query_terms(query: str, variant: str) -> tuple[str, ...]:
    """A query's distinct terms, cut once: compare searches every region with the same query."""
    return tuple(dict.fromkeys(tokenize(query, variant, query=True)))


def _numba_available() -> bool:
    return importlib_util.find_spec("numba") is not None


def choose_backend(n_docs: int, backend: str = "auto") -> str:
    """`numba` for large indexes when numba is installed, else `numpy` (same scores, no JIT start-up)."""
    if backend != "auto":
        return backend
    return "numba" if n_docs >= NUMBA_MIN_DOCS and _numba_available() else "numpy"


# bm25s's own file names inside a saved index folder.
_POSTING_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")
_VOCAB_FILE = "vocab.index.json"
_PARAMS_FILE = "params.index.json"
# Scorers: `csc` scores the query terms' posting lists with numpy and never imports bm25s (whose import pulls in
# scipy and numba, a second or more); `maxscore` walks the same posting lists with MaxScore pruning (numba,
# policykb.bm25_pruning; needs the impact bounds saved beside the index), the same answer without touching every
# posting; `numpy` and `numba` are bm25s's own retrieval, kept for comparison.
SCORERS = ("csc", "maxscore", "numpy", "numba")
# The impact-bounds file (policykb.bm25_pruning.BOUNDS_FILE), named here so that loading a small index imports no numba.
BOUNDS_FILE = "impact_bounds.policykb.npy"


def top_k_ids(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of (ids ascending, scores), best first, equal scores by lower id: also at the cut, so the
    candidates never depend on how a partition happened to order ties."""
    if ids.size > k:
        cut = np.partition(scores, ids.size - k)[ids.size - k]
        above = scores > cut
        at_cut = np.flatnonzero(scores == cut)[: k - int(above.sum())]
        keep = np.sort(np.concatenate([np.flatnonzero(above), at_cut]))
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))
    return ids[order], scores[order]


class KeywordIndex:
    """A BM25 index whose document ids are the clauses' dense ids (0..n-1, in build order).

    bm25s builds the index (its eager sparse score matrix: one posting list of precomputed BM25 weights per term);
    searching reads those posting lists directly, memory-mapped when large, so answering a query needs neither
    bm25s nor numba: a cold process pays no import or JIT compilation, and the cost is that of the query's postings.
    A large index prunes those postings with MaxScore (policykb.bm25_pruning, numba, its compiled code cached on
    disk), same answer.
    """

    META_FILE = "policykb.json"

    def __init__(
        self, bm25: bm25s.BM25 | None, n_docs: int, tokenizer: str = DEFAULT_TOKENIZER, scorer: str = "auto",
        postings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, vocab: dict[str, int] | None = None,
        bounds: np.ndarray | None = None,
    ) -> None:
        if scorer not in (*SCORERS, "auto"):
            raise ValueError(f"unknown BM25 scorer {scorer!r}: choose one of {', '.join(SCORERS)}")
        self._bm25 = bm25
        self.n_docs = n_docs
        self.tokenizer = tokenizer
        if scorer == "auto":  # bm25s's compiled scorer where it was chosen for a large index, else the posting lists
            scorer = "numba" if bm25 is not None and str(bm25.backend) == "numba" else "csc"
        self._scorer = scorer if bm25 is not None or scorer == "maxscore" else "csc"
        if postings is None and bm25 is not None and n_docs:
            scores = bm25.scores
            postings = (scores["data"], scores["indices"], scores["indptr"])
        self._data, self._indices, self._indptr = postings or (
            np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int32))
        self._vocab: dict[str, int] = vocab if vocab is not None else dict(getattr(bm25, "vocab_dict", None) or {})
        # Each term's largest weight (MaxScore's bounds); None: not computed, or an index saved before they were.
        self._bounds = bounds
        if self._scorer == "maxscore" and (bounds is None or bounds.size != self._indptr.size - 1):
            raise PolicyKBError("the maxscore BM25 scorer needs the index's impact bounds: none were given")
        self._warm = False

    def __len__(self) -> int:
        return self.n_docs

    @property
    def backend(self) -> str:
        return self._scorer if self._scorer in ("csc", "maxscore") or self._bm25 is None else str(self._bm25.backend)

    def impact_bounds(self) -> np.ndarray | None:
        """Each term's largest posting weight, computed from the postings if not yet known; None when the posting
        lists are not in clause-id order (then only exhaustive scoring answers)."""
        if self._bounds is None and self.n_docs:
            from policykb.bm25_pruning import compute_bounds

            self._bounds = compute_bounds(self._data, self._indices, self._indptr)
        return self._bounds

    @classmethod
    def ensure_impact_bounds(cls, folder: Path) -> bool:
        """Write the impact bounds beside a saved index that lacks them (an index saved before MaxScore): one pass
        over its postings, written atomically. True when a file was written."""
        folder = Path(folder)
        target = folder / BOUNDS_FILE
        meta = json.loads((folder / cls.META_FILE).read_text(encoding="utf-8"))
        if target.exists() or not int(meta["n_docs"]):
            return False
        index = cls.load(folder, backend="csc")
        return index._write_bounds(folder)

    def _write_bounds(self, folder: Path) -> bool:
        bounds = self.impact_bounds()
        if bounds is None:
            return False
        tmp = folder / f".{BOUNDS_FILE}.tmp-{os.getpid()}"
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(bounds, dtype=np.float32))
        os.replace(tmp, folder / BOUNDS_FILE)
        return True

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        backend: str = "auto",
        tokenizer: str = DEFAULT_TOKENIZER,
        progress: bool = False,
    ) -> KeywordIndex:
        """Tokenise and index texts; text i gets id i. `backend` numpy or numba searches with bm25s's retrieval."""
        import bm25s
        from tqdm import tqdm

        # jieba dominates build time (a few thousand clauses a second), so this is the bar worth showing.
        bar = tqdm(texts, desc="建立关键词索引", unit="条", disable=not progress)
        corpus_tokens = [tokenize(t, tokenizer) or [""] for t in bar]
        chosen = choose_backend(len(texts), backend if backend in ("numpy", "numba") else "auto")
        bm25 = bm25s.BM25(backend=chosen)
        if texts:
            bm25.index(corpus_tokens, show_progress=False)  # bm25s's own bars are internal steps, not stages
        index = cls(bm25, len(texts), tokenizer, scorer=backend if backend in ("numpy", "numba") else "auto")
        # A large index (or one asked for maxscore) prunes: exact, and cheaper than touching every posting.
        if texts and (backend == "maxscore" or (backend == "auto" and chosen == "numba")):
            if index.impact_bounds() is not None:
                index._scorer = "maxscore"
        return index

    def save(self, folder: Path) -> None:
        """Write the index files into folder (created if needed), in bm25s's format."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            if self._bm25 is None:
                raise PolicyKBError("a keyword index read from disk is saved by copying its folder")
            self._bm25.save(str(folder), show_progress=False)
            # MaxScore's bounds go with the postings (a segment folder is renamed into place only once complete);
            # a small index is scored exhaustively (choose_backend), so it needs none and saves without numba.
            if choose_backend(self.n_docs) == "numba":
                self._write_bounds(folder)
        meta = {"n_docs": self.n_docs, "tokenizer": self.tokenizer}
        (folder / self.META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, backend: str = "auto", mmap: bool | None = None) -> KeywordIndex:
        """Read an index written by `save`, its posting lists memory-mapped from MMAP_MIN_BYTES on (or as `mmap`
        says). `csc` reads the posting lists with numpy; `maxscore` walks them with MaxScore pruning (bm25_pruning);
        `numpy` or `numba` loads bm25s to search with its retrieval; `auto` is maxscore for large indexes when numba is
        installed and the impact bounds were saved, numba for large ones saved without them (exhaustive, as
        before), else csc."""
        folder = Path(folder)
        meta = json.loads((folder / cls.META_FILE).read_text(encoding="utf-8"))
        n_docs = int(meta["n_docs"])
        tokenizer = meta.get("tokenizer", DEFAULT_TOKENIZER)
        if backend == "auto" and n_docs:
            # numba's compiled loop beats numpy's scatter-add at a million clauses (about 1 ms against 10): large
            # indexes keep bm25s's numba scorer, small ones (every cold CLI query there) read the posting lists.
            backend = "numba" if choose_backend(n_docs) == "numba" else "csc"
            if backend == "numba" and (folder / BOUNDS_FILE).is_file():
                backend = "maxscore"
        if mmap is None:
            mmap = n_docs > 0 and sum((folder / name).stat().st_size for name in _POSTING_FILES) >= MMAP_MIN_BYTES
        if backend in ("numpy", "numba"):
            import bm25s

            if n_docs:
                bm25 = bm25s.BM25.load(str(folder), mmap=bool(mmap), backend=backend, show_progress=False,
                                       verbosity=0)
            else:
                bm25 = bm25s.BM25(backend=backend)
            return cls(bm25, n_docs, tokenizer, scorer=backend)
        if not n_docs:
            return cls(None, 0, tokenizer)
        params = json.loads((folder / _PARAMS_FILE).read_text(encoding="utf-8"))
        if (folder / "nonoccurrence_array.index.npy").exists() or params.get("num_docs") != n_docs:
            raise PolicyKBError(f"{folder}: a BM25 variant with non-occurrence scores, or a size other than "
                                f"{n_docs}, is not supported: rebuild the index")
        data, indices, indptr = (np.load(folder / name, mmap_mode="r" if mmap else None) for name in _POSTING_FILES)
        vocab = json.loads((folder / _VOCAB_FILE).read_text(encoding="utf-8"))
        bounds = None
        if (folder / BOUNDS_FILE).is_file():
            try:
                bounds = np.load(folder / BOUNDS_FILE)
            except (OSError, ValueError):  # a damaged file: pruning is an optimisation, exhaustive scoring answers
                bounds = None
            if bounds is None or bounds.shape != (indptr.size - 1,) or bounds.dtype != np.float32:
                log.warning("%s: unreadable or another index's impact bounds, ignored (exhaustive BM25)",
                            folder / BOUNDS_FILE)
                bounds = None
        if backend == "maxscore" and bounds is None:
            if (folder / BOUNDS_FILE).is_file():
                backend = "csc"
            else:
                raise PolicyKBError(f"{folder}: no {BOUNDS_FILE} for the maxscore BM25 scorer: "
                                    "write it with KeywordIndex.ensure_impact_bounds")
        return cls(None, n_docs, tokenizer, postings=(data, indices, indptr), vocab=vocab, bounds=bounds,
                   scorer="maxscore" if backend == "maxscore" else "csc")

    def warm_up(self) -> None:
        """Load jieba's dictionary, and with bm25s's numba scorer compile it now (about 6 s once), not on the first
        query."""
        # A long-running process loads jieba's whole dictionary (faster per query than the lexicon file).
        tokenize("预热")
        if self.n_docs and not self._warm:
            self._retrieve([0], 1, None)
        self._warm = True

    def _retrieve(
        self, token_ids: list[int], k: int, allowed_ids: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top k (ids, scores) with a positive score, best first, ties by id."""
        if self._scores_postings:
            return self._score_postings(token_ids, k, allowed_ids)
        bounds, bm25 = self._bounds, self._bm25
        if bounds is not None and self._scorer == "maxscore":
            from policykb.bm25_pruning import maxscore_top_k

            return maxscore_top_k(self._data, self._indices, self._indptr, bounds, token_ids, k, allowed_ids)
        assert bm25 is not None  # a missing bm25s object scores from the posting lists (_scores_postings)
        mask = None
        if allowed_ids is not None:
            mask = np.zeros(self.n_docs, dtype=np.float32)
            mask[allowed_ids] = 1.0
        docs, scores = bm25.retrieve(
            [token_ids], k=k, show_progress=False, n_threads=0, weight_mask=mask, return_as="tuple"
        )
        ids, values = np.asarray(docs[0], dtype=np.int64), np.asarray(scores[0], dtype=np.float32)
        keep = values > 0
        ids, values = ids[keep], values[keep]
        # bm25s orders equal scores arbitrarily; lower id first keeps results reproducible.
        order = np.lexsort((ids, -values))
        return ids[order], values[order]

    def _score_postings(
        self, token_ids: list[int], k: int, allowed_ids: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 from the posting lists: each term's weights added in query order, exactly as bm25s sums them."""
        return self._top_allowed(*self._posting_scores(token_ids), k, allowed_ids)

    def _posting_scores(self, token_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Every document's BM25 score for these terms (summed in query order, as bm25s sums them) and the ids
        of the documents that have a posting, ascending."""
        starts = np.asarray(self._indptr[token_ids], dtype=np.int64)
        ends = np.asarray(self._indptr[np.asarray(token_ids, dtype=np.int64) + 1], dtype=np.int64)
        total = int((ends - starts).sum())
        if total == 0:
            return np.zeros(0, dtype=np.float32), np.empty(0, dtype=np.int64)
        scores = np.zeros(self.n_docs, dtype=np.float32)
        # A term's posting list names each document once, so a fancy-indexed += adds every weight exactly once.
        slices = [(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True) if e > s]
        for s, e in slices:
            scores[self._indices[s:e]] += self._data[s:e]
        if total * 8 < self.n_docs:  # few postings: gather them instead of scanning every document
            ids = np.unique(np.concatenate([np.asarray(self._indices[s:e]) for s, e in slices])).astype(np.int64)
        else:
            ids = np.flatnonzero(scores)
        return scores, ids

    @staticmethod
    def _top_allowed(
        scores: np.ndarray, ids: np.ndarray, k: int, allowed_ids: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best of the scored ids that are allowed (ascending allowed ids), best first, ties by id."""
        if allowed_ids is not None:
            allowed = np.asarray(allowed_ids, dtype=np.int64)
            pos = np.minimum(np.searchsorted(allowed, ids), max(allowed.size - 1, 0))
            ids = ids[allowed[pos] == ids] if allowed.size else ids[:0]
        values = scores[ids]
        keep = values > 0
        return top_k_ids(ids[keep], values[keep], k)

    def query_token_ids(self, query: str, common_share: float = 1.0) -> list[int]:
        """The query's terms that the index knows, each once (repeating a word should not multiply its weight).

        Terms found in more than `common_share` of the clauses are dropped: in a collection about one theme
        (集团, 学校, 教育) they and their bigrams outvote the one rare word that says what the query is about.
        A query made only of common terms keeps them all.
        """
        vocab = self._vocab
        ids = [vocab[t] for t in _query_terms(query, self.tokenizer) if t in vocab]
        if common_share >= 1.0 or not ids:
            return ids
        limit = max(common_share * self.n_docs, COMMON_TERM_MIN_DOCS)
        kept = [t for t, df in zip(ids, self.document_frequencies(ids).tolist(), strict=True) if df <= limit]
        return kept or ids

    def document_frequencies(self, token_ids: Sequence[int]) -> np.ndarray:
        """How many clauses contain each token id (the length of its posting list)."""
        indptr = self._indptr
        ids = np.asarray(token_ids, dtype=np.int64)
        return np.asarray(indptr[ids + 1] - indptr[ids], dtype=np.int64)

    def search(
        self, query: str, k: int, allowed_ids: np.ndarray | None = None, common_share: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores), best first; only documents sharing a term with the query, only allowed ids.

        common_share: drop query terms found in more than this share of the clauses (see `query_token_ids`).
        """
        return self.search_many(query, [(k, allowed_ids)], common_share)[0]

    def search_many(
        self, query: str, requests: Sequence[tuple[int, np.ndarray | None]], common_share: float = 1.0
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` of one query for each (k, allowed ids), each answer exactly as `search` gives it; the query is
        cut once and, with the posting-list scorer, scored once (compare ranks one query in every region)."""
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        if self.n_docs == 0:
            return [empty for _ in requests]
        token_ids = self.query_token_ids(query, common_share)
        if not token_ids:
            return [empty for _ in requests]
        shared: tuple[np.ndarray, np.ndarray] | None = None
        out = []
        for k, allowed_ids in requests:
            if k <= 0:
                out.append(empty)
                continue
            if allowed_ids is not None:
                allowed_ids = np.asarray(allowed_ids, dtype=np.int64)
                if allowed_ids.size == 0:
                    out.append(empty)
                    continue
                if allowed_ids.size > 1 and bool((allowed_ids[1:] < allowed_ids[:-1]).any()):
                    allowed_ids = np.unique(allowed_ids)
            if self._scores_postings:
                if shared is None:
                    shared = self._posting_scores(token_ids)
                out.append(self._top_allowed(*shared, min(k, self.n_docs), allowed_ids))
            else:
                out.append(self._retrieve(token_ids, min(k, self.n_docs), allowed_ids))
        return out

    @property
    def _scores_postings(self) -> bool:
        """Whether `_retrieve` scores from the posting lists (`_score_postings`: the csc scorer, MaxScore without
        its bounds, or no bm25s object), whose per-document scores one query can share between filters."""
        if self._scorer == "maxscore":
            return self._bounds is None
        return self._scorer == "csc" or self._bm25 is None
