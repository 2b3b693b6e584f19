"""testgen's model: the server's LLM service adapted to testgen's small `Completer` protocol.

testgen imports no LLM code; it asks `await completer.complete(system, messages, max_tokens)` from the worker
thread its generation runs in, in an event loop of its own. The service (its HTTP client, rate limiter and the
MCP session that sampling answers through) belongs to one event loop, so every call is sent to that loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codegen_lab.common import Settings
    from codegen_lab.llm import LLMService
    from codegen_lab.mcp_core import Context, Toolkit
    from codegen_lab.testgen import Message

__all__ = ["ServiceCompleter", "cli_completer", "testgen_toolkit"]

TOOL = "testgen_generate"


class ServiceCompleter:
    """A testgen `Completer` over the LLM service; its calls run on `loop`, counted under `testgen_generate`."""

    def __init__(self, llm: LLMService, *, loop: asyncio.AbstractEventLoop, session: Any = None) -> None:
        self.llm = llm
        self.loop = loop
        self.session = session

    async def complete(self, system: str, messages: Sequence[Message], max_tokens: int) -> str:
        """The model's answer to the conversation.

        Raises:
            LLMUnavailableError: When no backend answered.
        """
        from codegen_lab.llm import CompletionRequest  # noqa: PLC0415
        from codegen_lab.llm import Message as Turn  # noqa: PLC0415

        request = CompletionRequest(
            messages=tuple(Turn(message["role"], message["content"]) for message in messages),
            system=system,
            max_tokens=max_tokens,
        )
        call = self.llm.complete(request, tool=TOOL, session=self.session)
        if asyncio.get_running_loop() is self.loop:
            return (await call).text
        return (await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, self.loop))).text


def testgen_toolkit(settings: Settings, llm: Callable[[], LLMService]) -> Toolkit:
    """The `testgen` toolkit, whose `testgen_generate(llm=True)` asks the server's LLM (`llm()`) when it has one."""
    from codegen_lab.testgen.mcp import create_toolkit  # noqa: PLC0415

    def completer(ctx: Context) -> ServiceCompleter | None:
        session = ctx.session
        service = llm()
        if not service.available(session):
            return None
        return ServiceCompleter(service, loop=asyncio.get_running_loop(), session=session)

    return create_toolkit(settings, completer=completer)


@contextmanager
def cli_completer(llm: LLMService) -> Generator[ServiceCompleter | None]:
    """For `codegen-lab testgen generate --llm`: a completer on an event loop of its own, or None without an LLM."""
    if not llm.available():
        yield None
        return
    from anyio.from_thread import start_blocking_portal  # noqa: PLC0415

    with start_blocking_portal() as portal:
        yield ServiceCompleter(llm, loop=portal.call(asyncio.get_running_loop))
