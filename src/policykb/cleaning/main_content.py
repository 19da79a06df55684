"""Boilerplate decided with evidence beyond one line: lines that recur across a site's pages, and HTML main content.

Both are opt-in steps of the cleaner (`clean_text(raw, template=..., html=...)`), because they need more than the
text being cleaned: the other pages of the same site, or the page's markup. Each removal is a Change like any
other; lines that a document has even outside its body (outline headings, dates, 文号, signatures, sentences)
are never removed by either, whatever the evidence says.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from policykb.cleaning.chrome import fold_line, is_body_like, is_text_line
from policykb.cleaning.edits import apply_changes, iter_lines, stripped_span
from policykb.records import Change, CleanResult

NOT_WORD = re.compile(r"[\W_]+")
MIN_TEMPLATE_PAGES = 3
MIN_TEMPLATE_SHARE = 0.5


def line_key(line: str) -> str:
    """What two copies of a template line share: folded letters and digits."""
    return NOT_WORD.sub("", fold_line(line)).casefold()


def template_candidates(page: str) -> set[str]:
    """Keys of the lines of a raw page that may be template: short lines that are not the document's own.

    Sentences never count (two notices of one issuer share 请各单位认真贯彻执行。 as content), nor do outline
    headings, dates, 文号, issuer lines, titles or 特此通知。; labelled fields may (主办:…, 技术支持:…).
    """
    keys: set[str] = set()
    for _, line in iter_lines(page):
        folded = fold_line(line)
        if folded and not is_text_line(folded, cells=False):
            if key := line_key(line):
                keys.add(key)
    return keys


def find_template_lines(
    pages: Iterable[str], min_pages: int = MIN_TEMPLATE_PAGES, min_share: float = MIN_TEMPLATE_SHARE
) -> frozenset[str]:
    """Keys of the lines found on at least `min_pages` pages and `min_share` of them: the site's template.

    Give it the raw texts of one site's pages (or of any collection: a line repeated on unrelated pages is
    template too). Lines a document has anyway (headings, dates, 文号, issuer lines, 特此通知。) never count.
    """
    counts: Counter[str] = Counter()
    total = 0
    for page in pages:
        total += 1
        counts.update(template_candidates(page))
    needed = max(min_pages, min_share * total)
    return frozenset(key for key, n in counts.items() if n >= needed)


def strip_template_lines(text: str, template: frozenset[str]) -> CleanResult:
    """Remove the lines whose key is in `template` (from find_template_lines)."""
    changes: list[Change] = []
    for offset, line in iter_lines(text):
        folded = fold_line(line)
        if folded and line_key(line) in template and not is_text_line(folded, cells=False):
            start, content = stripped_span(offset, line)
            changes.append(Change("template", content, "", start, "site template"))
    return CleanResult(apply_changes(text, changes), changes)


def main_text_of_html(markup: str) -> str | None:
    """The page's main content as text, by trafilatura (None when it finds none)."""
    import trafilatura

    return trafilatura.extract(
        markup, include_comments=False, include_tables=True, deduplicate=False, favor_precision=True
    )


def strip_outside_main_content(text: str, main_text: str | None) -> CleanResult:
    """Remove the short lines of `text` (a page's visible text) that are not part of its main content.

    `main_text` is the extractor's view of the same page. Running text it left out is kept all the same (an
    extractor may drop a paragraph from an odd layout), and so is any line a document has (see is_text_line).
    """
    if not main_text:
        return CleanResult(text, [])
    main = "\n".join(line_key(line) for line in main_text.split("\n"))
    changes: list[Change] = []
    for offset, line in iter_lines(text):
        folded = fold_line(line)
        key = line_key(line)
        if not key or key in main or is_body_like(folded) or is_text_line(folded, cells=False):
            continue
        start, content = stripped_span(offset, line)
        changes.append(Change("chrome", content, "", start, "outside the main content"))
    return CleanResult(apply_changes(text, changes), changes)


def main_content_step(markup: str):  # type: ignore[no-untyped-def]
    """A cleaning step (text -> CleanResult) that keeps the main content of the page `markup`."""
    main_text = main_text_of_html(markup)
    return lambda text: strip_outside_main_content(text, main_text)
