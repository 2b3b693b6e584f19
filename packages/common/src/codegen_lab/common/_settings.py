"""Settings, and the trust boundary between the user who runs the server and the repository it runs in.

The repository is untrusted input: its `[tool.codegen-lab]` table may set only the project preferences listed in
`PROJECT_SETTINGS` (which toolkits load). Everything else (where the API key is sent, tokens, allowed hosts,
state and cache folders, limits, binding, the sandbox) comes only from the user: the user config file
(`$XDG_CONFIG_HOME/codegen-lab/config.toml`, top-level keys), `CODEGEN_LAB_*` environment variables and the
command line. A security key in a repository is ignored with a warning that names it and the file.

Sources, each winning over the ones before: defaults, the repository's pyproject.toml (project keys only), the
user config file, the environment, the caller's overrides (the command line). Each value remembers where it came
from, so that a bad one is reported with its source and `codegen-lab config show` can list them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, ValidationInfo, field_validator

from codegen_lab.common._folders import config_relative, user_config_path
from codegen_lab.common._rates import DEFAULT_CLIENT_RATE_LIMITS, DEFAULT_RATE_LIMITS, Rate
from codegen_lab.common.errors import SettingsError
from codegen_lab.common.results import Result

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

__all__ = [
    "ENV_PREFIX",
    "PROJECT_SETTINGS",
    "ResolvedSettings",
    "SettingShown",
    "Settings",
    "SettingsReport",
    "load_settings",
    "resolve_settings",
]

logger = logging.getLogger(__name__)

ENV_PREFIX = "CODEGEN_LAB_"
"""Environment variables that start with this set a field: `CODEGEN_LAB_LOG_LEVEL=DEBUG`."""

_TOOL_TABLE = "codegen-lab"

PROJECT_SETTINGS = frozenset({"include", "exclude"})
"""The only settings a repository's `[tool.codegen-lab]` may set: the one allowlist of the trust boundary.

Every other setting (and every one added later, unless it is added here) is user-only, because a repository is
untrusted input: a base URL or model decides where the user's API key goes and what it spends, tokens and allowed
hosts and origins decide who may call, state and cache folders decide what `undo` deletes, limits and the sandbox
decide what code may do, and even `log-level` decides how much of the user's data reaches their log files.
"""


DEFAULT_SOURCE = "default"
_PATH_FIELDS = frozenset({"http_tokens_file", "state_dir", "anthropic_key_file", "cache_dir"})

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5"
"""A current model: the installed SDK lists it and does not mark it deprecated (a test checks both)."""
ToolkitName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Settings(BaseModel):
    """Settings of a Codegen Lab server.

    Set them in the user config file (`~/.config/codegen-lab/config.toml`, keys in kebab-case, as `log-level`),
    or with `CODEGEN_LAB_<FIELD>` environment variables (lists as `a,b` or a JSON array), which win over the file.
    A repository's `[tool.codegen-lab]` may set only `PROJECT_SETTINGS` (`include`, `exclude`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    root: Path = Field(default_factory=Path.cwd)
    """The workspace root: the folder the tools work in. Relative paths in tool arguments resolve against it."""

    include: tuple[ToolkitName, ...] | None = None
    """Only these toolkits load (the built-in `server` toolkit always does). None loads every installed one."""

    exclude: tuple[ToolkitName, ...] = ()
    """These toolkits do not load, even when installed or included."""

    log_level: LogLevel = "INFO"
    """Level of the log written to stderr."""

    host: str = "127.0.0.1"
    """Address the Streamable HTTP transport binds."""

    port: int = Field(default=8765, ge=1, le=65535)
    """Port the Streamable HTTP transport binds."""

    http_tokens_file: Path | None = None
    """A file of `ROLE TOKEN` lines (role `read` or `write`) for Streamable HTTP; `CODEGEN_LAB_HTTP_TOKENS` too."""

    allowed_hosts: tuple[str, ...] = ()
    """More Host names Streamable HTTP answers to (loopback names and the bound host always are)."""

    allowed_origins: tuple[str, ...] = ()
    """More browser Origins Streamable HTTP accepts, such as `https://tools.example.com`."""

    http_header_timeout: float = Field(default=10.0, gt=0)
    """Seconds a client has to send a request's headers, from when its connection opens or its last answer ends;
    a connection that is slower is closed."""

    http_body_timeout: float = Field(default=30.0, gt=0)
    """Seconds a client has to send a request's body once its headers are in; a connection that is slower is
    closed."""

    http_keep_alive: float = Field(default=5.0, gt=0)
    """Seconds an idle connection is kept open for the client's next request."""

    http_max_connections: int = Field(default=1000, ge=1)
    """Open connections at most. A new connection past it takes the place of the one that has waited longest for
    the client (for its headers first, then for a body, then idle, a client answered before last), or is closed
    when all are serving requests."""

    http_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    """The largest request line and headers; a request with more is answered 400 and its connection closed."""

    http_max_sessions: int = Field(default=1000, ge=1)
    """Open MCP sessions at most, over every client; past it a new session is refused with 503."""

    http_max_sessions_per_client: int = Field(default=32, ge=1)
    """Open MCP sessions at most per client (per bearer token, else per remote address); past it a new session
    is refused with 429."""

    http_session_idle_timeout: float = Field(default=600.0, gt=0)
    """Seconds a session with no request in flight (and no open GET stream) lives before it is closed."""

    state_dir: Path | None = None
    """Where the audit log and the backups of written files live (default: `$XDG_STATE_HOME/codegen-lab`)."""

    audit: bool = True
    """Record every tool call in the audit log (`codegen-lab audit` shows it)."""

    max_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """A message from the client over this many bytes is refused with an error, unread."""

    llm_order: tuple[Literal["anthropic", "sampling"], ...] = ("anthropic", "sampling")
    """Which LLM backends to try, in order: the Anthropic API (when a key is set), then the client's own model."""

    anthropic_model: str = DEFAULT_ANTHROPIC_MODEL
    """The Anthropic model to ask."""

    anthropic_base_url: str | None = None
    """The Anthropic API's address (default: `ANTHROPIC_BASE_URL`, else the SDK's)."""

    anthropic_key_file: Path | None = None
    """A file holding the Anthropic API key, when `ANTHROPIC_API_KEY` is not set."""

    llm_timeout: float = Field(default=60.0, gt=0)
    """Seconds one LLM call may take, retries included."""

    llm_max_retries: int = Field(default=3, ge=0, le=10)
    """Retries of a call that failed for a passing reason (429, 500, 529, a lost connection)."""

    llm_requests_per_minute: int | None = Field(default=None, gt=0)
    """At most this many LLM requests a minute, shared by every tool."""

    llm_tokens_per_minute: int | None = Field(default=None, gt=0)
    """At most this many LLM tokens (asked for plus answered) a minute, shared by every tool."""

    cache_dir: Path | None = None
    """Where the LLM response cache lives (default: the user's cache folder; `CODEGEN_LAB_CACHE_DIR`)."""

    llm_cache_ttl: float = Field(default=7 * 24 * 3600.0, ge=0)
    """Seconds a cached LLM answer stays valid."""

    llm_cache_max_mb: float = Field(default=100.0, gt=0)
    """Size of the LLM response cache; the least recently used answers go first."""

    # --- user-level LLM settings (the code loop's repair rounds, answer length, prices) ---
    llm_repair_rounds: int = Field(default=2, ge=0, le=10)
    """When generated code fails validation, send the failures back and ask again, up to this many times."""

    llm_max_tokens: int = Field(default=4096, ge=16)
    """Tokens an answer of the code loop may take; an answer cut at this length is an error, never used."""

    llm_prices: dict[str, tuple[float, float]] = Field(default_factory=dict[str, tuple[float, float]])
    """US dollars per million tokens (input, output) by model name or prefix, over the built-in table of Claude
    models: `llm-prices = { "claude-sonnet" = [3, 15] }` in the user config file
    (`~/.config/codegen-lab/config.toml`); a repository cannot set it."""
    # --- end of user-level LLM settings ---

    rate_limits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    """Calls per tool class (`llm`, `tests`, `subprocess`) as `N/second|minute|hour|day`, or `off`; token buckets
    that allow bursts up to N. Classes not given keep their default (`CODEGEN_LAB_RATE_LIMITS` is a JSON object)."""

    client_rate_limits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CLIENT_RATE_LIMITS))
    """Calls per tool class and per client (a bearer token, else an MCP session; stdio is one client), in the form
    of `rate-limits`, counted besides the server-wide `rate-limits`. Classes not given keep their default
    (`CODEGEN_LAB_CLIENT_RATE_LIMITS` is a JSON object)."""

    redis_url: str | None = Field(default=None, pattern=r"^(redis|rediss|unix)://")
    """A Redis server the replicas share (`redis://HOST:6379/0`): rate limits, the LLM response cache, usage
    counters and single-flight of LLM requests live there. Unset (the default): each process keeps its own.
    User-only, like every setting but `include` and `exclude`."""

    codegen_allowed_imports: tuple[str, ...] = ()
    """More modules that generated code may import, beyond the safe standard library and the project's own
    packages and declared dependencies (modules that run or load code, such as `subprocess`, only from here)."""

    allow_unsandboxed: bool = False
    """Run tests and generated code without the sandbox when no sandbox is available (user-only; default off)."""

    @field_validator("root")
    @classmethod
    def _root_is_a_folder(cls, value: Path) -> Path:
        resolved = value.expanduser().resolve()
        if not resolved.is_dir():
            raise ValueError(f"{resolved} is not an existing folder")
        return resolved

    @field_validator("rate_limits", "client_rate_limits")
    @classmethod
    def _rates_are_readable(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        defaults = DEFAULT_RATE_LIMITS if info.field_name == "rate_limits" else DEFAULT_CLIENT_RATE_LIMITS
        merged = {**defaults, **value}
        for name, text in merged.items():
            try:
                Rate.parse(text)
            except ValueError as exc:
                raise ValueError(f"class {name!r}: {exc}") from None
        return merged

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def state_dir_path(self) -> Path:
        """`state_dir`, else `CODEGEN_LAB_STATE_DIR`, else the platform's state folder for codegen-lab."""
        if self.state_dir is not None:
            return self.state_dir
        from codegen_lab.common._folders import default_state_dir  # noqa: PLC0415

        return default_state_dir()

    def wants(self, toolkit: str) -> bool:
        """Whether the toolkit named `toolkit` should load under `include` and `exclude`."""
        if toolkit in self.exclude:
            return False
        return self.include is None or toolkit in self.include


@dataclass(frozen=True, slots=True)
class _Sourced:
    value: object
    source: str


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """The settings, where each value came from, and the repository keys that were ignored.

    Attributes:
        settings: The validated settings.
        sources: Per field (snake_case), `default`, or the file and key, environment variable or
            caller that set it.
        ignored: One message per security key a repository's pyproject.toml tried to set (it was not used).
        user_config: The user config file that was read, or None when there is none.
    """

    settings: Settings
    sources: dict[str, str]
    ignored: tuple[str, ...] = ()
    user_config: Path | None = None

    def to_result(self, environ: Mapping[str, str] | None = None) -> SettingsReport:
        """Every setting (kebab-case) with its value and source; secrets, and URLs' passwords, as `[redacted]`.

        What `codegen-lab config show` prints, and what `to_json` writes of resolved settings: their values never
        leave redacted. The secrets the settings do not hold but the server reads (`ANTHROPIC_API_KEY`,
        `CODEGEN_LAB_HTTP_TOKENS`) are listed too, as `[redacted]` when set in `environ` (default: `os.environ`).
        """
        from codegen_lab.common.secrets import REDACTED, known_secrets, scrub  # noqa: PLC0415

        env = os.environ if environ is None else environ
        secrets = known_secrets(env)
        values = self.settings.model_dump(mode="json")
        shown = {
            name.replace("_", "-"): SettingShown(value=_without_passwords(scrub(values[name], secrets)), source=source)
            for name, source in self.sources.items()
        }
        for variable in ("ANTHROPIC_API_KEY", f"{ENV_PREFIX}HTTP_TOKENS"):
            present = bool(env.get(variable, "").strip())
            shown[variable] = SettingShown(
                value=REDACTED if present else None,
                source=f"environment variable {variable}" if present else DEFAULT_SOURCE,
            )
        config = str(self.user_config) if self.user_config is not None else None
        return SettingsReport(user_config=config, settings=shown, ignored=list(self.ignored))


class SettingShown(Result):
    """One setting as `codegen-lab config show` prints it."""

    value: JsonValue
    """Its value as JSON, `[redacted]` for a secret (and for a URL's password)."""
    source: str
    """Where it came from: `default`, a file and key, an environment variable or the command line."""


class SettingsReport(Result):
    """The effective settings, where each came from, and the repository keys that were ignored (`config show`)."""

    user_config: str | None
    """The user config file that was read, or None when there is none."""
    settings: dict[str, SettingShown]
    """Each setting by its kebab-case name, and the secrets the server reads from the environment by theirs."""
    ignored: list[str]
    """One message per security key a repository's pyproject.toml tried to set (it was not used)."""


def _without_passwords(value: Any) -> Any:
    """A URL's `user:password@` shown as `user:[redacted]@`."""
    if isinstance(value, str) and "://" in value and "@" in value:
        import re  # noqa: PLC0415

        return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1[redacted]@", value)
    return value


def load_settings(
    root: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Read the settings of the workspace at `root` (see `resolve_settings`).

    Returns:
        The validated settings.

    Raises:
        SettingsError: When a file cannot be read or a value is invalid; the message names each bad field, its
            value and its source.
    """
    return resolve_settings(root, environ=environ, overrides=overrides).settings


def resolve_settings(
    root: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
    overrides_source: str = "the caller's arguments",
) -> ResolvedSettings:
    """Read the settings of the workspace at `root`, and where each came from.

    Sources, each winning over the ones before: defaults; `[tool.codegen-lab]` of `root/pyproject.toml`, for
    `PROJECT_SETTINGS` only (any other known key there is ignored, and a warning names it and the file); the user
    config file (`user_config_path`); `CODEGEN_LAB_*` environment variables; `overrides`.

    Args:
        root: The workspace root (default: `overrides["root"]`, else `CODEGEN_LAB_ROOT`, else the current
            directory). Its `pyproject.toml` is read when it exists.
        environ: The environment to read `CODEGEN_LAB_*` variables and the user config file's place from
            (default: `os.environ`).
        overrides: Values that win over every other source, such as command-line options; None values are skipped.
        overrides_source: How the sources name `overrides` (`command line` for the CLI).

    Raises:
        SettingsError: When a file cannot be read or a value is invalid; the message names each bad field, its
            value and its source.
    """
    env = os.environ if environ is None else environ
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    if root is not None:
        given["root"] = root
    raw: dict[str, _Sourced] = {}

    if f"{ENV_PREFIX}ROOT" in env:
        raw["root"] = _Sourced(env[f"{ENV_PREFIX}ROOT"], f"environment variable {ENV_PREFIX}ROOT")
    if "root" in given:
        raw["root"] = _Sourced(given["root"], overrides_source)
    root_path = Path(str(raw["root"].value)) if "root" in raw else Path.cwd()

    ignored: list[str] = []
    pyproject = root_path / "pyproject.toml"
    if pyproject.is_file():
        project, ignored = _from_pyproject(pyproject)
        raw.update(project)
    config = user_config_path(env)
    if config is not None and config.is_file():
        raw.update(_from_user_config(config))
    else:
        config = None
    raw.update(_from_environment(env))
    raw.update({key: _Sourced(value, overrides_source) for key, value in given.items()})

    for message in ignored:
        logger.warning("%s", message)
    try:
        settings = Settings.model_validate({key: sourced.value for key, sourced in raw.items()})
    except ValidationError as exc:
        raise SettingsError([_describe(error, raw) for error in exc.errors()]) from None
    sources = {field: raw[field].source if field in raw else DEFAULT_SOURCE for field in Settings.model_fields}
    return ResolvedSettings(settings, sources, tuple(ignored), config)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # noqa: PLC0415 (only when there is a file to read)

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{path}: not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"{path}: cannot be read: {exc}"]) from None


def _from_pyproject(path: Path) -> tuple[dict[str, _Sourced], list[str]]:
    """The project settings of a repository's pyproject.toml, and a warning per security key it holds."""
    document = _read_toml(path)
    tool: object = document.get("tool", {})
    table: object = cast("dict[str, object]", tool).get(_TOOL_TABLE) if isinstance(tool, dict) else None
    if table is None:
        return {}, []
    if not isinstance(table, dict):
        raise SettingsError([f"{path}: [tool.{_TOOL_TABLE}] must be a table, not {type(table).__name__}"])
    entries: dict[str, Any] = table  # pyright: ignore[reportUnknownVariableType]
    if "root" in entries:
        raise SettingsError([f"{path} [tool.{_TOOL_TABLE}] root: the root is the folder of this file; remove the key"])
    found: dict[str, _Sourced] = {}
    ignored: list[str] = []
    for key, value in entries.items():
        field = key.replace("-", "_")
        if field in Settings.model_fields and field not in PROJECT_SETTINGS:
            ignored.append(
                f"ignoring {key} in {path} [tool.{_TOOL_TABLE}]: a repository may not set it (only "
                f"{', '.join(sorted(PROJECT_SETTINGS))}); set it in the user config file or {ENV_PREFIX}"
                f"{field.upper()}"
            )
            continue
        found[field] = _Sourced(value, f"{path} [tool.{_TOOL_TABLE}] {key}")  # unknown keys fail validation
    return found, ignored


def _from_user_config(path: Path) -> dict[str, _Sourced]:
    """The settings of the user config file: top-level keys; relative paths are taken from the file's folder."""
    document = _read_toml(path)
    if "root" in document:
        raise SettingsError([f"{path} root: the root is given per run (--root or {ENV_PREFIX}ROOT); remove the key"])
    found: dict[str, _Sourced] = {}
    for key, value in document.items():
        field = key.replace("-", "_")
        is_path = field in _PATH_FIELDS and isinstance(value, str)
        found[field] = _Sourced(config_relative(path, value) if is_path else value, f"{path} {key}")
    return found


def _from_environment(env: Mapping[str, str]) -> dict[str, _Sourced]:
    found: dict[str, _Sourced] = {}
    for variable, text in env.items():
        if not variable.startswith(ENV_PREFIX) or variable == f"{ENV_PREFIX}ROOT":
            continue
        field = variable.removeprefix(ENV_PREFIX).lower()
        if field not in Settings.model_fields:
            # Other components read their own CODEGEN_LAB_* variables; an unknown one is not an error here.
            logger.debug("ignoring %s: not a server setting", variable)
            continue
        lists = {"include", "exclude", "llm_order", "allowed_hosts", "allowed_origins", "codegen_allowed_imports"}
        value: object = text
        if field in lists:
            value = _split_list(text)
        elif field in {"rate_limits", "client_rate_limits"}:
            value = _json(text)
        found[field] = _Sourced(value, f"environment variable {variable}")
    return found


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # validation then reports it as not a list or an object, naming the variable


def _split_list(text: str) -> object:
    stripped = text.strip()
    if stripped.startswith("["):
        return _json(text)
    return [item.strip() for item in stripped.split(",") if item.strip()]


def _describe(error: ErrorDetails, raw: Mapping[str, _Sourced]) -> str:
    field = str(error["loc"][0]) if error["loc"] else "(settings)"
    sourced = raw.get(field)
    source = sourced.source if sourced is not None else "the defaults"
    if error["type"] == "extra_forbidden":
        known = ", ".join(name.replace("_", "-") for name in Settings.model_fields)
        return f"{field.replace('_', '-')} (from {source}) is not a setting; known settings: {known}"
    where = ".".join(str(part) for part in error["loc"])
    value = sourced.value if sourced is not None else error.get("input")
    return f"{where} = {value!r} (from {source}): {error['msg']}"
