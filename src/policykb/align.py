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
    """Align two indexed documents clause by clause (see the module docstring for the method)."""
    pairs = align_clauses(
        sorted(clauses_a, key=lambda c: (c.ordinal, c.start)),
        sorted(clauses_b, key=lambda c: (c.ordinal, c.start)),
        region_names=_region_names(doc_a, doc_b),
    )
    return Alignment(
        doc_a.doc_id, doc_b.doc_id, pairs,
        region_a=doc_a.metadata.region, region_b=doc_b.metadata.region,
        title_a=doc_a.metadata.title, title_b=doc_b.metadata.title,
    )


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
