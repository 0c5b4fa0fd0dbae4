"""A request body as the bytes sent, with what an agent sends every turn encoded once.

An agent sends the same tools and the same earlier messages with every turn; encoding
them is most of the work of ``json.dumps(body)`` (a 20-tool set is ~100 µs, a 100-turn
history ~300 µs). The rule modules hand out those parts as :class:`Encoded` dicts, kept
between calls (a checked tool set, ``_tool_rules``; an earlier message checked once,
``_history`` / ``_message_rules``): read-only, each encodes itself once.
:func:`encode_body` joins the kept encodings with the rest of the body encoded afresh.

The text is what httpx 0.28 sends for ``json=body``: compact, non-ASCII kept, and no
``NaN`` / ``Infinity`` (not JSON: a ``ValueError``, as from httpx).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, NoReturn

__all__ = ["Encoded", "encode_body"]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class Encoded(dict[str, Any]):
    """A part of a request body kept between calls: a read-only dict that encodes itself
    once (:meth:`json`). Changing it is a ``TypeError`` (copy it first: ``dict(part)``);
    the values in it are shared too and must not be changed either. A copy or a pickle
    of one is a plain dict."""

    __slots__ = ("_json",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._json: str | None = None

    def json(self) -> str:
        """The JSON text of this part (encoded on the first call)."""
        text = self._json
        if text is None:
            text = self._json = _dumps(self)
        return text

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            "this dict is part of a request kept for later calls and is read-only; "
            "change a copy (dict(part)) instead"
        )

    __setitem__ = __delitem__ = _read_only
    update = pop = popitem = clear = setdefault = _read_only
    __ior__ = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self), memo)


def _list(items: list[Any]) -> str:
    return "[" + ",".join(i.json() if type(i) is Encoded else _dumps(i) for i in items) + "]"


def encode_body(body: Mapping[str, Any]) -> bytes:
    """``body`` as JSON bytes: the :class:`Encoded` parts of its lists (messages, tools)
    from their kept text, everything else encoded now."""
    if any(type(key) is not str for key in body):
        return _dumps(body).encode()  # keys json turns into text (1 -> "1")
    parts = [
        _dumps(key) + ":" + (_list(value) if type(value) is list else _dumps(value))
        for key, value in body.items()
    ]
    return ("{" + ",".join(parts) + "}").encode()
