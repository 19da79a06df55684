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
    frozenset({"经费", "资金", "拨款", "投入", "财政"}),
    frozenset({"保障", "支持", "扶持"}),
    frozenset({"集团化", "学区化", "集团", "学区"}),
    frozenset({"机制", "制度", "体系", "办法"}),
    frozenset({"期限", "年限", "任期", "时长"}),
    frozenset({"周期", "期限", "时间表"}),
    frozenset({"课后服务", "延时服务", "托管服务", "课后延时"}),
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
}
