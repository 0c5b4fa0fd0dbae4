"""kimi_core's public names: what users call, listed in its docstring; the adapters'
plumbing is in the one private module both import (``kimi_core._adapter``)."""

from __future__ import annotations

import re
from pathlib import Path

import kimi_core as kc
from kimi_core import _adapter as ka

ROOT = Path(__file__).resolve().parents[2]

#: DESIGN.md's "Public names" of kimi_core (other code and users rely on them).
DESIGNED = {
    "KimiClient",
    "AsyncKimiClient",
    "get_provider",
    "get_model_info",
    "KimiError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamError",
    "APIStatusError",
    "BadRequestError",
    "ContextWindowExceededError",
    "ContentFilterError",
    "AuthenticationError",
    "PermissionDeniedError",
    "InsufficientQuotaError",
    "NotFoundError",
    "RateLimitError",
    "InternalServerError",
}

#: What only the adapters need: not public.
PLUMBING = {
    "MASK",
    "REQUEST_PARAMS",
    "redact_headers",
    "state_without_key",
    "state_with_key",
    "key_ref",
    "key_from_ref",
    "headers_by_ref",
    "headers_from_ref",
    "sniff_media_type",
    "unknown_parameter",
    "usage_of",
    "normalize_completion",
    "first_usable_choice",
    "json_mode_instruction",
    "warn_if_retired",
    "resolve_api_key",
    "build_chat_request",
    "SSEDecoder",
}


def test_the_docstring_lists_exactly_the_public_names() -> None:
    doc = kc.__doc__ or ""
    listed = set(re.findall(r"``(\w+)``", doc.split("The public names", 1)[1]))
    listed -= {"kimi_core", "prepare", "chat", "stream", "_errors", "_adapter"}
    assert listed == set(kc.__all__)


def test_every_public_name_is_there_and_the_designed_ones_are_public() -> None:
    for name in kc.__all__:
        assert hasattr(kc, name), name
    assert set(kc.__all__) >= DESIGNED
    assert {"ThinkingPlan", "plan_thinking", "normalize_schema", "MODELS", "PROVIDERS"} <= set(
        kc.__all__
    )


def test_adapter_plumbing_is_private() -> None:
    assert not PLUMBING & set(kc.__all__)
    assert not [name for name in PLUMBING if hasattr(kc, name)]
    for name in ka.__all__:
        assert hasattr(ka, name), name


def test_the_adapters_import_their_plumbing_from_one_private_module() -> None:
    private = re.compile(r"kimi_core\._\w+|from kimi_core import _\w+")
    for package in ("langchain_kimi", "llama_index_kimi"):
        for path in sorted((ROOT / package).glob("*.py")):
            for line in path.read_text().splitlines():
                if private.search(line) and not line.lstrip().startswith(("#", '"', "``")):
                    assert line == "from kimi_core import _adapter as ka", (
                        f"{path.relative_to(ROOT)}: {line}"
                    )
