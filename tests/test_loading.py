"""Loading raw files: encodings, HTML and .docx text, and one clear error for every kind of bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import CORPUS_FILES, corpus_path, raw_text
from policykb.errors import InputFileError
from policykb.loading import decode_bytes, html_to_text, load_text

POLICY = "关于印发《上海市示范性学区和集团建设三年行动计划》的通知\n各区教育局:\n为全面贯彻党的二十大精神,制定本计划。\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def reason(path: Path, **kwargs: int) -> str:
    with pytest.raises(InputFileError) as info:
        load_text(path, **kwargs)
    assert str(info.value) == f"{path}: {info.value.reason}"  # the CLI prints this one line
    return info.value.reason


# --- text files and encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize("region", sorted(CORPUS_FILES))
def test_load_corpus_file_returns_text_unchanged(region: str) -> None:
    assert load_text(corpus_path(region)) == raw_text(region)


def test_load_keeps_html_leftovers_in_a_txt_file() -> None:
    # A .txt scrape stays text: its <th id=…> leftovers are the cleaner's business, not the loader's.
    assert '<th id="oyc5u"></th>' in load_text(corpus_path("haidian"))


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("gb18030", POLICY * 5),
        ("gbk", POLICY * 5),
        ("big5", "關於印發《臺北市學區建設計畫》的通知\n各區教育局:\n為全面貫徹精神,制定本計畫。\n" * 5),
        ("utf-16", POLICY),  # with a BOM
        ("utf-8-sig", POLICY),  # UTF-8 with a BOM: the BOM is dropped
    ],
)
def test_load_detects_encoding(tmp_path: Path, encoding: str, text: str) -> None:
    path = write(tmp_path, "doc.txt", text.encode(encoding))
    assert load_text(path) == text


def test_load_decodes_a_short_gbk_snippet(tmp_path: Path) -> None:
    # Too short for statistical detection, but valid GB18030 and plainly Chinese.
    path = write(tmp_path, "short.txt", "特此通知。".encode("gbk"))
    assert load_text(path) == "特此通知。"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2028"])
def test_load_normalises_newlines(tmp_path: Path, newline: str) -> None:
    path = write(tmp_path, "doc.txt", newline.join(["一、总体要求", "(一)指导思想"]).encode("utf-8"))
    assert load_text(path) == "一、总体要求\n(一)指导思想"


# --- HTML ------------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>网站标题</title><style>p {color: red}</style>
<script>var x = "<p>不是正文</p>";</script></head>
<body><div class="nav">首页</div>
<h1>临平区义务教育&ldquo;优质均衡&rdquo;行动计划</h1>
<table><tr><th>信息索引号</th><td>001008001003013/2023-16274</td></tr></table>
<p>为贯彻落实&nbsp;要求,
   特制定以下实施方案。</p><p>一、指导思想<br>二、总体目标</p>
</body></html>"""


def test_html_to_text_keeps_blocks_and_drops_scripts() -> None:
    assert html_to_text(PAGE) == "\n".join(
        [
            "首页",
            "临平区义务教育“优质均衡”行动计划",
            "信息索引号 | 001008001003013/2023-16274",
            "为贯彻落实 要求, 特制定以下实施方案。",  # source line breaks inside <p> are not paragraphs
            "一、指导思想",
            "二、总体目标",
        ]
    )


def test_load_html_file_honours_meta_charset(tmp_path: Path) -> None:
    page = '<html><head><meta charset="gb2312"></head><body><p>特此通知。</p><p>虹口区教育局</p></body></html>'
    path = write(tmp_path, "page.htm", page.encode("gb2312"))
    assert load_text(path) == "特此通知。\n虹口区教育局"


def test_load_html_file_with_markup_only_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.html", b"<html><body><script>x()</script></body></html>")
    assert reason(path) == "file has no text (only whitespace or markup)"


# --- DOCX ------------------------------------------------------------------------------------------------


def test_load_docx_reads_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("临平区义务教育“优质均衡”行动计划")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "年级", "比例"
    table.cell(1, 0).text, table.cell(1, 1).text = "一至六年级", "15%左右"
    document.add_paragraph("四、保障措施")
    path = tmp_path / "plan.docx"
    document.save(str(path))
    assert load_text(path) == "临平区义务教育“优质均衡”行动计划\n年级 | 比例\n一至六年级 | 15%左右\n四、保障措施"


def test_load_corrupt_docx_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.docx", b"PK\x03\x04 this is not really a zip archive")
    assert reason(path) == "not a valid .docx file (corrupt, or not a Word document)"


def test_load_zip_without_word_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert reason(path) == "not a valid .docx file (corrupt, or not a Word document)"


# --- bad input -------------------------------------------------------------------------------------------


def test_load_missing_file(tmp_path: Path) -> None:
    assert reason(tmp_path / "nope.txt") == "file not found"


def test_load_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert reason(folder) == "is a folder, not a file"


def test_load_empty_file(tmp_path: Path) -> None:
    assert reason(write(tmp_path, "empty.txt", b"")) == "file is empty (0 bytes)"


def test_load_whitespace_only_file(tmp_path: Path) -> None:
    path = write(tmp_path, "blank.txt", " \n\t\r\n\u3000".encode())
    assert reason(path) == "file has no text (only whitespace or markup)"


def test_load_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "data.txt", b"\x00\x01\x02binary\x00" * 10)
    assert reason(path) == "looks like a binary file (contains NUL bytes), not text"


def test_load_binary_file_of_control_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "ctrl.txt", bytes(range(1, 32)) * 20)
    assert reason(path) == "looks like a binary file (mostly control characters), not text"


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "a PDF file"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Office file (.doc/.xls); save it as .docx"),
    ],
)
def test_load_names_known_binary_formats(tmp_path: Path, data: bytes, what: str) -> None:
    assert reason(write(tmp_path, "renamed.txt", data)) == f"looks like {what}, not text"


def test_load_oversized_file_says_size_and_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", "特此通知。".encode() * 100_000)  # 1.5 MB
    assert reason(path, max_bytes=1024 * 1024) == "file is too large: 1.4 MB, over the limit of 1.0 MB (max_file_mb)"


def test_load_small_limit_in_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"x" * 100)
    assert reason(path, max_bytes=10) == "file is too large: 100 bytes, over the limit of 10 bytes (max_file_mb)"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x80\xfd\xfe" * 3 + b"abc" + b"\x80\xff" * 50,
         "undecodable: the bytes are not valid UTF-8, GB18030/GBK or Big5 text"),
        # A UTF-16 byte-order mark followed by an odd number of bytes.
        (b"\xff\xfe" + "特此通知".encode("utf-16-le") + b"\x00\xd8\x41",
         "undecodable: starts with a UTF-16 byte-order mark but is not valid UTF-16"),
    ],
)
def test_load_undecodable_bytes(tmp_path: Path, data: bytes, expected: str) -> None:
    assert reason(write(tmp_path, "garbled.txt", data)) == expected


@pytest.mark.parametrize(("name", "shown"), [("sheet.xls", "'.xls'"), ("plan.odt", "'.odt'"), ("README", "'(no extension)'")])
def test_load_unsupported_extension(tmp_path: Path, name: str, shown: str) -> None:
    path = write(tmp_path, name, b"text")
    assert reason(path) == (
        f"unsupported file type {shown} (expected .txt, .html, .htm, .docx, .doc, .wps, .pdf, .png or .jpg)"
    )


def test_decode_bytes_prefers_utf8() -> None:
    # Valid UTF-8 is never second-guessed by the detector.
    assert decode_bytes("沪教委基〔2023〕15号".encode()) == "沪教委基〔2023〕15号"
