"""Clause-by-clause alignment of two documents: identical, changed (with a character diff), only in one.

A local plan usually copies its parent's plan sentence by sentence, renames the actors (上海市 → 虹口区,
本市 → 本区), edits some wording, splits or merges sentences and moves a few of them. The alignment is a
Gale–Church-style dynamic programme over the two clause sequences that keeps document order and allows 1:1,
1:2, 2:1, 1:3 and 3:1 steps, scored by matched characters; clauses left over are then paired when one was
merely moved. Region and level words are folded before comparing so a renaming alone does not count as change.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from policykb.records import Clause, Document

# Clause roles worth aligning: the plan itself. Notices, signatures and attachment labels only add noise.
ALIGNED_ROLES = frozenset({"body", "heading", "preamble"})

# Below this share of matched characters two clauses are not the same clause (tuned on Hongkou/Shanghai).
PAIR_FLOOR = 0.4
# A clause found out of order needs stronger evidence than one found in place.
MOVED_FLOOR = 0.55
# (a clauses, b clauses) per step: sentence splits and merges are common when a plan is localised.
STEPS: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (1, 3), (3, 1))
# A piece joining a merged pair must be mostly found inside the other side.
MERGE_CONTAINMENT = 0.35

_FOLD = "\ue000"  # a private-use placeholder for any region or level word
_LEVEL = "省市区县"
# Level words that change when a plan moves down a level: 本市/全市/各区, 市委/市政府/市级/市教委 …
_LEVEL_WORDS = re.compile(rf"[本全各][{_LEVEL}]|[{_LEVEL}](?=委|政府|级|教委|教育局|教育委员会|人民政府)")
_SPACE = re.compile(r"\s+")
_PUNCT_CATEGORIES = ("P", "S", "Z")


# ----- normalisation --------------------------------------------------------------------------------------


def squash(text: str) -> str:
    """NFKC with whitespace removed: the form in which two clauses count as identical."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def fold(text: str, region_names: Iterable[str] = ()) -> str:
    """The comparison form: squashed, punctuation dropped, region names and level words folded to one mark."""
    out = squash(text)
    for name in sorted({n for n in region_names if n}, key=len, reverse=True):
        out = out.replace(name, _FOLD)
        # 虹口区 is also written 虹口 inside compounds (虹口区教育局 / 虹口教育); fold the bare stem as well.
        if len(name) >= 3 and name[-1] in _LEVEL:
            out = out.replace(name[:-1], _FOLD)
    out = _LEVEL_WORDS.sub(lambda m: m.group(0)[0] + _FOLD if m.group(0)[0] in "本全各" else _FOLD, out)
    return "".join(ch for ch in out if not unicodedata.category(ch).startswith(_PUNCT_CATEGORIES))


def _bigrams(text: str) -> Counter[str]:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def matched_chars(a: str, b: str) -> int:
    """Characters in common along the longest in-order matching blocks (difflib, no junk heuristic)."""
    if not a or not b:
        return 0
    return sum(block.size for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())


def similarity(a: str, b: str) -> float:
    """Share of characters the two (already folded) texts have in common, in order: 2M / (|a| + |b|)."""
    total = len(a) + len(b)
    return 2.0 * matched_chars(a, b) / total if total else 1.0


# ----- diff -----------------------------------------------------------------------------------------------


@dataclass
class DiffOp:
    """One run of a character diff: `a` is the text in the first clause, `b` in the second."""

    op: str  # "equal" | "insert" | "delete" | "replace"
    a: str
    b: str

    def to_dict(self) -> dict[str, str]:
        return {"op": self.op, "a": self.a, "b": self.b}


def char_diff(a: str, b: str, min_equal: int = 2) -> list[DiffOp]:
    """A character-level diff; equal runs shorter than `min_equal` between changes are folded into the change.

    Chinese shares single characters (的, 和, 学) everywhere, so a raw character diff shreds a reworded phrase
    into confetti; absorbing one-character islands keeps a rewording readable as one replacement.
    """
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        ops.append(DiffOp(tag, a[i1:i2], b[j1:j2]))
    merged: list[DiffOp] = []
    for k, op in enumerate(ops):
        island = (
            op.op == "equal" and len(op.a) < min_equal and 0 < k < len(ops) - 1 and merged and merged[-1].op != "equal"
        )
        if island or (op.op != "equal" and merged and merged[-1].op != "equal"):
            prev = merged.pop()
            merged.append(DiffOp("change", prev.a + op.a, prev.b + op.b))
        else:
            merged.append(op)
    for op in merged:
        if op.op == "change":
            op.op = "replace" if op.a and op.b else ("delete" if op.a else "insert")
    return merged


def compact_diff(ops: Sequence[DiffOp]) -> str:
    """The diff as one line: unchanged text, `[-removed-]` and `{+added+}`."""
    parts = []
    for op in ops:
        if op.op == "equal":
            parts.append(op.a)
            continue
        if op.a:
            parts.append(f"[-{op.a}-]")
        if op.b:
            parts.append(f"{{+{op.b}+}}")
    return "".join(parts)


# ----- records --------------------------------------------------------------------------------------------


@dataclass
class AlignedPair:
    """Clauses of A and of B that are the same clause (either side may be empty: only in one document)."""

    status: str  # "identical" | "changed" | "only_a" | "only_b"
    a: list[Clause] = field(default_factory=list)
    b: list[Clause] = field(default_factory=list)
    similarity: float = 0.0
    diff: list[DiffOp] = field(default_factory=list)
    moved: bool = False  # paired out of document order
    names_only: bool = False  # differs only in region and level words

    @property
    def a_text(self) -> str:
        return "".join(c.text for c in self.a)

    @property
    def b_text(self) -> str:
        return "".join(c.text for c in self.b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "a": _group_dict(self.a),
            "b": _group_dict(self.b),
            "similarity": round(self.similarity, 4),
            "diff": [op.to_dict() for op in self.diff] if self.status == "changed" else None,
            "diff_text": compact_diff(self.diff) if self.status == "changed" else None,
            "moved": self.moved,
            "names_only": self.names_only,
        }


def _group_dict(clauses: list[Clause]) -> dict[str, Any] | None:
    """One clause as its dict; several merged clauses as the first one's dict with joined text and all ids."""
    if not clauses:
        return None
    out = clauses[0].to_dict()
    out["clause_ids"] = [c.clause_id for c in clauses]
    if len(clauses) > 1:
        out["text"] = "".join(c.text for c in clauses)
        out["end"] = clauses[-1].end
    return out


@dataclass
class Alignment:
    """The alignment of document A with document B, pairs in document order."""

    doc_a: str
    doc_b: str
    pairs: list[AlignedPair]
    region_a: str | None = None
    region_b: str | None = None
    title_a: str | None = None
    title_b: str | None = None

    def counts(self) -> dict[str, int]:
        out = {"identical": 0, "changed": 0, "only_a": 0, "only_b": 0}
        for p in self.pairs:
            out[p.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.doc_a,
            "b": self.doc_b,
            "region_a": self.region_a,
            "region_b": self.region_b,
            "title_a": self.title_a,
            "title_b": self.title_b,
            "counts": self.counts(),
            "pairs": [p.to_dict() for p in self.pairs],
        }


# ----- the alignment --------------------------------------------------------------------------------------


class _Scorer:
    """Scores for spans of A against spans of B, with the cheap bigram filter in front of difflib."""

    def __init__(self, folded_a: list[str], folded_b: list[str], floor: float):
        self.a, self.b, self.floor = folded_a, folded_b, floor
        self.big_a = [_bigrams(t) for t in folded_a]
        self.big_b = [_bigrams(t) for t in folded_b]
        self._overlap: dict[tuple[int, int], int] = {}
        self.score = lru_cache(maxsize=None)(self._score)

    def overlap(self, i: int, j: int) -> int:
        key = (i, j)
        if key not in self._overlap:
            self._overlap[key] = sum((self.big_a[i] & self.big_b[j]).values())
        return self._overlap[key]

    def _plausible(self, ia: range, jb: range) -> bool:
        """Bigram evidence that a span pair may clear the floor; every merged piece must be largely contained."""
        if len(ia) == 1 and len(jb) == 1:
            i, j = ia[0], jb[0]
            size = len(self.a[i]) + len(self.b[j])
            return size > 0 and 2.0 * self.overlap(i, j) >= 0.6 * self.floor * size
        if len(ia) == 1:
            i = ia[0]
            return all(self.overlap(i, j) >= MERGE_CONTAINMENT * max(len(self.b[j]) - 1, 1) for j in jb)
        j = jb[0]
        return all(self.overlap(i, j) >= MERGE_CONTAINMENT * max(len(self.a[i]) - 1, 1) for i in ia)

    def _score(self, a0: int, a1: int, b0: int, b1: int) -> float:
        """2·matched − floor·length for A[a0:a1] against B[b0:b1]; positive means worth pairing."""
        ia, jb = range(a0, a1), range(b0, b1)
        if not self._plausible(ia, jb):
            return float("-inf")
        ta = "".join(self.a[i] for i in ia)
        tb = "".join(self.b[j] for j in jb)
        return 2.0 * matched_chars(ta, tb) - self.floor * (len(ta) + len(tb))


def _monotone_alignment(scorer: _Scorer, n: int, m: int) -> list[tuple[range, range]]:
    """The best order-keeping set of span pairs (gaps cost nothing, pairs earn their score)."""
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, bool]]] = [[(0, 0, False)] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            cand: tuple[float, tuple[int, int, bool]] = (float("-inf"), (0, 0, False))
            if i > 0 and best[i - 1][j] > cand[0]:
                cand = (best[i - 1][j], (1, 0, False))
            if j > 0 and best[i][j - 1] > cand[0]:
                cand = (best[i][j - 1], (0, 1, False))
            for da, db in STEPS:
                if da > i or db > j:
                    continue
                s = scorer.score(i - da, i, j - db, j)
                if s > 0 and best[i - da][j - db] + s > cand[0]:
                    cand = (best[i - da][j - db] + s, (da, db, True))
            best[i][j], back[i][j] = cand
    out: list[tuple[range, range]] = []
    i, j = n, m
    while i > 0 or j > 0:
        da, db, _paired = back[i][j]
        out.append((range(i - da, i), range(j - db, j)))
        i, j = i - da, j - db
    out.reverse()
    return _a_gaps_first(out)


def _a_gaps_first(steps: list[tuple[range, range]]) -> list[tuple[range, range]]:
    """Within each run of unpaired clauses list A's before B's, the way a side-by-side diff reads."""
    out: list[tuple[range, range]] = []
    run: list[tuple[range, range]] = []
    for step in [*steps, (range(0, 1), range(0, 1))]:
        if step[0] and step[1]:
            out += [s for s in run if s[0]] + [s for s in run if s[1]]
            run = []
            out.append(step)
        else:
            run.append(step)
    return out[:-1]


def _make_pair(
    a: list[Clause], b: list[Clause], folded_a: str, folded_b: str, moved: bool = False
) -> AlignedPair:
    sim = similarity(folded_a, folded_b)
    ta, tb = "".join(c.text for c in a), "".join(c.text for c in b)
    if squash(ta) == squash(tb):
        return AlignedPair("identical", a, b, 1.0, [], moved=moved)
    return AlignedPair("changed", a, b, sim, char_diff(ta, tb), moved=moved, names_only=folded_a == folded_b)


def align_clauses(
    clauses_a: Sequence[Clause],
    clauses_b: Sequence[Clause],
    region_names: Iterable[str] = (),
    floor: float = PAIR_FLOOR,
    moved_floor: float = MOVED_FLOOR,
) -> list[AlignedPair]:
    """Align two clause sequences: order-keeping pairs (with splits and merges), then moved clauses, in A order."""
    names = tuple(region_names)
    a = [c for c in clauses_a if c.role in ALIGNED_ROLES]
    b = [c for c in clauses_b if c.role in ALIGNED_ROLES]
    fa = [fold(c.text, names) for c in a]
    fb = [fold(c.text, names) for c in b]
    scorer = _Scorer(fa, fb, floor)
    steps = _monotone_alignment(scorer, len(a), len(b))
    # A clause with a clear match elsewhere (moved) keeps it; the gap pass pairs only what is left after that.
    claimed = _moved_spans(scorer, *_left_over(steps), moved_floor)
    steps = _pair_within_gaps(steps, a, b, fa, fb, {i for ia, _ in claimed for i in ia},
                              {j for _, jb in claimed for j in jb})
    left_a = sorted(i for ia, jb in steps if not jb for i in ia)
    left_b = sorted(j for ia, jb in steps if not ia for j in jb)
    moved = _moved_spans(scorer, left_a, left_b, moved_floor)

    # Output in A order; B-only clauses stay where the order-keeping pass put them (after the A clause before).
    moved_a = {i for ia, _ in moved for i in ia}
    moved_b = {j for _, jb in moved for j in jb}
    moved_at = {ia[0]: (ia, jb) for ia, jb in moved}
    items: list[AlignedPair] = []
    for ia, jb in steps:
        if ia and jb:
            items.append(_span_pair(a, b, fa, fb, ia, jb, moved=False))
            continue
        if ia and ia[0] in moved_at:
            items.append(_span_pair(a, b, fa, fb, *moved_at[ia[0]], moved=True))
        elif ia and ia[0] not in moved_a:
            items.append(AlignedPair("only_a", a=[a[ia[0]]]))
        elif jb and jb[0] not in moved_b:
            items.append(AlignedPair("only_b", b=[b[jb[0]]]))
    return items


# The numbering of a heading (一、 (一) 1. （1） 第一章): two headings numbered alike between the same anchors
# are the same section, renamed (一、发展愿景 / 一、总体要求).
_ENUMERATOR = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十百]+[）)]|\d+[.．、]|[（(]\d+[）)]"
    r"|第[一二三四五六七八九十百\d]+[章节条部分])"
)
# Inside a gap, a clause that is mostly contained in the other (one kept, one extended) is the same clause
# changed: `加强党对学区化集团化办学工作的领导，充分发挥…` against `加强党对学区化、集团化办学工作的领导，把握…`.
GAP_CONTAINMENT = 0.5
GAP_COMMON_RUN = 8


def _enumerator(clause: Clause) -> str | None:
    m = _ENUMERATOR.match(squash(clause.text))
    return unicodedata.normalize("NFKC", m.group(0)).rstrip("、.") if m else None


def _gap_weight(ca: Clause, cb: Clause, ta: str, tb: str) -> float:
    """How strongly two clauses left in the same gap are one clause (0: not at all)."""
    if ca.role == cb.role == "heading":
        ea, eb = _enumerator(ca), _enumerator(cb)
        if ea and ea == eb and len(ca.section) == len(cb.section):
            return 1.0 + similarity(ta, tb)
    if ca.role == "heading" or cb.role == "heading" or not ta or not tb:
        return 0.0
    blocks = difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_matching_blocks()
    if max((blk.size for blk in blocks), default=0) < GAP_COMMON_RUN:
        return 0.0
    contained = sum(blk.size for blk in blocks) / min(len(ta), len(tb))
    return contained if contained >= GAP_CONTAINMENT else 0.0


def _left_over(steps: list[tuple[range, range]]) -> tuple[list[int], list[int]]:
    return (sorted(i for ia, jb in steps if not jb for i in ia), sorted(j for ia, jb in steps if not ia for j in jb))


def _pair_within_gaps(
    steps: list[tuple[range, range]], a: list[Clause], b: list[Clause], fa: list[str], fb: list[str],
    claimed_a: set[int], claimed_b: set[int],
) -> list[tuple[range, range]]:
    """Between two paired anchors, pair what a reader pairs at once: headings numbered alike, and clauses one of
    which is mostly the other; order kept (a weighted longest common subsequence over the gap)."""
    out: list[tuple[range, range]] = []
    gap: list[tuple[range, range]] = []

    def flush() -> None:
        ia = [i for sa, _ in gap for i in sa]
        jb = [j for _, sb in gap for j in sb]
        if not ia or not jb:
            out.extend(gap)
            return
        n, m = len(ia), len(jb)
        weight = [[0.0 if i in claimed_a or j in claimed_b else _gap_weight(a[i], b[j], fa[i], fb[j]) for j in jb]
                  for i in ia]
        best = [[0.0] * (m + 1) for _ in range(n + 1)]
        for x in range(n - 1, -1, -1):
            for y in range(m - 1, -1, -1):
                take = weight[x][y] + best[x + 1][y + 1] if weight[x][y] > 0 else 0.0
                best[x][y] = max(take, best[x + 1][y], best[x][y + 1])
        x = y = 0
        pending_a: list[tuple[range, range]] = []
        pending_b: list[tuple[range, range]] = []
        while x < n or y < m:
            if x < n and y < m and weight[x][y] > 0 and best[x][y] == weight[x][y] + best[x + 1][y + 1]:
                out.extend(pending_a + pending_b)
                pending_a, pending_b = [], []
                out.append((range(ia[x], ia[x] + 1), range(jb[y], jb[y] + 1)))
                x, y = x + 1, y + 1
            elif x < n and (y >= m or best[x][y] == best[x + 1][y]):
                pending_a.append((range(ia[x], ia[x] + 1), range(0)))
                x += 1
            else:
                pending_b.append((range(0), range(jb[y], jb[y] + 1)))
                y += 1
        out.extend(pending_a + pending_b)

    for step in steps:
        if step[0] and step[1]:
            flush()
            gap = []
            out.append(step)
        else:
            gap.append(step)
    flush()
    return out


def _span_pair(
    a: list[Clause], b: list[Clause], fa: list[str], fb: list[str], ia: range, jb: range, moved: bool
) -> AlignedPair:
    return _make_pair(
        [a[i] for i in ia], [b[j] for j in jb], "".join(fa[i] for i in ia), "".join(fb[j] for j in jb), moved=moved
    )


def _runs(indices: list[int], longest: int) -> list[range]:
    """Every run of up to `longest` consecutive indices present in `indices`."""
    present = set(indices)
    return [range(i, i + k) for i in indices for k in range(1, longest + 1) if all(x in present for x in range(i, i + k))]


def _moved_spans(scorer: _Scorer, left_a: list[int], left_b: list[int], moved_floor: float) -> list[tuple[range, range]]:
    """Pair clauses the order-keeping pass left over, allowing the same splits and merges: best score first."""
    longest = max(max(step) for step in STEPS)
    shapes = set(STEPS)
    candidates: list[tuple[float, range, range]] = []
    for ia in _runs(left_a, longest):
        for jb in _runs(left_b, longest):
            if (len(ia), len(jb)) not in shapes:
                continue
            score = scorer.score(ia.start, ia.stop, jb.start, jb.stop)
            if score <= 0:
                continue
            ta = "".join(scorer.a[i] for i in ia)
            tb = "".join(scorer.b[j] for j in jb)
            if similarity(ta, tb) >= moved_floor:
                candidates.append((score, ia, jb))
    candidates.sort(key=lambda t: (-t[0], t[1].start, t[2].start))
    used_a: set[int] = set()
    used_b: set[int] = set()
    chosen: list[tuple[range, range]] = []
    for _score, ia, jb in candidates:
        if used_a.intersection(ia) or used_b.intersection(jb):
            continue
        used_a.update(ia)
        used_b.update(jb)
        chosen.append((ia, jb))
    return chosen


def _region_names(*docs: Document) -> list[str]:
    return [d.metadata.region for d in docs if d.metadata.region]


def align_documents(doc_a: Document, clauses_a: list[Clause], doc_b: Document, clauses_b: list[Clause]) -> Alignment:
    """Align two indexed documents clause by clause (see the module docstring for the method).

    The two titles are one pair whatever their wording: a reader sets a title against the other title."""
    ordered_a = sorted(clauses_a, key=lambda c: (c.ordinal, c.start))
    ordered_b = sorted(clauses_b, key=lambda c: (c.ordinal, c.start))
    names = _region_names(doc_a, doc_b)
    title_a, title_b = _title_clause(doc_a, ordered_a), _title_clause(doc_b, ordered_b)
    titles: list[AlignedPair] = []
    if title_a is not None and title_b is not None:
        ordered_a = [c for c in ordered_a if c is not title_a]
        ordered_b = [c for c in ordered_b if c is not title_b]
        titles = [_make_pair([title_a], [title_b], fold(title_a.text, names), fold(title_b.text, names))]
    pairs = titles + align_clauses(ordered_a, ordered_b, region_names=names)
    return Alignment(
        doc_a.doc_id, doc_b.doc_id, pairs,
        region_a=doc_a.metadata.region, region_b=doc_b.metadata.region,
        title_a=doc_a.metadata.title, title_b=doc_b.metadata.title,
    )


def _title_clause(doc: Document, clauses: Sequence[Clause]) -> Clause | None:
    """The clause that is the document's title (its text is the title), among the aligned roles."""
    title = squash(doc.metadata.title or "")
    if not title:
        return None
    return next((c for c in clauses if c.role in ALIGNED_ROLES and squash(c.text) == title), None)


def suggest_pairs(kb: Any, limit: int = 20) -> list[tuple[str, str]]:
    """Document pairs worth aligning: (parent, child) pairs first, then documents of the same level, by id."""
    docs = sorted(kb.documents(), key=lambda d: d.doc_id)
    ranked: list[tuple[int, str, str]] = []
    for x in docs:
        for y in docs:
            if x.doc_id >= y.doc_id and not _is_parent(x, y):
                continue
            if _is_parent(x, y):
                ranked.append((0, x.doc_id, y.doc_id))
            elif _is_parent(y, x):
                continue  # listed as (y, x) above
            elif x.metadata.level and x.metadata.level == y.metadata.level:
                ranked.append((1, x.doc_id, y.doc_id))
            else:
                ranked.append((2, x.doc_id, y.doc_id))
    ranked.sort()
    return [(a, b) for _, a, b in ranked[:limit]]


def _is_parent(parent: Document, child: Document) -> bool:
    """Whether `parent` belongs to a region above `child`'s (a city's plan and a district's localisation)."""
    pid = parent.metadata.region_id
    return bool(pid) and pid != child.metadata.region_id and pid in (child.metadata.parent_region_ids or [])
