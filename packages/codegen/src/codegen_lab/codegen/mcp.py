"""The `codegen` toolkit: `generate_code` and `review_code`, and the `write-tests` and `review` prompts.

The server builds it with `create_toolkit(loop)`, passing a function that gives the `CodeLoop` (the model is made
on first use). It is not discovered through an entry point: the loop needs what the server wires in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp_types import ToolAnnotations

from codegen_lab.mcp_core import Context, Toolkit

if TYPE_CHECKING:
    from codegen_lab.codegen._loop import CodeLoop

__all__ = ["PACKAGE", "create_toolkit"]

PACKAGE = "codegen-lab-codegen"


def create_toolkit(loop: Callable[[], CodeLoop], *, package: str = PACKAGE) -> Toolkit:
    """The toolkit over the loop that `loop()` gives (asked for on each call, so it can be made lazily)."""
    toolkit = Toolkit(
        "codegen",
        namespace="",
        description="Code from the project's rules and an LLM, validated; reviews against the rules.",
        package=package,
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
        code is validated (syntax, ruff with the security rules, an allowlist of imports and a call policy); only
        code that passed runs, in testgen's sandbox: the target's tests (`tests`, else `test_<name>.py` beside it or
        under `tests/`), on a copy of the project, must pass. `typecheck` adds basedpyright when installed. The file
        is written only when `write` is true and everything passed, atomically, with a backup that
        `codegen-lab undo` restores.
        """
        received = 0

        async def progress(text: str) -> None:
            nonlocal received
            received += len(text)
            await ctx.report_progress(received, None, "the LLM is writing")

        result = await loop().generate(
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
        return (await loop().review(path=path, session=ctx.session)).as_json()

    @toolkit.prompt("write-tests", title="Write tests")
    def write_tests(path: str) -> str:
        """Write pytest tests for a file, following the project's rules."""
        current = loop()
        rules = current.rules(current.root).render([path])
        return (
            f"Write pytest tests for {path}: one behaviour per test, names that say the behaviour, no network, clock "
            f"or randomness. Run them and keep only tests that pass.\n\n{rules}"
        )

    @toolkit.prompt("review", title="Review a file")
    def review_prompt(path: str) -> str:
        """Review a file against the project's rules."""
        current = loop()
        rules = current.rules(current.root).render([path])
        return f"Review {path} against these project rules; list each problem with its line and a fix.\n\n{rules}"

    return toolkit
