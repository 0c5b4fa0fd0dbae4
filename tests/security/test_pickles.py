"""A pickled model never carries its key: a reference that only this process (and its
forked workers) can resolve; elsewhere the key comes from the environment."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from kimi_core import _adapter as ka

SECRET = "sk-pickle-secret-0123456789abcdef"
KEY_VARS = ("MOONSHOT_API_KEY", "KIMI_API_KEY", "KIMI_BASE_URL")


def test_key_refs() -> None:
    ref = ka.key_ref(SECRET)
    assert ref is not None and SECRET not in ref and ref.startswith("kimi-key-ref:")
    assert ka.key_ref(SECRET) == ref
    assert ka.key_from_ref(ref) == SECRET
    assert ka.key_from_ref("kimi-key-ref:unknown") is None
    assert ka.key_ref(None) is None and ka.key_from_ref(None) is None


def models() -> list[Any]:
    from langchain_kimi import ChatKimi
    from llama_index_kimi import Kimi

    return [ChatKimi(model="kimi-k2.6", api_key=SECRET), Kimi(model="kimi-k2.6", api_key=SECRET)]


def client_key(model: Any) -> str:
    client = model._client if hasattr(model, "_sync_client") else model._get_client()
    return str(client._api_key)


@pytest.mark.parametrize("index", [0, 1], ids=["ChatKimi", "Kimi"])
def test_pickle_has_no_key_and_restores_in_process(index: int) -> None:
    model = models()[index]
    client_key(model)  # build the clients first: they must not travel either
    data = pickle.dumps(model)
    assert SECRET.encode() not in data
    again = pickle.loads(data)
    assert client_key(again) == SECRET
    assert again.model_dump().get("api_key") in (None, "**********") or SECRET not in str(
        again.model_dump()
    )


_CHILD = """
import os, pickle, sys, multiprocessing as mp
import kimi_core as kc
from langchain_kimi import ChatKimi
from llama_index_kimi import Kimi

def key_of(m):
    try:
        c = m._client if hasattr(m, "_sync_client") else m._get_client()
        return c._api_key
    except kc.ConfigurationError as e:
        return "ConfigurationError: " + str(e)

def child(data, q):
    q.put([key_of(pickle.loads(d)) for d in data])

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "spawned":
        data = pickle.load(sys.stdin.buffer)
        print(repr([key_of(pickle.loads(d)) for d in data]))
    else:
        data = [pickle.dumps(m) for m in (ChatKimi(model="kimi-k2.6", api_key=sys.argv[2]), Kimi(model="kimi-k2.6", api_key=sys.argv[2]))]
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=child, args=(data, q))
        p.start(); p.join()
        print(repr(q.get()))
"""


def run_child(mode: str, env: dict[str, str], stdin: bytes = b"") -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), mode, SECRET],
        input=stdin,
        capture_output=True,
        env={**clean, **env},
        check=True,
        timeout=120,
    )
    result: list[str] = eval(proc.stdout.decode().strip().splitlines()[-1])  # our own child's repr
    return result


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_worker_finds_the_key() -> None:
    assert run_child("forked", {}) == [SECRET, SECRET]


def test_a_spawned_process_reads_the_environment_or_says_what_to_set() -> None:
    data = pickle.dumps([pickle.dumps(m) for m in models()])
    assert run_child("spawned", {"MOONSHOT_API_KEY": "env-key"}, data) == ["env-key", "env-key"]
    missing = run_child("spawned", {}, data)
    assert all(
        m.startswith("ConfigurationError") and "MOONSHOT_API_KEY or KIMI_API_KEY" in m
        for m in missing
    ), missing
