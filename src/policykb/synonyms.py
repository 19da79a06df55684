"""Near-synonyms of Chinese education-policy writing, shared by compare (a clause naming one word of a group names
the concept) and search (query expansion).

The groups are curated from how policy documents of different regions name the same thing: one city's
`考核评价机制` is another's `绩效考评` or `督导评估`; `专项经费`, `专项资金` and `财政投入` fund the same measure;
`交流轮岗`, `流动` and `轮岗交流` move the same teachers; `集团化` and `学区化` are the two forms of the same
school-grouping policy. A group holds words that a planner would accept as naming the same measure, not merely
related ones (骨干教师 and 名师 are different categories and stay apart).
"""

from __future__ import annotations

import functools

CONCEPT_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"教师", "老师", "师资", "教职工"}),
    frozenset({"考核", "考评", "评价", "评估", "测评"}),
    # 流入/流出 alone also name migrant pupils (随迁子女流入地); with 教师 or 校 they name the rotation
    frozenset({"流动", "轮岗", "交流", "教师流入", "流入教师", "流入校", "流出校"}),
    frozenset({"经费", "资金", "拨款", "投入", "财政", "补助", "奖补"}),
    frozenset({"保障", "支持", "扶持"}),
    frozenset({"集团化", "学区化", "集团", "学区"}),
    frozenset({"机制", "制度", "体系", "办法"}),
    frozenset({"期限", "年限", "任期", "时长"}),
    frozenset({"周期", "期限", "时间表"}),
    frozenset({"课后服务", "延时服务", "托管服务", "课后延时", "课后托管", "延时托管", "晚托"}),
    frozenset({"收费", "费用", "收取"}),
    frozenset({"培训", "研修", "进修"}),
    frozenset({"计划", "规划"}),
    frozenset({"学生", "学子"}),
    frozenset({"家长", "家庭"}),
    frozenset({"合格", "达标"}),
    frozenset({"覆盖", "纳入"}),
    frozenset({"满意", "满意度"}),
    frozenset({"薄弱", "相对薄弱"}),
    frozenset({"三年", "3年"}),
    frozenset({"学校", "校"}),
    # 教师职务 is the older name of 职称 (教师职务评审); 提任 and 选拔任用 are the official words for 提拔.
    frozenset({"职称", "教师职务", "专业技术职务"}),
    frozenset({"提任", "提拔", "选拔任用"}),
    frozenset({"督导", "督政", "督学"}),
    frozenset({"班额", "大班额", "班级规模", "班容量"}),
    # 教育信息化 was renamed 教育数字化 in the policies of the 2020s; 智慧教育 names the same programme.
    frozenset({"信息化", "数字化", "智慧教育"}),
    # The school that leads a group is 牵头 in one city and 领衔 or 龙头 or 核心 in another.
    frozenset({"牵头学校", "领衔学校", "龙头学校", "核心校", "牵头校", "领衔校"}),
    frozenset({"成员校", "成员学校"}),
    frozenset({"第三方", "外部"}),  # 第三方评估 and 外部评估: an evaluation by someone outside the schools
    frozenset({"民办", "社会力量办学"}),
    frozenset({"自评", "自我评估", "自我评价", "自查"}),  # a school or group evaluating itself
)


@functools.cache
def synonyms_of(word: str) -> frozenset[str]:
    """Every word that names the same concept as `word` (itself included); just the word when none is listed."""
    out = {word}
    for group in CONCEPT_GROUPS:
        if word in group:
            out |= group
    return frozenset(out)


def names(word: str, text: str) -> bool:
    """Whether `text` names `word` or one of its synonyms (a one-character synonym such as 校 counts only for a
    word that ends with it, 学校 in 每校, so that 校 inside 校长 does not name 学校)."""
    if word in text:
        return True
    for other in synonyms_of(word):
        if other == word:
            continue
        if len(other) == 1:
            if word.endswith(other) and any(ch + other in text for ch in "每各全本该"):
                return True
            continue
        if other in text:
            return True
    return False


def expansions(words: list[str]) -> list[str]:
    """The listed synonyms of `words` that are not already among them, in a stable order (query expansion)."""
    have = set(words)
    out: list[str] = []
    for word in words:
        for other in sorted(synonyms_of(word)):
            if other not in have and len(other) > 1:
                have.add(other)
                out.append(other)
    return out


# Colloquial words a planner types for a policy word (the search's second stage reads them as that word). Only
# phrases whose policy sense is unambiguous in an education-policy question are listed.
COLLOQUIAL: dict[str, str] = {
    "钱": "经费",
    "拨钱": "拨款",
    "收多少钱": "收费",
    "放学后": "课后服务",
    "评职称": "职称",
    "孩子": "学生",
    # 到别的学校上课 / 去其他学校兼课: the policy word for doing something in another school of the group is 跨校
    "别的学校": "跨校",
    "其他学校": "跨校",
    "外校": "跨校",
    "评估自己": "自评",
    "评价自己": "自评",
    "自己评": "自评",
    "AI": "人工智能",
}
