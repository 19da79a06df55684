"""Template lines across the knowledge base: the lines a site prints on every page, decided at ingest.

A page's template (its site's navigation bar, its footer's 主办/技术支持 fields, a column name) is only visible
beside the site's other pages, so it is decided over the catalog, not by the cleaner alone:

- every version records its `site` (the host of the `source_url` its sidecar or upload gave, `www.` dropped),
  `line_keys` (short digests of its lines that may be template: not sentences, outline headings, dates, 文号,
  issuer lines or titles; see cleaning.main_content.template_candidates) and `template` (the line keys removed
  from it as template, exactly as applied);
- a line is template for a site when at least SITE_MIN_DOCUMENTS of the site's live documents, and at least
  SITE_MIN_SHARE of them, have it; and for every document when at least CROSS_MIN_DOCUMENTS live documents from
  at least CROSS_MIN_SITES different sites have it (a page without a source URL counts as a site of its own);
- policy: when a document is added, every live document whose applied template differs from what the new
  counts say is re-derived from its original in the same publish (the new document and the earlier pages of its
  site alike), so the knowledge base's state depends on which documents are live, never on the order they came
  in. `rebuild` applies each version's stored `template`, so it reproduces the published text exactly. Removing
  a document changes no other document's text (the next add or rebuild of the site decides again).

Nothing is lost: the original stays in the library, and every removed line is a Change of kind `template`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from policykb.cleaning.main_content import template_candidates

SITE_MIN_DOCUMENTS = 3
SITE_MIN_SHARE = 0.5
CROSS_MIN_DOCUMENTS = 5
CROSS_MIN_SITES = 3
DIGEST_CHARS = 12


# Second-level labels under which a name is registered (nanjing.gov.cn, people.com.cn): the site is one more label.
REGISTRY_LABELS = frozenset({"com", "net", "org", "gov", "edu", "ac", "mil"})


def site_of(source_url: str | None) -> str | None:
    """The site a page came from: its URL's registered domain, so that a site's mobile, big5 and channel hosts
    (m.x.cn, heilongjiang.big5.dbw.cn) are one site (None without a URL, or for a bare IP address)."""
    if not source_url or not isinstance(source_url, str):
        return None
    text = source_url.strip()
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname
    except ValueError:
        return None
    if not host or not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+\.?", host):
        return None
    labels = host.rstrip(".").split(".")
    if all(label.isdigit() for label in labels):
        return host
    keep = 3 if len(labels) >= 3 and labels[-2] in REGISTRY_LABELS and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def digest(key: str) -> str:
    """A line key as stored in the catalog (short: a page has a few dozen candidate lines)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


def line_keys(raw_text: str) -> dict[str, str]:
    """digest → key of every line of a raw page that may be template."""
    return {digest(key): key for key in template_candidates(raw_text)}


@dataclass(frozen=True)
class Page:
    """What the template decision needs of one live document: where it came from and its candidate lines."""

    name: str  # a doc_id, or the original's sha256 for a file not yet decided
    site: str | None
    keys: frozenset[str]  # digests

    @property
    def site_or_self(self) -> str:
        return self.site if self.site is not None else f"\0{self.name}"


@dataclass(frozen=True)
class Templates:
    """The template digests of each site, and those of every page (lines many unrelated sites share)."""

    by_site: dict[str, frozenset[str]]
    everywhere: frozenset[str]

    def for_page(self, page: Page) -> frozenset[str]:
        """The digests to remove from this page."""
        wanted = self.everywhere | self.by_site.get(page.site or "", frozenset())
        return page.keys & wanted


def decide_templates(pages: Iterable[Page]) -> Templates:
    """Count every line over the live pages: per site, and across sites."""
    pages = list(pages)
    per_site: dict[str, Counter[str]] = {}
    site_sizes: Counter[str] = Counter()
    sites_with: dict[str, set[str]] = {}
    documents_with: Counter[str] = Counter()
    for page in pages:
        documents_with.update(page.keys)
        for key in page.keys:
            sites_with.setdefault(key, set()).add(page.site_or_self)
        if page.site is not None:
            site_sizes[page.site] += 1
            per_site.setdefault(page.site, Counter()).update(page.keys)
    by_site = {}
    for site, counts in per_site.items():
        needed = max(SITE_MIN_DOCUMENTS, SITE_MIN_SHARE * site_sizes[site])
        by_site[site] = frozenset(key for key, n in counts.items() if n >= needed)
    everywhere = frozenset(key for key, n in documents_with.items()
                           if n >= CROSS_MIN_DOCUMENTS and len(sites_with[key]) >= CROSS_MIN_SITES)
    return Templates(by_site, everywhere)
