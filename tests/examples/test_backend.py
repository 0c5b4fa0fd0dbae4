"""examples/_backend.py (how the demo and the examples choose where to send) and the
demo's colour rule: pure functions, in-process."""

from __future__ import annotations

import importlib
import io
import re
from types import ModuleType

import pytest

import kimi_core as kc

from .runner import EXAMPLES


@pytest.fixture
def backend(monkeypatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module("_backend")


@pytest.mark.parametrize(
    ("env", "provider", "model", "key_variable", "dialect"),
    [
        ({}, "moonshot", "kimi-k2.6", None, "moonshot"),
        ({"MOONSHOT_API_KEY": "k"}, "moonshot", "kimi-k2.6", "MOONSHOT_API_KEY", None),
        ({"ACEDATACLOUD_API_TOKEN": "k"}, "acedata", "kimi-k2.5", "ACEDATACLOUD_API_TOKEN", None),
        ({"EVOLINK_API_KEY": "k"}, "evolink", "kimi-k2-thinking", "EVOLINK_API_KEY", None),
        ({"GPTPROTO_API_KEY": "k"}, "gptproto", "kimi-k2.5", "GPTPROTO_API_KEY", None),
        # the first key in the documented order wins; KIMI_PROVIDER picks another
        (
            {"EVOLINK_API_KEY": "k", "MOONSHOT_API_KEY": "k"},
            "moonshot",
            "kimi-k2.6",
            "MOONSHOT_API_KEY",
            None,
        ),
        (
            {"EVOLINK_API_KEY": "k", "MOONSHOT_API_KEY": "k", "KIMI_PROVIDER": "evolink"},
            "evolink",
            "kimi-k2-thinking",
            "EVOLINK_API_KEY",
            None,
        ),
        (
            {"MOONSHOT_API_KEY": "k", "KIMI_PROVIDER": "moonshot-cn"},
            "moonshot-cn",
            "kimi-k2.6",
            "MOONSHOT_API_KEY",
            None,
        ),
        # KIMI_API_KEY: the fallback key of every provider; with KIMI_BASE_URL, a gateway
        ({"KIMI_API_KEY": "k"}, "moonshot", "kimi-k2.6", "KIMI_API_KEY", None),
        (
            {"KIMI_API_KEY": "k", "KIMI_BASE_URL": "https://gw.example.com/v1"},
            "openai-compatible",
            "kimi-k2.6",
            "KIMI_API_KEY",
            None,
        ),
        (
            {"KIMI_API_KEY": "k", "KIMI_BASE_URL": "https://api.acedata.cloud"},
            "acedata",
            "kimi-k2.5",
            "KIMI_API_KEY",
            None,
        ),
        (
            {"KIMI_API_KEY": "k", "KIMI_PROVIDER": "gptproto"},
            "gptproto",
            "kimi-k2.5",
            "KIMI_API_KEY",
            None,
        ),
        # no key for the provider asked for: its dialect on the emulator
        ({"KIMI_PROVIDER": "acedata"}, "acedata", "kimi-k2.5", None, "acedata"),
        (
            {"KIMI_PROVIDER": "EvoLink", "MOONSHOT_API_KEY": "k"},
            "evolink",
            "kimi-k2-thinking",
            None,
            "evolink",
        ),
        (
            {"KIMI_PROVIDER": "emulator", "MOONSHOT_API_KEY": "k"},
            "moonshot",
            "kimi-k2.6",
            None,
            "moonshot",
        ),
        # KIMI_MODEL overrides the model, wherever it runs
        ({"KIMI_MODEL": "kimi-k2.5"}, "moonshot", "kimi-k2.5", None, "moonshot"),
        (
            {"MOONSHOT_API_KEY": "k", "KIMI_MODEL": "moonshot-v1-8k"},
            "moonshot",
            "moonshot-v1-8k",
            "MOONSHOT_API_KEY",
            None,
        ),
        # blank values count as unset
        (
            {"MOONSHOT_API_KEY": "  ", "KIMI_PROVIDER": ""},
            "moonshot",
            "kimi-k2.6",
            None,
            "moonshot",
        ),
    ],
)
def test_the_environment_chooses_the_backend(backend, env, provider, model, key_variable, dialect):
    chosen = backend.choose_backend(env)
    assert (chosen.provider, chosen.model, chosen.key_variable, chosen.dialect) == (
        provider,
        model,
        key_variable,
        dialect,
    )
    assert chosen.is_emulator == (dialect is not None)
    assert chosen.reason


def test_the_gateway_url_is_where_requests_go(backend):
    chosen = backend.choose_backend(
        {"KIMI_API_KEY": "k", "KIMI_BASE_URL": "https://gw.example.com/v1/"}
    )
    assert chosen.base_url == "https://gw.example.com/v1"
    assert chosen.langchain_kwargs() == {"provider": "openai-compatible"}  # the rest: from the env


def test_a_real_backend_never_holds_the_key(backend):
    chosen = backend.choose_backend({"ACEDATACLOUD_API_TOKEN": "sk-secret-123"})
    assert chosen.langchain_kwargs() == {"provider": "acedata"}
    assert chosen.llama_index_kwargs() == {"provider": "acedata"}
    for text in (repr(chosen), chosen.banner(), chosen.reason):
        assert "sk-secret-123" not in text
    assert chosen.banner() == (
        "backend: AceData Cloud at https://api.acedata.cloud, model kimi-k2.5 "
        "(key from ACEDATACLOUD_API_TOKEN)"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KIMI_PROVIDER": "moonshot-eu"}, "KIMI_PROVIDER='moonshot-eu' is unknown; choose one of"),
        (
            {"KIMI_PROVIDER": "openai-compatible"},
            "KIMI_PROVIDER='openai-compatible' needs KIMI_BASE_URL and KIMI_API_KEY",
        ),
        ({"KIMI_BASE_URL": "http://127.0.0.1:8000/v1"}, "KIMI_BASE_URL is set but no key"),
        (
            {"KIMI_API_KEY": "k", "KIMI_BASE_URL": "ftp://x"},
            "base_url='ftp://x' is not an http(s) URL",
        ),
    ],
)
def test_a_setting_that_cannot_work_is_refused(backend, env, message):
    with pytest.raises(kc.ConfigurationError, match="^" + re.escape(message)):
        backend.choose_backend(env)


def test_open_backend_starts_the_emulator_and_stops_it(backend, capsys):
    with backend.open_backend({"KIMI_PROVIDER": "acedata"}) as chosen:
        emu = chosen.emulator
        assert emu is not None and emu.running
        assert emu.dialect == "acedata"
        assert chosen.base_url == emu.base_url
        assert chosen.langchain_kwargs() == {
            "provider": "acedata",
            "base_url": emu.base_url,
            "api_key": emu.api_key,
        }
        assert chosen.llama_index_kwargs() == {
            "provider": "acedata",
            "api_base": emu.base_url,
            "api_key": emu.api_key,
        }
    assert not emu.running
    assert capsys.readouterr().out == (
        "backend: the built-in Kimi emulator (acedata dialect), model kimi-k2.5. It stands in "
        "for the Kimi protocol; it is not a model. Set MOONSHOT_API_KEY or another provider's "
        "key to use Kimi.\n"
    )


def test_an_unknown_model_is_said_once_in_a_line(backend, capsys, recwarn):
    from langchain_kimi import ChatKimi

    with backend.open_backend({"KIMI_MODEL": "kimi-k9-preview"}, announce=False) as chosen:
        ChatKimi(model=chosen.model, **chosen.langchain_kwargs())
    assert capsys.readouterr().out.startswith(
        "note: 'kimi-k9-preview' is not in kimi_core's model catalogue: it is sent as given"
    )
    assert not [w for w in recwarn if issubclass(w.category, kc.UnknownModelWarning)]


def test_run_reports_a_kimi_error_in_a_few_lines(backend, capsys):
    def main() -> None:
        raise kc.RateLimitError(
            "slow down", status_code=429, code="rate_limit_reached_error", request_id="r-1"
        )

    with pytest.raises(SystemExit) as exit_info:
        backend.run(main)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "error: RateLimitError: [HTTP 429 rate_limit_reached_error] slow down (request_id=r-1)\n"
    )


@pytest.mark.parametrize(
    ("env", "tty", "colour"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: set and not empty
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch, env, tty, colour):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    demo = importlib.import_module("demo")

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    style = demo.Style.for_stream(Stream(), env)
    assert style.colour is colour
    assert ("\x1b[" in style.dim("x")) is colour
    assert style.dim("") == ""
