"""What the server gives every toolkit factory: its settings and its model, passed, never looked up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from codegen_lab.common import Settings
    from codegen_lab.llm import Completer, Completion, CompletionRequest, StreamCallback

__all__ = ["LoopCompleter", "ServerContext"]


@dataclass(frozen=True, slots=True)
class ServerContext:
    """The wiring a toolkit factory receives (`[project.entry-points."codegen_lab.toolkits"]`).

    Attributes:
        settings: The server's settings; `root` and `state_dir` below read them.
        llm: Gives the server's model (made on first use), or None when the server offers none.
    """

    settings: Settings
    llm: Callable[[], Completer] | None = None

    @property
    def root(self) -> Path:
        """The folder the tools work in."""
        return self.settings.root

    @property
    def state_dir(self) -> Path:
        """Where the journal of written files, backups and the audit log live: one folder for every toolkit."""
        return self.settings.state_dir_path

    def completer(self, ctx: Context) -> Completer | None:
        """The model for a tool call whose work runs in a worker thread, or None when no backend can answer.

        The completer carries the call's MCP session (so the client's own model can answer) and sends every
        request to the server's event loop, where the model's client lives, from whatever loop the worker runs.
        Call it on the server's loop (in the tool function, before handing work to a thread).
        """
        if self.llm is None:
            return None
        model = self.llm()
        session = ctx.session
        if not model.available(session):
            return None
        return LoopCompleter(model, loop=asyncio.get_running_loop(), session=session)


class LoopCompleter:
    """A `codegen_lab.llm.Completer` that asks `model` on `loop` with `session`, from any thread's event loop."""

    def __init__(self, model: Completer, *, loop: asyncio.AbstractEventLoop, session: Any = None) -> None:
        self.model = model
        self.loop = loop
        self.session = session

    def available(self, session: Any = None) -> bool:
        """Whether the model has a backend for this completer's session."""
        return self.model.available(session if session is not None else self.session)

    async def complete(
        self,
        request: CompletionRequest,
        *,
        tool: str = "(direct)",
        session: Any = None,
        on_text: StreamCallback | None = None,
    ) -> Completion:
        """The model's answer, asked on the model's loop with this completer's session.

        Raises:
            LLMUnavailableError: When no backend answered.
        """
        call = self.model.complete(
            request, tool=tool, session=session if session is not None else self.session, on_text=on_text
        )
        if asyncio.get_running_loop() is self.loop:
            return await call
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, self.loop))
