"""The Anthropic API key, read without importing the rest of the LLM service (the server checks it as it starts)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from codegen_lab.common.errors import UsageError
from codegen_lab.common.secrets import register_secret

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["anthropic_key"]


def anthropic_key(key_file: Path | None, environ: dict[str, str] | None = None) -> str | None:
    """The API key: `ANTHROPIC_API_KEY`, else the first line of `key_file`, else None.

    Raises:
        UsageError: When `key_file` is set but cannot be read (the message names the file, never its content).
    """
    env = os.environ if environ is None else environ
    if env.get("ANTHROPIC_API_KEY"):
        return env["ANTHROPIC_API_KEY"].strip()
    if key_file is None:
        return None
    try:
        lines = key_file.expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"anthropic-key-file {key_file}: cannot be read ({exc.strerror})") from None
    key = lines[0].strip() if lines and lines[0].strip() else None
    register_secret(key)  # kept out of logs, results and errors like an environment variable's key
    return key
