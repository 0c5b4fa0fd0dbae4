"""Words added to an error so that it names its cause: where the key came from (never the
key), where it was sent, and what a key of the wrong kind is for.

Kimi Code (Kimi For Coding) subscription keys start with ``sk-kimi-`` and work only at
``https://api.kimi.com/coding/v1``, and only for coding agents: elsewhere they get a 401,
and there a client that is not a coding agent gets ``403 access_terminated_error`` ("Kimi
For Coding is currently only available for Coding Agents such as Kimi CLI, Claude Code,
Roo Code, Kilo Code, etc."; public reports: MoonshotAI/kimi-code#414,
router-for-me/CLIProxyAPI#1327 with an ``sk-kimi-`` key on that URL). kimi_core never
presents itself as a coding agent (it does not fake a user agent), so it says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from ._errors import NotFoundError, with_note
from ._models import get_model_info
from ._providers import ProviderProfile

__all__ = [
    "KIMI_CODE_BASE_URL",
    "KIMI_CODE_KEY_PREFIX",
    "auth_note",
    "key_source",
    "relayed_retirement",
]

KIMI_CODE_KEY_PREFIX = "sk-kimi-"
KIMI_CODE_BASE_URL = "https://api.kimi.com/coding/v1"
_KIMI_CODE_HOST = "api.kimi.com"


def key_source(profile: ProviderProfile, key: str, environ: Mapping[str, str] | None = None) -> str:
    """Where ``key`` came from, in words: the environment variable that holds it (the
    first of the profile's, in the order they are searched), else the argument."""
    env = os.environ if environ is None else environ
    for var in profile.key_variables:
        if key and env.get(var, "").strip() == key:
            return f"the {var} environment variable"
    return "the api_key argument"


def auth_note(profile: ProviderProfile, key: str, environ: Mapping[str, str] | None = None) -> str:
    """What a 401 or 403 adds: the key's source, the URL it went to, and, for a key shaped
    like a Kimi Code key, where such keys work."""
    note = (
        f"the key came from {key_source(profile, key, environ)} and was sent to "
        f"{profile.base_url} (provider {profile.name!r})"
    )
    if not key.startswith(KIMI_CODE_KEY_PREFIX):
        return note
    host = urlsplit(profile.base_url).hostname or ""
    if host == _KIMI_CODE_HOST:
        return (
            f"{note}; Kimi Code keys work there only for coding agents (Kimi CLI, Claude "
            "Code, ...), and kimi-integrations is not one and does not pretend to be: for "
            "LangChain or LlamaIndex use a Moonshot platform key (provider='moonshot', "
            "platform.moonshot.ai)"
        )
    return (
        f"{note}; the key starts with {KIMI_CODE_KEY_PREFIX!r}, the shape of a Kimi Code "
        f"(Kimi For Coding) subscription key: those work only at {KIMI_CODE_BASE_URL}, and "
        f"only for coding agents. Use a key of this provider ({profile.label})"
        + (" (platform.moonshot.ai, API keys)" if profile.name.startswith("moonshot") else "")
    )


def relayed_retirement(err: NotFoundError, profile: ProviderProfile, request_body: bytes) -> None:
    """On a generic gateway (``openai-compatible``), a 404 for an id Moonshot retired says
    so: such gateways often relay Moonshot, and its 404 then means the retirement. (On a
    named provider, the provider's own retirements are explained; see ``explain_retired``.)"""
    if profile.name != "openai-compatible":
        return
    try:
        sent = json.loads(request_body) if request_body[:1] == b"{" else None
    except ValueError:
        return
    model_id = sent.get("model") if isinstance(sent, dict) else None
    if not isinstance(model_id, str) or not model_id:
        return
    retirement = get_model_info(model_id, warn=False).retirement("moonshot")
    if retirement is not None:
        with_note(
            err,
            f"Moonshot retired {model_id!r} ({retirement.hint}): if this gateway relays "
            "Moonshot, that is why; if it is Moonshot's address, pass provider='moonshot'",
        )
