"""The CPU a benchmark row was measured on: `lscpu` model name and the flags that pick ONNX Runtime's int8 kernels."""

from __future__ import annotations

import platform
from pathlib import Path

CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni")


def cpu_label() -> str:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name") and ":" in line:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and ":" in line:
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    present = [f for f in CPU_FLAGS if f in flags]
    return f"{model} [{' '.join(present) or 'no avx2'}]"
