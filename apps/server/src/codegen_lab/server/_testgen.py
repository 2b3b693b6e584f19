"""testgen's model on the command line: the server's LLM service, on an event loop of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codegen_lab.llm import Completer, LLMService

__all__ = ["cli_completer"]


@contextmanager
def cli_completer(llm: LLMService) -> Generator[Completer | None]:
    """For `codegen-lab testgen generate --llm`: a completer on an event loop of its own, or None without an LLM."""
    if not llm.available():
        yield None
        return
    from anyio.from_thread import start_blocking_portal  # noqa: PLC0415

    from codegen_lab.mcp_core import LoopCompleter  # noqa: PLC0415

    with start_blocking_portal() as portal:
        yield LoopCompleter(llm, loop=portal.call(asyncio.get_running_loop))
