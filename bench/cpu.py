"""The CPU a benchmark row was measured on: the same signature the int8 self-check records."""

from __future__ import annotations


def cpu_label() -> str:
    from policykb.int8check import cpu_signature

    return cpu_signature()
