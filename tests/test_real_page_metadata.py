"""Metadata of real pages from many sites and regions (excerpts under tests/pages_metadata/ and tests/pages/, the
boilerplate set; source URL beside each).

Each field is scored against a golden value; the test prints the accuracy per field and asserts a floor.
A national page (教育部) has no region: None is its golden region. A page that is about no place (a content farm's
范文, an essay, a paper on the country's policy) has None too; places named only in a citation, an author's
affiliation or an example are not what the page is about. A news item's title is its headline and its issuer the
organisation whose release it reports (or its 来源); `other` is neither a policy document nor a news item.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from policykb.cleaning import clean_text
from policykb.metadata import extract_metadata
from policykb.records import Metadata

TESTS = Path(__file__).resolve().parent
FIELDS = ("region_id", "title", "date", "doc_number", "issuer", "kind")

# file: (source URL, golden fields)
GOLDEN: dict[str, tuple[str, dict[str, str | None]]] = {
    "pages_metadata/shandong_report.txt": ("https://jiaoyuzixun.net/shandong/202404/66458.html", dict(
        region_id="shandong", title="2023年对市级人民政府履行教育职责评价报告", date="2024-04-24",
        doc_number="鲁政教督委〔2024〕1号", issuer="山东省人民政府教育督导委员会", kind="policy")),
    "pages_metadata/hefei_news.txt": ("http://hhw.com.cn/News_View.asp?NewsID=8523", dict(
        region_id="hefei", title=None, date=None, doc_number=None, issuer="合肥市教育局", kind="news")),
    "pages_metadata/wujin_notice.txt": ("http://www.htqcz.wj.czedu.cn/html/article521117.html", dict(
        region_id="wujin", title="关于做好2015年教师交流工作的通知", date="2015-08-17", doc_number=None,
        issuer="常州市武进区教育局", kind="policy")),
    "pages_metadata/ningxia_wenweipo.txt": ("http://paper.wenweipo.com/2015/12/19/CH1512190066.htm", dict(
        region_id="ningxia", title=None, date=None, doc_number=None, issuer="宁夏教育厅", kind="news")),
    "pages_metadata/shenzhen_xuehua.txt": ("https://www.xuehua.us/a/628501e23adb58e2a86d623d?lang=zh-hk", dict(
        region_id="shenzhen", title="深圳将培育80个优质公办教育集团", date=None, doc_number=None,
        issuer="深圳市教育局", kind="news")),
    "pages_metadata/taoyuan_changde.txt": ("https://www.xuehua.us/a/5ec1cc26947491ff8528b5fb", dict(
        region_id="changde-taoyuan", title=None, date=None, doc_number=None, issuer=None, kind="news")),
    "pages_metadata/wenzhou_newton.txt": ("https://newton.com.tw/wiki/温州市教育强市建设实施意见/16831746", dict(
        region_id="wenzhou", title="温州市教育强市建设实施意见", date="2006-07-06", doc_number="温委办〔2006〕47号",
        issuer="中共温州市委办公室、温州市人民政府办公室", kind="policy")),
    "pages_metadata/nanjing_sports.txt": ("https://sw.nanjing.gov.cn/zyfb/swwj/202307/t20230704_3953752.html", dict(
        region_id="nanjing", title="关于全面加强和改进新时代学校体育工作的实施意见", date="2022-02-23",
        doc_number=None, issuer=None, kind="policy")),
    "pages_metadata/linghai_notice.txt": ("http://lnlh.gov.cn/newsinfo13212.html", dict(
        region_id="linghai", title="凌海市推进县域义务教育优质均衡发展督导评估规划实施细则", date="2020-09-28",
        doc_number="凌政办发〔2020〕35号", issuer="凌海市人民政府办公室", kind="policy")),
    "pages_metadata/moe_hqyb.txt": ("http://www.hqyb.net.cn/m/view.php?aid=23352", dict(
        region_id=None, title="教育部办公厅关于在天津等12个市设立第二批教育部基础教育综合改革实验区的通知",
        date="2022-12-01", doc_number="教基厅函〔2022〕25号", issuer="教育部办公厅", kind="policy")),
}

# the boilerplate set (tests/pages/golden.toml names each page's address)
BOILERPLATE_PAGES: dict[str, dict[str, str | None]] = {
    "01_028wgk_shenzhen.txt": dict(  # the farm's page date is the only date the text has
        region_id="shenzhen", title="深圳出台中小学集团化办学方案 办学选址名不能与小区、房地产捆", date="2024-01-16",
        doc_number=None, issuer="深圳市教育局", kind="news"),
    "02_cei_chongqing.txt": dict(
        region_id="yongchuan",
        title="成渝地区城乡义务教育一体化发展试验区推进义务教育优质均衡发展和深化新时代教育督评改革研讨会召开",
        date="2023-12-28", doc_number=None, issuer="泸州市教育体育局", kind="news"),
    "03_ja_gov_luan.txt": dict(
        region_id="luan-jinan", title="金安区政协开展区教育系统集团化办学和双减工作情况调研", date=None,
        doc_number=None, issuer=None, kind="news"),
    "04_xuehua_shenzhen_trad.txt": dict(
        region_id="shenzhen", title="深圳将培育80个优质公办教育集团", date=None, doc_number=None,
        issuer="深圳市教育局", kind="news"),
    "05_cjyun_huangzhou.txt": dict(
        region_id="huangzhou", title=None, date=None, doc_number=None, issuer=None, kind="news"),
    "06_qikan_jizhou.txt": dict(
        region_id="hengshui-jizhou", title=None, date=None, doc_number=None, issuer=None, kind="news"),
    "07_fx361_changchun.txt": dict(  # a paper; 长春 is only the authors' address
        region_id=None, title="“县管校聘”改革下教师交流轮岗政策对象单一化问题研究", date="2022-09-29",
        doc_number=None, issuer=None, kind="other"),
    "08_popartistsnft_jiangsu.txt": dict(
        region_id=None, title="教师轮岗交流方案", date="2024-11-13", doc_number=None, issuer=None, kind="other"),
    "09_dglefs_fanwen.txt": dict(
        region_id=None, title="轮岗交流方案15篇", date=None, doc_number=None, issuer=None, kind="other"),
    "10_renrendoc_wenku.txt": dict(
        region_id=None, title="支教轮岗工作方案范文参考", date=None, doc_number=None, issuer=None, kind="other"),
    "11_bdocx_wenku.txt": dict(
        region_id=None, title="当前义务教育均衡发展存在问题与策略思考", date="2022-11-29", doc_number=None,
        issuer=None, kind="other"),
    "12_jxxfw_paper.txt": dict(
        region_id=None, title=None, date=None, doc_number=None, issuer=None, kind="other"),
    "13_webendi_anhui.txt": dict(  # an essay; 朝阳区 and 海淀区 are its examples
        region_id=None, title=None, date=None, doc_number=None, issuer=None, kind="other"),
    "14_51hpshop_yueyang.txt": dict(
        region_id=None, title="中小学“择校热”问题成因回溯及治理启示", date="2023-09-28", doc_number=None,
        issuer=None, kind="other"),
    "15_jiaoyuzixun_shandong.txt": dict(
        region_id="shandong", title="2023年对市级人民政府履行教育职责评价报告", date="2024-04-24",
        doc_number="鲁政教督委〔2024〕1号", issuer="山东省人民政府教育督导委员会", kind="policy"),
    "16_shpt_putuo.txt": dict(
        region_id="putuo", title="上海市普陀区教育人才队伍建设““十四五””专项规划", date="2022-10-10",
        doc_number=None, issuer="中共上海市普陀区教育工作委员会、上海市普陀区教育局", kind="policy"),
    "17_ltwysoft_shanghai.txt": dict(
        region_id="shanghai", title="全国政协在沪调研无障碍环境 市政协领导出席调研座谈会", date="2017-02-18",
        doc_number=None, issuer=None, kind="news"),
    "18_junhanjc_shenyang_trad.txt": dict(
        region_id="shenyang", title="告别“挂牌子” 聚焦“要质量”", date=None, doc_number=None, issuer=None,
        kind="news"),
    "19_hut_hunan.txt": dict(  # 湘教办通〔2017〕13号 is the notice it cites
        region_id="hunan", title=None, date=None, doc_number=None, issuer=None, kind="policy"),
    "20_jinyutudao_siping.txt": dict(  # a speech: its own date, not the page's 2014-03-14
        region_id="siping", title="深化改革 突破创新 全面提升四平教育的整体水平", date="2014-03-05",
        doc_number=None, issuer=None, kind="other"),
    "21_tpdab_xian.txt": dict(
        region_id="xian", title=None, date=None, doc_number=None, issuer=None, kind="news"),
    "22_mengxinghe_taizhou_trad.txt": dict(  # 市政协 of a city the text never names
        region_id=None, title=None, date=None, doc_number=None, issuer=None, kind="news"),
    "23_huatianclub_fanwen.txt": dict(
        region_id=None, title="2022年市教育局长在县(区)教育工作座谈会上的讲话", date=None, doc_number=None,
        issuer=None, kind="other"),
    "24_newton_wenzhou_trad.txt": dict(
        region_id="wenzhou", title="温州市教育强市建设实施意见", date="2006-07-06", doc_number="温委办〔2006〕47号",
        issuer="中共温州市委办公室、温州市人民政府办公室", kind="policy"),
    "25_outputnews_chengdu_trad.txt": dict(
        region_id=None, title="教育不公的鸿沟,岂是一块屏幕能跨越的?", date="2019-04-08", doc_number=None,
        issuer=None, kind="other"),
    "26_thepaper_mirror_trad.txt": dict(
        region_id=None, title="高考之后,我们想聊聊乡村里“被剩下的孩子” | 涟漪效应", date=None, doc_number=None,
        issuer=None, kind="other"),
    "27_yaotxt_novel.txt": dict(
        region_id=None, title="第166章 靠的越近才会想法越多", date=None, doc_number=None, issuer=None,
        kind="other"),
    "28_qplk_nanjing_trad.txt": dict(  # a paper on a national survey; 南京 is the author's affiliation
        region_id=None, title=None, date=None, doc_number=None, issuer=None, kind="other"),
}
GOLDEN.update({f"pages/{name}": ("tests/pages/golden.toml", golden) for name, golden in BOILERPLATE_PAGES.items()})
# found with the `pages` search corpus; each file is the page's stored excerpt
GOLDEN.update({
    "pages_metadata/xiangcheng_news_trad.txt": ("http://m.dddjmc.com/news/fujian/yghx/2025-05-09/2831287.html", dict(
        region_id="zhangzhou-xiangcheng", title=None, date=None,  # 5月9日讯 with no year anywhere in the text
        doc_number=None, issuer="漳州市芗城区教育局", kind="news")),
    "pages_metadata/changzhou_news.txt": ("http://xiuzhiben.com/ns_news/258153974226865", dict(
        region_id="changzhou", title="常州市义务教育集团化办学覆盖率达66%", date="2018-10-17", doc_number=None,
        issuer=None, kind="news")),
    "pages_metadata/scholarmate_abstract.txt": ("https://scholarmate.com/S/gLvyvb", dict(
        region_id=None, title=None, date=None, doc_number=None, issuer=None, kind="other")),
    "pages_metadata/qikan_abstract.txt": ("https://hagjzx.dps.qikan.cn/pc/maga/text-read?id=baed20250106", dict(
        region_id=None, title=None, date=None, doc_number=None, issuer=None, kind="other")),
    "pages_metadata/shanghai_chinaedu.txt": ("https://e-chinaedu.cn/html/difang/2015/jydt_1130/27049.shtml", dict(
        region_id="shanghai", title=None, date=None, doc_number=None, issuer="上海市教委", kind="news")),
    # government documents mirrored by law farms (a farm's post date and 人看过 counter above a 2001/2017 text)
    "pages_metadata/anhui_casakenia_trad.txt": ("http://www.casakenia.com/laws/12952", dict(
        region_id="anhui", title="安徽省人民政府关于实施《国务院关于基础教育改革与发展的决定》的意见",
        date=None,  # posted 2025-06-07, the 2001 text's own date is not in the excerpt
        doc_number="皖政〔2001〕85号", issuer="安徽省人民政府", kind="policy")),
    "pages_metadata/wuwei_xunlv.txt": ("https://xunlv.cn/laws/11549", dict(
        region_id="wuwei", title="武威市人民政府关于统筹推进县域内城乡义务教育一体化改革发展的实施意见", date=None,
        doc_number="武政发〔2017〕52号", issuer="武威市人民政府", kind="policy")),
    "pages_metadata/dongguan_notice_trad.txt": (
        "http://shao168.com/zwgk/zfxxgkml/txz/zcwj/gfxwj/content/post_983603.html", dict(
            region_id="dongguan", title="东莞市增加中小学幼儿园学位和优质教育资源供给的实施意见", date="2018-05-31",
            doc_number="东府〔2018〕67号", issuer="东莞市人民政府", kind="policy")),
    "pages_metadata/yangzhou_notice_trad.txt": (
        "http://www.pkvaa.com/zfgb/di9qi/201910/08353804f0b845b3b93146a5481aeccb.shtml", dict(
            region_id="yangzhou", title="扬州市加快推进教育现代化实施意见",
            date="2019-10-13",  # the signature's date is damaged (201999); the gazette's 发布日期 stands
            doc_number="扬发〔2019〕34号", issuer="中共扬州市委、扬州市人民政府", kind="policy")),
    # national news and a paper: no region; 湖州 is only the authors' address
    "pages_metadata/moe_cctv_mirror.txt": ("https://m.news.shi-fen.com/china/201903/50-257395.html", dict(
        region_id=None, title="教育部:2717个县实现义务教育基本均衡发展", date=None, doc_number=None, issuer="教育部",
        kind="news")),
    "pages_metadata/national_jnboglf_trad.txt": ("http://m.jnboglf.cn/news/gn/gnxw/202104/27/1986081.shtml", dict(
        # 记者27日从教育部了解到: the ministry is the organisation the item reports for
        region_id=None, title=None, date=None, doc_number=None, issuer="教育部", kind="news")),
    "pages_metadata/huzhou_fx361_paper.txt": ("http://www.fx361.com/page/2022/1109/11658479.shtml", dict(
        region_id=None, title="21世纪以来:我国城乡义务教育均衡发展的动因、历史进程与基本经验", date="2022-11-09",
        doc_number=None, issuer=None, kind="other")),
})
FLOORS = {"region_id": 0.9, "title": 0.9, "date": 0.9, "doc_number": 0.95, "issuer": 0.8, "kind": 0.9}


@cache
def metadata_of(name: str) -> Metadata:
    raw = (TESTS / name).read_text(encoding="utf-8")
    return extract_metadata(raw, clean_text(raw).text, TESTS / name)


def accuracy() -> dict[str, float]:
    right = dict.fromkeys(FIELDS, 0)
    for name, (_url, golden) in GOLDEN.items():
        meta = metadata_of(name)
        for field in FIELDS:
            right[field] += getattr(meta, field) == golden[field]
    return {field: right[field] / len(GOLDEN) for field in FIELDS}


def wrong_fields() -> dict[str, list[str]]:
    return {field: [name for name, (_url, golden) in GOLDEN.items() if getattr(metadata_of(name), field) != golden[field]]
            for field in FIELDS}


def test_real_pages_accuracy_per_field() -> None:
    scores = accuracy()
    print("\nreal pages:", len(GOLDEN), " ".join(f"{f}={s:.2f}" for f, s in scores.items()))
    print("wrong:", {f: names for f, names in wrong_fields().items() if names})
    assert {f: s for f, s in scores.items() if s < FLOORS[f]} == {}


# Pages whose region is still wrong, and why (strict: fixing one makes its entry fail until it is removed). The two
# known misses (02_cei_chongqing: the 来源 outweighed the meeting's 永川区; 13_webendi_anhui: an essay read as a
# policy) are fixed by the news lead's event place and by an outline with no sign of a policy being `other`.
REGION_MISSES: dict[str, str] = {}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=REGION_MISSES[name], strict=True)) if name in REGION_MISSES
    else name for name in sorted(GOLDEN)])
def test_region_of_real_page(name: str) -> None:
    assert metadata_of(name).region_id == GOLDEN[name][1]["region_id"]
