"""Keys out of pickles.

A pickled model carries a reference to its API key, never the key: the key stays in
this process's memory, where :func:`key_from_ref` finds it again, in this process and in
workers forked from it (multiprocessing's default on Linux, LlamaIndex's
``num_workers``). Elsewhere (a spawned worker, another machine) the reference finds
nothing and the key is resolved again from the environment, as for a model built
without ``api_key``.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "headers_by_ref",
    "headers_from_ref",
    "key_from_ref",
    "key_ref",
    "redact_headers",
    "scrub",
    "state_with_key",
    "state_without_key",
]

MASK = "**********"
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|signature|password", re.IGNORECASE)

_PREFIX = "kimi-key-ref:"
_lock = threading.Lock()
_refs: dict[str, str] = {}  # key -> ref
_keys: dict[str, str] = {}  # ref -> key


def key_ref(key: str | None) -> str | None:
    """An opaque reference to ``key`` for a pickle (the same one for the same key)."""
    if not key:
        return None
    with _lock:
        ref = _refs.get(key)
        if ref is None:
            ref = _refs[key] = _PREFIX + secrets.token_hex(16)
            _keys[ref] = key
        return ref


def key_from_ref(ref: object) -> str | None:
    """The key a reference stands for, if this process (or its parent) holds it."""
    if not isinstance(ref, str):
        return None
    with _lock:
        return _keys.get(ref)


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """Headers with the values of credential-like ones masked (for reprs and dumps)."""
    if headers is None:
        return None
    return {k: MASK if _SECRET_HEADER.search(k) else v for k, v in headers.items()}


def scrub(value: Any, secret: str) -> Any:
    """``value`` with ``secret`` masked in every string of it (dict keys too).

    Dicts and lists are changed in place (they are decoded server bodies the caller
    owns), without recursion, so any depth is fine.
    """
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, MASK)
    stack: list[Any] = [value] if isinstance(value, (dict, list)) else []
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    node[i] = item.replace(secret, MASK)
                elif isinstance(item, (dict, list)):
                    stack.append(item)
            continue
        for key, item in list(node.items()):
            if isinstance(item, str):
                item = item.replace(secret, MASK)
            elif isinstance(item, (dict, list)):
                stack.append(item)
            if isinstance(key, str) and secret in key:
                del node[key]
                key = key.replace(secret, MASK)
            node[key] = item
    return value


_REF_KEY = "kimi_key_ref"


def headers_by_ref(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """Headers with each credential value replaced by a reference (:func:`key_ref`)."""
    if not headers:
        return None if headers is None else {}
    return {
        k: (key_ref(v) or v) if _SECRET_HEADER.search(k) and isinstance(v, str) else v
        for k, v in headers.items()
    }


def headers_from_ref(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """The headers :func:`headers_by_ref` made, with the values this process holds back
    (a credential not found is left out: it is never guessed)."""
    if headers is None:
        return None
    out: dict[str, str] = {}
    for k, v in headers.items():
        if isinstance(v, str) and v.startswith(_PREFIX):
            found = key_from_ref(v)
            if found is None:
                continue
            v = found
        out[k] = v
    return out


def state_without_key(
    state: Mapping[str, Any],
    *,
    field: str = "api_key",
    private: Iterable[str] = (),
    headers: str = "default_headers",
) -> dict[str, Any]:
    """A pydantic model's pickle state (``__getstate__``) with the key field replaced by a
    reference, the credential values of the ``headers`` field too, and the ``private``
    attributes that hold the key (clients) dropped."""
    fields = dict(state["__dict__"])
    key = fields.get(field)
    fields[field] = None
    if fields.get(headers):
        fields[headers] = headers_by_ref(fields[headers])
    held = dict(state.get("__pydantic_private__") or {})
    held.update(dict.fromkeys(private))
    reveal = getattr(key, "get_secret_value", None)
    secret = reveal() if callable(reveal) else key
    return {**state, "__dict__": fields, "__pydantic_private__": held, _REF_KEY: key_ref(secret)}


def state_with_key(
    state: Mapping[str, Any],
    *,
    wrap: Callable[[str], Any],
    field: str = "api_key",
    headers: str = "default_headers",
) -> dict[str, Any]:
    """The state :func:`state_without_key` made, with the key back (``wrap``-ped, e.g. in
    a ``SecretStr``) and the credential headers back, when this process holds them."""
    out = dict(state)
    key = key_from_ref(out.pop(_REF_KEY, None))
    fields = dict(out["__dict__"])
    if key is not None:
        fields[field] = wrap(key)
    if fields.get(headers):
        fields[headers] = headers_from_ref(fields[headers])
    out["__dict__"] = fields
    return out
