"""What gateways add around Kimi: OpenRouter's provider routing (a request option), and
what its answers carry beyond the chat completion (the upstream provider, the native
finish reason, the cost in ``usage``).

OpenRouter's routing object goes in the request body as ``provider`` (openrouter.ai/docs,
"Provider Routing": ``order``, ``only``, ``ignore``, ``allow_fallbacks``, ``sort``,
``require_parameters``, ``data_collection``, ``quantizations``, ``max_price`` ...). It is
passed as given (OpenRouter adds keys over time); only its type and the provider are
checked here. Its answers (recorded: ``tests/recordings/fantasy/openrouter-kimi/``) name
the upstream provider (``"provider": "Inceptron"``), keep the upstream finish reason
(``native_finish_reason``) and, with ``usage: {"include": true}`` or by default now, the
cost of the call in ``usage.cost`` (credits) with ``usage.cost_details``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import ConfigurationError
from ._providers import ProviderProfile

__all__ = ["gateway_metadata", "provider_routing_field"]


def provider_routing_field(profile: ProviderProfile, routing: Any) -> dict[str, Any]:
    """The body's ``provider`` field for OpenRouter's provider routing; refused (before
    sending) on another provider or when it is not an object."""
    if profile.name != "openrouter":
        raise ConfigurationError(
            f"provider_routing is OpenRouter's option (the request's 'provider' object), "
            f"not accepted by provider {profile.name!r}; use provider='openrouter'",
            param="provider_routing",
            provider=profile.name,
        )
    if not isinstance(routing, Mapping) or not routing:
        raise ConfigurationError(
            f"provider_routing={routing!r} is not accepted: a non-empty dict of OpenRouter's "
            "routing fields, e.g. {'order': ['moonshotai'], 'allow_fallbacks': False}",
            param="provider_routing",
            provider=profile.name,
        )
    bad = [k for k in routing if not isinstance(k, str)]
    if bad:
        raise ConfigurationError(
            f"provider_routing has keys that are not strings: {bad!r}",
            param="provider_routing",
            provider=profile.name,
        )
    return dict(routing)


def gateway_metadata(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a gateway's answer says beyond the completion, for response metadata:
    ``upstream_provider``, ``native_finish_reason`` (of the first choice), ``cost`` and
    ``cost_details`` (from ``usage``). Empty for an answer that carries none of them."""
    out: dict[str, Any] = {}
    upstream = body.get("provider")
    if isinstance(upstream, str) and upstream:
        out["upstream_provider"] = upstream
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        native = choices[0].get("native_finish_reason")
        if isinstance(native, str) and native:
            out["native_finish_reason"] = native
    usage = body.get("usage")
    if isinstance(usage, Mapping):
        cost = usage.get("cost")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            out["cost"] = cost
        details = usage.get("cost_details")
        if isinstance(details, Mapping):
            out["cost_details"] = dict(details)
    return out
