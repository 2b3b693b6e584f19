"""Wiring: settings, logging, the installed toolkits and the composed server."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codegen_lab.common.secrets import RedactingFormatter
from codegen_lab.mcp_core import Context, ToolAnnotations, Toolkit, build_server, discover_toolkits

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from codegen_lab.common import Settings
    from codegen_lab.llm import LLMService

__all__ = ["APP_PACKAGE", "configure_logging", "create_server"]

APP_PACKAGE = "codegen-lab-server"
_LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send every log record to stderr: stdout belongs to the MCP stdio transport.

    This is the only place in Codegen Lab that configures logging; libraries only log.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(_LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def create_server(settings: Settings) -> MCPServer:
    """The MCP server of every installed toolkit that the settings let load, after the built-in `server` one.

    Raises:
        SettingsError: When `include` or `exclude` names a toolkit that is not installed.
        UsageError: When `anthropic-key-file` is set but cannot be read.
        ToolkitError: When a toolkit fails to load or two declare the same name.
    """
    from codegen_lab.llm import anthropic_key  # noqa: PLC0415

    anthropic_key(settings.anthropic_key_file)  # an unreadable key file stops the start, before any tool is served
    llm = deferred_llm(settings)
    toolkits = [
        codegen_toolkit(settings, llm),
        *(_wired(toolkit, settings, llm) for toolkit in discover_toolkits(settings)),
    ]
    return build_server(settings, toolkits, packages=[APP_PACKAGE], llm=llm)


def deferred_llm(settings: Settings) -> Callable[[], LLMService]:
    """The LLM service of `settings`, made on first use: a server that no tool asks for a model never imports it.

    Every caller runs on the server's event loop, so one service is made.
    """

    @functools.cache
    def service() -> LLMService:
        from codegen_lab.llm import LLMService  # noqa: PLC0415
        from codegen_lab.mcp_core import sampling_backend  # noqa: PLC0415

        return LLMService.from_settings(settings, sampling=sampling_backend)

    return service


def _wired(toolkit: Toolkit, settings: Settings, llm: Callable[[], LLMService]) -> Toolkit:
    """The toolkit as discovered, or, for one that can use the LLM, made again with the service passed in."""
    if toolkit.name == "testgen" and toolkit.package == "codegen-lab-testgen":
        from codegen_lab.server._testgen import testgen_toolkit  # noqa: PLC0415

        return testgen_toolkit(settings, llm)
    return toolkit


def codegen_toolkit(settings: Settings, llm: Callable[[], LLMService]) -> Toolkit:
    """The composition root's own tools and prompts, which wire the rule engine and the LLM service together.

    Tools `generate_code` and `review_code`; prompts `write-tests` and `review`. `llm` gives the LLM service
    (`deferred_llm(settings)`), asked for when a tool first needs it.
    """
    toolkit = Toolkit(
        "codegen",
        namespace="",
        description="Code from the project's rules and an LLM, validated; reviews against the rules.",
        package=APP_PACKAGE,
        rate_class="llm",
    )

    @toolkit.tool(
        "generate_code",
        title="Generate code",
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
        paths=["target_path", "context_paths", "tests"],
    )
    async def generate(
        task: str,
        target_path: str,
        ctx: Context,
        context_paths: list[str] | None = None,
        write: bool = False,
        tests: list[str] | None = None,
        typecheck: bool = False,
    ) -> dict[str, Any]:
        """Write the Python file `target_path` for `task`, following the project rules that apply to it.

        The rules of the target and of the `context_paths` (whose text the prompt also carries) go to the LLM. The
        code is validated (syntax, ruff with the security rules, forbidden calls); the file is written only when
        `write` is true and validation passed, atomically, with a backup that `codegen-lab undo` restores.
        The target's tests (`tests`, else `test_<name>.py` beside it or under `tests/`) run in testgen's sandbox
        against the new code, on a copy of the project, and must pass. `typecheck` adds basedpyright when installed.
        """
        from codegen_lab.server._codegen import generate_code  # noqa: PLC0415

        received = 0

        async def progress(text: str) -> None:
            nonlocal received
            received += len(text)
            await ctx.report_progress(received, None, "the LLM is writing")

        result = await generate_code(
            settings,
            llm(),
            task=task,
            target_path=target_path,
            context_paths=context_paths,
            write=write,
            tests=tests,
            typecheck=typecheck,
            session=ctx.session,
            on_text=progress,
        )
        return result.as_json()

    @toolkit.tool("review_code", title="Review code", annotations=ToolAnnotations(read_only_hint=True), paths=["path"])
    async def review(path: str, ctx: Context) -> dict[str, Any]:
        """Review the file at `path` against the project rules that apply to it and the linters.

        LLM-assisted when an LLM is available, static otherwise; `mode` in the result says which.
        """
        from codegen_lab.server._codegen import review_code  # noqa: PLC0415

        return (await review_code(settings, llm(), path=path, session=ctx.session)).as_json()

    @toolkit.prompt("write-tests", title="Write tests")
    def write_tests(path: str) -> str:
        """Write pytest tests for a file, following the project's rules."""
        from codegen_lab.rule_engine import RuleEngine  # noqa: PLC0415

        rules = RuleEngine.load(settings.root).render([path])
        return (
            f"Write pytest tests for {path}: one behaviour per test, names that say the behaviour, no network, clock "
            f"or randomness. Run them and keep only tests that pass.\n\n{rules}"
        )

    @toolkit.prompt("review", title="Review a file")
    def review_prompt(path: str) -> str:
        """Review a file against the project's rules."""
        from codegen_lab.rule_engine import RuleEngine  # noqa: PLC0415

        rules = RuleEngine.load(settings.root).render([path])
        return f"Review {path} against these project rules; list each problem with its line and a fix.\n\n{rules}"

    return toolkit
