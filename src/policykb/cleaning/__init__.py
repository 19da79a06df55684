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
    ("punctuation", "policykb.cleaning.punctuation:normalise_punctuation"),  # GB/T 15834: ，：（） inside Chinese
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


def context_steps(html: str | None = None, template: frozenset[str] = frozenset()) -> list[tuple[str, Step]]:
    """The steps that need more than the text: the page's markup (main content) and its site's template lines.

    They run once, before STEPS: `html` is the markup the raw text was read from (the loader's text of it),
    `template` the keys from `find_template_lines` over the other pages of the same site.
    """
    from policykb.cleaning import main_content

    steps: list[tuple[str, Step]] = []
    if html is not None:
        steps.append(("main-content", main_content.main_content_step(html)))
    if template:
        steps.append(("template", lambda text: main_content.strip_template_lines(text, template)))
    return steps


def trace_clean(raw: str, html: str | None = None, template: frozenset[str] = frozenset()) -> list[StepRun]:
    """Run the steps in order, round after round until nothing changes; keep every step's input and result."""
    runs: list[StepRun] = []
    text = raw
    for name, step in context_steps(html, template):
        result = step(text)
        runs.append(StepRun(name, text, result))
        text = result.text
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


def clean_text(raw: str, html: str | None = None, template: frozenset[str] = frozenset()) -> CleanResult:
    """Clean raw text with the steps in STEPS; the changes come in the order the steps made them.

    `html` (the page's markup, when the raw text came from HTML) and `template` (find_template_lines over the
    site's pages) add the steps of context_steps in front.
    """
    runs = trace_clean(raw, html, template)
    changes: list[Change] = [change for run in runs for change in run.result.changes]
    return CleanResult(runs[-1].result.text if runs else raw, changes)


def find_template_lines(pages: list[str]) -> frozenset[str]:
    """Template lines of a collection of raw pages (one site's, ideally); see main_content.find_template_lines."""
    from policykb.cleaning import main_content

    return main_content.find_template_lines(pages)


__all__ = [
    "STEPS", "Step", "StepRun", "clean_text", "context_steps", "find_template_lines", "load_step", "trace_clean",
]
