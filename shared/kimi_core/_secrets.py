"""Keys out of pickles.

A pickled model carries a reference to its API key, never the key: the key stays in
this process's memory, where :func:`key_from_ref` finds it again, in this process and in
workers forked from it (multiprocessing's default on Linux, LlamaIndex's
``num_workers``). Elsewhere (a spawned worker, another machine) the reference finds
nothing and the key is resolved again from the environment, as for a model built
without ``api_key``.
"""

from __future__ import annotations

import secrets
import threading

__all__ = ["key_from_ref", "key_ref"]

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
