"""The `rules` toolkit: the rule engine as MCP tools, resources and a prompt.

Installed under the entry-point group `codegen_lab.toolkits`. The engine itself is imported when a tool first
runs, so that the server starts without YAML and glob libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import unquote

from pydantic import Field

from codegen_lab.common.exports import lazy_exports
from codegen_lab.mcp_core import Context, ServerContext, ToolAnnotations, Toolkit

if TYPE_CHECKING:
    from codegen_lab.common.results import SparseResult
    from codegen_lab.rule_engine._engine import RuleEngine
    from codegen_lab.rule_engine._index import RuleIndex
    from codegen_lab.rule_engine._tool_results import (
        ExplanationResult,
        LintResult,
        MigrationResult,
        RenderResult,
        RulesResult,
    )

__all__ = ["create_toolkit"]

# The result models are imported when mcp-core first builds the tools' schemas, not when the server starts.
__getattr__, __dir__ = lazy_exports(
    __name__,
    "codegen-lab-rule-engine",
    dict.fromkeys(
        ("ExplanationResult", "LintResult", "MigrationResult", "RenderResult", "RulesResult"),
        "codegen_lab.rule_engine._tool_results",
    ),
    __all__,
)

_ASSISTANT = (
    "An assistant (cursor, claude, agents-md, codex, copilot, windsurf, cline, kiro, gemini, roo, zed, junie, "
    "opencode, continue): what it would load; `all`: every assistant's view, grouped."
)
_MODE = (
    "Roo Code's mode for Roo's view (architect, code, ask, debug, orchestrator, or a custom mode of .roomodes); "
    "default: Roo's default mode, architect."
)
_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def cleaned[R: SparseResult](result: R) -> R:
    """`result` with every string without hidden Unicode: what reaches the model cannot smuggle text."""
    from codegen_lab.rule_engine._unicode import sanitize_data  # noqa: PLC0415

    data = result.model_dump(mode="json", by_alias=True)
    clean = sanitize_data(data)
    return result if clean == data else type(result).model_validate(clean)


def create_toolkit(context: ServerContext) -> Toolkit:
    """The `rules` toolkit for the workspace at `context.root`."""
    settings = context.settings
    toolkit = Toolkit(
        "rules",
        description="Read, explain, lint and render the rule files that steer AI assistants.",
        instructions=(
            "Before editing a file, call rules_for_path (or read the apply-rules prompt) to learn which project "
            "rules apply to it, and follow them."
        ),
    )

    indexes: list[RuleIndex] = []  # made on first use: the server starts without the engine's imports

    def engine() -> RuleEngine:
        """The workspace's rules, from an index kept between calls and refreshed when the tree changes."""
        if not indexes:
            from codegen_lab.rule_engine._index import RuleIndex  # noqa: PLC0415

            indexes.append(RuleIndex(watch=True))  # file-system events, else mtimes
        return indexes[0].engine(settings.root)

    @toolkit.tool("list", title="List rules", annotations=_READ_ONLY)
    def list_rules() -> RulesResult:
        """Every rule file in the workspace (Cursor, AGENTS.md, CLAUDE.md, Copilot, ...): type, globs, description."""
        from codegen_lab.rule_engine._tool_results import RulesResult  # noqa: PLC0415

        loaded = engine()
        rules = [rule.summary() for rule in loaded.rules]
        return cleaned(RulesResult.model_validate({"root": str(loaded.root), "rules": rules}))

    @toolkit.tool(title="Rules for a path", annotations=_READ_ONLY, paths=["path"])
    def for_path(
        path: Annotated[str, Field(description="A file, relative to the workspace root.")],
        assistant: Annotated[str, Field(description=_ASSISTANT)] = "all",
        mode: Annotated[str | None, Field(description=_MODE)] = None,
    ) -> ExplanationResult:
        """Which rules attach to the file at `path` (relative to the workspace root) and why, and why the others do not.

        `assistant` (cursor, claude, agents-md, codex, copilot, windsurf, cline, kiro, gemini, roo, zed, junie,
        opencode, continue) gives what that assistant would load; `all` adds every assistant's view, grouped.
        """
        return cleaned(engine().explain(path, assistant, mode=mode).to_result())

    @toolkit.tool(title="Lint rules", annotations=_READ_ONLY, paths=["path"])
    async def lint(
        ctx: Context,
        path: Annotated[
            str | None, Field(description="A rule file or a folder, relative to the root (default: the whole root).")
        ] = None,
        assistant: Annotated[str | None, Field(description="Only the files this assistant reads.")] = None,
        mode: Annotated[str | None, Field(description=_MODE)] = None,
    ) -> LintResult:
        """Lint the rule files under `path` (a folder or a file, relative to the root; default: the whole root).

        Returns every diagnostic (code, severity, path, line, message) and a summary with totals per assistant;
        `assistant` lints only the files that assistant reads.
        """
        import anyio  # noqa: PLC0415

        from codegen_lab.rule_engine._engine import RuleEngine  # noqa: PLC0415
        from codegen_lab.rule_engine._lint import lint as run_lint  # noqa: PLC0415

        await ctx.report_progress(0, 2, "reading rules")

        def work() -> LintResult:
            loaded = engine() if path is None else RuleEngine.load(settings.root, only=path, loose=True)
            return cleaned(run_lint(loaded, assistant=assistant, mode=mode).to_result())

        result = await anyio.to_thread.run_sync(work)
        await ctx.report_progress(2, 2, "done")
        return result

    @toolkit.tool(title="Render rules", annotations=_READ_ONLY, paths=["paths"])
    def render(
        paths: Annotated[list[str], Field(description="The files being worked on, relative to the root.")],
        request: Annotated[
            str | None, Field(description="What the user asked: picks agent-requested rules by their description.")
        ] = None,
        budget: Annotated[int, Field(description="The most tokens the text may take.")] = 8_000,
        inline_references: Annotated[
            bool, Field(description="Put the text of the files the rules point at (`@file`) into the text.")
        ] = False,
        assistant: Annotated[str | None, Field(description="Only what this assistant loads.")] = None,
        mode: Annotated[str | None, Field(description=_MODE)] = None,
    ) -> RenderResult:
        """The text an assistant should follow for the files `paths`: the rules that apply, within `budget` tokens.

        In priority order: always-on rules, rules attached by a pattern, agent-requested rules by description,
        other rules by name. `truncated` and `omitted` say what did not fit; `@file` references are listed in
        `references` (inlined only with `inline_references`). `assistant` keeps only what that assistant loads.
        """
        rendering = engine().render_context(
            paths, request, budget=budget, inline_references=inline_references, assistant=assistant, mode=mode
        )
        return cleaned(rendering.to_result())

    @toolkit.tool(
        title="Migrate rules",
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False),
    )
    def migrate(
        to: Annotated[
            str,
            Field(
                description="The format to write: cursor, cursor-rule-md, agents-md, claude, copilot, windsurf, "
                "kiro, cline, codex, opencode, gemini, roo, zed, junie or continue."
            ),
        ],
        write: Annotated[bool, Field(description="Write the files; when false, a dry run.")] = False,
        sources: Annotated[
            list[str] | None, Field(description="Only the rules of these formats (default: every other format).")
        ] = None,
    ) -> MigrationResult:
        """Move the workspace's rules to another assistant's format, as a dry run unless `write` is true.

        `to` is one of cursor, cursor-rule-md, agents-md, claude, copilot, windsurf, kiro, cline, codex, opencode,
        gemini, roo, zed, junie, continue; `sources` limits the migration to rules of those formats. The result has
        the files' text, a unified diff, what the target cannot express, and the `mdc:`/`@file` links rewritten to
        the new locations. Written files are replaced atomically, with backups that `codegen-lab rules revert`
        restores.
        """
        from codegen_lab.rule_engine._migrate import plan_migration  # noqa: PLC0415

        plan = plan_migration(engine(), to, sources=sources)
        if write:
            plan.apply(state_dir=context.state_dir)
        return cleaned(plan.to_result())

    @toolkit.resource("codegen-lab://rules/index", name="rules-index", mime_type="application/json")
    def index() -> str:
        """Every rule in the workspace, as JSON."""
        import json  # noqa: PLC0415

        from codegen_lab.rule_engine._unicode import sanitize_data  # noqa: PLC0415

        return json.dumps(sanitize_data([rule.summary() for rule in engine().rules]), indent=2)

    @toolkit.resource("codegen-lab://rules/rule/{rule}", name="rule", mime_type="text/markdown")
    def rule(rule: str) -> str:
        """One rule's text for the assistant (by name, or by its path relative to the root with `/` as `%2F`)."""
        return engine().process_rule(unquote(rule))

    @toolkit.prompt("apply-rules", title="Apply the project's rules")
    def apply_rules(paths: str, request: str = "") -> str:
        """The project's rules for the given files (comma-separated paths), to follow while working on them."""
        focus = [part.strip() for part in paths.split(",") if part.strip()]
        text = engine().render(focus, request or None)
        from codegen_lab.rule_engine._unicode import clean  # noqa: PLC0415

        return clean(f"Follow these project rules while you work on {', '.join(focus)}.\n\n{text}")

    return toolkit
