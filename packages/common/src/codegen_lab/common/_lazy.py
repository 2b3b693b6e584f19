"""Package namespaces whose names are imported when first used, so that importing a package costs nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module

__all__ = ["lazy_exports"]


def lazy_exports(
    module: str, distribution: str, homes: Mapping[str, str], exported: Sequence[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of a package that exports `homes` (name: module) lazily.

    `__version__` is the installed version of `distribution`, read from its metadata when first asked for. A
    name, once imported, is stored in the package so that it is looked up only once.

    Example:
        ```python
        __getattr__, __dir__ = lazy_exports(__name__, "codegen-lab-rule-engine", _HOMES, __all__)
        ```
    """

    def __getattr__(name: str) -> object:
        if name == "__version__":
            from importlib.metadata import version  # noqa: PLC0415

            value: object = version(distribution)
        elif name in homes:
            value = getattr(import_module(homes[name]), name)
        else:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[module]), *exported})

    return __getattr__, __dir__
