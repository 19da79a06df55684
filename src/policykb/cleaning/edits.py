"""Small helpers shared by the cleaning steps: iterate lines with offsets and apply recorded changes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policykb.records import Change


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, line) for every \\n-separated line, the newline excluded."""
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def stripped_span(offset: int, line: str) -> tuple[int, str]:
    """The offset and text of a line without its surrounding whitespace."""
    content = line.strip()
    if not content:
        return offset, ""
    return offset + line.index(content[0]), content


def apply_changes(text: str, changes: Sequence[Change]) -> str:
    """Rebuild `text` with each change's `before` (found at its offset) replaced by its `after`."""
    parts: list[str] = []
    cursor = 0
    for change in sorted(changes, key=lambda c: c.offset):
        if change.offset < cursor:
            raise ValueError(f"overlapping changes at offset {change.offset}")
        if text[change.offset : change.offset + len(change.before)] != change.before:
            raise ValueError(f"change {change.before!r} does not match the text at offset {change.offset}")
        parts.append(text[cursor : change.offset])
        parts.append(change.after)
        cursor = change.offset + len(change.before)
    parts.append(text[cursor:])
    return "".join(parts)
