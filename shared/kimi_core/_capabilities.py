"""What a model does on a provider, for the frameworks' capability records (LangChain's
``profile``, LlamaIndex's ``metadata``): one derivation from the catalogue and the
provider profile, so that the two adapters cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from ._models import ModelInfo
from ._providers import ProviderProfile

__all__ = ["DEFAULT_MODEL", "Capabilities", "capabilities", "default_model", "takes_media_urls"]

#: The model used when none is given, where the provider serves it.
DEFAULT_MODEL = "kimi-k2.6"
#: The models preferred as a default, in order, among those a provider documents.
_PREFERRED_MODELS = (DEFAULT_MODEL, "kimi-k2.5")


def default_model(profile: ProviderProfile) -> str:
    """The model used on ``profile`` when none is given: :data:`DEFAULT_MODEL`, else the
    provider's closest documented model (a provider that lists none gets the default)."""
    if not profile.models:
        return DEFAULT_MODEL
    for model in _PREFERRED_MODELS:
        if model in profile.models:
            return model
    return profile.models[0]


def takes_media_urls(profile: ProviderProfile) -> bool:
    """Whether the provider fetches media from http(s) URLs. Moonshot takes images and
    videos as base64 data URIs or ``ms://<file_id>`` only (``media_url_prefixes``); the
    request rules refuse any other URL before sending."""
    prefixes = profile.media_url_prefixes
    return prefixes is None or any(p.startswith("http") for p in prefixes)


@dataclass(frozen=True)
class Capabilities:
    """What ``model`` takes and gives on ``provider``."""

    context_window: int
    max_output: int
    image_inputs: bool
    #: Images given as http(s) URLs (else data URIs or uploaded files only).
    image_url_inputs: bool
    video_inputs: bool
    #: Documents as ``file`` content parts.
    pdf_inputs: bool
    reasoning_output: bool
    tool_calling: bool
    #: ``response_format`` ``json_schema`` on this model and provider.
    structured_output: bool
    #: Whether ``temperature`` may be set (no value fixed by the model).
    temperature: bool
    #: Whether the provider retired the id.
    deprecated: bool

    def output_reserve(self, window: int | None = None) -> int:
        """Tokens to keep for the answer when packing a prompt into ``window`` (default:
        the model's): the model's maximum output, at most a quarter of the window (a
        model whose output may fill its window, moonshot-v1-8k, would leave none)."""
        return min(self.max_output, (window or self.context_window) // 4)


def capabilities(info: ModelInfo, provider: ProviderProfile) -> Capabilities:
    """The capabilities of the catalogue entry ``info`` served by ``provider``."""
    parts = provider.content_parts
    formats = provider.response_formats

    def takes(kind: str) -> bool:
        return parts is None or kind in parts

    image = info.image_input and takes("image_url")
    return Capabilities(
        context_window=info.context_window,
        max_output=info.max_output,
        image_inputs=image,
        image_url_inputs=image and takes_media_urls(provider),
        video_inputs=info.video_input and takes("video_url"),
        pdf_inputs=parts is not None and "file" in parts,
        reasoning_output=info.thinking != "none",
        tool_calling=info.tools,
        structured_output=info.json_schema and formats is not None and "json_schema" in formats,
        temperature=info.fixed_temperature is None,
        deprecated=info.retirement(provider.name) is not None,
    )
