"""The recorded responder: answers from recorded traffic, while the server still checks
every request against Kimi's rules.

Sources (a file, or a folder read in name order):

- vcrpy cassettes: YAML (this project's ``cassettes/``; reading YAML needs PyYAML, which
  vcrpy and langchain-core install) or JSON (``serializer="json"``, and what
  ``kimi-emulator --record`` writes), gzipped or not. Only chat-completion interactions
  are used;
- recorded response bodies with no request: a JSON chat completion or error body
  (``*.json``), or a stream (``*.chunks.txt``: one JSON chunk a line; ``*.sse`` /
  ``*.txt``: ``data:`` lines). They match any request.

A recording is matched to the incoming request by the fields of ``match_on`` (default
``("last_user", "tools")``): ``last_user`` (the text of the last user message),
``tools`` (the names of the tools offered), ``model``, ``step`` (how many messages follow
the last user message: the turn of an agent loop), ``messages`` (the whole list). Among
the recordings that match, the first one not yet served answers (a tool loop replays its
turns in order); when all were served, the last of them answers again. No match is a 400
whose message names the closest recording and how it differs.

The recorded answer is rendered in the dialect's wire shape like any other (streamed if
the request streams); a recorded error (status 400 and up) is sent back as recorded.
"""

from __future__ import annotations

import difflib
import gzip
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._responders import ChatRequest, Rejection, Reply
from ._rules import _content_text

__all__ = ["MATCH_FIELDS", "RecordedResponder", "Recording", "load_recordings"]

MATCH_FIELDS = ("last_user", "tools", "model", "step", "messages")
_SUFFIXES = (".yaml", ".yml", ".json", ".yaml.gz", ".yml.gz", ".json.gz", ".sse", ".txt")


@dataclass
class Recording:
    """One recorded answer: the request body it answered (None: any), the response."""

    source: str
    request: Mapping[str, Any] | None
    status: int
    body: bytes
    content_type: str = ""

    def answer(self) -> Reply | Rejection:
        """The recorded message (a JSON body or a stream), or the recorded error."""
        text = self.body.decode("utf-8", "replace")
        if self.status >= 400:
            try:
                body: Any = json.loads(text)
            except ValueError:
                body = text
            headers = {"Content-Type": self.content_type} if self.content_type else {}
            return Rejection(self.status, body=body, headers=headers)
        if "event-stream" in self.content_type or _looks_like_stream(text):
            return _from_chunks(_chunks(text), self.source)
        return _from_completion(json.loads(text), self.source)


def _looks_like_stream(text: str) -> bool:
    head = text.lstrip()
    return head.startswith(("data:", ":")) or (
        head.startswith("{") and "\n{" in head.rstrip() and '"chat.completion.chunk"' in head
    )


def _chunks(text: str) -> list[dict[str, Any]]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("data:"):
            line = line[5:].strip()
        if not line.startswith("{"):
            continue  # comments, [DONE], event names, blank lines
        data = json.loads(line)
        if isinstance(data, dict):
            out.append(data)
    return out


def _from_completion(body: Any, source: str) -> Reply:
    try:
        choice = body["choices"][0]
        msg = choice["message"]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"{source}: not a chat completion (no choices[0].message)") from None
    calls = [
        {
            "name": tc["function"]["name"],
            "arguments": tc["function"].get("arguments") or "{}",
            "id": tc.get("id") or "",
        }
        for tc in msg.get("tool_calls") or ()
    ]
    reasoning = msg.get("reasoning_content", msg.get("reasoning"))
    return Reply(
        content=msg.get("content"),
        reasoning=reasoning if isinstance(reasoning, str) else None,
        tool_calls=calls,
        finish_reason=choice.get("finish_reason"),
        usage=body.get("usage"),
        model=body.get("model"),
    )


def _from_chunks(chunks: list[dict[str, Any]], source: str) -> Reply:
    if not chunks:
        raise ValueError(f"{source}: no stream chunks")
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    usage = None
    model = None
    for chunk in chunks:
        model = chunk.get("model") or model
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if isinstance(choice.get("usage"), dict):
                usage = choice["usage"]
            finish = choice.get("finish_reason") or finish
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                content.append(delta["content"])
            r = delta.get("reasoning_content", delta.get("reasoning"))
            if isinstance(r, str):
                reasoning.append(r)
            for pos, tc in enumerate(delta.get("tool_calls") or ()):
                index = tc.get("index", pos if tc.get("id") else max(calls, default=0))
                call = calls.setdefault(index, {"name": "", "arguments": "", "id": ""})
                fn = tc.get("function") or {}
                call["id"] = tc.get("id") or call["id"]
                call["name"] = fn.get("name") or call["name"]
                call["arguments"] += fn.get("arguments") or ""
    return Reply(
        content="".join(content) if content else None,
        reasoning="".join(reasoning) if reasoning else None,
        tool_calls=[calls[i] for i in sorted(calls)],
        finish_reason=finish,
        usage=usage,
        model=model,
    )


# --------------------------------------------------------------------------- loading


def _read(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def _load_yaml(text: str, path: Path) -> Any:
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - PyYAML comes with vcrpy and langchain-core
        raise ValueError(
            f"{path}: reading a YAML cassette needs PyYAML (pip install pyyaml); "
            "JSON cassettes need nothing"
        ) from None
    return yaml.safe_load(text)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, Mapping):
        value = value.get("string", value.get("base64_string", ""))
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _header(headers: Any, name: str) -> str:
    if not isinstance(headers, Mapping):
        return ""
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return ""


def _from_cassette(data: Mapping[str, Any], source: str) -> list[Recording]:
    out = []
    for i, item in enumerate(data.get("interactions") or ()):
        request, response = item.get("request") or {}, item.get("response") or {}
        if not urlsplit(str(request.get("uri", ""))).path.endswith("/chat/completions"):
            continue
        try:
            sent = json.loads(_as_bytes(request.get("body")) or b"null")
        except ValueError:
            sent = None
        body = _as_bytes(response.get("body"))
        headers = response.get("headers")
        if _header(headers, "content-encoding") == "gzip" and body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        status = response.get("status") or {}
        code = int(status.get("code", 200) if isinstance(status, Mapping) else status)
        out.append(
            Recording(
                f"{source}#{i}",
                sent if isinstance(sent, Mapping) else None,
                code,
                body,
                _header(headers, "content-type"),
            )
        )
    return out


def load_recordings(source: str | Path) -> list[Recording]:
    """The recordings in a file or a folder (its files in name order)."""
    path = Path(source)
    if path.is_dir():
        found: list[Recording] = []
        for child in sorted(path.iterdir()):
            if child.is_file() and child.name.endswith(_SUFFIXES):
                found.extend(load_recordings(child))
        return found
    if not path.is_file():
        raise ValueError(f"recordings={str(source)!r}: no such file or folder")
    text = _read(path)
    name = path.name.removesuffix(".gz")
    if name.endswith((".yaml", ".yml")):
        data = _load_yaml(text, path)
        return _from_cassette(data, str(path)) if isinstance(data, Mapping) else []
    if name.endswith(".json"):
        data = json.loads(text)
        if isinstance(data, Mapping) and "interactions" in data:
            return _from_cassette(data, str(path))
        status = 400 if isinstance(data, Mapping) and "error" in data else 200
        return [Recording(str(path), None, status, text.encode(), "application/json")]
    return [Recording(str(path), None, 200, text.encode(), "text/event-stream")]


#: What ``recordings=`` takes: a path (file or folder), or several paths and recordings.
RecordingSources = str | Path | Iterable[str | Path | Recording]


# --------------------------------------------------------------------------- matching


def _key(messages: Sequence[Any], tools: Iterable[str], model: str) -> dict[str, Any]:
    last = -1
    for i, msg in enumerate(messages):
        if isinstance(msg, Mapping) and msg.get("role") == "user":
            last = i
    user = _content_text(messages[last].get("content")) if last >= 0 else ""
    return {
        "last_user": user.strip(),
        "tools": sorted(tools),
        "model": model,
        "step": len(messages) - last - 1,
        "messages": json.dumps(messages, sort_keys=True, ensure_ascii=False, default=str),
    }


def _request_key(body: Mapping[str, Any]) -> dict[str, Any]:
    tools = []
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping):
            fn = tool.get("function")
            name = fn.get("name") if isinstance(fn, Mapping) else tool.get("type")
            tools.append(str(name))
    messages = body.get("messages")
    return _key(messages if isinstance(messages, list) else [], tools, str(body.get("model")))


class RecordedResponder:
    """Answers from recordings matched to each request (see the module docstring)."""

    def __init__(
        self,
        recordings: RecordingSources = (),
        *,
        match_on: Sequence[str] = ("last_user", "tools"),
    ) -> None:
        unknown = [f for f in match_on if f not in MATCH_FIELDS]
        if unknown:
            raise ValueError(
                f"match_on={list(match_on)!r}: unknown field(s) {unknown}; choose from "
                f"{', '.join(MATCH_FIELDS)}"
            )
        self.match_on = tuple(match_on)
        items = [recordings] if isinstance(recordings, (str, Path)) else list(recordings)
        self.recordings: list[Recording] = []
        for item in items:
            if isinstance(item, Recording):
                self.recordings.append(item)
            else:
                self.recordings.extend(load_recordings(item))
        if not self.recordings:
            raise ValueError(
                f"recordings={recordings!r}: no chat recording found (vcrpy cassettes, "
                "*.json bodies, *.chunks.txt or *.sse streams)"
            )
        self._keys = [_request_key(r.request) if r.request else None for r in self.recordings]
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Every recording may answer again (``emu.reset()`` calls this)."""
        with self._lock:
            self._used.clear()

    def respond(self, request: ChatRequest) -> Reply | Rejection:
        names = [str(fn.get("name")) for fn in request.functions] + list(request.builtins)
        want = _key(request.messages, names, request.model)
        fields = self.match_on
        matches = [
            i
            for i, key in enumerate(self._keys)
            if key is None or all(key[f] == want[f] for f in fields)
        ]
        if not matches:
            return self._no_match(want)
        with self._lock:
            fresh = [i for i in matches if i not in self._used]
            same_step = [i for i in fresh if (k := self._keys[i]) and k["step"] == want["step"]]
            pick = (same_step or fresh or matches[-1:])[0]
            self._used.add(pick)
        return self.recordings[pick].answer()

    def _no_match(self, want: dict[str, Any]) -> Rejection:
        def score(key: dict[str, Any]) -> float:
            ratio = difflib.SequenceMatcher(None, key["last_user"], want["last_user"]).ratio()
            tools = set(key["tools"]) | set(want["tools"])
            overlap = len(set(key["tools"]) & set(want["tools"])) / len(tools) if tools else 1
            return float(ratio + overlap + (0.1 if key["model"] == want["model"] else 0.0))

        scored = [(score(k), i) for i, k in enumerate(self._keys) if k is not None]
        about = f"last user message {want['last_user'][:100]!r}, tools {want['tools']}"
        message = (
            f"kimi-emulator: no recording matches this request (matched on "
            f"{', '.join(self.match_on)}): {about}."
        )
        if scored:
            i = max(scored)[1]
            key = self._keys[i]
            assert key is not None
            differs = [f for f in self.match_on if key[f] != want[f]]
            message += (
                f" Closest: {self.recordings[i].source} (last user message "
                f"{key['last_user'][:100]!r}, tools {key['tools']}; differs in "
                f"{', '.join(differs)})."
            )
        return Rejection(400, message)
