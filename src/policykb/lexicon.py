"""jieba's dictionary and IDF table as one SQLite file, read a word at a time, so a cold process can cut a query.

Loading jieba's prefix dictionary takes a second or more (its marshal cache holds 580,000 entries) and the IDF
table that compare weighs terms with another half second; a query needs a few hundred of those entries. The
lexicon file holds exactly jieba's tables (prefix frequencies with their total, IDF values with their median),
written once at index time, so cutting a query through it gives the words the full dictionary gives.

A process that has loaded the full dictionary anyway (an ingest) keeps using it; the file is only a faster way
to the same answers. Like jieba's own cache it lives in the temporary folder, one per user and jieba: every
index (and every test) shares it, written once by `policykb ingest`, `models install` or the first query that
finds it missing. It is stamped with jieba's version and the sizes of its dictionary files (another jieba makes
it stale, and it is rewritten), and a file another user owns is never read.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LEXICON_FILE = "lexicon.sqlite"


def _jieba_files() -> tuple[Path, Path]:
    import jieba

    root = Path(jieba.__file__).parent
    return root / "dict.txt", root / "analyse" / "idf.txt"


@functools.cache  # jieba does not change under a running process; every query asks
def stamp() -> str:
    """jieba's version and the sizes of its dictionary files: what the lexicon was made from."""
    import jieba

    # jieba's own attribute, not importlib.metadata: reading the installed distributions costs a cold query 60 ms
    version = str(getattr(jieba, "__version__", "?"))
    sizes = ",".join(str(p.stat().st_size) if p.exists() else "-" for p in _jieba_files())
    return f"jieba {version}; {sizes}"


def lexicon_path() -> Path:
    """This user's lexicon for this jieba, in the temporary folder (as jieba keeps its own cache)."""
    digest = hashlib.sha256(stamp().encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"policykb-{os.getuid()}-{digest}-{LEXICON_FILE}"


class LookupTable(Mapping[str, Any]):
    """A read-only word → number table in the lexicon file; lookups are remembered (a server repeats words)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, table: str) -> None:
        self._conn, self._lock, self._table = conn, lock, table
        self._seen: dict[str, Any] = {}

    def _lookup(self, word: str) -> Any:
        try:
            return self._seen[word]
        except KeyError:
            pass
        with self._lock:
            row = self._conn.execute(f"SELECT value FROM {self._table} WHERE word = ?", (word,)).fetchone()
        value = None if row is None else row[0]
        if len(self._seen) < 200_000:
            self._seen[word] = value
        return value

    def __getitem__(self, word: str) -> Any:
        value = self._lookup(word)
        if value is None:
            raise KeyError(word)
        return value

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._lookup(word) is not None

    def get(self, word: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self._lookup(word)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        raise TypeError("the lexicon is looked up word by word, not listed")

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0])


class Lexicon:
    """An open lexicon file: `freq` (jieba's prefix dictionary), `total`, `idf` and `median_idf`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        lock = threading.Lock()
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("stamp") != stamp():
            self._conn.close()
            raise ValueError(f"made from {meta.get('stamp')}, this is {stamp()}")
        self.total = int(meta["total"])
        self.median_idf = float(meta["median_idf"])
        self.freq = LookupTable(self._conn, lock, "freq")
        self.idf = LookupTable(self._conn, lock, "idf")


def write_lexicon(path: Path) -> Path:
    """Write jieba's prefix dictionary and IDF table to `path` (atomically: a reader sees the old file or the new)."""
    import jieba
    import jieba.analyse

    path = Path(path)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tfidf = jieba.analyse.TFIDF()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE freq (word TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;"
            "CREATE TABLE idf (word TEXT PRIMARY KEY, value REAL) WITHOUT ROWID;"
        )
        with conn:
            conn.executemany("INSERT INTO freq VALUES (?, ?)", tokenizer.FREQ.items())
            conn.executemany("INSERT INTO idf VALUES (?, ?)", tfidf.idf_freq.items())
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("stamp", stamp()), ("total", str(tokenizer.total)), ("median_idf", repr(float(tfidf.median_idf))),
            ])
        conn.close()
        os.replace(tmp, path)
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    return path


def ensure_lexicon() -> Path | None:
    """The lexicon, written now when missing or stale; None when it cannot be written."""
    path = lexicon_path()
    if _open(path) is not None:
        return path
    try:
        return write_lexicon(path)
    except OSError as exc:
        log.info("could not write the jieba lexicon %s: %s", path, exc)
        return None


@functools.lru_cache(maxsize=4)
def _open_cached(path: Path, mtime_ns: int) -> Lexicon | None:
    try:
        return Lexicon(path)
    except (sqlite3.Error, ValueError, KeyError, OSError) as exc:
        log.info("not using the jieba lexicon %s: %s", path, exc)
        return None


def _open(path: Path | None) -> Lexicon | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    if stat.st_uid != os.getuid():  # a shared temporary folder: never read words another user could have written
        return None
    return _open_cached(path, stat.st_mtime_ns)


def configured_lexicon() -> Lexicon | None:
    """The lexicon, if it exists and matches this jieba."""
    return _open(lexicon_path())


def query_tokenizer(full: Any) -> Any:
    """A jieba.Tokenizer for cutting queries: `full()` (the loaded dictionary) when it is loaded already or there
    is no usable lexicon, else one that looks words up in the lexicon file."""
    if getattr(full, "cache_info", None) is not None and full.cache_info().currsize:
        return full()
    lexicon = configured_lexicon()
    if lexicon is None:
        tokenizer = full()
        if not lexicon_path().exists():  # written once, so the next process cuts its queries fast
            try:
                write_lexicon(lexicon_path())
            except (OSError, sqlite3.Error) as exc:
                log.info("could not write the jieba lexicon %s: %s", lexicon_path(), exc)
        return tokenizer
    return _lexicon_tokenizer(lexicon)


@functools.lru_cache(maxsize=4)
def _lexicon_tokenizer(lexicon: Lexicon) -> Any:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = lexicon.freq
    tokenizer.total = lexicon.total
    tokenizer.initialized = True
    return tokenizer


def idf_table() -> tuple[Mapping[str, float], float]:
    """jieba's IDF table and its median: from the lexicon when there is one, else jieba's own file."""
    lexicon = configured_lexicon()
    if lexicon is not None:
        return lexicon.idf, lexicon.median_idf
    return _full_idf()


@functools.cache
def _full_idf() -> tuple[dict[str, float], float]:
    import jieba.analyse

    tfidf = jieba.analyse.TFIDF()
    median = float(tfidf.median_idf)
    assert not math.isnan(median)
    return tfidf.idf_freq, median
