"""Tag the quantitative requirements of policy clauses: comparator, value, unit, period, subject, base, kind.

How it works, in three inspectable layers:

1. `lex(text)` cuts the number grammar at character level into lexemes (NUM, UNIT, APPROX, SEP, CMP_PRE,
   CMP_POST, DE) and marks look-alikes as SKIP regions (dates, document numbers, quoted names, plan titles,
   party congresses, ordinals, outline markers, ids, grades). Character level because jieba glues numbers to
   neighbours unpredictably (`所以`+`上省`, `项体艺`, `万余名`).
2. A spaCy pipeline (`spacy.blank("zh")` with the jieba segmenter) whose component `policykb_quantities`
   retokenizes the doc so every lexeme is one token (`token._.qk` holds its kind) and runs `Matcher`
   patterns that assemble quantities: `QUANTITY` (`9所以上`, `1-2次`) and `COMPARED` (a comparator, a short
   gap, a quantity: `不低于符合…总数的20%`). Matches land in `doc.spans["quantities"]`.
3. Post-processing turns each match into a `Requirement` and reads its sentence for the period, subject,
   base and kind; it drops bare numbers that measure nothing.

Decisions (documented because a reader would otherwise have to guess):
- `达到`/`达` mean `>=`; `以上`/`以下`/`以内` include the number (`>=`/`<=`, the legal reading); `余`/`多`/`逾`
  mean `>` (`19万余名` → > 190000 名); `左右`/`约`/`上下`/`近` mean `~`.
- Units are kept as written: `50万元` is 50 with unit `万元`, while `1.5万人` is 15000 with unit `人`.
  Fractions, `百分之N` and `N成` become percent.
- `period` is the nearest frequency before the number in its sentence (`每学期`, `每年`, `年均`); failing that
  a window or plan horizon (`2年内`, `经过3年努力` → `3年内`); failing that a deadline as written (`到2025年`).
- A window with no quantity after it is itself the requirement: `3年内实现全覆盖` → <= 3 年, subject 全覆盖;
  `3-5年内开展一次复核` → range [3, 5] 年, subject 复核. A plan horizon alone (`通过3年努力`, `用3年左右的
  时间`) is the plan's span, tagged as written (= 3 年, ~ 3 年) with what it achieves as its subject; before
  other quantities of its sentence it is their period instead.
- A bare number (no comparator) is tagged only when its sentence carries a requirement cue (应, 要, 须,
  确保, a period, a deadline, `…经历`) or a statistic cue (已, 目前, 共, 累计, 涉及, 涵盖). A bare Chinese `一`
  (`建设一批`, `开展一次`) and a bare count of categories (`三类`, `四级`, `五方面`) are never tagged.
- Word forms of comparators read as written: `大于等于`/`小于或等于`/`≥`/`≤` are inclusive, `满6年` is `>= 6 年`,
  `在20和30之间` and `20 - 100个` are ranges. A unit may follow its number across a space (`21 个`); a footnote
  digit glued to a percentage (`88.96%7`) is dropped.
- A Chinese numeral bound inside a word (`四川`, `一切`, `村两委`, `一体化`, `三好学生`), a lone digit before a
  character that counts nothing (`一看`), a school system (`九年义务教育`), a reference point (`以6年…为基准`), a
  lone digit before 元 (`城乡二元结构`) and a count of the parts of a plan (`三个阶段`) are never quantities.
- A count of things to build or select is a target when a target verb opens its phrase (`培育80个优质教育集团`,
  `建成10所新优质学校`, `组建20个学区`): subject = the counted noun. An amount with a per-basis (`每生每课时2元`,
  `每人每年不低于500元`, `生均公用经费不低于1200元`) is a standard: the basis is its `base`, a frequency its period.
  Neither holds when the sentence reports (`已`, `共`, `累计`, `近三年来`) or the count is an estimate (`500余个`);
  a number glued to a programme noun (`135行动`, `双百工程`) names the programme.
- A forecast (`预计`, `有望`) is left out unless a modal word (应, 须, 要, 确保, 力争…) outweighs it. A descriptive
  comparator (`超过`, `高于`, `低于`…) is no requirement word by itself: with no normative cue it is a statistic.
- `kind` follows the nearest cue before the number; with no cue, `余`/`多`/`约` approximations are
  statistics and explicit comparators are requirements.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from policykb.cleaning.punctuation import fold_for_matching
from policykb.numbers import CN_NUMERAL_CHARS, NUMBER_RE, Found, find_numbers, fold, match_end, parse_number
from policykb.records import MONEY_UNITS, Clause, Requirement

COORDINATORS = {"和", "与", "或", "、", "及"}
COMPARATORS = (">=", "<=", ">", "<", "=", "~", "range")

# --- lexicon -------------------------------------------------------------------------------------------

# Comparators written before the number, longest first so `不低于` wins over `低于`.
PRE_COMPARATORS: dict[str, str] = {
    "大于或者等于": ">=", "大于或等于": ">=", "大于等于": ">=", "高于或等于": ">=", "不低于或等于": ">=",
    "小于或者等于": "<=", "小于或等于": "<=", "小于等于": "<=", "低于或等于": "<=",
    "≥": ">=", "⩾": ">=", ">=": ">=", "≤": "<=", "⩽": "<=", "<=": "<=", ">": ">", "<": "<",
    "不得低于": ">=", "不应低于": ">=", "不得少于": ">=", "不应少于": ">=", "不低于": ">=", "不少于": ">=",
    "不小于": ">=", "至少": ">=", "最少": ">=", "最低": ">=", "提高到": ">=", "提升到": ">=",
    "增加到": ">=", "达到": ">=",
    "不得超过": "<=", "不应超过": "<=", "不宜超过": "<=", "不超过": "<=", "不高于": "<=", "不多于": "<=",
    "不大于": "<=", "不超出": "<=", "最多": "<=", "至多": "<=", "最高": "<=", "最长": "<=", "控制在": "<=",
    "低于": "<", "少于": "<", "小于": "<", "不足": "<", "不到": "<", "未满": "<",
    "高于": ">", "超过": ">", "超出": ">", "多于": ">", "大于": ">",
    "多达": ">=", "高达": ">=", "等于": "=",
    "大约": "~", "接近": "~", "将近": "~",
}
# Single characters that are comparators only right before a number (`达90%`, `约3万人`, `逾百所`).
PRE_COMPARATORS_ADJACENT: dict[str, str] = {"达": ">=", "满": ">=", "约": "~", "近": "~", "逾": ">"}
# Comparators that only restate or soften; an explicit suffix (`达到90%以上`) wins over them.
ESTIMATES = {"约", "大约", "近", "将近", "接近", "逾", "多达", "高达"}
WEAK_PRE = {"达到", "达", "提高到", "提升到", "增加到", "控制在", "多达", "高达"}
# Comparators that describe a fact as often as they set a bound (`在校生超过41万人`): by themselves they do not
# make a requirement; a normative word (应, 不得, 确保, a bound such as 不低于…) must.
DESCRIPTIVE_PRE = {"低于", "少于", "小于", "不足", "不到", "未满", "高于", "超过", "超出", "多于", "大于"}
POST_COMPARATORS: dict[str, str] = {
    "以上(含)": ">=", "及以上": ">=", "或者以上": ">=", "或以上": ">=", "以上": ">=",
    "及以下": "<=", "或者以下": "<=", "或以下": "<=", "以下": "<=", "以内": "<=", "之内": "<=", "内": "<=",
    "左右": "~", "上下": "~",
}
APPROX_MORE = ("余", "多", "几")  # 19万余名, 100多所, 十几所: more than; 十来个: about
UNITS = (
    "个百分点", "百分点", "个学期", "个学年", "个月", "学年", "学期", "课时", "学时", "学分", "小时", "分钟",
    "万元", "亿元", "千元", "平方米", "公里", "千米", "周岁", "人次", "个方面", "方面",
    "%", "％", "元", "岁", "米", "年", "周", "天", "次", "个", "所", "项", "人", "名", "校", "节", "门", "倍",
    "届", "期", "批", "家", "篇", "类", "种", "件", "场", "轮", "位", "支", "套", "间", "台", "份", "本",
    "册", "部", "座", "条", "级", "成", "班", "户", "分",
)
# Function words a numeral may stand before on its own (`答案是四不是五`, `前三的品牌`).
FUNCTION_CHARS = "的是这那不而却和与或也都就在了着过从到至"
# Classifiers beyond the units a requirement measures: they mark a numeral as a count, never as a name.
CLASSIFIERS = "个只斤吨块塊张把辆头棵株粒片首根双对栋幢层排行列段点滴碗杯瓶包箱"
TIME_UNITS = {"年", "学年", "个学年", "学期", "个学期", "个月", "周", "天", "小时"}
# Counting categories or levels (`三类拓展性课程`, `四级培训架构`) structures a text; it measures nothing.
CATEGORY_UNITS = {"类", "种", "级", "方面", "个方面"}
# Nor does counting the parts of a text or a plan (`分三个阶段推进`, `把握好四个环节`).
STRUCTURE_NOUN = re.compile(
    r"^[\u4e00-\u9fff]{0,2}?(?:阶段|环节|层次|层级|层面|步骤|板块|方面|部分|原则|途径|路径|方向|特点|步走|方针)"
)

_CN = f"[{CN_NUMERAL_CHARS}]"
_NUM_CN_OR_DIGIT = r"[\d一二两三四五六七八九十百]+"
_BY_LENGTH = functools.partial(sorted, key=len, reverse=True)  # longest first: 大于等于 before 大于
# A unit may follow its number across a space or two (`21 个`, `80 %`), as web pages often write it.
UNIT_RE = re.compile(r"[ \t\u3000]{0,2}(?:" + "|".join(
    re.escape(u) + (r"(?![级龄代])" if u == "年" else "") for u in UNITS) + ")")
POST_RE = re.compile("|".join(re.escape(p) for p in _BY_LENGTH(POST_COMPARATORS)))
PRE_RE = re.compile("|".join(re.escape(p) for p in _BY_LENGTH(PRE_COMPARATORS)))
SEP_RE = re.compile(r"\s*(?:-|~|～|—|–|至|到)\s*")
# `在20和30之间`, `10000与20000之间`: 和/与 join a range only when 之间 closes it.
BETWEEN_SEP_RE = re.compile(r"\s*[和与]\s*")
BETWEEN_END_RE = re.compile(r"\s*之?间")
APPROX_RE = re.compile(r"余|多(?![元样种])|几(?=[\u4e00-\u9fff])|来(?=[个人名所位次岁天])")
APPROX_ABOUT = "来"

# Look-alike numbers, each a named rule so a reader can see why a number was left alone.
SKIP_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(r"https?://\S+|www\.[\w.-]+")),
    ("quoted_name", re.compile(r"“[^”]{0,30}”|《[^》]{0,80}》|「[^」]{0,30}」|『[^』]{0,30}』")),
    ("doc_number", re.compile(r"[〔\[(【]\s*(?:19|20)\d{2}\s*[〕\])】]\s*第?\s*\d+\s*号")),
    ("index_number", re.compile(r"\d{6,}(?:[/\-]\d+)*|\d+(?:[/\-]\d+){2,}")),
    ("datetime", re.compile(r"(?:19|20)\d{2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")),
    ("year_range", re.compile(r"(?:19|20)\d{2}\s*[-—–~～至到]\s*(?:(?:19|20)\d{2}|\d{2})\s*(?:年度|学年|年)?")),
    ("date", re.compile(
        r"(?:(?:19|20)\d{2}|[〇零一二三四五六七八九]{4})\s*(?:年度|学年|年)"
        r"(?:\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*月(?:\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})(?:\s*[-—–~～至到]\s*\d{1,2})?\s*[日号])?)?"
        r"(?:底|末|初|前|后|起|以来|左右|上半年|下半年)?"
        r"|(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*月(?:\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})(?:\s*[-—–~～至到]\s*\d{1,2})?\s*[日号])?"
        r"(?:上旬|中旬|下旬|底|初|份)?"
    )),
    ("time_of_day", re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")),
    ("phone", re.compile(r"\d{3,4}-\d{7,8}")),
    ("ordinal", re.compile(rf"第\s*(?:\d+|{_CN}+)")),
    ("outline_marker", re.compile(
        r"(?<![^\s。;:!?])(?:[一二三四五六七八九十]+[、.](?!\d)|[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.、．](?!\d))"
    )),
    ("party_congress", re.compile(r"[一二三四五六七八九]?十[一二三四五六七八九]?(?:届[一二三四五六七八九]中全会|大)")),
    ("five_year_plan", re.compile(r"十[一二三四五六七八九]五")),
    ("programme_plus", re.compile(r"[\dA-Za-z]+\s*\+\s*[\dA-Za-z]+")),
    # A number glued to a programme noun with no unit between names the programme (`135行动`, `双百工程`).
    ("programme_number", re.compile(r"\d+(?=(?:行动|工程|计划|战略|模式|体系|机制|方针|方略|举措|路径)(?!\d))")),
    ("plan_title", re.compile(
        rf"{_NUM_CN_OR_DIGIT}\s*年(?!内|以内|之内)(?=[^,;:。!?，；：]{{0,5}}?(?:计划|规划|行动|方案|工程|目标|纲要))"
    )),
    ("grade", re.compile(rf"{_NUM_CN_OR_DIGIT}(?:\s*[-~至到、和]\s*{_NUM_CN_OR_DIGIT})?\s*年级|[初高][一二三]")),
    ("recent_past", re.compile(rf"近\s*{_NUM_CN_OR_DIGIT}\s*个?(?:年|月)(?:来|以来)?|{_NUM_CN_OR_DIGIT}年(?:来|以来)")),
    # A school system named by its length (`九年一贯制`, `九年义务教育`, `十五年免费教育`) is no duration.
    ("school_system", re.compile(
        rf"{_NUM_CN_OR_DIGIT}年一贯制|{_NUM_CN_OR_DIGIT}年制"
        rf"|{_NUM_CN_OR_DIGIT}年(?:免费|义务|基础|学前|普及|公费)*教育(?!教学|工作|经历|经验)"
    )),
    # A reference point (`以6年任教年限为基准`) frames a rule; it sets no value itself.
    ("reference_frame", re.compile(
        rf"以\s*{_NUM_CN_OR_DIGIT}[^,;:。!?，；：]{{0,10}}?为(?:基准|标准|基数|起点|参照|依据|单位|基础)"
    )),
    # A footnote marker glued to a percentage (`88.96%7,`) is no number.
    ("footnote", re.compile(r"(?<=[%％‰])\d{1,2}(?=[,，。;；、)\s]|$)")),
    ("distributive_idiom", re.compile(r"一([\u4e00-\u9fff])一([\u4e00-\u9fff])")),
    ("fixed_word", re.compile(
        r"十分|万分|百分百|一分为二|千方百计|百舸|百花|万众|一次性|一体|一致|一起|一同|一般|一律|一样|一直|一切"
        r"|一定|一些|一系列|一流|一线|一条龙|一揽子|一把手|一站式|统一|单一|唯一|同一|进一步|逐一|专一|万一"
    )),
)

# Kind cues. The nearest cue before the number decides.
STATISTIC_CUE = re.compile(
    r"已(?!于)|目前|现有|共有|共计|共(?=[\u4e00-\u9fff]{0,3}[\d一二两三四五六七八九十])|累计|截至目前|涉及|涵盖"
    r"|包括|包含|以来|年来|(?<=[\u4e00-\u9fff])了(?=[\d一二两三四五六七八九十])"
)
PAST_FACT = re.compile(r"(?:已(?:有|经|达)?|目前|现有)$")
# `从2019年5月…到2022年7月` narrates the past: its `到2022年` is no deadline.
PAST_SPAN = re.compile(r"从[^,，;；。]{0,20}?(?:到|至)\s*(?:19|20)\d{2}\s*年")
# A bound on something other than a number (`不低于当年区域平均水平`) marks a normative sentence too.
REQUIREMENT_CUE = re.compile(
    r"(?<![适相响对供反效答])应(?![用急届聘对])|须|确保|力争|争取|原则上|不得|务必|(?<!已)(?<!已经)达到"
    r"|不(?:低|少|高|多|大|小)于(?![\d一二两三四五六七八九十百])|不超过(?![\d一二两三四五六七八九十百])"
    r"|(?<![主重需纲摘只])要(?![素点闻是])|每(?:学年|学期|年|月|周|天|日|季度)|年均|(?:到|至)(?:19|20)\d{2}年"
)
QUALIFICATION = re.compile(r"经历|经验|教龄|工龄|任教")
# A forecast (`预计…达到`, `未来3-5年…有望缩小`) is neither a requirement nor a fact: it is left out.
MODAL_CUE = re.compile(r"(?<![适相响对供反效答])应(?![用急届聘对])|须|确保|力争|争取|不得|务必|(?<![主重需纲摘只])要(?![素点闻是])")
FORECAST_CUE = re.compile(r"预计|预期|预测|有望|可望|估计|预估")

# Verbs that set a target number of things to build or select (`培育80个优质教育集团`, `建成10所新优质学校`,
# `组建20个学区`): in a plan they make a bare count a requirement, unless the same phrase narrates the past
# (`已建成10所`, `共组建了20个`).
COUNT_UNITS = frozenset({"个", "所", "家", "项", "支", "批", "座", "间", "套", "条", "门", "名", "人", "位", "篇",
                         "部", "场", "届", "期", "节", "校", "班", "处"})
TARGET_VERB = re.compile(
    r"培育|培植|孵化|建成|建设|组建|新建|改扩建|扩建|创建|打造|遴选|认定|评选|评定|培养|新增|增设|设立|成立|命名"
    r"|推出|建立|开设|开发|招聘|选派|选聘|引进|立项|布局|创成|挂牌|扶持"
)
# What an amount of money is paid per (`每生每课时2元`, `每人每年不低于500元`, `生均公用经费不低于1200元`): the
# per-basis makes a bare amount a standard (a requirement) and is kept as its base.
PER_BASIS = re.compile(
    r"每(?:名|位|个)?(?:在校生|学生|生|幼儿|儿童|人|教师|校|所学校|学校|班|课时|节课|节|课|次|小时|人次)"
)
# `…标准为小学每生每年1000元`, `按每生每学期300元的标准`: the word that hands over from what is paid to how much.
AMOUNT_INTRO = re.compile(r"(?:为|按照|按|以|是)(?=[^为按以是]*$)")
NARRATION = re.compile(r"共|累计|先后|陆续|相继|今年|去年|上年")
BASIS_RE = re.compile(rf"(?:{PER_BASIS.pattern}|生均|人均|校均|班均)+")
# The same basis written as a rate after the amount, as fee and subsidy tables do (`1.0元/生·小时`,
# `200元/生/学期`, `5000元/人·年`, `30元/人次`): read as 每生每小时, 每生每学期, 每人每年, 每人次.
RATE_SUFFIX = re.compile(
    r"\s?[/／](?P<who>在校生|学生|生|幼儿|人次|人|名|校|班|课时|节|小时|学期|月|年)"
    r"(?:\s?[·・./／](?P<per>小时|课时|节|学期|学年|月|年|天|日|次))?"
)

FREQUENCY_RE = re.compile(
    r"每(?:个)?(?:学年|学期|年度|季度|年|月|周|星期|天|日)"
    r"|每(?:[两二三四五六七八九十]|\d+)(?:个)?(?:学年|学期|年|月|周)|年均|年平均"
)
DEADLINE_RE = re.compile(
    r"(?:力争|争取)?(?:到|至|截至|截止到?)\s*(?:19|20)\d{2}\s*年(?:底|末)?|(?:19|20)\d{2}\s*年(?:底|末)?前"
)
# Coverage of everything in words (实现…全覆盖): 100%.
FULL_COVERAGE = re.compile(r"全(?:面|部|员|域)?覆盖")
ORPHAN_LOCATIVES = frozenset({"内", "里", "中", "以内", "之内", "之中"})
PHRASE_BREAK = "。!?！？,，;；:：\n"
# A share right after 前/后/末 and before 的 selects (后50%的学校); it is no value.
SELECTOR_MARKS = frozenset("前后末")
HORIZON_BEFORE = re.compile(r"(?:通过|经过|用|历时|利用|花)\s*$")
HORIZON_AFTER = re.compile(r"^(?:左右)?(?:的)?(?:时间|努力)")

SENTENCE_END = "。!?！？\n"
PERIOD_SEGMENT_BREAK = re.compile(r"[,，;；:：]")  # the parts of a sentence a frequency word stays inside
SEGMENT_BOUNDARY = "。!?！？,，;；:：、\n()（）“”《》"
PUNCT = set(SEGMENT_BOUNDARY) | set("·—-[]【】〔〕<>\"' \t")

# Words that surround a subject but are not part of it.
LEADING_NOISE = re.compile(
    r"^(?:其中|且|并且|并|同时|另外|此外|原则上|确保|力争|要求|均|都|对|使|让|在|将|把"
    # a modal word before the subject (`应确保高中阶段毛入学率`) is the sentence's force, not what it measures
    r"|应当|应(?![届用急])|必须|须|需要|要(?![素点闻求])|今后)+"
)
LOCATIVE_SCOPE = re.compile(r"^[^的]{1,10}?[内中里](?=各|每)")
DISTRIBUTIVE = re.compile(r"每(?:一)?(?:个|所)?(?:校|学校|所|位|名|人|班|生|教师|学生)")
DETERMINER = re.compile(r"^(?:各(?:种形式的?|类|级)?|所有|全部|全体)")
TRAILING_NOISE = re.compile(
    r"(?:平均|各|应当|应该|应|要|须|需|必须|均|都|原则上|一般|通常|分别|将|可|力争|确保|共有|共计|已有|现有|共|有|为|是|在)+$"
)
LEADING_VERB = re.compile(r"^(?:实现|建立|建成|完成|开展|进行|形成|达成|组织|推进|基本|全面|逐步)+")
FOLLOWING_STOP = re.compile(
    r"[,，;；:：。!?！？、()（）“”《》\n\d]|^[和与或及]|在|有|作为|进行|参加|参与|就读|并|且|用于|以及|开展|等"
    r"|应当|应该|必须"
)
SCOPE_WORD = re.compile(r"年级|学段|小学|初中|高中|幼儿园|城区|乡村|农村|城市")
ENUMERATION_HEAD = re.compile(r"^.*[^平均]等(?![级第待同于])(?=..)")  # `梯队等骨干教师` → 骨干教师
RATIO = re.compile(r"^(?P<subject>.+?)占(?P<base>.+?)的?(?:比例|比重|比率|份额)$")
MAX_SUBJECT = 12


# --- lexer ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexeme:
    """A character range of the text and its kind (NUM, UNIT, APPROX, SEP, CMP_PRE, CMP_POST, DE, SKIP)."""

    start: int
    end: int
    kind: str
    rule: str = ""


def skip_regions(text: str) -> list[Lexeme]:
    """The look-alike numbers of `text`, as SKIP lexemes named by the rule that caught them."""
    found: list[Lexeme] = []
    for rule, pattern in SKIP_PATTERNS:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(Lexeme(m.start(), m.end(), "SKIP", rule))
    return found


def _covered(pos: int, regions: list[Lexeme]) -> bool:
    return any(r.start <= pos < r.end for r in regions)


def _overlaps(start: int, end: int, regions: list[Lexeme]) -> bool:
    return any(r.start < end and start < r.end for r in regions)


def _match_number(text: str, pos: int) -> tuple[int, int] | None:
    """A valid number starting exactly at `pos`, as (start, end); `万`/`亿` before `元` belongs to the unit."""
    m = NUMBER_RE.match(text, pos)
    end = match_end(text, m) if m else None
    if m is None or end is None:
        return None
    if text[end - 1] in "万亿" and text[end:end + 1] == "元":
        end -= 1
    if text.startswith("个半", end):  # 一个半小时 is one and a half hours
        end += 2
    if end <= pos or parse_number(text[pos:end]) is None:
        return None
    return pos, end


def _is_chinese_numeral(s: str) -> bool:
    return all(c in CN_NUMERAL_CHARS for c in s)


def _bound_in_word(text: str, start: int, end: int, words: list[tuple[int, int]]) -> bool:
    """A Chinese numeral that is part of a longer word (`四川`, `一切`, `十足`, `村两委`, `三好学生`, `之一`) names
    something; it counts nothing. A word that only adds a unit or a comparator (`三个`, `近三年`) is fine."""
    if not _is_chinese_numeral(text[start:end]):
        return False
    # A lone Chinese digit glued to a character that counts nothing (`一看`, `三好`, `五育`, `两岸`) names or
    # describes; a quantity takes a classifier (`一只`, `三所`, `九成`).
    after = text[end:end + 1]
    if end - start == 1 and "\u4e00" <= after <= "\u9fff" and after not in CN_NUMERAL_CHARS + FUNCTION_CHARS \
            and after not in CLASSIFIERS and not UNIT_RE.match(text, end) and not APPROX_RE.match(text, end) \
            and not POST_RE.match(text, end) and after not in "分点半":
        return True
    for w_start, w_end in words:
        if w_start <= start < w_end:
            if w_end < end and w_start == start:
                return False
            right, left = text[end:w_end], text[w_start:start]
            right_ok = not right or bool(
                UNIT_RE.match(right) or APPROX_RE.match(right) or POST_RE.match(right) or right[0] in "分点半"
                or right[0] in CLASSIFIERS or right[0] in "到至和与或、")
            left_ok = not left or left[-1] in PRE_COMPARATORS_ADJACENT or bool(PRE_RE.fullmatch(left)) \
                or left[-1] in "共有为是每前后这那"
            return not (right_ok and left_ok)
    return False


def _lex_quantity(text: str, start: int, end: int, out: list[Lexeme]) -> int:
    """Lex the approximation, unit, range and suffix comparator after a number; return where it stops."""
    out.append(Lexeme(start, end, "NUM"))
    pos = end
    m = APPROX_RE.match(text, pos)
    if m:
        out.append(Lexeme(pos, m.end(), "APPROX"))
        pos = m.end()
    m = UNIT_RE.match(text, pos)
    # A lone Chinese digit before 元 is a word (`城乡二元结构`, `一元化`): amounts of money are written in digits.
    if m and not (m.group().strip() == "元" and len(text[start:end]) == 1 and _is_chinese_numeral(text[start:end])):
        out.append(Lexeme(pos, m.end(), "UNIT"))
        pos = m.end()
    for sep_re, closing in ((SEP_RE, None), (BETWEEN_SEP_RE, BETWEEN_END_RE)):
        sep = sep_re.match(text, pos)
        if not sep or sep.end() <= pos:
            continue
        second = _match_number(text, sep.end())
        low, high = parse_number(text[start:end]), parse_number(text[second[0]:second[1]]) if second else None
        if not (second and low and high and low.value <= high.value):
            continue
        tail: list[Lexeme] = []
        stop = _lex_quantity(text, second[0], second[1], tail)
        if closing is not None:
            close = closing.match(text, stop)
            if not close:
                continue
            tail.append(Lexeme(stop, close.end(), "CMP_POST"))
            stop = close.end()
        out.append(Lexeme(pos, sep.end(), "SEP"))
        out.extend(tail)
        return stop
    m = POST_RE.match(text, pos)
    if m:
        out.append(Lexeme(pos, m.end(), "CMP_POST"))
        pos = m.end()
    return pos


def _jieba_words(text: str) -> list[tuple[int, int]]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [(start, end) for _, start, end in jieba.tokenize(text)]


def lex(text: str, words: list[tuple[int, int]] | None = None) -> list[Lexeme]:
    """Cut `text` into quantity lexemes and SKIP regions, sorted by position and never overlapping.

    `words` are the segmenter's word boundaries (jieba's, computed when not given): a Chinese numeral bound
    inside a longer word is no number.
    """
    text = fold(text)  # one character for one, so offsets stay those of the original
    words = _jieba_words(text) if words is None else words
    skips = skip_regions(text)
    # Merge overlapping skip regions so each character belongs to at most one.
    merged: list[Lexeme] = []
    for region in sorted(skips, key=lambda r: (r.start, -r.end)):
        if merged and region.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Lexeme(last.start, max(last.end, region.end), "SKIP", last.rule)
        else:
            merged.append(region)
    out: list[Lexeme] = list(merged)
    quantities: list[Lexeme] = []
    pos = 0
    while pos < len(text):
        m = NUMBER_RE.search(text, pos)
        if not m:
            break
        if _covered(m.start(), merged):
            pos = m.start() + 1
            continue
        number = _match_number(text, m.start())
        if number is None or _bound_in_word(text, number[0], number[1], words):
            pos = m.end()
            continue
        lexed: list[Lexeme] = []
        stop = _lex_quantity(text, number[0], number[1], lexed)
        lexed = [x for x in lexed if not _overlaps(x.start, x.end, merged)]
        if not lexed or lexed[0].kind != "NUM":
            pos = m.end()
            continue
        quantities.extend(lexed)
        prev = number[0] - 1
        if prev >= 0 and text[prev] == "的":
            quantities.append(Lexeme(prev, number[0], "DE"))
        elif prev >= 0 and text[prev] in PRE_COMPARATORS_ADJACENT and not _covered(prev, merged):
            quantities.append(Lexeme(prev, number[0], "CMP_PRE"))
        pos = max(stop, m.start() + 1)
    taken = merged + quantities
    for m in PRE_RE.finditer(text):
        if not _overlaps(m.start(), m.end(), taken):
            out.append(Lexeme(m.start(), m.end(), "CMP_PRE"))
    out.extend(quantities)
    return sorted(out, key=lambda x: x.start)


# --- spaCy pipeline ------------------------------------------------------------------------------------

NUMQ: list[dict[str, Any]] = [
    {"_": {"qk": "NUM"}}, {"_": {"qk": "APPROX"}, "OP": "?"}, {"_": {"qk": "UNIT"}, "OP": "?"},
]
RANGEQ = [*NUMQ, {"_": {"qk": "SEP"}}, *NUMQ]
POSTQ: list[dict[str, Any]] = [{"_": {"qk": "CMP_POST"}, "OP": "?"}]
PREQ: list[dict[str, Any]] = [
    {"_": {"qk": "CMP_PRE"}}, {"_": {"qk": {"IN": ["WORD", "DE", "SPACE"]}}, "OP": "{0,10}"},
]
MATCHER_PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    "QUANTITY": [[*NUMQ, *POSTQ], [*RANGEQ, *POSTQ]],
    "COMPARED": [[*PREQ, *NUMQ, *POSTQ], [*PREQ, *RANGEQ, *POSTQ]],
}


class QuantityTagger:
    """spaCy component: retokenize lexemes into single tokens, then assemble quantities with a Matcher."""

    def __init__(self, nlp: Any, name: str) -> None:
        from spacy.matcher import Matcher

        self.name = name
        self.matcher = Matcher(nlp.vocab)
        for key, patterns in MATCHER_PATTERNS.items():
            self.matcher.add(key, patterns, greedy="LONGEST")

    def __call__(self, doc: Any) -> Any:
        from spacy.util import filter_spans

        # spaCy keeps a space as the whitespace of the token before it, so a lexeme ends at its text.
        lexemes = [x for x in (_trimmed(x, doc.text) for x in lex(doc.text, [(t.idx, t.idx + len(t.text)) for t in doc]))
                   if x.end > x.start]
        _align_tokens(doc, lexemes)
        for token in doc:
            if token.text.strip() == "":
                token._.qk = "SPACE" if "\n" not in token.text else "PUNCT"
            else:
                token._.qk = "PUNCT" if all(c in PUNCT for c in token.text) else "WORD"
        for x in lexemes:
            span = doc.char_span(x.start, x.end)
            if span is not None:
                for token in span:
                    token._.qk = x.kind
        spans = self.matcher(doc, as_spans=True)
        doc.spans["quantities"] = filter_spans(spans)
        return doc


def _trimmed(x: Lexeme, text: str) -> Lexeme:
    piece = text[x.start:x.end]
    start = x.start + len(piece) - len(piece.lstrip())
    return Lexeme(start, max(start, x.start + len(piece.rstrip())), x.kind, x.rule)


def _align_tokens(doc: Any, lexemes: list[Lexeme]) -> None:
    """Split tokens at lexeme boundaries, then merge each lexeme into one token."""
    bounds = {b for x in lexemes for b in (x.start, x.end)}
    with doc.retokenize() as retokenizer:
        for token in doc:
            cuts = [b - token.idx for b in sorted(bounds) if token.idx < b < token.idx + len(token.text)]
            if cuts:
                edges = [0, *cuts, len(token.text)]
                pieces = [token.text[a:b] for a, b in zip(edges, edges[1:], strict=False)]
                retokenizer.split(token, pieces, heads=[(token, i) for i in range(len(pieces))])
    with doc.retokenize() as retokenizer:
        for x in lexemes:
            span = doc.char_span(x.start, x.end)
            if span is not None and len(span) > 1:
                retokenizer.merge(span)


@functools.cache
def nlp() -> Any:
    """The blank Chinese pipeline with the jieba segmenter and the quantity tagger, built once."""
    import logging

    import jieba
    import spacy
    from spacy.language import Language
    from spacy.tokens import Token

    jieba.setLogLevel(logging.WARNING)
    if not Token.has_extension("qk"):
        Token.set_extension("qk", default="WORD")
    if "policykb_quantities" not in Language.factories:
        Language.factory("policykb_quantities", func=QuantityTagger)
    pipeline = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    pipeline.add_pipe("policykb_quantities")
    return pipeline


# --- post-processing -----------------------------------------------------------------------------------


@dataclass
class _Candidate:
    start: int
    end: int
    comparator: str
    value: float | list[float]
    unit: str | None
    pre: str | None
    post: str | None
    gap: str
    chinese_one: bool

    @property
    def is_window(self) -> bool:
        return self.unit in TIME_UNITS and self.post in ("内", "以内", "之内")


def _candidate(span: Any) -> _Candidate | None:
    """Read comparator, value and unit off one matched span."""
    kinds: dict[str, list[Any]] = {}
    for token in span:
        kinds.setdefault(token._.qk, []).append(token)
    parsed = [parse_number(t.text) for t in kinds.get("NUM", [])]
    nums = [n for n in parsed if n is not None]
    if not nums or len(nums) < len(parsed):
        return None
    units = [fold(t.text).strip() for t in kinds.get("UNIT", [])]
    unit = units[-1] if units else next((n.unit for n in nums if n.unit), None)
    values = [n.value for n in nums]
    # Neighbouring digits (`两三所`) are a range; a vague range of a share (`二三十个百分点`) is no value.
    if len(nums) == 1 and nums[0].comparator == "range" and nums[0].high is not None:
        if unit in ("%", "成", "个百分点", "百分点"):
            return None
        values = [nums[0].value, nums[0].high]
    if unit == "成":  # 七成 is seventy percent
        values, unit = [v * 10 for v in values], "%"
    pre_tokens = kinds.get("CMP_PRE", [])
    pre = fold(pre_tokens[0].text) if pre_tokens else None
    post = kinds["CMP_POST"][0].text if "CMP_POST" in kinds else None
    approx_words = [t.text for t in kinds.get("APPROX", [])]
    approx = next((n.comparator for n in nums if n.comparator in (">", "~")), None)
    if approx_words:
        approx = "~" if approx_words[0] == APPROX_ABOUT else ">"
    gap_tokens = [t for t in span if t._.qk in ("WORD", "DE")]
    gap = "".join(t.text for t in gap_tokens)
    value: float | list[float]
    if len(values) == 2:
        comparator, value = "range", [values[0], values[1]]
    else:
        value = values[0]
        comparator = _comparator(pre, post, approx)
    first_num = kinds["NUM"][0].text
    return _Candidate(span.start_char, span.end_char, comparator, value, unit, pre, post, gap,
                      chinese_one=first_num in ("一", "壹") and len(values) == 1)


def _comparator(pre: str | None, post: str | None, approx: str | None) -> str:
    """Combine prefix, suffix and approximation words into one comparator."""
    pre_cmp = PRE_COMPARATORS.get(pre or "") or PRE_COMPARATORS_ADJACENT.get(pre or "")
    post_cmp = POST_COMPARATORS.get(post or "")
    if pre_cmp and pre not in WEAK_PRE:
        return pre_cmp
    if post_cmp:
        return post_cmp
    if pre_cmp:
        return pre_cmp
    return approx or "="


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    s = max((text.rfind(c, 0, start) for c in SENTENCE_END), default=-1) + 1
    ends = [i for i in (text.find(c, end) for c in SENTENCE_END) if i >= 0]
    return s, min(ends) if ends else len(text)


def _segment_start(text: str, pos: int, floor: int) -> int:
    """Where the phrase ending at `pos` begins: after the last boundary mark, never before `floor`."""
    return max(floor, max((text.rfind(c, 0, pos) for c in SEGMENT_BOUNDARY), default=-1) + 1)


def _strip_context(phrase: str) -> str:
    """Remove periods, windows, distributive scopes and modal words around a subject."""
    phrase = FREQUENCY_RE.sub("", phrase)
    phrase = re.sub(rf"{_NUM_CN_OR_DIGIT}(?:{SEP_RE.pattern}{_NUM_CN_OR_DIGIT})?\s*(?:个)?(?:年|月|学期)(?:内|以内|之内)",
                    "", phrase)
    phrase = DEADLINE_RE.sub("", phrase)
    phrase = DISTRIBUTIVE.sub("", phrase)
    phrase = PER_BASIS.sub("", phrase)
    for _ in range(2):
        phrase = LEADING_NOISE.sub("", phrase)
        phrase = LOCATIVE_SCOPE.sub("", phrase)
        phrase = DETERMINER.sub("", phrase)
        phrase = TRAILING_NOISE.sub("", phrase)
    return phrase.strip()


def _shorten(phrase: str) -> str | None:
    """Keep a subject short: drop an `X等` list head, cut after the last 的, else keep the tail words."""
    phrase = ENUMERATION_HEAD.sub("", phrase)
    if len(phrase) > MAX_SUBJECT and "的" in phrase[:-4]:
        phrase = phrase[phrase.rindex("的", 0, len(phrase) - 4) + 1:]
    if len(phrase) > MAX_SUBJECT:
        # Keep whole words from the end, so a cut never splits one (`高中名额` → `名额`).
        words = [t.text for t in nlp().tokenizer(phrase)]
        tail: list[str] = []
        while words and sum(map(len, tail)) + len(words[-1]) <= MAX_SUBJECT:
            tail.insert(0, words.pop())
        if len(tail) > 1 and tail[0] in ORPHAN_LOCATIVES:
            tail.pop(0)  # `区域|内所有…学校`: the cut took the place off its 内
        phrase = "".join(tail) or phrase[-MAX_SUBJECT:]
        # a cut that took the stage off its 阶段 (`小学|阶段课后服务性收费标准`) drops the orphan word too
        phrase = re.sub(r"^(?:阶段|学段|时期)", "", phrase)
    return phrase if len(phrase) >= 2 else None


def _split_ratio(phrase: str) -> tuple[str, str | None]:
    """`A占B的比例` → (A, B); anything else → (phrase, None)."""
    m = RATIO.match(phrase)
    return (m.group("subject"), m.group("base")) if m else (phrase, None)


def _following_phrase(text: str, end: int, limit: int) -> str:
    """The noun phrase right after a quantity (`1门共享课程` → 共享课程), up to a stop word or mark."""
    rest = text[end:limit].lstrip()
    rest = rest[1:] if rest.startswith("的") else rest
    m = FOLLOWING_STOP.search(rest)
    return rest[: m.start()] if m else rest


def _subject_and_base(text: str, cand: _Candidate, floor: int, sent_start: int) -> tuple[str | None, str | None]:
    """The thing measured, and the base of a ratio, from the words around the quantity."""
    base = cand.gap[:-1] if cand.gap.endswith("的") and len(cand.gap) > 2 else None
    base = LEADING_NOISE.sub("", base) if base else None
    following = _following_phrase(text, cand.end, len(text))
    if following and not cand.is_window:
        return _shorten(following), base
    seg_start = _segment_start(text, cand.start, floor)
    local = _strip_context(text[seg_start:cand.start])
    # `比例:一至六年级15%左右`: the segment is a scope; the subject is the list's lead-in.
    colon = max(text.rfind(":", sent_start, seg_start), text.rfind("：", sent_start, seg_start))
    if colon >= 0 and len(local) <= 8 and (not local or SCOPE_WORD.search(local)):
        head_start = _segment_start(text, colon, sent_start)
        head, head_base = _split_ratio(_strip_context(text[head_start:colon]))
        head_short = _shorten(head)
        if head_short:
            return (f"{head_short}({local})" if local else head_short), base or head_base
    local, ratio_base = _split_ratio(local)
    return _shorten(local), base or ratio_base


def _window_subject(text: str, cand: _Candidate, limit: int) -> str | None:
    """What a window requires: `3年内实现全覆盖` → 全覆盖, `3-5年内开展一次复核` → 复核."""
    rest = text[cand.end:limit]
    m = re.search(r"[,，;；:：。!?！？]", rest)
    rest = rest[: m.start()] if m else rest
    rest = LEADING_VERB.sub("", rest)
    rest = re.sub(r"^(?:一|1)次", "", rest)
    rest = LEADING_VERB.sub("", rest)
    if len(rest) > MAX_SUBJECT and "的" in rest[:-2]:
        rest = rest[rest.rindex("的", 0, len(rest) - 2) + 1:]
    return _shorten(rest)


CIRCUMSTANCE = re.compile(r"在.{1,30}(?:基础上|前提下|过程中|背景下|条件下)")


def _horizon_subject(text: str, start: int, limit: int) -> str | None:
    """What a plan horizon achieves: the phrase after `通过3年努力,` / `用3年左右的时间` up to the next break
    (`打造一批…特色项目` → 特色项目, `逐步提升薄弱学校办学水平` → 提升薄弱学校办学水平)."""
    rest = text[start:limit].lstrip(",，;；:： ")
    parts = [p for p in re.split(r"[,，;；:：。!?！？]", rest) if p.strip()]
    # a circumstance (在…的基础上, 在…背景下) sets the scene; the goal is the next part
    while len(parts) > 1 and CIRCUMSTANCE.fullmatch(parts[0]):
        parts.pop(0)
    rest = parts[0] if parts else ""
    rest = re.sub(r"^(?:力争|争取|逐步|基本|全面|进一步)+", "", rest)
    rest = LEADING_VERB.sub("", rest)
    return _shorten(rest)


def _kind(text: str, cand: _Candidate, sent_start: int, following: str) -> str | None:
    """`requirement`, `statistic`, or None when a bare number measures nothing."""
    # Mask past narration in place so offsets stay valid; cues may look one character past the number.
    sentence = PAST_SPAN.sub(lambda m: "从" + "_" * (len(m.group()) - 1), text[sent_start:cand.end])
    rel = cand.start - sent_start
    stat = [m.end() for m in STATISTIC_CUE.finditer(sentence) if m.start() < rel]
    # 达到 sets a target only where the sentence does not report (`近年来…取得长足进步，…毛入学率达到117.25%`):
    # after a report cue it reaches a fact, unless a modal word (应, 力争, 确保…) speaks of the future.
    reported = [m.start() for m in STATISTIC_CUE.finditer(sentence) if m.start() < rel]
    modal_at = [m.start() for m in MODAL_CUE.finditer(sentence) if m.start() < rel]
    req = [m.end() for m in REQUIREMENT_CUE.finditer(sentence) if m.start() < rel
           and not (m.group() == "达到" and reported and not modal_at and min(reported) < m.start())]
    if QUALIFICATION.search(following):
        req.append(rel)
    req.extend(_target_cues(text, cand, sent_start, sentence, rel))
    # An explicit bound (`累计不少于360学时`) is itself a requirement word, nearer than the cue before it.
    # ...unless a past-fact word sits right before it (`已有不少于100所`).
    # A descriptive comparator (`超过41万人`) states a fact as readily: it is no requirement word by itself.
    explicit = cand.pre and cand.pre not in WEAK_PRE | ESTIMATES | DESCRIPTIVE_PRE
    if explicit and not PAST_FACT.search(sentence[:rel]):
        req.append(rel + 1)
    # `预计到2025年达到…`, `未来3-5年…有望缩小`: a forecast anywhere in the sentence, unless a requirement word
    # stands between it and the number.
    whole = text[sent_start:_sentence_bounds(text, cand.start, cand.end)[1]]
    forecasts = [m.end() for m in FORECAST_CUE.finditer(whole)]
    forecast_before = [f for f in forecasts if f <= rel]
    # Only a modal word outweighs a forecast: a deadline or 达到 belongs to the forecast as much (`预计到2025年…达到`).
    modal = [m.end() for m in MODAL_CUE.finditer(sentence) if m.start() < rel]
    if (forecast_before and (not modal or max(forecast_before) >= max(modal))) or (forecasts and not modal):
        return None
    if stat and (not req or max(stat) >= max(req)):
        return "statistic"
    if req:
        return "requirement"
    if cand.comparator == "=":
        return None
    # `19万余名`, `约3万人` estimate a fact; `10个左右` in a plan is a target.
    if cand.pre in ESTIMATES | DESCRIPTIVE_PRE or (cand.comparator == ">" and cand.pre is None and cand.post is None):
        return "statistic"
    return "requirement"


def _target_cues(text: str, cand: _Candidate, sent_start: int, sentence: str, rel: int) -> list[int]:
    """Requirement cues of counts and amounts inside the number's own phrase: a target verb before a count
    (`培育80个`, `新建学校8所`), a per-basis before an amount (`每生每课时2元`); none when that phrase narrates
    the past (`已建成10所`, anywhere before it in the sentence) or the count is an estimate (`500余个`)."""
    seg_rel = _segment_start(text, cand.start, sent_start) - sent_start
    if any(m.start() < rel for m in STATISTIC_CUE.finditer(sentence)) or NARRATION.search(sentence[seg_rel:rel]):
        return []  # a sentence that reports (`近三年来,全区共新建学校12所`) keeps its numbers as facts
    if cand.comparator == ">" and cand.pre is None and cand.post is None:
        return []  # `组建500余个`: a target is never written as an estimate; a count with 余/多 reports a fact
    phrase = sentence[seg_rel:rel]
    found = []
    if cand.unit in COUNT_UNITS:
        found += [seg_rel + m.end() for m in TARGET_VERB.finditer(phrase)]
    if cand.unit in MONEY_UNITS:
        found += [seg_rel + m.end() for m in BASIS_RE.finditer(phrase)]
        if RATE_SUFFIX.match(text, cand.end):
            found.append(rel)
    return found[-1:]


def rate_suffix(text: str, end: int) -> tuple[str, int] | None:
    """The basis an amount ending at `end` is written per (`1.0元/生·小时` → 每生每小时) and where it ends."""
    m = RATE_SUFFIX.match(text, end)
    if m is None:
        return None
    return "".join(f"每{part}" for part in (m.group("who"), m.group("per")) if part), m.end()


def per_basis(text: str, start: int, floor: int) -> str | None:
    """What an amount starting at `start` is paid per, from its phrase: `每生每课时2元` → 每生每课时."""
    seg = _segment_start(text, start, floor)
    found = [m.group() for m in BASIS_RE.finditer(text, seg, start)]
    return "".join(found) or None


def _amount_subject(text: str, cand: _Candidate, floor: int, end: int | None = None) -> str | None:
    """What an amount is for, when a standard states it (`补助标准为小学每生每年1000元`,
    `课后服务经费按每生每学期300元的标准予以补助`): the words before the 为/按 that introduces the amount.
    `end`: where the amount's writing ends (after a rate such as `/生·小时`)."""
    following = _following_phrase(text, end or cand.end, len(text))
    if following and not following.startswith("标准"):
        return None
    phrase = text[_segment_start(text, cand.start, floor):cand.start]
    m = AMOUNT_INTRO.search(phrase)
    if m is None:
        return None
    return _shorten(_strip_context(phrase[: m.start()]))


def _counted_noun(subject: str) -> str:
    """A count's subject is the thing counted: `设立党组织` → 党组织, `遴选市级新优质学校` kept as 市级新优质学校."""
    m = TARGET_VERB.match(subject)
    rest = subject[m.end():] if m else subject
    if rest[:1] in COORDINATORS:  # 新建和改扩建中小学: the verbs are coordinated, the noun comes after both
        m = TARGET_VERB.match(rest[1:])
        rest = rest[1 + m.end():] if m else subject
    return rest if len(rest) >= 2 else subject


def _measures_something(cand: _Candidate) -> bool:
    """Drop bare numbers that only structure or decorate the text."""
    if cand.comparator != "=":
        return True
    if cand.unit is None or cand.chinese_one or cand.unit in CATEGORY_UNITS:
        return False
    return True


def _clause_segments(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """The comma, semicolon and colon parts of the sentence text[lo:hi] (the folded view: ASCII marks)."""
    bounds = [lo] + [m.end() for m in PERIOD_SEGMENT_BREAK.finditer(text, lo, hi)] + [hi]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def _governed_by_frequency(text: str, spans: list[tuple[int, int]], sent_start: int, sent_end: int,
                           duration: list[bool]) -> dict[int, tuple[int, str]]:
    """For the quantities at `spans` (one sentence's, in order), the frequency (每年, 每学期…) each one takes.

    A frequency governs the quantities after it in its own comma/semicolon part (up to the next frequency), else
    the nearest one before it in that part: `每年流入…20%,其中骨干教师不低于30%` gives 每年 to 20% only. A part
    that is nothing but a lead-in (`每学年,…`, `每学年…的比例:一至六年级15%…;七到九年级20%…`) governs the rest
    of the sentence, except durations (`流动期限不少于3年`), which are no amount per year.
    """
    found = [m for m in FREQUENCY_RE.finditer(text, sent_start, sent_end)
             if not any(a < m.end() and m.start() < b for a, b in spans)]
    governed: dict[int, tuple[int, str]] = {}
    for lo, hi in _clause_segments(text, sent_start, sent_end):
        inside = [i for i, (a, _) in enumerate(spans) if lo <= a < hi]
        for f in (m for m in found if lo <= m.start() < hi):
            nxt = min((m.start() for m in found if m.start() > f.start()), default=sent_end)
            after = [i for i in inside if f.end() <= spans[i][0] < nxt]
            before = [i for i in inside if spans[i][1] <= f.start()]
            if after:
                chosen = after
            elif before:
                chosen = before[-1:]
            elif not inside:  # a lead-in: the rest of the sentence, until another frequency takes over
                chosen = [i for i, (a, _) in enumerate(spans) if f.end() <= a < nxt and not duration[i]]
            else:
                chosen = []
            for i in chosen:
                governed[i] = (f.start(), f.group())
    return governed


def _period(text: str, start: int, sent_start: int, frequency: tuple[int, str] | None,
            windows: list[tuple[int, str]]) -> str | None:
    """The quantity's frequency or the nearest window before it in its sentence, whichever is nearer; else the
    sentence's last deadline before it."""
    found = ([frequency] if frequency else []) + [w for w in windows if sent_start <= w[0] < start]
    if found:
        return max(found)[1]
    deadlines = list(DEADLINE_RE.finditer(PAST_SPAN.sub("", text[sent_start:start])))
    return deadlines[-1].group().strip() if deadlines else None


def _extract(doc: Any, written: str) -> list[dict[str, Any]]:
    """Requirement fields (without clause fields) for one doc processed from fold_for_matching(written).

    Patterns read the folded view; the span is sliced from `written`, the clause text as the reader sees it.
    """
    text = doc.text
    cands = [c for c in (_candidate(s) for s in doc.spans["quantities"]) if c is not None]
    results: list[dict[str, Any]] = []
    windows: list[tuple[int, str]] = []  # (position, text) of windows and horizons that are periods
    for i, cand in enumerate(cands):
        sent_start, sent_end = _sentence_bounds(text, cand.start, cand.end)
        later = [c for c in cands[i + 1:] if c.start < sent_end and _measures_something(c) and not c.is_window]
        after = text[cand.end:sent_end]
        horizon = (
            cand.unit == "年" and HORIZON_BEFORE.search(text[sent_start:cand.start]) is not None
            and HORIZON_AFTER.match(after) is not None
        )
        if horizon:
            lead = cand.end + HORIZON_AFTER.match(after).end()  # type: ignore[union-attr]
            part = PERIOD_SEGMENT_BREAK.search(text, lead, sent_end)
            part_end = part.start() if part else sent_end
            # `经过3年努力,` leads the sentence: the quantities after it are due within 3 years. With a goal of
            # its own (`力争用3至5年的时间实现…常态化,教师…任教1年以上的工作经历`) it governs only its part.
            goal_of_its_own = len(text[lead:part_end].strip()) >= 2
            governed = [c for c in later if c.start < part_end] if goal_of_its_own else later
            if governed:
                windows.append((cand.start, f"{text[cand.start:cand.end].removesuffix('左右')}内"))
                continue
            # Alone, the horizon is the plan's own span (通过3年努力, 力争用3至5年的时间): the value a planner
            # compares as a plan period; what it achieves is its subject. The year sense of the phrase (努力, 用…
            # 时间) keeps it apart from tenures and ages in the comparison.
            results.append({
                "span": written[cand.start:cand.end], "span_start": cand.start, "span_end": cand.end,
                "subject": _horizon_subject(text, lead, sent_end),
                "comparator": cand.comparator, "value": cand.value, "unit": cand.unit, "period": None,
                "base": None, "kind": "requirement", "_end": cand.end, "_window": True,
                "_sentence": (sent_start, sent_end), "_duration": True,
            })
            continue
        if cand.is_window and later:
            windows.append((cand.start, text[cand.start:cand.end]))
            continue
        previous = cands[i - 1] if i else None
        coordinated = (
            previous is not None
            and cand.comparator == "="
            and previous.comparator not in ("=", "range")
            and text[previous.end : cand.start] in COORDINATORS
            and cand.unit in (None, previous.unit)
        )
        if coordinated and previous is not None:
            # `分别不高于0.50和0.45`: a bare number joined to a bounded one shares its bound and unit.
            cand.comparator, cand.unit, cand.pre = previous.comparator, previous.unit, previous.pre
        if not _measures_something(cand):
            continue
        if cand.unit == "%" and text[cand.start - 1:cand.start] in SELECTOR_MARKS and text[cand.end:cand.end + 1] == "的":
            continue  # 后50%的学校, 前30%的学生: a share that picks out whom the requirement is about sets nothing
        floor = max([sent_start] + [r["_end"] for r in results if r["_end"] <= cand.start])
        following = _following_phrase(text, cand.end, sent_end)
        if cand.comparator == "=" and STRUCTURE_NOUN.match(following):
            continue
        kind = "requirement" if cand.is_window else _kind(text, cand, sent_start, following)
        if kind is None:
            continue
        if cand.is_window:
            subject, base = _window_subject(text, cand, sent_end), None
        elif coordinated and results and results[-1]["_end"] == cands[i - 1].end:
            subject, base = results[-1]["subject"], results[-1]["base"]
        else:
            subject, base = _subject_and_base(text, cand, floor, sent_start)
        span_end = cand.end
        if cand.unit in MONEY_UNITS:
            rate = rate_suffix(text, cand.end)
            base = per_basis(text, cand.start, floor) or (rate[0] if rate else None) or base
            amount_subject = _amount_subject(text, cand, floor, rate[1] if rate else None)
            if rate:
                span_end = rate[1]  # the span reads as the standard is written: 1.0元/生·小时
                # the words after a rate are not what is paid (`300元/人·月`): the phrase before the amount is
                before = text[_segment_start(text, cand.start, floor):cand.start]
                amount_subject = amount_subject or _shorten(_strip_context(before)) or None
            subject = amount_subject or subject
        elif cand.unit in COUNT_UNITS and subject:
            subject = _counted_noun(subject)
        results.append({
            "span": written[cand.start:span_end], "span_start": cand.start, "span_end": span_end,
            "subject": subject, "comparator": cand.comparator, "value": cand.value, "unit": cand.unit,
            "period": None, "base": base, "kind": kind, "_end": cand.end,
            "_window": cand.is_window, "_sentence": (sent_start, sent_end), "_duration": cand.unit in TIME_UNITS,
        })
    results.extend(_full_coverage(text, written, results, windows))
    results.sort(key=lambda r: r["span_start"])
    _assign_periods(text, results, windows)
    for r in results:
        for key in ("_end", "_window", "_sentence", "_duration"):
            del r[key]
    return results


def _full_coverage(text: str, written: str, found: list[dict[str, Any]],
                   windows: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """`实现…全覆盖` sets a coverage of 100% in words: a requirement when a target cue governs it (到2023年, 确保,
    力争…, or a horizon leading its sentence: 经过3年努力,…实现…全覆盖), like a number would be; a vision (`描绘全域覆盖的图景`) or a report (`已实现全覆盖`) sets none. The share in
    its subject (`教育质量后50%的学校…全覆盖`) selects what is covered; it is not the coverage."""
    out: list[dict[str, Any]] = []
    for m in FULL_COVERAGE.finditer(text):
        if any(r["span_start"] < m.end() and m.start() < r["span_end"] for r in found):
            continue
        cand = _Candidate(m.start(), m.end(), "=", 100.0, "%", None, None, "", chinese_one=False)
        sent_start, sent_end = _sentence_bounds(text, m.start(), m.end())
        governed = any(sent_start <= pos < m.start() for pos, _ in windows)
        if not governed and _kind(text, cand, sent_start, _following_phrase(text, m.end(), sent_end)) != "requirement":
            continue
        # the phrase before, across a parenthesis and the selector's share: 实现教育质量后50%的学校集团化办学(含教共体)
        lead = max([sent_start] + [text.rfind(c, sent_start, m.start()) + 1 for c in PHRASE_BREAK])
        before = re.sub(r"[(（][^()（）]*[)）]", "", text[lead:m.start()])
        subject = _shorten(LEADING_VERB.sub("", _strip_context(DEADLINE_RE.sub("", before)))) or None
        out.append({
            "span": written[m.start():m.end()], "span_start": m.start(), "span_end": m.end(), "subject": subject,
            "comparator": "=", "value": 100.0, "unit": "%", "period": None, "base": None, "kind": "requirement",
            "_end": m.end(), "_window": False, "_sentence": (sent_start, sent_end), "_duration": False,
        })
    return out


def _assign_periods(text: str, results: list[dict[str, Any]], windows: list[tuple[int, str]]) -> None:
    """Set each result's period once all quantities of its sentence are known (see _governed_by_frequency)."""
    sentences: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in results:
        if not r["_window"]:
            sentences.setdefault(r["_sentence"], []).append(r)
    for (sent_start, sent_end), members in sentences.items():
        spans = [(r["span_start"], r["span_end"]) for r in members]
        governed = _governed_by_frequency(text, spans, sent_start, sent_end, [r["_duration"] for r in members])
        for i, r in enumerate(members):
            r["period"] = _period(text, r["span_start"], sent_start, governed.get(i), windows)


def _requirements(texts: Iterable[str]) -> list[list[dict[str, Any]]]:
    written = list(texts)
    docs = nlp().pipe(fold_for_matching(t) for t in written)
    return [_extract(doc, w) for doc, w in zip(docs, written, strict=True)]


def extract_from_text(text: str) -> list[Requirement]:
    """The requirements of one piece of cleaned text, with empty clause fields (for tests and highlighting)."""
    return [Requirement(clause_id="", doc_id="", region_id="", text=text, **fields)
            for fields in _requirements([text])[0]]


def extract_requirements(clauses: list[Clause]) -> list[Requirement]:
    """The requirements of every body clause, in clause order; headings, notices and signatures are skipped."""
    body = [c for c in clauses if c.role == "body"]
    out: list[Requirement] = []
    for clause, found in zip(body, _requirements(c.text for c in body), strict=True):
        out.extend(Requirement(clause_id=clause.clause_id, doc_id=clause.doc_id, region_id=clause.region_id,
                               text=clause.text, **fields) for fields in found)
    return out


def numbers_in(text: str) -> list[Found]:
    """The numbers of running text as the extractor sees them: `find_numbers` without numerals bound inside a
    word (`四川`, `一切`, `十足`). Dates, ordinals and names are still included (the tagger skips those later)."""
    words = _jieba_words(fold(text))
    return [f for f in find_numbers(text) if not _bound_in_word(fold(text), f.start, f.end, words)]


def quantities(text: str) -> list[tuple[str, str, float | list[float], str | None]]:
    """Every quantity the tagger assembles in `text`, as (span, comparator, value, unit), before deciding which
    are requirements: the comparator and range reading alone, for tests and benchmarks."""
    doc = nlp()(fold_for_matching(text))
    return [(text[c.start:c.end], c.comparator, c.value, c.unit)
            for c in (_candidate(s) for s in doc.spans["quantities"]) if c is not None]
