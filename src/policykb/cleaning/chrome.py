"""Remove what a scraper picked up besides the document: HTML leftovers, keyword spam and site chrome.

Rules describe how scraped Chinese pages look (widgets, labels, footers), not the lines of particular files.
Matching is done on a folded form of each line (pinyin annotations dropped, traditional → simplified,
NFKC), because the content farm mixes both into its chrome (`字號:`, `登錄 | 注冊`); the removed span is
always the original text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import cache

from policykb.cleaning.edits import apply_changes, iter_lines, stripped_span
from policykb.records import Change, CleanResult

# --- folding ---------------------------------------------------------------------------------------------

# A pinyin annotation: lower-case Latin letters, possibly with tone marks, inside ASCII or full-width parens.
PINYIN_GROUP = re.compile(r"[(（][a-zü\u00e0-\u00fc\u0101-\u01dc]{1,7}[)）]")


@cache
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """A matching form of `text`: no pinyin annotations, simplified characters, NFKC punctuation."""
    text = PINYIN_GROUP.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    return _t2s().convert(text) if text else text


# --- HTML leftovers --------------------------------------------------------------------------------------

HTML_TAG_NAMES = (
    "a abbr address article aside audio b base big blockquote body br button caption center cite code col "
    "colgroup dd del details div dl dt em embed fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 "
    "head header hr html i iframe img input ins kbd label legend li link main map mark meta nav noscript "
    "object ol optgroup option p param picture pre q s samp script section select small source span strike "
    "strong style sub summary sup svg table tbody td template textarea tfoot th thead time title tr tt u ul "
    "var video wbr"
).split()
MARKUP = re.compile(
    r"<!--.*?-->"
    r"|<!doctype[^<>]*>"
    r"|</?(?:" + "|".join(sorted(HTML_TAG_NAMES, key=len, reverse=True)) + r")\b[^<>]*/?>"
    r"|&(?:[a-z][a-z0-9]{1,31}|#[0-9]{1,7}|#x[0-9a-f]{1,6});",
    re.IGNORECASE | re.DOTALL,
)


def _unescape(entity: str) -> str:
    """Decode an entity completely (double-escaped `&amp;nbsp;` too); a no-break space becomes a space."""
    previous = None
    while previous != entity:
        previous, entity = entity, html.unescape(entity)
    return entity.replace("\xa0", " ")


def strip_html(text: str) -> CleanResult:
    """Delete HTML tags and comments and decode entities, repeating until no markup is left."""
    changes: list[Change] = []
    for offset, line in iter_lines(text):
        if "<" in line or "&" in line:
            changes.extend(_strip_line_markup(line, offset))
    return CleanResult(apply_changes(text, changes), changes)


def _strip_line_markup(line: str, offset: int) -> list[Change]:
    """Strip markup from one line by tracking which original characters survive, so nested tags vanish too."""
    kept = list(range(len(line)))  # original indices still present
    replaced: dict[int, str] = {}  # original index → the text it now stands for (a decoded entity)
    for _ in range(64):  # each round shortens the line, so this ends long before the cap
        pieces = [replaced.get(i, line[i]) for i in kept]
        owner = [k for k, piece in enumerate(pieces) for _ in piece]  # derived position → index in kept
        derived = "".join(pieces)
        drop: set[int] = set()
        changed = False
        for match in MARKUP.finditer(derived):
            token = match.group()
            covered = sorted({owner[p] for p in range(match.start(), match.end())})
            if token.startswith("&"):
                value = _unescape(token)
                if value == token:
                    continue  # not a known entity: leave the text alone
                replaced[kept[covered[0]]] = value
                drop.update(covered[1:])
            else:
                drop.update(covered)
            changed = True
        if not changed:
            break
        kept = [idx for k, idx in enumerate(kept) if k not in drop]
    kept_set = set(kept)
    changes: list[Change] = []
    i = 0
    while i < len(line):
        if i in kept_set and i not in replaced:
            i += 1
            continue
        start = i
        while i < len(line) and (i not in kept_set or i in replaced):
            i += 1
        after = "".join(replaced[j] for j in range(start, i) if j in kept_set)
        before = line[start:i]
        note = "entity" if before.startswith("&") and "<" not in before else "tag"
        changes.append(Change("html", before, after, offset + start, note))
    return changes


# --- line rules ------------------------------------------------------------------------------------------

# Adult and gambling spam a content farm injects as keyword lines. Strong terms hardly occur in policy text;
# weak ones do (精品课程, 在线教育), so they only count on a line that is already shaped like a keyword list.
SPAM_STRONG = (
    "无码", "有码", "人妻", "黄网", "黄色网", "色情", "色吧", "激情", "一区二区", "二区三区", "三区四区",
    "中文字幕", "日韩", "欧美", "久久", "gay", "偷拍", "三级片", "乱伦", "少妇", "丝袜",
    "裸聊", "性爱", "约炮", "博彩", "博采", "赌场", "百家乐", "六合彩", "时时彩", "娱乐城", "老虎机", "菠菜",
    "撸", "嫩模", "巨乳", "黄片", "毛片", "a片",
)
SPAM_WEAK = (
    "精品", "国产", "在线", "观看", "视频", "免费", "综合", "高清", "影院", "网站", "app", "拍摄", "专区",
    "直播", "导航", "下载", "91", "69", "成人", "亚洲", "亚州", "美女", "福利", "午夜", "自拍", "彩票", "棋牌",
    "porn", "av",
)
KEYWORD_SEPARATORS = re.compile(r"[,，、;；|/]+|\s{1,}")

# Widget words that make up navigation bars, share bars and page tools when a line holds nothing else.
NAV_WORDS = frozenset(
    "登录 登陆 注册 退出 首页 网站首页 返回首页 返回 网站地图 联系我们 设为首页 加入收藏 收藏 报错 纠错 热门 热点 "
    "复制 打印 打印本页 打印此页 打印文章 关闭 关闭窗口 关闭本页 返回顶部 顶部 置顶 上一篇 下一篇 上一条 下一条 "
    "相关阅读 相关文章 相关链接 推荐阅读 相关推荐 无障碍 长者模式 关怀版 简体 繁体 english 分享 分享到 点赞 评论 "
    "更多 没有更多了 大 中 小 默认 手机版 微博 微信 qq qq空间 朋友圈 新浪微博 腾讯微博 摘要 导读 保存 字号 字体"
    .split()
)
NAV_SPLIT = re.compile(r"[|｜丨/·•>»\s【】\[\]()<>:]+")
BREADCRUMB = re.compile(
    r"^(?:当前位置|您的位置|您现在的位置|所在位置|现在位置)\s*:|^首页\s*[>»]|^(?:上一篇|下一篇|上一条|下一条)\s*:"
)

# Labels of page metadata fields (`来源:区教育局 发布时间: 2023-06-07 浏览次数:`) and of the metadata tables
# of government sites (`信息索引号 | … | 成文日期 | …`). Plain 时间:/日期: are left alone: notices use them.
FIELD_LABELS = (
    "来源时间", "信息来源", "文章来源", "稿件来源", "来源", "稿源", "发布时间", "发布日期", "发表时间", "更新时间",
    "作者", "责任编辑", "编辑", "编审", "审核", "校对", "记者", "通讯员", "摄影", "供稿", "阅读量", "阅读数",
    "阅读", "浏览次数", "浏览量", "浏览", "点击数", "点击量", "点击率", "点击", "访问量", "访问次数", "字号", "字体",
    "分享到", "分享", "发布者", "发布人", "发布机构", "信息索引号", "索引号", "文件编号", "发文字号", "文号",
    "发文机关", "发文单位", "责任部门", "责任科室", "公开形式", "公开方式", "公开范围", "公开时限", "成文日期",
    "公开日期", "生效日期", "主题分类", "主题词", "体裁分类", "组配分类", "所属机构", "有效性", "信息类别",
)
TABLE_LABELS = frozenset(FIELD_LABELS[FIELD_LABELS.index("发布机构"):]) | {"发布日期", "来源", "发布时间"}
_LABELS = "|".join(FIELD_LABELS)
FIELD = re.compile(rf"(?:{_LABELS})为?\s*:\s*(?:[^|:]|(?<=\d):(?=\d)){{0,40}}?(?=\s*(?:\||$|(?:{_LABELS})为?\s*:))")
DATE_TIME = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
FIELD_RESIDUE = re.compile(r"[|\s·/【】\[\]()]+")

QR_TERMS = ("扫一扫", "扫一下", "二维码", "qr code", "qrcode", "扫码", "长按识别", "长按下方")
QR_CONTEXT = ("分享", "朋友圈", "关注", "保存", "打开", "识别", "本文", "本页", "手机", "微信", "公众号")
PAGE_TOOLS = re.compile(r"打印本页|打印此页|关闭窗口|关闭本页|返回顶部|【打印】|【关闭】|\[打印\]|\[关闭\]")
DISCLAIMER = re.compile(
    r"免责声明|版权所有|版权声明|来源于网络|来源于互联网|与本站无关|本站(?:不|仅|所有)|如有侵权|侵权请|"
    r"联系(?:我们)?删除|转载请注明|未经(?:授权|许可)|icp备|公网安备|^声明\s*:|^本文来源|文章来源于|"
    r"原文链接|网友慎重|仅供参考,不代表"
)
URL = re.compile(r"(?:https?://|www\.)[\w.-]+(?:/[\w./?=&%#-]*)?", re.IGNORECASE)
SITE_NAME = re.compile(r"^[\w\u4e00-\u9fff]{2,12}(?:网|网站|官网|门户|频道|在线)$")
SENTENCE_END = re.compile(r"[。!?;]")
ORG_SUFFIX = re.compile(r"(?:局|委员会|委|政府|办公室|办公厅|厅|部|中心|院|学校|公司|协会)$")
STANDALONE_DATE = re.compile(r"^(?:\d{4}|[〇零一二三四五六七八九○]{4})年[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日$")

LineRule = Callable[[str], bool]


def is_keyword_spam(folded: str) -> bool:
    """A line of adult/gambling keywords: a separator-joined list, no sentences, mostly spam vocabulary."""
    low = folded.lower()
    if "。" in low or len(low) > 600:
        return False
    items = [item for item in KEYWORD_SEPARATORS.split(low) if item]
    strong = sum(low.count(term) for term in SPAM_STRONG)
    if strong == 0:
        return False
    spammy = sum(1 for item in items if any(t in item for t in SPAM_STRONG + SPAM_WEAK))
    if len(items) >= 3:
        return spammy * 2 >= len(items) and spammy >= 2
    # A single run-together keyword phrase (无码国产精品在线观看) needs two strong terms.
    return strong >= 2 and len(low) <= 40


def is_navigation(folded: str) -> bool:
    """A bar of widget words only (登录 | 注册, 【打印本页】【关闭窗口】, 分享到:), or a breadcrumb trail."""
    if BREADCRUMB.search(folded):
        return True
    tokens = [t for t in NAV_SPLIT.split(folded.lower()) if t]
    return bool(tokens) and all(t in NAV_WORDS for t in tokens)


def is_field_line(folded: str) -> bool:
    """A line made only of page metadata fields (来源: 发布时间: 编辑: 阅读: 字号:) and dates."""
    body = folded.strip().strip("【】[]()")
    if not body or "。" in body:
        return False
    rest, count = FIELD.subn("", body)
    if count == 0:
        return False
    rest = DATE_TIME.sub("", rest)
    return not FIELD_RESIDUE.sub("", rest)


def is_metadata_table_row(folded: str) -> bool:
    """A row of a government site's metadata table: `|`-separated cells, one of them a known label."""
    if "|" not in folded:
        return False
    cells = [c.strip().rstrip(":") for c in folded.split("|")]
    return any(c in TABLE_LABELS for c in cells)


def is_separator_only(folded: str) -> bool:
    """Table borders and rules left over from layout: only |, -, _, = and the like."""
    return bool(folded.strip()) and not re.sub(r"[|_=*~\-—\s]", "", folded)


def is_qr_code(folded: str) -> bool:
    """QR-code captions (微信扫一扫分享, 扫一下二维码便可将本文分享至朋友圈, QR Code)."""
    low = folded.lower()
    if "。" in low or len(low) > 50 or not any(t in low for t in QR_TERMS):
        return False
    return len(low) <= 12 or any(c in low for c in QR_CONTEXT)


def is_page_tool(folded: str) -> bool:
    """Print / close / back-to-top links."""
    return len(folded) <= 60 and bool(PAGE_TOOLS.search(folded)) and "。" not in folded


def is_disclaimer(folded: str) -> bool:
    """A site disclaimer or content-farm source line (网站内容来源于网络…, 声明:本文来源于…, 版权所有)."""
    return len(folded) <= 200 and bool(DISCLAIMER.search(folded.lower()))


def is_url_line(folded: str) -> bool:
    """A line that is essentially a web address (with at most a few words around it)."""
    if "。" in folded or not URL.search(folded):
        return False
    return len(URL.sub("", folded).strip()) <= 20


# Context-free rules, checked in order; the first that matches names the removal in the change's note.
LINE_RULES: tuple[tuple[str, str, LineRule], ...] = (
    ("spam", "keyword spam", is_keyword_spam),
    ("chrome", "navigation", is_navigation),
    ("chrome", "page metadata fields", is_field_line),
    ("chrome", "metadata table", is_metadata_table_row),
    ("chrome", "layout separators", is_separator_only),
    ("chrome", "qr code", is_qr_code),
    ("chrome", "page tools", is_page_tool),
    ("chrome", "disclaimer", is_disclaimer),
    ("chrome", "web address", is_url_line),
)


MAX_CHROME_LINE = 600  # no widget, field or spam line is longer; longer lines are only checked for sentences


def fold_line(line: str) -> str:
    """The folded, stripped form of one line used by every line rule (a lost-indent `??` is ignored too)."""
    if len(line) > MAX_CHROME_LINE:
        return unicodedata.normalize("NFKC", line).strip()  # enough to see it is running text; folding is slow
    return fold(line).strip().lstrip("?").strip()


def classify_line(line: str) -> tuple[str, str] | None:
    """(kind, note) of the first context-free rule that removes this line, or None to keep it."""
    return _classify_folded(fold_line(line))


def _classify_folded(folded: str) -> tuple[str, str] | None:
    if not folded:
        return None
    for kind, note, rule in LINE_RULES:
        if rule(folded):
            return kind, note
    return None


def is_body_like(folded: str) -> bool:
    """A line of running text: a sentence end (。 or ;), or a long comma-separated line."""
    # ASCII ? and ! are not trusted: GBK damage leaves stray question marks in chrome lines.
    if len(folded) < 15:
        return False
    return "。" in folded or ";" in folded or (len(folded) >= 40 and "," in folded)


def _is_protected(folded: str) -> bool:
    """Signature lines and attachments that may follow a footer line and must not be swept with it."""
    compact = re.sub(r"\s+", "", folded)
    return (
        bool(STANDALONE_DATE.match(compact))
        or (len(compact) <= 30 and bool(ORG_SUFFIX.search(compact)) and not SENTENCE_END.search(compact))
        or compact.startswith("附件")
    )


def strip_chrome(text: str) -> CleanResult:
    """Remove spam and chrome lines; each removal is a Change of kind spam or chrome with the rule as note."""
    lines = [(offset, line, fold_line(line)) for offset, line in iter_lines(text)]
    verdict: dict[int, tuple[str, str]] = {}
    for i, (_, _, folded) in enumerate(lines):
        found = _classify_folded(folded)
        if found:
            verdict[i] = found
    kept = [i for i, (_, _, folded) in enumerate(lines) if folded and i not in verdict]
    _mark_footer(lines, kept, verdict)
    _mark_header_site_name(lines, kept, verdict)
    changes: list[Change] = []
    for i in sorted(verdict):
        offset, line, _ = lines[i]
        start, content = stripped_span(offset, line)
        kind, note = verdict[i]
        changes.append(Change(kind, content, "", start, note))
    return CleanResult(apply_changes(text, changes), changes)


def _mark_footer(lines: list[tuple[int, str, str]], kept: list[int], verdict: dict[int, tuple[str, str]]) -> None:
    """After the last disclaimer with no running text below it, the rest of the page is footer chrome."""
    # A bare web address does not start a footer: a notice may end with its own contact site.
    disclaimers = [i for i, v in verdict.items() if v[1] == "disclaimer"]
    if not disclaimers:
        return
    last_body = max((i for i in kept if is_body_like(lines[i][2])), default=-1)
    starts = [d for d in disclaimers if d > last_body]
    if not starts:
        return
    for i in kept:
        if i > min(starts) and not _is_protected(lines[i][2]):
            verdict[i] = ("chrome", "page footer")


def _mark_header_site_name(
    lines: list[tuple[int, str, str]], kept: list[int], verdict: dict[int, tuple[str, str]]
) -> None:
    """Before the first line of running text, a short bare `…网` line is the site's name, not a title."""
    for i in kept:
        folded = lines[i][2]
        if is_body_like(folded):
            return
        if i not in verdict and SITE_NAME.match(folded):
            verdict[i] = ("chrome", "site name")
