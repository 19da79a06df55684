"""Template lines across documents at ingest: a line a site prints on its pages goes, as a `template` change, the
decision is stored per version, reproduced by rebuild and independent of the order the pages came in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policykb.embed import HashEmbedder
from policykb.indexer import read_current_manifest
from policykb.service import KnowledgeBase
from policykb.settings import Settings
from policykb.templates import (
    CROSS_MIN_DOCUMENTS,
    Page,
    decide_templates,
    digest,
    site_of,
)

# Three news items of one site (东北网 heilongjiang.dbw.cn / heilongjiang.big5.dbw.cn; the URLs below), as stored
# with their page furniture: the search box 搜 索 is on every one.
SITE = Path(__file__).parent / "pages_site" / "dbw"
URLS = {
    "heilongjiang_2007_snow.txt": "https://heilongjiang.big5.dbw.cn/system/2007/03/05/050722878.shtml",
    "heilongjiang_2013_closed.txt": "https://heilongjiang.dbw.cn/system/2013/02/28/054611793.shtml",
    "heilongjiang_2013_reopen.txt": "https://heilongjiang.big5.dbw.cn/system/2013/11/20/055259480.shtml",
}


@pytest.mark.parametrize(("url", "site"), [
    ("https://heilongjiang.big5.dbw.cn/system/2007/03/05/050722878.shtml", "dbw.cn"),
    ("http://www.nanjing.gov.cn/zdgk/202307/t20230704_3953752.html", "nanjing.gov.cn"),
    ("https://sw.nanjing.gov.cn/zyfb/swwj/", "nanjing.gov.cn"),
    ("http://paper.people.com.cn/rmrb/html/2024-03/05/nw.htm", "people.com.cn"),
    ("m.xuehua.us/a/5ec1cc26947491ff8528b5fb", "xuehua.us"),
    ("http://117.78.9.86:8080/was40/print?record=79", "117.78.9.86"),
    ("", None), (None, None), ("not a url at all", None),
])
def test_site_is_the_registered_domain(url: str | None, site: str | None) -> None:
    assert site_of(url) == site


def test_template_needs_three_pages_and_half_of_the_site() -> None:
    a, b, c, d = (digest(k) for k in "abcd")
    pages = [Page("1", "x.cn", frozenset({a, b})), Page("2", "x.cn", frozenset({a, b})),
             Page("3", "x.cn", frozenset({a, c})), Page("4", "x.cn", frozenset({d})),
             Page("5", "y.cn", frozenset({b}))]
    decided = decide_templates(pages)
    assert decided.by_site == {"x.cn": frozenset({a}), "y.cn": frozenset()}  # b: two of x.cn's four pages
    assert decided.everywhere == frozenset()
    assert decided.for_page(pages[2]) == frozenset({a})
    assert decided.for_page(pages[4]) == frozenset()


def test_a_line_on_many_unrelated_sites_is_template_everywhere() -> None:
    line = digest("返回顶部")
    pages = [Page(str(i), None if i % 2 else f"s{i % 3}.cn", frozenset({line, digest(f"p{i}")}))
             for i in range(CROSS_MIN_DOCUMENTS)]
    assert decide_templates(pages).everywhere == frozenset({line})
    # the same line on as many pages of only two sites is not evidence enough across sites
    two_sites = [Page(str(i), f"s{i % 2}.cn", frozenset({line})) for i in range(CROSS_MIN_DOCUMENTS)]
    assert decide_templates(two_sites).everywhere == frozenset()


def make_kb(root: Path) -> KnowledgeBase:
    embedder = HashEmbedder()
    return KnowledgeBase(Settings.load(index_dir=str(root), model="hash"), embedder_factory=lambda s: embedder)


def site_folder(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SITE / name, folder / name)
        (folder / name).with_suffix(".meta.toml").write_text(f'source_url = "{URLS[name]}"\n', encoding="utf-8")
    return folder


def state(kb: KnowledgeBase) -> dict[str, tuple[list[str], str]]:
    """source file → (template keys applied, the document's clause texts)."""
    out = {}
    for record in kb.document_records():
        version = kb.versions(record["doc_id"])[-1]
        texts = "\n".join(c.text for c in kb.clauses(doc_id=record["doc_id"]))
        out[version["source"]] = (version["template"], texts)
    return out


def test_the_third_page_of_a_site_brings_the_template_and_earlier_pages_are_recleaned(tmp_path: Path) -> None:
    names = sorted(URLS)
    kb = make_kb(tmp_path / "one-by-one")
    for name in names[:2]:
        report = kb.ingest([site_folder(tmp_path / name, [name])])
        assert [f.outcome for f in report.files] == ["added"]
    assert all(template == [] for template, _ in state(kb).values())  # two pages are no evidence yet
    reopen = names[2]
    report = kb.ingest([site_folder(tmp_path / reopen, [reopen])])
    assert [f.outcome for f in report.files] == ["added"]
    doc = kb.document(report.files[0].doc_id)
    assert [(c.kind, c.before, c.note) for c in doc.changes if c.kind == "template"] == [
        ("template", "搜 索", "site template")]
    assert not doc.text.startswith("搜")
    after = state(kb)
    assert {name: template for name, (template, _) in after.items()} == dict.fromkeys(names, ["搜索"])
    log = [json.loads(line) for line in (tmp_path / "one-by-one/library/log.jsonl").read_text().splitlines()]
    assert sorted(e["doc_id"] for e in log if e["event"] == "recleaned") == sorted(
        r["doc_id"] for r in kb.document_records() if r["doc_id"] != report.files[0].doc_id)
    # the same pages in one batch, in any order, give the same documents; so does a rebuild
    together = make_kb(tmp_path / "together")
    together.ingest([site_folder(tmp_path / "all", list(reversed(names)))])
    assert state(together) == after
    again = together.ingest([tmp_path / "all"])
    assert [f.outcome for f in again.files] == ["unchanged"] * 3
    together.rebuild()
    assert state(together) == after
    catalog = read_current_manifest(tmp_path / "together").read_catalog()
    assert {e.latest.site for e in catalog.live()} == {"dbw.cn"}


def test_pages_without_a_source_url_keep_their_lines(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "idx")
    folder = tmp_path / "plain"
    folder.mkdir()
    for name in URLS:
        shutil.copy(SITE / name, folder / name)
    kb.ingest([folder])
    assert all(template == [] for template, _ in state(kb).values())
    [reopen] = [r for r in kb.document_records() if kb.versions(r["doc_id"])[-1]["source"].endswith("reopen.txt")]
    assert kb.document(reopen["doc_id"]).text.startswith("搜 索")
