"""A local Ray whose raylet misses its start window once is started again; other failures are not retried."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from policykb import ray_ingest
from policykb.settings import Settings

TIMEOUT = ("The current node timed out during startup. This could happen because some of the raylet failed to "
           "startup or the GCS has become overloaded.")


def _fake_ray(monkeypatch: pytest.MonkeyPatch, failures: list[Exception]) -> list[str]:
    calls: list[str] = []
    fake = types.ModuleType("ray")

    def init(address: Any = None, **kwargs: Any) -> None:
        calls.append(f"init {address}")
        if failures:
            raise failures.pop(0)

    fake.is_initialized = lambda: False  # type: ignore[attr-defined]
    fake.init = init  # type: ignore[attr-defined]
    fake.shutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ray", fake)
    return calls


def test_a_local_start_that_times_out_once_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_ray(monkeypatch, [Exception(TIMEOUT)])
    ray_ingest._start(Settings.load(ray_address=""))
    assert calls == ["init None", "shutdown", "init None"]


def test_a_second_timeout_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_ray(monkeypatch, [Exception(TIMEOUT), Exception(TIMEOUT)])
    with pytest.raises(Exception, match="timed out during startup"):
        ray_ingest._start(Settings.load(ray_address=""))
    assert calls == ["init None", "shutdown", "init None"]


@pytest.mark.parametrize(("address", "error"), [("ray://cluster:10001", Exception(TIMEOUT)),
                                                ("", RuntimeError("no such file"))])
def test_other_failures_are_not_retried(monkeypatch: pytest.MonkeyPatch, address: str, error: Exception) -> None:
    calls = _fake_ray(monkeypatch, [error])
    with pytest.raises(type(error)):
        ray_ingest._start(Settings.load(ray_address=address))
    assert calls == [f"init {address or None}"]
