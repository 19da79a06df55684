"""Real-sized policy documents recombined from the seed corpus's real clauses, every document and clause distinct.

Each synthetic clause joins the first half of one real body clause with the second half of another (cut at the
punctuation nearest the middle, as bench/scale.py does), so the clause lengths, terms and quantities are those of
real policy text, yet no clause repeats across documents (the embedding cache cannot make an ingest look faster
than it is). Each document has the shape of a seed plan: a title naming its issuer, an addressee, a preamble,
一、 headings with numbered clauses under them, a signature and a date. Sizes follow the seeds (about 60 body
clauses, 10-15 kB).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = "一二三四五六七八九十"
# District names of the seeds' own provinces: each document is a plan of one of them.
ISSUERS = ("虹口区", "临平区", "海淀区", "西湖区", "余杭区", "静安区", "朝阳区", "鼓楼区", "江宁区", "拱墅区")
TOPICS = ("推进集团化办学", "深化教师交流轮岗", "加强课后服务", "推进义务教育优质均衡", "推进学区化办学",
          "加强中小学心理健康教育", "推进教育数字化转型", "深化教育评价改革")


def halves(text: str) -> tuple[str, str]:
    """A clause cut at the punctuation nearest its middle (or the middle itself)."""
    mid = len(text) // 2
    cuts = [m.end() for m in re.finditer(r"[,，;；、]", text)]
    cut = min(cuts, key=lambda c: abs(c - mid)) if cuts else mid
    cut = cut if 0 < cut < len(text) else max(1, mid)
    return text[:cut], text[cut:]


@cache
def seed_clauses() -> tuple[str, ...]:
    """The seed corpus's body clause texts (cleaned), in corpus order."""
    from policykb import pipeline

    out = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        out.extend(c.text for c in pipeline.process_file(path).clauses if c.role == "body" and len(c.text) >= 12)
    return tuple(out)


def synthetic_documents(count: int, clauses_per_doc: int = 60, seed: int = 11,
                        texts: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(file name, raw text) of `count` distinct documents of about `clauses_per_doc` body clauses each."""
    pool = texts if texts is not None else seed_clauses()
    pieces = [halves(t) for t in pool]
    rng = np.random.default_rng(seed)
    docs = []
    for d in range(count):
        issuer = ISSUERS[d % len(ISSUERS)]
        topic = TOPICS[(d // len(ISSUERS)) % len(TOPICS)]
        title = f"{issuer}教育局关于{topic}的实施意见(第{d + 1}号)"
        lines = [title, "", "各中小学、幼儿园:", "",
                 f"为深入落实国家和省市有关文件精神,结合{issuer}实际,现就{topic}提出如下意见。"]
        sections = max(1, min(len(HEADINGS), clauses_per_doc // 6))
        n = 0
        for s in range(sections):
            lines.append(f"{HEADINGS[s]}、{topic}第{s + 1}项任务")
            share = clauses_per_doc // sections + (1 if s < clauses_per_doc % sections else 0)
            for i in range(share):
                a, b = (int(x) for x in rng.integers(len(pieces), size=2))
                head, tail = pieces[a][0], pieces[b][1]
                if not tail.endswith(("。", ";", ";")):
                    tail += "。"
                lines.append(f"{i + 1}.{head}{tail}")
                n += 1
        lines += ["", f"{issuer}教育局", f"2024年{d % 12 + 1}月{d % 27 + 1}日"]
        docs.append((f"synthetic-{d:04d}.txt", "\n".join(lines) + "\n"))
    return docs


def write_documents(folder: Path, docs: list[tuple[str, str]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in docs:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
