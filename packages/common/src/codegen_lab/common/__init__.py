"""The shared foundation of Codegen Lab, with no MCP, ASGI server or LLM SDK in it.

- `codegen_lab.common.errors`: the one error tree (`CodegenLabError`, `UsageError`, `OperationError`, ...), with
  a root error per package below it in each package's own `errors` module.
- `codegen_lab.common.files`: atomic writes and the journal of changes that `codegen-lab undo` takes back.
- `codegen_lab.common.guard`: the one path guard (`AllowedRoots`): a path resolves inside the allowed roots.
- `codegen_lab.common.secrets`: the secrets to keep out of text, and the redaction of logs and results.
- `codegen_lab.common.cli`: the options and error reporting every command line shares.
- `codegen_lab.common.results`: the one style of tool results (`Result`, `SparseResult`): documented models.
- `codegen_lab.common.exports`: `declared_exports`, how every package exports its names once, lazily.
- `Settings`, `load_settings` and `resolve_settings`: the settings of a Codegen Lab installation, where each value
  came from, and the trust boundary (`PROJECT_SETTINGS`: all a repository may set).

Names are imported when first used: `from codegen_lab.common import UsageError` does not import pydantic.
"""

from typing import TYPE_CHECKING

from codegen_lab.common.exports import declared_exports as _declared_exports

if TYPE_CHECKING:
    from codegen_lab.common._folders import default_cache_dir as default_cache_dir, user_config_path as user_config_path
    from codegen_lab.common._rates import DEFAULT_RATE_LIMITS as DEFAULT_RATE_LIMITS, Rate as Rate
    from codegen_lab.common._settings import (
        ENV_PREFIX as ENV_PREFIX,
        PROJECT_SETTINGS as PROJECT_SETTINGS,
        ResolvedSettings as ResolvedSettings,
        Settings as Settings,
        SettingShown as SettingShown,
        SettingsReport as SettingsReport,
        load_settings as load_settings,
        resolve_settings as resolve_settings,
    )
    from codegen_lab.common.errors import (
        CodegenLabError as CodegenLabError,
        DuplicateNameError as DuplicateNameError,
        LLMUnavailableError as LLMUnavailableError,
        OperationError as OperationError,
        RateLimitError as RateLimitError,
        SettingsError as SettingsError,
        ToolkitError as ToolkitError,
        UsageError as UsageError,
    )

__version__: str
"""The installed version of codegen-lab-common, read from its metadata when first asked for."""


__getattr__, __dir__ = _declared_exports(__name__, "codegen-lab-common")
