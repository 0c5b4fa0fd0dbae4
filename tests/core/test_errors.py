"""Error mapping from every provider dialect (docs/kimi-platform.md §7) to the typed tree."""

from __future__ import annotations

import pickle

import pytest

import kimi_core as kc
from kimi_core import _adapter as ka
from kimi_core._error_map import (
    _excerpt,
    make_status_error,
    parse_error_body,
    redirect_error,
    short_json,
    stream_error_event,
)
from kimi_core._errors import hide_secret, with_note
from kimi_core._secrets import scrub


def moonshot(kind: str, message: str) -> dict[str, object]:
    return {"error": {"type": kind, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (
            400,
            moonshot("invalid_request_error", "Invalid request: bad"),
            kc.BadRequestError,
            "invalid_request_error",
        ),
        (
            400,
            moonshot(
                "content_filter", "The request was rejected because it was considered high risk"
            ),
            kc.ContentFilterError,
            "content_filter",
        ),
        (
            400,
            moonshot(
                "invalid_request_error",
                "Your request exceeded model token limit: 262144 (requested: 269030)",
            ),
            kc.ContextWindowExceededError,
            "invalid_request_error",
        ),
        (
            400,
            moonshot("invalid_request_error", "Input token length too long"),
            kc.ContextWindowExceededError,
            "invalid_request_error",
        ),
        (
            401,
            moonshot("invalid_authentication_error", "Invalid Authentication"),
            kc.AuthenticationError,
            "invalid_authentication_error",
        ),
        (
            401,
            moonshot("incorrect_api_key_error", "Incorrect API key provided"),
            kc.AuthenticationError,
            "incorrect_api_key_error",
        ),
        (
            403,
            moonshot("permission_denied_error", "denied"),
            kc.PermissionDeniedError,
            "permission_denied_error",
        ),
        (
            404,
            moonshot("resource_not_found_error", "Not found the model kimi-x or Permission denied"),
            kc.NotFoundError,
            "resource_not_found_error",
        ),
        (
            429,
            moonshot("engine_overloaded_error", "The engine is currently overloaded"),
            kc.RateLimitError,
            "engine_overloaded_error",
        ),
        (
            429,
            moonshot("rate_limit_reached_error", "max RPM: 3, please try again after 1 seconds"),
            kc.RateLimitError,
            "rate_limit_reached_error",
        ),
        (
            429,
            moonshot("exceeded_current_quota_error", "Your account is suspended"),
            kc.InsufficientQuotaError,
            "exceeded_current_quota_error",
        ),
        (500, moonshot("server_error", "boom"), kc.InternalServerError, "server_error"),
        (
            500,
            moonshot("unexpected_output", "bad output"),
            kc.InternalServerError,
            "unexpected_output",
        ),
        # AceData, with and without "success": false.
        (
            400,
            {"error": {"code": "bad_request", "message": "bad"}, "trace_id": "t1"},
            kc.BadRequestError,
            "bad_request",
        ),
        (
            400,
            {
                "success": False,
                "error": {"code": "token_mismatched", "message": "x"},
                "trace_id": "t",
            },
            kc.BadRequestError,
            "token_mismatched",
        ),
        (
            401,
            {"error": {"code": "invalid_token", "message": "invalid token"}, "trace_id": "t"},
            kc.AuthenticationError,
            "invalid_token",
        ),
        (
            403,
            {"error": {"code": "used_up", "message": "balance used up"}, "trace_id": "t"},
            kc.InsufficientQuotaError,
            "used_up",
        ),
        (
            403,
            {"error": {"code": "disabled", "message": "disabled"}, "trace_id": "t"},
            kc.PermissionDeniedError,
            "disabled",
        ),
        (
            404,
            {"error": {"code": "no_api", "message": "no api"}, "trace_id": "t"},
            kc.NotFoundError,
            "no_api",
        ),
        (
            429,
            {
                "success": False,
                "error": {"code": "too_many_requests", "message": "slow down"},
                "trace_id": "t",
            },
            kc.RateLimitError,
            "too_many_requests",
        ),
        (
            500,
            {
                "success": False,
                "error": {"code": "api_error", "message": "fetch failed"},
                "trace_id": "2cf86e86",
            },
            kc.InternalServerError,
            "api_error",
        ),
        (
            504,
            {"error": {"code": "timeout", "message": "timeout"}, "trace_id": "t"},
            kc.InternalServerError,
            "timeout",
        ),
        # GPTProto: the status as the type.
        (
            401,
            {"error": {"message": "API key is missing or invalid", "type": "401"}},
            kc.AuthenticationError,
            None,
        ),
        (
            403,
            {
                "error": {
                    "message": "insufficient balance for the requested operation",
                    "type": "403",
                }
            },
            kc.InsufficientQuotaError,
            None,
        ),
        (
            400,
            {
                "error": {
                    "message": "Content blocked due to content policy violation",
                    "type": "400",
                }
            },
            kc.ContentFilterError,
            None,
        ),
        # OpenAI style.
        (
            429,
            {
                "error": {
                    "message": "quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            kc.InsufficientQuotaError,
            "insufficient_quota",
        ),
        (
            400,
            {
                "error": {
                    "message": "context_length_exceeded: maximum context length",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            kc.ContextWindowExceededError,
            "context_length_exceeded",
        ),
        (408, {"error": {"message": "timeout", "type": "timeout"}}, kc.BadRequestError, "timeout"),
    ],
)
def test_dialects_map_to_the_tree(
    status: int, body: dict[str, object], cls: type, code: str | None
) -> None:
    import json

    err = make_status_error(status, json.dumps(body).encode(), headers={}, provider="p")
    assert type(err) is cls
    assert err.status_code == status
    assert err.code == code
    assert err.message and err.message in str(err)
    assert f"HTTP {status}" in str(err)
    assert err.body == body


def test_quota_is_not_a_rate_limit_and_is_never_retryable() -> None:
    err = make_status_error(
        429, b'{"error":{"type":"exceeded_current_quota_error","message":"insufficient balance"}}'
    )
    assert isinstance(err, kc.InsufficientQuotaError)
    assert not isinstance(err, kc.RateLimitError)
    assert err.retryable is False


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (503, True),
        (400, False),
        (401, False),
        (404, False),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert make_status_error(status, b"{}").retryable is retryable


def test_request_id_sources() -> None:
    body = b'{"error":{"type":"server_error","message":"x"}}'
    assert make_status_error(500, body, headers={"x-trace-id": "tr"}).request_id == "tr"
    assert make_status_error(500, body, headers={"x-request-id": "rq"}).request_id == "rq"
    acedata = b'{"error":{"code":"api_error","message":"x"},"trace_id":"body-trace"}'
    err = make_status_error(500, acedata, headers={})
    assert err.request_id == "body-trace"
    assert "request_id=body-trace" in str(err)


def test_html_body_from_a_proxy_gives_a_readable_excerpt() -> None:
    html = b"<html><head><title>502 Bad Gateway</title><style>p{}</style></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
    err = make_status_error(502, html, headers={"content-type": "text/html"}, provider="moonshot")
    assert isinstance(err, kc.InternalServerError)
    assert err.status_code == 502
    assert "502 Bad Gateway" in err.message
    assert "<" not in err.message
    assert "provider=moonshot" in str(err)


def test_plain_text_and_empty_bodies() -> None:
    assert make_status_error(503, b"upstream connect error").message == "upstream connect error"
    empty = make_status_error(503, b"", provider="evolink")
    assert "503" in empty.message and "evolink" in empty.message


def test_error_body_under_200_uses_the_code_status() -> None:
    err = make_status_error(
        200, b'{"success":false,"error":{"code":"too_many_requests","message":"x"}}'
    )
    assert isinstance(err, kc.RateLimitError) and err.status_code == 429


def test_parse_error_body_keeps_non_json() -> None:
    body, code, message, trace = parse_error_body(b"<b>oops</b>")
    assert body == "<b>oops</b>" and code is None and message == "oops" and trace is None


def test_stream_error_event() -> None:
    err = stream_error_event(
        {"error": {"type": "server_error", "message": "overloaded mid-stream"}},
        provider="moonshot",
        request_id="r1",
    )
    assert isinstance(err, kc.StreamError)
    assert err.code == "server_error" and err.request_id == "r1"
    assert "overloaded mid-stream" in str(err)


def test_stream_error_event_drops_a_status_used_as_code() -> None:
    err = stream_error_event(
        {"error": {"message": "upstream failed", "type": "500"}},
        provider="gptproto",
        request_id=None,
    )
    assert err.code is None and "upstream failed" in str(err)


def test_errors_pickle_with_their_fields() -> None:
    err = make_status_error(
        429,
        b'{"error":{"type":"rate_limit_reached_error","message":"slow"}}',
        headers={"x-trace-id": "t"},
        provider="moonshot",
    )
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is kc.RateLimitError
    assert (back.status_code, back.code, back.request_id, back.provider, back.message) == (
        429,
        "rate_limit_reached_error",
        "t",
        "moonshot",
        "slow",
    )
    assert str(back) == str(err)


def test_configuration_error_is_a_value_error() -> None:
    err = kc.ConfigurationError(
        "n=9 is not accepted", param="n", provider="moonshot", model="kimi-k2.5"
    )
    assert isinstance(err, ValueError) and isinstance(err, kc.KimiError)
    assert str(err) == "n=9 is not accepted" and err.param == "n"


def test_configuration_error_pickles_with_its_fields() -> None:
    err = kc.ConfigurationError(
        "n=9 is not accepted", param="n", provider="moonshot", model="kimi-k2.5"
    )
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.param, back.model, back.provider) == (
        str(err),
        "n",
        "kimi-k2.5",
        "moonshot",
    )


# -- bounded, linear, safe for any shape -------------------------------------------------


def test_the_excerpt_reads_only_the_first_kib() -> None:
    page = "<p>" + "word " * 100_000 + "</p>"
    assert len(_excerpt(page)) == 300 and _excerpt(page).endswith("…")
    assert _excerpt("<script>" + "x" * 10_000) == ""  # a script never closed: nothing to show
    assert _excerpt("a <b c") == "a <b c"  # not a tag
    assert _excerpt("<STYLE>p{}</style>kept") == "kept"


@pytest.mark.parametrize(
    "raw",
    [b"[" * 5000 + b"]" * 5000, b'{"error": ' * 3000 + b"1" + b"}" * 3000],
    ids=["deep list", "deep error"],
)
def test_deep_json_is_text_or_a_short_excerpt(raw: bytes) -> None:
    err = make_status_error(500, raw, provider="p")
    assert isinstance(err, kc.InternalServerError) and len(err.message) <= 300


def test_odd_field_types_are_never_a_deep_repr() -> None:
    _body, code, message, trace = parse_error_body(
        b'{"error": {"message": {"a": [1, 2]}, "code": {"x": 1}, "trace_id": [1]}}'
    )
    assert (code, trace) == (None, None) and message == '{"a": [1, 2]}'
    assert short_json([[[[1]]]] * 200).endswith("…")
    # 5,000 deep: json refuses it up to Python 3.12 and encodes it from 3.13 on, so the
    # outcome is either the refusal or a 300-character excerpt of the brackets; 100,000
    # deep is refused by every version. Never a repr of the whole, never long.
    shown = short_json(nested(5000))
    assert shown in ("<list nested too deeply to show>", "[" * 299 + "…")
    assert short_json(nested(100_000)) == "<list nested too deeply to show>"


def nested(depth: int) -> list[object]:
    deep: list[object] = []
    node = deep
    for _ in range(depth):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    return deep


def test_stream_error_event_with_a_deep_payload() -> None:
    payload = {"error": {"message": None}, "x": [[[[[[1]]]]]]}
    err = stream_error_event(payload, provider="p", request_id=None)
    assert isinstance(err, kc.StreamError) and len(err.message) < 400


def test_a_redirect_error_names_the_location_and_is_not_retried() -> None:
    err = redirect_error(308, "https://a.example/v1", provider="p", request_id="r1")
    assert type(err) is kc.APIStatusError and not err.retryable
    assert "'https://a.example/v1'" in str(err) and "HTTP 308" in str(err) and "r1" in str(err)
    assert "without a Location header" in str(
        redirect_error(301, None, provider="p", request_id=None)
    )


def test_hide_secret_masks_everywhere_a_server_can_echo() -> None:
    key = "sk-secret-abcdef0123456789"
    err = make_status_error(
        401,
        f'{{"error": {{"message": "bad {key}", "type": "{key}"}}, "{key}": ["{key}"]}}'.encode(),
        provider="p",
    )
    hide_secret(err, key)
    assert key not in str(err) and key not in repr(err.body) and key not in (err.code or "")
    assert ka.MASK in err.message
    again = pickle.loads(pickle.dumps(err))
    assert key not in str(again)


def test_scrub_any_depth_in_place() -> None:
    node: dict[str, object] = {"s": "k"}
    doc = node
    for _ in range(3000):
        node["n"] = {"s": "xkx"}
        node = node["n"]  # type: ignore[assignment]
    scrub(doc, "k")
    assert "k" not in str(doc["s"]) and doc["n"]["s"] == "x**********x"  # type: ignore[index]
    assert scrub("a k b", "k") == "a ********** b" and scrub(5, "k") == 5


def test_with_note_keeps_the_fields() -> None:
    err = make_status_error(
        429, b'{"error": {"type": "rate_limit_reached_error", "message": "slow"}}', provider="p"
    )
    with_note(err, "not retried")
    assert str(err).startswith("[HTTP 429 rate_limit_reached_error] slow (not retried)")
    assert err.code == "rate_limit_reached_error" and err.retryable


def test_tool_arguments_error_is_a_value_error_and_pickles() -> None:
    err = kc.ToolArgumentsError("bad", tool_name="f", tool_call_id="c", arguments="{")
    assert isinstance(err, (kc.KimiError, ValueError))
    again = pickle.loads(pickle.dumps(err))
    assert (again.tool_name, again.tool_call_id, again.arguments, str(again)) == (
        "f",
        "c",
        "{",
        "bad",
    )
