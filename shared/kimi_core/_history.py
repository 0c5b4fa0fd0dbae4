"""The wire dicts of a conversation's earlier messages, converted once while unchanged.

An agent sends its whole history with every turn: the same framework messages, one or
two more each time. :class:`HistoryCache` keeps what an adapter's converter made of each
message (its wire dict) with a snapshot of the message's state (a deep copy of its
``__dict__``, the Pydantic models in it, such as LlamaIndex's content blocks, copied as
:class:`_ModelSnapshot`), and hands the wire dict back on a later call only when the very
same message object is passed again with a state equal to the snapshot. The snapshot is
the left operand of that comparison, so a model in the state is compared field by field
by its snapshot (plain dicts, compared in C) rather than by the model's own ``__eq__``.
A message changed in place (its content, a tool call's arguments, a field), or replaced
by another object, is converted again: the cache is never served stale. The last message
of a call is always converted (a converter may treat it differently: LangChain's
``partial`` flag), and a message whose state cannot be copied is never cached.

The cache holds strong references to the messages it remembers (so their ids stay
theirs), at most ``size`` of them, the oldest remembered dropped first. The wire dicts it
returns are shared between calls: callers must not change them (``kimi_core`` copies a
message before adapting it).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from ._body import Encoded

__all__ = ["HistoryCache", "Wire"]

_M = TypeVar("_M")


class Wire(dict[str, Any]):
    """A wire message a :class:`HistoryCache` keeps (read-only by contract), with what
    ``kimi_core``'s checks made of it last (:meth:`checked_for`, :meth:`remember`)."""

    __slots__ = ("_checked",)

    def __init__(self, wire: dict[str, Any]) -> None:
        super().__init__(wire)
        self._checked: tuple[Any, Any, Any, Encoded] | None = None

    def checked_for(self, profile: Any, model: Any, replay: Any) -> Encoded | None:
        """The checked message (read-only, encoded once: ``_body``), if it was checked
        for the same provider profile and model (the same objects) and reasoning
        replay, else ``None``."""
        c = self._checked
        if c is not None and c[0] is profile and c[1] is model and c[2] == replay:
            return c[3]
        return None

    def remember(
        self, profile: Any, model: Any, replay: Any, checked: Mapping[str, Any]
    ) -> Encoded:
        """Keep ``checked`` as the message checked for these; the kept (read-only) copy."""
        kept = Encoded(checked)
        self._checked = (profile, model, replay, kept)
        return kept


class HistoryCache(Generic[_M]):
    """Wire dicts of unchanged earlier messages (see the module docstring)."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 4096) -> None:
        """``size``: how many messages are remembered at most."""
        self._size = size
        #: id(message) -> (message, snapshot of its state, its wire dict)
        self._entries: dict[int, tuple[Any, dict[str, Any], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def convert(
        self,
        messages: Sequence[_M],
        one: Callable[[_M, int, bool], dict[str, Any]],
        keep: Callable[[_M], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """``[one(message, index, is_last) ...]``, with the wire dicts of unchanged
        earlier messages reused. ``keep(message)`` false: the message's wire dict depends
        on more than its state (a file it names) and is never kept."""
        entries = self._entries
        last = len(messages) - 1
        out: list[dict[str, Any]] = []
        fresh: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        get = entries.get
        for i, message in enumerate(messages):
            if i == last:
                out.append(one(message, i, True))
                break
            entry = get(id(message))
            # the snapshot on the left (see the module docstring); a kept message has a
            # __dict__: its snapshot was taken of it
            if entry is not None and entry[0] is message and entry[1] == message.__dict__:
                out.append(entry[2])
                continue
            wire = Wire(one(message, i, False))
            out.append(wire)
            snapshot = _snapshot(message) if keep is None or keep(message) else None
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


class _ModelSnapshot:
    """A Pydantic (v2) model as it was: equal to a model of the same type whose fields,
    extra fields and private attributes equal these (compared with the snapshot's values
    on the left, so nested snapshots compare themselves)."""

    __slots__ = ("extra", "fields", "kind", "private")

    def __init__(self, kind: type, fields: Any, extra: Any, private: Any) -> None:
        self.kind, self.fields, self.extra, self.private = kind, fields, extra, private

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is self.kind
            and self.fields == other.__dict__
            and self.extra == getattr(other, "__pydantic_extra__", None)
            and self.private == getattr(other, "__pydantic_private__", None)
        )

    __hash__ = None  # type: ignore[assignment]


#: Whether a type is a Pydantic (v2) model's, by type.
_MODEL_TYPES: dict[type, bool] = {}


def _is_model(kind: type) -> bool:
    is_model = _MODEL_TYPES.get(kind)
    if is_model is None:
        is_model = _MODEL_TYPES[kind] = (
            hasattr(kind, "__pydantic_fields__")
            and hasattr(kind, "__pydantic_extra__")
            and hasattr(kind, "__pydantic_private__")
        )
    return is_model


def _snapshot(message: Any) -> dict[str, Any] | None:
    """A deep copy of the message's ``__dict__`` (:func:`_copy`), or ``None`` (not
    cached) when it has none, cannot be copied, or does not equal its copy."""
    state = getattr(message, "__dict__", None)
    if type(state) is not dict:
        return None
    try:
        snapshot = _copy(state)
    except Exception:  # an uncopyable value: convert this message every time
        return None
    return snapshot if snapshot == state else None


_ATOMS = (str, int, float, bool, bytes, type(None), type)


def _copy(value: Any) -> Any:
    """A deep copy: the containers of JSON-like data copied by hand (several times faster
    than ``copy.deepcopy``), immutable scalars and types shared, Pydantic models as
    :class:`_ModelSnapshot`, anything else deep-copied."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind in _ATOMS:
        return value
    if _is_model(kind) and type(getattr(value, "__dict__", None)) is dict:
        return _ModelSnapshot(
            kind,
            _copy(value.__dict__),
            _copy(getattr(value, "__pydantic_extra__", None)),
            _copy(getattr(value, "__pydantic_private__", None)),
        )
    return copy.deepcopy(value)
