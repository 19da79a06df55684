"""Documents, clauses, requirements and regions in one SQLite file (`kb.sqlite`) inside an index build folder.

Clause rowids are the dense ids shared with the vector and keyword indexes: the searchable clauses (role in
SEARCHABLE_ROLES) are numbered 0..n-1 in document order, the other clauses (headings, preamble, signature …)
follow, so `rowid < indexed_count()` means "in the search indexes".
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policykb.errors import IndexError_, NotFoundError
from policykb.loading import source_format_of
from policykb.records import Change, Clause, Document, Metadata, Requirement, ocr_confidence_of

if TYPE_CHECKING:
    from policykb.pipeline import ProcessedDocument

SCHEMA_VERSION = 1
SEARCHABLE_ROLES: tuple[str, ...] = ("body",)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    ordinal INTEGER NOT NULL,
    region_id TEXT, region TEXT, title TEXT, issuer TEXT, date TEXT, doc_number TEXT,
    kind TEXT NOT NULL, level TEXT, parent_region_ids TEXT NOT NULL,
    source_path TEXT NOT NULL, text TEXT NOT NULL, raw_text TEXT NOT NULL, changes TEXT NOT NULL
);
CREATE TABLE clauses (
    rowid INTEGER PRIMARY KEY,
    clause_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    region_id TEXT NOT NULL,
    section TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    role TEXT NOT NULL, ordinal INTEGER NOT NULL
);
CREATE INDEX clauses_doc ON clauses (doc_id, ordinal);
CREATE INDEX clauses_region ON clauses (region_id);
CREATE TABLE requirements (
    id INTEGER PRIMARY KEY,
    clause_id TEXT NOT NULL REFERENCES clauses(clause_id),
    doc_id TEXT NOT NULL, region_id TEXT NOT NULL,
    span TEXT NOT NULL, span_start INTEGER NOT NULL, span_end INTEGER NOT NULL,
    subject TEXT, comparator TEXT NOT NULL,
    value_low REAL NOT NULL, value_high REAL NOT NULL,
    unit TEXT, period TEXT, base TEXT, kind TEXT NOT NULL
);
CREATE INDEX requirements_clause ON requirements (clause_id);
CREATE INDEX requirements_region ON requirements (region_id, unit);
CREATE TABLE regions (
    region_id TEXT PRIMARY KEY, region TEXT, level TEXT, parent_region_ids TEXT NOT NULL
);
"""

_CLAUSE_COLUMNS = 'rowid, clause_id, doc_id, region_id, section, text, start, "end", role, ordinal'
_CLAUSE_COLUMNS_C = ", ".join("c." + col for col in _CLAUSE_COLUMNS.split(", "))
_REQ_COLUMNS = (
    "r.clause_id, r.doc_id, r.region_id, c.text, r.span, r.span_start, r.span_end, r.subject, r.comparator, "
    "r.value_low, r.value_high, r.unit, r.period, r.base, r.kind"
)


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _value_bounds(value: float | list[float] | tuple[float, float]) -> tuple[float, float]:
    """A requirement value as (low, high); a single number is both."""
    if isinstance(value, list | tuple):
        low, high = value
        return float(low), float(high)
    return float(value), float(value)


def _row_to_clause(row: sqlite3.Row | tuple[Any, ...]) -> Clause:
    _, clause_id, doc_id, region_id, section, text, start, end, role, ordinal = row
    return Clause(clause_id, doc_id, region_id, json.loads(section), text, start, end, role, ordinal)


def _row_to_requirement(row: tuple[Any, ...]) -> Requirement:
    (
        clause_id,
        doc_id,
        region_id,
        text,
        span,
        s0,
        s1,
        subject,
        comparator,
        low,
        high,
        unit,
        period,
        base,
        kind,
    ) = row
    value: float | list[float] = [low, high] if comparator == "range" else low
    return Requirement(
        clause_id, doc_id, region_id, text, span, s0, s1, subject, comparator, value, unit, period, base, kind
    )


def _row_to_document(row: tuple[Any, ...]) -> Document:
    (
        doc_id,
        _,
        region_id,
        region,
        title,
        issuer,
        date,
        doc_number,
        kind,
        level,
        parents,
        source_path,
        text,
        raw_text,
        changes,
    ) = row
    meta = Metadata(region_id, region, title, issuer, date, doc_number, kind, level, json.loads(parents))
    loaded_changes = [Change(**c) for c in json.loads(changes)]
    meta.source_format = source_format_of(source_path)
    meta.ocr_confidence = ocr_confidence_of(loaded_changes)
    return Document(doc_id, source_path, raw_text, text, meta, loaded_changes)


def ordered_clauses(processed: Sequence[ProcessedDocument]) -> list[Clause]:
    """All clauses in rowid order: searchable ones first (in document order), then the rest."""
    every = [c for p in processed for c in p.clauses]
    searchable = [c for c in every if c.role in SEARCHABLE_ROLES]
    return searchable + [c for c in every if c.role not in SEARCHABLE_ROLES]


class Store:
    """Read access to one `kb.sqlite` (and the one-shot bulk write that fills it at build time).

    Reads use one read-only connection per thread, opened on first use, so a web server may call from many
    threads at once. A build folder is never modified after it is swapped in, so connections open it immutable.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._regions: dict[str, dict[str, Any]] | None = None
        self._indexed_count: int | None = None

    # -- connections -------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if not self.path.is_file():
            raise IndexError_(f"no database at {self.path}")
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        with self._lock:
            self._connections.append(conn)
        self._local.conn = conn
        return conn

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connect().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __del__(self) -> None:
        # A sqlite3.Connection sits in a reference cycle with its own statement cache, so only a full garbage
        # collection would free a dropped one, page cache and file handle included: close them with the store.
        try:
            self.close()
        except Exception:  # noqa: S110 - interpreter shutdown; nothing left to free
            pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------------------

    def write_documents(self, processed: Sequence[ProcessedDocument]) -> None:
        """Create the database file (which must not exist yet) holding processed documents, in one transaction.

        A store is written once, whole: dense ids number the searchable clauses of every document together.
        """
        if self.path.exists():
            raise FileExistsError(f"{self.path} already exists: a store is written once, by one call")
        conn = sqlite3.connect(self.path)
        try:
            conn.executescript(SCHEMA)
            with conn:
                _write(conn, processed)
        except BaseException:
            conn.close()
            self.path.unlink(missing_ok=True)
            raise
        conn.close()
        self._regions = None
        self._indexed_count = None

    # -- reading -----------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def documents(self) -> list[Document]:
        """Every document, in ingest order."""
        return [_row_to_document(r) for r in self._query("SELECT * FROM documents ORDER BY ordinal")]

    def document(self, doc_id: str) -> Document:
        rows = self._query("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))
        if not rows:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return _row_to_document(rows[0])

    def document_headings(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """(title, date) of each of these documents that the store holds, in one query (no texts read)."""
        wanted = list(dict.fromkeys(doc_ids))
        out: dict[str, tuple[str, str | None]] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            rows = self._query(f"SELECT doc_id, title, date FROM documents WHERE doc_id IN ({_placeholders(chunk)})",
                               chunk)
            out.update((r[0], (r[1] or "", r[2])) for r in rows)
        return out

    def clauses(
        self,
        region_ids: Sequence[str] | None = None,
        doc_id: str | None = None,
        roles: Sequence[str] | None = None,
    ) -> list[Clause]:
        """Clauses in document order, optionally only some regions, one document, or some roles (None: all)."""
        where: list[str] = []
        params: list[Any] = []
        if region_ids is not None:
            where.append(f"c.region_id IN ({_placeholders(region_ids)})")
            params.extend(region_ids)
        if doc_id is not None:
            where.append("c.doc_id = ?")
            params.append(doc_id)
        if roles is not None:
            where.append(f"c.role IN ({_placeholders(roles)})")
            params.extend(roles)
        sql = f"SELECT {_CLAUSE_COLUMNS_C} FROM clauses c JOIN documents d ON d.doc_id = c.doc_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # Documents in ingest order, clauses in outline order within each.
        sql += " ORDER BY d.ordinal, c.ordinal"
        return [_row_to_clause(r) for r in self._query(sql, params)]

    def clause(self, clause_id: str) -> Clause:
        rows = self._query(f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE clause_id = ?", (clause_id,))
        if not rows:
            raise NotFoundError(f"no clause {clause_id!r} in the index")
        return _row_to_clause(rows[0])

    def clauses_by_rowids(self, rowids: Sequence[int]) -> list[Clause]:
        """Clauses for dense ids, in the order given; an unknown id raises NotFoundError."""
        wanted = [int(r) for r in rowids]
        if not wanted:
            return []
        found: dict[int, Clause] = {}
        for start in range(0, len(wanted), 900):  # SQLite caps bound parameters
            chunk = wanted[start : start + 900]
            for row in self._query(
                f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE rowid IN ({_placeholders(chunk)})", chunk
            ):
                found[row[0]] = _row_to_clause(row)
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFoundError(f"no clause with dense id {missing[0]} in the index")
        return [found[r] for r in wanted]

    def texts_and_headings(self, rowids: Sequence[int]) -> list[tuple[str, str]]:
        """Each dense id's clause text and the headings above it (as stored: one JSON list), in the order given;
        for search's second stage, which only reads words in them (cheaper than whole Clause records)."""
        wanted = [int(r) for r in rowids]
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(wanted), 900):  # SQLite caps bound parameters
            chunk = wanted[start : start + 900]
            for rowid, text, section in self._query(
                f"SELECT rowid, text, section FROM clauses WHERE rowid IN ({_placeholders(chunk)})", chunk
            ):
                found[rowid] = (text, section)
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFoundError(f"no clause with dense id {missing[0]} in the index")
        return [found[r] for r in wanted]

    def rowid(self, clause_id: str) -> int:
        rows = self._query("SELECT rowid FROM clauses WHERE clause_id = ?", (clause_id,))
        if not rows:
            raise NotFoundError(f"no clause {clause_id!r} in the index")
        return int(rows[0][0])

    def indexed_count(self) -> int:
        """How many clauses are in the search indexes (their dense ids are 0..count-1)."""
        if self._indexed_count is None:
            roles = SEARCHABLE_ROLES
            rows = self._query(f"SELECT count(*) FROM clauses WHERE role IN ({_placeholders(roles)})", roles)
            self._indexed_count = int(rows[0][0])
        return self._indexed_count

    def clause_count(self) -> int:
        """Every clause, searchable or not."""
        return int(self._query("SELECT count(*) FROM clauses")[0][0])

    def indexed_texts(self) -> Iterable[tuple[str, list[str]]]:
        """(text, section) of each searchable clause in dense-id order, streamed."""
        sql = "SELECT text, section FROM clauses WHERE rowid < ? ORDER BY rowid"
        for text, section in self._connect().execute(sql, (self.indexed_count(),)):
            yield text, json.loads(section)

    def facets(self) -> dict[str, np.ndarray]:
        """Per dense id: `region` and `doc` codes (indexes into the returned `region_ids`/`doc_ids` arrays) and
        `has_requirement` (a kind=requirement tag in the clause): the filters, as arrays for fast masking."""
        n = self.indexed_count()
        # Streamed (codes in first-seen order, renumbered in sorted order after): ten million rows as a list of
        # tuples would cost gigabytes that the allocator keeps after they are freed.
        cursor = self._connect().execute(
            "SELECT region_id, doc_id FROM clauses WHERE rowid < ? ORDER BY rowid", (n,)
        )
        seen_regions: dict[str, int] = {}
        seen_docs: dict[str, int] = {}
        region = np.empty(n, dtype=np.int32)
        doc = np.empty(n, dtype=np.int32)
        count = 0
        while batch := cursor.fetchmany(100_000):
            region[count : count + len(batch)] = [seen_regions.setdefault(r, len(seen_regions)) for r, _ in batch]
            doc[count : count + len(batch)] = [seen_docs.setdefault(d, len(seen_docs)) for _, d in batch]
            count += len(batch)
        region, doc = region[:count], doc[:count]
        region_ids = sorted(seen_regions)
        doc_ids = sorted(seen_docs)
        if count:
            region = _renumber(seen_regions, region_ids)[region]
            doc = _renumber(seen_docs, doc_ids)[doc]
        has_req = np.zeros(n, dtype=bool)
        cursor = self._connect().execute(
            "SELECT DISTINCT c.rowid FROM requirements r JOIN clauses c ON c.clause_id = r.clause_id "
            "WHERE r.kind = 'requirement' AND c.rowid < ?",
            (n,),
        )
        while batch := cursor.fetchmany(100_000):
            has_req[np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))] = True
        return {
            "region": region,
            "doc": doc,
            "has_requirement": has_req,
            "region_ids": np.array(region_ids, dtype=object),
            "doc_ids": np.array(doc_ids, dtype=object),
        }

    def requirements(
        self,
        region_ids: Sequence[str] | None = None,
        unit: str | None = None,
        comparator: str | None = None,
        value_min: float | None = None,
        value_max: float | None = None,
        kind: str | None = None,
        doc_id: str | None = None,
        clause_ids: Sequence[str] | None = None,
    ) -> list[Requirement]:
        """Requirements matching every filter given, in document and clause order.

        value_min/value_max keep requirements whose value (or range) reaches into [value_min, value_max].
        """
        where: list[str] = []
        params: list[Any] = []
        if region_ids is not None:
            where.append(f"r.region_id IN ({_placeholders(region_ids)})")
            params.extend(region_ids)
        for column, wanted in (
            ("unit", unit),
            ("comparator", comparator),
            ("kind", kind),
            ("doc_id", doc_id),
        ):
            if wanted is not None:
                where.append(f"r.{column} = ?")
                params.append(wanted)
        if value_min is not None:
            where.append("r.value_high >= ?")
            params.append(float(value_min))
        if value_max is not None:
            where.append("r.value_low <= ?")
            params.append(float(value_max))
        if clause_ids is not None:
            if not clause_ids:
                return []
            where.append(f"r.clause_id IN ({_placeholders(clause_ids)})")
            params.extend(clause_ids)
        sql = (
            f"SELECT {_REQ_COLUMNS} FROM requirements r JOIN clauses c ON c.clause_id = r.clause_id "
            "JOIN documents d ON d.doc_id = r.doc_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY d.ordinal, c.ordinal, r.span_start, r.id"
        return [_row_to_requirement(r) for r in self._query(sql, params)]

    def processed_documents(self) -> list[ProcessedDocument]:
        """Every document with its clauses and requirements, as the pipeline produced them (for rebuilding)."""
        from policykb.pipeline import ProcessedDocument

        clauses: dict[str, list[Clause]] = {}
        for clause in self.clauses():
            clauses.setdefault(clause.doc_id, []).append(clause)
        requirements: dict[str, list[Requirement]] = {}
        for req in self.requirements():
            requirements.setdefault(req.doc_id, []).append(req)
        return [
            ProcessedDocument(doc, clauses.get(doc.doc_id, []), requirements.get(doc.doc_id, []))
            for doc in self.documents()
        ]

    def regions(self) -> list[dict[str, Any]]:
        """Every region with documents: `region_id`, `region`, `level`, `parent_region_ids`, sorted by id."""
        if self._regions is None:
            rows = self._query(
                "SELECT region_id, region, level, parent_region_ids FROM regions ORDER BY region_id"
            )
            self._regions = {
                r[0]: {
                    "region_id": r[0],
                    "region": r[1],
                    "level": r[2],
                    "parent_region_ids": json.loads(r[3]),
                }
                for r in rows
            }
        return [dict(v) for v in self._regions.values()]

    def region_name(self, region_id: str) -> str:
        """The Chinese name of a region (its id when the documents never named it)."""
        if self._regions is None:
            self.regions()
        assert self._regions is not None
        entry = self._regions.get(region_id)
        return str(entry["region"]) if entry and entry["region"] else region_id


def _write(conn: sqlite3.Connection, processed: Sequence[ProcessedDocument]) -> None:
    """Insert processed documents in one transaction, numbering clauses as `ordered_clauses` does."""
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    regions: dict[str, tuple[str | None, str | None, list[str]]] = {}
    for ordinal, p in enumerate(processed):
        d, m = p.document, p.document.metadata
        conn.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                d.doc_id,
                ordinal,
                m.region_id,
                m.region,
                m.title,
                m.issuer,
                m.date,
                m.doc_number,
                m.kind,
                m.level,
                json.dumps(m.parent_region_ids),
                d.source_path,
                d.text,
                d.raw_text,
                json.dumps([c.to_dict() for c in d.changes], ensure_ascii=False),
            ),
        )
        if m.region_id:
            # The first document naming a region wins; later ones only fill what it left empty.
            old = regions.get(m.region_id, (None, None, []))
            regions[m.region_id] = (
                old[0] or m.region,
                old[1] or m.level,
                old[2] or list(m.parent_region_ids),
            )
    conn.executemany(
        f"INSERT INTO clauses ({_CLAUSE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            (
                i,
                c.clause_id,
                c.doc_id,
                c.region_id,
                json.dumps(c.section, ensure_ascii=False),
                c.text,
                c.start,
                c.end,
                c.role,
                c.ordinal,
            )
            for i, c in enumerate(ordered_clauses(processed))
        ),
    )
    for p in processed:
        for c in p.clauses:
            regions.setdefault(c.region_id, (None, None, []))
    conn.executemany(
        "INSERT INTO requirements (clause_id, doc_id, region_id, span, span_start, span_end, subject, comparator, "
        "value_low, value_high, unit, period, base, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            (
                r.clause_id,
                r.doc_id,
                r.region_id,
                r.span,
                r.span_start,
                r.span_end,
                r.subject,
                r.comparator,
                *_value_bounds(r.value),
                r.unit,
                r.period,
                r.base,
                r.kind,
            )
            for p in processed
            for r in p.requirements
        ),
    )
    conn.executemany(
        "INSERT INTO regions VALUES (?,?,?,?)",
        ((rid, name, level, json.dumps(parents)) for rid, (name, level, parents) in sorted(regions.items())),
    )


def _renumber(first_seen: dict[str, int], ordered: list[str]) -> np.ndarray:
    """code in first-seen order -> code in `ordered` order."""
    position = {key: i for i, key in enumerate(ordered)}
    out = np.empty(len(first_seen), dtype=np.int32)
    for key, code in first_seen.items():
        out[code] = position[key]
    return out
