"""OCR of page images with RapidOCR (PP-OCRv6 small det/rec ONNX models shipped inside the `rapidocr` wheel).

Chosen over Tesseract's chi_sim by measurement on official-document pages rendered at 150 dpi (see README,
Benchmarks): lower character error and confidences that separate good lines from bad ones. Nothing is
downloaded: the models are read from the installed package.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from policykb.layout import Line, Page

ENGINE_NAME = "RapidOCR PP-OCRv6"
# Lines the recogniser scores below this are kept (never silently dropped) but reported as low-confidence.
LOW_CONFIDENCE = 0.75
# RapidOCR drops lines scored below its `text_score`; keep nearly all so that doubtful ones are marked instead.
KEEP_SCORE = 0.2
_lock = threading.Lock()


@cache
def engine() -> Any:
    import logging

    from rapidocr import RapidOCR

    ocr = RapidOCR(params={
        "Global.log_level": "error", "Global.text_score": KEEP_SCORE,
        "Global.use_cls": False,  # pages are upright: the orientation classifier only costs time
        # Measured on this 2-core machine: a memory arena and 2 intra-op threads are about 25% faster.
        "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
        "EngineConfig.onnxruntime.intra_op_num_threads": 2,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return ocr


def available() -> bool:
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


def character_size(text: str, width: float, height: float) -> float:
    """The type size of an OCR'd line, from its width per character: box heights vary with the glyphs a line
    happens to hold (brackets and quotes are taller), the pitch of CJK characters does not."""
    ems = sum(0.55 if ch.isascii() else 1.0 for ch in text if not ch.isspace())
    if ems >= 4:
        return width / ems
    return min(0.8 * height, width / ems) if ems else 0.8 * height  # a short line: the smaller, never a title


def ocr_page(image: Any, number: int) -> Page:
    """Lines of one page image (a PIL image, numpy array or path), in pixels with y downwards."""
    import numpy as np

    array = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else image
    height, width = (array.shape[0], array.shape[1]) if hasattr(array, "shape") else (0, 0)
    with _lock:  # one ONNX session, already using every core
        result = engine()(array)
    lines: list[Line] = []
    boxes = result.boxes if result.boxes is not None else []
    for box, text, score in zip(boxes, result.txts or (), result.scores or (), strict=False):
        xs = [float(p[0]) for p in box]
        ys = [float(p[1]) for p in box]
        top, bottom = min(ys), max(ys)
        if not str(text).strip():
            continue
        content = str(text).strip()
        lines.append(Line(content, min(xs), max(xs), top, bottom, character_size(content, max(xs) - min(xs), bottom - top),
                          float(score)))
    return Page(number, float(width), float(height), lines)
