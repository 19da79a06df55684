"""A hand-made knowledge base for the alignment and draft tests: real corpus sentences, no index or model."""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policykb.records import Clause, Document, Hit, Metadata, Requirement

ROOT = Path(__file__).resolve().parents[1]


def clause(doc_id: str, region_id: str, n: int, text: str, section: list[str], role: str = "body") -> Clause:
    return Clause(
        clause_id=f"{doc_id}/{n}", doc_id=doc_id, region_id=region_id, section=section, text=text,
        start=0, end=len(text), role=role, ordinal=n,
    )


def req(c: Clause, span: str, comparator: str, value: float, unit: str | None, subject: str | None = None) -> Requirement:
    start = c.text.index(span)
    return Requirement(
        clause_id=c.clause_id, doc_id=c.doc_id, region_id=c.region_id, text=c.text, span=span,
        span_start=start, span_end=start + len(span), subject=subject, comparator=comparator, value=value, unit=unit,
    )


def document(doc_id: str, region_id: str, region: str, level: str, title: str, issuer: str,
             parents: list[str] | None = None) -> Document:
    meta = Metadata(region_id=region_id, region=region, title=title, issuer=issuer, date="2023-05-04",
                    level=level, parent_region_ids=parents or [])
    return Document(doc_id=doc_id, source_path=f"{doc_id}.txt", raw_text="", text="", metadata=meta)


SH = document("sh", "shanghai", "上海市", "city", "上海市示范性学区和集团建设三年行动计划(2023-2025年)", "上海市教育委员会")
HK = document("hk", "hongkou", "虹口区", "district", "虹口区推进学区化集团化办学高质量发展的实施意见", "虹口区教育局",
              ["shanghai"])
LP = document("lp", "linping", "临平区", "district", "临平区义务教育“优质均衡”行动计划", "临平区教育局", ["hangzhou"])

S_ROT = ["二、主要任务", "(二)加强学区和集团师资流动", "1.加大教师流动力度"]
S_COURSE = ["二、主要任务", "(三)促进学区和集团资源共享", "1.实施课程教学资源共建共享"]

SH_CLAUSES = [
    clause("sh", "shanghai", 1, "以习近平新时代中国特色社会主义思想为指导,落实市委、市政府有关部署,以优质资源共享、教师有效流动、"
           "一体化评价为重要抓手。", ["一、总体要求", "(一)指导思想"]),
    clause("sh", "shanghai", 2, "通过3年努力,建设一批市示范性学区和集团,家长和社会满意度持续提升。", ["一、总体要求", "(二)工作目标"]),
    clause("sh", "shanghai", 3, "创建市示范性学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,"
           "其中在教育教学领域表现突出的骨干教师不低于30%,流动期限不少于3年。", S_ROT),
    clause("sh", "shanghai", 4, "每学期学区、集团内每校至少有1门共享课程,可共享课程应不低于5门且逐年增加。", S_COURSE),
    clause("sh", "shanghai", 5, "(一)市级教育行政部门安排专项经费,对命名为市示范性的学区和集团给予支持。",
           ["四、保障措施", "(一)"]),
]
SH_REQS = [
    req(SH_CLAUSES[2], "不低于符合交流轮岗条件教师总数的20%", ">=", 20, "%", "流入相对薄弱校的教师人数"),
    req(SH_CLAUSES[2], "不低于30%", ">=", 30, "%", "骨干教师"),
    req(SH_CLAUSES[2], "不少于3年", ">=", 3, "年", "流动期限"),
    req(SH_CLAUSES[3], "至少有1门", ">=", 1, "门", "每校共享课程"),
    req(SH_CLAUSES[3], "不低于5门", ">=", 5, "门", "可共享课程"),
]

HK_CLAUSES = [
    clause("hk", "hongkou", 1, "建设高质量学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,"
           "其中“五层级”梯队等骨干教师占比不低于30%,流动期限不少于3年。", ["二、主要举措", "(二)加强师资队伍建设", "2.建立骨干人才智库"]),
    clause("hk", "hongkou", 2, "每学期集团内每校至少有1门共享课程,可共享课程应不低于5门且逐年增加。",
           ["二、主要举措", "(三)提升教育教学品质", "1.加强家校社联动的资源共享再生"]),
]
HK_REQS = [
    req(HK_CLAUSES[0], "不低于符合交流轮岗条件教师总数的20%", ">=", 20, "%", "流入相对薄弱校的教师人数"),
    req(HK_CLAUSES[0], "不低于30%", ">=", 30, "%", "骨干教师占比"),
    req(HK_CLAUSES[0], "不少于3年", ">=", 3, "年", "流动期限"),
    req(HK_CLAUSES[1], "至少有1门", ">=", 1, "门", "每校共享课程"),
    req(HK_CLAUSES[1], "不低于5门", ">=", 5, "门", "可共享课程"),
]

# A made-up stricter peer (not in the corpus) so that "strictest" has something to choose.
LP_CLAUSES = [
    clause("lp", "linping", 1, "优质校每年流入薄弱校的教师人数不低于符合交流轮岗条件教师总数的25%,其中骨干教师不低于35%。",
           ["三、主要任务", "(二)推进教师交流"]),
]
LP_REQS = [
    req(LP_CLAUSES[0], "不低于符合交流轮岗条件教师总数的25%", ">=", 25, "%", "流入薄弱校的教师人数"),
    req(LP_CLAUSES[0], "不低于35%", ">=", 35, "%", "骨干教师"),
]

ALL_CLAUSES = SH_CLAUSES + HK_CLAUSES + LP_CLAUSES
ALL_REQS = SH_REQS + HK_REQS + LP_REQS
REGION_NAMES = {"shanghai": "上海市", "hongkou": "虹口区", "linping": "临平区"}

# measure → the clauses each region's comparison finds (found regions only), best first.
FOUND: dict[str, dict[str, list[Clause]]] = {
    "教师流动比例": {"shanghai": [SH_CLAUSES[2]], "hongkou": [HK_CLAUSES[0]], "linping": [LP_CLAUSES[0]]},
    "共享课程": {"shanghai": [SH_CLAUSES[3]], "hongkou": [HK_CLAUSES[1]]},
    "骨干人才智库": {"hongkou": [HK_CLAUSES[0]]},
}


@dataclass
class RegionColumn:
    region_id: str
    region: str
    found: bool
    matches: list[Hit] = field(default_factory=list)
    value: Requirement | None = None


@dataclass
class FakeComparison:
    query: str
    regions: list[RegionColumn]


class FakeKB:
    """The slice of KnowledgeBase the draft builder and suggest_pairs use."""

    def __init__(self, found: dict[str, dict[str, list[Clause]]] | None = None, docs: list[Document] | None = None):
        self.found = FOUND if found is None else found
        self.docs = docs or [SH, HK, LP]

    def documents(self) -> list[Document]:
        return list(self.docs)

    def regions(self) -> list[dict[str, Any]]:
        return [{"region_id": d.metadata.region_id, "region": d.metadata.region, "level": d.metadata.level}
                for d in self.docs]

    def clauses(self, region_ids: Any = None, doc_id: str | None = None) -> list[Clause]:
        return [c for c in ALL_CLAUSES if doc_id is None or c.doc_id == doc_id]

    def compare(self, query: str, region_ids: Any = None) -> FakeComparison:
        columns = []
        for region_id, name in REGION_NAMES.items():
            found = self.found.get(query, {}).get(region_id, [])
            hits = [Hit(clause=c, region=name, score=0.9 - 0.01 * i,
                        requirements=[r for r in ALL_REQS if r.clause_id == c.clause_id]) for i, c in enumerate(found)]
            value = hits[0].requirements[0] if hits and hits[0].requirements else None
            columns.append(RegionColumn(region_id, name, bool(hits), hits, value))
        return FakeComparison(query, columns)


# ----- the real corpus, indexed once per test process with the real model ----------------------------------

@functools.cache
@functools.cache
def real_index_dir() -> Path:
    """An index of corpus/ built with the real model, once per session (or $POLICYKB_TEST_INDEX, an index
    already built)."""
    existing = os.environ.get("POLICYKB_TEST_INDEX")
    if existing:
        return Path(existing)
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="policykb-draft-tests-"))
    report = KnowledgeBase(Settings.load(index_dir=str(folder))).ingest([ROOT / "corpus"])
    assert report.indexed == 5, report.to_dict()
    return folder


def real_kb() -> Any:
    from policykb.service import KnowledgeBase
    from policykb.settings import Settings

    return KnowledgeBase(Settings.load(index_dir=str(real_index_dir())))
