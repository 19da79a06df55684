"""A collection of 40+ regions for the pages that must scale: short policy texts in the shape local education
bureaus write them (an issuer's notice with 一、总体要求 / 二、主要任务 / 三、保障措施, a signature and a date),
each with a sidecar naming its region and date, so the test knows exactly what every column must show.

Seven provinces (two municipalities), their cities and districts: 42 regions, plus a region with two documents
that disagree (a conflict) and two documents that belong to no region (a national guideline and a report).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from policykb import gazetteer

# province id → how many cities, how many districts under the first city (a municipality: districts directly)
LAYOUT = {"beijing": (0, 4), "shanghai": (0, 4), "jiangsu": (3, 3), "zhejiang": (3, 3), "guangdong": (2, 3),
          "sichuan": (2, 3), "hubei": (2, 3)}
SHARES = (20, 25, 30, 15, 30)  # the 交流轮岗 share by position: 30 is the strictest and ties several times
UNPLACED = 5  # every 7th region from here says nothing of 交流轮岗 (未规定)
YEARS = (3, 4, 5, 6)
CONFLICTED = "hangzhou"  # has a second, newer document with another share


@dataclass(frozen=True)
class Plan:
    region_id: str | None
    name: str
    share: int | None  # None: the text says nothing of 交流轮岗 (the region is 未规定)
    years: int
    date: str
    title: str
    organ: str = ""  # who signs it ("" for the report)


def _children(region_id: str) -> list[gazetteer.Region]:
    return sorted((r for r in gazetteer.REGIONS if r.parent_id == region_id), key=lambda r: r.code or "")


def chosen_regions() -> list[gazetteer.Region]:
    """The 42 regions, provinces first within each province's block (gazetteer order)."""
    out: list[gazetteer.Region] = []
    for province_id, (cities, districts) in LAYOUT.items():
        province = gazetteer.by_id(province_id)
        assert province is not None
        out.append(province)
        if cities == 0:
            out += _children(province_id)[:districts]
            continue
        city_list = [c for c in _children(province_id) if c.level == "city"][:cities]
        out += city_list
        out += _children(city_list[0].region_id)[:districts]
    return out


def issuer(region: gazetteer.Region) -> str:
    if region.region_id in ("beijing", "shanghai"):
        return f"{region.name}教育委员会"
    return f"{region.name}教育厅" if region.level == "province" else f"{region.name}教育局"


def plans() -> list[Plan]:
    out = []
    for i, region in enumerate(chosen_regions()):
        share = None if i % 7 == UNPLACED else SHARES[i % len(SHARES)]
        date = f"20{21 + i % 4}-{1 + i % 12:02d}-{1 + i % 27:02d}"
        title = f"{issuer(region)}关于深化义务教育教师交流轮岗的实施意见" if share else \
            f"{issuer(region)}关于做好中小学课后服务工作的通知"
        out.append(Plan(region.region_id, region.name, share, YEARS[i % len(YEARS)], date, title, issuer(region)))
    hangzhou = gazetteer.by_id(CONFLICTED)
    assert hangzhou is not None
    out.append(Plan(CONFLICTED, hangzhou.name, 25, 5, "2025-06-30",
                    f"{issuer(hangzhou)}关于进一步推进教师交流轮岗的补充通知", issuer(hangzhou)))
    out.append(Plan(None, "", 10, 3, "2024-08-15", "关于推进义务教育学校教师队伍管理改革的指导意见", "教育部"))
    out.append(Plan(None, "", None, 3, "2023-11-20", "义务教育阶段教师流动情况调研报告"))
    return out


def plan_text(plan: Plan) -> str:
    head = f"{plan.title}\n各{'区县' if plan.region_id else '地'}教育行政部门，各中小学校：\n"
    if plan.share is None and plan.region_id:
        body = ("一、总体要求\n坚持立德树人，规范课后服务，切实减轻学生过重课业负担。\n"
                "二、主要任务\n（一）课后服务时间。每天课后服务时间不少于2小时，结束时间原则上不早于当地正常下班时间。\n"
                "（二）服务内容。开展作业辅导、体育锻炼、艺术活动和科普活动。\n"
                "三、保障措施\n加强组织领导，落实经费保障，做好安全管理。\n")
    elif plan.share is None:
        body = ("一、基本情况\n调研覆盖各地义务教育学校，了解教师流动的总体情况和存在的问题。\n"
                "二、主要问题\n部分学校教师结构性缺员，学科分布不均衡。\n"
                "三、对策建议\n完善编制动态调整机制，加强教师培训。\n")
    else:
        body = ("一、总体要求\n以促进义务教育优质均衡发展为目标，推动优秀校长和骨干教师合理流动。\n"
                "二、主要任务\n（一）交流轮岗比例。优质学校每年交流轮岗教师人数应不低于符合交流轮岗条件教师总数的"
                f"{plan.share}%，其中骨干教师不低于交流轮岗教师总数的20%。\n"
                f"（二）交流期限。交流轮岗教师在受援学校工作期限不少于{plan.years}年。\n"
                "三、保障措施\n将教师交流轮岗情况纳入学校办学质量评价，在职称评聘和评优评先中予以倾斜。\n")
    year, month, day = (int(x) for x in plan.date.split("-"))
    return head + body + f"{plan.organ}\n{year}年{month}月{day}日\n"


def write_collection(folder: Path) -> list[Plan]:
    """Every plan as NAME.txt with NAME.meta.toml beside it (region id or none, date, title)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = plans()
    for n, plan in enumerate(written):
        stem = f"plan_{n:03d}"  # not the region id: a file name is shown on the document page
        (folder / f"{stem}.txt").write_text(plan_text(plan), encoding="utf-8")
        region = f'region_id = "{plan.region_id}"\n' if plan.region_id else 'region = ""\nregion_id = ""\n'
        (folder / f"{stem}.meta.toml").write_text(
            region + f'date = "{plan.date}"\ntitle = "{plan.title}"\n', encoding="utf-8")
    return written
