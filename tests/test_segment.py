"""Segmentation: outline markers, sentence clauses, front/back matter roles, golden outlines, properties."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.cleaning.punctuation import fold_for_matching
from policykb.records import Clause, Document, Metadata
from policykb.segment import (
    MAX_CLAUSE_CHARS,
    parse_marker,
    segment_document,
    segment_text,
    split_sentences,
)

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
CORPUS_FILES = {
    "hongkou": "000_378b8ca429274a32.txt",
    "shanghai": "001_867a7dc465003806.txt",
    "zhenjiang": "002_f9aa5eef70a0c370.txt",
    "haidian": "003_2aa76531205a0dc0.txt",
    "linping": "004_ce93898c2184bccb.txt",
}
ROLE_PATHS = ("notice", "preamble", "signature", "attachment", "title", "body")


@functools.cache
def cleaned_text(name: str) -> str:
    """The real cleaner's output for a corpus document (the segmenter's input in the pipeline)."""
    from policykb.pipeline import clean_file

    return clean_file(ROOT / "corpus" / CORPUS_FILES[name]).text


def segment(name: str) -> list[Clause]:
    return segment_text(cleaned_text(name), name, name)


def clause_path(clause: Clause) -> str:
    """`二.(二).1` from `shanghai/二.(二).1#2`."""
    return clause.clause_id.split("/", 1)[1].rsplit("#", 1)[0]


def outline_rows(text: str) -> list[tuple[str, list[str]]]:
    """(path, section) of every outline node, in order of first appearance."""
    rows: dict[str, list[str]] = {}
    for c in segment_text(text, "d", "r"):
        path = clause_path(c)
        if path not in ROLE_PATHS and path not in rows:
            rows[path] = c.section
    return list(rows.items())


def read_golden_outline(name: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in (GOLDEN / f"outline_{name}.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            path, section = line.split("\t")
            rows.append((path, section.split(" > ")))
    return rows


def by_suffix(clauses: list[Clause], suffix: str) -> Clause:
    [found] = [c for c in clauses if c.clause_id.split("/", 1)[1] == suffix]
    return found


# --- markers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "label", "number"),
    [
        # the four levels of the official outline, as the cleaner writes them (ASCII punctuation)
        ("一、总体要求", "cn", "一", 1),
        ("十二、附则", "cn", "十二", 12),
        ("(二)加强学区和集团师资流动", "paren_cn", "(二)", 2),
        ("1.优化学区和集团结构布局。", "arabic", "1", 1),
        ("12.其他", "arabic", "12", 12),
        ("(3)第三项", "paren_arabic", "(3)", 3),
        # full-width and alternative forms normalise to one path label
        ("（一）指导思想", "paren_cn", "(一)", 1),
        ("（2）第二项", "paren_arabic", "(2)", 2),
        ("1、到2025年", "arabic", "1", 1),
        ("2．加强统筹", "arabic", "2", 2),
        ("③子项", "circled", "③", 3),
        ("2)第二点", "half_paren", "2)", 2),
        ("一. 总体要求", "cn", "一", 1),
        # regulations
        ("第一章 总则", "chapter", "第一章", 1),
        ("第二节 组织", "section", "第二节", 2),
        ("第二十三条 本办法自发布之日起施行。", "article", "第二十三条", 23),
    ],
)
def test_parse_marker_recognises_outline_markers(line: str, kind: str, label: str, number: int) -> None:
    marker = parse_marker(line)
    assert marker is not None
    assert (marker.kind, marker.label, marker.number) == (kind, label, number)


@pytest.mark.parametrize(
    "line",
    [
        "1.5万名学生受益",  # a decimal, not item 1
        "0.15的差异率",
        "2023.5起施行",
        "(2023-2025年)",  # a plan period in brackets
        "(试行)",
        "1、2年级学生",  # two grades
        "一、二年级每周",  # two grades in Chinese
        "一是加强领导",  # an inline enumeration, not a heading
        "第一阶段为探索创新",  # 第一 without 章/节/条
        "第一节课后",  # a lesson, not a section
        "十四五期间",
        "2023年5月4日",
        "36个教育集团",
        "为全面贯彻党的二十大精神",
    ],
)
def test_parse_marker_rejects_numbers_that_are_not_markers(line: str) -> None:
    assert parse_marker(line) is None


# --- sentence clauses ------------------------------------------------------------------------------


def _texts(s: str) -> list[str]:
    return [s[a:b] for a, b in split_sentences(s)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sentences split on 。！？ and keep their terminator
        (
            "加强党对学区化、集团化办学工作的领导。把握正确的政治方向和办学方向!",
            ["加强党对学区化、集团化办学工作的领导。", "把握正确的政治方向和办学方向!"],
        ),
        # a semicolon separates two measures
        (
            "调整教育经费的支出结构,较大幅度地增加对初中教育的投入;调整和提高生均公用经费的拨款标准。",
            ["调整教育经费的支出结构,较大幅度地增加对初中教育的投入;", "调整和提高生均公用经费的拨款标准。"],
        ),
        # ...but items introduced by a colon stay with their lead-in
        (
            "每学年拓展性课程课时占总课时的比例:一至六年级15%左右;七到九年级20%左右。",
            ["每学年拓展性课程课时占总课时的比例:一至六年级15%左右;七到九年级20%左右。"],
        ),
        # a fragment under MIN_CLAUSE_CHARS joins the sentence before it
        (
            "研制市示范性学区和集团评估标准,明确要求;相对薄弱学校进步明显;家长满意度不低于90%。",
            ["研制市示范性学区和集团评估标准,明确要求;相对薄弱学校进步明显;", "家长满意度不低于90%。"],
        ),
        (
            "特此通知。现将方案印发给你们,请结合实际贯彻执行。",
            ["特此通知。现将方案印发给你们,请结合实际贯彻执行。"],
        ),
    ],
)
def test_split_sentences_cuts_at_sentence_ends(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # never inside 《》, quotes or brackets
        "根据《关于加强初中教育的实施意见。浙江省中小学生减负工作实施方案》的要求推进工作。",
        "按照“优质引领,强弱结合。相对便利,规模适度”的原则推进学区建设。",
        "相关文件(详见附件。另行印发的细则)一并执行到位。",
        # numbers with dots or inside a sentence are not boundaries
        "同学段校际差异率低于0.15,共有1.5万名学生受益于集团化办学。",
        "会上提出要做好三件事:1.加强领导;2.落实经费;3.强化督导。",
        "制定上海市示范性学区和集团建设三年行动计划(2023-2025年)并组织实施。",
    ],
)
def test_split_sentences_does_not_split_inside_brackets_or_numbers(text: str) -> None:
    assert _texts(text) == [text]


def test_split_sentences_cuts_an_overlong_sentence_at_commas() -> None:
    part = "统筹开展精彩课程体系、精致课堂模式、精品课程评比以及各学科命题活动"  # 33 characters
    text = ",".join([part] * 8) + "。"
    pieces = _texts(text)
    assert "".join(pieces) == text
    assert len(pieces) == 2
    assert all(len(p) <= MAX_CLAUSE_CHARS for p in pieces)
    assert pieces[0].endswith(",")


def test_split_sentences_keeps_an_overlong_sentence_without_commas_whole() -> None:
    text = "统筹开展精彩课程体系精致课堂模式" * 12 + "。"
    assert _texts(text) == [text]


def test_split_sentences_merges_a_short_leading_fragment_forward() -> None:
    assert _texts("特此通知。各区要结合实际认真贯彻执行到位。") == [
        "特此通知。各区要结合实际认真贯彻执行到位。"
    ]


# --- made-up documents -----------------------------------------------------------------------------

REGULATION = """某某市中小学集团化办学管理办法
第一章 总则
第一条 为规范集团化办学,根据有关规定,制定本办法。
第二条 本办法适用于本市义务教育阶段学校。
第二章 组织管理
第三条 集团应当建立理事会。理事会每学期至少召开1次会议。
第四条 集团履行下列职责:
(一)制定集团发展规划;
(二)统筹教师流动,流动比例不低于15%。
第五条 本办法自2024年1月1日起施行。
某某市教育局
2023年12月1日"""


def test_segment_regulation_nests_articles_under_chapters() -> None:
    rows = [(c.clause_id, c.role, c.section, c.text) for c in segment_text(REGULATION, "reg", "r")]
    assert rows == [
        ("reg/title#0", "heading", [], "某某市中小学集团化办学管理办法"),
        ("reg/第一章#0", "heading", ["第一章 总则"], "第一章 总则"),
        (
            "reg/第一章.第一条#1",
            "body",
            ["第一章 总则", "第一条"],
            "第一条 为规范集团化办学,根据有关规定,制定本办法。",
        ),
        (
            "reg/第一章.第二条#1",
            "body",
            ["第一章 总则", "第二条"],
            "第二条 本办法适用于本市义务教育阶段学校。",
        ),
        ("reg/第二章#0", "heading", ["第二章 组织管理"], "第二章 组织管理"),
        ("reg/第二章.第三条#1", "body", ["第二章 组织管理", "第三条"], "第三条 集团应当建立理事会。"),
        ("reg/第二章.第三条#2", "body", ["第二章 组织管理", "第三条"], "理事会每学期至少召开1次会议。"),
        ("reg/第二章.第四条#1", "body", ["第二章 组织管理", "第四条"], "第四条 集团履行下列职责:"),
        ("reg/第二章.第四条.(一)#1", "body", ["第二章 组织管理", "第四条", "(一)"], "(一)制定集团发展规划;"),
        (
            "reg/第二章.第四条.(二)#1",
            "body",
            ["第二章 组织管理", "第四条", "(二)"],
            "(二)统筹教师流动,流动比例不低于15%。",
        ),
        ("reg/第二章.第五条#1", "body", ["第二章 组织管理", "第五条"], "第五条 本办法自2024年1月1日起施行。"),
        ("reg/signature#1", "signature", [], "某某市教育局"),
        ("reg/signature#2", "signature", [], "2023年12月1日"),
    ]


FULL_WIDTH = """（一）总体目标
1、到2025年,集团化办学覆盖率达到90%以上。各区要落实到位。
2．加强统筹。全区统一部署,共1.5万名学生受益。
（1）第一项要求,具体内容如下所述。
（2）第二项要求
①子项一的内容比较长一些。
②子项二
（二）保障措施
会上提出要做好三件事:1.加强领导;2.落实经费。"""


def test_segment_full_width_markers_nest_by_order_of_appearance() -> None:
    rows = [(c.clause_id, c.role, c.section[-1], c.text) for c in segment_text(FULL_WIDTH, "fw", "r")]
    assert rows == [
        ("fw/(一)#0", "heading", "（一）总体目标", "（一）总体目标"),
        # a first sentence carrying a measure is not a title: the item keeps its marker as label
        ("fw/(一).1#1", "body", "1、", "1、到2025年,集团化办学覆盖率达到90%以上。各区要落实到位。"),
        ("fw/(一).2#0", "heading", "2．加强统筹", "2．加强统筹。"),
        ("fw/(一).2#1", "body", "2．加强统筹", "全区统一部署,共1.5万名学生受益。"),
        ("fw/(一).2.(1)#1", "body", "（1）", "（1）第一项要求,具体内容如下所述。"),
        ("fw/(一).2.(2)#0", "heading", "（2）第二项要求", "（2）第二项要求"),
        ("fw/(一).2.(2).①#1", "body", "①", "①子项一的内容比较长一些。"),
        ("fw/(一).2.(2).②#1", "body", "②", "②子项二"),  # a circled point is an item, never a heading
        ("fw/(二)#0", "heading", "（二）保障措施", "（二）保障措施"),
        # `1.` inside a paragraph is text, not a heading
        ("fw/(二)#1", "body", "（二）保障措施", "会上提出要做好三件事:1.加强领导;2.落实经费。"),
    ]


def test_segment_titles_items_only_when_their_siblings_have_titles() -> None:
    text = "\n".join(
        [
            "四、保障措施",
            "(一)市级教育行政部门安排专项经费,对命名为市示范性的学区和集团给予支持。鼓励各区安排相关支持经费。",
            "(二)对命名为市示范性的学区或集团,可试点学生联合培养。其中由高中牵头的,自主招生比例可适度上浮。",
            "(三)各区应在绩效工资统筹分配中,对市示范性学区和集团成员校给予相应的激励。对带教效果较好的教师优先考虑。",
        ]
    )
    clauses = segment_text(text, "d", "r")
    assert [c.role for c in clauses].count("heading") == 1
    assert by_suffix(clauses, "四.(二)#1").text == "(二)对命名为市示范性的学区或集团,可试点学生联合培养。"
    assert by_suffix(clauses, "四.(二)#1").section == ["四、保障措施", "(二)"]


def test_segment_repeated_numbering_gets_unique_paths() -> None:
    text = "一、总体要求\n(一)指导思想\n(一)工作目标\n二、主要任务"
    ids = [c.clause_id for c in segment_text(text, "d", "r")]
    assert ids == ["d/一#0", "d/一.(一)#0", "d/一.(一)~2#0", "d/二#0"]


NEWS = """海淀区集团化办学进入新阶段,目前海淀区已建立36个教育集团
摘要
海淀区教委发布了集团化现阶段教育规模及下一步方向,海淀区目前已有36个教育集团。
7月25日下午,海淀区召开中小学教育集团化办学质量评估工作布置及培训会。
背景链接
目前,海淀区共建立36个教育集团,涉及140余个校址。"""


def test_segment_news_without_outline_is_body_under_inline_headings() -> None:
    rows = [(c.clause_id, c.role, c.section) for c in segment_text(NEWS, "n", "r")]
    assert rows == [
        ("n/title#0", "heading", []),
        ("n/s1#0", "heading", ["摘要"]),
        ("n/s1#1", "body", ["摘要"]),
        ("n/s1#2", "body", ["摘要"]),
        ("n/s2#0", "heading", ["背景链接"]),
        ("n/s2#1", "body", ["背景链接"]),
    ]


def test_segment_plain_paragraphs_are_body_without_section() -> None:
    text = "会议强调,各教育集团要高度重视评估工作。\n下一步,教育两委将进一步打造集团化办学的海淀范式。"
    rows = [(c.clause_id, c.role, c.section) for c in segment_text(text, "n", "r")]
    assert rows == [("n/body#1", "body", []), ("n/body#2", "body", [])]


NOTICE = """关于印发《某区推进集团化办学的实施意见》的通知
各中小学:
现将《某区推进集团化办学的实施意见》印发给你们,请遵照执行。
特此通知。
附件:1.某区推进集团化办学的实施意见
2.某区集团化办学评估指标
某 区 教 育 局
2025年3月10日
附件
某区推进集团化办学的实施意见
为落实国家和市相关文件精神,结合区域实际,特制定本实施意见。
一、发展愿景
推进集团化办学高质量发展。"""


def test_segment_recognises_notice_attachment_signature_title_and_preamble() -> None:
    rows = [(c.clause_id, c.role, c.text) for c in segment_text(NOTICE, "h", "r")]
    assert rows == [
        ("h/notice#1", "notice", "关于印发《某区推进集团化办学的实施意见》的通知"),
        ("h/notice#2", "notice", "各中小学:"),
        ("h/notice#3", "notice", "现将《某区推进集团化办学的实施意见》印发给你们,请遵照执行。"),
        ("h/notice#4", "notice", "特此通知。"),
        ("h/attachment#1", "attachment", "附件:1.某区推进集团化办学的实施意见"),
        ("h/attachment#2", "attachment", "2.某区集团化办学评估指标"),
        ("h/signature#1", "signature", "某 区 教 育 局"),
        ("h/signature#2", "signature", "2025年3月10日"),
        ("h/attachment#3", "attachment", "附件"),
        ("h/title#0", "heading", "某区推进集团化办学的实施意见"),
        ("h/preamble#1", "body", "为落实国家和市相关文件精神,结合区域实际,特制定本实施意见。"),  # searchable prose
        ("h/一#0", "heading", "一、发展愿景"),
        ("h/一#1", "body", "推进集团化办学高质量发展。"),
    ]


def test_segment_trailing_attachment_list_is_not_outline() -> None:
    text = "一、总体要求\n加强领导,落实责任,确保各项工作落到实处。\n附件:1.评估指标\n2.申报表\n某市教育局\n2023年5月4日"
    rows = [(c.clause_id.split("/")[1], c.role) for c in segment_text(text, "d", "r")]
    assert rows == [
        ("一#0", "heading"),
        ("一#1", "body"),
        ("attachment#1", "attachment"),
        ("attachment#2", "attachment"),
        ("signature#1", "signature"),
        ("signature#2", "signature"),
    ]


def test_segment_document_uses_the_documents_ids() -> None:
    doc = Document(
        "linping-2023",
        "x.txt",
        "",
        "一、指导思想\n以习近平新时代中国特色社会主义思想为指导。",
        Metadata(region_id="linping"),
    )
    clauses = segment_document(doc)
    assert [(c.clause_id, c.doc_id, c.region_id) for c in clauses] == [
        ("linping-2023/一#0", "linping-2023", "linping"),
        ("linping-2023/一#1", "linping-2023", "linping"),
    ]


# --- the real corpus -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_segment_corpus_outline_matches_golden(name: str) -> None:
    assert outline_rows(cleaned_text(name)) == read_golden_outline(name)


@pytest.mark.parametrize(
    ("name", "suffix", "section", "text"),
    [
        # the measure the issue is about, under its three-level heading
        (
            "shanghai",
            "二.(二).1#1",
            ["二、主要任务", "（二）加强学区和集团师资流动", "1.加大教师流动力度"],
            "创建市示范性学区和集团的优质校，每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%，"
            "其中在教育教学领域表现突出的骨干教师不低于30%，流动期限不少于3年。",
        ),
        # a heading on the same line as its body is its own clause
        (
            "shanghai",
            "二.(二).1#0",
            ["二、主要任务", "（二）加强学区和集团师资流动", "1.加大教师流动力度"],
            "1.加大教师流动力度。",
        ),
        # semicolon parts of a long sentence, the short last part merged back
        (
            "shanghai",
            "二.(四).2#4",
            ["二、主要任务", "（四）实施学区和集团一体考评", "2.完善评估标准"],
            "家长、教师等群体对学区、集团满意度不低于90%。",
        ),
        # an item without a title: the marker starts its first clause and labels the section
        (
            "shanghai",
            "四.(五)#1",
            ["四、保障措施", "（五）"],
            "（五）对命名为市示范性的学区或集团，可试点特色项目学生联合培养。",
        ),
        ("shanghai", "三.(二)#4", ["三、推进机制", "（二）以评促建"], "建立复核机制，3-5年内开展一次复核。"),
        # a colon-introduced list stays with its subject
        (
            "linping",
            "三.(二).2#3",
            [
                "三、行动举措",
                "（二）深化育人方式变革，打造“学在临平”教育品牌",
                "2.加强课程建设，进一步完善教育评价",
            ],
            "每学年拓展性课程课时占总课时的比例：一至六年级15%左右，主要以开设体艺特长类和实践活动类课程为主；"
            "七到九年级20%左右，要求全面开设三类拓展性课程，其中知识拓展类课程比例不得超过30%，"
            "推动我区中小学学校特色课程高水平发展。",
        ),
        # Hongkou localises Shanghai's measure under its own outline
        (
            "hongkou",
            "二.(二).2#4",
            ["二、主要举措", "（二）加强师资队伍建设", "2.建立骨干人才智库"],
            "建设高质量学区和集团的优质校，每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%，"
            "其中“五层级”梯队等骨干教师占比不低于30%，流动期限不少于3年。",
        ),
        # Zhenjiang's `1.因地制宜原则。各市、区政府要…`: title and body on one line
        ("zhenjiang", "三.1#0", ["三、基本原则", "1.因地制宜原则"], "1.因地制宜原则。"),
        # a news article: body without section until its unnumbered `背景链接` heading
        (
            "haidian",
            "body#2",
            [],
            "集团化办学作为海淀教育发展的重要改革举措，在提升区域教育教学质量，扩大优质教育资源等方面发挥了重要作用。",
        ),
        (
            "haidian",
            "s1#1",
            ["背景链接"],
            "目前，海淀区共建立36个教育集团，涉及140余个校址，涵盖100余所成员校，19万余名中小学生在教育集团内就读。",
        ),
        ("linping", "四.(一)#0", ["四、保障措施", "（一）健全组织，统筹协调"], "（一）健全组织，统筹协调。"),
        (
            "linping",
            "三.(一).2#3",
            ["三、行动举措", "（一）规范学校办学行为，抓牢课程主阵地", "2.推进作业改革，落实“减负增效”"],
            "区教育研究发展学院做好作业改革的专业引领，每学年组织开展以作业为主题的课题和论文评选活动，"
            "每学年召开1-2次作业改革现场交流会，组织开展“全区优秀校本作业”设计评比活动，探索建立区级优秀作业资源库，"
            "加强优质作业资源共建共享。",
        ),
    ],
)
def test_segment_corpus_body_clause(name: str, suffix: str, section: list[str], text: str) -> None:
    clause = by_suffix(segment(name), suffix)
    assert (clause.section, clause.text) == (section, text)


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        (
            "shanghai",
            [
                ("notice#1", "沪教委基〔2023〕15号"),
                ("notice#2", "各区教育局、各有关直属单位："),
                ("notice#4", "现印发给你们，请结合实际贯彻执行。"),
                ("notice#5", "特此通知。"),
                ("attachment#1", "附件：上海市示范性学区和集团建设三年行动计划（2023-2025年）"),
                ("signature#1", "上 海 市 教 育 委 员 会"),
                ("signature#2", "2023年5月4日"),
                ("title#0", "上海市示范性学区和集团建设三年行动计划（2023-2025年）"),
            ],
        ),
        ("linping", [("title#0", "临平区义务教育“优质均衡”行动计划")]),
        (
            "hongkou",
            [
                ("notice#1", "关于印发《虹口区推进学区化集团化办学高质量发展的实施意见》的通知"),
                ("notice#2", "各中小学："),
                ("notice#4", "特此通知。"),
                ("attachment#1", "附件：虹口区推进学区化集团化办学高质量发展的实施意见"),
                ("signature#1", "虹口区教育局"),
                ("signature#2", "2025年3月10日"),
                ("attachment#2", "附件"),
                ("title#0", "虹口区推进学区化集团化办学高质量发展的实施意见"),
            ],
        ),
        # no notice and no title (the scrape lost it): the addressee line is front matter
        (
            "zhenjiang",
            [
                (
                    "preamble#1",
                    "各市、区人民政府，镇江新区、高新区管委会，市发改委、教育局、财政局、人社局、编办：",
                )
            ],
        ),
        ("haidian", [("title#0", "海淀区集团化办学进入新阶段，目前海淀区已建立36个教育集团")]),
    ],
)
def test_segment_corpus_front_matter(name: str, rows: list[tuple[str, str]]) -> None:
    clauses = segment(name)
    for suffix, text in rows:
        assert by_suffix(clauses, suffix).text == text


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_segment_corpus_preamble_sits_before_the_outline(name: str) -> None:
    clauses = segment(name)
    roles = [c.role for c in clauses]
    if "preamble" in roles:
        first_outline = next(i for i, c in enumerate(clauses) if clause_path(c) not in ROLE_PATHS)
        assert max(i for i, r in enumerate(roles) if r == "preamble") < first_outline
    assert roles.count("body") > 10


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_segment_corpus_clauses_are_readable(name: str) -> None:
    for c in segment(name):
        if c.role == "body":
            assert len(c.text) <= 2 * MAX_CLAUSE_CHARS, c.clause_id


# --- properties ------------------------------------------------------------------------------------


def check_invariants(text: str, clauses: list[Clause]) -> None:
    covered = [False] * len(text)
    last_end = 0
    for i, c in enumerate(clauses):
        assert c.ordinal == i
        assert last_end <= c.start < c.end <= len(text)
        assert c.text == text[c.start : c.end]
        assert not c.text[0].isspace() and not c.text[-1].isspace()
        covered[c.start : c.end] = [True] * (c.end - c.start)
        last_end = c.end
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert lost == []
    ids = [c.clause_id for c in clauses]
    assert len(ids) == len(set(ids))


_ALPHABET = st.sampled_from(
    list(
        '一二三四五十第章节条、.．,，;；:：。!！?？()（）《》“”"①②0123456789 \n\u3000附件特此通知为教育集团学校'
    )
)
_PIECES = st.sampled_from(
    [
        "一、总体要求\n",
        "(一)指导思想\n",
        "1.优化结构布局。学区的结构布局保持稳定。\n",
        "(1)",
        "第一章 总则\n",
        "第二条 本办法自发布之日起施行。\n",
        "附件:评估指标\n",
        "2023年5月4日\n",
        "上海市教育委员会\n",
        "特此通知。\n",
        "现将《方案》印发给你们。\n",
        "每年流入相对薄弱校的教师人数应不低于20%;",
        "1.5万",
        "(2023-2025年)",
        "\n\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(_ALPHABET, max_size=30)), max_size=25).map("".join))
def test_segment_properties_hold_on_arbitrary_text(text: str) -> None:
    clauses = segment_text(text, "d", "r")
    check_invariants(text, clauses)
    assert [c.to_dict() for c in segment_text(text, "d", "r")] == [c.to_dict() for c in clauses]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_segment_never_crashes_on_any_unicode(text: str) -> None:
    check_invariants(text, segment_text(text, "d", "r"))


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_segment_corpus_covers_the_text_in_order(name: str) -> None:
    text = cleaned_text(name)
    check_invariants(text, segment_text(text, name, name))


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_segment_corpus_reads_either_punctuation_alike(name: str) -> None:
    """Markers and sentence marks are read on the folded view: the NFKC-style text gives the same ids, offsets and
    sections as the text written with `，：（）`, and each clause is sliced from the text it was given."""
    written = cleaned_text(name)
    folded = fold_for_matching(written)
    a, b = segment_text(written, name, name), segment_text(folded, name, name)
    assert [(c.clause_id, c.start, c.end, c.role) for c in a] == [(c.clause_id, c.start, c.end, c.role) for c in b]
    assert [[fold_for_matching(s) for s in c.section] for c in a] == [c.section for c in b]
    assert all(c.text == written[c.start : c.end] for c in a)


@pytest.mark.parametrize(
    "text",
    [
        "一、总体要求\n（一）指导思想\n1.加强领导。各校要落实责任，确保实效。\n（1）健全机制：定期会商；\n（2）完善考核！",
        "一、总体要求\n(一)指导思想\n1.加强领导。各校要落实责任,确保实效。\n(1)健全机制:定期会商;\n(2)完善考核!",
        "一、总体要求\n（一)指导思想\n1．加强领导。各校要落实责任，确保实效。\n(1）健全机制：定期会商;\n（2)完善考核！",
    ],
)
def test_segment_reads_markers_in_any_written_form(text: str) -> None:
    clauses = segment_text(text, "d", "r")
    assert [c.clause_id for c in clauses] == [
        "d/一#0", "d/一.(一)#0", "d/一.(一).1#0", "d/一.(一).1#1", "d/一.(一).1.(1)#0", "d/一.(一).1.(1)#1",
        "d/一.(一).1.(2)#1",
    ]
    lines = text.split("\n")
    assert clauses[-1].section == ["一、总体要求", lines[1], lines[2][:-1].split("。")[0], lines[4][:3]]
    assert all(c.text == text[c.start : c.end] for c in clauses)


def test_segment_plan_without_notice_has_preamble_not_title_for_number_and_addressee() -> None:
    text = "\n".join(
        [
            "沪教委基〔2023〕15号",
            "各市、区人民政府,市发改委、教育局、财政局:",
            "为进一步推进我市义务教育优质均衡发展,现就推行集团化办学工作,提出如下意见。",
            "一、指导思想",
            "以促进公平、提高质量为目标。",
        ]
    )
    rows = [(c.clause_id, c.role) for c in segment_text(text, "z", "r")]
    assert rows == [
        ("z/preamble#1", "preamble"),
        ("z/preamble#2", "preamble"),
        ("z/preamble#3", "body"),  # the opening sentence is searchable prose
        ("z/一#0", "heading"),
        ("z/一#1", "body"),
    ]


def test_segment_title_keeps_its_subtitle_line() -> None:
    text = "某区义务教育优质均衡行动计划\n(2023-2025年)\n为促进义务教育优质均衡发展,特制定本计划。\n一、总体目标\n到2025年全面达标。"
    rows = [(c.clause_id, c.role) for c in segment_text(text, "t", "r")]
    assert rows == [
        ("t/title#0", "heading"),
        ("t/title#1", "heading"),
        ("t/preamble#1", "body"),
        ("t/一#0", "heading"),
        ("t/一#1", "body"),
    ]


# --- issue 10: prose of news and unnumbered texts, lettered items ------------------------------------------------

NEWS_ITEM = """集团化办学推进会召开
3月5日,全市集团化办学推进会召开。
会议强调要加强统筹
目前,全市已组建教育集团56个
覆盖近80%的学校
各区要加快推进集团化办学,完善评价办法,推动优质资源共建共享。"""


def test_segment_news_paragraphs_are_searchable_body_clauses() -> None:
    rows = [(c.clause_id, c.role, c.text) for c in segment_text(NEWS_ITEM, "n", "r")]
    assert rows == [
        ("n/title#0", "heading", "集团化办学推进会召开"),
        ("n/body#1", "body", "3月5日,全市集团化办学推进会召开。"),
        ("n/s1#0", "heading", "会议强调要加强统筹"),  # a short unpunctuated line before a paragraph: a subheading
        ("n/s1#1", "body", "目前,全市已组建教育集团56个"),  # a comma: a sentence, not a heading
        ("n/s1#2", "body", "覆盖近80%的学校"),  # the news item's number is a searchable clause
        ("n/s1#3", "body", "各区要加快推进集团化办学,完善评价办法,推动优质资源共建共享。"),
    ]


def test_segment_lead_of_a_news_item_with_a_list_is_searchable() -> None:
    text = "全区共有教育集团12个,覆盖近80%的义务教育学校,惠及学生3万余人。\n1.优化布局。新建学校纳入集团。"
    [lead, *_] = segment_text(text, "n", "r")
    assert (lead.clause_id, lead.role) == ("n/preamble#1", "body")


@pytest.mark.parametrize(
    ("line", "kind", "label", "number"),
    [
        ("A.每学年交流1次", "latin", "A", 1),
        ("C、不少于10%", "latin", "C", 3),
        ("(b)骨干教师", "paren_latin", "(b)", 2),
        ("（a）新任教师", "paren_latin", "(a)", 1),
    ],
)
def test_parse_lettered_markers(line: str, kind: str, label: str, number: int) -> None:
    marker = parse_marker(line)
    assert marker is not None and (marker.kind, marker.label, marker.number) == (kind, label, number)


@pytest.mark.parametrize("line", ["AI教育试点", "A股上市", "B超检查", "A.I.课程", "U.S.A."])
def test_letters_that_are_not_markers(line: str) -> None:
    assert parse_marker(line) is None


def test_segment_lettered_options_are_items_not_headings() -> None:
    text = "一、交流方式\n每位教师可选择下列方式之一:\nA.到薄弱学校任教\nB.跨校兼课\n(a)每学期不少于20课时"
    rows = [(c.clause_id.split("/")[1], c.role) for c in segment_text(text, "d", "r")]
    assert rows == [
        ("一#0", "heading"),
        ("一#1", "body"),
        ("一.A#1", "body"),
        ("一.B#1", "body"),
        ("一.B.(a)#1", "body"),
    ]
