"""Package namespaces whose names are imported when first used, declared once.

A package lists its public names once, as re-exports under `if TYPE_CHECKING:` in its `__init__.py`:

```python
from typing import TYPE_CHECKING

from codegen_lab.common import declared_exports

if TYPE_CHECKING:
    from codegen_lab.example._engine import Engine as Engine, load as load

__getattr__, __dir__ = declared_exports(__name__, "codegen-lab-example")
```

Type checkers read those lines (the `X as X` form marks a re-export); at run time `declared_exports` reads the
same lines from the file's syntax tree when a name is first asked for, imports the name from its module, and
stores it in the package. `__all__` is those names and `__version__` (the distribution's installed version).
A public class or function defined in one of the package's private modules reports the package as its
`__module__`, as httpx does, so tracebacks and documentation show `codegen_lab.example.Engine`, not a private
path. Dataclasses and pydantic models keep theirs: their annotations are resolved through it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from pathlib import Path

__all__ = ["declared_exports", "lazy_exports", "report_public_home"]


def declared_exports(
    module: str, distribution: str, *, defined_here: Sequence[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of the package `module`, whose exports are its `TYPE_CHECKING` re-exports.

    `defined_here` names the public names the `__init__.py` defines itself (a `main` function), for `__all__`.

    Raises:
        AttributeError: From `__getattr__`, for a name the package does not export.
    """
    found: dict[str, tuple[str, str]] = {}

    def homes() -> dict[str, tuple[str, str]]:
        if not found:
            found.update(_type_checking_imports(Path(sys.modules[module].__file__ or "")))
        return found

    def __getattr__(name: str) -> object:
        if name == "__version__":
            from importlib.metadata import version  # noqa: PLC0415 (only when asked)

            value: object = version(distribution)
        elif name == "__all__":
            value = sorted([*homes(), *defined_here, "__version__"])
        elif name in homes():
            home, original = homes()[name]
            value = getattr(import_module(home), original)
            report_public_home(value, module)
        else:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[module]), *homes(), "__all__", "__version__"})

    return __getattr__, __dir__


def _type_checking_imports(source: Path) -> dict[str, tuple[str, str]]:
    """Each name re-exported under `if TYPE_CHECKING:` in `source`: the module it comes from and its name there."""
    import ast  # noqa: PLC0415 (only when a name is first asked for: a command that needs none skips it)

    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    names: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            continue
        for statement in node.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                for alias in statement.names:
                    names[alias.asname or alias.name] = (statement.module, alias.name)
    return names


def report_public_home(value: object, package: str) -> None:
    """Make a class or function of a private module (`codegen_lab.x._y`) say it lives in a public one.

    That is `package` when it is `codegen_lab.x` or one of its public modules, else `codegen_lab.x`, the package
    that defines it (which exports it too).

    Dataclasses and pydantic models keep their module: their annotations are resolved through it.
    """
    if not callable(value):  # classes are callable too
        return
    home = getattr(value, "__module__", None)
    if not isinstance(home, str) or not (home.startswith(f"{package}._") or home.startswith("codegen_lab.")):
        return  # not ours
    owner = home.split("._", 1)[0]  # the package of the private module, or `home` when it is public already
    if owner == home:
        return
    if isinstance(value, type) and (hasattr(value, "__pydantic_fields__") or hasattr(value, "__dataclass_fields__")):
        return  # their annotations are resolved in the namespace of `__module__`: it must stay the defining one
    try:  # a name re-exported by another package reports the package that defines it
        value.__module__ = package if package == owner or package.startswith(f"{owner}.") else owner
    except (AttributeError, TypeError):
        return


def lazy_exports(
    module: str,
    distribution: str,
    homes: Mapping[str, str],
    exported: Sequence[str],
    *,
    everything_of: str | None = None,
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of a package that exports `homes` (name: module) lazily.

    Prefer `declared_exports`, which reads the names from the package's `TYPE_CHECKING` block instead of a second
    list. `__version__` is the installed version of `distribution`, read from its metadata when first asked for.
    `everything_of` names a module whose `__all__` is served too, imported when one of its names is first asked for
    (its names are listed there only).
    """

    def __getattr__(name: str) -> object:
        if name == "__version__":
            from importlib.metadata import version  # noqa: PLC0415

            value: object = version(distribution)
        elif name in homes:
            value = getattr(import_module(homes[name]), name)
            report_public_home(value, module)
        elif everything_of is not None and not name.startswith("_") and name in import_module(everything_of).__all__:
            value = getattr(import_module(everything_of), name)
            report_public_home(value, module)
        else:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[module]), *exported})

    return __getattr__, __dir__
