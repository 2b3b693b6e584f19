from __future__ import annotations

import json
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_lab.server import CLI_ENTRY_POINT_GROUP, cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_version_names_every_part() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith(f"codegen-lab {version('codegen-lab-server')} (mcp-core {version('codegen-lab-mcp-core')}")
    assert f"mcp {version('mcp')}" in out


def test_toolkits_in_json(tmp_path: Path) -> None:
    code, out, _ = run("toolkits", "--format", "json", "--root", str(tmp_path))
    assert code == 0
    report = json.loads(out)
    assert report["workspace_root"] == str(tmp_path.resolve())
    server = report["toolkits"][0]
    assert server["name"] == "server"
    assert server["tools"][0]["name"] == "server_info"
    assert server["tools"][0]["description"].startswith("Report this server")
    assert server["resources"] == ["codegen-lab://server/info"]


def test_toolkits_as_a_table(tmp_path: Path) -> None:
    code, out, _ = run("toolkits", "--root", str(tmp_path))
    assert code == 0
    assert "server_info" in out
    assert "codegen-lab-mcp-core" in out


def test_a_bad_setting_stops_with_its_source_and_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.codegen-lab]\nexclude = ["Bad-Name"]\n', encoding="utf-8")
    code, out, err = run("serve", "--root", str(tmp_path))
    assert code == 2
    assert out == ""
    assert "invalid codegen-lab settings" in err
    assert f"exclude.0 = ['Bad-Name'] (from {tmp_path / 'pyproject.toml'} [tool.codegen-lab] exclude)" in err


def test_include_of_a_missing_toolkit_stops_the_start(tmp_path: Path) -> None:
    code, _, err = run("serve", "--root", str(tmp_path), env={"CODEGEN_LAB_INCLUDE": "nope"})
    assert code == 2
    assert "no toolkit named 'nope' is installed" in err


def test_a_non_loopback_bind_needs_allow_remote_and_a_token(tmp_path: Path) -> None:
    code, _, err = run("serve", "--transport", "http", "--host", "0.0.0.0", "--root", str(tmp_path))
    assert code == 2
    assert "host = '0.0.0.0': not a loopback address" in err
    assert "--allow-remote and at least one token" in err
    code, _, err = run(
        "serve",
        "--transport",
        "http",
        "--host",
        "0.0.0.0",
        "--allow-remote",
        "--root",
        str(tmp_path),
        env={"CODEGEN_LAB_HTTP_TOKENS": ""},
    )
    assert code == 2
    assert "at least one token" in err


def test_a_missing_root_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("toolkits", "--root", str(tmp_path / "nowhere"))
    assert code == 2
    assert "nowhere" in err
    assert "is not an existing folder" in err


@pytest.mark.parametrize("client", ["cursor", "claude-desktop", "claude-code"])
def test_config_for_each_client_starts_this_server(tmp_path: Path, client: str) -> None:
    code, out, _ = run("config", "--client", client, "--format", "json", "--root", str(tmp_path))
    assert code == 0
    (entry,) = json.loads(out)
    assert entry["client"] == client
    server = entry["config"]["mcpServers"]["codegen-lab"]
    command = [server["command"], *server["args"]]
    assert Path(command[0]).is_absolute()
    assert command[-3:] == ["serve", "--root", str(tmp_path.resolve())]
    if client == "claude-code":
        assert server["type"] == "stdio"
        assert entry["file"] == str(tmp_path.resolve() / ".mcp.json")
        assert entry["command"][:3] == ["claude", "mcp", "add"]
        assert entry["command"][-len(command) :] == command
    if client == "cursor":
        assert entry["file"] == str(tmp_path.resolve() / ".cursor" / "mcp.json")


def test_config_over_http_points_at_the_url(tmp_path: Path) -> None:
    code, out, _ = run(
        "config",
        "--transport",
        "http",
        "--client",
        "cursor",
        "--client",
        "claude-code",
        "--format",
        "json",
        "--root",
        str(tmp_path),
    )
    assert code == 0
    cursor, claude = json.loads(out)
    assert cursor["config"]["mcpServers"]["codegen-lab"] == {"url": "http://127.0.0.1:8765/mcp"}
    assert claude["config"]["mcpServers"]["codegen-lab"] == {"type": "http", "url": "http://127.0.0.1:8765/mcp"}


def test_config_as_text_is_paste_ready_json(tmp_path: Path) -> None:
    code, out, _ = run("config", "--client", "cursor", "--root", str(tmp_path))
    assert code == 0
    heading, *body = out.strip().splitlines()
    assert heading == f"# Cursor: add to {tmp_path.resolve() / '.cursor' / 'mcp.json'}"
    json_lines = [line for line in body if not line.startswith("#")]
    assert "codegen-lab" in json.loads("\n".join(json_lines))["mcpServers"]


def test_a_library_group_mounts_as_a_subcommand_when_installed(install_cli: object) -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "greet" in out
    code, out, _ = run("greet", "hello", "--name", "Ada")
    assert (code, out) == (0, "hello Ada\n")


def test_a_broken_library_group_names_its_package(install_cli: object) -> None:
    code, _, err = run("broken")
    assert code == 1
    assert "the command 'broken' from broken-cli-plugin failed to load" in err


@pytest.fixture
def install_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "greet_plugin.py").write_text(
        textwrap.dedent(
            """
            import click

            @click.group()
            def greet():
                "Greetings."

            @greet.command()
            @click.option("--name")
            def hello(name):
                click.echo(f"hello {name}")
            """
        ),
        encoding="utf-8",
    )
    for name, target in (("greet-cli-plugin", "greet = greet_plugin:greet"), ("broken-cli-plugin", "broken = nope:x")):
        dist_info = site / f"{name.replace('-', '_')}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
        (dist_info / "entry_points.txt").write_text(f"[{CLI_ENTRY_POINT_GROUP}]\n{target}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("greet_plugin", None)


def test_cache_stats_and_clear(tmp_path: Path) -> None:
    from codegen_lab.llm import Completion, ResponseCache

    cache_dir = tmp_path / "cache"
    stored = ResponseCache(cache_dir / "llm-responses.sqlite3", ttl=60, max_bytes=10_000)
    stored.put("k", Completion(text="hi", backend="anthropic", model="m"))
    stored.close()
    env = {"CODEGEN_LAB_CACHE_DIR": str(cache_dir)}
    code, out, _ = run("cache", "stats", "--format", "json", "--root", str(tmp_path), env=env)
    assert code == 0
    stats = json.loads(out)
    assert (stats["entries"], stats["path"]) == (1, str(cache_dir / "llm-responses.sqlite3"))
    code, out, _ = run("cache", "clear", "--root", str(tmp_path), env=env)
    assert (code, out) == (0, f"removed 1 cached answers from {cache_dir / 'llm-responses.sqlite3'}\n")
    code, out, _ = run("cache", "stats", "--format", "json", "--root", str(tmp_path), env=env)
    assert json.loads(out)["entries"] == 0


def test_an_unreadable_key_file_stops_the_start(tmp_path: Path) -> None:
    code, _, err = run(
        "serve",
        "--root",
        str(tmp_path),
        env={"CODEGEN_LAB_ANTHROPIC_KEY_FILE": str(tmp_path / "missing-key"), "ANTHROPIC_API_KEY": ""},
    )
    assert code == 2
    assert "anthropic-key-file" in err
    assert "missing-key: cannot be read" in err


def test_audit_shows_the_calls(tmp_path: Path) -> None:
    import anyio
    from mcp import Client

    from codegen_lab.common import Settings
    from codegen_lab.mcp_core._audit import flush_all
    from codegen_lab.server import create_server

    state = tmp_path / "state"
    server = create_server(Settings(root=tmp_path, state_dir=state))

    async def call() -> None:
        async with Client(server) as client:  # the audit is of calls that arrive as MCP requests
            await client.call_tool("server_info", {})

    anyio.run(call)
    flush_all()
    code, out, _ = run("audit", "--format", "json", "--root", str(tmp_path), env={"CODEGEN_LAB_STATE_DIR": str(state)})
    assert code == 0
    calls = json.loads(out)["calls"]
    assert [(call["tool"], call["outcome"]) for call in calls] == [("server_info", "ok")]


def test_undo_lists_then_takes_back_the_last_change_and_refuses_edited_files(tmp_path: Path) -> None:
    from codegen_lab.common.files import ChangeSet

    state = tmp_path / "state"
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("first\n", encoding="utf-8")
    env = {"CODEGEN_LAB_STATE_DIR": str(state)}
    with ChangeSet(root, "generate_code src/app.py", state_dir=state) as change:
        change.write(root / "src" / "app.py", "second\n")
        change.write(root / "src" / "new.py", "created\n")
    with ChangeSet(root, "lint --fix", state_dir=state) as change:
        change.write(root / "src" / "app.py", "third\n")

    code, out, _ = run("undo", "--list", "--format", "json", "--root", str(root), env=env)
    assert code == 0
    assert [c["purpose"] for c in json.loads(out)["changes"]] == ["lint --fix", "generate_code src/app.py"]

    code, out, _ = run("undo", "--root", str(root), env=env)
    assert code == 0
    assert "undid" in out
    assert "lint --fix" in out
    assert "restored src/app.py" in out
    assert (root / "src" / "app.py").read_text(encoding="utf-8") == "second\n"

    (root / "src" / "new.py").write_text("my edit\n", encoding="utf-8")
    code, out, err = run("undo", "--root", str(root), env=env)
    assert code == 2
    assert "src/new.py changed since generate_code src/app.py" in err
    assert "--force" in err
    assert (root / "src" / "new.py").read_text(encoding="utf-8") == "my edit\n"

    code, out, _ = run("undo", "--force", "--format", "json", "--root", str(root), env=env)
    assert code == 0
    report = json.loads(out)
    assert (report["restored"], report["removed"], report["overwritten"]) == (
        ["src/app.py"],
        ["src/new.py"],
        ["src/new.py"],
    )
    assert (root / "src" / "app.py").read_text(encoding="utf-8") == "first\n"
    assert not (root / "src" / "new.py").exists()

    code, out, err = run("undo", "--root", str(root), env=env)
    assert code == 2
    assert "nothing to undo under" in err
    code, out, _ = run("undo", "--list", "--root", str(root), env=env)
    assert out.count("[undone]") == 2


def test_a_state_dir_in_the_user_config_is_the_one_every_writer_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`state-dir` from the user config file is where every writer journals, so undo finds their changes."""
    import os

    from codegen_lab.common.files import default_state_dir

    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "config.toml").write_text('state-dir = "journal"\n', encoding="utf-8")
    monkeypatch.setenv("CODEGEN_LAB_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("CODEGEN_LAB_STATE_DIR")
    monkeypatch.chdir(root)

    code, out, err = run("undo", "--list", "--format", "json", "--root", str(root))

    assert code == 0, err
    assert json.loads(out)["changes"] == []
    assert "CODEGEN_LAB_STATE_DIR" not in os.environ  # found in the user's config, not passed through the environment
    assert default_state_dir().resolve() == (tmp_path / "journal").resolve()


def test_an_unknown_model_is_warned_about_as_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from codegen_lab.common import Settings
    from codegen_lab.server import create_server

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    create_server(Settings(root=tmp_path, state_dir=tmp_path / "state", anthropic_model="claude-start-check-typo"))
    assert "'claude-start-check-typo' is not one the installed anthropic SDK knows" in caplog.text
    caplog.clear()
    create_server(Settings(root=tmp_path, state_dir=tmp_path / "state", anthropic_model="claude-sonnet-5-5"))
    assert "anthropic SDK knows" not in caplog.text
