"""Paragraph layout: one paragraph per line without surrounding whitespace, and no repeated paragraphs."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from policykb.cleaning.edits import apply_changes, iter_lines
from policykb.records import Change, CleanResult

# Everything str.splitlines() treats as a line break: a paragraph boundary wherever it came from.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
WHITESPACE_RUN = re.compile(r"\s+")
NOT_WORD = re.compile(r"[\W_]+")
RUNNING_TEXT = re.compile(r"[。,，;；:：!！?？]")
MIN_DUPLICATE_CHARS = 15  # shorter paragraphs (headings, 特此通知。) may legitimately repeat
NEAR_DUPLICATE_RATIO = 0.92
NEAR_DUPLICATE_WINDOW = 3  # a page repeats its summary right away, not pages later


def tidy_whitespace(text: str) -> CleanResult:
    """Strip every line, drop blank lines and the text's leading/trailing whitespace; breaks become \\n."""
    changes: list[Change] = []
    for match in WHITESPACE_RUN.finditer(text):
        run = match.group()
        if match.start() == 0 or match.end() == len(text):
            after = ""
        elif any(ch in LINE_BREAKS for ch in run):
            after = "\n"
        else:
            continue  # spaces inside a line are the text's own
        if run != after:
            changes.append(Change("whitespace", run, after, match.start()))
    return CleanResult(apply_changes(text, changes), changes)


def paragraph_key(paragraph: str) -> str:
    """What two copies of a paragraph share: its letters and digits, case-folded."""
    return NOT_WORD.sub("", paragraph).casefold()


def _is_running_text(paragraph: str, key: str) -> bool:
    # Titles and headings carry no sentence punctuation; a notice and its attachment may repeat them.
    return len(key) >= MIN_DUPLICATE_CHARS and bool(RUNNING_TEXT.search(paragraph))


def drop_duplicate_paragraphs(text: str) -> CleanResult:
    """Drop a paragraph of running text that repeats an earlier one exactly or (right after it) nearly."""
    seen: set[str] = set()
    recent: list[tuple[str, int, str]] = []  # (key, offset, line) of the last paragraphs kept
    changes: list[Change] = []
    for offset, line in iter_lines(text):
        key = paragraph_key(line)
        if not _is_running_text(line, key):
            continue
        teaser = next((item for item in recent if _is_teaser_of(item[0], item[2], key)), None)
        # Paragraphs that differ in a number (放假时间:7月10日 / 7月17日) say different things, however alike.
        near = any(
            SequenceMatcher(None, key, other, autojunk=False).ratio() >= NEAR_DUPLICATE_RATIO
            and DIGITS.findall(key) == DIGITS.findall(other)
            for other, _, _ in recent
        )
        if key not in seen and teaser is not None:
            # A page's teaser (`…市教育...`) before the full paragraph: the teaser goes, the paragraph stays.
            changes.append(_drop_line(teaser[2], teaser[1], "teaser of the next paragraph"))
            recent.remove(teaser)
        elif (key in seen or near) and offset > 0:
            changes.append(_drop_line(line, offset, "repeated paragraph"))
            continue
        seen.add(key)
        recent = (recent + [(key, offset, line)])[-NEAR_DUPLICATE_WINDOW:]
    return CleanResult(apply_changes(text, changes), changes)


TEASER_END = ("...", "…", "……")
DIGITS = re.compile(r"\d+")


def _is_teaser_of(earlier_key: str, earlier: str, later_key: str) -> bool:
    """Whether the paragraph `earlier` is a cut-off copy of the one keyed `later_key`: an ellipsis after its start."""
    return (
        earlier.rstrip().endswith(TEASER_END)
        and len(later_key) > len(earlier_key)
        and later_key.startswith(earlier_key)
    )


def _drop_line(line: str, offset: int, note: str) -> Change:
    """A change removing one line together with one line break, so no blank line is left behind."""
    if offset > 0:
        return Change("duplicate", "\n" + line, "", offset - 1, note)
    return Change("duplicate", line + "\n", "", 0, note)
