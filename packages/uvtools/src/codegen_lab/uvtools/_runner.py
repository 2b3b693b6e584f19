"""Running one command in many members: dependency-first, in parallel when asked, with per-member results."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from codegen_lab.uvtools._graph import Graph
from codegen_lab.uvtools._model import Workspace
from codegen_lab.uvtools._process import uv_binary
from codegen_lab.uvtools.errors import WorkspaceError

if TYPE_CHECKING:
    from codegen_lab.uvtools._tool_results import MemberRun, RunResult

__all__ = ["MemberResult", "RunSummary", "run_many"]

logger = logging.getLogger(__name__)

Status = Literal["passed", "failed", "skipped"]

OUTPUT_TAIL = 4000
"""Characters of a member's output a run's result keeps (the end of it: where the failure is)."""


@dataclass(frozen=True, slots=True)
class MemberResult:
    """The outcome of the command in one member.

    Attributes:
        member: The member's name.
        status: `passed`, `failed` or `skipped` (stopped early, or a dependency failed).
        returncode: The exit status, None when it did not run.
        seconds: How long it ran.
        output: What it wrote (stdout and stderr interleaved).
        log: The log file the output was written to, when a log folder was given.
        reason: Why it was skipped.
    """

    member: str
    status: Status
    returncode: int | None = None
    seconds: float = 0.0
    output: str = ""
    log: str | None = None
    reason: str | None = None

    def to_result(self) -> MemberRun:
        """The outcome as `ws_run` reports it: the output is left to the log (and to the run's `outputs`)."""
        from codegen_lab.uvtools._tool_results import MemberRun  # noqa: PLC0415

        return MemberRun(
            member=self.member,
            status=self.status,
            returncode=self.returncode,
            seconds=round(self.seconds, 3),
            log=self.log,
            reason=self.reason,
        )


@dataclass(slots=True)
class RunSummary:
    """Every member's result, in the order they finished, and the plan they ran in."""

    command: tuple[str, ...]
    order: list[str]
    results: list[MemberResult] = field(default_factory=list[MemberResult])
    applied: bool = True

    @property
    def ok(self) -> bool:
        """Whether every member that was meant to run passed."""
        return all(result.status == "passed" for result in self.results)

    def to_result(self) -> RunResult:
        """`{"command", "order", "applied", "ok", "passed", "failed", "skipped", "results": [...], "outputs"}`.

        `passed`, `failed` and `skipped` list members in plan order; `results` in the order they finished;
        `outputs` the last `OUTPUT_TAIL` characters of each member's output that wrote something.
        """
        from codegen_lab.uvtools._tool_results import RunResult  # noqa: PLC0415

        statuses = {result.member: result.status for result in self.results}
        by_status = {
            status: [name for name in self.order if statuses.get(name) == status]
            for status in ("passed", "failed", "skipped")
        }
        return RunResult(
            command=list(self.command),
            order=self.order,
            applied=self.applied,
            ok=self.ok,
            passed=by_status["passed"],
            failed=by_status["failed"],
            skipped=by_status["skipped"],
            results=[result.to_result() for result in self.results],
            outputs={result.member: result.output[-OUTPUT_TAIL:] for result in self.results if result.output},
        )


def isolated_command(member: str, command: Sequence[str]) -> list[str]:
    """`command` run in an environment of `member` alone: `uv run --package MEMBER --exact -- COMMAND`."""
    return [uv_binary(), "run", "--package", member, "--exact", "--", *command]


def _run_one(
    member: str, folder: Path, command: Sequence[str], log_dir: Path | None, timeout: float | None
) -> MemberResult:
    env = {**os.environ, "UVTOOLS_MEMBER": member}
    started = time.monotonic()
    try:
        completed = subprocess.run(  # noqa: S603 (a list of arguments, no shell)
            list(command),
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        returncode, output = completed.returncode, completed.stdout
    except FileNotFoundError as exc:
        returncode, output = 127, f"{command[0]}: not found ({exc})\n"
    except subprocess.TimeoutExpired as exc:
        returncode, output = -1, f"{exc.output or ''}\ntimed out after {timeout} s\n"
    seconds = time.monotonic() - started
    log: str | None = None
    if log_dir is not None:
        log_path = log_dir / f"{member}.log"
        log_path.write_text(output, encoding="utf-8")
        log = str(log_path)
    return MemberResult(member, "passed" if returncode == 0 else "failed", returncode, seconds, output, log)


def run_many(
    workspace: Workspace,
    command: Sequence[str],
    *,
    members: Sequence[str] | None = None,
    jobs: int = 1,
    keep_going: bool = False,
    apply: bool = True,
    log_dir: Path | None = None,
    timeout: float | None = None,
    on_done: Callable[[MemberResult], None] | None = None,
    order_kinds: Sequence[str] = ("project",),
    isolated: bool = False,
) -> RunSummary:
    """Run `command` in each member's folder, each after the members it depends on.

    Args:
        workspace: The workspace.
        command: The command and its arguments (no shell); `UVTOOLS_MEMBER` holds the member's name.
        members: Only these members (default: all), still in dependency order.
        jobs: How many run at once; a member starts once its dependencies among the selected ones passed.
        keep_going: After a failure, keep running the members that do not depend on the failed one.
        apply: False only plans: the summary lists the order and nothing runs.
        log_dir: Write each member's output to `LOG_DIR/MEMBER.log`.
        timeout: Seconds each member's command may take.
        on_done: Called with each result as it arrives (for progress bars).
        order_kinds: The edge kinds that order the members (`project` by default; `all`, `extra`, `group`,
            `group:NAME`...): a cycle through other kinds does not stop the run.
        isolated: Run each member's command in an environment of that member alone
            (`uv run --package MEMBER --exact -- COMMAND`), so an undeclared dependency fails there. The members
            share the workspace's `.venv`, which uv re-syncs for each: one member at a time (`jobs` must be 1).

    Raises:
        WorkspaceError: When `command` is empty or `jobs` below 1.
        CycleError: When the members depend on each other in a cycle through the `order_kinds`.
    """
    if not command:
        raise WorkspaceError("the command to run is empty", hint="Pass the command after --, as: ws run -- pytest")
    if jobs < 1:
        raise WorkspaceError(f"jobs = {jobs}: must be at least 1")
    if isolated and jobs > 1:
        raise WorkspaceError(
            f"jobs = {jobs} with isolated: the members share .venv, which uv re-syncs for each",
            hint="Run isolated members one at a time (--jobs 1)",
        )
    graph = Graph.of(workspace, order_kinds=order_kinds)
    selected = set(graph.names if members is None else (workspace.member(name).name for name in members))
    order = [name for name in graph.order() if name in selected]
    summary = RunSummary(tuple(command), order, applied=apply)
    if not apply:
        return summary
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    needs = {name: set(graph.dependencies(name, transitive=True, kinds=order_kinds)) & selected for name in order}
    folders = {name: workspace.member(name).path for name in order}

    def finish(result: MemberResult) -> None:
        summary.results.append(result)
        if on_done is not None:
            on_done(result)

    _Schedule(needs, jobs, keep_going, finish).run(
        lambda name: _run_one(
            name, folders[name], isolated_command(name, command) if isolated else command, log_dir, timeout
        )
    )
    return summary


class _Schedule:
    """Starts each member once its dependencies passed, at most `jobs` at once; skips the rest after a failure."""

    def __init__(
        self, needs: dict[str, set[str]], jobs: int, keep_going: bool, finish: Callable[[MemberResult], None]
    ) -> None:
        self.needs = needs
        self.jobs = jobs
        self.keep_going = keep_going
        self.finish = finish
        self.pending = list(needs)
        self.done: dict[str, MemberResult] = {}
        self.stopping = False

    def _record(self, result: MemberResult) -> None:
        self.done[result.member] = result
        self.finish(result)
        if result.status == "failed" and not self.keep_going:
            self.stopping = True

    def _startable(self, running: int) -> list[str]:
        """Members to start now; members whose dependency did not pass are recorded as skipped."""
        start: list[str] = []
        for name in list(self.pending):
            failed = sorted(dep for dep in self.needs[name] if dep in self.done and self.done[dep].status != "passed")
            if failed:
                self.pending.remove(name)
                self._record(MemberResult(name, "skipped", reason=f"a dependency did not pass: {', '.join(failed)}"))
            elif running + len(start) < self.jobs and all(dep in self.done for dep in self.needs[name]):
                self.pending.remove(name)
                start.append(name)
        return start

    def run(self, work: Callable[[str], MemberResult]) -> None:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            running: dict[Future[MemberResult], str] = {}
            while self.pending or running:
                if not self.stopping:
                    for name in self._startable(len(running)):
                        running[pool.submit(work, name)] = name
                if self.stopping and not running:
                    for name in self.pending:
                        self._record(MemberResult(name, "skipped", reason="stopped after a failure (use --keep-going)"))
                    self.pending.clear()
                    break
                if running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        del running[future]
                        self._record(future.result())
