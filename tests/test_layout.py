"""Undoing pagination on positioned lines, the official-document frame, and decoding with reported repairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.layout import Line, Page, is_page_number, to_paragraphs
from policykb.loading import decode_bytes, decode_bytes_reporting, load_file
from policykb.official import strip_frame

SIZE = 16.0
LEFT, WIDTH = 80.0, 28  # an official page: 28 characters a line at 16 pt
RIGHT = LEFT + WIDTH * SIZE


def typeset(paragraphs: list[str], indent: int = 2, per_page: int = 22, footer: str | None = "— {n} —",
            header: str | None = None) -> list[Page]:
    """Lay paragraphs out in full-width CJK lines of WIDTH characters, first lines indented, paginated."""
    lines: list[tuple[str, float]] = []
    for paragraph in paragraphs:
        room, rest, first = WIDTH - indent, paragraph, True
        while rest:
            piece, rest = rest[:room], rest[room:]
            x0 = LEFT + (indent * SIZE if first else 0.0)
            lines.append((piece, x0))
            room, first = WIDTH, False
    pages: list[Page] = []
    for start in range(0, len(lines), per_page):
        number = len(pages) + 1
        page = Page(number, 595.0, 842.0)
        y = 100.0
        if header:
            page.lines.append(Line(header, 200, 400, 60, 60 + 10, 10.5))
        for text, x0 in lines[start : start + per_page]:
            page.lines.append(Line(text, x0, x0 + len(text) * SIZE, y, y + SIZE, SIZE))
            y += 28
        if footer:
            label = footer.format(n=number)
            page.lines.append(Line(label, 280, 280 + 4 * 14, 800, 814, 14))
        pages.append(page)
    return pages


def texts(pages: list[Page]) -> list[str]:
    return [p.text for p in to_paragraphs(pages)[0]]


CHARS = "教育集团学区师资流动优质均衡发展建设三年行动计划的和在为"
ENDINGS = st.sampled_from(["。", ",", "", ";", "”"])
LONG = st.tuples(st.text(alphabet=CHARS, min_size=30, max_size=120), ENDINGS).map("".join)
SHORT = st.tuples(st.sampled_from(["一、", "(二)", "3.", ""]), st.text(alphabet=CHARS, min_size=1, max_size=20), ENDINGS).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(LONG, SHORT), min_size=3, max_size=40).filter(lambda ps: sum(len(p) > 30 for p in ps) >= 3))
def test_typeset_paragraphs_come_back_exactly(paragraphs: list[str]) -> None:
    # Whatever the paragraphs (body text and short headings) and wherever lines and pages break, the first-line
    # indent tells paragraphs apart and nothing else is joined or split.
    assert texts(typeset(paragraphs)) == paragraphs


def test_page_numbers_and_running_headers_are_removed_and_reported() -> None:
    body = ["为全面贯彻党的二十大精神,深入实施科教兴国战略,全面推进高质量教育体系建设,加快促进义务教育优质均衡发展。" * 3] * 6
    pages = typeset(body, footer="第{n}页 共9页", header="上海市教育委员会文件")
    paragraphs, changes = to_paragraphs(pages)
    assert [p.text for p in paragraphs] == body
    assert [(c.kind, c.before, c.note) for c in changes[:2]] == [
        ("pagination", "上海市教育委员会文件", "running header or footer (page 1)"),
        ("pagination", "第1页 共9页", "page number (page 1)"),
    ]
    assert len(changes) == 2 * len(pages)


@pytest.mark.parametrize("label", ["— 12 —", "-3-", "- 3 -", "第3页 共5页", "第 3 页", "3/5", "Page 3 of 5", "7"])
def test_page_number_shapes(label: str) -> None:
    assert is_page_number(label)


@pytest.mark.parametrize("line", ["一、总体要求", "2023年5月4日", "(一)指导思想", "3年内", "沪教委基〔2023〕15号"])
def test_body_lines_are_not_page_numbers(line: str) -> None:
    assert not is_page_number(line)


def test_block_paragraphs_without_indent_break_after_a_sentence() -> None:
    # No first-line indents: a full line that ends a sentence ends its paragraph; other full lines go on.
    first = "为全面贯彻党的二十大精神和市委、市政府有关工作部署,深入实施科教兴国战略,全面推进。"  # 42 chars
    second = "加快促进义务教育优质均衡发展,在紧密型学区和集团建设的基础上,制定本计划"
    assert texts(typeset([first[:28], second], indent=0)) == [first[:28] + second]
    assert texts(typeset([first[:27] + "。", second], indent=0)) == [first[:27] + "。", second]


def test_a_short_line_ends_only_when_the_next_word_would_have_fitted() -> None:
    # Ragged right: the line stops 5 characters short because `2023-2025年` is one unbreakable word.
    lines = [
        Line("附件:上海市示范性学区和集团建设三年行动计划", LEFT, LEFT + 23 * SIZE, 100, 116, SIZE),
        Line("(2023-2025年)", LEFT, LEFT + 7 * SIZE, 128, 144, SIZE),
        Line("特此通知。", LEFT, LEFT + 5 * SIZE, 156, 172, SIZE),
        Line("为全面贯彻党的二十大精神和市委、市政府有关工作部署深入实施科教兴国", LEFT, RIGHT, 184, 200, SIZE),
    ]
    assert texts([Page(1, 595, 842, lines)]) == [
        "附件:上海市示范性学区和集团建设三年行动计划(2023-2025年)", "特此通知。",
        "为全面贯彻党的二十大精神和市委、市政府有关工作部署深入实施科教兴国",
    ]


def test_a_title_wrapped_in_a_larger_face_is_one_line_and_latin_words_keep_their_space() -> None:
    lines = [
        Line("上海市示范性学区和集团建设", 150, 150 + 13 * 22, 100, 122, 22),
        Line("三年行动计划(2023-2025年)", 190, 190 + 11 * 22, 130, 152, 22),
        Line("推进 STEM education and com-", LEFT, RIGHT, 170, 186, SIZE),
        Line("puter science in every school", LEFT, RIGHT - 100, 198, 214, SIZE),
    ]
    body = "为全面贯彻党的二十大精神和市委市政府有关工作部署深入实施科教兴国战略"
    lines += [Line(body, LEFT + (2 * SIZE if i == 0 else 0), RIGHT, 226 + 28 * i, 242 + 28 * i, SIZE) for i in range(4)]
    assert texts([Page(1, 595, 842, lines)]) == [
        "上海市示范性学区和集团建设三年行动计划(2023-2025年)",
        "推进 STEM education and computer science in every school",
        body * 4,
    ]


def test_two_columns_are_read_left_then_right_below_a_spanning_title() -> None:
    column = 12 * SIZE
    lines = [Line("关于开展集团化办学质量评估的通知", 150, 150 + 16 * SIZE, 60, 76, SIZE)]
    left = ["左栏第一行的文字内容很长", "左栏第二行的文字内容很长", "左栏第三行的文字内容结束。", "左栏第四段开始文字内容很", "左栏第四段继续"]
    right = ["右栏第一行的文字内容很长", "右栏第二行的文字内容很长", "右栏第三行的文字内容很长", "右栏第四行的文字内容很长", "右栏结束。"]
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        y = 100 + 24 * i
        lines.append(Line(a, LEFT, LEFT + len(a) * SIZE if len(a) < 12 else LEFT + column, y, y + SIZE, SIZE))
        x = LEFT + column + 2 * SIZE
        lines.append(Line(b, x, x + len(b) * SIZE if len(b) < 12 else x + column, y, y + SIZE, SIZE))
    joined = texts([Page(1, 595, 842, lines)])
    assert joined[0] == "关于开展集团化办学质量评估的通知"
    assert "".join(joined[1:]) == "".join(left) + "".join(right)
    assert joined[1].startswith("左栏第一行") and joined[-1].endswith("右栏结束。")


# --- the official-document frame --------------------------------------------------------------------------


def test_official_frame_red_header_signer_copy_to_and_print_lines() -> None:
    framed = strip_frame([
        "000123", "机密★1年", "特急", "上海市教育委员会 文件", "沪教委基〔2023〕15号  签发人:张三",
        "上海市教育委员会关于印发《上海市示范性学区和集团建设三年行动计划》的通知",
        "各区教育局:", "请抄送有关单位,结合实际贯彻执行。", "上海市教育委员会", "2023年5月4日",
        "(此件主动公开)", "抄送:市人民政府办公厅。", "上海市教育委员会办公室 2023年5月6日印发",
    ])
    assert framed.fields == {"发文机关": "上海市教育委员会"}
    assert framed.paragraphs == [
        "沪教委基〔2023〕15号", "上海市教育委员会关于印发《上海市示范性学区和集团建设三年行动计划》的通知",
        "各区教育局:", "请抄送有关单位,结合实际贯彻执行。", "上海市教育委员会", "2023年5月4日", "(此件主动公开)",
    ]
    assert [c.kind for c in framed.changes] == ["frame"] * 7
    assert framed.kept == [4, 5, 6, 7, 8, 9, 10]


def test_official_frame_organ_name_alone_above_the_number_is_the_red_header() -> None:
    framed = strip_frame(["杭州市临平区教育局", "临教〔2023〕12号", "关于印发《临平区义务教育“优质均衡”行动计划》的通知"])
    assert framed.fields == {"发文机关": "杭州市临平区教育局"}
    assert framed.paragraphs[0] == "临教〔2023〕12号"


def test_official_frame_leaves_a_plain_document_alone() -> None:
    lines = ["临平区义务教育“优质均衡”行动计划", "一、指导思想", "以习近平新时代中国特色社会主义思想为指导。", "临平区教育局", "2023年6月7日"]
    framed = strip_frame(lines)
    assert (framed.paragraphs, framed.changes, framed.fields) == (lines, [], {})


# --- encodings (issue 10, item 6) ---------------------------------------------------------------------------

POLICY = "关于印发《上海市示范性学区和集团建设三年行动计划》的通知\n各区教育局:\n为全面贯彻党的二十大精神,制定本计划。\n"


def test_a_few_bad_bytes_in_utf8_are_replaced_and_reported() -> None:
    good = POLICY.encode("utf-8")
    data = good[:30] + b"\xff" + good[30:60] + b"\xc3" + good[60:]  # \xc3 starts a sequence that never ends
    text, changes = decode_bytes_reporting(data, "x.txt")
    assert text == POLICY[:10] + "\ufffd" + POLICY[10:20] + "\ufffd" + POLICY[20:]
    assert [(c.kind, c.after, c.offset, c.note) for c in changes] == [
        ("encoding", "\ufffd", 10, "byte 30: ff is not valid UTF-8; replaced"),
        ("encoding", "\ufffd", 21, "byte 61: c3 is not valid UTF-8; replaced"),
    ]
    assert decode_bytes(data) == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_text(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(POLICY.encode(encoding))
    assert load_file(path).text == POLICY


def test_gbk_is_still_gbk_not_damaged_utf8() -> None:
    assert decode_bytes((POLICY * 5).encode("gbk")) == POLICY * 5


def test_binary_with_nul_bytes_is_still_binary() -> None:
    with pytest.raises(Exception, match="binary"):
        decode_bytes(b"\x00\x01\x02binary\x00" * 10, "data.txt")


@settings(max_examples=50, deadline=None)
@given(
    st.text(alphabet="关于印发上海市示范性学区和集团建设三年行动计划的通知各区教育局,。:\n0123456789", min_size=40, max_size=300),
    st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=3),
)
def test_stray_bytes_anywhere_are_each_one_replacement(text: str, cuts: list[float]) -> None:
    # Stray 0xFF bytes between characters: the text around them survives unchanged, one U+FFFD per byte.
    positions = sorted({int(c * len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *positions], [*positions, len(text)], strict=True)]
    data = b"\xff".join(piece.encode("utf-8") for piece in pieces)
    decoded, changes = decode_bytes_reporting(data, "x.txt")
    assert decoded == "\ufffd".join(pieces)
    assert [c.offset for c in changes] == [i for i, ch in enumerate(decoded) if ch == "\ufffd"]
