"""Alignment a reader agrees with (issue 14 item 5): titles with titles, renamed sections by their numbering,
clauses one of which is mostly the other, measured on the Hongkou plan against Shanghai's."""

from __future__ import annotations

from typing import Any

from draft_fakes import clause
from policykb.align import align_clauses, align_documents
from policykb.records import Document, Metadata


def _statuses(pairs: list) -> list[tuple[str, str, str]]:
    return [(p.status, p.a_text, p.b_text) for p in pairs]


def test_headings_numbered_alike_between_the_same_anchors_are_one_renamed_section() -> None:
    a = [clause("a", "a", 0, "一、发展愿景", [], "heading"), clause("a", "a", 1, "推进优质均衡发展，办好每一所学校。", ["一、发展愿景"]),
         clause("a", "a", 2, "二、主要举措", [], "heading")]
    b = [clause("b", "b", 0, "一、总体要求", [], "heading"), clause("b", "b", 1, "坚持立德树人，落实根本任务要求。", ["一、总体要求"]),
         clause("b", "b", 2, "二、主要举措", [], "heading")]
    assert _statuses(align_clauses(a, b)) == [
        ("changed", "一、发展愿景", "一、总体要求"),
        ("only_a", "推进优质均衡发展，办好每一所学校。", ""),
        ("only_b", "", "坚持立德树人，落实根本任务要求。"),
        ("identical", "二、主要举措", "二、主要举措"),
    ]


def test_headings_at_different_depths_or_numbers_stay_apart() -> None:
    a = [clause("a", "a", 0, "（一）组织领导", ["一、保障"], "heading")]
    b = [clause("b", "b", 0, "（二）经费投入", ["一、保障"], "heading"), clause("b", "b", 1, "一、经费投入", [], "heading")]
    assert [p.status for p in align_clauses(a, b)] == ["only_a", "only_b", "only_b"]


def test_a_clause_mostly_contained_in_the_other_is_changed() -> None:
    kept = "加强党对学区化、集团化办学工作的领导，把握正确的政治方向和办学方向。"
    extended = "加强党对学区化集团化办学工作的领导，充分发挥学区化集团化党建联盟的积极作用，形成党建工作合力，推动党建与业务深度融合发展。"
    pairs = align_clauses([clause("a", "a", 0, extended, [])], [clause("b", "b", 0, kept, [])])
    assert [p.status for p in pairs] == ["changed"]
    unrelated = "建立学区和集团资源清单，优化统筹、管理和使用机制，促进资源多元供给。"
    assert [p.status for p in align_clauses([clause("a", "a", 0, unrelated, [])], [clause("b", "b", 0, kept, [])])] == [
        "only_a", "only_b"]


def test_titles_pair_whatever_their_wording() -> None:
    def doc(doc_id: str, title: str) -> Document:
        return Document(doc_id, f"{doc_id}.txt", title, title, Metadata(region_id=doc_id, title=title))

    ta, tb = "某区推进集团化办学的实施意见", "某市示范性学区建设三年行动计划"
    a = [clause("a", "a", 0, ta, [], "heading"), clause("a", "a", 1, "一、总体要求", [], "heading")]
    b = [clause("b", "b", 0, tb, [], "heading"), clause("b", "b", 1, "一、总体要求", [], "heading")]
    pairs = align_documents(doc("a", ta), a, doc("b", tb), b).pairs
    assert _statuses(pairs) == [("changed", ta, tb), ("identical", "一、总体要求", "一、总体要求")]


def test_hongkou_against_shanghai(hash_kb: Any) -> None:
    alignment = hash_kb.align("hongkou-2025-03-10", "shanghai-2023-15")
    # before: 相同 3 / 修改 24 / 仅虹口 48 / 仅上海 60 (issue 14)
    assert alignment.counts() == {"identical": 3, "changed": 34, "only_a": 38, "only_b": 50}
    pairs = {(p.a_text, p.b_text): p.status for p in alignment.pairs if p.a and p.b}
    assert pairs[("虹口区推进学区化集团化办学高质量发展的实施意见", "上海市示范性学区和集团建设三年行动计划（2023-2025年）")] == "changed"
    assert pairs[("一、发展愿景", "一、总体要求")] == "changed"
    assert any(a.startswith("加强党对学区化集团化办学工作的领导") and b.startswith("加强党对学区化、集团化办学工作的领导")
               for a, b in pairs)
    assert pairs[("1.推进教师统筹管理。", "2.加强教师队伍统筹管理。")] == "changed"  # content beats numbering
