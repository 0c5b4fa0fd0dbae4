"""The platform endpoints beyond chat, as flows (``_drivers``) both clients run: models
(``GET /models``), the token estimate, the balance and files (upload, list, get, content,
delete). The Batch API is the resource in ``_batch``; file extraction, built on the files
endpoints, is in ``_extraction``. Each flow checks first that the provider serves the
endpoint, and each answer that it has the shape the platform documents.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from ._drivers import Flow
from ._error_map import _excerpt
from ._errors import ConfigurationError, StreamError

if TYPE_CHECKING:
    from ._base_client import ClientLogic

__all__ = [
    "answer_dict",
    "answer_list",
    "balance_flow",
    "file_content_flow",
    "file_flow",
    "files_flow",
    "models_flow",
    "require_platform",
    "token_count_flow",
    "upload_flow",
]


def require_platform(logic: ClientLogic[Any], what: str) -> None:
    """A ConfigurationError unless the provider serves Moonshot's platform endpoints."""
    profile = logic.profile
    if not profile.has_platform_endpoints:
        raise ConfigurationError(
            f"{what} is not supported by {profile.name} ({profile.label}); "
            "it is a Moonshot platform endpoint (provider='moonshot' or 'moonshot-cn')",
            provider=profile.name,
        )


def _require_models(logic: ClientLogic[Any]) -> None:
    profile = logic.profile
    if not profile.has_models_endpoint:
        raise ConfigurationError(
            f"listing models is not supported by {profile.name} ({profile.label}); "
            f"its documented models: {', '.join(profile.models)}",
            provider=profile.name,
        )


def _answer_at(logic: ClientLogic[Any], body: Any, what: str, *path: str) -> Any:
    """``body[path[0]][path[1]]...`` of a platform answer, or a StreamError saying
    the answer does not have it."""
    value = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise StreamError(
                f"the {what} answer has no {'.'.join(path)}: {_excerpt(repr(body))}",
                provider=logic.profile.name,
            )
        value = value[key]
    return value


def answer_dict(logic: ClientLogic[Any], body: Any, what: str) -> dict[str, Any]:
    """``body``, a platform answer that must be a JSON object."""
    if not isinstance(body, dict):
        raise StreamError(
            f"the {what} answer is not a JSON object: {_excerpt(repr(body))}",
            provider=logic.profile.name,
        )
    return body


def answer_list(logic: ClientLogic[Any], body: Any, what: str) -> list[Any]:
    """The ``data`` list of a platform answer."""
    data = answer_dict(logic, body, what).get("data") or []
    if not isinstance(data, list):
        raise StreamError(f"the {what} answer's data is not a list", provider=logic.profile.name)
    return list(data)


def models_flow(logic: ClientLogic[Any]) -> Flow[list[dict[str, Any]]]:
    _require_models(logic)
    return answer_list(logic, (yield from logic._json_flow("GET", "/models")), "models")


def token_count_flow(
    logic: ClientLogic[Any], model: str, messages: list[dict[str, Any]]
) -> Flow[int]:
    require_platform(logic, "token estimation")
    body = yield from logic._json_flow(
        "POST",
        "/tokenizers/estimate-token-count",
        json_body={"model": model, "messages": messages},
    )
    count = _answer_at(logic, body, "token estimate", "data", "total_tokens")
    if not isinstance(count, int) or isinstance(count, bool):
        raise StreamError(
            f"the token estimate is not an integer: {count!r:.100}", provider=logic.profile.name
        )
    return count


def balance_flow(logic: ClientLogic[Any]) -> Flow[dict[str, Any]]:
    require_platform(logic, "balance")
    body = answer_dict(logic, (yield from logic._json_flow("GET", "/users/me/balance")), "balance")
    return answer_dict(logic, body.get("data") or {}, "balance")


def upload_flow(
    logic: ClientLogic[Any], file: bytes | IO[bytes], filename: str, purpose: str
) -> Flow[Any]:
    require_platform(logic, "file upload")
    body = yield from logic._json_flow(
        "POST", "/files", files={"file": (filename, file)}, data={"purpose": purpose}
    )
    return answer_dict(logic, body, "file upload")


def files_flow(logic: ClientLogic[Any]) -> Flow[list[dict[str, Any]]]:
    require_platform(logic, "files")
    return answer_list(logic, (yield from logic._json_flow("GET", "/files")), "files")


def file_flow(
    logic: ClientLogic[Any], method: str, file_id: str, what: str
) -> Flow[dict[str, Any]]:
    require_platform(logic, "files")
    return answer_dict(logic, (yield from logic._json_flow(method, f"/files/{file_id}")), what)


def file_content_flow(logic: ClientLogic[Any], file_id: str) -> Flow[str]:
    require_platform(logic, "files")
    response, raw, _ = yield from logic._attempts("GET", f"/files/{file_id}/content")
    return raw.decode(response.encoding or "utf-8", "replace")
