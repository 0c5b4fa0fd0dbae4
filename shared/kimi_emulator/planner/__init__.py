"""The planner: the emulator's default responder, a deterministic rule-based guesser.

It is not a model. From the conversation and the tools' names, descriptions and JSON
schemas it plans tool calls across turns, fills arguments from values found in the
conversation, answers from the tool results, fills JSON formats by field name and type,
speaks the ReAct text format and continues partial-mode prefixes. The emulator's core
(server, rules, dialects, the simple responders) does not import it until a request
reaches it, so an emulator run with ``responder="echo"``, ``"scripted"`` or
``"recorded"`` never loads these modules.
"""

from __future__ import annotations

from ._responder import PlannerResponder, respond

__all__ = ["PlannerResponder", "respond"]
