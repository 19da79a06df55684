"""Terminal renderings: the compact value form used by the CLI, the web UI and the exports."""

from __future__ import annotations

import pytest

from policykb.records import Requirement
from policykb.render import format_value


def _req(comparator: str, value: float | list[float], unit: str | None) -> Requirement:
    return Requirement("c", "d", "r", "text", "span", 0, 4, None, comparator, value, unit)


@pytest.mark.parametrize(
    ("comparator", "value", "unit", "shown"),
    [
        (">=", 30.0, "%", ">= 30 %"),  # 骨干教师不低于30%
        ("~", 15.0, "%", "~ 15 %"),  # 一至六年级15%左右
        ("range", [1.0, 2.0], "次", "range [1, 2] 次"),  # 每学年召开1-2次
        ("<", 0.15, None, "< 0.15"),  # 校际差异率低于0.15
        (">=", 66.67, "%", ">= 66.67 %"),  # 三分之二
        ("=", 15000.0, "人", "= 15000 人"),  # 1.5万人
    ],
)
def test_format_value_is_compact_and_drops_trailing_zeros(
    comparator: str, value: float | list[float], unit: str | None, shown: str
) -> None:
    assert format_value(_req(comparator, value, unit)) == shown
