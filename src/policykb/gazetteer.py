"""A small gazetteer of Chinese administrative regions: name, ASCII id, level and parent.

It knows every provincial-level division and its capital, a set of major cities, and the districts of the
cities the corpus is about. A region it does not know still gets a stable id: the pinyin of its name
without the administrative suffix (深圳市 → shenzhen).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

# Longest first, so 广西壮族自治区 loses 壮族自治区 rather than just 区.
SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县", "新区", "地区",
    "省", "市", "区", "县", "盟", "旗",
)
LEVEL_BY_SUFFIX = {"省": "province", "自治区": "province", "特别行政区": "province", "市": "city",
                   "自治州": "city", "地区": "city", "盟": "city", "区": "district", "新区": "district",
                   "县": "county", "自治县": "county", "旗": "county"}


@dataclass(frozen=True)
class Region:
    """One administrative region. `level` is province, city, district or county."""

    name: str
    region_id: str
    level: str
    parent_id: str | None = None

    @property
    def short_name(self) -> str:
        """The name without its administrative suffix (上海市 → 上海, 浦东新区 → 浦东)."""
        return strip_suffix(self.name)


# (name, region_id, level, parent_id). Province-level municipalities have level "province".
_TABLE: tuple[tuple[str, str, str, str | None], ...] = (
    # Municipalities and SARs
    ("北京市", "beijing", "province", None),
    ("天津市", "tianjin", "province", None),
    ("上海市", "shanghai", "province", None),
    ("重庆市", "chongqing", "province", None),
    ("香港特别行政区", "xianggang", "province", None),
    ("澳门特别行政区", "aomen", "province", None),
    # Provinces and autonomous regions, each followed by its capital
    ("河北省", "hebei", "province", None), ("石家庄市", "shijiazhuang", "city", "hebei"),
    ("山西省", "shanxi", "province", None), ("太原市", "taiyuan", "city", "shanxi"),
    ("内蒙古自治区", "neimenggu", "province", None), ("呼和浩特市", "huhehaote", "city", "neimenggu"),
    ("辽宁省", "liaoning", "province", None), ("沈阳市", "shenyang", "city", "liaoning"),
    ("吉林省", "jilin", "province", None), ("长春市", "changchun", "city", "jilin"),
    ("黑龙江省", "heilongjiang", "province", None), ("哈尔滨市", "haerbin", "city", "heilongjiang"),
    ("江苏省", "jiangsu", "province", None), ("南京市", "nanjing", "city", "jiangsu"),
    ("浙江省", "zhejiang", "province", None), ("杭州市", "hangzhou", "city", "zhejiang"),
    ("安徽省", "anhui", "province", None), ("合肥市", "hefei", "city", "anhui"),
    ("福建省", "fujian", "province", None), ("福州市", "fuzhou", "city", "fujian"),
    ("江西省", "jiangxi", "province", None), ("南昌市", "nanchang", "city", "jiangxi"),
    ("山东省", "shandong", "province", None), ("济南市", "jinan", "city", "shandong"),
    ("河南省", "henan", "province", None), ("郑州市", "zhengzhou", "city", "henan"),
    ("湖北省", "hubei", "province", None), ("武汉市", "wuhan", "city", "hubei"),
    ("湖南省", "hunan", "province", None), ("长沙市", "changsha", "city", "hunan"),
    ("广东省", "guangdong", "province", None), ("广州市", "guangzhou", "city", "guangdong"),
    ("广西壮族自治区", "guangxi", "province", None), ("南宁市", "nanning", "city", "guangxi"),
    ("海南省", "hainan", "province", None), ("海口市", "haikou", "city", "hainan"),
    ("四川省", "sichuan", "province", None), ("成都市", "chengdu", "city", "sichuan"),
    ("贵州省", "guizhou", "province", None), ("贵阳市", "guiyang", "city", "guizhou"),
    ("云南省", "yunnan", "province", None), ("昆明市", "kunming", "city", "yunnan"),
    ("西藏自治区", "xizang", "province", None), ("拉萨市", "lasa", "city", "xizang"),
    # 陕西 and 山西 share the pinyin shanxi; the official romanisation tells them apart.
    ("陕西省", "shaanxi", "province", None), ("西安市", "xian", "city", "shaanxi"),
    ("甘肃省", "gansu", "province", None), ("兰州市", "lanzhou", "city", "gansu"),
    ("青海省", "qinghai", "province", None), ("西宁市", "xining", "city", "qinghai"),
    ("宁夏回族自治区", "ningxia", "province", None), ("银川市", "yinchuan", "city", "ningxia"),
    ("新疆维吾尔自治区", "xinjiang", "province", None), ("乌鲁木齐市", "wulumuqi", "city", "xinjiang"),
    ("台湾省", "taiwan", "province", None), ("台北市", "taibei", "city", "taiwan"),
    # Other major cities
    ("深圳市", "shenzhen", "city", "guangdong"), ("珠海市", "zhuhai", "city", "guangdong"),
    ("佛山市", "foshan", "city", "guangdong"), ("东莞市", "dongguan", "city", "guangdong"),
    ("宁波市", "ningbo", "city", "zhejiang"), ("温州市", "wenzhou", "city", "zhejiang"),
    ("绍兴市", "shaoxing", "city", "zhejiang"), ("嘉兴市", "jiaxing", "city", "zhejiang"),
    ("湖州市", "huzhou", "city", "zhejiang"), ("金华市", "jinhua", "city", "zhejiang"),
    ("台州市", "taizhou", "city", "zhejiang"),
    ("苏州市", "suzhou", "city", "jiangsu"), ("无锡市", "wuxi", "city", "jiangsu"),
    ("常州市", "changzhou", "city", "jiangsu"), ("镇江市", "zhenjiang", "city", "jiangsu"),
    ("南通市", "nantong", "city", "jiangsu"), ("扬州市", "yangzhou", "city", "jiangsu"),
    ("徐州市", "xuzhou", "city", "jiangsu"),
    ("青岛市", "qingdao", "city", "shandong"), ("大连市", "dalian", "city", "liaoning"),
    ("厦门市", "xiamen", "city", "fujian"),
    # Districts of Shanghai
    ("黄浦区", "huangpu", "district", "shanghai"), ("徐汇区", "xuhui", "district", "shanghai"),
    ("长宁区", "changning", "district", "shanghai"), ("静安区", "jingan", "district", "shanghai"),
    ("普陀区", "putuo", "district", "shanghai"), ("虹口区", "hongkou", "district", "shanghai"),
    ("杨浦区", "yangpu", "district", "shanghai"), ("闵行区", "minhang", "district", "shanghai"),
    ("宝山区", "baoshan", "district", "shanghai"), ("嘉定区", "jiading", "district", "shanghai"),
    ("浦东新区", "pudong", "district", "shanghai"), ("金山区", "jinshan", "district", "shanghai"),
    ("松江区", "songjiang", "district", "shanghai"), ("青浦区", "qingpu", "district", "shanghai"),
    ("奉贤区", "fengxian", "district", "shanghai"), ("崇明区", "chongming", "district", "shanghai"),
    # Districts of Beijing
    ("东城区", "dongcheng", "district", "beijing"), ("西城区", "xicheng", "district", "beijing"),
    ("朝阳区", "chaoyang", "district", "beijing"), ("丰台区", "fengtai", "district", "beijing"),
    ("石景山区", "shijingshan", "district", "beijing"), ("海淀区", "haidian", "district", "beijing"),
    ("门头沟区", "mentougou", "district", "beijing"), ("房山区", "fangshan", "district", "beijing"),
    ("通州区", "tongzhou", "district", "beijing"), ("顺义区", "shunyi", "district", "beijing"),
    ("昌平区", "changping", "district", "beijing"), ("大兴区", "daxing", "district", "beijing"),
    ("怀柔区", "huairou", "district", "beijing"), ("平谷区", "pinggu", "district", "beijing"),
    ("密云区", "miyun", "district", "beijing"), ("延庆区", "yanqing", "district", "beijing"),
    # Districts of Hangzhou
    ("上城区", "shangcheng", "district", "hangzhou"), ("拱墅区", "gongshu", "district", "hangzhou"),
    ("西湖区", "xihu", "district", "hangzhou"), ("滨江区", "binjiang", "district", "hangzhou"),
    ("萧山区", "xiaoshan", "district", "hangzhou"), ("余杭区", "yuhang", "district", "hangzhou"),
    ("临平区", "linping", "district", "hangzhou"), ("钱塘区", "qiantang", "district", "hangzhou"),
    ("富阳区", "fuyang", "district", "hangzhou"), ("临安区", "linan", "district", "hangzhou"),
    # Districts and county-level cities of Zhenjiang
    ("京口区", "jingkou", "district", "zhenjiang"), ("润州区", "runzhou", "district", "zhenjiang"),
    ("丹徒区", "dantu", "district", "zhenjiang"), ("丹阳市", "danyang", "county", "zhenjiang"),
    ("句容市", "jurong", "county", "zhenjiang"), ("扬中市", "yangzhong", "county", "zhenjiang"),
    # Districts of Shenzhen
    ("福田区", "futian", "district", "shenzhen"), ("罗湖区", "luohu", "district", "shenzhen"),
    ("南山区", "nanshan", "district", "shenzhen"), ("宝安区", "baoan", "district", "shenzhen"),
    ("龙岗区", "longgang", "district", "shenzhen"),
)

# Short names that are also everyday words or other places (大兴调查研究, 朝阳产业, 西湖大学, 钱塘江): in free text
# only their full names count.
AMBIGUOUS_SHORT_NAMES = frozenset(
    {"大兴", "朝阳", "西湖", "钱塘", "南山", "金山", "宝山", "东城", "西城", "上城", "滨江", "通州", "临安",
     "富阳", "松江", "丹阳", "长宁", "普陀", "黄浦", "台州", "福田", "新疆", "西藏", "吉林", "台北"}
)

# The one-character province abbreviations that open document numbers (沪教委基〔2023〕15号 → 上海). 宁 (Ningxia
# or Nanjing) and 青 (Qinghai or Qingdao) are left out: on their own they do not say which.
PROVINCE_ABBREVIATIONS = {
    "京": "beijing", "津": "tianjin", "沪": "shanghai", "渝": "chongqing", "冀": "hebei", "晋": "shanxi",
    "蒙": "neimenggu", "辽": "liaoning", "吉": "jilin", "黑": "heilongjiang", "苏": "jiangsu", "浙": "zhejiang",
    "皖": "anhui", "闽": "fujian", "赣": "jiangxi", "鲁": "shandong", "豫": "henan", "鄂": "hubei",
    "湘": "hunan", "粤": "guangdong", "桂": "guangxi", "琼": "hainan", "川": "sichuan", "蜀": "sichuan",
    "黔": "guizhou", "滇": "yunnan", "云": "yunnan", "藏": "xizang", "陕": "shaanxi", "甘": "gansu",
    "陇": "gansu", "新": "xinjiang",
}

REGIONS: tuple[Region, ...] = tuple(Region(*row) for row in _TABLE)


@cache
def _by_id() -> dict[str, Region]:
    return {r.region_id: r for r in REGIONS}


@cache
def _by_name() -> dict[str, Region]:
    names: dict[str, Region] = {}
    for region in REGIONS:
        names[region.name] = region
        names.setdefault(region.short_name, region)
    return names


def strip_suffix(name: str) -> str:
    """The name without its administrative suffix, if something is left (深圳市 → 深圳)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def slug(name: str) -> str:
    """The ASCII id of a region name: the pinyin of the name without its suffix (深圳市 → shenzhen)."""
    from pypinyin import Style, lazy_pinyin  # imported here: pypinyin's dictionaries are large

    syllables = lazy_pinyin(strip_suffix(name), style=Style.NORMAL, errors="ignore")
    text = re.sub(r"[^a-z0-9]", "", "".join(syllables).lower().replace("ü", "v"))
    return text or "unknown"


def by_id(region_id: str) -> Region | None:
    """The gazetteer region with this id, or None."""
    return _by_id().get(region_id)


def lookup(name: str) -> Region | None:
    """The gazetteer region called `name` (full or short name), or None."""
    return _by_name().get(name.strip())


def region_for_name(name: str, parent_id: str | None = None) -> Region:
    """The gazetteer entry for `name`, or a new region with a pinyin id and a level read from its suffix."""
    known = lookup(name)
    if known:
        return known
    level = next((LEVEL_BY_SUFFIX[s] for s in SUFFIXES if name.endswith(s) and s in LEVEL_BY_SUFFIX), None)
    return Region(name, slug(name), level or "city", parent_id)


def ancestors(region: Region) -> list[Region]:
    """The regions above `region`, nearest first (临平区 → 杭州市, 浙江省)."""
    chain: list[Region] = []
    current = by_id(region.parent_id) if region.parent_id else None
    while current is not None and current not in chain:
        chain.append(current)
        current = by_id(current.parent_id) if current.parent_id else None
    return chain


def parent_ids(region: Region) -> list[str]:
    """Ids of the regions above `region`, nearest first."""
    return [r.region_id for r in ancestors(region)]


def depth(region: Region) -> int:
    """0 for a province, 1 for a city, 2 for a district of a city, …; unknown parents count from the level."""
    chain = ancestors(region)
    if chain or region.parent_id:
        return len(chain)
    return {"province": 0, "city": 1, "district": 2, "county": 2}.get(region.level, 1)


@cache
def _mention_pattern() -> re.Pattern[str]:
    names = {r.name for r in REGIONS}
    names |= {r.short_name for r in REGIONS if len(r.short_name) >= 2 and r.short_name not in AMBIGUOUS_SHORT_NAMES}
    return re.compile("|".join(sorted((re.escape(n) for n in names), key=len, reverse=True)))


def find_mentions(text: str) -> Iterator[tuple[Region, int]]:
    """Every gazetteer region named in `text` (full names, and short names that are not ambiguous)."""
    for match in _mention_pattern().finditer(text):
        region = _by_name().get(match.group())
        if region is not None:
            yield region, match.start()


# An administrative name at the start of an issuer or title: 2-7 characters and a suffix (临平区, 宁波市).
_ADMIN_NAME = re.compile(r"[\u4e00-\u9fff]{2,7}?(?:特别行政区|自治区|自治州|自治县|新区|地区|省|市|区|县|盟|旗)")
_NOT_IN_NAMES = re.compile(r"[的和与及等于为在对从向关印发全各本我该]")


_ORG_FOLLOWS = re.compile(r"(?:教育|人民|政府|党委|委员会|局|委|厅|办|院|中心|$)")


def leading_regions(text: str) -> list[Region]:
    """The chain of administrative names a string starts with (宁波市鄞州区教育局 → 宁波市, 鄞州区).

    A name the gazetteer does not know is only believed when an organisation follows it (义乌市教育局), so a
    title such as 上海市示范性学区和集团… does not invent a region called 示范性学区.
    """
    chain: list[Region] = []
    position = 0
    while True:
        match = _ADMIN_NAME.match(text, position)
        if not match or _NOT_IN_NAMES.search(match.group()[:-1]):
            return chain
        known = lookup(match.group())
        if known is None and not _ORG_FOLLOWS.match(text, match.end()):
            return chain
        parent = chain[-1].region_id if chain else None
        chain.append(known or region_for_name(match.group(), parent))
        position = match.end()
