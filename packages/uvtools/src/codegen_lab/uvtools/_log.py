"""Debug messages without importing `logging` up front."""

from __future__ import annotations

__all__ = ["debug"]


def debug(logger: str, message: str, *args: object) -> None:
    """Log `message % args` at debug level on the logger called `logger`, importing `logging` only then.

    The workspace commands log rarely (an unreadable cache, a glob that matches a file), and importing `logging`
    (with `traceback`, `threading` and `string`) costs a twentieth of `codegen-lab ws graph`'s start.
    """
    import logging  # noqa: PLC0415

    logging.getLogger(logger).debug(message, *args)
