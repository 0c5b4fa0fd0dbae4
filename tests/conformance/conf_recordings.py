"""Reading the recordings in ``tests/recordings/`` (their sources are in ``SOURCES.json``)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent.parent / "recordings"
SOURCES: dict[str, dict[str, str]] = json.loads((HERE / "SOURCES.json").read_text())["files"]


@dataclass
class Exchange:
    """One recorded request and its answer: a JSON body, or the events of a stream."""

    request: dict[str, Any] | None
    status: int
    body: Any = None
    events: list[dict[str, Any]] | None = None
    #: SSE comment lines and whether ``data: [DONE]`` ended the stream (None: unknown,
    #: the recording kept the chunks only).
    comments: int = 0
    done: bool | None = None
    #: Blank lines before a JSON body (OpenRouter pads its answers).
    padded: bool = False


def path(name: str) -> Path:
    if name not in SOURCES:
        raise KeyError(f"{name} is not in recordings/SOURCES.json")
    return HERE / name


def parse_sse(text: str) -> tuple[list[dict[str, Any]], int, bool]:
    events: list[dict[str, Any]] = []
    comments = 0
    done = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(":"):
            comments += 1
        elif line.startswith("data:"):
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
            else:
                events.append(json.loads(data))
    return events, comments, done


def _answer(request: dict[str, Any] | None, status: int, text: str) -> Exchange:
    if "data:" in text[:200] or text.lstrip().startswith(":"):
        events, comments, done = parse_sse(text)
        return Exchange(request, status, events=events, comments=comments, done=done)
    return Exchange(request, status, body=json.loads(text), padded=text[:1].isspace())


def load(name: str) -> list[Exchange]:
    """The exchanges of one recording, in order."""
    file = path(name)
    if name.endswith(".chunks.txt"):
        events = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
        return [Exchange(None, 200, events=events, done=None)]
    if name.endswith(".sse.txt"):
        events, comments, done = parse_sse(file.read_text())
        return [Exchange(None, 200, events=events, comments=comments, done=done)]
    if name.endswith(".json"):
        body = json.loads(file.read_text())
        status = 200 if "choices" in body else 0  # an error body: the status is not recorded
        return [Exchange(None, status, body=body)]
    if name.endswith(".yaml.gz"):  # vcrpy
        cassette = yaml.safe_load(gzip.decompress(file.read_bytes()))
        return [
            _answer(
                json.loads(req["body"]),
                int(resp["status"]["code"]),
                resp["body"]["string"].decode("utf-8"),
            )
            for req, resp in zip(cassette["requests"], cassette["responses"], strict=True)
        ]
    if name.endswith(".yaml"):  # go-vcr
        cassette = yaml.safe_load(file.read_text())
        return [
            _answer(
                json.loads(i["request"]["body"]), int(i["response"]["code"]), i["response"]["body"]
            )
            for i in cassette["interactions"]
        ]
    raise ValueError(f"no reader for {name}")
