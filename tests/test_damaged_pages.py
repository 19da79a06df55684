"""Damage clean text the way the content farm did and check that the repair steps restore it.

The generator (tests/damage.py) is checked first: it must reproduce the six damaged runs of the real corpus byte
for byte. Then whole clean pages (Shanghai 001, Linping 004) are pushed to traditional, annotated and damaged
like the farm did, and the rates of exactly restored, visibly marked and silently wrong runs are asserted.
"""

from __future__ import annotations

import random
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from damage import (
    Outcomes,
    farm_page,
    farm_segment,
    farm_table,
    farm_text,
    repair_chain,
    score_page,
    to_fullwidth_punctuation,
    to_traditional,
)
from policykb.cleaning.mojibake import repair_mojibake
from policykb.cleaning.pinyin import remove_pinyin
from policykb.cleaning.script import to_simplified

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# Clean simplified paragraphs of the same genre that are not in the corpus.
EXTRA = [
    "为深入贯彻落实党的二十大精神,进一步推进义务教育优质均衡发展,经研究决定,在全市范围内开展紧密型教育集团建设工作。"
    "各地要结合实际,制定具体实施方案,于每年6月底前报送市教育局。",
    "教师交流轮岗期限原则上不少于3年,其中骨干教师占交流总数的比例不低于20%。对表现突出的教师,在职称评聘、"
    "评优评先等方面予以倾斜。",
    "学校要严格控制书面作业总量,小学一、二年级不布置书面家庭作业,三至六年级书面作业平均完成时间不超过60分钟。",
]


@cache
def corpus(prefix: str) -> str:
    return next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def as_cleaned(text: str) -> str:
    """The clean page in the cleaner's output form: NFKC, then GB/T 15834 punctuation inside Chinese."""
    from policykb.cleaning.punctuation import normalise_punctuation

    return normalise_punctuation(nfkc(text)).text


# The six runs of corpus-notes, rebuilt from the traditional text the farm had: (file, that text, the farm's
# annotations there, the character whose lead byte became `?`, what the scrape shows). 驅 (f2 8c) and 內 (83 c8)
# never occur on the pages: the farm's byte-level replace matched them across 域實, 向學, 域層 and 詢入.
CORPUS_RUNS = [
    (
        "000",
        "結合區域實際，特制定",
        {"驅": "qū", "結": "jié", "區": "qū"},
        None,
        "結(jié)合區(qū)域?qū)嶋H,特制定",
    ),
    (
        "000",
        "研制指向學生科學素養",
        {"驅": "qū", "學": "xué", "養": "yǎng"},
        None,
        "研制指向?qū)W生科學(xué)素養(yǎng)",
    ),
    (
        "000",
        "區域層面創新政策",
        {"驅": "qū", "區": "qū", "創": "chuàng"},
        None,
        "區(qū)域?qū)用鎰?chuàng)新政策",
    ),
    ("000", "在確保“應考盡考”的前提下", {"應": "yīng"}, "保", "在確?!皯?yīng)考盡考”的前提下"),
    ("003", "提出要求。《管理辦法》則明確", {}, "。", "提出要求?!豆芾磙k法》則明確"),
    ("003", "劃片查詢入口</span>", {"內": "nèi"}, None, "劃片查詢?nèi)肟?/span>"),
]


@pytest.mark.parametrize(("prefix", "text", "table", "question", "shown"), CORPUS_RUNS)
def test_generator_reproduces_the_corpus_runs_byte_for_byte(
    prefix: str, text: str, table: dict[str, str], question: str | None, shown: str
) -> None:
    damaged = farm_segment(text, table, text.index(question) if question else None)
    assert damaged == shown
    assert shown in corpus(prefix)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("prefix", ["001", "004"])
def test_chain_undoes_traditional_and_pinyin_on_whole_pages(prefix: str, seed: int) -> None:
    clean = corpus(prefix)
    assert repair_chain(nfkc(farm_text(clean, seed))) == as_cleaned(clean)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("paragraph", EXTRA)
def test_chain_undoes_traditional_and_pinyin_on_unseen_paragraphs(paragraph: str, seed: int) -> None:
    assert repair_chain(nfkc(farm_text(paragraph, seed, pinyin_rate=0.15))) == as_cleaned(paragraph)


# --- Zero false repairs on clean text ----------------------------------------------------------------------


@cache
def zhenjiang() -> str:
    """002 after the pinyin and script steps: a clean simplified page the repair has never been tuned on."""
    return to_simplified(remove_pinyin(corpus("002")).text).text


def farm_annotated(clean: str, seed: int) -> str:
    """Traditional with the farm's annotation list applied at character level only (no byte ever split)."""
    traditional = to_traditional(to_fullwidth_punctuation(clean))
    table = farm_table(random.Random(seed), traditional)
    return nfkc("".join(ch + (f"({table[ch]})" if ch in table else "") for ch in traditional))


CLEAN_TEXTS = [
    ("001", lambda: corpus("001")),
    ("004", lambda: corpus("004")),
    ("002 after pinyin and script", zhenjiang),
    ("001 farm-annotated", lambda: farm_annotated(corpus("001"), 0)),
    ("004 farm-annotated", lambda: farm_annotated(corpus("004"), 1)),
    ("002 farm-annotated", lambda: farm_annotated(zhenjiang(), 2)),
    ("001 random pinyin", lambda: nfkc(farm_text(corpus("001"), 3, pinyin_rate=0.15))),
    ("extra paragraphs", lambda: farm_annotated("\n".join(EXTRA), 4)),
]


@pytest.mark.parametrize(("name", "make"), CLEAN_TEXTS, ids=[name for name, _ in CLEAN_TEXTS])
def test_mojibake_makes_no_change_to_clean_pages(name: str, make) -> None:  # type: ignore[no-untyped-def]
    assert repair_mojibake(make()).changes == []


# --- Restoration rates on faithful byte damage -------------------------------------------------------------

# Per page. Measured on these 16 pages: 85 of 89 runs restored, 3 marked, 1 wrong. On 120 pages (seeds 0-59)
# 650 of 709 restored (91.7 %), 48 marked, 11 wrong (1.6 %); later seeds are harder than these (about 88 %).
SEEDS = range(8)


@cache
def byte_damage_outcomes() -> Outcomes:
    total = Outcomes()
    for prefix in ("001", "004"):
        clean = corpus(prefix)
        for seed in SEEDS:
            page = farm_page(clean, seed)
            total += score_page(clean, page, repair_chain(page.damaged))
    return total


def test_byte_damage_is_mostly_restored_exactly() -> None:
    outcomes = byte_damage_outcomes()
    assert outcomes.runs >= 80  # the farm's mechanism damages a handful to a few dozen runs per page
    assert outcomes.restored >= 0.90 * outcomes.runs, outcomes


def test_byte_damage_left_wrong_without_a_marker_is_rare() -> None:
    outcomes = byte_damage_outcomes()
    assert outcomes.wrong <= 0.02 * outcomes.runs, outcomes.wrong_runs


def test_byte_damage_repair_touches_nothing_else() -> None:
    assert byte_damage_outcomes().stray == []
