"""Discovery of installed toolkits through the `codegen_lab.toolkits` entry-point group: the plugin system."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from codegen_lab.common.errors import DuplicateNameError, SettingsError, ToolkitError
from codegen_lab.mcp_core._toolkit import Toolkit

if TYPE_CHECKING:
    from codegen_lab.common._settings import Settings
    from codegen_lab.mcp_core._context import ServerContext

__all__ = ["BUILTIN_TOOLKIT", "ENTRY_POINT_GROUP", "ToolkitFactory", "discover_toolkits", "installed_toolkits"]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "codegen_lab.toolkits"
"""A package adds a toolkit by declaring, in its pyproject.toml:

```toml
[project.entry-points."codegen_lab.toolkits"]
rules = "codegen_lab.rule_engine.mcp:toolkit"
```

The object named is a `Toolkit`, or a callable that takes the `ServerContext` (the server's settings and model)
and returns one. The entry point's name is the toolkit's name.
"""

BUILTIN_TOOLKIT = "server"
"""The name of the toolkit that `build_server` always adds; no installed toolkit may take it."""

ToolkitFactory = Callable[["ServerContext"], Toolkit]
"""Makes a toolkit from what the server passes: its settings, state folder and model."""


def installed_toolkits() -> dict[str, EntryPoint]:
    """The toolkits installed in this environment, by name, without importing any of them.

    Raises:
        DuplicateNameError: When two distributions install a toolkit under the same name.
        ToolkitError: When a distribution installs a toolkit under the reserved name `server`.
    """
    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == BUILTIN_TOOLKIT:
            raise ToolkitError(
                f"toolkit {_label(entry_point)}: the name {BUILTIN_TOOLKIT!r} is reserved for the built-in "
                f"toolkit; {_package(entry_point)} must install its toolkit under another name"
            )
        previous = found.get(entry_point.name)
        if previous is not None:
            raise DuplicateNameError("toolkit", entry_point.name, _label(previous), _label(entry_point))
        found[entry_point.name] = entry_point
    return dict(sorted(found.items()))


def discover_toolkits(settings: Settings, *, context: ServerContext | None = None) -> list[Toolkit]:
    """Load the installed toolkits that the settings ask for (`include`, `exclude`), in name order.

    Toolkits that the settings leave out are not imported at all. A toolkit factory receives `context` (default:
    the settings alone, with no model).

    Raises:
        SettingsError: When `include` or `exclude` names a toolkit that is not installed.
        ToolkitError: When a toolkit fails to import or is not a `Toolkit`; the message names its package.
        DuplicateNameError: When two packages install a toolkit under the same name.
    """
    installed = installed_toolkits()
    known = {*installed, BUILTIN_TOOLKIT}
    problems = [
        f"{field} = {list(names)!r}: no toolkit named {name!r} is installed; installed: {', '.join(sorted(known))}"
        for field, names in (("include", settings.include or ()), ("exclude", settings.exclude))
        for name in names
        if name not in known
    ]
    if problems:
        raise SettingsError(problems)
    if context is None:
        from codegen_lab.mcp_core._context import ServerContext  # noqa: PLC0415

        context = ServerContext(settings)
    return [load_toolkit(entry_point, context) for name, entry_point in installed.items() if settings.wants(name)]


def load_toolkit(entry_point: EntryPoint, context: ServerContext) -> Toolkit:
    """Import one toolkit's entry point and make its `Toolkit`.

    Raises:
        ToolkitError: When the import fails, or the object is neither a `Toolkit` nor a factory of one.
    """
    hint = f"uninstall {_package(entry_point)} or exclude the toolkit (CODEGEN_LAB_EXCLUDE={entry_point.name})"
    try:
        loaded: object = entry_point.load()
        toolkit = loaded(context) if callable(loaded) and not isinstance(loaded, Toolkit) else loaded
    except Exception as exc:
        logger.debug("toolkit %s failed to load", entry_point.name, exc_info=exc)
        raise ToolkitError(
            f"toolkit {_label(entry_point)} failed to load from {entry_point.value!r}: "
            f"{type(exc).__name__}: {exc}; {hint}"
        ) from exc
    if not isinstance(toolkit, Toolkit):
        raise ToolkitError(
            f"toolkit {_label(entry_point)}: {entry_point.value!r} gave {type(toolkit).__name__}, "
            f"not a Toolkit or a callable that returns one; {hint}"
        )
    if toolkit.name != entry_point.name:
        raise ToolkitError(
            f"toolkit {_label(entry_point)} is installed under the name {entry_point.name!r} "
            f"but calls itself {toolkit.name!r}; the two must be the same"
        )
    if toolkit.package is None:
        toolkit.package = _package(entry_point)
    return toolkit


def _package(entry_point: EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist is not None else "an unknown package"


def _label(entry_point: EntryPoint) -> str:
    return f"{entry_point.name!r} ({_package(entry_point)})"
