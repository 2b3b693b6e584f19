"""The `codegen` toolkit: `generate_code` and `review_code`, and the `write-tests` and `review` prompts.

The server builds it with `create_toolkit(loop)`, passing a function that gives the `CodeLoop` (the model is made
on first use). It is not discovered through an entry point: the loop needs what the server wires in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from mcp_types import ToolAnnotations
from pydantic import Field

from codegen_lab.common.exports import lazy_exports
from codegen_lab.mcp_core import Context, Toolkit

if TYPE_CHECKING:
    from codegen_lab.codegen._loop import CodeLoop
    from codegen_lab.codegen._tool_results import GenerationOutput, ReviewOutput

__all__ = ["PACKAGE", "create_toolkit"]

# The result models are imported when mcp-core first builds the tools' schemas, not when the server starts.
__getattr__, __dir__ = lazy_exports(
    __name__,
    "codegen-lab-codegen",
    dict.fromkeys(("GenerationOutput", "ReviewOutput"), "codegen_lab.codegen._tool_results"),
    __all__,
)

Cache = Annotated[bool, Field(description="Use a cached answer of the LLM when there is one; false asks it again.")]

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
        task: Annotated[str, Field(description="What the code should do, in words.")],
        target_path: Annotated[str, Field(description="The Python file to write, relative to the root.")],
        ctx: Context,
        context_paths: Annotated[
            list[str] | None, Field(description="More files whose text and rules the prompt carries.")
        ] = None,
        write: Annotated[
            bool, Field(description="Write the file when everything passed; when false, only return the code.")
        ] = False,
        tests: Annotated[
            list[str] | None,
            Field(description="The test files to run against the code (default: `test_<name>.py` of the target)."),
        ] = None,
        typecheck: Annotated[bool, Field(description="Also type-check the code with basedpyright.")] = False,
        cache: Cache = True,
    ) -> GenerationOutput:
        """Write the Python file `target_path` for `task`, following the project rules that apply to it.

        The rules of the target and of the `context_paths` (whose text the prompt also carries) go to the LLM. The
        code is validated (syntax, ruff with the security rules, an allowlist of imports and a call policy); only
        code that passed runs, in testgen's sandbox: the target's tests (`tests`, else `test_<name>.py` beside it or
        under `tests/`), on a copy of the project, must pass. `typecheck` adds basedpyright when installed. Code that
        fails goes back to the LLM with its failures, a few rounds (`rounds` in the result lists them). The file
        is written only when `write` is true and everything passed, atomically, with a backup that
        `codegen-lab undo` restores. `cache` false asks the LLM even when its answer is cached.
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
            cache=cache,
        )
        return result.to_result()

    @toolkit.tool("review_code", title="Review code", annotations=ToolAnnotations(read_only_hint=True), paths=["path"])
    async def review(
        path: Annotated[str, Field(description="The file to review, relative to the root.")],
        ctx: Context,
        cache: Cache = True,
    ) -> ReviewOutput:
        """Review the file at `path` against the project rules that apply to it and the linters.

        LLM-assisted when an LLM is available and answers, static otherwise; `mode` in the result says which.
        `cache` false asks the LLM even when its answer is cached.
        """
        return (await loop().review(path=path, session=ctx.session, cache=cache)).to_result()

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
