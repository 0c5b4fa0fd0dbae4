"""Who a rule comes from: the provider or the model, for the texts of refusals and warnings.

Every refusal raised before sending reads the same way: ``PARAM=VALUE is not accepted by
WHO: WHAT IS ALLOWED``. The request rules (``_rules``) and the thinking plan
(``_thinking``) both word theirs through :class:`RuleContext`.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from typing import Any

from ._errors import ConfigurationError
from ._models import ModelInfo, UnconfirmedRuleWarning
from ._providers import ProviderProfile

__all__ = ["RuleContext", "fmt", "unknown_parameter"]


def fmt(value: Any) -> str:
    """A value as an error text shows it (``1`` for ``1.0``, ``repr`` otherwise)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return repr(value)


class RuleContext:
    """The provider and the model a request is checked against."""

    __slots__ = ("model", "profile")

    def __init__(self, profile: ProviderProfile, model: ModelInfo) -> None:
        self.profile = profile
        self.model = model

    def error(
        self, param: str, value: Any, allowed: str, *, by: str = "provider"
    ) -> ConfigurationError:
        who = (
            f"model {self.model.id!r}"
            if by == "model"
            else f"provider {self.profile.name!r} ({self.profile.label})"
        )
        shown = (
            fmt(value)
            if not isinstance(value, str) or len(value) < 80
            else repr(value[:77] + "...")
        )
        return ConfigurationError(
            f"{param}={shown} is not accepted by {who}: {allowed}",
            param=param,
            provider=self.profile.name,
            model=self.model.id,
        )

    def model_rule(self, param: str, value: Any, allowed: str, *, stacklevel: int = 4) -> None:
        """A model rule was broken: refuse; or, for a model whose rules are unconfirmed,
        warn and let the value through (the server decides)."""
        err = self.error(param, value, allowed, by="model")
        if self.model.confirmed:
            raise err
        warnings.warn(
            f"{err} (this rule of {self.model.id} is unconfirmed: sent anyway)",
            UnconfirmedRuleWarning,
            stacklevel=stacklevel,
        )


def unknown_parameter(
    name: str,
    value: Any,
    known: Iterable[str],
    *,
    where: str,
    raw: str,
    listed: bool = True,
    provider: str | None = None,
    model: str | None = None,
) -> ConfigurationError:
    """The refusal of a keyword nobody takes (a typo must not be dropped silently): it
    names the closest known parameter, lists them all when ``listed``, and says with
    ``raw`` where a raw API field goes instead."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = repr(value)
    shown = fmt(value) if len(shown) < 80 else shown[:77] + "..."
    choices = f"use one of {', '.join(names)}, or " if listed else "for a raw API field use "
    return ConfigurationError(
        f"{name}={shown} is not a parameter of {where}{hint}: {choices}{raw}",
        param=name,
        provider=provider,
        model=model,
    )
