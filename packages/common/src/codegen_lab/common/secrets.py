"""Secrets the server knows of, and the one way they are kept out of logs, results, errors and the audit log.

A secret is the value of an environment variable whose name says it is one (`ANTHROPIC_API_KEY`,
`GITHUB_TOKEN`, `DB_PASSWORD`, ...), or a value registered at start (a key read from a file, HTTP bearer
tokens). Values shorter than 8 characters are not treated as secrets: replacing them would mangle ordinary text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "REDACTED",
    "RedactingFormatter",
    "known_secrets",
    "redact",
    "refresh_secrets",
    "register_secret",
    "scrub",
    "scrub_text",
]

REDACTED = "[redacted]"
_MINIMUM = 8
_SECRET_NAMES = ("key", "token", "secret", "password", "passwd", "authorization", "credential", "cookie")
_SECRET_ENVIRONMENT = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "AUTH")
_REGISTERED: set[str] = set()
_known: list[str] | None = None


def register_secret(value: str | None) -> None:
    """Treat `value` as a secret from now on (ignored when shorter than 8 characters)."""
    if value is not None and len(value.strip()) >= _MINIMUM:
        _REGISTERED.add(value.strip())
        refresh_secrets()


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """The values of the variables in `environ` whose names say they are secrets."""
    return [
        value
        for name, value in environ.items()
        if len(value) >= _MINIMUM and any(marker in name.upper() for marker in _SECRET_ENVIRONMENT)
    ]


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret known, longest first (so that one holding another is replaced whole).

    Without `environ`, the process environment is read once and remembered (reading it costs more than a tool
    call should): `refresh_secrets()` reads it again, as `build_server` does when a server is composed.
    """
    global _known  # noqa: PLW0603 - one list for the process, rebuilt when something changes
    if environ is not None:
        return sorted({*environment_secrets(environ), *_REGISTERED}, key=len, reverse=True)
    if _known is None:
        _known = sorted({*environment_secrets(os.environ), *_REGISTERED}, key=len, reverse=True)
    return _known


def refresh_secrets() -> None:
    """Read the process environment's secrets again on the next `known_secrets()`."""
    global _known  # noqa: PLW0603
    _known = None


def scrub_text(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every known secret replaced by `[redacted]`."""
    for secret in known_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` (JSON-like: mappings, lists, strings) with every secret inside its strings replaced."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, Mapping):
        mapping: Mapping[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {key: scrub(item, secrets) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return [scrub(item, secrets) for item in items]
    return value


def redact(value: Any, secrets: list[str], key: str = "") -> Any:
    """`value` with secret-looking fields (`api_key`, `token`, ...) and known secret values replaced.

    For what a caller sent (the audit log's arguments), where a field's name is reason enough.
    """
    if key and any(marker in key.lower() for marker in _SECRET_NAMES):
        return REDACTED
    if isinstance(value, Mapping):
        mapping: Mapping[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {str(k): redact(v, secrets, str(k)) for k, v in mapping.items()}
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return [redact(item, secrets) for item in items]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, tracebacks included, never holds a known secret."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as the format string says, with every known secret replaced."""
        return scrub_text(super().format(record))
