"""The CPU a benchmark row was measured on: the same signature the int8 self-check records."""

from __future__ import annotations


def cpu_label() -> str:
    from policykb.int8check import CPU_FLAGS, cpu_signature

    label = cpu_signature()
    present = set(label.rsplit("[", 1)[-1].rstrip("]").split())
    absent = [f for f in ("avx2", "avx512f", "avx512_vnni") if f in CPU_FLAGS and f not in present]
    return label if not absent else f"{label[:-1]}; no {' / '.join(absent)}]"
