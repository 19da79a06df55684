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
    "撸", "嫩模", "巨乳", "黄片", "毛片", "a片", "乱子伦", "男人的天堂", "伦理片", "新葡京", "威尼斯人", "太阳城",
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
    "更多 没有更多了 大 中 小 默认 手机版 微博 微信 qq qq空间 朋友圈 新浪微博 腾讯微博 摘要 导读 保存 字号 字体 "
    "rss rss订阅 订阅 适老化 适老模式 关怀模式 读屏 读屏专用 无障碍浏览 智能问答 搜索 站内搜索 移动版 电脑版 "
    "app app下载 下载app 客户端 下载客户端 打开app 我要投稿 投稿 我要纠错 登录注册 网站导航 频道 专题 qzone "
    "文档简介 内容简介 部分内容阅读 论文部分内容阅读 全文阅读 在线阅读 内容预览"
    .split()
)
NAV_SPLIT = re.compile(r"[|｜丨/·•>»\s【】\[\]()<>:]+")
# `当前位置:`, `您当前的位置 :`, `您的当前位置:`, `你现在所在的位置:`: who (您), when (当前/现在) and where (所在).
BREADCRUMB = re.compile(
    r"^(?:[您你]的?)?(?:(?:当前|现在|目前|所在)的?){1,2}位置\s*:|^[您你]的?(?:所在)?位置\s*:"
    r"|^(?:首页|主页)\s*(?:[>»/→]|-\s*>)"
    r"|^(?:上一篇|下一篇|上一条|下一条)\s*:"
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
    # bylines and counters of news and content-farm pages, and the upload fields of document hosts
    "责编", "封面图源", "图片来源", "图源", "转载", "出处", "浏览数", "点击次数", "下载次数", "评论数", "标签",
    "文档编号", "上传时间", "上传者", "页数", "大小", "格式",
)
TABLE_LABELS = frozenset(FIELD_LABELS[FIELD_LABELS.index("发布机构"):]) | {"发布日期", "来源", "发布时间"}
_LABELS = "|".join(FIELD_LABELS)
FIELD = re.compile(
    rf"(?:{_LABELS})为?\s*:\s*(?:\([^()|]{{0,40}}\)|[^|:(]|(?<=\d):(?=\d)){{0,40}}?"
    rf"(?=\s*(?:\||$|(?:{_LABELS})为?\s*:))"
)
DATE_TIME = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
FIELD_RESIDUE = re.compile(r"[|\s·/【】\[\]()\-*•]+")
# `责 编 | 侯 戈`: a label spaced out and separated by a bar instead of a colon.
SPACED_LABEL = re.compile(rf"({_LABELS})\s*[|｜]")

QR_TERMS = ("扫一扫", "扫一下", "二维码", "qr code", "qrcode", "扫码", "长按识别", "长按下方")
QR_CONTEXT = ("分享", "朋友圈", "关注", "保存", "打开", "识别", "本文", "本页", "手机", "微信", "公众号")
PAGE_TOOLS = re.compile(r"打印本页|打印此页|关闭窗口|关闭本页|返回顶部|【打印】|【关闭】|\[打印\]|\[关闭\]")
DISCLAIMER = re.compile(
    r"免责声明|版权所有|版权声明|来源于网络|来源于互联网|与本站无关|本站(?:不|仅|所有)|如有侵权|侵权请|"
    r"联系(?:我们)?删除|转载请注明|未经(?:授权|许可)|icp备|公网安备|^声明\s*:|^本文来源|文章来源于|"
    r"原文链接|网友慎重|仅供参考,不代表|版权说明|由用户提供并上传|举报或认领|由会员分享|请在\w{1,12}上搜索|"
    r"copyright|all rights reserved|©"
)
URL = re.compile(r"(?:https?://|www\.)[\w.-]+(?:/[\w./?=&%#-]*)?", re.IGNORECASE)
_SITE = r"[\w\u4e00-\u9fff]{2,12}(?:网|网站|官网|门户|频道|在线)"
SITE_NAME = re.compile(rf"^{_SITE}(?:\s*[-_|·]\s*{_SITE})*$")  # 哈尔滨新闻网-东北网: a channel and its site
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
        # A list made only of weak terms, several to an item (国内精品亚洲, 青青草国产观看), is spam too.
        weak_hits = [sum(item.count(t) for t in SPAM_WEAK) for item in items]
        return len(items) >= 3 and min(weak_hits) >= 1 and sum(weak_hits) >= 2 * len(items)
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


# `[责任编辑 李珍 ]`: a byline label in brackets with the name after a space instead of a colon.
BRACKETED_BYLINE = re.compile(r"^(?:责任编辑|编辑|责编|作者|记者|通讯员|摄影|审核|校对)\s+[\u4e00-\u9fff]{2,4}(?:\s+[\u4e00-\u9fff]{2,4}){0,2}$")


def is_field_line(folded: str) -> bool:
    """A line made only of page metadata fields (来源: 发布时间: 编辑: 阅读: 字号:) and dates."""
    body = folded.strip()
    if body[:1] + body[-1:] in ("()", "[]", "【】"):
        body = body[1:-1].strip()  # `(责任编辑:张三)`: the whole line in brackets
        if BRACKETED_BYLINE.match(body):
            return True
    if not body or "。" in body:
        return False
    if len(body) <= 80:
        # Spaced-out labels (`责 编 | 侯 戈`, `来 源 | …`) read as ordinary `label:` fields once the spaces go.
        body = SPACED_LABEL.sub(r"\1:", re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", body))
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
    residue = URL.sub("", folded).strip()
    # A site's name and slogan around its own address (妖妖小说网 www.…,最快更新…) is the site's, too.
    return len(residue) <= 20 or (len(residue) <= 40 and bool(re.match(r"^[\w\u4e00-\u9fff]{2,10}网", residue)))


# A page's own time stamp: a numeric date (2024-01-16, 2024/1/16), usually with a clock; official texts write
# their dates as 2024年1月16日, so a numeric date beside a few short words is the site's byline, not the text's.
# 2024-01-16 and, on sites with a European template, 05.03.2016 (day first, dots only).
NUMERIC_DATE = re.compile(
    r"(?<!\d)(?:\d{4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}|\d{1,2}\.\d{1,2}\.(?:19|20)\d{2})(?!\d)"
    r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
CLOCK = re.compile(r"\d{1,2}:\d{2}")
RANGE_WORDS = re.compile(r"至|到|截止|之前|以前|起|期间")
STAMP_RESIDUE_CHARS = 24  # what may stand beside the date: a source, an author, a counter label
STAMP_WITH_CLOCK_CHARS = 60  # with a clock the line is a page stamp even beside a longer profile text


def is_page_stamp(folded: str) -> bool:
    """A byline built around the page's numeric date (`时间:2024-01-16 12:06 来源:网络整理`, `2022-09-29张三`)."""
    dates = NUMERIC_DATE.findall(folded)
    if len(dates) != 1 or SENTENCE_END.search(folded) or RANGE_WORDS.search(folded):
        return False
    clock = bool(CLOCK.search(folded))
    residue = re.sub(r"[\s:|·,/()\-~]+", "", CLOCK.sub("", NUMERIC_DATE.sub("", folded)))
    if not residue:
        # A bare date may be the signature's date (left to the segmenter); a signature never gives the hour.
        return clock
    limit = STAMP_WITH_CLOCK_CHARS if clock else STAMP_RESIDUE_CHARS
    return len(residue) <= limit


# Content farms open with a paragraph about the page itself (以下是小编整理的…,仅供参考,希望对大家有所帮助).
FARM_EDITOR = re.compile(r"小编")
FARM_CUES = re.compile(
    r"为大家(?:整理|收集|带来|分享|准备)|精心(?:整理|收集|挑选)|整理的|(?:仅|以)?供(?:大家)?参考|欢迎(?:大家)?(?:借鉴|阅读|参考)|"
    r"希望(?:能)?(?:对|帮助|能够帮助)(?:到)?(?:大家|您|你)|以下是|下面是"
)
MAX_FARM_INTRO = 400


def is_farm_intro(folded: str) -> bool:
    """The content farm's paragraph about its own page: the editor (小编) plus an offer, or three offers."""
    if len(folded) > MAX_FARM_INTRO:
        return False
    cues = len(FARM_CUES.findall(folded))
    return (bool(FARM_EDITOR.search(folded)) and cues >= 1) or cues >= 3


# Recommendation blocks open with a heading that points at other pages, or a reader counter (95%的人继续看了).
RECOMMENDATION = re.compile(
    r"^(?:猜你(?:喜欢|感兴趣)|为你推荐|你可能(?:还)?(?:喜欢|感兴趣)|大家都在看|看了又看|(?:热门|精彩|频道|相关|编辑|最新|今日)推荐|"
    r"(?:推荐|延伸|相关|精彩|更多|热门|扩展)阅读|(?:相关|热门|热点|最新|精彩|推荐)(?:文章|新闻|资讯|内容|专题|链接)|"
    r"往期(?:回顾|推荐|精选)|更多精彩|(?:阅读|点击|热度|人气)?排行(?:榜)?|关联信息)\W*"
)
READER_COUNTER = re.compile(r"\d+%的(?:人|用户|读者)(?:还|继续|都)?(?:看了|在看|读了|阅读了|浏览了|喜欢)|^\d+人(?:看过|读过|浏览过|阅读过|喜欢|收藏|点赞)$")
MAX_RECOMMENDATION_HEADING = 14


def is_recommendation(folded: str) -> bool:
    """A recommendation heading (猜你喜欢, 热门推荐, 推荐阅读:A、B), or a reader counter (137人看过)."""
    compact = re.sub(r"\s+", "", folded)
    if READER_COUNTER.search(compact):
        return True
    match = RECOMMENDATION.match(compact)
    if match is None or SENTENCE_END.search(compact):
        return False
    # `推荐阅读:A、B、C` lists the other pages on the heading's own line.
    return len(compact) <= MAX_RECOMMENDATION_HEADING or compact[match.end() - 1 : match.end()] in ":>》"


# Instructions for the page's widgets: share to WeChat, listen in an app, open the client.
WIDGET_OBJECTS = re.compile(
    r"右上角|朋友圈|微信好友|好友|分享(?:给|至|到)|收听|app|客户端|小程序|音频条?|阅读体验|点击此处|点击这里|阅读原文|转发"
)
WIDGET_ACTION = re.compile(r"点击|长按|打开|前往|下载|收听|分享")
MAX_WIDGET_INSTRUCTION = 120


def is_widget_instruction(folded: str) -> bool:
    """`点击右上角微信好友`, `更多讨论请点击音频条收听,或点击此处前往App收听`: how to use the page, not the text."""
    low = folded.lower()
    if len(low) > MAX_WIDGET_INSTRUCTION:
        return False
    objects = {m.group() for m in WIDGET_OBJECTS.finditer(low)}
    return len(objects) >= 2 and bool(WIDGET_ACTION.search(low))


# Scripts that never ran: loading placeholders and unfilled template fields ({guid}).
PLACEHOLDER = re.compile(r"加载中|正在加载|loading|^\W*(?:\{[a-z_]+\}\W*)+$", re.IGNORECASE)


def is_placeholder(folded: str) -> bool:
    """A survey or comment widget that never loaded (调查问题加载中), or a bare template field."""
    return len(folded) <= 30 and bool(PLACEHOLDER.search(folded))


# A site's logo or app banner: a brand name beside logo/app/客户端 words and nothing else.
APP_WORDS = re.compile(r"logo|app|客户端|下载|打开|安装|扫码", re.IGNORECASE)
MAX_BRAND_CHARS = 6


def is_app_banner(folded: str) -> bool:
    """`澎湃Logo`, `APP下载`, `下载客户端`: a banner of the site's app, at most a short brand name besides."""
    if len(folded) > 20 or not APP_WORDS.search(folded):
        return False
    return len(re.sub(r"[\W_]+", "", APP_WORDS.sub("", folded))) <= MAX_BRAND_CHARS


LIKE_COUNTER = re.compile(r"^[-+·•\s]*\+\s*\d{1,6}$|^(?:赞|点赞|收藏|评论|转发|分享)\s*\(?\d{1,6}\)?$")


def is_like_counter(folded: str) -> bool:
    """The like button's counter (`- +1`, `点赞 12`)."""
    return bool(LIKE_COUNTER.match(folded.strip()))


TAG_LIST = re.compile(r"^(?:[\w\u4e00-\u9fff]{1,6}[,、;|])+$")


def is_tag_list(folded: str) -> bool:
    """A list of page tags left without their label (`通知,意见,`): short words each followed by a separator."""
    return bool(TAG_LIST.match(re.sub(r"\s+", "", folded))) and len(re.findall(r"[,、;|]", folded)) >= 2


TOC_HEADING = re.compile(r"^(?:文章|本文|内容)?目\s*录(?:一览)?$|^table of contents$", re.IGNORECASE)


def is_toc_heading(folded: str) -> bool:
    """The heading of a generated table of contents (目录, 文章目录); its entries repeat the text's headings."""
    return bool(TOC_HEADING.match(folded.strip()))


# A paywall or teaser marker closing a truncated paragraph: the text is the page's, the marker is the site's.
PAYWALL_TAIL = re.compile(
    r"\s*(?:[.…]{2,}\s*)?[(\[（【](?:试读|(?:省略|剩余|余下)\s*\d+\s*字[^()\[\]（）]{0,30}|[^()\[\]（）]{0,20}"
    r"(?:会员|登录|付费|vip|购买)[^()\[\]（）]{0,20}(?:阅读|查看|下载)[^()\[\]（）]{0,10})[)\]）】]\s*(?:[.…]+)?$"
    r"|\s*(?:展开详细|展开全文|查看全文|阅读全文|全文阅读|点击查看全文|查看更多|展开更多|余下全文)\s*[>》»]*$",
    re.IGNORECASE,
)


def paywall_tail(folded: str) -> re.Match[str] | None:
    """The paywall or teaser marker at the end of a line (`(试读)...`, `(省略561字,正式会员可完整阅读)`)."""
    return PAYWALL_TAIL.search(folded)


def is_paywall_line(folded: str) -> bool:
    """A line that is only a paywall or `read more` marker."""
    match = paywall_tail(folded)
    return match is not None and not re.sub(r"[\W_]+", "", folded[: match.start()])


# Context-free rules, checked in order; the first that matches names the removal in the change's note.
LINE_RULES: tuple[tuple[str, str, LineRule], ...] = (
    ("spam", "keyword spam", is_keyword_spam),
    ("chrome", "navigation", is_navigation),
    ("chrome", "metadata table", is_metadata_table_row),
    ("chrome", "page metadata fields", is_field_line),
    ("chrome", "layout separators", is_separator_only),
    ("chrome", "qr code", is_qr_code),
    ("chrome", "page tools", is_page_tool),
    ("chrome", "disclaimer", is_disclaimer),
    ("chrome", "web address", is_url_line),
    ("chrome", "page stamp", is_page_stamp),
    ("chrome", "related links", lambda folded: is_dated_link(folded)),
    ("chrome", "content-farm intro", is_farm_intro),
    ("chrome", "recommendations", is_recommendation),
    ("chrome", "widget instruction", is_widget_instruction),
    ("chrome", "widget placeholder", is_placeholder),
    ("chrome", "app banner", is_app_banner),
    ("chrome", "like counter", is_like_counter),
    ("chrome", "tag list", is_tag_list),
    ("chrome", "table of contents", is_toc_heading),
    ("chrome", "paywall", is_paywall_line),
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
        # an issuer line; `主办:…中心` is a labelled footer field, not a signature
        or (len(compact) <= 30 and bool(ORG_SUFFIX.search(compact)) and not re.search(r"[。!?;:]", compact))
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
    kept = [i for i in kept if i not in verdict]
    _mark_recommendation_blocks(lines, kept, verdict)
    kept = [i for i in kept if i not in verdict]
    _mark_far_from_main_text(lines, kept, verdict)
    kept = [i for i in kept if i not in verdict]
    _mark_dated_links(lines, kept, verdict)
    changes: list[Change] = []
    for i, (offset, line, _) in enumerate(lines):
        if i in verdict:
            start, content = stripped_span(offset, line)
            kind, note = verdict[i]
            changes.append(Change(kind, content, "", start, note))
        elif line.strip() and (tail := paywall_tail(line.rstrip())) is not None and tail.start() > 0:
            # The truncated paragraph stays; only the site's marker after it goes.
            changes.append(Change("chrome", tail.group(), "", offset + tail.start(), "paywall"))
    return CleanResult(apply_changes(text, changes), changes)


# A list of links to other items, as a news site prints it under the article: a numeric date, then the headline
# (on the same line after a column tag, `2022-05-16 【健康】打赢…`, or on the next line).
DATED_LINK = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}\s*【[^】]{1,8}】")
BARE_NUMERIC_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
MAX_LINK_TITLE = 40


def is_dated_link(folded: str) -> bool:
    """`2022-05-16 【健康】打赢…`: a dated link to another item under its column, with its teaser."""
    return bool(DATED_LINK.match(folded.strip())) and "。" not in folded


def _mark_dated_links(
    lines: list[tuple[int, str, str]], kept: list[int], verdict: dict[int, tuple[str, str]]
) -> None:
    """Below the last running text, dated links to other items are the site's, not the text's."""
    last_body = max((i for i in kept if is_body_like(lines[i][2])), default=None)
    if last_body is None:
        return
    after = [i for i in kept if i > last_body]
    for position, i in enumerate(after):
        folded = lines[i][2].strip()
        if BARE_NUMERIC_DATE.match(folded) and position + 1 < len(after):
            title = lines[after[position + 1]][2].strip()
            if len(title) <= MAX_LINK_TITLE and not is_text_line(title, titles=False):
                verdict[i] = verdict[after[position + 1]] = ("chrome", "related links")


def _mark_footer(lines: list[tuple[int, str, str]], kept: list[int], verdict: dict[int, tuple[str, str]]) -> None:
    """After the last disclaimer with no running text below it, the rest of the page is footer chrome."""
    # A bare web address does not start a footer: a notice may end with its own contact site.
    disclaimers = [i for i, v in verdict.items() if v[1] == "disclaimer"]
    if not disclaimers:
        return
    last_body = max((i for i in kept if is_body_like(lines[i][2])), default=-1)
    # A notice at the top of the page (a document host's 版权说明) does not end the page: most of the text is below.
    starts = [d for d in disclaimers if d > last_body and _kept_chars(lines, kept, 0, d) >= _kept_chars(lines, kept, d, len(lines))]
    if not starts:
        return
    for i in kept:
        if i > min(starts) and not _is_protected(lines[i][2]):
            verdict[i] = ("chrome", "page footer")


def _kept_chars(lines: list[tuple[int, str, str]], kept: list[int], lo: int, hi: int) -> int:
    return sum(len(lines[i][2]) for i in kept if lo <= i < hi)


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


# --- context: recommendation blocks and the densest run of text ------------------------------------------

OUTLINE_START = re.compile(
    r"^(?:第[一二三四五六七八九十百零〇\d]+[章节条部编]|[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十\d]{1,3}[)）]"
    r"|\d{1,2}(?:\.\d{1,2})*[.、]?(?=\D)|[A-Za-z][.、)](?=\S)|[①-⑳])"
)
DOC_NUMBER = re.compile(r"[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号")
DOC_TITLE = re.compile(
    r"^关于|(?:通知|意见|方案|办法|规定|计划|决定|细则|报告|规划|纲要|函|批复|公告|通告|决议|条例|标准|指南|文件)$"
)
OWN_FIELD = re.compile(r"^[^:,。]{1,10}:")


def is_text_line(folded: str, titles: bool = True, cells: bool = True) -> bool:
    """Lines that are the document's own even when short: outline headings, sentences, 文号, signature, fields,
    and (unless `titles` is false, as inside a list of links to other pages) document titles; `cells` false leaves
    out table rows and labelled fields, when other evidence (an HTML extractor) says whether they are content."""
    compact = re.sub(r"\s+", "", folded)
    return (
        is_body_like(folded)
        or _is_protected(folded)
        or bool(OUTLINE_START.match(compact))
        or bool(DOC_NUMBER.search(compact))
        or (titles and bool(DOC_TITLE.search(compact)))
        or bool(NUMERIC_DATE.fullmatch(compact))
        or (cells and bool(OWN_FIELD.match(compact)))  # the rules removed the page's fields; these are the text's
        or compact[-1:] in "。!?;:"  # a short complete sentence (特此通知。) or a lead-in
        or (cells and "|" in compact)  # a table row of the text
        or compact[:1] + compact[-1:] == "()"  # a note of the text: (此件公开发布), (2014年3月5日)
    )


def _mark_recommendation_blocks(
    lines: list[tuple[int, str, str]], kept: list[int], verdict: dict[int, tuple[str, str]]
) -> None:
    """Below a recommendation heading, the short link lines up to the next running text are the block's."""
    headings = sorted(i for i, v in verdict.items() if v[1] == "recommendations")
    for heading in headings:
        for i in kept:
            if i <= heading:
                continue
            folded = lines[i][2]
            if is_body_like(folded):
                break
            if not is_text_line(folded, titles=False):
                verdict[i] = ("chrome", "recommendations")


# A short line at least this many lines and characters away from the main text is the page's, not the text's;
# closer, it may be the title, a byline or a subheading (jusText keeps headings within 200 characters of text).
# A bare word of a menu (教育频道, 主办单位) is the page's once it is a few lines away, whatever lies between.
FAR_LINES = 3
FAR_CHARS = 200
NAV_ITEM_CHARS = 6
MAX_FAR_LINE_CHARS = 40


def _line_score(folded: str) -> int:
    """Running text counts by its length; any other line costs, so the best run holds text and little else."""
    return len(folded) if is_body_like(folded) else -(min(len(folded), 20) + 5)


def main_text_run(scores: list[int]) -> tuple[int, int] | None:
    """(first, last) positions of the run with the highest total score (the densest run of text), or None."""
    best, best_span = 0, None
    total, start = 0, 0
    for k, score in enumerate(scores):
        if total <= 0:
            total, start = 0, k
        total += score
        if total > best:
            best, best_span = total, (start, k)
    return best_span


def _mark_far_from_main_text(
    lines: list[tuple[int, str, str]], kept: list[int], verdict: dict[int, tuple[str, str]]
) -> None:
    """Short lines far before or after the densest run of running text are page chrome (nav items, link titles).

    As in Boilerpipe and jusText: the main content is where sentence-like text is dense; outside it, short
    lines are chrome unless they are the kinds of line a document has even outside its body (see is_text_line).
    """
    run = main_text_run([_line_score(lines[i][2]) for i in kept])
    if run is None:
        return
    first, last = run
    sizes = [len(lines[i][2]) for i in kept]
    for position, i in enumerate(kept):
        if first <= position <= last:
            continue
        between = range(position + 1, first) if position < first else range(last + 1, position)
        folded = lines[i][2]
        far = len(between) + 1 >= FAR_LINES and (sum(sizes[k] for k in between) >= FAR_CHARS or len(folded) <= NAV_ITEM_CHARS)
        if far and len(folded) <= MAX_FAR_LINE_CHARS and not is_text_line(folded) \
                and not _between_text_lines(lines, kept, position):
            verdict[i] = ("chrome", "far from the main text")


def _between_text_lines(lines: list[tuple[int, str, str]], kept: list[int], position: int) -> bool:
    """A short line with the document's own lines right above and below it (a notice's unnumbered subheading 高中
    between its 放假时间: items) is inside the document, however far from its densest paragraph."""
    if position == 0 or position + 1 >= len(kept):
        return False
    return all(is_text_line(lines[kept[k]][2], titles=False) for k in (position - 1, position + 1))
