"""The cleaner: raw scraped text in, the document's own text out, with every change recorded.

The order of the steps is written once, in STEPS. Each step is a pure function `text -> CleanResult` whose
changes carry offsets into that step's input.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from policykb.records import Change, CleanResult

Step = Callable[[str], CleanResult]

# (name, "module:function"), in the order they run. Functions are imported on first use, so importing the
# package stays cheap and each step's dictionaries load only when text is actually cleaned.
STEPS: tuple[tuple[str, str], ...] = (
    ("html", "policykb.cleaning.chrome:strip_html"),  # tags and entities left by the scraper
    ("chrome", "policykb.cleaning.chrome:strip_chrome"),  # keyword spam, navigation, widgets, footers
    ("mojibake", "policykb.cleaning.mojibake:repair_mojibake"),  # GBK byte misalignment
    ("pinyin", "policykb.cleaning.pinyin:remove_pinyin"),  # 關(guān)于 → 關于
    ("indent", "policykb.cleaning.punctuation:restore_indent_spaces"),  # ?? → the lost U+3000 indent
    ("script", "policykb.cleaning.script:to_simplified"),  # traditional → simplified
    ("punctuation", "policykb.cleaning.punctuation:normalise_punctuation"),  # one consistent punctuation style
    ("whitespace", "policykb.cleaning.paragraphs:tidy_whitespace"),  # one paragraph per line
    ("duplicates", "policykb.cleaning.paragraphs:drop_duplicate_paragraphs"),  # a page's repeated summary
)


@dataclass
class StepRun:
    """One step applied to one text: what went in and what came out."""

    name: str
    input: str
    result: CleanResult


@cache
def load_step(name: str) -> Step:
    """The function of the step called `name` (imported on first use)."""
    target = dict(STEPS)[name]
    module_name, function_name = target.split(":")
    step: Step = getattr(importlib.import_module(module_name), function_name)
    return step


# A repair can expose work for an earlier step (a restored GBK run may reveal a tag such as `</span>`), so the
# steps run again until a round changes nothing; in practice the second round is a no-op check.
MAX_ROUNDS = 3


def trace_clean(raw: str) -> list[StepRun]:
    """Run the steps in order, round after round until nothing changes; keep every step's input and result."""
    runs: list[StepRun] = []
    text = raw
    for _ in range(MAX_ROUNDS):
        changed = False
        for name, _target in STEPS:
            result = load_step(name)(text)
            runs.append(StepRun(name, text, result))
            changed = changed or bool(result.changes) or result.text != text
            text = result.text
        if not changed:
            break
    return runs


def clean_text(raw: str) -> CleanResult:
    """Clean raw text with the steps in STEPS; the changes come in the order the steps made them."""
    runs = trace_clean(raw)
    changes: list[Change] = [change for run in runs for change in run.result.changes]
    return CleanResult(runs[-1].result.text if runs else raw, changes)


__all__ = ["STEPS", "Step", "StepRun", "clean_text", "load_step", "trace_clean"]
