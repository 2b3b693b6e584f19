"""The trust boundary: a repository's pyproject.toml sets project preferences only, never security settings."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from codegen_lab.common import (
    PROJECT_SETTINGS,
    Settings,
    SettingsError,
    load_settings,
    resolve_settings,
    user_config_path as config_path,
)
from codegen_lab.common.results import to_json

# A valid value for every setting a repository may not set: each one worked as an attack or could.
SECURITY_VALUES: dict[str, str] = {
    "log-level": '"DEBUG"',
    "host": '"0.0.0.0"',
    "port": "9000",
    "http-tokens-file": '"ci/tokens.txt"',
    "allowed-hosts": '["evil.example"]',
    "allowed-origins": '["https://evil.example"]',
    "state-dir": '".codegen-state"',
    "audit": "false",
    "max-message-bytes": "999999999",
    "llm-order": '["anthropic"]',
    "anthropic-model": '"claude-opus-expensive"',
    "anthropic-base-url": '"http://127.0.0.1:9"',
    "anthropic-key-file": '"key.txt"',
    "llm-timeout": "999",
    "llm-max-retries": "10",
    "llm-requests-per-minute": "100000",
    "llm-tokens-per-minute": "100000000",
    "cache-dir": '".cache"',
    "llm-cache-ttl": "1",
    "llm-cache-max-mb": "100000",
    "rate-limits": '{ llm = "off", tests = "off" }',
    "allow-unsandboxed": "true",
    "codegen-allowed-imports": '["subprocess", "ctypes"]',
    "http-header-timeout": "100000",
    "http-body-timeout": "100000",
    "http-keep-alive": "100000",
    "http-max-connections": "1000000",
    "http-max-header-bytes": "100000000",
    "http-max-sessions": "1000000",
    "http-max-sessions-per-client": "1000000",
    "http-session-idle-timeout": "100000000",
    "client-rate-limits": '{ llm = "off", tests = "off" }',
    "llm-repair-rounds": "10",
    "llm-max-tokens": "1000000",
    "llm-prices": "{ claude-opus-expensive = [0.0, 0.0] }",
    "redis-url": '"redis://attacker.example:6379/0"',
}


def no_user_config(**more: str) -> dict[str, str]:
    return {"CODEGEN_LAB_CONFIG": "", **more}


def test_the_allowlist_is_the_project_preferences_only() -> None:
    """A setting added to Settings is user-only unless someone decides otherwise here and in PROJECT_SETTINGS."""
    assert {"include", "exclude"} == PROJECT_SETTINGS
    user_only = set(Settings.model_fields) - PROJECT_SETTINGS - {"root"}
    assert user_only == {key.replace("-", "_") for key in SECURITY_VALUES}


@pytest.mark.parametrize("key", sorted(SECURITY_VALUES))
def test_a_security_key_in_the_repository_is_ignored_with_a_warning_naming_it_and_the_file(
    tmp_path: Path, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[tool.codegen-lab]\n{key} = {SECURITY_VALUES[key]}\nexclude = ["ws"]\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="codegen_lab.common"):
        resolved = resolve_settings(tmp_path, environ=no_user_config())
    field = key.replace("-", "_")
    assert getattr(resolved.settings, field) == Settings.model_fields[field].get_default(call_default_factory=True)
    assert resolved.sources[field] == "default"
    assert resolved.settings.exclude == ("ws",)  # the project preference still applies
    [message] = [record.getMessage() for record in caplog.records]
    assert f"ignoring {key} in {pyproject} [tool.codegen-lab]" in message
    assert resolved.ignored == (message,)


def test_a_backdoor_token_file_and_hosts_in_the_repository_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "tokens.txt").write_text("write attacker-token-0123456789\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.codegen-lab]\nhttp-tokens-file = "ci/tokens.txt"\nallowed-origins = ["https://evil.example"]\n'
        'allowed-hosts = ["evil.example"]\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path, environ=no_user_config())
    assert settings.http_tokens_file is None
    assert settings.allowed_origins == ()
    assert settings.allowed_hosts == ()


def test_a_state_dir_in_the_repository_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.codegen-lab]\nstate-dir = ".codegen-state"\n', encoding="utf-8")
    settings = load_settings(tmp_path, environ=no_user_config(XDG_STATE_HOME=str(tmp_path / "xdg")))
    assert settings.state_dir is None
    assert not settings.state_dir_path.resolve().is_relative_to(tmp_path / ".codegen-state")


def test_the_user_config_file_sets_security_settings_and_names_itself(tmp_path: Path) -> None:
    folder = tmp_path / "xdg" / "codegen-lab"
    folder.mkdir(parents=True)
    config = folder / "config.toml"
    config.write_text(
        'state-dir = "state"\nanthropic-base-url = "http://127.0.0.1:1234"\nallow-unsandboxed = true\n'
        'rate-limits = { llm = "5/minute" }\n',
        encoding="utf-8",
    )
    root = tmp_path / "project"
    root.mkdir()
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "CODEGEN_LAB_AUDIT": "false"}
    assert config_path(environ) == config
    resolved = resolve_settings(root, environ=environ, overrides={"port": 9999}, overrides_source="command line")
    settings = resolved.settings
    assert settings.state_dir == folder / "state"  # relative to the config file's folder
    assert settings.anthropic_base_url == "http://127.0.0.1:1234"
    assert settings.allow_unsandboxed is True
    assert settings.rate_limits["llm"] == "5/minute"
    assert resolved.user_config == config
    assert resolved.sources["state_dir"] == f"{config} state-dir"
    assert resolved.sources["audit"] == "environment variable CODEGEN_LAB_AUDIT"
    assert resolved.sources["port"] == "command line"
    assert resolved.sources["root"] == "command line"
    assert resolved.sources["host"] == "default"


def test_the_user_config_file_defaults_to_the_home_config_folder(tmp_path: Path) -> None:
    assert config_path({"HOME": str(tmp_path)}) == tmp_path / ".config" / "codegen-lab" / "config.toml"
    assert config_path({"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative"}) == config_path({"HOME": str(tmp_path)})
    assert config_path({"CODEGEN_LAB_CONFIG": ""}) is None


def test_the_user_config_file_cannot_set_the_root_or_unknown_keys(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('root = "/"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="root: the root is given per run"):
        load_settings(tmp_path, environ={"CODEGEN_LAB_CONFIG": str(config)})
    config.write_text("portt = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"portt \(from {config} portt\) is not a setting"):
        load_settings(tmp_path, environ={"CODEGEN_LAB_CONFIG": str(config)})


def test_allow_unsandboxed_is_off_unless_the_user_says_so(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ=no_user_config()).allow_unsandboxed is False
    on = load_settings(tmp_path, environ=no_user_config(CODEGEN_LAB_ALLOW_UNSANDBOXED="1"))
    assert on.allow_unsandboxed is True


def test_every_writer_finds_the_state_folder_the_user_config_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library's command writes its journal where `codegen-lab undo` reads it: the user's state-dir."""
    from codegen_lab.common._folders import default_cache_dir, default_state_dir

    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text('state-dir = "state"\ncache-dir = "/elsewhere/cache"\n', encoding="utf-8")
    monkeypatch.delenv("CODEGEN_LAB_STATE_DIR", raising=False)
    monkeypatch.delenv("CODEGEN_LAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("CODEGEN_LAB_CONFIG", str(config))
    assert default_state_dir() == tmp_path / "config" / "state"
    assert default_cache_dir() == Path("/elsewhere/cache")
    assert resolve_settings(tmp_path, environ={"CODEGEN_LAB_CONFIG": str(config)}).settings.state_dir_path == (
        tmp_path / "config" / "state"
    )
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(tmp_path / "from-environment"))
    assert default_state_dir() == tmp_path / "from-environment"  # the environment still wins


def test_resolved_settings_serialize_only_as_their_redacted_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('redis-url = "redis://user:hunter2-password@cache.example:6379/0"\n', encoding="utf-8")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-" + "k" * 40)
    resolved = resolve_settings(tmp_path, environ={"CODEGEN_LAB_CONFIG": str(config)})

    data = to_json(resolved)  # what any `--format json` or log of the resolved settings would write

    assert data == resolved.to_result().model_dump(mode="json")
    assert data["settings"]["redis-url"] == {
        "value": "redis://user:[redacted]@cache.example:6379/0",
        "source": f"{config} redis-url",
    }
    assert data["settings"]["ANTHROPIC_API_KEY"] == {
        "value": "[redacted]",
        "source": "environment variable ANTHROPIC_API_KEY",
    }
    assert data["user_config"] == str(config)
    assert "hunter2" not in json.dumps(data)
