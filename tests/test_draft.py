"""The draft builder and its export, over a hand-made knowledge base (tests/draft_fakes.py)."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from draft_fakes import FakeKB
from policykb.docx_export import cn_ordinal, libreoffice_profile, to_markdown
from policykb.draft import (
    RegionNames,
    adapt_names,
    build_draft,
    export_draft,
    names_for,
    part_of,
    rewrite_number,
    theme_of,
)
from policykb.errors import NotFoundError, PolicyKBError

SHANGHAI = RegionNames("上海市", "市", "上海市教育委员会")
HONGKOU = RegionNames("虹口区", "区", "虹口区教育局")
NEW = names_for("某某区", None)


# ----- numbers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "span, old, new, unit, expected",
    [
        ("不低于30%", 30, 35, "%", "不低于35%"),
        ("不低于符合交流轮岗条件教师总数的20%", 20, 25, "%", "不低于符合交流轮岗条件教师总数的25%"),
        ("不少于3年", 3, 5, "年", "不少于5年"),
        ("低于0.15", 0.15, 0.1, None, "低于0.1"),
        # the style of the number is kept: Chinese numerals stay Chinese
        ("不少于三年", 3, 5, "年", "不少于五年"),
        ("不少于十二次", 12, 15, "次", "不少于十五次"),
        # a fraction has no neat equivalent for most targets: it becomes a percentage
        ("不少于二分之一", 50, 60, "%", "不少于60%"),
        # the number that states the value is rewritten, not another number in the span
        ("2年内至少1次", 1, 2, "次", "2年内至少2次"),
        # should not match: the span does not state the old value
        ("不低于30%", 20, 25, "%", None),
    ],
)
def test_rewrite_number_sets_the_target_in_place(span, old, new, unit, expected) -> None:
    assert rewrite_number(span, old, new, unit) == expected


# ----- names --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "source, text, expected",
    [
        # a city's plan moved down to a district: actors and level words follow the level
        (SHANGHAI, "落实市委、市政府有关部署", "落实区委、区政府有关部署"),
        (SHANGHAI, "上海市教育委员会负责解释", "某某区教育局负责解释"),
        (SHANGHAI, "由市教委统筹", "由区教育局统筹"),
        (SHANGHAI, "市级教育行政部门安排专项经费", "区级教育行政部门安排专项经费"),
        (SHANGHAI, "各区教育行政部门建立推进小组", "本区教育行政部门建立推进小组"),
        (SHANGHAI, "命名上海市示范性学区", "命名某某区示范性学区"),
        (SHANGHAI, "在全市范围内交流展示", "在全区范围内交流展示"),
        # should not change: a city-level honour, ordinary words containing 市
        (SHANGHAI, "创建市示范性学区和集团", "创建市示范性学区和集团"),
        (SHANGHAI, "城市教师和乡村教师", "城市教师和乡村教师"),
        # a peer district at the same level: only its name changes
        (HONGKOU, "虹口区学生评价体系", "某某区学生评价体系"),
        (HONGKOU, "在本区范围内", "在本区范围内"),
    ],
)
def test_adapt_names_renames_region_issuer_and_level_words(source, text, expected) -> None:
    assert adapt_names(text, source, NEW)[0] == expected


def test_adapt_names_keeps_cited_document_titles_and_flags_them() -> None:
    text, changes, notes = adapt_names("落实《虹口区教育集团教师招聘统筹管理实施意见》,虹口区统筹", HONGKOU, NEW)
    assert text == "落实《虹口区教育集团教师招聘统筹管理实施意见》,某某区统筹"
    assert changes == [{"kind": "name", "before": "虹口区", "after": "某某区"}]
    assert notes == ["保留了引用的文件名《虹口区教育集团教师招聘统筹管理实施意见》，请核对本地是否有对应文件"]


@pytest.mark.parametrize(
    "title, region, expected",
    [
        ("上海市示范性学区和集团建设三年行动计划(2023-2025年)", "上海市", "示范性学区和集团建设"),
        ("虹口区推进学区化集团化办学高质量发展的实施意见", "虹口区", "推进学区化集团化办学高质量发展"),
        ("临平区义务教育“优质均衡”行动计划", "临平区", "义务教育“优质均衡”"),
        (None, "上海市", None),
    ],
)
def test_theme_of_strips_region_years_and_document_kind(title, region, expected) -> None:
    assert theme_of(title, region) == expected


@pytest.mark.parametrize(
    "section, part",
    [
        (["一、总体要求", "(一)指导思想"], "指导思想"),
        (["一、总体要求", "(二)工作目标"], "工作目标"),
        (["一、发展愿景"], "工作目标"),
        (["二、主要任务", "(二)加强学区和集团师资流动"], "主要任务"),
        (["四、保障措施", "(一)"], "保障措施"),
        (["五、组织实施"], "保障措施"),
        ([], "主要任务"),
    ],
)
def test_part_of_maps_source_headings_to_the_common_outline(section, part) -> None:
    assert part_of(section) == part


def test_level_is_read_from_the_name_or_required() -> None:
    assert names_for("某某区", None) == RegionNames("某某区", "区", "某某区教育局")
    assert names_for("某某县", None).suffix == "县"
    with pytest.raises(PolicyKBError, match="cannot tell the level of '新城' from its name; give --level"):
        names_for("新城", None)


# ----- building -----------------------------------------------------------------------------------------

def _measure_clause(draft, measure: str):
    return next(c for c in draft.clauses if measure in c.measures)


@pytest.mark.parametrize(
    "policy, rotation, backbone, notes",
    [
        # parent: Shanghai's own numbers, no departure
        ("parent", 20, 30, []),
        # strictest: the made-up Linping peer is stricter on both floors
        ("strictest", 25, 35, ["较上级上海市要求更严：不低于20%→不低于25%", "较上级上海市要求更严：不低于30%→不低于35%"]),
        # median of the peers (Hongkou 20/30, Linping 25/35)
        ("median", 22.5, 32.5, ["较上级上海市要求更严：不低于20%→不低于22.5%", "较上级上海市要求更严：不低于30%→不低于32.5%"]),
    ],
)
def test_draft_sets_numbers_by_policy(policy, rotation, backbone, notes) -> None:
    draft = build_draft(FakeKB(), "某某区", "shanghai", ["教师流动比例", "共享课程"], policy=policy)
    rot = _measure_clause(draft, "教师流动比例")
    assert [t.value for t in rot.targets] == [rotation, backbone, 3]
    assert f"教师总数的{rotation:g}%" in rot.text and f"骨干教师不低于{backbone:g}%" in rot.text
    assert rot.text.startswith("创建市示范性学区和集团的优质校")
    assert rot.notes == notes
    assert rot.source.clause_id == "sh/3"


def test_draft_never_goes_looser_than_the_parent() -> None:
    draft = build_draft(FakeKB(), "某某区", "shanghai", ["教师流动比例"], policy="custom",
                        custom_values={"教师流动比例": 15})
    rot = draft.clauses[[c.measures for c in draft.clauses].index(["教师流动比例"])]
    assert rot.targets[0].value == 20
    assert "教师总数的20%" in rot.text
    assert rot.notes[0] == ("警告：按“custom”策略得到15%，比上级上海市的要求（不低于20%）宽松；下级不得低于上级，已改回上级数值")


def test_draft_outline_title_and_citations() -> None:
    draft = build_draft(FakeKB(), "某某区", "shanghai", ["教师流动比例", "共享课程", "骨干人才智库"], policy="strictest")
    d = draft.to_dict()
    assert d["title"] == "某某区示范性学区和集团建设实施方案（草案）"
    assert [(s["level"], s["heading"]) for s in d["sections"]] == [
        # issue 14: the standard outline 一、总体要求 ((一)指导思想 (二)工作目标) 二、主要任务 三、保障措施
        (1, "总体要求"), (2, "指导思想"), (2, "工作目标"), (1, "主要任务"),
        (2, "加大教师流动力度"), (2, "实施课程教学资源共建共享"), (2, "建立骨干人才智库"),
        (1, "保障措施"),
    ]
    # every clause cites its source; the framing clauses are the parent's own, renamed
    assert all(c["source"]["clause_id"] and c["source"]["doc_id"] for s in d["sections"] for c in s["clauses"])
    assert d["sections"][1]["clauses"][0]["text"].startswith("以习近平新时代中国特色社会主义思想为指导，落实区委、区政府")
    assert d["sections"][7]["clauses"][0]["text"] == "区级教育行政部门安排专项经费，对命名为市示范性的学区和集团给予支持。"
    # the parent sets nothing about a talent pool: the peer's clause is taken, and the note says so
    peer = d["sections"][6]["clauses"][0]
    assert peer["source"]["region_id"] == "hongkou"
    assert peer["note"] == "上级上海市未规定此项，取自虹口区的条款"
    assert [c["n"] for c in d["citations"]] == [1, 2, 3, 4, 5, 6]
    assert len(draft.clauses) == 6


def test_draft_reports_measures_nobody_sets() -> None:
    draft = build_draft(FakeKB(), "某某区", "shanghai", ["教师流动比例", "校车安全"], framing=False)
    assert draft.warnings == ["“校车安全”：没有地区的条款规定此项，未写入草案"]
    assert [c.measures for c in draft.clauses] == [["教师流动比例"]]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"parent_region_id": "beijing"}, NotFoundError, "unknown parent region beijing; indexed regions: hongkou, "
                                                          "linping, shanghai"),
        ({"policy": "loosest"}, PolicyKBError, "unknown policy 'loosest'; use one of parent, strictest, median, custom"),
        ({"measures": [" "]}, PolicyKBError, "no measures given; name at least one, e.g. 教师流动比例"),
        ({"region": ""}, PolicyKBError, "the new region's name is empty"),
    ],
)
def test_draft_rejects_bad_input(kwargs, error, message) -> None:
    args = {"region": "某某区", "parent_region_id": "shanghai", "measures": ["共享课程"], **kwargs}
    with pytest.raises(error) as info:
        build_draft(FakeKB(), **args)
    assert str(info.value) == message


# ----- export -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def strict_draft():
    return build_draft(FakeKB(), "某某区", "shanghai", ["教师流动比例", "共享课程"], policy="strictest")


def test_markdown_export_numbers_outline_and_footnotes(strict_draft) -> None:
    md = to_markdown(strict_draft)
    assert md.startswith("# 某某区示范性学区和集团建设实施方案（草案）\n")
    assert "## 二、主要任务\n" in md and "### （一）加大教师流动力度\n" in md and "### （二）实施课程教学资源共建共享\n" in md
    assert "其中在教育教学领域表现突出的骨干教师不低于35%，流动期限不少于3年。[^3]\n" in md
    assert "[^3]: 上海市《上海市示范性学区和集团建设三年行动计划(2023-2025年)》 二、主要任务 > (二)加强学区和集团师资流动 > " \
           "1.加大教师流动力度 (sh/3)" in md
    assert "| 3 | 上海市 | 上海市示范性学区和集团建设三年行动计划(2023-2025年) |" in md


def test_docx_export_has_title_headings_markers_sources_and_cjk_font(strict_draft, tmp_path: Path) -> None:
    out = export_draft(strict_draft, tmp_path / "plan.docx")
    document = docx.Document(str(out))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    # GB/T 9704: a title longer than a line of 2号 (20 characters) breaks where the meaning allows
    assert paragraphs[0] == ("Title", "某某区示范性学区和集团建设实施方案\n（草案）")
    headings = [t for s, t in paragraphs if s.startswith("Heading")]
    assert headings == ["一、总体要求", "（一）指导思想", "（二）工作目标", "二、主要任务", "（一）加大教师流动力度",
                        "（二）实施课程教学资源共建共享", "三、保障措施", "来源"]
    body = next(p for p in document.paragraphs if "骨干教师不低于35%" in p.text)
    assert body.runs[-1].text == "[3]" and body.runs[-1].font.superscript
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "地区", "文件", "章节", "条款编号"]
    assert [row.cells[4].text for row in table.rows[1:]] == ["sh/1", "sh/2", "sh/3", "sh/4", "sh/5"]
    east_asia = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    fonts = {name: document.styles[name].element.rPr.rFonts.get(east_asia)
             for name in ("Title", "Normal", "Heading 1", "Heading 2", "Footer")}
    # the typefaces GB/T 9704 names (the installed Noto faces are the fallbacks, see test_docx_follows_gbt_9704)
    assert fonts == {"Title": "方正小标宋简体", "Normal": "仿宋_GB2312", "Heading 1": "黑体", "Heading 2": "楷体_GB2312",
                     "Footer": "宋体"}


def _convert_to_pdf(docx_path: Path, outdir: Path) -> Path:
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if not soffice or not shutil.which("pdftotext") or not shutil.which("pdffonts"):
        pytest.skip("LibreOffice (soffice) and poppler-utils (pdftotext, pdffonts) are needed: make system-deps")
    profile = libreoffice_profile(outdir / "lo-profile")  # private, and maps the standard faces to Noto CJK
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir",
                    str(outdir), str(docx_path)], check=True, capture_output=True, timeout=180)
    pdf = outdir / (docx_path.stem + ".pdf")
    assert pdf.exists(), "LibreOffice did not produce a PDF"
    return pdf


def test_docx_follows_gbt_9704(strict_draft, tmp_path: Path) -> None:
    import subprocess

    out = export_draft(strict_draft, tmp_path / "plan.docx")
    section = docx.Document(str(out)).sections[0]
    mm = [round(x / 36000, 1) for x in (section.page_width, section.page_height, section.top_margin,
                                       section.bottom_margin, section.left_margin, section.right_margin)]
    assert mm == [210.0, 297.0, 37.0, 35.0, 28.0, 26.0]
    pdf = _convert_to_pdf(out, tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoSerifCJK" in fonts and "NotoSansCJK" in fonts  # serif body and 楷体/宋体 stand-ins, sans 黑体
    assert "DejaVu" not in fonts  # no Latin fallback face: digits are in the body face too
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                            check=True).stdout
    pages = layout.split("\f")
    assert re.search(r"—\s*1\s*—", pages[0]) and re.search(r"—\s*2\s*—", pages[1])
    lines = [ln.strip().replace(" ", "") for ln in layout.splitlines()]
    full = [ln for ln in lines if ln.startswith("以习近平新时代中国特色社会主义思想为指导")]
    assert full == ["以习近平新时代中国特色社会主义思想为指导，落实区委、"]  # 26 + the 2-character indent
    flat = "".join(layout.split())
    assert "骨干教师不低于35%，流动期限不少于3年。" in flat  # full-width punctuation in the text
    paragraphs = [p.text for p in docx.Document(str(out)).paragraphs if p.style.name == "Normal" and p.text]
    assert not [p for p in paragraphs if p.rstrip("]0123456789[").endswith((",", "，"))]
    assert not [p for p in paragraphs if re.search(r"[\u4e00-\u9fff][,;:?!()]|[,;:?!()][\u4e00-\u9fff]", p)]


def test_export_refuses_unknown_suffix(strict_draft, tmp_path: Path) -> None:
    with pytest.raises(PolicyKBError, match=r"^cannot export a draft to plan.pdf: unsupported suffix .pdf; use .docx or .md$"):
        export_draft(strict_draft, tmp_path / "plan.pdf")


def test_markdown_export_writes_file(strict_draft, tmp_path: Path) -> None:
    out = export_draft(strict_draft, tmp_path / "sub" / "plan.md")
    assert out.read_text(encoding="utf-8") == to_markdown(strict_draft)


@pytest.mark.parametrize("n, shown", [(1, "一"), (4, "四"), (10, "十"), (12, "十二"), (21, "二十一")])
def test_cn_ordinal(n: int, shown: str) -> None:
    assert cn_ordinal(n) == shown


# ----- the real corpus: the done-when of issue 6 ------------------------------------------------------------

def _pdf_text(docx_path: Path, outdir: Path) -> str:
    """Convert with headless LibreOffice (the check that the file really opens) and read the PDF's text back."""
    import shutil
    import subprocess

    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if not soffice or not pdftotext:
        pytest.skip("LibreOffice (soffice) and poppler-utils (pdftotext) are needed: make system-deps")
    profile = (outdir / "lo-profile").as_uri()  # a private profile: parallel runs do not lock each other out
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir",
                    str(outdir), str(docx_path)], check=True, capture_output=True, timeout=180)
    pdf = outdir / (docx_path.stem + ".pdf")
    assert pdf.exists(), "LibreOffice did not produce a PDF"
    return subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.model
@pytest.mark.parametrize("backend", ["local", pytest.param("milvus", marks=pytest.mark.scale)])
def test_cli_draft_for_a_new_shanghai_district_opens_in_libreoffice(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same draft from either backend: on `milvus` the CLI syncs Milvus Lite in the index folder first."""
    from draft_fakes import real_index_dir
    from policykb.cli import main

    if backend == "milvus":
        pytest.importorskip("pymilvus")
        monkeypatch.setenv("POLICYKB_BACKEND", "milvus")
        monkeypatch.setenv("POLICYKB_MILVUS_URI", "kb-milvus.db")
    out = tmp_path / "x.docx"
    code = main(["--index-dir", str(real_index_dir()), "draft", "--region", "某某区", "--parent", "shanghai",
                 "--measures", "教师流动比例,共享课程", "--policy", "strictest", "--out", str(out)])
    assert code == 0
    document = docx.Document(str(out))
    cited = document.tables[0]
    clause_ids = [row.cells[4].text for row in cited.rows[1:]]
    markers = [p.runs[-1].text for p in document.paragraphs if p.runs and p.runs[-1].font.superscript]
    assert markers == [f"[{n}]" for n in range(1, len(clause_ids) + 1)]  # every clause cites a source, in order
    assert "shanghai-2023-15/二.(二).1#1" in clause_ids  # the teacher-rotation clause
    assert any(cid.startswith("shanghai-2023-15/二.(三).1") for cid in clause_ids)  # the shared-course clause

    text = _pdf_text(out, tmp_path)
    flat = "".join(text.split())
    assert "某某区示范性学区和集团建设实施方案（草案）" in flat
    # strictest among the regions: Shanghai's and Hongkou's floors are equal, so Shanghai's numbers stand
    # full-width punctuation in the draft (issue 14); the outline now has 总体要求 as a level-1 part
    assert "教师总数的20%，其中在教育教学领域表现突出的骨干教师不低于30%，流动期限不少于3年。[3]" in flat
    assert "每校至少有1门共享课程，可共享课程应不低于5门且逐年增加。" in flat
    assert "落实区委、区政府有关部署" in flat  # renamed for the district
    for cid in clause_ids:  # a cited id may wrap at a hyphen in the sources table, and pdftotext drops that one
        assert "".join(cid.split()).replace("-", "") in flat.replace("-", "")


# ----- issue 14: whole sentences and duties of a higher level ---------------------------------------------------

@pytest.mark.parametrize("sentence, source, target, found", [
    ("将市示范性学区和集团创建情况,作为市对区教育工作年度考核评价的重要内容。", "市", "区", True),
    ("其中由市实验性示范性高中牵头的,该市实验性示范性高中自主招生比例可适度上浮。", "市", "区", True),
    ("省对市县教育督导结果向社会公开。", "省", "市", True),
    ("对命名为市示范性的学区和集团给予支持。", "市", "区", False),  # a city title, not a city duty
    ("由区教育局牵头组织实施。", "区", "区", False),  # same level
    ("全区统筹安排经费。", "市", "区", False),
])
def test_higher_level_duty_by_how_plans_name_levels(sentence, source, target, found) -> None:
    from policykb.draft import higher_level_duty

    assert (higher_level_duty(sentence, source, target) is not None) is found


def test_whole_paragraphs_join_cut_sentences_and_leaning_openers() -> None:
    from policykb.draft import Citation, DraftClause, whole_paragraphs

    def dc(n: int, text: str, section: str = "一") -> DraftClause:
        return DraftClause(text=text, source=Citation("d", "r", "某市", f"d/{n}", [section]), original=text, part="x")

    out = whole_paragraphs([dc(1, "以提高质量为核心，"), dc(2, "打下坚实基础。"), dc(3, "对学校给予支持。"),
                            dc(4, "其中牵头校可适度上浮。"), dc(5, "加大宣传力度。", "二")])
    assert [c.text for c in out] == ["以提高质量为核心，打下坚实基础。", "对学校给予支持。其中牵头校可适度上浮。", "加大宣传力度。"]
    assert [ch["kind"] for ch in out[0].changes] == ["join"] and out[0].notes == ["原条款在句中断开，已与来源条款 d/2 合为一段"]


@pytest.mark.parametrize("args, shown", [
    ((">=", 30, "%"), "不低于30%"), (("<=", 1, "次"), "不超过1次"), ((">=", 3, "年"), "不少于3年"), ((">", 2, "所"), "多于2所"), (("range", [3, 5], "年"), "3–5年"),
    (("~", 15, "%"), "约15%"), ((">=", 1, "次", "每学年"), "每学年不少于1次"), (("<", 0.15, "—"), "低于0.15"),
])
def test_chinese_value(args, shown) -> None:
    from policykb.render import chinese_value

    assert chinese_value(*args) == shown


@pytest.mark.parametrize("text, shown", [
    ("教师总数的20%,其中骨干教师不低于30%,流动期限不少于3年。", "教师总数的20%，其中骨干教师不低于30%，流动期限不少于3年。"),
    ("计划(2023-2025年)", "计划（2023-2025年）"), ("(一)指导思想", "（一）指导思想"),
    ("比例1:1,总数1,000人", "比例1:1，总数1,000人"), ("see http://a.b/c?x=1,2", "see http://a.b/c?x=1,2"),
    ("目标:到2025年", "目标：到2025年"),
])
def test_chinese_punctuation(text, shown) -> None:
    from policykb.render import chinese_punctuation

    assert chinese_punctuation(text) == shown


def test_draft_page_proposes_the_real_parent() -> None:
    from policykb.web_drafting import default_parent

    indexed = [{"region_id": "haidian", "level": "district"}, {"region_id": "shanghai", "level": "city"},
               {"region_id": "beijing", "level": "city"}]
    assert default_parent("虹口区", indexed) == "shanghai"  # the gazetteer's parent, not the first in the list
    assert default_parent("海淀区", indexed) == "beijing"
    assert default_parent("", indexed) == "beijing"  # no name yet: a city plan, alphabetically first
    assert default_parent("某某区", []) == ""
