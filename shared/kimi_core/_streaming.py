"""The streamed chat completions: :class:`ChatStream` and :class:`AsyncChatStream`, over
one flow (``ClientLogic._stream_flow``) run by the sync or the async driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from ._drivers import aiterate, iterate
from ._events import EventParser
from ._rules import ChatRequest
from ._stream import StreamAccumulator

if TYPE_CHECKING:
    from ._base_client import ClientLogic
    from ._transport import AsyncKimiClient, KimiClient

__all__ = ["AsyncChatStream", "ChatStream", "ChatStreamBase"]


class ChatStreamBase:
    """What the sync and async streams share: the request, the parser of the current
    attempt, and the end-of-stream check."""

    def __init__(self, client: ClientLogic[Any], request: ChatRequest) -> None:
        self._logic = client
        self.request = request
        self.request_id: str | None = None
        self._parser: EventParser | None = None

    @property
    def accumulator(self) -> StreamAccumulator:
        if self._parser is None:
            raise RuntimeError("the stream has not started")
        return self._parser.acc

    def completion(self) -> dict[str, Any]:
        """Everything received, in the shape of a non-streamed completion."""
        return self.accumulator.completion()

    def _opened(self, response: httpx.Response) -> EventParser:
        """The parser of a new attempt's response."""
        logic = self._logic
        self._parser = EventParser(
            logic.profile.name, response, logic.max_event_bytes, logic.max_error_bytes
        )
        self.request_id = self._parser.request_id
        return self._parser

    def _ended(self) -> None:
        # The completion is built only when it is checked: a forced call, or a choice
        # that ended on the output budget (it may have been cut while reasoning).
        acc = self.accumulator
        if self.request.required_tool or any(
            c.finish_reason == "length" for c in acc.choices.values()
        ):
            self._logic._check_answer(self.request, self.completion(), self.request_id)


class ChatStream(ChatStreamBase):
    """A streamed completion. Iterate for chunk dicts; then :meth:`completion`.

    The request is retried (within ``max_retries``) only while no chunk has been
    delivered. A failure after that raises, with what arrived in ``error.partial``.
    """

    def __init__(self, client: KimiClient, request: ChatRequest) -> None:
        super().__init__(client, request)
        self._client = client

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iterate(self._client._io, self._client._stream_flow(self))


class AsyncChatStream(ChatStreamBase):
    """The async twin of :class:`ChatStream`."""

    def __init__(self, client: AsyncKimiClient, request: ChatRequest) -> None:
        super().__init__(client, request)
        self._client = client

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return aiterate(self._client._io, self._client._stream_flow(self))
