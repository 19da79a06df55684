"""View models for the pages that must stay usable with hundreds of regions: the home page's summary of what is
indexed, the region filter as a province → city → district tree, and the compare table's columns grouped by
province and city, filtered by level and sorted by value. Pure functions from service results to dicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from policykb import gazetteer

# A tree this small is shown unfolded; a bigger one folds each province and is searched.
UNFOLDED_TREE_SIZE = 20
LEVEL_NAMES = {"province": "省级", "city": "市级", "district": "区县级", "county": "区县级"}
KIND_NAMES = {"policy": "政策文件", "news": "新闻", "other": "其他"}
# Questions a planner asks of local education policy, to start from on an empty search page.
EXAMPLE_QUERIES = ("教师交流轮岗比例", "骨干教师比例", "流动期限", "集团化办学专项经费", "联合教研次数",
                   "课后服务时间")
UNREGIONED = "未标明地区的文件"


def place_name(region_id: str, known: dict[str, str] | None = None) -> str:
    """A region's Chinese name: as the index has it, else as the gazetteer has it (an id only as a last resort)."""
    if known and known.get(region_id):
        return known[region_id]
    place = gazetteer.by_id(region_id)
    return place.name if place is not None else region_id


def _order_key(region_id: str, name: str) -> tuple[str, str]:
    """Gazetteer order (the administrative codes: provinces, then their cities, then districts), then name."""
    place = gazetteer.by_id(region_id)
    return (place.code or "999999" if place is not None else "999999", name)


def placed(regions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The regions proper: the index lists the documents without a region under an empty id, which is no place."""
    return [r for r in regions if r.get("region_id")]


def region_tree(regions: Sequence[dict[str, Any]], chosen: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Indexed regions as a tree under their provinces and cities; an ancestor the index holds no document of
    becomes a node too (choosing it chooses every region below it). Each node: `region_id`, `name`, `level`,
    `indexed`, `count` (indexed regions in the subtree), `search` (its names and its ancestors', for filtering),
    `open`, `checked` and `children`."""
    regions = placed(regions)
    known = {r["region_id"]: r.get("region") or "" for r in regions}
    nodes: dict[str, dict[str, Any]] = {}
    parent_of: dict[str, str | None] = {}

    def node(rid: str, level: str | None, indexed: bool) -> dict[str, Any]:
        if rid not in nodes:
            nodes[rid] = {"region_id": rid, "name": place_name(rid, known), "level": level or "", "indexed": False,
                          "children": [], "count": 0}
        nodes[rid]["indexed"] = nodes[rid]["indexed"] or indexed
        return nodes[rid]

    for r in regions:
        chain = [r["region_id"], *r.get("parent_region_ids", [])]
        node(r["region_id"], r.get("level"), True)
        for child, parent in zip(chain, chain[1:], strict=False):
            place = gazetteer.by_id(parent)
            node(parent, place.level if place is not None else None, parent in known)
            parent_of.setdefault(child, parent)
        parent_of.setdefault(chain[-1], None)
    for rid, parent in parent_of.items():
        if parent is not None and nodes[rid] not in nodes[parent]["children"]:
            nodes[parent]["children"].append(nodes[rid])
    chosen_set = set(chosen)
    unfold = len(regions) <= UNFOLDED_TREE_SIZE

    def finish(n: dict[str, Any], trail: str) -> bool:
        n["children"].sort(key=lambda c: _order_key(c["region_id"], c["name"]))
        place = gazetteer.by_id(n["region_id"])
        names = {n["name"], place.short_name if place is not None else n["name"]}
        n["search"] = " ".join(sorted(names)) + (" " + trail if trail else "")
        n["checked"] = n["region_id"] in chosen_set
        below = [finish(c, n["search"]) for c in n["children"]]
        n["count"] = int(n["indexed"]) + sum(c["count"] for c in n["children"])
        n["open"] = bool(n["children"]) and (unfold or any(below))
        return n["checked"] or any(below)

    roots = [n for rid, n in nodes.items() if parent_of.get(rid) is None]
    roots.sort(key=lambda n: _order_key(n["region_id"], n["name"]))
    for root in roots:
        finish(root, "")
    return roots


def parent_choices(regions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The region tree as a picker's option groups, one per province (or other root): each option is a region in
    tree order, indented by its depth; a place the index holds no document of is shown but cannot be chosen, so that
    a district still reads under its city. Each group: `label`, `options` [{region_id, label, indexed}]."""
    groups: list[dict[str, Any]] = []
    for root in region_tree(regions):
        options: list[dict[str, Any]] = []

        def walk(node: dict[str, Any], depth: int, into: list[dict[str, Any]] = options) -> None:
            into.append({"region_id": node["region_id"], "label": "\u3000" * depth + node["name"],
                         "indexed": node["indexed"]})
            for child in node["children"]:
                walk(child, depth + 1)

        walk(root, 0)
        groups.append({"label": root["name"], "options": options})
    return groups


def chosen_names(region_ids: Sequence[str], regions: Sequence[dict[str, Any]]) -> list[str]:
    """Names for chosen ids, an ancestor the index lacks included (浙江省 when only 临平区 is indexed)."""
    known = {r["region_id"]: r.get("region") or "" for r in regions}
    return [place_name(rid, known) for rid in region_ids]


def collection_summary(documents: Sequence[Any], regions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the home page says is indexed: documents, regions by level, the date range and the kinds."""
    regions = placed(regions)
    dates = sorted(d.metadata.date for d in documents if d.metadata.date)
    kinds = Counter(d.metadata.kind for d in documents)
    levels = Counter(LEVEL_NAMES.get(r.get("level") or "", "其他") for r in regions)
    unregioned = sum(1 for d in documents if not d.metadata.region_id)
    provinces = {place_name((r.get("parent_region_ids") or [r["region_id"]])[-1],
                            {x["region_id"]: x.get("region") or "" for x in regions}) for r in regions}
    return {
        "documents": len(documents), "regions": len(regions), "provinces": len(provinces),
        "levels": [(name, levels[name]) for name in ("省级", "市级", "区县级", "其他") if levels[name]],
        "first_date": dates[0] if dates else None, "last_date": dates[-1] if dates else None,
        "kinds": [(KIND_NAMES.get(k, k), n) for k, n in kinds.most_common()], "unregioned": unregioned,
        "examples": list(EXAMPLE_QUERIES),
    }


# ----- the compare table ----------------------------------------------------------------------------------------
def column_places(row: dict[str, Any]) -> tuple[str, str]:
    """The province and the city a compare column sits under, by name ("" when it has none; a city's own column
    and a district directly under a province-level city sit under the province only)."""
    if row.get("doc_id") or row.get("unregioned"):
        return UNREGIONED, ""
    parents = list(row.get("parent_region_ids") or [])
    chain = [row["region_id"], *parents]  # nearest first
    province = place_name(chain[-1])
    city = ""
    if len(chain) >= 3:  # district → city → province
        city = place_name(chain[-2])
    elif len(chain) == 2 and (row.get("level") == "city"):
        city = row.get("region") or place_name(row["region_id"])
    elif len(chain) == 1 and row.get("level") == "city":
        city = row.get("region") or ""
    return province, city


def column_level(row: dict[str, Any]) -> str:
    """province | city | district | doc (a document without a region) | other."""
    if row.get("doc_id") or row.get("unregioned"):
        return "doc"
    level = row.get("level") or "other"
    return "district" if level == "county" else level


def compare_columns(regions: Sequence[dict[str, Any]], level: str = "", order: str = "",
                    ceiling: bool = False) -> list[dict[str, Any]]:
    """The compare table's columns: filtered by level, then grouped (province, city, the higher level first) or
    sorted by value (`strict` or `loose`; `ceiling`: the aligned values are ceilings, lower is stricter); regions
    without a value come last. Each row gains `province`, `city` and `column_level`."""
    shown = []
    for r in regions:
        r["province"], r["city"] = column_places(r)
        r["column_level"] = column_level(r)
        if not level or level == r["column_level"]:
            shown.append(r)
    if order in ("strict", "loose"):
        with_value = [r for r in shown if r.get("sort_value") is not None]
        without = [r for r in shown if r.get("sort_value") is None]
        descending = (order == "strict") != ceiling
        with_value.sort(key=lambda r: float(r["sort_value"]), reverse=descending)
        return with_value + without
    rank = {"province": 0, "city": 1, "district": 2, "other": 3, "doc": 4}

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        chain = [r["region_id"], *(r.get("parent_region_ids") or [])]
        top = chain[-1]
        city_id = chain[-2] if len(chain) >= 3 else (r["region_id"] if r["column_level"] == "city" else "")
        return (r["column_level"] == "doc", _order_key(top, r["province"]), r["city"] != "",
                _order_key(city_id, r["city"]) if city_id else ("", ""), rank.get(r["column_level"], 3),
                _order_key(r["region_id"], r.get("region") or ""))

    return sorted(shown, key=key)


def catalogue_columns(measures: Sequence[dict[str, Any]], regions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measure catalogue's region columns, grouped like the compare table's: every indexed region (the
    catalogue's cells list them all), and the documents without a region as one column of their own."""
    by_id = {r["region_id"]: dict(r) for r in regions}
    ids = [c["region_id"] for c in measures[0].get("cells", [])] if measures else list(by_id)
    rows = []
    for rid in ids or list(by_id):
        row = by_id.get(rid, {"region_id": rid, "region": place_name(rid), "level": None, "parent_region_ids": []})
        if not rid:
            row = {**row, "region": UNREGIONED_COLUMN, "unregioned": True}
        rows.append(row)
    return compare_columns(rows)


UNREGIONED_COLUMN = "未标明地区"


def header_spans(columns: Sequence[dict[str, Any]], field: str) -> list[tuple[str, int]]:
    """Consecutive columns sharing `field` (province or city) as (name, how many) for a colspan header row."""
    spans: list[tuple[str, int]] = []
    for c in columns:
        name = c.get(field) or ""
        if spans and spans[-1][0] == name:
            spans[-1] = (name, spans[-1][1] + 1)
        else:
            spans.append((name, 1))
    return spans


COMPARATOR_FAMILY_NAMES = {">=": "下限", "<=": "上限", "=": "目标值", "range": "区间", "~": "约数"}


def aligned_title(group: dict[str, Any]) -> str:
    """An aligned group's name for a reader: 下限（%）, 上限（次）, 区间（年）."""
    name = COMPARATOR_FAMILY_NAMES.get(str(group.get("comparator")), "数值")
    unit = group.get("unit")
    return f"{name}（{unit}）" if unit and unit not in ("—", "-") else name


__all__ = ["aligned_title", "chosen_names", "collection_summary", "compare_columns", "header_spans", "region_tree"]
