"""A cache of the results of pure functions of JSON data, keyed by the data's JSON text."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["ContentCache"]

_V = TypeVar("_V")


class ContentCache(Generic[_V]):
    """Results of a pure function of JSON data, kept by the data's JSON text.

    An agent sends the same tool set (and structured output the same schema) with every
    turn: checking and normalising it again would be most of the work of building a
    request. The key is the JSON text, so a tool set rebuilt as new dicts each turn (as
    LlamaIndex does) still hits, and a changed one misses. Bounded (least recently used
    out); data that is not JSON is computed every time. Results are shared by the
    requests that hit them: treat a request body as read-only.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, data: Any, compute: Callable[[], _V]) -> _V:
        try:
            key = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return compute()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
