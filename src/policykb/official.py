"""The frame of an official document (公文, GB/T 9704) around its text: what is metadata, what is chrome.

Above the title: the copy number (份号), secrecy and urgency marks, the red header naming the issuing organ(s)
(`XX市教育局文件`, or the organ's name alone above a 文号) and the 文号 line, which may carry the signer
(`签发人:张三`). Below the signature: the copy-to line (抄送:…) and the print line
(`XX办公室 2024年1月5日印发`). The organ becomes the `发文机关` field the metadata reads; the marks, the signer,
抄送 and 印发 lines are removed as the document's frame (版头, 版记). Every removal is a Change of kind "frame".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from policykb.metadata import normalise_doc_number
from policykb.records import Change

ORG_END = r"(?:委员会|教委|局|厅|部|政府|办公室|办公厅|中心|委|院|会|小组|公司|学校|大学)"
ORGANS = re.compile(rf"^([\u4e00-\u9fff()（）]{{2,80}}?{ORG_END})(?:文件|函)?$")
HEADER_ORGANS = re.compile(rf"^([\u4e00-\u9fff()（）]{{2,80}}?{ORG_END})文件$")
COPY_NUMBER = re.compile(r"^\d{5,6}$")
MARKS = re.compile(r"^(?:(?:绝密|机密|秘密)(?:★[^\s]{0,6})?|特急|加急|平急|特提|急件)$")
SIGNER = re.compile(r"\s*签发人[:：]\s*[\u4e00-\u9fff·]{2,8}(?:\s+[\u4e00-\u9fff·]{2,8})*\s*$")
COPY_TO = re.compile(r"^抄\s*送\s*[:：]")
PRINTED = re.compile(r"^.{0,40}?\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印\s*发$")
HEAD_PARAGRAPHS = 6
TAIL_PARAGRAPHS = 8


@dataclass
class Framed:
    paragraphs: list[str]
    kept: list[int] = field(default_factory=list)  # index of each kept paragraph in the input
    changes: list[Change] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def strip_frame(paragraphs: list[str]) -> Framed:
    """Recognise the red header, marks, signer, 抄送 and 印发 lines; keep every other paragraph as it is."""
    out = Framed([])
    has_number = any(normalise_doc_number(p) for p in paragraphs[:HEAD_PARAGRAPHS])
    for i, text in enumerate(paragraphs):
        compact = _compact(text)
        head, tail = i < HEAD_PARAGRAPHS, i >= len(paragraphs) - TAIL_PARAGRAPHS
        header = HEADER_ORGANS.match(compact) if head else None
        if head and not header and has_number and "发文机关" not in out.fields:
            header = ORGANS.match(compact) if _before_number(paragraphs, i) else None
        if header:
            out.fields.setdefault("发文机关", header.group(1))
            out.changes.append(Change("frame", text, "", 0, "red header: the issuing organ (kept as the issuer field)"))
            continue
        if head and (COPY_NUMBER.match(compact) or MARKS.match(compact)) and _before_number(paragraphs, i, HEAD_PARAGRAPHS):
            out.changes.append(Change("frame", text, "", 0, "copy number or secrecy/urgency mark"))
            continue
        if head and normalise_doc_number(text) and SIGNER.search(text):
            kept = SIGNER.sub("", text).strip()
            out.changes.append(Change("frame", text, kept, 0, "signer beside the document number"))
            out.paragraphs.append(kept)
            out.kept.append(i)
            continue
        if tail and (COPY_TO.match(compact) or PRINTED.match(compact)):
            out.changes.append(Change("frame", text, "", 0, "抄送/印发 line of an official document"))
            continue
        out.paragraphs.append(text)
        out.kept.append(i)
    return out


def _before_number(paragraphs: list[str], i: int, within: int = 3) -> bool:
    """A 文号 line follows within the next `within` paragraphs (the red header sits right above it)."""
    return any(normalise_doc_number(p) and len(_compact(p)) <= 40 for p in paragraphs[i + 1 : i + 1 + within])
