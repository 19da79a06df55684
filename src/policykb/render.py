"""Plain-text renderings for the terminal. Pure functions from records to strings."""

from __future__ import annotations

import re
from typing import Any

from policykb.records import MONEY_UNITS, Clause, Hit, Requirement


def format_value(req: Requirement) -> str:
    """`>= 30 %`, `~ 15 %`, `range [1, 2] 次`: the compact form used across the UI and CLI."""
    return _value_text(req.to_dict())


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _value_text(req: dict[str, Any]) -> str:
    value = req["value"]
    shown = "[" + ", ".join(_num(v) for v in value) + "]" if isinstance(value, list) else _num(value)
    return f"{req['comparator']} {shown} {req.get('unit') or ''}".strip()


def _section(section: list[str]) -> str:
    return " > ".join(section) if section else "-"


def ingest_summary(report: Any) -> str:
    """One line per file (`added  path  doc_id …`), then the totals."""
    lines = []
    for f in report.files:
        if f.outcome in ("added", "updated"):
            detail = f"{f.clauses} clauses, {f.requirements} requirements"
            of = f" (version {f.version} of {f.of})" if f.outcome == "updated" else ""
            lines.append(f"{f.outcome:<9} {f.path}  {f.doc_id}{of}  {detail}")
        elif f.outcome in ("unchanged", "duplicate"):
            of = f" of {f.of}" if f.outcome == "duplicate" else ""
            lines.append(f"{f.outcome:<9} {f.path}  {f.doc_id}{of}")
        # a skipped file is reported once, on stderr with its reason; the totals below count it
    counts = {o: sum(1 for f in report.files if f.outcome == o)
              for o in ("added", "updated", "unchanged", "duplicate", "skipped")}
    totals = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    lines.append(f"{totals or 'no files'}; the knowledge base holds {report.documents} documents")
    return "\n".join(lines) + "\n"


def documents_table(records: list[dict[str, Any]]) -> str:
    lines = [
        f"{r['doc_id']}\tv{r['version']}\t{r['region'] or '-'}\t{r['date'] or '-'}\t{r['title'] or '-'}\t"
        f"{r['source']}\t{r['ingested_at']}"
        for r in records
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def clauses_table(clauses: list[Clause]) -> str:
    lines = []
    for c in clauses:
        lines.append(f"{c.clause_id}\t[{_section(c.section)}]\t{c.text}")
    return "\n".join(lines) + ("\n" if lines else "")


def requirements_table(reqs: list[Requirement]) -> str:
    lines = []
    for r in reqs:
        lines.append(f"{r.clause_id}\t{r.subject or '-'}\t{requirement_display(r)}\t{r.kind}\t{r.span}")
    return "\n".join(lines) + ("\n" if lines else "")


def hits_table(hits: list[Hit]) -> str:
    return hit_dicts_table([{**h.to_dict(), "score": h.score} for h in hits])


def hit_dicts_table(hits: list[dict[str, Any]]) -> str:
    """Hits as `search --json` (or the server's /api/search) gives them."""
    lines = []
    for i, h in enumerate(hits, 1):
        values = "；".join(requirement_display(r) for r in h.get("requirements", []))
        lines.append(f"{i:>2}. {float(h['score']):.4f}  {h['region']}  {h['clause_id']}")
        lines.append(f"    [{_section(h.get('section') or [])}]")
        lines.append(f"    {h['text']}" + (f"   ⟨{values}⟩" if values else ""))
    return "\n".join(lines) + ("\n" if lines else "no hits\n")


class Rendered:
    """A result already in its JSON form (from a running server), for the renderers that read `to_dict()`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        return self._data


def comparison_table(result: Any) -> str:
    data = result.to_dict()
    lines = [f"query: {data['query']}"]
    for region in data["regions"]:
        head = f"{region['region']} ({region['region_id']})"
        if not region["found"]:
            nearest = region.get("nearest")
            if nearest:
                lines.append(f"{head}: 未规定（已核对最接近的条款 {nearest['clause_id']}：{nearest['reason']}）")
                lines.append(f"   {nearest['text']}")
            else:
                lines.append(f"{head}: 未规定")
            continue
        lines.append(f"{head}:")
        for m in region["matches"]:
            # the aligned value in 【】, the clause's other numbers as they are
            values = "；".join(f"【{requirement_display(r)}】" if r.get("aligned") else requirement_display(r)
                              for r in m.get("requirements", []))
            lines.append(f"   {m['clause_id']}  {m['text']}" + (f"   ⟨{values}⟩" if values else ""))
    return "\n".join(lines) + "\n"


def measures_table(catalogue: list[Any]) -> str:
    lines = []
    for m in catalogue:
        d = m.to_dict()
        cells = "; ".join(f"{v['region_id']}: {v['display']}" for v in d.get("values", []))
        lines.append(f"{d['name']}\t{d.get('unit') or '-'}\t{cells}")
    return "\n".join(lines) + ("\n" if lines else "")


def alignment_table(alignment: Any) -> str:
    d = alignment.to_dict()
    lines = [f"{d['a']}  ⟷  {d['b']}"]
    for pair in d["pairs"]:
        a = pair["a"]["text"] if pair["a"] else ""
        b = pair["b"]["text"] if pair["b"] else ""
        lines.append(f"{pair['status']:<9} {a}  |  {b}")
    return "\n".join(lines) + "\n"


# ----- punctuation as written (GB/T 15834) ------------------------------------------------------------------

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’《》、]")
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
_PAREN_PAIR = re.compile(r"\(([^()（）]*)\)")
_LOOSE_MARK = re.compile(r"\s*([,;:!?])\s*")


def chinese_punctuation(text: str) -> str:
    """ASCII punctuation inside Chinese sentences in its full-width form, as GB/T 15834 prescribes.

    Clause text already comes so from the cleaner (cleaning.punctuation); this is for text composed at display
    time (a draft's own sentences, labels joined with ASCII marks) and leaves cleaned text unchanged.

    A mark is Chinese when a Chinese character stands next to it; `1,000`, `1:1` and `3.5` between digits stay
    ASCII, and so does punctuation inside Latin text (an id, a URL). A pair of parentheses is Chinese when it
    holds or touches Chinese: `(一)` → `（一）`, `计划(2023-2025年)` → `计划（2023-2025年）`.
    """

    def is_cjk(ch: str) -> bool:
        return bool(ch) and bool(_CJK.match(ch))

    def paren(m: re.Match[str]) -> str:
        inner = m.group(1)
        before = m.string[m.start() - 1] if m.start() else ""
        after = m.string[m.end()] if m.end() < len(m.string) else ""
        if _CJK.search(inner) or is_cjk(before) or is_cjk(after):
            return f"（{inner}）"
        return m.group(0)

    previous = None
    while previous != text:  # innermost pairs first, so nested parentheses convert too
        previous = text
        text = _PAREN_PAIR.sub(paren, text)

    def mark(m: re.Match[str]) -> str:
        before = m.string[m.start() - 1] if m.start() else ""
        after = m.string[m.end()] if m.end() < len(m.string) else ""
        ch = m.group(1)
        if before.isdigit() and after.isdigit() and ch in ",:":
            return m.group(0)
        if is_cjk(before) or is_cjk(after) or before in "）%" and (is_cjk(after) or not after):
            return _HALF_TO_FULL[ch]
        return m.group(0)

    return _LOOSE_MARK.sub(mark, text)


# ----- a requirement in Chinese -------------------------------------------------------------------------------

COMPARATOR_WORDS = {">=": "不低于", ">": "高于", "<=": "不超过", "<": "低于", "=": "", "==": "", "~": "约"}


def chinese_value(comparator: str, value: float | list[float], unit: str | None = None,
                  period: str | None = None) -> str:
    """A requirement as a reader writes it: 不低于30%、不超过1次、3–5年、约15%、每学年不少于1次.

    Amounts (年, 次, 门, 人…) take 不少于/多于/少于 and shares or levels (%, a bare ratio) 不低于/高于/低于, as
    Chinese policy texts write them; a ceiling is 不超过 for both; a range is written with an en dash; the period
    (每学年, 每年) comes first.
    """
    unit = "" if unit in (None, "—", "-") else str(unit)
    if isinstance(value, list):
        low, high = (_num(v) for v in value[:2]) if len(value) >= 2 else (_num(value[0]),) * 2
        body = f"{low}–{high}{unit}"
    else:
        word = COMPARATOR_WORDS.get(comparator, "")
        if unit and unit != "%":
            # an amount of something (3年, 5次, 1门) is 不少于/少于, a share or level (30%, 0.15) 不低于/低于
            word = {">=": "不少于", ">": "多于", "<": "少于"}.get(comparator, word)
        body = f"{word}{_num(float(value))}{unit}"
    prefix = period if period and not body.startswith(period) else ""
    return f"{prefix}{body}"


def requirement_display(req: Any) -> str:
    """chinese_value of a Requirement or its dict (the `display` key of the JSON)."""
    d = req if isinstance(req, dict) else req.to_dict()
    period, base = d.get("period"), d.get("base")
    if d.get("unit") in MONEY_UNITS and base and base.startswith("每"):
        # a standard's basis is part of its value: 每生每课时2元, 每人每年不少于500元 (not a bare 2元)
        period = base + (period if period and period not in base else "")
    return chinese_value(d["comparator"], d["value"], d.get("unit"), period)

