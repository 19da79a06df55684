"""The order of the stages, written in one place: load → clean → metadata → segment → extract.

Embedding and indexing follow in `indexer.py`; everything before them is pure and model-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policykb import cleaning, extract, loading, metadata, segment
from policykb.errors import InputFileError
from policykb.records import Clause, Document, Metadata, Requirement


@dataclass
class ProcessedDocument:
    document: Document
    clauses: list[Clause]
    requirements: list[Requirement]


def clean_file(
    path: str | Path, max_file_mb: float = 20.0, max_pdf_pages: int = loading.DEFAULT_MAX_PAGES,
    convert_timeout_s: float = 120.0,
) -> Document:
    """Load one raw file, clean it and extract its metadata. Raises InputFileError on unreadable input."""
    path = Path(path)
    loaded = loading.load_file(path, max_bytes=int(max_file_mb * 1024 * 1024), max_pages=max_pdf_pages,
                               convert_timeout_s=convert_timeout_s)
    return clean_loaded(loaded, source_path=path)


def clean_loaded(
    loaded: loading.LoadedText, source_path: str | Path, overrides: dict | None = None, sidecar: bool = True,
    template: frozenset[str] = frozenset(),
) -> Document:
    """Clean a loaded file: loading's own changes come first, its form's fields (a red header) feed metadata.

    `template`: keys of the lines its site repeats (see policykb.templates), removed as template."""
    document = clean_raw_text(loaded.text, source_path, overrides, fields=loaded.fields, html=loaded.markup,
                              sidecar=sidecar, template=template)
    document.changes = [*loaded.changes, *document.changes]
    document.metadata.source_format = loaded.source_format
    document.metadata.ocr_confidence = loaded.ocr_confidence
    return document


def read_checked_sidecar(source_path: str | Path) -> dict[str, Any]:
    """The NAME.meta.toml overrides, each value checked now: a bad one (an impossible date) is an error that
    names the sidecar, not the document it describes."""
    overrides = metadata.read_sidecar(Path(source_path))
    try:
        metadata.apply_overrides(Metadata(), overrides)
    except ValueError as exc:
        raise InputFileError(metadata.sidecar_path(Path(source_path)), f"bad metadata sidecar: {exc}") from None
    return overrides


def clean_raw_text(
    raw_text: str, source_path: str | Path, overrides: dict | None = None, fields: dict[str, str] | None = None,
    html: str | None = None, sidecar: bool = True, template: frozenset[str] = frozenset(),
) -> Document:
    """Clean already-decoded raw text; `overrides` (and a NAME.meta.toml sidecar) win over extracted metadata.

    `html`: the page's markup when the raw text came from HTML, so that the main-content extractor can tell the
    page's furniture from its article. sidecar=False ignores any file beside source_path: a document re-derived
    from the library brings the overrides it was ingested with.
    """
    source_path = Path(source_path)
    result = cleaning.clean_text(raw_text, html=html, template=template)
    meta = metadata.extract_metadata(raw_text, result.text, source_path, fields=fields)
    if sidecar:
        meta = metadata.apply_overrides(meta, read_checked_sidecar(source_path))
    if overrides:
        meta = metadata.apply_overrides(meta, overrides)
    doc_id = metadata.make_doc_id(meta, source_path, result.text)
    return Document(
        doc_id=doc_id,
        source_path=str(source_path),
        raw_text=raw_text,
        text=result.text,
        metadata=meta,
        changes=result.changes,
    )


def process_document(document: Document) -> ProcessedDocument:
    """Segment a cleaned document into clauses and tag their quantitative requirements."""
    clauses = segment.segment_document(document)
    requirements = extract.extract_requirements(clauses)
    return ProcessedDocument(document, clauses, requirements)


def process_file(
    path: str | Path, max_file_mb: float = 20.0, max_pdf_pages: int = loading.DEFAULT_MAX_PAGES,
    convert_timeout_s: float = 120.0,
) -> ProcessedDocument:
    return process_document(clean_file(path, max_file_mb, max_pdf_pages, convert_timeout_s))
