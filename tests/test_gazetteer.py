"""The national gazetteer: coverage, short forms, shared names, ids, and names accepted as region filters."""

from __future__ import annotations

import pytest

from policykb import gazetteer
from policykb.errors import NotFoundError


def test_gazetteer_covers_every_county_level_unit() -> None:
    levels = [r.level for r in gazetteer.REGIONS]
    assert levels.count("province") == 34
    assert 330 <= levels.count("city") <= 340  # prefectures, 自治州, 地区, 盟 (and 雄安新区)
    assert len(gazetteer.REGIONS) > 3200


@pytest.mark.parametrize(
    ("name", "region_id", "parents"),
    [
        ("九江市", "jiujiang", ["jiangxi"]),
        ("九江", "jiujiang", ["jiangxi"]),
        ("黔东南", "qiandongnan", ["guizhou"]),
        ("黔东南州", "qiandongnan", ["guizhou"]),
        ("黔东南苗族侗族自治州", "qiandongnan", ["guizhou"]),
        ("遂川县", "suichuan", ["jian", "jiangxi"]),
        ("冀州区", "hengshui-jizhou", ["hengshui", "hebei"]),  # 吉州区 (Ji'an) has the same pinyin
        ("黄州区", "huangzhou", ["huanggang", "hubei"]),
        ("桃源县", "changde-taoyuan", ["changde", "hunan"]),
        ("乾安县", "songyuan-qianan", ["songyuan", "jilin"]),
        ("阿拉善盟", "alashan", ["neimenggu"]),
        ("雄安新区", "xiongan", ["hebei"]),
        ("神农架林区", "shennongjia", ["hubei"]),
        ("仙桃市", "xiantao", ["hubei"]),  # a county-level city under the province itself
        ("浦东新区", "pudong", ["shanghai"]),
    ],
)
def test_lookup_by_full_and_short_names(name: str, region_id: str, parents: list[str]) -> None:
    region = gazetteer.lookup(name)
    assert region is not None
    assert (region.region_id, gazetteer.parent_ids(region)) == (region_id, parents)


def test_the_five_seed_ids_and_the_first_gazetteers_ids_stay() -> None:
    assert [gazetteer.lookup(n).region_id for n in ("上海市", "虹口区", "镇江市", "海淀区", "临平区")] == [  # type: ignore[union-attr]
        "shanghai", "hongkou", "zhenjiang", "haidian", "linping"]
    assert [gazetteer.lookup(n).region_id for n in ("陕西省", "山西省", "朝阳区", "苏州市", "宿州市")] == [  # type: ignore[union-attr]
        "shaanxi", "shanxi", "chaoyang", "suzhou", "anhui-suzhou"]


@pytest.mark.parametrize(
    ("name", "context", "region_id"),
    [
        ("朝阳区", [], "chaoyang"),  # Beijing's, the most prominent
        ("朝阳区", ["changchun"], "changchun-chaoyang"),
        ("朝阳", [], "liaoning-chaoyang"),  # the short form means the prefecture-level city first
        ("城关区", ["gansu"], "lanzhou-chengguan"),
        ("城关区", ["xizang"], "lasa-chengguan"),
        ("鼓楼区", ["fujian"], "fuzhou-gulou"),
    ],
)
def test_shared_names_are_resolved_by_the_parents_in_context(name: str, context: list[str], region_id: str) -> None:
    region = gazetteer.lookup(name, context)
    assert region is not None and region.region_id == region_id


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("九江市濂溪区教育局近日召开会议", ["九江市", "濂溪区"]),
        ("黔东南州、遂川、冀州参加", ["黔东南州", "遂川", "冀州"]),
        ("学校位于南京路和九江路交界", []),  # streets named after cities
        ("以安定团结为前提,光明正大,建设和平", []),  # everyday words that are also county names
        ("朝阳区和城关区", ["朝阳区", "城关区"]),
    ],
)
def test_find_mentions(text: str, found: list[str]) -> None:
    assert [m.name for m in gazetteer.find_mentions(text)] == found


def test_leading_regions_resolve_a_shared_name_by_the_chain() -> None:
    assert [r.region_id for r in gazetteer.leading_regions("长春市朝阳区教育局")] == ["changchun", "changchun-chaoyang"]
    assert [r.region_id for r in gazetteer.leading_regions("黔东南州教育局")] == ["qiandongnan"]


def test_ids_and_parents_are_consistent() -> None:
    ids = [r.region_id for r in gazetteer.REGIONS]
    assert len(ids) == len(set(ids))
    codes = {r.region_id: r.code for r in gazetteer.REGIONS}
    for region in gazetteer.REGIONS:
        if region.parent_id:
            parent_code = codes[region.parent_id]
            assert parent_code is not None and region.code is not None
            assert region.code[:2] == parent_code[:2], region  # a parent is in the same province


@pytest.mark.parametrize(
    ("value", "includes", "excludes"),
    [
        ("beijing", {"beijing", "haidian", "chaoyang"}, {"shanghai"}),
        ("北京市", {"beijing", "haidian"}, {"hongkou"}),
        ("上海", {"shanghai", "hongkou", "pudong"}, {"haidian"}),
        ("海淀区", {"haidian"}, {"beijing"}),
        ("杭州市", {"hangzhou", "linping"}, {"zhejiang"}),
        ("鼓楼区", {"nanjing-gulou", "fuzhou-gulou", "xuzhou-gulou", "kaifeng-gulou"}, {"nanjing"}),
    ],
)
def test_resolve_region_takes_names_and_ids_and_includes_children(value: str, includes: set[str],
                                                                   excludes: set[str]) -> None:
    resolved = gazetteer.resolve_region(value)
    assert includes <= resolved
    assert not excludes & resolved


def test_resolve_region_unknown_is_empty() -> None:
    assert gazetteer.resolve_region("某某区") == set()


def test_service_filters_accept_names_and_include_children(hash_kb) -> None:  # type: ignore[no-untyped-def]
    by_name = {c.region_id for c in hash_kb.clauses(["上海市"])}
    assert by_name == {"shanghai", "hongkou"}  # 虹口区 is in 上海市
    assert {c.region_id for c in hash_kb.clauses(["海淀区"])} == {"haidian"}
    assert {c.region_id for c in hash_kb.clauses(["beijing", "linping"])} == {"haidian", "linping"}
    assert {h.clause.region_id for h in hash_kb.search("集团化办学", k=20, region_ids=["浙江省"])} == {"linping"}
    with pytest.raises(NotFoundError, match="unknown region 某某区"):
        hash_kb.clauses(["某某区"])
