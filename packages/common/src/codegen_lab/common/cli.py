"""Click helpers every Codegen Lab command shares: the `--root` and `--format` options, and how errors end a command.

A `UsageError` (the command was called wrongly) ends it with its message and exit status 2; any other
`CodegenLabError` with its message and exit status 1; neither shows a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from codegen_lab.common.errors import CodegenLabError, UsageError

__all__ = ["CallerError", "HostContext", "format_option", "reported_errors", "result_json", "root_option"]


@dataclass(frozen=True, slots=True)
class HostContext:
    """What a host command (`codegen-lab`) passes to the command groups it mounts, as click's context object.

    A library's group finds it with `click.get_current_context().find_object(HostContext)`; a library's own
    command (`codegen-lab-testgen`) finds None and works without it.

    Attributes:
        model: Gives the host's model for a project root, as a context manager yielding a
            `codegen_lab.llm.Completer`, or None when no model is configured.
    """

    model: Callable[[Path | None], AbstractContextManager[Any]] | None = None


class CallerError(click.ClickException):
    """A `UsageError`, shown as a command-line error with exit status 2."""

    exit_code = 2


@contextmanager
def reported_errors() -> Generator[None]:
    """Turn Codegen Lab's errors raised inside the block into click errors (exit status 2 or 1)."""
    try:
        yield
    except UsageError as exc:
        raise CallerError(str(exc)) from exc
    except CodegenLabError as exc:
        raise click.ClickException(str(exc)) from exc


def root_option[F: Callable[..., Any]](
    help: str = "The workspace root (default: CODEGEN_LAB_ROOT, else the current directory).",
) -> Callable[[F], F]:
    """`--root DIR`, passed to the command as `root` (a `Path`, or None when not given)."""

    def decorate(fn: F) -> F:
        return click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None, help=help)(fn)

    return decorate


def format_option[F: Callable[..., Any]](formats: tuple[str, ...] = ("text", "json")) -> Callable[[F], F]:
    """`--format`, passed to the command as `output_format`; `text` by default."""
    others = [name for name in formats if name not in ("text", "json")]
    described = "text for people, json for programs" + (f"; also {', '.join(others)}." if others else ".")

    def decorate(fn: F) -> F:
        return click.option(
            "--format",
            "output_format",
            type=click.Choice(formats),
            default="text",
            show_default=True,
            help=described,
        )(fn)

    return decorate


def result_json(value: object) -> Any:
    """What `--format json` prints of `value`, by the one serializer (`codegen_lab.common.results.to_json`).

    The serializer (and pydantic with it) is loaded on the first call, not when a command starts: a command
    printing text never pays for it.
    """
    from codegen_lab.common.results import to_json  # noqa: PLC0415

    return to_json(value)
