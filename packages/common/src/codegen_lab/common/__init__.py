"""The shared foundation of Codegen Lab, with no MCP, ASGI server or LLM SDK in it.

- `codegen_lab.common.errors`: the one error tree (`CodegenLabError`, `UsageError`, `OperationError`, ...), with
  a root error per package below it in each package's own `errors` module.
- `codegen_lab.common.files`: atomic writes and the journal of changes that `codegen-lab undo` takes back.
- `codegen_lab.common.guard`: the one path guard (`AllowedRoots`): a path resolves inside the allowed roots.
- `codegen_lab.common.secrets`: the secrets to keep out of text, and the redaction of logs and results.
- `codegen_lab.common.cli`: the options and error reporting every command line shares.
- `Settings` and `load_settings`: the settings of a Codegen Lab installation and where each value came from.

Names are imported when first used: `from codegen_lab.common import UsageError` does not import pydantic.
"""

from typing import TYPE_CHECKING

from codegen_lab.common._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from codegen_lab.common._lazy import lazy_exports
    from codegen_lab.common._rates import DEFAULT_RATE_LIMITS, Rate
    from codegen_lab.common._settings import ENV_PREFIX, Settings, load_settings
    from codegen_lab.common.errors import (
        CodegenLabError,
        DuplicateNameError,
        LLMUnavailableError,
        OperationError,
        RateLimitError,
        SettingsError,
        ToolkitError,
        UsageError,
    )

__version__: str
"""The installed version of codegen-lab-common, read from its metadata when first asked for."""

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "ENV_PREFIX",
    "CodegenLabError",
    "DuplicateNameError",
    "LLMUnavailableError",
    "OperationError",
    "Rate",
    "RateLimitError",
    "Settings",
    "SettingsError",
    "ToolkitError",
    "UsageError",
    "__version__",
    "lazy_exports",
    "load_settings",
]

_HOMES = {
    "lazy_exports": "codegen_lab.common._lazy",
    "DEFAULT_RATE_LIMITS": "codegen_lab.common._rates",
    "Rate": "codegen_lab.common._rates",
    "ENV_PREFIX": "codegen_lab.common._settings",
    "Settings": "codegen_lab.common._settings",
    "load_settings": "codegen_lab.common._settings",
    "CodegenLabError": "codegen_lab.common.errors",
    "DuplicateNameError": "codegen_lab.common.errors",
    "LLMUnavailableError": "codegen_lab.common.errors",
    "OperationError": "codegen_lab.common.errors",
    "RateLimitError": "codegen_lab.common.errors",
    "SettingsError": "codegen_lab.common.errors",
    "ToolkitError": "codegen_lab.common.errors",
    "UsageError": "codegen_lab.common.errors",
}

__getattr__, __dir__ = _lazy_exports(__name__, "codegen-lab-common", _HOMES, __all__)
