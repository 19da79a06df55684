"""The SQLite store: round trips of documents, clauses and requirements, and requirement queries.

`sample_corpus()` (hand-made records over real sentences of the five documents) is shared with the index and
search tests, which import it from here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from policykb.errors import IndexError_, NotFoundError
from policykb.records import Change, Clause, Document, Metadata, Requirement
from policykb.store import Store, ordered_clauses


@dataclass
class Processed:
    """Stands in for pipeline.ProcessedDocument (same three attributes) without importing the pipeline."""

    document: Document
    clauses: list[Clause]
    requirements: list[Requirement]


def _doc(
    doc_id: str, region_id: str, region: str, level: str, parents: list[str], title: str, kind: str = "policy"
) -> Document:
    meta = Metadata(
        region_id=region_id,
        region=region,
        title=title,
        issuer=None,
        date="2023-05-04",
        doc_number=None,
        kind=kind,
        level=level,
        parent_region_ids=parents,
    )
    return Document(doc_id, f"corpus/{doc_id}.txt", raw_text="", text="", metadata=meta)


def _build(
    doc: Document,
    parts: list[tuple[str, str, list[str], str]],
    reqs: list[tuple[int, str, str, str, float | list[float], str | None, str | None, str]],
) -> Processed:
    """parts: (local id, role, section, text); reqs: (part index, span, subject, comparator, value, unit, period,
    kind). Offsets are computed so that clause.text == doc.text[start:end] and the span lies in its clause."""
    text, clauses = "", []
    for ordinal, (local, role, section, body) in enumerate(parts):
        start = len(text)
        text += body
        clauses.append(
            Clause(
                f"{doc.doc_id}/{local}",
                doc.doc_id,
                doc.metadata.region_id or "",
                section,
                body,
                start,
                len(text),
                role,
                ordinal,
            )
        )
        text += "\n"
    doc.text = doc.raw_text = text
    requirements = []
    for index, span, subject, comparator, value, unit, period, kind in reqs:
        clause = clauses[index]
        at = clause.text.index(span)
        requirements.append(
            Requirement(
                clause.clause_id,
                doc.doc_id,
                clause.region_id,
                clause.text,
                span,
                at,
                at + len(span),
                subject,
                comparator,
                value,
                unit,
                period,
                None,
                kind,
            )
        )
    return Processed(doc, clauses, requirements)


SH_SECTION = ["二、主要任务", "(二)加强学区和集团师资流动", "1.加大教师流动力度"]


def sample_corpus() -> list[Processed]:
    """Five small documents, one per region, with headings, body clauses and requirements."""
    shanghai = _build(
        _doc(
            "shanghai-2023-15", "shanghai", "上海市", "province", [], "上海市示范性学区和集团建设三年行动计划"
        ),
        [
            ("二", "heading", [], "二、主要任务"),
            ("二.(二)", "heading", ["二、主要任务"], "(二)加强学区和集团师资流动"),
            ("二.(二).1", "heading", SH_SECTION[:2], "1.加大教师流动力度"),
            (
                "二.(二).1#1",
                "body",
                SH_SECTION,
                "创建市示范性学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,"
                "其中在教育教学领域表现突出的骨干教师不低于30%,流动期限不少于3年。",
            ),
            (
                "二.(三)#1",
                "body",
                ["二、主要任务", "(三)深化教育教学协作"],
                "其中学区、集团内各学科联合教研每学期不少于5次。",
            ),
            ("三#1", "body", ["三、工作目标"], "同学段校际差异率低于0.15,相对薄弱学校进步明显。"),
            ("sig", "signature", [], "上海市教育委员会"),
        ],
        [
            (
                3,
                "不低于符合交流轮岗条件教师总数的20%",
                "流入相对薄弱校的教师人数",
                ">=",
                20.0,
                "%",
                "每年",
                "requirement",
            ),
            (3, "骨干教师不低于30%", "骨干教师占比", ">=", 30.0, "%", None, "requirement"),
            (3, "流动期限不少于3年", "流动期限", ">=", 3.0, "年", None, "requirement"),
            (4, "联合教研每学期不少于5次", "联合教研", ">=", 5.0, "次", "每学期", "requirement"),
            (5, "校际差异率低于0.15", "校际差异率", "<", 0.15, None, None, "requirement"),
        ],
    )
    hongkou = _build(
        _doc(
            "hongkou-2025",
            "hongkou",
            "虹口区",
            "district",
            ["shanghai"],
            "虹口区推进学区化集团化办学高质量发展的实施意见",
        ),
        [
            ("一", "heading", [], "一、加强师资流动"),
            (
                "一#1",
                "body",
                ["一、加强师资流动"],
                "每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,骨干教师占比不低于30%。",
            ),
        ],
        [(1, "骨干教师占比不低于30%", "骨干教师占比", ">=", 30.0, "%", None, "requirement")],
    )
    zhenjiang = _build(
        _doc("zhenjiang-2019", "zhenjiang", "镇江市", "city", [], "镇江市义务教育集团化办学的意见"),
        [
            (
                "三.(二)#1",
                "body",
                ["三、保障措施", "(二)创新人事管理"],
                "积极推进“县管校聘”“校长职级制”等人事制度改革,对集团内教师实施整体管理。",
            ),
            (
                "三.(二)#2",
                "body",
                ["三、保障措施", "(二)创新人事管理"],
                "对在集团内有两校及以上任教经历的教师,在专业职称晋升上予以优先考虑。",
            ),
        ],
        [(1, "两校及以上", "任教学校数", ">=", 2.0, "校", None, "requirement")],
    )
    haidian = _build(
        _doc(
            "haidian-2022-news",
            "haidian",
            "海淀区",
            "district",
            ["beijing"],
            "海淀区集团化办学进入新阶段",
            kind="news",
        ),
        [("#1", "body", [], "目前,海淀区共建立36个教育集团,涉及140余个校址,涵盖100余所成员校。")],
        [(0, "36个教育集团", "教育集团数", "=", 36.0, "个", None, "statistic")],
    )
    linping = _build(
        _doc(
            "linping-2023",
            "linping",
            "临平区",
            "district",
            ["hangzhou", "zhejiang"],
            "临平区义务教育优质均衡行动计划",
        ),
        [
            (
                "三.(一)#1",
                "body",
                ["三、主要举措", "(一)深化人事制度改革"],
                "严格落实“区管校聘”,按岗聘用、竞争择优、强化考核,加强校级教师交流力度,优化师资结构。",
            ),
            (
                "三.(二)#1",
                "body",
                ["三、主要举措", "(二)深化课程改革"],
                "每学年拓展性课程课时占总课时的比例:一至六年级15%左右,主要以开设体艺特长类和实践活动类课程为主。",
            ),
            (
                "三.(三)#1",
                "body",
                ["三、主要举措", "(三)推进作业改革"],
                "每学年召开1-2次作业改革现场交流会,组织开展“全区优秀校本作业”设计评比活动。",
            ),
        ],
        [
            (1, "一至六年级15%左右", "拓展性课程课时占比", "~", 15.0, "%", "每学年", "requirement"),
            (2, "召开1-2次", "作业改革现场交流会", "range", [1.0, 2.0], "次", "每学年", "requirement"),
        ],
    )
    shanghai.document.changes = [Change("pinyin", "关(guān)", "关", 12, "annotation")]
    return [shanghai, hongkou, zhenjiang, haidian, linping]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("store") / "kb.sqlite")
    s.write_documents(sample_corpus())
    yield s
    s.close()


def test_store_round_trips_documents_with_metadata_and_changes(store: Store) -> None:
    originals = {p.document.doc_id: p.document for p in sample_corpus()}
    docs = store.documents()
    assert [d.doc_id for d in docs] == list(originals)  # ingest order
    for doc in docs:
        assert doc == originals[doc.doc_id]
    assert store.document("shanghai-2023-15").changes == [
        Change("pinyin", "关(guān)", "关", 12, "annotation")
    ]


def test_store_round_trips_clauses_in_document_order(store: Store) -> None:
    expected = [c for p in sample_corpus() for c in p.clauses]
    assert store.clauses() == expected
    assert store.clause("shanghai-2023-15/二.(二).1#1").section == SH_SECTION


@pytest.mark.parametrize(
    ("filters", "expected_ids"),
    [
        # one region, body only
        ({"region_ids": ["hongkou"], "roles": ["body"]}, ["hongkou-2025/一#1"]),
        # several regions keep document order
        (
            {"region_ids": ["linping", "zhenjiang"], "roles": ["body"]},
            [
                "zhenjiang-2019/三.(二)#1",
                "zhenjiang-2019/三.(二)#2",
                "linping-2023/三.(一)#1",
                "linping-2023/三.(二)#1",
                "linping-2023/三.(三)#1",
            ],
        ),
        # one document, headings only
        (
            {"doc_id": "shanghai-2023-15", "roles": ["heading"]},
            ["shanghai-2023-15/二", "shanghai-2023-15/二.(二)", "shanghai-2023-15/二.(二).1"],
        ),
        # should not match: a region with no documents
        ({"region_ids": ["shenzhen"]}, []),
    ],
)
def test_store_filters_clauses(store: Store, filters: dict, expected_ids: list[str]) -> None:
    assert [c.clause_id for c in store.clauses(**filters)] == expected_ids


def test_store_numbers_searchable_clauses_first_as_dense_ids(store: Store) -> None:
    body = [c for c in ordered_clauses(sample_corpus()) if c.role == "body"]
    assert store.indexed_count() == len(body) == 10
    assert store.clauses_by_rowids([2, 0, 9]) == [body[2], body[0], body[9]]
    assert store.rowid("zhenjiang-2019/三.(二)#1") == 4
    # non-searchable clauses come after every searchable one
    assert store.rowid("shanghai-2023-15/二") >= 10


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.document("nope"), "no document 'nope' in the index"),
        (lambda s: s.clause("nope/1#1"), "no clause 'nope/1#1' in the index"),
        (lambda s: s.clauses_by_rowids([0, 999]), "no clause with dense id 999 in the index"),
    ],
)
def test_store_unknown_ids_raise_not_found(store: Store, call, message: str) -> None:
    with pytest.raises(NotFoundError) as err:
        call(store)
    assert str(err.value) == message


def test_store_round_trips_requirements_with_clause_text(store: Store) -> None:
    expected = [r for p in sample_corpus() for r in p.requirements]
    assert store.requirements() == expected
    ranged = store.requirements(comparator="range")
    assert [(r.value, r.unit, r.period) for r in ranged] == [([1.0, 2.0], "次", "每学年")]
    assert ranged[0].text == "每学年召开1-2次作业改革现场交流会,组织开展“全区优秀校本作业”设计评比活动。"


@pytest.mark.parametrize(
    ("filters", "expected_spans"),
    [
        # by unit: every percentage, document order
        (
            {"unit": "%"},
            [
                "不低于符合交流轮岗条件教师总数的20%",
                "骨干教师不低于30%",
                "骨干教师占比不低于30%",
                "一至六年级15%左右",
            ],
        ),
        # unit and region
        ({"unit": "%", "region_ids": ["hongkou", "linping"]}, ["骨干教师占比不低于30%", "一至六年级15%左右"]),
        # comparator
        ({"comparator": "~"}, ["一至六年级15%左右"]),
        # value range [10, 25] percent: 20 and 15 fall inside, 30 does not
        (
            {"unit": "%", "value_min": 10, "value_max": 25},
            ["不低于符合交流轮岗条件教师总数的20%", "一至六年级15%左右"],
        ),
        # a range value reaches into the window when it overlaps it: [1, 2] overlaps [2, 10]
        ({"unit": "次", "value_min": 2, "value_max": 10}, ["联合教研每学期不少于5次", "召开1-2次"]),
        # only the lower bound
        ({"unit": "%", "value_min": 30}, ["骨干教师不低于30%", "骨干教师占比不低于30%"]),
        # kind: the news statistic is not a requirement
        ({"kind": "statistic"}, ["36个教育集团"]),
        ({"kind": "requirement", "region_ids": ["haidian"]}, []),
        # one document, and explicit clause ids
        ({"doc_id": "zhenjiang-2019"}, ["两校及以上"]),
        (
            {"clause_ids": ["shanghai-2023-15/二.(三)#1", "linping-2023/三.(三)#1"]},
            ["联合教研每学期不少于5次", "召开1-2次"],
        ),
        # should not match: no clause ids, an unknown unit, a window above every value
        ({"clause_ids": []}, []),
        ({"unit": "元"}, []),
        ({"unit": "%", "value_min": 31}, []),
    ],
)
def test_store_queries_requirements(store: Store, filters: dict, expected_spans: list[str]) -> None:
    assert [r.span for r in store.requirements(**filters)] == expected_spans


def test_store_lists_regions_with_names_levels_and_parents(store: Store) -> None:
    assert store.regions() == [
        {"region_id": "haidian", "region": "海淀区", "level": "district", "parent_region_ids": ["beijing"]},
        {"region_id": "hongkou", "region": "虹口区", "level": "district", "parent_region_ids": ["shanghai"]},
        {
            "region_id": "linping",
            "region": "临平区",
            "level": "district",
            "parent_region_ids": ["hangzhou", "zhejiang"],
        },
        {"region_id": "shanghai", "region": "上海市", "level": "province", "parent_region_ids": []},
        {"region_id": "zhenjiang", "region": "镇江市", "level": "city", "parent_region_ids": []},
    ]
    assert store.region_name("hongkou") == "虹口区"
    assert store.region_name("shenzhen") == "shenzhen"


def test_store_facets_flag_clauses_with_requirements(store: Store) -> None:
    facets = store.facets()
    flagged = [
        c.clause_id
        for c, f in zip(store.clauses_by_rowids(range(10)), facets["has_requirement"], strict=True)
        if f
    ]
    # the Haidian statistic is not a requirement, the Zhenjiang 县管校聘 clause has none
    assert flagged == [
        "shanghai-2023-15/二.(二).1#1",
        "shanghai-2023-15/二.(三)#1",
        "shanghai-2023-15/三#1",
        "hongkou-2025/一#1",
        "zhenjiang-2019/三.(二)#2",
        "linping-2023/三.(二)#1",
        "linping-2023/三.(三)#1",
    ]
    assert list(facets["region_ids"]) == ["haidian", "hongkou", "linping", "shanghai", "zhenjiang"]


def test_store_is_written_once(store: Store) -> None:
    with pytest.raises(FileExistsError):
        store.write_documents(sample_corpus())


def test_store_reports_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="no database at"):
        Store(tmp_path / "kb.sqlite").documents()


def test_store_serves_concurrent_readers_and_closes_their_connections(store: Store, tmp_path: Path) -> None:
    s = Store(tmp_path / "kb.sqlite")
    s.write_documents(sample_corpus())
    results: list[int] = []

    def read() -> None:
        for _ in range(20):
            results.append(len(s.clauses(roles=["body"])))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [10] * 80
    assert len(s._connections) == 4
    s.close()
    assert s._connections == []
