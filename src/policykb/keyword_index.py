"""BM25 keyword index over jieba tokens (bm25s), with traditional script folded to simplified first."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Sequence
from importlib import util as importlib_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policykb.query import fold as fold_text

if TYPE_CHECKING:
    import bm25s

log = logging.getLogger(__name__)

# Below this many clauses the numpy backend answers in a few milliseconds, so numba's ~6 s JIT compilation
# on the first query would cost more than it saves.
NUMBA_MIN_DOCS = 20_000

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


def tokenize(text: str, variant: str = DEFAULT_TOKENIZER) -> list[str]:
    """Fold, lowercase and split text into BM25 terms: jieba words without punctuation or stopwords, plus bigrams."""
    if variant not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer variant {variant!r}: choose one of {', '.join(TOKENIZERS)}")
    folded = fold_text(text).lower()
    jb = _jieba()
    words = jb.lcut_for_search(folded) if variant.startswith("search") else jb.lcut(folded)
    tokens = [w for w in (w.strip() for w in words) if w and _WORDLIKE.search(w) and w not in STOPWORDS]
    if variant.endswith("+bigrams"):
        # A bigram equal to a jieba word would count that word twice; skip those.
        seen = set(tokens)
        tokens.extend(b for b in _bigrams(folded) if b not in seen and b not in STOPWORDS)
    return tokens


def _numba_available() -> bool:
    return importlib_util.find_spec("numba") is not None


def choose_backend(n_docs: int, backend: str = "auto") -> str:
    """`numba` for large indexes when numba is installed, else `numpy` (same scores, no JIT start-up)."""
    if backend != "auto":
        return backend
    return "numba" if n_docs >= NUMBA_MIN_DOCS and _numba_available() else "numpy"


class KeywordIndex:
    """A BM25 index whose document ids are the clauses' dense ids (0..n-1, in build order)."""

    META_FILE = "policykb.json"

    def __init__(self, bm25: bm25s.BM25, n_docs: int, tokenizer: str = DEFAULT_TOKENIZER) -> None:
        self._bm25 = bm25
        self.n_docs = n_docs
        self.tokenizer = tokenizer
        self._warm = False

    def __len__(self) -> int:
        return self.n_docs

    @property
    def backend(self) -> str:
        return str(self._bm25.backend)

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        backend: str = "auto",
        tokenizer: str = DEFAULT_TOKENIZER,
        progress: bool = False,
    ) -> KeywordIndex:
        """Tokenise and index texts; text i gets id i."""
        import bm25s
        from tqdm import tqdm

        # jieba dominates build time (a few thousand clauses a second), so this is the bar worth showing.
        bar = tqdm(texts, desc="建立关键词索引", unit="条", disable=not progress)
        corpus_tokens = [tokenize(t, tokenizer) or [""] for t in bar]
        chosen = choose_backend(len(texts), backend)
        bm25 = bm25s.BM25(backend=chosen)
        if texts:
            bm25.index(corpus_tokens, show_progress=False)  # bm25s's own bars are internal steps, not stages
        return cls(bm25, len(texts), tokenizer)

    def save(self, folder: Path) -> None:
        """Write the index files into folder (created if needed)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            self._bm25.save(str(folder), show_progress=False)
        meta = {"n_docs": self.n_docs, "tokenizer": self.tokenizer}
        (folder / self.META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, backend: str = "auto", mmap: bool = False) -> KeywordIndex:
        """Read an index written by `save`; the backend is chosen again for this machine."""
        import bm25s

        folder = Path(folder)
        meta = json.loads((folder / cls.META_FILE).read_text(encoding="utf-8"))
        n_docs = int(meta["n_docs"])
        chosen = choose_backend(n_docs, backend)
        if n_docs:
            bm25 = bm25s.BM25.load(str(folder), mmap=mmap, backend=chosen, show_progress=False, verbosity=0)
        else:
            bm25 = bm25s.BM25(backend=chosen)
        return cls(bm25, n_docs, meta.get("tokenizer", DEFAULT_TOKENIZER))

    def warm_up(self) -> None:
        """Load jieba and compile the numba scorer now (about 6 s once) rather than on the first user query."""
        tokenize("预热")
        if self.n_docs and not self._warm:
            self._retrieve([0], 1, None)
        self._warm = True

    def _retrieve(
        self, token_ids: list[int], k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        docs, scores = self._bm25.retrieve(
            [token_ids], k=k, show_progress=False, n_threads=0, weight_mask=mask, return_as="tuple"
        )
        return np.asarray(docs[0], dtype=np.int64), np.asarray(scores[0], dtype=np.float32)

    def query_token_ids(self, query: str, common_share: float = 1.0) -> list[int]:
        """The query's terms that the index knows, each once (repeating a word should not multiply its weight).

        Terms found in more than `common_share` of the clauses are dropped: in a collection about one theme
        (集团, 学校, 教育) they and their bigrams outvote the one rare word that says what the query is about.
        A query made only of common terms keeps them all.
        """
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in dict.fromkeys(tokenize(query, self.tokenizer)) if t in vocab]
        if common_share >= 1.0 or not ids:
            return ids
        limit = max(common_share * self.n_docs, COMMON_TERM_MIN_DOCS)
        kept = [t for t, df in zip(ids, self.document_frequencies(ids).tolist(), strict=True) if df <= limit]
        return kept or ids

    def document_frequencies(self, token_ids: Sequence[int]) -> np.ndarray:
        """How many clauses contain each token id (the length of its posting list)."""
        indptr = self._bm25.scores["indptr"]
        ids = np.asarray(token_ids, dtype=np.int64)
        return np.asarray(indptr[ids + 1] - indptr[ids], dtype=np.int64)

    def search(
        self, query: str, k: int, allowed_ids: np.ndarray | None = None, common_share: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores), best first; only documents sharing a term with the query, only allowed ids.

        common_share: drop query terms found in more than this share of the clauses (see `query_token_ids`).
        """
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        if self.n_docs == 0 or k <= 0:
            return empty
        token_ids = self.query_token_ids(query, common_share)
        if not token_ids:
            return empty
        mask = None
        if allowed_ids is not None:
            allowed_ids = np.asarray(allowed_ids, dtype=np.int64)
            if allowed_ids.size == 0:
                return empty
            mask = np.zeros(self.n_docs, dtype=np.float32)
            mask[allowed_ids] = 1.0
        ids, scores = self._retrieve(token_ids, min(k, self.n_docs), mask)
        keep = scores > 0
        ids, scores = ids[keep], scores[keep]
        # bm25s orders equal scores arbitrarily; lower id first keeps results reproducible.
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]
