"""The emulator against recorded real traffic: for each recording, the same request to
the emulator, and the shapes compared at every level. A difference passes only when
``conf_cases.py`` lists it, with its reason; a listed difference that no longer occurs
fails too (the list stays true)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from conf_cases import CASES, Case, allows
from conf_recordings import Exchange, load, parse_sse
from conf_shapes import differences, shape, stream_differences

from kimi_emulator import KimiEmulator


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values) if "{" in value and values else value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def ask(emu: KimiEmulator, case: Case, recorded: Exchange) -> Exchange:
    request = copy.deepcopy(case.request if case.request is not None else recorded.request)
    assert request is not None, f"{case.id}: no request to send"
    if case.setup is not None:
        request = _fill(request, case.setup(emu))
    if case.script is not None:
        emu.script(**case.script)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(timeout=30) as client:
        for _ in range(case.repeat):
            resp = client.post(emu.chat_url, json=request, headers=headers)
    text = resp.text
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        events, comments, done = parse_sse(text)
        return Exchange(request, resp.status_code, events=events, comments=comments, done=done)
    return Exchange(request, resp.status_code, body=json.loads(text), padded=text[:1].isspace())


def compare(case: Case, recorded: Exchange, emulated: Exchange) -> list[str]:
    if case.exact_status is not None:
        out = []
        if emulated.status != case.exact_status:
            out.append(f"status: expected {case.exact_status}, emulated {emulated.status}")
        if emulated.body != recorded.body:
            out.append(f"body: recorded {recorded.body}, emulated {emulated.body}")
        return out
    if recorded.status and recorded.status != emulated.status:  # 0: not recorded
        return [f"status: recorded {recorded.status}, emulated {emulated.status}: {emulated.body}"]
    if recorded.events is not None:
        if emulated.events is None:
            return ["recorded a stream, the emulator answered JSON"]
        out = list(stream_differences(recorded.events, emulated.events))
        if bool(recorded.comments) != bool(emulated.comments):
            out.append(f"SSE comments: recorded {recorded.comments}, emulated {emulated.comments}")
        if recorded.done is not None and recorded.done != emulated.done:
            out.append(f"[DONE]: recorded {recorded.done}, emulated {emulated.done}")
        return out
    if emulated.body is None:
        return ["recorded JSON, the emulator answered a stream"]
    out = list(differences(shape(recorded.body), shape(emulated.body), "$"))
    if recorded.padded != emulated.padded:
        out.append(f"blank lines before the body: recorded {recorded.padded}")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_emulator_answers_like_the_recording(case: Case, kimi_emulator_factory: Any) -> None:
    recorded = load(case.recording)[case.index]
    options: dict[str, Any] = {}
    if case.models is not None:
        options["models"] = case.models
    emu = kimi_emulator_factory(case.dialect, **options)
    emulated = ask(emu, case, recorded)
    found = compare(case, recorded, emulated)
    unlisted = [d for d in found if not any(allows(entry, d) for entry in case.allowed)]
    stale = [entry for entry in case.allowed if not any(allows(entry, d) for d in found)]
    assert not unlisted, f"{case.id}: differences not listed in conf_cases.py:\n" + "\n".join(
        unlisted
    )
    assert not stale, f"{case.id}: listed differences that no longer occur:\n" + "\n".join(stale)
