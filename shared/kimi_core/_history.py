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

    __slots__ = ("_entries", "_lock", "_models_in", "_size")

    def __init__(self, size: int = 4096, *, models_in: str | None = None) -> None:
        """``size``: how many messages are remembered; ``models_in``: the field of a
        message that holds a list of Pydantic models (see :func:`_state`)."""
        self._size = size
        self._models_in = models_in
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
        models_in = self._models_in
        last = len(messages) - 1
        out: list[dict[str, Any]] = []
        fresh: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        get = entries.get
        for i, message in enumerate(messages):
            if i == last:
                out.append(one(message, i, True))
                break
            entry = get(id(message))
            if entry is not None and entry[0] is message:
                # a kept message has a __dict__ (its snapshot was taken of it)
                state = message.__dict__ if models_in is None else _state(message, models_in)
                if state == entry[1]:
                    out.append(entry[2])
                    continue
            wire = Wire(one(message, i, False))
            out.append(wire)
            snapshot = _snapshot(message, models_in)
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
        return (_empty, (self._size, self._models_in))

    def __copy__(self) -> HistoryCache[_M]:
        return _empty(self._size, self._models_in)

    def __deepcopy__(self, memo: dict[int, Any]) -> HistoryCache[_M]:
        return _empty(self._size, self._models_in)

    def clear(self) -> None:
        with self._lock:
            self._entries = {}


def _empty(size: int, models_in: str | None) -> HistoryCache[Any]:
    return HistoryCache(size, models_in=models_in)


def _state(message: Any, models_in: str | None) -> dict[str, Any] | None:
    """What the message holds: its ``__dict__``; with ``models_in``, that field's list of
    Pydantic models (LlamaIndex's content blocks) taken apart into ``(type, fields, extra
    fields, private attributes)``, compared as plain dicts rather than by each model's
    ``__eq__`` (a Python method, most of the cost of a comparison otherwise)."""
    state = getattr(message, "__dict__", None)
    if type(state) is not dict:
        return None
    if models_in is None:
        return state
    items = state.get(models_in)
    if type(items) is not list:
        return state
    return {**state, models_in: [_fields(x) for x in items]}


#: Whether a type is a Pydantic model's, by type (a dict lookup instead of attribute tests).
_MODEL_TYPES: dict[type, bool] = {}


def _fields(value: Any) -> Any:
    kind = type(value)
    is_model = _MODEL_TYPES.get(kind)
    if is_model is None:
        is_model = _MODEL_TYPES[kind] = hasattr(kind, "__pydantic_fields__") and hasattr(
            kind, "__pydantic_private__"
        )
    if not is_model or type(getattr(value, "__dict__", None)) is not dict:
        return value
    return (
        kind,
        value.__dict__,
        getattr(value, "__pydantic_extra__", None),
        getattr(value, "__pydantic_private__", None),
    )


def _snapshot(message: Any, models_in: str | None) -> dict[str, Any] | None:
    """A deep copy of the message's state (:func:`_state`), or ``None`` (not cached) when
    it has none, cannot be copied, or does not equal its copy."""
    state = _state(message, models_in)
    if state is None:
        return None
    try:
        snapshot = _copy(state)
    except Exception:  # an uncopyable value: convert this message every time
        return None
    return snapshot if snapshot == state else None


_ATOMS = (str, int, float, bool, bytes, type(None), type)


def _copy(value: Any) -> Any:
    """A deep copy: the containers of JSON-like data copied by hand (several times faster
    than ``copy.deepcopy``), immutable scalars and types shared, anything else deep-copied."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)
