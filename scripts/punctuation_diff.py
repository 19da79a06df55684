"""Check that a pipeline change altered punctuation only: dump, then compare under fold_for_matching.

    PYTHONPATH=<old src> python scripts/punctuation_diff.py dump OLD.json FILE...
    PYTHONPATH=src       python scripts/punctuation_diff.py dump NEW.json FILE...
    PYTHONPATH=src       python scripts/punctuation_diff.py compare OLD.json NEW.json

`compare` folds every string of NEW with fold_for_matching and reports each field that still differs from
OLD (ids, offsets, values, titles): an empty report means the two runs differ in the written form of
punctuation alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def dump(out: str, files: list[str]) -> None:
    from policykb import extract, pipeline, segment

    docs: dict[str, Any] = {}
    for name in files:
        document = pipeline.clean_file(name)
        clauses = segment.segment_document(document)
        requirements = extract.extract_requirements(clauses)
        docs[Path(name).name] = {
            "doc_id": document.doc_id,
            "text": document.text,
            "metadata": document.metadata.to_dict() if hasattr(document.metadata, "to_dict") else vars(
                document.metadata),
            "clauses": [c.to_dict() if hasattr(c, "to_dict") else vars(c) for c in clauses],
            "requirements": [r.to_dict() if hasattr(r, "to_dict") else vars(r) for r in requirements],
        }
    Path(out).write_text(json.dumps(docs, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def _fold(value: Any) -> Any:
    from policykb.cleaning.punctuation import fold_for_matching

    if isinstance(value, str):
        return fold_for_matching(value)
    if isinstance(value, list):
        return [_fold(v) for v in value]
    if isinstance(value, dict):
        return {k: _fold(v) for k, v in value.items()}
    return value


def _differences(old: Any, new: Any, where: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new)) for d in _differences(old.get(k), new.get(k), f"{where}.{k}")]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in _differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where}: {str(old)[:120]!r} != {str(new)[:120]!r}"]


def compare(old_path: str, new_path: str) -> int:
    old = json.loads(Path(old_path).read_text(encoding="utf-8"))
    new = _fold(json.loads(Path(new_path).read_text(encoding="utf-8")))
    report = _differences(old, new, "")
    for line in report:
        print(line)
    print(f"{len(report)} differences beyond punctuation in {len(old)} documents")
    return 1 if report else 0


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
