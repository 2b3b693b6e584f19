"""testgen's model: the server's LLM service, as the `codegen_lab.llm.Completer` testgen takes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codegen_lab.common import Settings
    from codegen_lab.llm import Completion, CompletionRequest, LLMService, StreamCallback
    from codegen_lab.mcp_core import Context, Toolkit

__all__ = ["ServiceCompleter", "cli_completer", "testgen_toolkit"]

TOOL = "testgen_generate"


class ServiceCompleter:
    """The LLM service as a `codegen_lab.llm.Completer` for testgen, whose calls run on the service's event loop.

    testgen generates in a worker thread, in an event loop of its own; the service (its HTTP client, rate limiter
    and the MCP session sampling answers through) belongs to the server's loop, so each call is sent there.
    """

    def __init__(self, llm: LLMService, *, loop: asyncio.AbstractEventLoop, session: Any = None) -> None:
        self.llm = llm
        self.loop = loop
        self.session = session

    def available(self, session: Any = None) -> bool:
        """Whether the service has a backend for this completer's session."""
        return self.llm.available(session if session is not None else self.session)

    async def complete(
        self,
        request: CompletionRequest,
        *,
        tool: str = TOOL,
        session: Any = None,
        on_text: StreamCallback | None = None,
    ) -> Completion:
        """The model's answer, asked on the service's loop with this completer's session.

        Raises:
            LLMUnavailableError: When no backend answered.
        """
        call = self.llm.complete(
            request, tool=tool, session=session if session is not None else self.session, on_text=on_text
        )
        if asyncio.get_running_loop() is self.loop:
            return await call
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, self.loop))


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
