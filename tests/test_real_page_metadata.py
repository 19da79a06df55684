"""Metadata of real pages from many sites and regions (excerpts under tests/pages/, source URL beside each).

Each field is scored against a golden value; the test prints the accuracy per field and asserts a floor.
A national page (教育部) has no region: None is its golden region.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from policykb.cleaning import clean_text
from policykb.metadata import extract_metadata
from policykb.records import Metadata

PAGES = Path(__file__).resolve().parent / "pages_metadata"
FIELDS = ("region_id", "title", "date", "doc_number", "issuer", "kind")

# file: (source URL, golden fields)
GOLDEN: dict[str, tuple[str, dict[str, str | None]]] = {
    "shandong_report.txt": ("https://jiaoyuzixun.net/shandong/202404/66458.html", dict(
        region_id="shandong", title="2023年对市级人民政府履行教育职责评价报告", date="2024-04-24",
        doc_number="鲁政教督委〔2024〕1号", issuer="山东省人民政府教育督导委员会", kind="policy")),
    "hefei_news.txt": ("http://hhw.com.cn/News_View.asp?NewsID=8523", dict(
        region_id="hefei", title=None, date=None, doc_number=None, issuer="合肥市教育局", kind="news")),
    "wujin_notice.txt": ("http://www.htqcz.wj.czedu.cn/html/article521117.html", dict(
        region_id="wujin", title="关于做好2015年教师交流工作的通知", date="2015-08-17", doc_number=None,
        issuer="常州市武进区教育局", kind="policy")),
    "ningxia_wenweipo.txt": ("http://paper.wenweipo.com/2015/12/19/CH1512190066.htm", dict(
        region_id="ningxia", title=None, date=None, doc_number=None, issuer="宁夏教育厅", kind="news")),
    "shenzhen_xuehua.txt": ("https://www.xuehua.us/a/628501e23adb58e2a86d623d?lang=zh-hk", dict(
        region_id="shenzhen", title="深圳将培育80个优质公办教育集团", date=None, doc_number=None,
        issuer="深圳市教育局", kind="news")),
    "taoyuan_changde.txt": ("https://www.xuehua.us/a/5ec1cc26947491ff8528b5fb", dict(
        region_id="changde-taoyuan", title=None, date=None, doc_number=None, issuer=None, kind="news")),
    "wenzhou_newton.txt": ("https://newton.com.tw/wiki/温州市教育强市建设实施意见/16831746", dict(
        region_id="wenzhou", title="温州市教育强市建设实施意见", date="2006-07-06", doc_number="温委办〔2006〕47号",
        issuer="中共温州市委办公室、温州市人民政府办公室", kind="policy")),
    "nanjing_sports.txt": ("https://sw.nanjing.gov.cn/zyfb/swwj/202307/t20230704_3953752.html", dict(
        region_id="nanjing", title="关于全面加强和改进新时代学校体育工作的实施意见", date="2022-02-23",
        doc_number=None, issuer=None, kind="policy")),
    "linghai_notice.txt": ("http://lnlh.gov.cn/newsinfo13212.html", dict(
        region_id="linghai", title="凌海市推进县域义务教育优质均衡发展督导评估规划实施细则", date="2020-09-28",
        doc_number="凌政办发〔2020〕35号", issuer="凌海市人民政府办公室", kind="policy")),
    "moe_hqyb.txt": ("http://www.hqyb.net.cn/m/view.php?aid=23352", dict(
        region_id=None, title="教育部办公厅关于在天津等12个市设立第二批教育部基础教育综合改革实验区的通知",
        date="2022-12-01", doc_number="教基厅函〔2022〕25号", issuer="教育部办公厅", kind="policy")),
}
FLOORS = {"region_id": 0.9, "title": 0.6, "date": 0.8, "doc_number": 0.9, "issuer": 0.6, "kind": 0.8}


@cache
def metadata_of(name: str) -> Metadata:
    raw = (PAGES / name).read_text(encoding="utf-8")
    return extract_metadata(raw, clean_text(raw).text, PAGES / name)


def accuracy() -> dict[str, float]:
    right = dict.fromkeys(FIELDS, 0)
    for name, (_url, golden) in GOLDEN.items():
        meta = metadata_of(name)
        for field in FIELDS:
            right[field] += getattr(meta, field) == golden[field]
    return {field: right[field] / len(GOLDEN) for field in FIELDS}


def test_real_pages_accuracy_per_field() -> None:
    scores = accuracy()
    print("\nreal pages:", len(GOLDEN), " ".join(f"{f}={s:.2f}" for f, s in scores.items()))
    assert {f: s for f, s in scores.items() if s < FLOORS[f]} == {}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_region_of_real_page(name: str) -> None:
    assert metadata_of(name).region_id == GOLDEN[name][1]["region_id"]
