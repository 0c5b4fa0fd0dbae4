"""Response reading and error bodies: what an answer is (a :class:`ChatResult`, a JSON
body) or which typed error it is, and how much of it is read. How an error body of any
dialect maps to a class, which bodies under a 2xx are errors and which headers carry the
request id are decided once, in ``_error_map``; this module applies them to responses.

Bodies are read in chunks up to ``max_body_bytes`` (64 MiB) and error bodies up to
``max_error_bytes`` (1 MiB) against the ``total_timeout`` deadline (``_deadline``); a
redirect is an error naming where it points. The key never reaches an error: a server
body that echoes it is masked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._cut import check_cut, cut_message
from ._deadline import BodyReader, Deadline
from ._error_map import is_error_body, make_status_error, redirect_error, request_id_from
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    KimiError,
    NotFoundError,
    PermissionDeniedError,
    StreamError,
    ToolCallMissingError,
    hide_secret,
    with_note,
)
from ._hints import auth_note, relayed_retirement
from ._models import explain_retired, explain_unknown
from ._providers import ProviderProfile
from ._rules import ChatRequest
from ._secrets import MASK
from ._stream import MalformedChunkError, first_usable_choice, normalize_completion
from ._thinking import check_answer

__all__ = ["ChatResult", "ResponseHandling", "content_type", "request_id_of", "shown"]

#: Keys shorter than this are not masked in server text (no real key is that short).
_MIN_MASKED = 8


@dataclass(frozen=True)
class ChatResult:
    """A whole (non-streamed) chat completion."""

    body: dict[str, Any]
    request: ChatRequest
    request_id: str | None = None

    @property
    def message(self) -> dict[str, Any]:
        """The message of the first choice that has one (there always is one)."""
        choice = first_usable_choice(self.body) or {}
        msg: dict[str, Any] = choice.get("message") or {}
        return msg


def request_id_of(response: httpx.Response) -> str | None:
    """The request id a response's headers carry (``_error_map.REQUEST_ID_HEADERS``)."""
    return request_id_from(response.headers)


def content_type(headers: Mapping[str, str]) -> str:
    ctype = headers.get("content-type")
    return repr(ctype[:100]) if ctype else "no content type"


def shown(raw: bytes) -> str:
    return repr(raw[:200]) + ("..." if len(raw) > 200 else "")


def _transport_error(exc: Exception, provider: str) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return APITimeoutError(f"request timed out ({kind})", provider=provider)
    return APIConnectionError(
        f"connection failed: {type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        provider=provider,
    )


class ResponseHandling:
    """What a client does with a response, whatever drives it: the errors of an attempt
    (transport failure, error status, malformed answer) and the answers it accepts."""

    profile: ProviderProfile
    max_body_bytes: int
    max_error_bytes: int
    _api_key: str

    def _connection_error(self, exc: Exception) -> APIConnectionError:
        """The error for a transport failure, chained to it (``__cause__``): never the
        key, whatever httpx says (in a repr too), so then nothing is chained."""
        err = _transport_error(exc, self.profile.name)
        key = self._api_key.strip()
        if key and key in err.message:
            err = type(err)(err.message.replace(key, MASK), provider=err.provider)
            err.__cause__ = None
        else:
            err.__cause__ = exc
        return err

    @property
    def _maskable_key(self) -> str:
        """The key as it is masked in server words: not one too short to be a real
        secret (a test's ``"k"`` would mask every ``k`` of a message)."""
        key = self._api_key.strip()
        return key if len(key) >= _MIN_MASKED else ""

    def _hidden(self, err: KimiError) -> KimiError:
        """``err`` with the key masked wherever the server's words could carry it."""
        return hide_secret(err, self._maskable_key)

    def _body_reader(self, response: httpx.Response, ok: bool, deadline: Deadline) -> BodyReader:
        """The reader of a response body (a success body, or an error body)."""
        status = response.status_code
        if ok:
            limit, what = self.max_body_bytes, f"the answer (HTTP {status})"
        else:
            limit, what = self.max_error_bytes, f"the HTTP {status} error body"
        return BodyReader(limit, deadline, what, request_id_of(response))

    def _failure(
        self,
        response: httpx.Response,
        ok: bool,
        reader: BodyReader,
        broken: httpx.HTTPError | None,
    ) -> tuple[KimiError, Mapping[str, str] | None]:
        """The error of an attempt whose body was read (or broke), and the headers that
        say how long to wait: a success body that broke is a connection error; an
        error status is the status error, built from what was read of its body."""
        if ok and broken is not None:
            return self._connection_error(broken), None
        err = self._status_error(response, reader.error_body())
        return err, (response.headers if broken is None else None)

    def _status_error(self, response: httpx.Response, raw: bytes) -> APIStatusError:
        status = response.status_code
        if 300 <= status < 400:
            err: APIStatusError = redirect_error(
                status,
                response.headers.get("location"),
                provider=self.profile.name,
                request_id=request_id_of(response),
                body=raw.decode("utf-8", "replace")[:1000] or None,
            )
        else:
            err = make_status_error(
                status, raw, headers=response.headers, provider=self.profile.name
            )
            if isinstance(err, NotFoundError):
                err = explain_retired(err, self.profile.name, response.request.content)
                explain_unknown(err, response.request.content)
                relayed_retirement(err, self.profile, response.request.content)
            elif isinstance(err, (AuthenticationError, PermissionDeniedError)):
                with_note(err, auth_note(self.profile, self._api_key.strip()))
        key = self._maskable_key
        if key and key.encode() in raw:
            hide_secret(err, key)
        return err

    def _completion(self, request: ChatRequest, raw: bytes, response: httpx.Response) -> ChatResult:
        request_id = request_id_of(response)
        status = response.status_code
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
            problem = f"is not JSON: {shown(raw)}"
        else:
            problem = "" if isinstance(body, dict) else f"is a JSON {type(body).__name__}"
        if not problem:
            if is_error_body(body):
                # Some gateways answer 200 with an error body (AceData: "success": false).
                raise self._status_error(response, raw)
            try:
                normalize_completion(body)
            except MalformedChunkError as exc:
                problem = f"is malformed: {exc}"
            else:
                if first_usable_choice(body) is None:
                    problem = "has no usable choice (no choice with a message)"
        if problem:
            err = StreamError(
                f"the answer (HTTP {status}, {content_type(response.headers)}) {problem}",
                status_code=status,
                provider=self.profile.name,
                request_id=request_id,
                body=body,
            )
            raise self._hidden(err)
        result = ChatResult(body=body, request=request, request_id=request_id)
        self._check_answer(request, result.body, request_id)
        return result

    def _check_answer(self, request: ChatRequest, body: dict[str, Any], rid: str | None) -> None:
        """The plan's check of a forced call, then the check of an answer cut while the
        model was still reasoning (``_cut``): a missing call says it was cut, if it was."""
        try:
            check_answer(request.plan, body, provider=self.profile.name, request_id=rid)
        except ToolCallMissingError as err:
            cut = cut_message(request, self.profile, body)
            raise (with_note(err, cut) if cut else err) from None
        check_cut(request, self.profile, body, request_id=rid)

    def _json(self, raw: bytes, response: httpx.Response) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise self._hidden(
                StreamError(
                    f"the answer (HTTP {response.status_code}, {content_type(response.headers)}) "
                    f"is not JSON: {shown(raw)}",
                    status_code=response.status_code,
                    provider=self.profile.name,
                    request_id=request_id_of(response),
                )
            ) from None
