"""Tools whose JSON schemas are kept between starts, so that a server whose code has not changed starts faster.

Turning a tool function into an MCP tool means building a pydantic model of its arguments and the JSON schemas of
its arguments and result: about 2 ms a tool, most of what composing a server costs. The schemas follow from the
function's code, the types it names, and the code of pydantic and the SDK. So the cache stores, beside the
schemas, every module file outside the standard library that was loaded when they were built, with its size and
modification time; it is used only while every one of them is unchanged, and only for a function whose
signature, defaults and docstring hash the same. A tool built from the cache gets its argument model on its first
call instead of at start. Prompts are kept the same way: their arguments, and their argument validator built on
their first use.

The cache is one JSON file per Python environment in the cache folder (`cache_dir`, `CODEGEN_LAB_CACHE_DIR`, or
the platform's cache folder). It is only an accelerator: a missing, stale, corrupt or unwritable cache means the
schemas are built as they would be without it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codegen_lab.common._atomic import replace_atomically
from codegen_lab.common._folders import default_cache_dir

if TYPE_CHECKING:
    from mcp.server.mcpserver.prompts.base import Prompt
    from mcp.server.mcpserver.tools import Tool

    from codegen_lab.mcp_core._toolkit import PromptSpec, ToolSpec

__all__ = ["SchemaCache", "default_cache_dir", "is_async"]

logger = logging.getLogger(__name__)

_FORMAT = 1
_PROMPT = "prompt:"  # prompts share the table with tools; no tool name has a colon


class SchemaCache:
    """The tool schemas of earlier starts that are still true, and the ones built in this start.

    Example:
        ```python
        cache = SchemaCache.load(Path("~/.cache/codegen-lab").expanduser())
        fields = cache.get(spec)  # the SDK Tool's fields, or None: build the tool
        ...
        cache.put(spec, tool)
        cache.save()
        ```
    """

    def __init__(self, path: Path | None, entries: dict[str, Any] | None = None) -> None:
        self.path = path
        self.entries: dict[str, Any] = entries or {}
        self.hits = 0
        self.dirty = False

    @classmethod
    def load(cls, folder: Path | None) -> SchemaCache:
        """The cache in `folder` (None: no cache), empty when its file is missing, corrupt or out of date."""
        if folder is None:
            return cls(None)
        environment = hashlib.sha256(f"{sys.prefix}\0{sys.version}".encode()).hexdigest()[:16]
        path = folder / f"tool-schemas-{environment}.json"
        try:
            stored = json.loads(path.read_bytes())
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            logger.debug("tool schema cache %s unreadable (%s); building schemas", path, exc)
            return cls(path)
        if not _still_true(stored):
            logger.debug("tool schema cache %s is out of date; building schemas", path)
            return cls(path)
        return cls(path, stored["tools"])

    def get(self, spec: ToolSpec) -> dict[str, Any] | None:
        """The schemas of `spec`'s tool that an earlier start built from the same code, or None.

        They are `{"parameters", "output_schema", "context_kwarg"}`; the argument model is not kept: a tool served
        from the cache builds it on its first call.
        """
        entry = self.entries.get(spec.name)
        if entry is None or entry.get("key") != _function_key(spec):
            return None
        self.hits += 1
        return entry

    def put(self, spec: ToolSpec, tool: Tool) -> None:
        """Remember the schemas of `tool`, just built from `spec`; tools with `Resolve(...)` parameters are not kept."""
        if tool.resolved_params:
            return
        self.entries[spec.name] = {
            "key": _function_key(spec),
            "parameters": tool.parameters,
            "output_schema": tool.output_schema,
            "context_kwarg": tool.context_kwarg,
        }
        self.dirty = True

    def prompt(self, spec: PromptSpec) -> dict[str, Any] | None:
        """`{"arguments", "context_kwarg"}` of the prompt of `spec` that an earlier start built from the same code."""
        entry = self.entries.get(_PROMPT + spec.name)
        if entry is None or entry.get("key") != _function_key(spec):
            return None
        self.hits += 1
        return entry

    def put_prompt(self, spec: PromptSpec, prompt: Prompt) -> None:
        """Remember the arguments of `prompt`, just built from `spec`."""
        self.entries[_PROMPT + spec.name] = {
            "key": _function_key(spec),
            "arguments": [argument.model_dump() for argument in prompt.arguments or ()],
            "context_kwarg": prompt.context_kwarg,
        }
        self.dirty = True

    def save(self) -> None:
        """Write the cache, with the module files it depends on, when this start built any schema."""
        if self.path is None or not self.dirty:
            return
        payload = {"format": _FORMAT, "files": _loaded_files(), "tools": self.entries}
        try:
            replace_atomically(self.path, json.dumps(payload, separators=(",", ":")).encode())
        except OSError as exc:
            logger.debug("tool schema cache %s not written: %s", self.path, exc)
        else:
            self.dirty = False


def is_async(fn: Callable[..., Any]) -> bool:
    """Whether calling `fn` gives an awaitable: a coroutine function, also behind `functools.partial` or `__call__`."""
    while isinstance(fn, functools.partial):
        fn = fn.func  # pyright: ignore[reportUnknownMemberType]
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


def _function_key(spec: ToolSpec | PromptSpec) -> str:
    """A hash of what decides a tool's schemas within unchanged module files: the function's signature and doc."""
    fn = spec.fn
    code = getattr(fn, "__code__", None)
    parts = (
        f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', '')}",
        repr(getattr(fn, "__annotations__", None)),
        repr(getattr(fn, "__defaults__", None)),
        repr(getattr(fn, "__kwdefaults__", None)),
        repr(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount] if code is not None else None),
        fn.__doc__ or "",
        repr(getattr(spec, "structured_output", None)),
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _still_true(stored: object) -> bool:
    """Whether the stored cache has this format and every module file it was built from is unchanged."""
    if not isinstance(stored, dict):
        return False
    fields = cast("dict[str, Any]", stored)
    files: object = fields.get("files")
    if fields.get("format") != _FORMAT or not isinstance(fields.get("tools"), dict) or not isinstance(files, dict):
        return False
    stamps = cast("dict[str, object]", files)
    if not stamps:
        return False
    for path, stamp in stamps.items():
        try:
            status = os.stat(path)
        except OSError:
            return False
        if [status.st_mtime_ns, status.st_size] != stamp:
            return False
    return True


def _loaded_files() -> dict[str, list[int]]:
    """Every loaded module's file outside the standard library, with its modification time and size."""
    import sysconfig  # noqa: PLC0415 - only when the cache is written

    paths = sysconfig.get_paths()
    standard = tuple({paths["stdlib"], paths["platstdlib"]})
    installed = tuple({paths["purelib"], paths["platlib"]})
    files: dict[str, list[int]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or (path.startswith(standard) and not path.startswith(installed)):
            continue
        try:
            status = os.stat(path)
        except OSError:
            continue
        files[path] = [status.st_mtime_ns, status.st_size]
    return files
