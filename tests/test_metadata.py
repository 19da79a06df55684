"""Metadata: golden values for the five corpus files, made-up pages from unseen regions, sidecars, doc ids."""

from __future__ import annotations

import datetime
import hashlib
import re
from functools import cache
from pathlib import Path

import pytest

from conftest import corpus_path, raw_text
from policykb import gazetteer
from policykb.cleaning import clean_text
from policykb.errors import InputFileError
from policykb.metadata import (
    apply_overrides,
    extract_metadata,
    make_doc_id,
    normalise_doc_number,
    parse_date,
    qualify_issuer,
    read_sidecar,
)
from policykb.records import Metadata


@cache
def corpus_metadata(name: str) -> tuple[Metadata, str]:
    raw = raw_text(name)
    text = clean_text(raw).text
    return extract_metadata(raw, text, corpus_path(name)), text


def extract(raw: str, name: str = "page.txt") -> Metadata:
    return extract_metadata(raw, clean_text(raw).text, Path(name))


# --- golden: the five corpus files (corpus-notes.md) ---------------------------------------------------------

GOLDEN = {
    "hongkou": Metadata(
        region_id="hongkou", region="虹口区", level="district", parent_region_ids=["shanghai"],
        title="虹口区推进学区化集团化办学高质量发展的实施意见",  # the plan, not the 关于印发《…》的通知 wrapper
        issuer="虹口区教育局", date="2025-03-10", doc_number=None, kind="policy",
    ),
    "shanghai": Metadata(
        region_id="shanghai", region="上海市", level="province", parent_region_ids=[],
        title="上海市示范性学区和集团建设三年行动计划（2023-2025年）",
        issuer="上海市教育委员会",  # signed letter-spaced: 上 海 市 教 育 委 员 会
        date="2023-05-04", doc_number="沪教委基〔2023〕15号", kind="policy",
    ),
    "zhenjiang": Metadata(
        region_id="zhenjiang", region="镇江市", level="city", parent_region_ids=["jiangsu"],
        title=None,  # genuinely missing from the scrape
        issuer=None,  # the page never names its issuer; the addressees only suggest one
        date="2019-08-05",  # 来源时间为:2019-08-05
        doc_number=None,  # 苏政发〔2017〕1号 is a cited provincial document
        kind="policy",
    ),
    "haidian": Metadata(
        region_id="haidian", region="海淀区", level="district", parent_region_ids=["beijing"],
        title="海淀区集团化办学进入新阶段，目前海淀区已建立36个教育集团",  # the headline
        issuer="海淀区教委",  # the news source: 海淀区教委发布了…
        date="2022-07-26", doc_number=None, kind="news",
    ),
    "linping": Metadata(
        region_id="linping", region="临平区", level="district", parent_region_ids=["hangzhou", "zhejiang"],
        title="临平区义务教育“优质均衡”行动计划",
        issuer="临平区教育局",  # 区教育局 in the metadata table, qualified by the region
        date="2023-06-07",  # 成文日期
        doc_number=None, kind="policy",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_metadata_of_corpus_file(name: str) -> None:
    assert corpus_metadata(name)[0] == GOLDEN[name]


GOLDEN_IDS = {
    "hongkou": "hongkou-2025-03-10",
    "shanghai": "shanghai-2023-15",
    "zhenjiang": "zhenjiang-2019-08-05",
    "haidian": "haidian-2022-07-26",
    "linping": "linping-2023-06-07",
}


@pytest.mark.parametrize("name", sorted(GOLDEN_IDS))
def test_doc_id_of_corpus_file(name: str) -> None:
    meta, text = corpus_metadata(name)
    assert make_doc_id(meta, corpus_path(name), text) == GOLDEN_IDS[name]


# --- unseen pages ------------------------------------------------------------------------------------------

SHENZHEN_NOTICE = """首页 > 政务公开 > 通知公告
深圳市教育局关于印发《深圳市义务教育集团化办学实施方案》的通知
深教〔2024〕3号
各区教育局:
现将《深圳市义务教育集团化办学实施方案》印发给你们,请认真贯彻执行。
深圳市教育局
2024年3月5日
【打印本页】【关闭窗口】
"""


def test_metadata_of_unseen_city_notice() -> None:
    meta = extract(SHENZHEN_NOTICE)
    assert meta == Metadata(
        region_id="shenzhen", region="深圳市", level="city", parent_region_ids=["guangdong"],
        title="深圳市义务教育集团化办学实施方案", issuer="深圳市教育局", date="2024-03-05",
        doc_number="深教〔2024〕3号", kind="policy",
    )
    assert make_doc_id(meta, Path("x.txt"), "") == "shenzhen-2024-3"


YIWU_PLAN = """浙江省义乌市教育局
义乌市推进义务教育优质均衡发展实施方案
为推进我市义务教育优质均衡发展,制定本方案。
一、工作目标
到2025年,集团化办学覆盖率达到100%。
浙江省义乌市教育局
二〇二三年九月一日
"""


def test_metadata_of_county_level_city() -> None:
    meta = extract(YIWU_PLAN)  # 伊吾县 (Hami) shares the pinyin, so both carry their parent's id
    assert (meta.region, meta.region_id, meta.level, meta.parent_region_ids) == (
        "义乌市", "jinhua-yiwu", "county", ["jinhua", "zhejiang"])
    assert (meta.issuer, meta.date, meta.title) == ("浙江省义乌市教育局", "2023-09-01", "义乌市推进义务教育优质均衡发展实施方案")


XIANGFAN_PLAN = """湖北省襄樊市教育局
襄樊市推进义务教育均衡发展实施方案
为推进我市义务教育均衡发展,制定本方案。
湖北省襄樊市教育局
二〇〇九年九月一日
"""


def test_metadata_of_region_missing_from_gazetteer() -> None:
    meta = extract(XIANGFAN_PLAN)  # 襄樊 became 襄阳 in 2010: unknown, but the province is named
    assert (meta.region, meta.region_id, meta.level, meta.parent_region_ids) == ("襄樊市", "xiangfan", "city", ["hubei"])


WUHOU_NEWS = """当前位置:首页 > 教育新闻
成都市武侯区集团化办学实现公办学校全覆盖
2023-09-01 10:20 来源:成都日报 编辑:王五 阅读:356
近日,武侯区教育局发布消息,目前全区已组建教育集团25个,覆盖全部公办学校。
成都市武侯区将继续深化集团化办学改革。
"""


def test_metadata_of_unseen_district_news() -> None:
    meta = extract(WUHOU_NEWS)
    assert meta == Metadata(
        region_id="wuhou", region="武侯区", level="district", parent_region_ids=["chengdu", "sichuan"],
        title="成都市武侯区集团化办学实现公办学校全覆盖", issuer="武侯区教育局", date="2023-09-01",
        doc_number=None, kind="news",
    )


def test_metadata_ignores_cited_document_numbers() -> None:
    raw = "各区教育局:\n根据《教育部关于进一步做好义务教育招生工作的通知》(教基〔2023〕2号)要求,现就有关事项通知如下。\n"
    assert extract(raw).doc_number is None


def test_metadata_without_anything_is_empty_not_invented() -> None:
    meta = extract("一、总体要求\n加强学校管理,提高教育质量。")
    assert (meta.region_id, meta.title, meta.issuer, meta.date, meta.doc_number) == (None, None, None, None, None)
    assert make_doc_id(meta, Path("x.txt"), "一、总体要求") == "unknown-" + hashlib.sha1(
        "一、总体要求".encode()).hexdigest()[:8]


# --- issue 10: issuers in titles, datelines, page dates and the `other` kind (made-up pages in real forms) ----

TITLE_ISSUERS = [
    ("九江市人民政府关于加快推进义务教育优质均衡发展的实施意见\n各县(市、区)人民政府:\n为推进……,提出如下意见。\n"
     "一、总体要求\n", "九江市人民政府", "jiujiang"),
    ("中共宜昌市委 宜昌市人民政府关于推进教育强市建设的意见\n一、总体要求\n到2025年,建成教育强市。\n",
     "中共宜昌市委、宜昌市人民政府", "yichang"),
    ("桃源县教育局关于印发《桃源县中小学集团化办学实施方案》的通知\n各中小学:\n现将方案印发给你们,请认真执行。\n",
     "桃源县教育局", "changde-taoyuan"),
]


@pytest.mark.parametrize(("raw", "issuer", "region_id"), TITLE_ISSUERS)
def test_issuer_from_the_title_when_nothing_is_signed(raw: str, issuer: str, region_id: str) -> None:
    meta = extract(raw)
    assert (meta.issuer, meta.region_id, meta.kind) == (issuer, region_id, "policy")


def test_signature_issuer_comes_before_the_title() -> None:
    raw = ("遂川县人民政府关于推进集团化办学的意见\n各乡镇人民政府:\n一、工作目标\n覆盖全县。\n"
           "遂川县人民政府办公室\n2023年3月5日\n")
    assert (extract(raw).issuer, extract(raw).date) == ("遂川县人民政府办公室", "2023-03-05")


DATELINES = [
    # the year written in the dateline
    ("冀州区教育集团覆盖全部学校\n新华社石家庄2023年3月5日电 冀州区已组建教育集团12个。\n", "2023-03-05"),
    # no year: it comes from the page's own date field
    ("黄州区推进集团化办学\n发布时间:2022-03-06 09:30\n本报黄冈3月5日电 黄州区已组建教育集团8个。\n", "2022-03-05"),
    ("九江市新建学校20所\n时间:2021-09-02 10:00 来源:九江日报\n(记者 张三)9月1日,九江市新建的20所学校开学。\n",
     "2021-09-01"),
    # a dateline without a year on a page that gives none: no date is better than a guess
    ("九江市新建学校20所\n本报九江3月5日电 九江市新建的20所学校开学。\n", None),
]


@pytest.mark.parametrize(("raw", "date"), DATELINES)
def test_date_from_a_news_dateline(raw: str, date: str | None) -> None:
    meta = extract(raw)
    assert (meta.kind, meta.date) == ("news", date)


def test_a_content_farms_post_date_yields_to_the_texts_own() -> None:
    farm = ("中小学集团化办学实施方案\n时间:2024-01-16 12:06 来源:网络整理 浏览次数:137\n各中小学:\n一、工作目标\n"
            "覆盖全部学校。\n宜昌市教育局\n2019年4月2日\n")
    assert extract(farm).date == "2019-04-02"
    speech = ("在全市教育工作会议上的讲话\n2024-03-14 来源:记者站 浏览数:\n(2014年3月5日)\n同志们:\n"
              "今天我们召开全市教育工作会议。\n")
    assert (extract(speech).date, extract(speech).kind) == ("2014-03-05", "other")
    numbered = "遂川县集团化办学实施方案\n发布时间:2024-01-16 12:06\n遂政办发〔2017〕12号\n一、工作目标\n覆盖全部学校。\n"
    assert extract(numbered).date is None  # posted seven years after the 2017 document: not its date
    undated = "中小学集团化办学实施方案\n发布时间:2024-01-16 12:06\n一、工作目标\n覆盖全部学校。\n"
    assert extract(undated).date == "2024-01-16"  # the only date there is


OTHER_PAGES = [
    "教师轮岗交流方案\n教师轮岗交流方案(通用15篇)\n以下是小编整理的教师轮岗交流方案,仅供参考,希望能够帮助到大家。\n"
    "一、指导思想\n为进一步促进义务教育优质均衡发展,决定开展教师轮岗交流。\n",
    "集团化办学背景下教师流动研究\n摘要:本文以九江市为例,分析集团化办学中的教师流动。\n关键词:集团化办学;教师流动\n"
    "一、问题提出\n近年来,各地推进集团化办学。\n",
    "在2023年全县教育工作会议上的讲话\n同志们:\n今天我们召开全县教育工作会议,总结去年工作。\n一、去年工作回顾\n",
]


@pytest.mark.parametrize("raw", OTHER_PAGES)
def test_pages_that_are_neither_policy_nor_news_are_other(raw: str) -> None:
    meta = extract(raw)
    assert meta.kind == "other"
    assert meta.region_id is None  # a 范文's or a paper's places are examples, not what the page is about


def test_news_lead_and_reporting_headline_make_news() -> None:
    raw = "金安区政协开展集团化办学调研\n11月24日,金安区政协副主席率队开展集团化办学调研。\n调研组听取了汇报。\n"
    meta = extract(raw)
    assert (meta.kind, meta.title, meta.region_id) == ("news", "金安区政协开展集团化办学调研", "luan-jinan")


POLICIES_THAT_LOOK_OTHER = [
    # a policy that publishes a speech is a policy
    "关于印发《局长在全市教育工作会议上的讲话》的通知\n各区教育局:\n现将讲话印发给你们,请认真学习。\n九江市教育局\n"
    "2023年3月5日\n",
    # a training course's issue number is not a journal's
    "关于举办2023年第一期校长培训班的通知\n各中小学:\n现将有关事项通知如下。\n一、培训时间\n3月5日。\n",
]


@pytest.mark.parametrize("raw", POLICIES_THAT_LOOK_OTHER)
def test_policies_with_words_of_other_pages_stay_policies(raw: str) -> None:
    assert extract(raw).kind == "policy"


def test_headline_with_its_fields_on_the_same_line() -> None:
    raw = ("遂川县召开集团化办学推进会 时间:2023-12-28    来源:遂川县教育体育局\n"
           "12月25日上午,遂川县召开集团化办学推进会。\n")
    meta = extract(raw)
    assert (meta.kind, meta.title, meta.date, meta.issuer) == (
        "news", "遂川县召开集团化办学推进会", "2023-12-28", "遂川县教育体育局")


# --- parsers ------------------------------------------------------------------------------------------------

DOC_NUMBERS = [
    ("沪教委基〔2023〕15号", "沪教委基〔2023〕15号"),
    ("沪教委基[2023]15号", "沪教委基〔2023〕15号"),
    ("沪教委基【2023】15号", "沪教委基〔2023〕15号"),
    ("沪教委基(2023)15号", "沪教委基〔2023〕15号"),
    ("沪教委基 〔2023〕 15 号", "沪教委基〔2023〕15号"),
    ("杭教基〔2022〕第8号", "杭教基〔2022〕8号"),
    ("2023年5月4日", None),
    ("十四五规划", None),
]


@pytest.mark.parametrize(("text", "expected"), DOC_NUMBERS)
def test_normalise_doc_number(text: str, expected: str | None) -> None:
    assert normalise_doc_number(text) == expected


DATES = [
    ("2023年5月4日", "2023-05-04"),
    ("2023-06-07 11:44", "2023-06-07"),
    ("2019/8/5", "2019-08-05"),
    ("二〇二三年五月四日", "2023-05-04"),
    ("二〇一九年十二月三十一日", "2019-12-31"),
    ("2023年13月1日", None),  # no such month
    ("36个教育集团", None),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_parse_date(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


QUALIFY = [
    ("区教育局", "临平区", "临平区教育局"),
    ("市教育局", "镇江市", "镇江市教育局"),
    ("市教委", "上海市", "上海市教委"),  # province-level city: 市 still fits
    ("虹口区教育局", "虹口区", "虹口区教育局"),
    ("区教育局", "镇江市", "区教育局"),  # a city cannot qualify 区…
    ("教育部", "临平区", "教育部"),
]


@pytest.mark.parametrize(("issuer", "region", "expected"), QUALIFY)
def test_qualify_issuer(issuer: str, region: str, expected: str) -> None:
    assert qualify_issuer(issuer, gazetteer.lookup(region)) == expected


# --- doc ids ---------------------------------------------------------------------------------------------------

DOC_IDS = [
    (Metadata(region_id="shanghai", doc_number="沪教委基〔2023〕15号", date="2023-05-04"), "shanghai-2023-15"),
    (Metadata(region_id="shanghai", doc_number="沪教委基〔2023〕015号"), "shanghai-2023-15"),
    (Metadata(region_id="linping", date="2023-06-07"), "linping-2023-06-07"),
    (Metadata(region_id=None, date="2023-06-07"), "unknown-2023-06-07"),
    (Metadata(region_id="haidian"), "haidian-" + hashlib.sha1("正文".encode()).hexdigest()[:8]),
]


@pytest.mark.parametrize(("meta", "expected"), DOC_IDS)
def test_make_doc_id(meta: Metadata, expected: str) -> None:
    doc_id = make_doc_id(meta, Path("doc.txt"), "正文")
    assert doc_id == expected
    assert doc_id.isascii()


# --- sidecars and overrides ---------------------------------------------------------------------------------------


def test_read_sidecar_beside_raw_file(tmp_path: Path) -> None:
    raw = tmp_path / "foo.txt"
    raw.write_text("正文", encoding="utf-8")
    (tmp_path / "foo.meta.toml").write_text('title = "镇江市义务教育集团化办学意见"\ndate = 2019-08-05\n', encoding="utf-8")
    assert read_sidecar(raw) == {"title": "镇江市义务教育集团化办学意见", "date": datetime.date(2019, 8, 5)}


def test_read_sidecar_absent_is_empty(tmp_path: Path) -> None:
    assert read_sidecar(tmp_path / "foo.txt") == {}


def test_read_sidecar_bad_toml_names_the_sidecar(tmp_path: Path) -> None:
    sidecar = tmp_path / "foo.meta.toml"
    sidecar.write_text("title = ", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_sidecar(tmp_path / "foo.txt")
    assert info.value.path == str(sidecar)
    assert info.value.reason.startswith("invalid TOML in metadata sidecar: ")


def test_read_sidecar_unknown_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "foo.meta.toml").write_text('titel = "x"\n', encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_sidecar(tmp_path / "foo.txt")
    assert info.value.reason.startswith("unknown metadata field(s) titel; allowed: region_id, region, title")


def test_override_region_recomputes_id_level_and_parents() -> None:
    meta = apply_overrides(GOLDEN["zhenjiang"], {"region": "临平区", "issuer": "临平区教育局"})
    assert (meta.region, meta.region_id, meta.level, meta.parent_region_ids, meta.issuer) == (
        "临平区", "linping", "district", ["hangzhou", "zhejiang"], "临平区教育局")
    assert meta.date == "2019-08-05"  # untouched fields stay


def test_override_unknown_region_gets_pinyin_id() -> None:
    meta = apply_overrides(Metadata(), {"region": "横店镇", "parent_region_ids": ["dongyang", "jinhua", "zhejiang"]})
    assert (meta.region_id, meta.level, meta.parent_region_ids) == (
        "hengdianzhen", "city", ["dongyang", "jinhua", "zhejiang"])


def test_override_by_region_id() -> None:
    meta = apply_overrides(Metadata(), {"region_id": "haidian"})
    assert (meta.region, meta.level, meta.parent_region_ids) == ("海淀区", "district", ["beijing"])


def test_override_empty_string_clears_field_and_date_object_is_accepted() -> None:
    meta = apply_overrides(GOLDEN["shanghai"], {"doc_number": "", "date": datetime.date(2023, 5, 5)})
    assert (meta.doc_number, meta.date) == (None, "2023-05-05")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"titel": "x"}, "unknown metadata field(s) titel; allowed: "),
        ({"date": "2023/05/04"}, "date must be YYYY-MM-DD, got '2023/05/04'"),
        ({"title": 3}, "metadata field title must be a string, not int"),
        ({"parent_region_ids": "shanghai"}, "parent_region_ids must be a list of region ids"),
    ],
)
def test_override_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        apply_overrides(Metadata(), overrides)
    assert str(info.value).startswith(message)


# --- gazetteer ---------------------------------------------------------------------------------------------------

PROVINCIAL = (
    "北京市 天津市 上海市 重庆市 河北省 山西省 内蒙古自治区 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 江西省 山东省 "
    "河南省 湖北省 湖南省 广东省 广西壮族自治区 海南省 四川省 贵州省 云南省 西藏自治区 陕西省 甘肃省 青海省 "
    "宁夏回族自治区 新疆维吾尔自治区 台湾省 香港特别行政区 澳门特别行政区"
).split()


def test_gazetteer_has_all_provincial_divisions() -> None:
    assert len(PROVINCIAL) == 34
    for name in PROVINCIAL:
        region = gazetteer.lookup(name)
        assert region is not None and region.level == "province" and region.parent_id is None, name


def test_gazetteer_ids_are_unique_ascii_and_parents_exist() -> None:
    ids = [r.region_id for r in gazetteer.REGIONS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", i) for i in ids)
    assert all(r.parent_id is None or gazetteer.by_id(r.parent_id) for r in gazetteer.REGIONS)


PARENTS = [
    ("虹口区", ["shanghai"]),
    ("海淀区", ["beijing"]),
    ("临平区", ["hangzhou", "zhejiang"]),
    ("镇江市", ["jiangsu"]),
    ("上海市", []),
    ("石家庄市", ["hebei"]),
]


@pytest.mark.parametrize(("name", "parents"), PARENTS)
def test_gazetteer_parents_nearest_first(name: str, parents: list[str]) -> None:
    region = gazetteer.lookup(name)
    assert region is not None and gazetteer.parent_ids(region) == parents


SLUGS = [
    ("深圳市", "shenzhen"),
    ("广东省", "guangdong"),
    ("义乌市", "yiwu"),
    ("鄞州区", "yinzhou"),
    ("绿春县", "lvchun"),
    ("延边朝鲜族自治州", "yanbian"),  # the short form 延边, not the nationality
]


@pytest.mark.parametrize(("name", "slug"), SLUGS)
def test_gazetteer_slug_of_unknown_region(name: str, slug: str) -> None:
    assert gazetteer.slug(name) == slug


LEADING = [
    ("宁波市鄞州区教育局", ["宁波市", "鄞州区"]),
    ("上海市教育委员会", ["上海市"]),
    ("上海市示范性学区和集团建设三年行动计划", ["上海市"]),  # no region called 示范性学区
    ("区教育局", []),
    ("关于印发《x》的通知", []),
]


@pytest.mark.parametrize(("text", "names"), LEADING)
def test_gazetteer_leading_regions(text: str, names: list[str]) -> None:
    assert [r.name for r in gazetteer.leading_regions(text)] == names


# --- end to end: an unseen government page saved as HTML ------------------------------------------------------

GOV_PAGE = """<html><head><meta charset="gbk"><title>通知_南京市教育局</title></head><body>
<div class="nav"><a href="/">首页</a> &gt; <a>政务公开</a> &gt; <a>通知公告</a></div>
<table class="meta"><tr><td>索引号</td><td>11320100MB1234/2024-00031</td><td>发布机构</td><td>南京市教育局</td></tr>
<tr><td>文号</td><td>宁教基[2024]7号</td><td>成文日期</td><td>2024-04-02</td></tr></table>
<h1>南京市义务教育学区化集团化办学三年行动方案(2024-2026年)</h1>
<div class="tools">【字体:大 中 小】 【打印本页】 【关闭窗口】</div>
<p>各区教育局:</p>
<p>&nbsp;&nbsp;为推进义务教育优质均衡发展,制定本方案。</p>
<p>一、工作目标</p><p>到2026年,紧密型集团覆盖率不低于80%。</p>
<p>南京市教育局</p><p>2024年4月2日</p>
<div class="foot">版权所有:南京市教育局 苏ICP备05004001号</div>
<div>扫一扫在手机打开当前页</div>
</body></html>"""


def test_metadata_of_unseen_html_page(tmp_path: Path) -> None:
    from policykb.loading import load_text

    path = tmp_path / "nanjing.html"
    path.write_bytes(GOV_PAGE.encode("gbk"))
    raw = load_text(path)
    result = clean_text(raw)
    assert result.text == "\n".join(
        [
            "南京市义务教育学区化集团化办学三年行动方案（2024-2026年）",
            "各区教育局：",
            "为推进义务教育优质均衡发展，制定本方案。",
            "一、工作目标",
            "到2026年，紧密型集团覆盖率不低于80%。",
            "南京市教育局",
            "2024年4月2日",
        ]
    )
    meta = extract_metadata(raw, result.text, path)
    assert meta == Metadata(
        region_id="nanjing",
        region="南京市",
        level="city",
        parent_region_ids=["jiangsu"],
        title="南京市义务教育学区化集团化办学三年行动方案（2024-2026年）",
        issuer="南京市教育局",
        date="2024-04-02",
        doc_number="宁教基〔2024〕7号",
        kind="policy",
    )
    assert make_doc_id(meta, path, result.text) == "nanjing-2024-7"
