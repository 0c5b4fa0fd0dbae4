"""Provider profiles, key resolution and the model catalogue."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import kimi_core as kc
from kimi_core import _adapter as ka
from kimi_core import _models

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


@pytest.mark.parametrize(
    ("name", "base", "path", "env"),
    [
        ("moonshot", "https://api.moonshot.ai/v1", "/chat/completions", "MOONSHOT_API_KEY"),
        ("moonshot-cn", "https://api.moonshot.cn/v1", "/chat/completions", "MOONSHOT_API_KEY"),
        (
            "acedata",
            "https://api.acedata.cloud",
            "/kimi/chat/completions",
            "ACEDATACLOUD_API_TOKEN",
        ),
        ("evolink", "https://direct.evolink.ai/v1", "/chat/completions", "EVOLINK_API_KEY"),
        ("gptproto", "https://gptproto.com/v1", "/chat/completions", "GPTPROTO_API_KEY"),
    ],
)
def test_profiles(name: str, base: str, path: str, env: str) -> None:
    p = kc.get_provider(name)
    assert (p.base_url, p.chat_path, p.key_env) == (base, path, env)
    assert p.key_variables == (env, "KIMI_API_KEY")


def test_documented_limits() -> None:
    moon, ace, evo, gpt = (
        kc.get_provider(n) for n in ("moonshot", "acedata", "evolink", "gptproto")
    )
    assert moon.n_range == (1, 5) and ace.n_range == (1, 128) and evo.n_range == (1, 5)
    assert (moon.max_stop, moon.max_stop_bytes) == (5, 32) and gpt.max_stop == 4
    assert ace.temperature_range == (0, 2) and gpt.temperature_range == (0, 1)
    assert moon.response_formats == {"text", "json_object", "json_schema"}
    assert ace.response_formats == {"text", "json_object"}
    assert ace.reasoning_fields == ("reasoning_content", "reasoning")
    assert moon.stream_usage[0] == "final_choice" and ace.stream_usage == ("trailing_chunk",)
    assert (moon.error_dialect, ace.error_dialect, gpt.error_dialect) == (
        "moonshot",
        "acedata",
        "gptproto",
    )
    assert moon.max_tokens_param == "max_completion_tokens" and ace.max_tokens_param == "max_tokens"
    assert gpt.content_parts == {"text", "image_url", "file"}


def test_unknown_provider_names_the_choices() -> None:
    with pytest.raises(
        kc.ConfigurationError, match="provider='kimi-cloud' is unknown; choose one of moonshot"
    ):
        kc.get_provider("kimi-cloud")


def test_base_url_overrides_the_host_and_keeps_the_chat_path() -> None:
    p = kc.resolve_provider("acedata", "http://127.0.0.1:9000/")
    assert p.base_url == "http://127.0.0.1:9000" and p.chat_path == "/kimi/chat/completions"
    p = kc.resolve_provider("moonshot", "http://127.0.0.1:9000/v1/chat/completions")
    assert p.base_url == "http://127.0.0.1:9000/v1"


def test_provider_inferred_from_the_base_url() -> None:
    assert kc.resolve_provider(None, None, {}).name == "moonshot"
    assert kc.resolve_provider(None, "https://api.moonshot.cn/v1").name == "moonshot-cn"
    assert kc.resolve_provider(None, "https://gptproto.com/v1").name == "gptproto"
    assert kc.resolve_provider(None, "https://openrouter.ai/api/v1").name == "openrouter"
    assert kc.resolve_provider(None, "http://127.0.0.1:8000/v1").name == "moonshot"  # loopback


def test_base_url_from_the_environment() -> None:
    env = {"KIMI_BASE_URL": "http://127.0.0.1:9000/v1"}
    assert kc.resolve_provider("moonshot", None, env).base_url == "http://127.0.0.1:9000/v1"
    assert (
        kc.resolve_provider("moonshot", "https://x.example/v1", env).base_url
        == "https://x.example/v1"
    )
    # The app's provider stays (its key variable, its rules); only the host changes.
    assert kc.resolve_provider(None, None, env).name == "moonshot"
    assert (
        kc.resolve_provider("acedata", None, {"KIMI_BASE_URL": "http://h:1"}).chat_path
        == "/kimi/chat/completions"
    )
    assert (
        kc.resolve_provider("openai-compatible", None, env).base_url == "http://127.0.0.1:9000/v1"
    )


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(kc.ConfigurationError, match="needs base_url"):
        kc.resolve_provider("openai-compatible", None, {})


def test_bad_base_url() -> None:
    with pytest.raises(kc.ConfigurationError, match=r"base_url='api\.moonshot\.ai' is not an http"):
        kc.resolve_provider("moonshot", "api.moonshot.ai")


def test_key_resolution_order() -> None:
    p = kc.get_provider("acedata")
    env = {"ACEDATACLOUD_API_TOKEN": "ace", "KIMI_API_KEY": "kimi"}
    assert ka.resolve_api_key(p, "arg", env) == "arg"
    assert ka.resolve_api_key(p, None, env) == "ace"
    assert ka.resolve_api_key(p, None, {"KIMI_API_KEY": "kimi"}) == "kimi"
    assert ka.resolve_api_key(p, None, {"ACEDATACLOUD_API_TOKEN": "  ", "KIMI_API_KEY": "k"}) == "k"


def test_keys_are_stripped_and_unsendable_keys_refused_unshown() -> None:
    p = kc.get_provider("moonshot")
    assert ka.resolve_api_key(p, "sk-abc\n", {}) == "sk-abc"
    assert ka.resolve_api_key(p, None, {"MOONSHOT_API_KEY": " sk-env\r\n"}) == "sk-env"
    for bad in ("sk-SECRET\x00x", "sk-SECRET é", "sk SECRET"):
        with pytest.raises(kc.ConfigurationError, match="not a valid API key") as info:
            ka.resolve_api_key(p, bad, {})
        assert "SECRET" not in str(info.value) and info.value.param == "api_key"
    with pytest.raises(kc.ConfigurationError, match="the key from MOONSHOT_API_KEY"):
        ka.resolve_api_key(p, None, {"MOONSHOT_API_KEY": "sk-\x7fSECRET"})


def test_missing_key_names_the_variables() -> None:
    with pytest.raises(kc.ConfigurationError) as info:
        ka.resolve_api_key(kc.get_provider("moonshot"), None, {})
    assert "MOONSHOT_API_KEY or KIMI_API_KEY" in str(info.value)
    assert info.value.param == "api_key"


def seed_model_ids() -> set[str]:
    ids: set[str] = set()
    for f in SEEDS.glob("*.txt"):
        ids |= set(re.findall(r"\b(kimi-k2[\w.-]*|moonshot-v1[\w-]*)", f.read_text()))
    return {i.rstrip(".,") for i in ids}


def test_catalogue_covers_the_seeds_and_the_named_models() -> None:
    ids = seed_model_ids()
    assert {
        "kimi-k2.5",
        "kimi-k2-thinking",
        "kimi-k2-thinking-turbo",
        "kimi-k2-instruct-0905",
    } <= ids
    required = ids | {
        "kimi-k2.6",
        "kimi-k3",
        "kimi-k3.1-pro",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
        "moonshot-v1-8k",
        "moonshot-v1-32k",
        "moonshot-v1-128k",
        "moonshot-v1-auto",
        "moonshot-v1-8k-vision-preview",
    }
    missing = required - set(kc.MODELS)
    assert not missing


@pytest.mark.parametrize(
    ("model", "thinking", "ctx"),
    [
        ("kimi-k3", "always", 1_048_576),
        ("kimi-k3.1-pro", "always", 1_048_576),
        ("kimi-k2.7-code", "always", 262_144),
        ("kimi-k2.7-code-highspeed", "always", 262_144),
        ("kimi-k2.5", "default_on", 262_144),
        ("kimi-k2.6", "default_on", 262_144),
        ("kimi-k2-thinking", "always", 262_144),
        ("kimi-k2-turbo-preview", "none", 262_144),
        ("kimi-k2-0711-preview", "none", 131_072),
        ("moonshot-v1-8k", "none", 8_192),
        ("moonshot-v1-32k", "none", 32_768),
        ("moonshot-v1-128k", "none", 131_072),
    ],
)
def test_catalogue_entries(model: str, thinking: str, ctx: int) -> None:
    info = kc.get_model_info(model)
    assert info.thinking == thinking and info.context_window == ctx and info.known


def test_k25_fixed_values_and_capabilities() -> None:
    info = kc.get_model_info("kimi-k2.5")
    assert info.fixed_temperature == (1.0, 0.6) and info.fixed_top_p == 0.95
    assert info.fixed_n == 1 and info.fixed_penalties == 0.0
    assert info.image_input and info.video_input and info.json_schema
    assert not info.forced_tool_choice_while_thinking
    moonshot = kc.get_provider("moonshot")
    assert kc.plan_thinking(moonshot, info).thinks
    assert not kc.plan_thinking(moonshot, info, thinking=False).thinks
    assert kc.get_model_info("moonshot-v1-8k-vision-preview").image_input
    assert not kc.get_model_info("kimi-k2-thinking").image_input


def test_gateway_spellings_resolve_to_the_entry_and_keep_the_id() -> None:
    info = kc.get_model_info("moonshotai/kimi-k2-0905")
    assert info.id == "moonshotai/kimi-k2-0905" and info.known and info.context_window == 262_144
    assert kc.get_model_info("moonshotai/Kimi-K2.5").fixed_temperature == (1.0, 0.6)


def test_unknown_ids_are_permissive_and_warn_once() -> None:
    _models._warned.discard("kimi-k9-preview")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = kc.get_model_info("kimi-k9-preview")
        b = kc.get_model_info("kimi-k9-preview")
    assert len([w for w in caught if issubclass(w.category, kc.UnknownModelWarning)]) == 1
    assert a == b and not a.known and a.fixed_temperature is None and a.thinking == "default_off"
    assert a.forced_tool_choice_while_thinking and a.retirement("moonshot") is None
    with pytest.warns(kc.UnknownModelWarning):
        assert kc.get_model_info("vendor/kimi-k9-thinking").thinking == "always"


def test_every_entry_says_where_its_facts_come_from() -> None:
    for info in kc.MODELS.values():
        assert info.source and info.family, info.id
    unconfirmed = {m for m, info in kc.MODELS.items() if not info.confirmed}
    assert unconfirmed == {"kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"}


@pytest.mark.parametrize(
    ("model", "efforts", "field", "keep", "forced_ok", "keeps_reasoning"),
    [
        ("kimi-k3", ("low", "high", "max"), False, False, True, True),
        ("kimi-k3.1-pro-highspeed", ("low", "high", "max"), False, False, True, True),
        # keep: Moonshot's thinking guide, "omitting it or passing the valid value 'all' is
        # treated as 'all'" (docs/kimi-platform.md §12).
        ("kimi-k2.7-code", (), True, True, False, True),
        ("kimi-k2.7-code-highspeed", (), True, True, False, True),
        ("kimi-k2.6", (), True, True, False, False),
        ("kimi-k2.5", (), True, False, False, False),
    ],
)
def test_family_rules(
    model: str,
    efforts: tuple[str, ...],
    field: bool,
    keep: bool,
    forced_ok: bool,
    keeps_reasoning: bool,
) -> None:
    info = kc.get_model_info(model)
    assert info.reasoning_efforts == efforts
    assert info.thinking_field is field and info.thinking_keep is keep
    assert info.forced_tool_choice_while_thinking is forced_ok
    # A named choice is refused while thinking by every catalogued thinking model (kimi-k3
    # included: "tool_choice 'specified' is incompatible with thinking enabled").
    assert info.named_tool_choice_while_thinking is False
    assert info.keeps_reasoning is keeps_reasoning


def test_k3_fixes_sampling_as_k26_with_thinking_on() -> None:
    k3, k26 = kc.get_model_info("kimi-k3"), kc.get_model_info("kimi-k2.6")
    assert k3.fixed_temperature == (1.0, 1.0) and k26.fixed_temperature == (1.0, 0.6)
    assert (k3.fixed_top_p, k3.fixed_n, k3.fixed_penalties) == (0.95, 1, 0.0)
    # simstudioai/sim PR #5716 (live): "non-default values are rejected" on every current
    # model (this test said None before that evidence was read); top_p, n and penalties of
    # kimi-k2.7-code stay unconfirmed (docs/kimi-platform.md §12).
    k27 = kc.get_model_info("kimi-k2.7-code")
    assert k27.fixed_temperature == (1.0, 1.0) and k27.fixed_top_p is None


@pytest.mark.parametrize(
    ("model", "date"),
    [
        ("kimi-latest", "2026-01-28"),
        ("kimi-k2-0711-preview", "2026-05-25"),
        ("kimi-k2-0905-preview", "2026-05-25"),
        ("kimi-k2-turbo-preview", "2026-05-25"),
        ("kimi-k2-thinking", "2026-05-25"),
        ("kimi-k2-thinking-turbo", "2026-05-25"),
        ("kimi-k2.5", "2026-08-31"),
        ("moonshot-v1-8k", "2026-08-31"),
        ("moonshot-v1-auto", "2026-08-31"),
        ("moonshot-v1-128k-vision-preview", "2026-08-31"),
    ],
)
def test_retired_ids_keep_their_entry_with_date_and_successor(model: str, date: str) -> None:
    info = kc.get_model_info(model)
    assert info.known
    for provider in ("moonshot", "moonshot-cn"):
        retirement = info.retirement(provider)
        assert retirement == kc.Retirement(date, "kimi-k2.6")
        assert retirement.hint == f"retired on {date}; use kimi-k2.6"
    assert info.deprecated
    for gateway in ("acedata", "evolink", "gptproto", "openai-compatible"):
        assert info.retirement(gateway) is None


def test_retirement_is_per_provider() -> None:
    # kimi-k2.5: retired on Moonshot, served by AceData and GPTProto; EvoLink serves
    # kimi-k2-thinking(-turbo); nothing of today's line is retired anywhere.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for provider in ("acedata", "gptproto"):
            assert ka.warn_if_retired("kimi-k2.5", provider) is None
        assert ka.warn_if_retired("kimi-k2-thinking", "evolink") is None
        for model in ("kimi-k3", "kimi-k3.1-pro", "kimi-k2.7-code", "kimi-k2.6"):
            assert ka.warn_if_retired(model, "moonshot") is None
        assert ka.warn_if_retired("kimi-k42", "moonshot") is None  # unknown: open-ended
    for provider in ("moonshot", "moonshot-cn"):
        with pytest.warns(kc.RetiredModelWarning) as caught:
            assert ka.warn_if_retired("kimi-k2.5", provider) is not None
        assert str(caught[0].message) == (
            f"model 'kimi-k2.5' was retired by provider {provider!r} on 2026-08-31 (it "
            "answers 404 there); use 'kimi-k2.6'"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per id and provider
        assert ka.warn_if_retired("kimi-k2.5", "moonshot") is not None


def test_unknown_ids_of_the_k3_family_follow_its_rules_unconfirmed() -> None:
    _models._warned.discard("kimi-k3.2")
    with pytest.warns(kc.UnknownModelWarning, match=r"kimi-k3.2.* 1024k context .*kimi-k3 rules"):
        info = kc.get_model_info("kimi-k3.2")
    assert not info.known and not info.confirmed and info.family == "kimi-k3"
    assert info.reasoning_efforts == ("low", "high", "max") and not info.thinking_field
    gateway = kc.get_model_info("moonshotai/kimi-k3")  # a gateway's spelling: the entry
    assert gateway.known and gateway.id == "moonshotai/kimi-k3" and gateway.context_window == _M1


_M1 = 1_048_576
