"""What a document says about itself: region, title, issuer, date, document number and kind.

Fields a page shows only in its chrome (metadata tables, `来源: 发布时间:` lines, news bylines) are read from
the raw text, folded (no pinyin, simplified); everything else is read from the cleaned body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from policykb import gazetteer
from policykb.cleaning.chrome import (
    DATE_TIME,
    FIELD_LABELS,
    TABLE_LABELS,
    fold_line,
    is_field_line,
    is_metadata_table_row,
)
from policykb.cleaning.punctuation import fold_for_matching, normalise_punctuation
from policykb.errors import InputFileError
from policykb.gazetteer import Region
from policykb.records import Metadata

# --- patterns ---------------------------------------------------------------------------------------------

OPEN_BRACKETS = "〔[【(（［"
CLOSE_BRACKETS = "〕]】)）］"
DOC_NUMBER = re.compile(
    rf"([\u4e00-\u9fff]{{1,12}})\s*[{re.escape(OPEN_BRACKETS)}]\s*((?:19|20)\d{{2}})\s*"
    rf"[{re.escape(CLOSE_BRACKETS)}]\s*第?\s*(\d{{1,5}})\s*号"
)
CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
CN_DATE = re.compile(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
# Document genres that end a title (…实施意见, …行动计划(2023-2025年), …办法(试行)).
GENRE = (
    r"(?:通知|意见|实施意见|指导意见|方案|实施方案|工作方案|计划|行动计划|工作计划|办法|管理办法|规定|规划|细则|"
    r"决定|纲要|指南|标准|要点|工作要点|措施|条例|公告|通告|批复|报告|通报|章程|规程|清单)"
)
TITLE_SHAPE = re.compile(rf"^[^。;:,!?]{{4,80}}{GENRE}(?:\([^()]{{1,20}}\))?$")
WRAPPER = re.compile(r"^(?:[\u4e00-\u9fff]{2,30}?)?关于(?:印发|转发|发布|颁布|公布)[^《》]{0,10}《(.+)》(?:的)?通知$")
NOTICE_PLAN = re.compile(r"(?:现将|制定了|制订了|印发|研究制定了)《([^《》]{4,80})》")
ATTACHMENT = re.compile(r"^附件\d*\s*[:：]?\s*\d*[.、]?\s*(.+)$")
NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+、|\(?[一二三四五六七八九十\d]+\)|\d+[.、]|第[一二三四五六七八九十\d]+[章条节])")
ORG_SUFFIX = (r"(?:教育委员会|教委|教育局|教育厅|教育部|教育体育局|教体局|人民政府|政府|办公室|办公厅|委员会|局|厅|中心|"
              r"[省市州县区]委|工委|党委|党组)")
ORG_LINE = re.compile(rf"^[\u4e00-\u9fff()]{{2,30}}{ORG_SUFFIX}$")
NEWS_SOURCE = re.compile(
    rf"(?:^|[。,;)\s]|消息[:：]?|讯)((?:教育部|国务院)|[\u4e00-\u9fff]{{2,12}}?{ORG_SUFFIX})(?:、[^。,]{{0,40}}?)?"
    r"(?:等(?:[\d一二三四五六七八九十多]+个)?(?:部门|单位))?(?:(?:近日|日前|最近|今天|昨天)(?:\(\d{1,2}日\))?[还也]?)?"
    rf"(?:联合|正式|再次|首次|专门)?(?:发布|印发|下发|出台|公布|召开|举行|介绍|消息|获悉|官网)"
)
# A reporter's informant (记者从呼和浩特市教育局了解到, 记者从市教育局获悉): the organisation the item reports for.
NEWS_INFORMANT = re.compile(
    rf"从((?:教育部|国务院)|[\u4e00-\u9fff]{{1,14}}?{ORG_SUFFIX})(?:了解到|获悉|得知|获知|获得消息)"
)
# A news item on a document names its issuer before the title it quotes (上海市教委《关于…的实施意见》提出).
NEWS_DOC_SOURCE = re.compile(
    rf"(?:^|[。,;)\s]|消息|讯)([\u4e00-\u9fff]{{2,12}}?{ORG_SUFFIX})《[^《》]{{4,80}}》(?:提出|明确|指出|规定|要求)"
)
# A news item opens with a dateline (新华社北京3月5日电, 本报讯, 华徽网消息) or a byline (□常德日报记者 …).
DATELINE = re.compile(r"^[□■]?\s*(?:[\u4e00-\u9fff]{1,12}(?:社|报|网|台)(?:[\u4e00-\u9fff]{0,6}(?:\d{4}年)?\d{1,2}月\d{1,2}日)?"
                      r"(?:电|消息|讯)|"
                      r"[\u4e00-\u9fff]{0,10}(?:讯|网消息|报消息)|[\u4e00-\u9fff]{0,10}(?:日报|晚报|新闻网|报)?记者)")
BYLINE = re.compile(r"(?:记者|通讯员|编辑|来源|作者)\s*[:：/]?\s*[\u4e00-\u9fff]{2,4}")
SALUTATION = re.compile(r"^各[^。]{1,60}:$")
NEWS_WORDS = re.compile(r"目前|已经?|日前|近日|记者|获悉")
# The date a dateline or a byline gives (本报北京3月5日电, 新华社北京2023年3月5日电, (记者 张三)3月5日,): the year is
# often left out and comes from elsewhere on the page.
DATELINE_DATE = re.compile(
    r"^[□■]?\s*(?:[\u4e00-\u9fff]{1,12}(?:社|报|网|台)[\u4e00-\u9fff]{0,6}|[(（][^()（）]{0,20}记者[^()（）]{0,20}[)）]\s*)"
    r"(?:((?:19|20)\d{2})年)?(\d{1,2})月(\d{1,2})日(?:电|消息|讯|[,，])"
)
# A news lead opens with the day or with 日前/近日 (11月24日,金安区政协…; 日前,市政协…).
NEWS_LEAD = re.compile(r"^(?:(?:\d{1,2}月\d{1,2}日|\d{1,2}日)(?:上午|下午|晚上|晚|早上)?|日前|近日|昨天|今天|昨日|今日)[,，]")
REPORTING_HEADLINE = re.compile(r"出台|召开|举行|举办|开展|启动|发布|印发|出席|调研|获批|入选|推进会|座谈会|研讨会")
# Pages that are neither a policy document nor a news item: content-farm 范文 and document shops, papers, speeches,
# essays, podcasts and novels, each recognisable by how such pages are written.
OTHER_SIGNS = (
    re.compile(r"小编[^。]{0,8}整理|范文|供大家参考|仅供参考|借鉴(?:与|和)参考|\(通用\d+篇\)|\d+篇$|文档下载|Word文档|"
               r"文档编号|页数\s*[:：]"),
    # a paper: keywords, abstract, author notes, the journal's issue (教育与经济 2022年4期), an address with a postcode
    re.compile(r"关键词\s*[:：]|摘\s*要\s*[:：]|^摘\s*要$|作者简介|^论文|本文来源于《|(?:》|\s)\d{4}年第?[\d一二三四五六七八九十]+期(?:$|[,，])|"
               r"[\u4e00-\u9fff]\s*\d{6}\s*[);；]"),
    re.compile(r"^同志们[:：]|在[^。]{2,40}(?:会议|大会|座谈会|典礼)上的(?:讲话|报告|发言|致辞)|^——在|^——写在"),
    re.compile(r"本期嘉宾|官方账号|^第\d+章|最新章节"),
    # an essay sums up or argues in its own voice; a report or a news item does not
    re.compile(r"^(?:总的来说|总而言之|综上所述|总之|笔者认为|笔者以为)[,，:：]"),
)
FARM_TITLE = re.compile(r"小编[^。,]{0,8}整理的(.{4,60}?)[,,。]\s*(?:供|仅供|希望|欢迎)")
DOWNLOAD_SUFFIX = re.compile(r"(?:Word文档|PDF文档)?(?:下载推荐|下载)?\.(?:docx?|pdf|wps)$|(?:Word|PDF)文档(?:下载推荐)?$", re.I)
SUBTITLE = re.compile(r"^——")
ADOPTION = re.compile(
    rf"于\s*((?:19|20)\d{{2}}年\d{{1,2}}月\d{{1,2}}日)\s*(?:经)?([\u4e00-\u9fff]{{2,20}}?{ORG_SUFFIX})"
    r"第?[\d一二三四五六七八九十百]+次[\u4e00-\u9fff]{0,6}会议(?:审议)?通过"
)
ARTICLE = re.compile(r"^第[一二三四五六七八九十百]+条")
ISSUER_BEFORE_ABOUT = re.compile(r"^(.{4,60}?)(?:关于|(?=(?:19|20)\d{2}年(?:度)?[^\d]))")
# A date on its own line in brackets under a speech's or report's title: when it was given.
DELIVERY_DATE = re.compile(r"^[(（]\s*((?:19|20)\d{2}年\d{1,2}月\d{1,2}日)\s*[)）]$")
# A clock time marks a page's stamp (发布时间:2024-01-16 12:06), never a date a text gives itself.
PAGE_STAMP = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*\d{1,2}:\d{2}")
LEADING_DATE = re.compile(r"^((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})(?!\d)")
# A day-first stamp with its clock (03.03.2015 10:46, 哈尔滨10:16 05.03.2016 新浪黑龙江), as some sites print it.
DAY_FIRST_STAMP = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})(?![\d.])")
HEAD_FIELD = re.compile(r"(?:^|\s)(?:时间|日期|发布时间|发布日期|更新时间|上传时间)\s*[:：]\s*((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})")
HEAD_SOURCE = re.compile(r"(?:^|\s)来源\s*[:：]\s*([\u4e00-\u9fff]{2,30})")
TRAILING_FIELDS = re.compile(r"\s+(?:时间|日期|发布时间|发布日期|来源)\s*[:：].*$")
BYLINE_LABELS = ("编辑", "责任编辑", "记者", "作者", "通讯员", "阅读", "阅读量", "阅读数", "摄影")
ISSUER_FIELDS = ("发布机构", "发文机关", "发文单位", "责任部门", "所属机构", "来源", "信息来源", "稿源")
POLICY_DATE_FIELDS = ("成文日期", "发布日期", "发布时间", "公开日期", "来源时间", "page_date", "上传时间")
NEWS_DATE_FIELDS = ("发布时间", "发布日期", "page_date", "来源时间", "公开日期", "成文日期", "上传时间")
# Dates a page's template prints (a content farm's post time): wrong whenever the text carries a date of its own.
PAGE_DATE_FIELDS = frozenset({"发布时间", "发布日期", "page_date", "上传时间", "更新时间"})
FIELD_PAIR = re.compile(
    rf"({'|'.join(FIELD_LABELS)})为?\s*:\s*((?:[^|:]|(?<=\d):(?=\d)){{0,40}}?)(?=\s*(?:\||$|(?:{'|'.join(FIELD_LABELS)})为?\s*:))"
)
HEAD_LINES = 15  # titles, document numbers and salutations sit at the top of a document


# --- small parsers ----------------------------------------------------------------------------------------


def parse_date(text: str) -> str | None:
    """The first valid date in `text` as YYYY-MM-DD (2023年5月4日, 2023-06-07, 二〇二三年五月四日), or None."""
    for match in DATE.finditer(text):
        iso = _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if iso:
            return iso
    for match in CN_DATE.finditer(text):
        year = int("".join(str(CN_DIGITS[c]) for c in match.group(1)))
        iso = _iso(year, _cn_number(match.group(2)), _cn_number(match.group(3)))
        if iso:
            return iso
    return None


def _cn_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23."""
    if "十" not in text:
        return CN_DIGITS.get(text, 0)
    tens, _, units = text.partition("十")
    return (CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (CN_DIGITS.get(units, 0) if units else 0)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def normalise_doc_number(text: str) -> str | None:
    """A document number with 〔〕 brackets and no spaces (沪教委基[2023]15号 → 沪教委基〔2023〕15号)."""
    match = DOC_NUMBER.search(text)
    if not match:
        return None
    return f"{match.group(1)}〔{match.group(2)}〕{match.group(3)}号"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- page fields from the raw text ------------------------------------------------------------------------


def page_fields(raw_text: str) -> dict[str, str]:
    """Label → value from a page's metadata table and field lines; an unlabelled date there is `page_date`."""
    found: dict[str, str] = {}
    for line in raw_text.split("\n"):
        folded = fold_line(line)
        if not folded:
            continue
        if is_metadata_table_row(folded):
            cells = [c.strip().rstrip(":").strip() for c in folded.split("|")]
            for label, value in zip(cells, cells[1:], strict=False):
                if label in TABLE_LABELS and value and value not in TABLE_LABELS:
                    found.setdefault(label, value)
        elif is_field_line(folded):
            for match in FIELD_PAIR.finditer(folded):
                if match.group(2).strip():
                    found.setdefault(match.group(1), match.group(2).strip())
            loose = DATE_TIME.search(FIELD_PAIR.sub("", folded))
            if loose:
                found.setdefault("page_date", loose.group())
    return found


def head_fields(raw_text: str) -> dict[str, str]:
    """What a page's head says in passing: a stamp with a clock time (`时间:2024-01-16 12:06`, `…~2019-04-08 21:20`),
    a line opening with a date (`2014-03-14 来源:记者站`), a `来源:` organisation after a headline."""
    found: dict[str, str] = {}
    in_body = False  # below the first paragraph a bare date opens a link to another item, not this page's stamp
    for line in raw_text.split("\n")[:40]:
        folded = fold_line(line)
        if not folded or "。" in folded:
            in_body = in_body or "。" in folded
            continue
        for pattern in (HEAD_FIELD, PAGE_STAMP, LEADING_DATE):
            match = pattern.search(folded)
            if match and "page_date" not in found and not (pattern is LEADING_DATE and in_body):
                date = parse_date(match.group() if pattern is not HEAD_FIELD else match.group(1))
                if date:
                    found["page_date"] = date
        day_first = DAY_FIRST_STAMP.search(folded)
        if day_first and "page_date" not in found and re.search(r"\d{1,2}:\d{2}", folded) and len(folded) <= 40:
            found["page_date"] = _iso(int(day_first.group(3)), int(day_first.group(2)), int(day_first.group(1))) or ""
            if not found["page_date"]:
                del found["page_date"]
        source = HEAD_SOURCE.search(folded)
        if source and ORG_LINE.match(source.group(1)):
            found.setdefault("来源", source.group(1))
    return found


# --- body readers -----------------------------------------------------------------------------------------


def find_doc_number(lines: list[str], fields_: dict[str, str]) -> str | None:
    """The document's own number: a labelled field, or a head line that is nothing but a number."""
    for label in ("文件编号", "发文字号", "文号"):
        number = normalise_doc_number(fields_.get(label, ""))
        if number:
            return number
    for line in lines[:HEAD_LINES]:
        compact = _compact(line)
        if compact[:1] in "(（" and compact[-1:] in ")）":
            compact = compact[1:-1]  # (皖政[2001]85号) on its own line under the title
        match = DOC_NUMBER.fullmatch(compact) or DOC_NUMBER.match(compact)
        if match and (match.end() == len(compact) or TITLE_SHAPE.match(compact[match.end():])):
            return normalise_doc_number(match.group())
        glued = _number_after_title(compact)
        if glued:
            return glued
    return None  # numbers inside sentences are citations of other documents


def _number_after_title(compact: str) -> str | None:
    """A number a scrape glued to the end of its title (…的实施意见武政发[2017]52号): the title ends at a genre word
    and a short authority prefix follows it."""
    match = DOC_NUMBER.search(compact)
    if not match or match.end() != len(compact) or match.start(1) == 0:
        return None
    start = match.start(1)
    for cut in range(max(start, match.start(2) - 10), match.start(2) - 2):
        if TITLE_SHAPE.match(compact[:cut]) and re.fullmatch(r"[\u4e00-\u9fff]{2,8}", compact[cut:match.start(2) - 1]):
            return normalise_doc_number(compact[cut:])
    return None


def _joined_head(lines: list[str]) -> list[str]:
    """The head lines, with a title broken over two or three lines joined (…关于印发《X\n Y》的通知)."""
    head = lines[:HEAD_LINES]
    out: list[str] = []
    i = 0
    while i < len(head):
        joined = None
        for size in (3, 2):
            candidate = "".join(_compact(line) for line in head[i : i + size])
            parts = head[i : i + size]
            if len(parts) == size and not any(re.search(r"[。;:,!?]", _compact(p)) for p in parts) and (
                WRAPPER.match(candidate) or TITLE_SHAPE.match(candidate)) and not TITLE_SHAPE.match(_compact(parts[0])) \
                    and not ORG_LINE.match(_compact(parts[0])) and not DOC_NUMBER.search(candidate) \
                    and not (DATE.fullmatch(_compact(parts[0])) or CN_DATE.fullmatch(_compact(parts[0]))):
                joined = candidate
                break
        first = _compact(head[i])
        if joined and joined[len(first):].startswith(first[: max(4, len(first) // 2)]):
            out.append(head[i])  # a truncated copy of the title (a page's <title>) before the title itself
            i += 1
        elif joined:
            out.append(joined)
            i += size
        else:
            out.append(head[i])
            i += 1
    return out


def find_title(lines: list[str], kind: str, raw_head: str = "") -> str | None:
    """The plan's own title: 关于印发《X》的通知 → X; a title over a `——` subtitle; a news item's headline; else a
    title-shaped head line; for other pages their first line (a 范文's name, a paper's title)."""
    lines = [_headline_part(line) for line in lines]
    head = _joined_head(lines)
    for line, following in zip(lines[:HEAD_LINES], lines[1:HEAD_LINES], strict=False):
        if SUBTITLE.match(following) and _looks_like_headline(line):
            return line.strip()
    if kind == "news":
        before_body = []
        for line in lines[:3]:  # the headline precedes the first paragraph; lines after it are the body's or links
            if "。" in line:
                break
            before_body.append(line)
        headline = next((line for line in before_body if _looks_like_headline(line)), None)
        if headline and not WRAPPER.match(_compact(headline)):
            return headline.strip()
    if kind == "other":
        first = DOWNLOAD_SUFFIX.sub("", lines[0].strip()) if lines else ""
        for line in [*lines[:5], *raw_head.split("\n")[:20]]:
            farm = FARM_TITLE.search(line)
            if farm:  # the page's headline when it names the same piece (X方案15篇), else the intro's name
                return first if first.startswith(farm.group(1)) and _looks_like_headline(first) else farm.group(1)
        glued = re.match(r"^([^,,。:;]{4,40}?)一、", first)  # a document shop glues its title to the first heading
        first = glued.group(1) if glued else first
        if _looks_like_headline(first) or (re.match(r"^第\d+章\s*\S{4}", first) and _looks_like_headline(first[1:])):
            return first  # a novel's chapter is its page's title
    for line in head:
        match = WRAPPER.match(_compact(line))
        if match:
            return match.group(1)
    for line in head if kind == "policy" else []:  # a news item reports on a plan; the plan is not its title
        match = NOTICE_PLAN.search(line)
        if match and ("印发给你们" in line or "印发" in match.group(0)):
            return match.group(1)
    for line in head:
        compact = _compact(line)
        if NUMBERED.match(compact) or DOC_NUMBER.fullmatch(compact):
            continue
        attached = ATTACHMENT.match(compact)
        if attached and TITLE_SHAPE.match(attached.group(1)):
            return attached.group(1)
        if TITLE_SHAPE.match(compact):
            return line.strip()
    return None


def _headline_part(line: str) -> str:
    """A headline without the fields printed after it (`…研讨会召开 时间:2023-12-28 来源:…`), its `原标题:` label
    or a footnote mark (`…基本经验*`)."""
    line = TRAILING_FIELDS.sub("", line) if len(line) > 12 else line
    line = re.sub(r"^\s*原标题\s*[:：]\s*", "", line)
    # a stored <title> names its site after an underscore (`标题_风闻`, `标题_新浪新闻`); headlines have no `_`
    line = re.sub(r"(?<=\S)\s*_\s*[^\s_。，,]{1,16}\s*$", "", line) if len(line) > 12 else line
    return re.sub(r"(?<=[\u4e00-\u9fff”》)])[*＊]+\s*$", "", line)


# A picture's caption above a news item (锦江学校位置示意图, 图为…, 记者 张三 摄) is not its headline.
CAPTION = re.compile(r"(?:示意图|效果图|规划图|照片|图片|摄)\)?$|^图为")


def _looks_like_headline(line: str) -> bool:
    text = line.strip()
    return (6 <= len(text) <= 60 and "。" not in text and text[-1:] not in ":：;；" and not DATELINE.match(text)
            and not CAPTION.search(text)
            and not BYLINE.search(text) and not NUMBERED.match(text) and not text.startswith(("<", "【")))


@dataclass
class Signature:
    """The issuer line(s) and date that close a policy or its covering notice."""

    issuers: list[str] = field(default_factory=list)
    date: str | None = None


def find_signature(lines: list[str]) -> Signature:
    """The first date line preceded by organisation lines; the date alone if no organisation precedes it."""
    fallback = Signature()
    for i, line in enumerate(lines):
        compact = _compact(line)
        if len(compact) > 16 or not (DATE.fullmatch(compact) or CN_DATE.fullmatch(compact)):
            continue
        date = parse_date(compact)
        issuers: list[str] = []
        j = i - 1
        while j >= 0 and len(issuers) < 4:
            names = _org_names(lines[j])
            if not names:
                break
            issuers[:0] = names
            j -= 1
        if issuers:
            return Signature(issuers, date)
        if fallback.date is None and i >= len(lines) - 5:
            fallback = Signature([], date)
    return fallback


def _org_names(line: str) -> list[str]:
    """Organisation names on a signature line: one (possibly letter-spaced) or several separated by spaces."""
    tokens = line.split()
    if len(tokens) > 1 and all(ORG_LINE.match(t) for t in tokens):
        return tokens
    compact = _compact(line)
    return [compact] if ORG_LINE.match(compact) else []


def detect_kind(raw_fields: dict[str, str], raw_text: str, lines: list[str], doc_number: str | None,
                signature: Signature) -> str:
    """policy, news or other, by weighing the signs of each: 文号, signature, genre and salutation for a policy;
    dateline, bylines, a news lead and a reporting headline for news; for other pages the marks of 范文 farms,
    document shops, papers, speeches and essays (小编整理, 关键词:, 同志们:, 第N章…)."""
    news = 2 * sum(1 for label in BYLINE_LABELS if label in raw_fields or f"{label}:" in raw_text[:2000])
    news += 1 if lines and NEWS_WORDS.search(lines[0]) and "。" not in lines[0] else 0
    news += 1 if re.search(r"本文来源|公众号|记者", raw_text) else 0
    news += 3 * any(DATELINE.match(_compact(line)) for line in lines[:3])
    news += 2 * any(NEWS_LEAD.match(_compact(line)) for line in lines[:4])
    news += 1 if lines and REPORTING_HEADLINE.search(lines[0]) and "。" not in lines[0] else 0
    raw_head = [fold_line(line) for line in raw_text[:3000].split("\n")]
    page_head = [text for line in lines[:20] for text in (line.strip(), _compact(line))] + raw_head
    other = 3 * sum(1 for sign in OTHER_SIGNS if any(sign.search(line) for line in page_head))
    outline = any(NUMBERED.match(_compact(line)) for line in lines)
    if not outline and policy_signs(lines, doc_number, signature) == 0 and news == other == 0:
        return "news"  # prose with no outline, no 文号 and no signature reports; it does not rule
    policy = policy_signs(lines, doc_number, signature)
    if other > max(news, policy):
        return "other"
    if policy == news == 0:
        return "other"  # an outline with no 文号, signature, genre title or salutation, and no news: an explainer
    return "news" if news > policy else "policy"


def policy_signs(lines: list[str], doc_number: str | None, signature: Signature) -> int:
    """文号, signature, a genre title, a salutation, 特此通知 and directives (请各…, 根据…精神)."""
    policy = 2 * bool(doc_number) + 2 * bool(signature.issuers)
    policy += 2 * any(TITLE_SHAPE.match(_compact(line)) for line in lines[:HEAD_LINES])
    policy += 2 * any(WRAPPER.match(line) for line in _joined_head(lines))  # 关于印发《…讲话》的通知 is a policy
    policy += any(SALUTATION.match(_compact(line)) for line in lines[:HEAD_LINES])
    policy += any(_compact(line) in ("特此通知。", "特此通知") for line in lines)
    policy += 2 * (sum(1 for line in lines if ARTICLE.match(_compact(line))) >= 2)  # 第一条 … 第二条 …
    policy += any(re.match(r"^(?:请各|根据[^《。]{0,10}《[^》]+》[^。]{0,40}精神)", _compact(line)) for line in lines[:HEAD_LINES])
    return policy


def find_issuer(signature: Signature, raw_fields: dict[str, str], lines: list[str], kind: str) -> str | None:
    """The signing organisation, else the page's publisher field, else (for news) the organisation reported on."""
    if signature.issuers:
        return "、".join(signature.issuers)
    adopted = _adoption(lines) if kind == "policy" else None
    if adopted:
        return adopted[1]
    named = _issuer_in_title(lines) if kind == "policy" else None
    if named:
        return named
    for label in ISSUER_FIELDS:
        value = _compact(raw_fields.get(label, ""))
        if ORG_LINE.match(value):
            return value
    if kind == "news":
        for line in lines[:6]:
            match = NEWS_INFORMANT.search(line) or NEWS_SOURCE.search(line) or NEWS_DOC_SOURCE.search(line)
            if match:
                return match.group(1)
    return None


def _adoption(lines: list[str]) -> tuple[str, str] | None:
    """(date, body) of a regulation's adoption line near its head (…于2011年6月13日云南省教育厅第8次厅务会议通过)."""
    for line in lines[:HEAD_LINES]:
        match = ADOPTION.search(_compact(line))
        if match and (date := parse_date(match.group(1))):
            return date, match.group(2)
    return None


def _issuer_in_title(lines: list[str]) -> str | None:
    """The organisations a title opens with (XX市人民政府关于…, 中共XX市委 XX市人民政府关于…), or the organisation line
    right above a 关于… title."""
    head = _joined_head(lines)
    for index, line in enumerate(head[:6]):
        match = ISSUER_BEFORE_ABOUT.match(line.strip())
        if not match:
            continue
        names = [name for name in re.split(r"[\s、]+", match.group(1).strip()) if name]
        if names and all(ORG_LINE.match(name) for name in names):
            return "、".join(names)
        if not line.strip()[match.end():].startswith(tuple("0123456789")) and line.strip().startswith("关于") \
                and index > 0:
            above = _org_names(head[index - 1])
            if above:
                return "、".join(above)
        return None
    return None


# --- region -----------------------------------------------------------------------------------------------

CITATIONS = re.compile(r"《[^《》]*》|[(（][^()（）]*\d{4}[^()（）]*号[)）]")
# A name in an enumeration (西城、朝阳、丰台等7个区; 如北京市东城区、上海市…) is an example, not the subject.
LIST_CONTEXT = re.compile(r"^[、,和及与]|^等")
HEADLINE_LINES = 3
ISSUER_WEIGHT, TITLE_WEIGHT, NUMBER_WEIGHT, HEADLINE_WEIGHT = 10.0, 6.0, 4.0, 2.0
BODY_CAP = 5.0
NATIONAL_ISSUER = re.compile(r"^(?:中共中央|国务院|教育部|国家|全国|中华人民共和国|财政部|人力资源社会保障部)")


SUBJECT_LINES = 3
# A news lead saying where the event took place (…研讨会在重庆市永川区兴隆湖中学召开) names what the item is about,
# even when another city's office published it (来源:泸州市教育体育局).
EVENT_PLACE = re.compile(r"在[\u4e00-\u9fff]{2,20}?(?:区|县|旗|市)[\u4e00-\u9fff]{0,20}?(?:召开|举行|举办|开幕|启动)")
EVENT_WEIGHT = ISSUER_WEIGHT + 2.0


def _event_place(lines: list[str], context: set[str]) -> Region | None:
    """The county or district a news lead holds its event in (its full name, as the lead writes it)."""
    for line in lines[:HEADLINE_LINES]:
        for match in EVENT_PLACE.finditer(line):
            chain = gazetteer.leading_regions(match.group(0)[1:])  # 重庆市永川区…: the chain down to the county
            place = chain[0] if chain else None
            for inner in chain[1:]:  # 兴隆湖中学 after 永川区 is a school, not 兴隆县
                if place is None or place.region_id not in gazetteer.parent_ids(inner):
                    break
                place = inner
            if place is not None and place.level in ("district", "county"):
                return place
    return None



def _sole_subject(body: str) -> bool:
    """An essay or explainer that names one place only, paragraph after paragraph (山西的教育…然而,山西教育…), is
    about that place; one naming several places uses them as examples."""
    named: dict[str, Region] = {}
    lines_naming = 0
    for line in CITATIONS.sub("", body).split("\n"):
        found = {m.candidates[0].region_id: m.candidates[0] for m in gazetteer.find_mentions(line)
                 if len(m.candidates) == 1}
        named.update(found)
        lines_naming += bool(found)
    # places inside the subject (太原 in an essay on 山西) do not make it an example
    subjects = [rid for rid in named
                if all(other == rid or rid in gazetteer.parent_ids(region) for other, region in named.items())]
    return len(subjects) == 1 and lines_naming >= SUBJECT_LINES


def _context_of(regions: list[Region]) -> set[str]:
    return {rid for region in regions for rid in [region.region_id, *gazetteer.parent_ids(region)]}


def _resolve_mentions(text: str, context: set[str]) -> list[tuple[Region, gazetteer.Mention]]:
    """Each mention as one place: a shared name (朝阳区, 城关区) goes to the candidate whose parents are named around
    it (the name right before it first: 长春市朝阳区); a shared name nothing decides is dropped."""
    resolved: list[tuple[Region, gazetteer.Mention]] = []
    previous: tuple[Region, gazetteer.Mention] | None = None
    for mention in gazetteer.find_mentions(text):
        if len(mention.candidates) == 1:
            region: Region | None = mention.candidates[0]
        else:
            near = {previous[0].region_id} if previous and previous[1].end == mention.start else set()
            region = gazetteer.choose(mention.candidates, near) or gazetteer.choose(mention.candidates, context)
        if region is not None:
            resolved.append((region, mention))
            previous = (region, mention)
    return resolved


def _named_in(source: str, context: set[str]) -> Region | None:
    """The most specific place an issuer or a title names: its leading chain, else the places in it."""
    named = gazetteer.leading_regions(source)
    if not named:
        named = [region for region, _ in _resolve_mentions(source, context)]
        if not named:  # a shared name alone (城关区教育局): its most prominent owner
            named = [m.candidates[0] for m in gazetteer.find_mentions(source)]
    return max(named, key=gazetteer.depth) if named else None


def number_regions(doc_number: str, context: set[str]) -> Region | None:
    """The authority a document number's prefix names: a place name (黔东南州教发) or an abbreviation (浙教基 → 浙江)."""
    named = gazetteer.leading_regions(doc_number)
    if named and gazetteer.by_id(named[0].region_id):
        return named[-1]
    for size in (3, 2):  # 黔东南府办发, 九江教字: a short form at the start
        found = [r for r in gazetteer.candidates(doc_number[:size]) if r.level in ("province", "city")]
        if found:
            return gazetteer.choose(found, context) or found[0]
    options = [gazetteer.lookup(name) for name in gazetteer.DOC_NUMBER_ABBREVIATIONS.get(doc_number[:1], ())]
    found = [r for r in options if r is not None]
    if not found:
        return None
    return gazetteer.choose(found[1:], context) or found[0]


def detect_region(issuer: str | None, title: str | None, doc_number: str | None, body: str,
                  kind: str = "policy") -> Region | None:
    """The place the document is about: its issuer, title and number prefix first, then where and how often the
    text names places (headline lines count double, names in enumerations and cited documents barely). A page of
    another kind (a 范文, paper, essay) is about a place only when its title or issuer names one: the places in its
    body are examples, affiliations and anecdotes."""
    if kind == "other" and not _sole_subject(body):
        body = ""
    lines = body.split("\n")
    text = CITATIONS.sub("", body)  # cited documents (《省政府关于…》, (苏政发〔2017〕1号)) name other authorities
    plain = [m.candidates[0] for m in gazetteer.find_mentions(text) if len(m.candidates) == 1]
    sources = [s for s in (issuer, title) if s]
    head_regions = [r for s in sources for r in gazetteer.leading_regions(s) if gazetteer.by_id(r.region_id)]
    context = _context_of(plain + head_regions)

    scores: dict[str, float] = {}
    regions: dict[str, Region] = {}

    def vote(region: Region | None, weight: float) -> None:
        if region is None:
            return
        regions.setdefault(region.region_id, region)
        scores[region.region_id] = scores.get(region.region_id, 0.0) + weight

    vote(_named_in(issuer, context) if issuer else None, ISSUER_WEIGHT)
    vote(_named_in(title, context) if title else None, TITLE_WEIGHT)
    if kind == "news":
        vote(_event_place(lines, context), EVENT_WEIGHT)
    if doc_number:
        vote(number_regions(doc_number, context), NUMBER_WEIGHT)
    head_end = len("\n".join(lines[:HEADLINE_LINES]))
    body_votes: dict[str, float] = {}
    resolved = _resolve_mentions(text, context)
    for index, (region, mention) in enumerate(resolved):
        following = resolved[index + 1] if index + 1 < len(resolved) else None
        if following and following[1].start == mention.end and region.region_id in gazetteer.parent_ids(following[0]):
            continue  # 常德市桃源县: the city only qualifies the county named next
        after = text[mention.end : mention.end + 1]
        before = text[mention.start - 1 : mention.start] if mention.start else ""
        weight = 0.25 if LIST_CONTEXT.match(after) or before == "、" else 1.0
        if mention.start < head_end:
            weight *= HEADLINE_WEIGHT
        regions.setdefault(region.region_id, region)
        body_votes[region.region_id] = body_votes.get(region.region_id, 0.0) + weight
    for region_id, weight in body_votes.items():
        vote(regions[region_id], min(weight, BODY_CAP))
    if issuer and NATIONAL_ISSUER.match(issuer) and not gazetteer.leading_regions(issuer):
        return None  # 教育部办公厅关于在天津等12个市…: the country's, whatever places it names
    if not scores:
        return None
    best = regions[max(scores, key=lambda rid: (scores[rid], gazetteer.depth(regions[rid])))]
    if gazetteer.by_id(best.region_id) is None and (best.parent_id is None or gazetteer.by_id(best.parent_id) is None):
        best = _with_parent_from_text(best, "\n".join(filter(None, (issuer, title, body))), context, doc_number)
    return best


def _with_parent_from_text(region: Region, text: str, context: set[str], doc_number: str | None) -> Region:
    """Give a place the gazetteer does not know a parent: the place written right before it (成都市武侯新城 → 成都市),
    else the province the document names (or its number's prefix)."""
    before = [m for m in gazetteer.find_mentions(text) if text.startswith(region.name, m.end)]
    if before:
        return replace(region, parent_id=max((m.candidates[0] for m in before), key=gazetteer.depth).region_id)
    provinces = [rid for rid in context if (r := gazetteer.by_id(rid)) is not None and r.level == "province"]
    if doc_number:
        numbered = number_regions(doc_number, context)
        if numbered is not None:
            provinces.append((gazetteer.ancestors(numbered) or [numbered])[-1].region_id)
    if len(set(provinces)) == 1:
        return replace(region, parent_id=provinces[0])
    return region


def qualify_issuer(issuer: str | None, region: Region | None) -> str | None:
    """Give an unqualified issuer its region (区教育局 → 临平区教育局) when the region's level fits."""
    if not issuer or region is None:
        return issuer
    prefix = {"district": "区", "city": "市", "county": "县", "province": "市" if region.name.endswith("市") else "省"}
    if issuer[0] == prefix.get(region.level) and not issuer.startswith(region.name):
        return region.name + issuer[1:]
    return issuer


# --- entry points -----------------------------------------------------------------------------------------


def extract_metadata(
    raw_text: str, clean_text: str, source_path: Path, fields: dict[str, str] | None = None
) -> Metadata:
    """Read a document's metadata from its raw page and its cleaned body; `fields` come from the file's form
    (an official document's red header gives 发文机关) and count as page fields."""
    raw_fields = {**head_fields(raw_text), **(fields or {}), **page_fields(raw_text)}
    # Rules match the folded view (`(` for `（`); the title is given back in the cleaned text's punctuation.
    lines = [fold_for_matching(line.strip()) for line in clean_text.split("\n") if line.strip()]
    if not lines:  # nothing survived cleaning: read what we can from the folded raw text
        lines = [folded for folded in (fold_line(line) for line in raw_text.split("\n")) if folded]
    doc_number = find_doc_number(lines, raw_fields)
    signature = find_signature(lines)
    folded_raw = "\n".join(fold_line(line) for line in raw_text[:5000].split("\n"))
    kind = detect_kind(raw_fields, folded_raw, lines, doc_number, signature)
    title = find_title(lines, kind, folded_raw)
    issuer = find_issuer(signature, raw_fields, lines, kind)
    region = detect_region(issuer, title, doc_number, "\n".join(lines), kind)
    date = find_date(kind, raw_fields, lines, signature, doc_number)
    return Metadata(
        region_id=region.region_id if region else None,
        region=region.name if region else None,
        title=normalise_punctuation(title).text if title else title,
        issuer=qualify_issuer(issuer, region),
        date=date,
        doc_number=doc_number,
        kind=kind,
        level=region.level if region else None,
        parent_region_ids=_parents(region),
    )


def find_date(kind: str, raw_fields: dict[str, str], lines: list[str], signature: Signature,
              doc_number: str | None) -> str | None:
    """The text's own date first (a policy's signature, a speech's delivery date, a news dateline), then the
    page's labelled dates; a template's page date (a content farm's post time) only when the text has no date of its
    own and it does not contradict the 文号's year."""
    adopted = _adoption(lines) if kind == "policy" else None
    own = [signature.date if kind == "policy" else None, adopted[0] if adopted else None, _delivery_date(lines)]
    if kind == "news":
        own.append(_dateline_date(lines, raw_fields))
    found = next((d for d in own if d), None)
    if found:
        return found
    date_fields = POLICY_DATE_FIELDS if kind == "policy" else NEWS_DATE_FIELDS
    number_match = DOC_NUMBER.search(doc_number) if doc_number else None
    number_year = number_match.group(2) if number_match else None
    for label in date_fields:
        date = parse_date(raw_fields.get(label, ""))
        if date and label in PAGE_DATE_FIELDS and number_year and int(date[:4]) not in (int(number_year),
                                                                                        int(number_year) + 1):
            continue  # the page was posted years after the document: the post date is not the document's
        if date:
            return date
    return signature.date


def _delivery_date(lines: list[str]) -> str | None:
    for line in lines[:HEAD_LINES]:
        match = DELIVERY_DATE.match(_compact(line))
        if match:
            return parse_date(match.group(1))
    return None


def _dateline_date(lines: list[str], raw_fields: dict[str, str]) -> str | None:
    """本报北京3月5日电 → the month and day, the year from the dateline or else the page's own date fields."""
    for line in lines[:4]:
        match = DATELINE_DATE.match(_compact(line))
        if not match:
            continue
        year = match.group(1)
        if year is None:
            page_years = [d[:4] for d in (parse_date(v) for v in raw_fields.values()) if d]
            if not page_years:
                return None
            year = page_years[0]
        return _iso(int(year), int(match.group(2)), int(match.group(3)))
    return None


def _parents(region: Region | None) -> list[str]:
    if region is None:
        return []
    known = gazetteer.parent_ids(region)
    return known or ([region.parent_id] if region.parent_id else [])


def sidecar_path(source_path: Path) -> Path:
    """foo.txt → foo.meta.toml beside it."""
    source_path = Path(source_path)
    return source_path.with_name(source_path.stem + ".meta.toml")


# A sidecar or upload may also say where the page was scraped from: not metadata of the text, but the site whose
# template lines it shares (policykb.templates), kept with the version's overrides.
SOURCE_FIELDS = ("source_url",)
OVERRIDABLE = (*(f.name for f in fields(Metadata)), *SOURCE_FIELDS)


def read_sidecar(source_path: Path) -> dict[str, Any]:
    """The overrides in NAME.meta.toml beside the raw file ({} when there is none)."""
    path = sidecar_path(source_path)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"invalid TOML in metadata sidecar: {exc}") from exc
    unknown = sorted(set(data) - set(OVERRIDABLE))
    if unknown:
        raise InputFileError(path, f"unknown metadata field(s) {', '.join(unknown)}; allowed: {', '.join(OVERRIDABLE)}")
    return data


def apply_overrides(meta: Metadata, overrides: dict[str, Any]) -> Metadata:
    """A copy of `meta` with `overrides` applied; a new region also brings its id, level and parents."""
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ValueError(f"unknown metadata field(s) {', '.join(unknown)}; allowed: {', '.join(OVERRIDABLE)}")
    values = {key: _override_value(key, value) for key, value in overrides.items()}
    values = {key: value for key, value in values.items() if key not in SOURCE_FIELDS}
    if "region" in values or "region_id" in values:
        region = _override_region(values.get("region"), values.get("region_id"))
        derived: dict[str, Any] = {
            "region": region.name if region else values.get("region"),
            "region_id": region.region_id if region else values.get("region_id"),
            "level": region.level if region else None,
            "parent_region_ids": _parents(region),
        }
        values = {**derived, **values}
    return replace(meta, **values)


def _override_region(name: str | None, region_id: str | None) -> Region | None:
    if name:
        return gazetteer.region_for_name(name)
    if region_id:
        return gazetteer.by_id(region_id)
    return None


def _override_value(key: str, value: Any) -> Any:
    """Check one override's type; an empty string clears an optional field (TOML has no null)."""
    if key == "parent_region_ids":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("parent_region_ids must be a list of region ids")
        return list(value)
    if key == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"metadata field {key} must be a string, not {type(value).__name__}")
    if key == "kind":
        if not value:
            raise ValueError("kind must not be empty")
        return value
    if key == "date" and value and not (re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and parse_date(value) == value):
        raise ValueError(f"date must be YYYY-MM-DD, got {value!r}")
    if key == "doc_number" and value:
        return normalise_doc_number(value) or value
    return value or None


def make_doc_id(meta: Metadata, source_path: Path, text: str) -> str:
    """A stable ASCII id: region-year-number, else region-date, else region-hash of the text."""
    region = meta.region_id or "unknown"
    if meta.doc_number:
        match = DOC_NUMBER.search(meta.doc_number)
        if match:
            return f"{region}-{match.group(2)}-{int(match.group(3))}"
    if meta.date:
        return f"{region}-{meta.date}"
    # The hash reads the folded text, so an id does not change with the written form of the punctuation.
    basis = fold_for_matching(text) if text.strip() else Path(source_path).name
    return f"{region}-{hashlib.sha1(basis.encode('utf-8')).hexdigest()[:8]}"
