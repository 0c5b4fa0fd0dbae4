"""The wire dicts of a conversation's earlier messages, converted once while unchanged.

An agent sends its whole history with every turn: the same framework messages, one or
two more each time. :class:`HistoryCache` keeps what an adapter's converter made of each
message (its wire dict) with a snapshot of the message's state (a deep copy of its
``__dict__``), and hands the wire dict back on a later call only when the very same
message object is passed again with a state equal to the snapshot. A message changed in
place (its content, a tool call's arguments, a field), or replaced by another object, is
converted again: the cache is never served stale. The last message of a call is always
converted (a converter may treat it differently: LangChain's ``partial`` flag), and a
message whose state cannot be copied is never cached.

The cache holds strong references to the messages it remembers (so their ids stay
theirs), at most ``size`` of them, the oldest remembered dropped first. The wire dicts it
returns are shared between calls: callers must not change them (``kimi_core`` copies a
message before adapting it).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["HistoryCache", "Wire"]

_M = TypeVar("_M")


class Wire(dict[str, Any]):
    """A wire message a :class:`HistoryCache` keeps (read-only by contract), with what
    ``kimi_core``'s checks made of it last (:meth:`checked_for`, :meth:`remember`)."""

    __slots__ = ("_checked",)

    def __init__(self, wire: dict[str, Any]) -> None:
        super().__init__(wire)
        self._checked: tuple[Any, Any, Any, dict[str, Any]] | None = None

    def checked_for(self, profile: Any, model: Any, replay: Any) -> dict[str, Any] | None:
        """A copy of the checked message, if it was checked for the same provider
        profile and model (the same objects) and reasoning replay, else ``None``."""
        c = self._checked
        if c is not None and c[0] is profile and c[1] is model and c[2] == replay:
            return dict(c[3])
        return None

    def remember(self, profile: Any, model: Any, replay: Any, checked: dict[str, Any]) -> None:
        self._checked = (profile, model, replay, dict(checked))


class HistoryCache(Generic[_M]):
    """Wire dicts of unchanged earlier messages (see the module docstring)."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        #: id(message) -> (message, snapshot of its state, its wire dict)
        self._entries: dict[int, tuple[Any, dict[str, Any], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def convert(
        self,
        messages: Sequence[_M],
        one: Callable[[_M, int, bool], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """``[one(message, index, is_last) ...]``, with the wire dicts of unchanged
        earlier messages reused."""
        entries = self._entries
        last = len(messages) - 1
        out: list[dict[str, Any]] = []
        fresh: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        for i, message in enumerate(messages):
            if i == last:
                out.append(one(message, i, True))
                break
            entry = entries.get(id(message))
            if entry is not None and entry[0] is message and _state(message) == entry[1]:
                out.append(entry[2])
                continue
            wire = Wire(one(message, i, False))
            out.append(wire)
            snapshot = _snapshot(message)
            if snapshot is not None:
                fresh.append((message, snapshot, wire))
        if fresh:
            self._remember(fresh)
        return out

    def _remember(self, fresh: list[tuple[Any, dict[str, Any], dict[str, Any]]]) -> None:
        with self._lock:
            entries = dict(self._entries)  # readers keep the dict they read
            for entry in fresh:
                entries.pop(id(entry[0]), None)
                entries[id(entry[0])] = entry
            excess = len(entries) - self._size
            if excess > 0:
                for key in list(entries)[:excess]:
                    del entries[key]
            self._entries = entries

    # A copy or a pickle of a model that owns a cache starts with an empty one.
    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._size,))

    def __copy__(self) -> HistoryCache[_M]:
        return type(self)(self._size)

    def __deepcopy__(self, memo: dict[int, Any]) -> HistoryCache[_M]:
        return type(self)(self._size)

    def clear(self) -> None:
        with self._lock:
            self._entries = {}


def _state(message: Any) -> Any:
    return getattr(message, "__dict__", None)


def _snapshot(message: Any) -> dict[str, Any] | None:
    """A deep copy of the message's state, or ``None`` (not cached) when it has none or
    it cannot be copied."""
    state = _state(message)
    if not isinstance(state, dict):
        return None
    try:
        snapshot = copy.deepcopy(state)
    except Exception:  # an uncopyable value: convert this message every time
        return None
    return snapshot if snapshot == state else None
