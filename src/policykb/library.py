"""The library of originals: every ingested or uploaded file, kept by the sha256 of its bytes, plus its catalog.

Layout inside the knowledge-base folder (beside the index builds, never inside one):
    library/objects/ab/abcdef….txt   the original bytes (the suffix tells the loader how to read them)
    library/catalog.json             every document and its versions, as of the newest published build
    library/log.jsonl                one line per add, update and removal (removals are never silent)

The catalog of record is the one inside the published build's manifest (it changes atomically with the index);
`catalog.json` mirrors it so that the index can be re-derived from the library alone when every build is lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb.errors import IndexError_

LIBRARY_DIR = "library"
OBJECTS_DIR = "objects"
CATALOG_FILE = "catalog.json"
LOG_FILE = "log.jsonl"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Write data to path so that a reader (or a crash) sees the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


@dataclass
class Version:
    """One version of a document: the original it was derived from and what it said at the time."""

    version: int
    sha256: str  # of the original file's bytes (its name in library/objects)
    suffix: str  # how to read the original: .txt, .html, .htm, .docx
    source: str  # the original file's name
    source_path: str  # the path recorded in the document (a stable pseudo-path for uploads)
    overrides: dict[str, Any]  # metadata corrections: the sidecar's and the user's
    text_sha256: str  # of the cleaned text: the same text is never indexed twice
    ingested_at: str
    segment: str  # the index segment holding this version's rows
    title: str | None = None
    region_id: str | None = None
    region: str | None = None
    date: str | None = None
    doc_number: str | None = None
    # the template decision (policykb.templates): the page's site, digests of its lines that may be template,
    # and the line keys removed from it as template (what `rebuild` applies again)
    site: str | None = None
    line_keys: list[str] = field(default_factory=list)
    template: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Version:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Entry:
    """A document of the knowledge base: its versions (oldest first) and, once removed, when."""

    doc_id: str
    versions: list[Version] = field(default_factory=list)
    removed_at: str | None = None

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def live(self) -> bool:
        return self.removed_at is None and bool(self.versions)

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "versions": [v.to_dict() for v in self.versions], "removed_at": self.removed_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        return cls(str(data["doc_id"]), [Version.from_dict(v) for v in data.get("versions", [])],
                   data.get("removed_at"))


class Catalog:
    """Every document ever added, by doc_id, in the order they were first added."""

    def __init__(self, entries: list[Entry] | None = None) -> None:
        self.entries: dict[str, Entry] = {e.doc_id: e for e in entries or []}

    def copy(self) -> Catalog:
        return Catalog.from_list(self.to_list())

    def live(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.live]

    def get(self, doc_id: str) -> Entry | None:
        return self.entries.get(doc_id)

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.entries.values()]

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> Catalog:
        return cls([Entry.from_dict(d) for d in data])

    def live_by_segment(self) -> dict[str, set[str]]:
        """segment name → doc_ids whose newest version lives there (everything else in a segment is deleted)."""
        out: dict[str, set[str]] = {}
        for entry in self.live():
            out.setdefault(entry.latest.segment, set()).add(entry.doc_id)
        return out


class Library:
    """Originals by content hash, the catalog mirror and the change log of one knowledge-base folder."""

    def __init__(self, index_root: Path) -> None:
        self.root = Path(index_root) / LIBRARY_DIR

    def object_path(self, sha256: str, suffix: str) -> Path:
        return self.root / OBJECTS_DIR / sha256[:2] / f"{sha256}{suffix.lower()}"

    def put(self, data: bytes, suffix: str) -> str:
        """Keep the original bytes (once: the same bytes are the same object); returns their sha256."""
        digest = sha256_bytes(data)
        path = self.object_path(digest, suffix)
        if path.is_file() and path.stat().st_size == len(data):
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        return digest

    def read(self, sha256: str, suffix: str) -> bytes:
        path = self.object_path(sha256, suffix)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IndexError_(f"library original {self.relative(path)} is missing: {exc.strerror}") from exc
        if sha256_bytes(data) != sha256:
            raise IndexError_(f"library original {self.relative(path)} is damaged (its sha256 does not match)")
        return data

    def relative(self, path: Path) -> str:
        """A path as shown to users: relative to the knowledge-base folder, never the server's absolute path."""
        try:
            return str(Path(LIBRARY_DIR) / Path(path).relative_to(self.root))
        except ValueError:
            return Path(path).name

    def write_catalog(self, catalog: Catalog, generation: int) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        body = {"generation": generation, "documents": catalog.to_list()}
        write_atomically(self.root / CATALOG_FILE, json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))

    def read_catalog(self) -> tuple[Catalog, int]:
        """The mirrored catalog and its generation ((empty, 0) when there is none)."""
        path = self.root / CATALOG_FILE
        if not path.is_file():
            return Catalog(), 0
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            return Catalog.from_list(body["documents"]), int(body["generation"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexError_(f"library catalog {self.relative(path)} is unreadable: {exc}") from exc

    def log(self, events: list[dict[str, Any]]) -> None:
        """Append events (one JSON line each) to the change log, flushed to disk."""
        if not events:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOG_FILE, "a", encoding="utf-8") as fh:
            for event in events:
                fh.write(json.dumps({"at": now_iso(), **event}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def read_log(self) -> list[dict[str, Any]]:
        path = self.root / LOG_FILE
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a crash
        return out

    def check(self, catalog: Catalog) -> list[str]:
        """One line per problem: a version whose original is missing or does not hash to its name."""
        problems = []
        for entry in catalog.entries.values():
            for v in entry.versions:
                if not v.sha256:
                    continue  # built without the library (tests, benchmarks)
                path = self.object_path(v.sha256, v.suffix)
                if not path.is_file():
                    problems.append(f"{self.relative(path)}: missing original of {entry.doc_id} version {v.version}")
                elif sha256_bytes(path.read_bytes()) != v.sha256:
                    problems.append(f"{self.relative(path)}: damaged original of {entry.doc_id} version {v.version}")
        return problems
