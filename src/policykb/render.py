"""Plain-text renderings for the terminal. Pure functions from records to strings."""

from __future__ import annotations

from typing import Any

from policykb.records import Clause, Hit, Requirement


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
        else:
            lines.append(f"skipped   {f.path}  {f.reason}")
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
        period = f" {r.period}" if r.period else ""
        lines.append(f"{r.clause_id}\t{r.subject or '-'}\t{format_value(r)}{period}\t{r.kind}\t{r.span}")
    return "\n".join(lines) + ("\n" if lines else "")


def hits_table(hits: list[Hit]) -> str:
    return hit_dicts_table([{**h.to_dict(), "score": h.score} for h in hits])


def hit_dicts_table(hits: list[dict[str, Any]]) -> str:
    """Hits as `search --json` (or the server's /api/search) gives them."""
    lines = []
    for i, h in enumerate(hits, 1):
        values = "; ".join(_value_text(r) for r in h.get("requirements", []))
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
            lines.append(f"{head}: 未规定 (not specified)")
            continue
        lines.append(f"{head}:")
        for m in region["matches"]:
            values = "; ".join(_value_text(r) for r in m.get("requirements", []))
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
