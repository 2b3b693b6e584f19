from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from codegen_lab.common import Settings, SettingsError, load_settings


def write_pyproject(root: Path, body: str) -> Path:
    path = root / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_a_pyproject(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.root == tmp_path.resolve()
    assert settings.include is None
    assert settings.exclude == ()
    assert settings.log_level == "INFO"
    assert (settings.host, settings.port) == ("127.0.0.1", 8765)


def test_pyproject_then_user_config_then_environment_then_caller(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.codegen-lab]\nexclude = ["rules"]\ninclude = ["ws"]\n')
    config = tmp_path / "config.toml"
    config.write_text('log-level = "debug"\nport = 9000\nhost = "::1"\ninclude = ["ws", "tests"]\n', encoding="utf-8")
    environ = {"CODEGEN_LAB_CONFIG": str(config), "CODEGEN_LAB_PORT": "9100", "CODEGEN_LAB_LOG_LEVEL": "warning"}
    settings = load_settings(tmp_path, environ=environ)
    assert settings.log_level == "WARNING"
    assert settings.port == 9100
    assert settings.exclude == ("rules",)
    assert settings.include == ("ws", "tests")
    assert settings.host == "::1"
    settings = load_settings(tmp_path, environ=environ, overrides={"port": 9200, "host": None})
    assert settings.port == 9200
    assert settings.host == "::1"


def test_root_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.codegen-lab]\nexclude = ["ws"]\n')
    settings = load_settings(environ={"CODEGEN_LAB_ROOT": str(tmp_path), "CODEGEN_LAB_CONFIG": ""})
    assert settings.root == tmp_path.resolve()
    assert settings.exclude == ("ws",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules,ws", ("rules", "ws")),
        (" rules , ws ,", ("rules", "ws")),
        ('["rules", "ws"]', ("rules", "ws")),
        ("", ()),
    ],
)
def test_lists_from_the_environment(tmp_path: Path, text: str, expected: tuple[str, ...]) -> None:
    assert load_settings(tmp_path, environ={"CODEGEN_LAB_INCLUDE": text}).include == expected


@given(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True), max_size=6))
def test_comma_lists_round_trip(names: list[str]) -> None:
    settings = Settings.model_validate({"root": ".", "exclude": names})
    assert list(settings.exclude) == names
    root = Path(__file__).parent  # a folder without a pyproject.toml
    assert load_settings(root, environ={"CODEGEN_LAB_EXCLUDE": ",".join(names)}).exclude == tuple(names)


def test_each_bad_value_is_named_with_its_source(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, '[tool.codegen-lab]\ninclude = "rules"\n')
    config = tmp_path / "config.toml"
    config.write_text('port = "http"\nlog-level = "LOUD"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, environ={"CODEGEN_LAB_EXCLUDE": "Bad-Name", "CODEGEN_LAB_CONFIG": str(config)})
    problems = caught.value.problems
    assert len(problems) == 4
    message = str(caught.value)
    assert f"include = 'rules' (from {pyproject} [tool.codegen-lab] include)" in message
    assert f"port = 'http' (from {config} port)" in message
    assert f"log_level = 'LOUD' (from {config} log-level)" in message
    assert "exclude.0 = ['Bad-Name'] (from environment variable CODEGEN_LAB_EXCLUDE)" in message


def test_an_out_of_range_port_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"port = '70000' \(from environment variable CODEGEN_LAB_PORT\)"):
        load_settings(tmp_path, environ={"CODEGEN_LAB_PORT": "70000"})


def test_an_unknown_key_in_pyproject_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.codegen-lab]\nlog-levle = "DEBUG"\n')
    with pytest.raises(SettingsError, match=r"log-levle \(from .*pyproject.toml.*\) is not a setting; known settings"):
        load_settings(tmp_path, environ={})


def test_unknown_environment_variables_are_left_to_other_components(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ={"CODEGEN_LAB_CACHE_DIR": str(tmp_path)}).port == 8765


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, "[tool.codegen-lab\nport = 1\n")
    with pytest.raises(SettingsError, match=rf"{pyproject}: not valid TOML: .*line 1"):
        load_settings(tmp_path, environ={})


def test_the_tool_table_must_be_a_table(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool]\ncodegen-lab = "yes"\n')
    with pytest.raises(SettingsError, match=r"\[tool.codegen-lab\] must be a table"):
        load_settings(tmp_path, environ={})


def test_root_cannot_be_set_in_its_own_pyproject(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.codegen-lab]\nroot = "/"\n')
    with pytest.raises(SettingsError, match="root: the root is the folder of this file"):
        load_settings(tmp_path, environ={})


def test_a_root_that_is_not_a_folder(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(SettingsError, match=r"root = .*missing.* \(from the caller's arguments\): .*not an existing"):
        load_settings(missing, environ={})


def test_include_and_exclude_decide_what_loads() -> None:
    settings = Settings(include=("rules", "ws"), exclude=("ws",))
    assert settings.wants("rules")
    assert not settings.wants("ws")
    assert not settings.wants("tests")
    assert Settings().wants("anything")
