"""A bounded memo of bytes derived from one build of the knowledge base (compare answers, rendered pages).

Every entry is tied to a *generation*, what `KnowledgeBase.generation()` returns (the build served and the damage
being bypassed): a lookup under another generation empties the memo, and a value computed under a generation that
is no longer the memo's is dropped, so a publish is seen on the next request and nothing of a replaced build is
ever served again. Least recently used entries go beyond `size` entries or `max_bytes` in all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class GenerationCache:
    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes  # None: bounded by entries only; else a value over a quarter of it is not kept
        self._generation: Any = None
        self._values: OrderedDict[Any, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, generation: Any, key: Any) -> bytes | None:
        with self._lock:
            if generation != self._generation:
                self._drop_all()
                self._generation = generation
                return None
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def keep(self, generation: Any, key: Any, value: bytes) -> None:
        with self._lock:
            if generation != self._generation or self.size <= 0:
                return  # computed from a build that is no longer the one served
            if self.max_bytes is not None and len(value) * 4 > self.max_bytes:
                return  # too big to keep
            old = self._values.pop(key, None)
            self._bytes += len(value) - (len(old) if old is not None else 0)
            self._values[key] = value
            while len(self._values) > self.size or (self.max_bytes is not None and self._bytes > self.max_bytes):
                _, dropped = self._values.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        """Forget everything, the generation included (a publish in this process)."""
        with self._lock:
            self._drop_all()
            self._generation = None

    def _drop_all(self) -> None:
        self._values.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._values)

    @property
    def kept_bytes(self) -> int:
        return self._bytes
