"""The dashboard's views and access rules, through Starlette's TestClient against a small real project."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from mcp.server.mcpserver import MCPServer
from starlette.testclient import TestClient

from codegen_lab.common import Settings, load_settings
from codegen_lab.common.errors import OperationError, UsageError
from codegen_lab.common.files import ChangeSet
from codegen_lab.mcp_core import RateLimits
from codegen_lab.mcp_core._audit import AuditLog
from codegen_lab.server import cli, create_server
from codegen_lab.server._dashboard import Dashboard, dashboard_app, serve_with_dashboard, with_dashboard
from codegen_lab.server._dashboard._layout import layout
from codegen_lab.server._status import print_status, remote_status
from codegen_lab.testgen import save_report
from codegen_lab.testgen._models import CoverageReport, FileCoverage, Mutant, MutationReport

BASE = "http://127.0.0.1:8765"
LOCAL = ("127.0.0.1", 40000)
READ = "r" * 24
WRITE = "w" * 24
SAME_ORIGIN = {"origin": BASE}


def settings_of(root: Path, state: Path) -> Settings:
    return load_settings(root, environ={}, overrides={"state_dir": state, "cache_dir": state / "cache"})


@pytest.fixture(scope="module")
def served(dashboard_project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, MCPServer]:
    settings = settings_of(dashboard_project, tmp_path_factory.mktemp("state"))
    log = AuditLog(settings.state_dir_path / "audit.sqlite3")
    for duration in (0.01, 0.02, 0.03):
        log.record(tool="rules_list", client=None, arguments={}, outcome="ok", duration=duration)
    log.record(tool="ws_graph", client=None, arguments={}, outcome="error: boom", duration=0.5)
    log.close()
    limits = RateLimits(settings.rate_limits, per_client=settings.client_rate_limits)
    return settings, create_server(settings, rate_limits=limits)


def client_of(settings: Settings, server: MCPServer, tokens: dict[str, Any] | None = None) -> TestClient:
    app = dashboard_app(Dashboard(settings, server), settings, tokens or {})
    return TestClient(app, base_url=BASE, client=LOCAL, follow_redirects=False)


@pytest.fixture(scope="module")
def local(served: tuple[Settings, MCPServer]) -> Iterator[TestClient]:
    with client_of(*served) as client:
        yield client


def test_the_server_view_lists_tools_with_schemas_and_calls_per_tool_from_the_audit_log(local: TestClient) -> None:
    page = local.get("/dashboard/server")
    assert page.status_code == 200
    assert 'id="tool-rules_for_path"' in page.text
    assert "&#34;path&#34;" in page.text  # the tool's input schema, escaped
    live = local.get("/dashboard/server/live").text
    row = re.search(r'<tr data-tool="rules_list">(.*?)</tr>', live)
    assert row is not None
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1)) == ["rules_list", "3", "0", "20.0", "30.0"]
    report = local.get("/dashboard/api/server").json()
    assert {item["tool"]: item["errors"] for item in report["calls"]} == {"rules_list": 0, "ws_graph": 1}
    assert report["rate_limits"]["tests"]["limit"] == "10/minute"
    assert report["isolation"] in {"bubblewrap", "namespaces", "uid"} or report["isolation"].startswith("none")
    assert report["llm"]["totals"]["calls"] == 0
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_the_root_and_the_prefix_redirect_to_the_server_view(local: TestClient) -> None:
    for path in ("/", "/dashboard", "/dashboard/"):
        answer = local.get(path)
        assert (answer.status_code, answer.headers["location"]) == (307, "/dashboard/server")


def test_the_rules_view_explains_which_rules_apply_and_renders_one_assistants_context(local: TestClient) -> None:
    page = local.get("/dashboard/rules", params={"path": "packages/core/src/core/calc.py", "assistant": "cursor-mdc"})
    assert page.status_code == 200
    attached = re.findall(r'<tr class="attached" data-rule="([^"]+)"', page.text)
    refused = re.findall(r'<tr class="not-attached" data-rule="([^"]+)"', page.text)
    assert ".cursor/rules/python.mdc" in attached
    assert ".cursor/rules/docs.mdc" in refused
    assert "Use type hints everywhere." in page.text
    assert re.search(r'id="tokens">\d+ tokens of 8000<', page.text)
    completions = local.get("/dashboard/rules/paths", params={"q": "calc"}).json()
    assert completions == ["packages/core/src/core/calc.py", "tests/test_calc.py"]  # the file's own name first
    outside = local.get("/dashboard/rules", params={"path": "../../etc/passwd"})
    assert outside.status_code == 200
    assert re.search(r'id="error">path &#39;../../etc/passwd&#39;: [^<\n]+<', outside.text)


def test_the_workspace_view_draws_the_members_with_edge_kinds_and_the_lock_diff(local: TestClient) -> None:
    page = local.get("/dashboard/workspace", params={"since": "HEAD", "before": "HEAD"})
    assert page.status_code == 200
    assert sorted(re.findall(r'data-name="([^"]+)"', page.text)) == ["api", "cli", "core"]
    assert sorted(re.findall(r'class="edge ([a-z ]+)"', page.text)) == [
        "extra",
        "project",
        "project",
    ]  # cli -> core: an extra
    assert 'id="highlight"' in page.text
    assert "no package changed" in page.text
    bad = local.get("/dashboard/workspace", params={"since": "--exec=boom"})
    assert re.search(r'id="error">since &#39;--exec=boom&#39;: [^<\n]+<', bad.text)


def test_the_workspace_view_highlights_what_a_change_affects(fresh_project: Callable[[], Path], tmp_path: Path) -> None:
    root = fresh_project()
    (root / "packages" / "api" / "src" / "api" / "__init__.py").write_text('"""Changed."""\n', encoding="utf-8")
    settings = settings_of(root, tmp_path / "state")
    data = Dashboard(settings, MCPServer("empty")).workspace_view("HEAD", "", "")
    assert (data["affected"]["changed"], data["affected"]["affected"]) == (["api"], ["api", "cli"])


def test_a_folder_that_is_no_workspace_says_so_in_one_line(tmp_path: Path) -> None:
    data = Dashboard(settings_of(tmp_path, tmp_path / "state"), MCPServer("empty")).workspace_view("", "", "")
    assert data["error"].startswith(f"workspace at {tmp_path.resolve()}: ")
    assert "\n" not in data["error"]


def test_the_tests_view_colours_covered_and_missed_lines_and_lists_survivors(
    served: tuple[Settings, MCPServer],
) -> None:
    settings, server = served
    measured = FileCoverage(
        path="packages/core/src/core/calc.py",
        statements=5,
        covered_lines=3,
        missing_lines=[6, 7],
        executed_lines=[1, 2, 5, 8],
        branches=2,
        covered_branches=1,
        missing_branches=[(6, 7)],
        percent=60.0,
    )
    save_report(
        CoverageReport(files=[measured], percent=60.0, line_percent=60.0),
        root=settings.root,
        state_dir=settings.state_dir_path,
    )
    survivor = Mutant(line=6, change="x < 0 -> x <= 0", killed=False)
    mutation = MutationReport(
        target="core.calc",
        engine="builtin",
        mutants=[survivor],
        killed=0,
        survived=1,
        score=0.0,
        isolation="uid",
        seconds=1,
    )
    save_report(mutation, root=settings.root, state_dir=settings.state_dir_path)
    with client_of(settings, server) as client:
        page = client.get("/dashboard/tests").text
    assert re.search(r'<span class="line hit" id="L2" data-line="2"><i>2</i>    return a \+ b', page)
    assert '<span class="line miss" id="L7"' in page
    assert '<span class="line " id="L3"' in page  # a blank line: neither
    assert "x &lt; 0 -&gt; x &lt;= 0" in page


def test_the_changes_view_shows_a_diff_and_undo_needs_the_write_role_and_the_csrf_token(
    fresh_project: Callable[[], Path], tmp_path: Path
) -> None:
    root = fresh_project()
    settings = settings_of(root, tmp_path / "state")
    target = root / "packages" / "core" / "src" / "core" / "calc.py"
    before = target.read_text(encoding="utf-8")
    with ChangeSet(root, "generate_code calc.py", state_dir=settings.state_dir_path) as change:
        change.write(target, before.replace("a + b", "b + a"))
    server = MCPServer("empty")
    with client_of(settings, server, {READ: "read", WRITE: "write"}) as client:
        client.headers["authorization"] = f"Bearer {READ}"
        page = client.get("/dashboard/changes").text
        assert '<span class="del">-    return a + b' in page
        assert '<span class="add">+    return b + a' in page
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert csrf is not None
        refused = client.post("/dashboard/changes/undo", data={"csrf": csrf.group(1)}, headers=SAME_ORIGIN)
        assert refused.status_code == 403
        assert "write role" in refused.text
        client.headers["authorization"] = f"Bearer {WRITE}"
        page = client.get("/dashboard/changes").text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert token is not None
        stale = client.post("/dashboard/changes/undo", data={"csrf": csrf.group(1)}, headers=SAME_ORIGIN)
        assert stale.status_code == 403  # the read token's CSRF token is not the write token's
        cross = client.post(
            "/dashboard/changes/undo", data={"csrf": token.group(1)}, headers={"origin": "http://evil.test"}
        )
        assert cross.status_code == 403
        assert target.read_text(encoding="utf-8") != before
        done = client.post("/dashboard/changes/undo", data={"csrf": token.group(1)}, headers=SAME_ORIGIN)
        assert done.status_code == 200
        assert "restored <code>packages/core/src/core/calc.py</code>" in done.text
        assert target.read_text(encoding="utf-8") == before
        again = client.post("/dashboard/changes/undo", data={"csrf": token.group(1)}, headers=SAME_ORIGIN)
        assert again.status_code == 409


def test_tokens_are_required_and_the_login_form_sets_a_cookie(served: tuple[Settings, MCPServer]) -> None:
    with client_of(*served, tokens={READ: "read"}) as client:
        assert client.get("/dashboard/server").status_code == 401
        page = client.get("/dashboard/server", headers={"accept": "text/html"})
        assert (page.status_code, page.headers["location"]) == (303, "/dashboard/login")
        assert client.get("/dashboard/login").status_code == 200
        wrong = client.post("/dashboard/login", data={"token": "x" * 24}, headers=SAME_ORIGIN)
        assert wrong.status_code == 401
        right = client.post("/dashboard/login", data={"token": READ}, headers=SAME_ORIGIN)
        assert right.status_code == 303
        assert "httponly" in right.headers["set-cookie"].lower()
        assert "samesite=strict" in right.headers["set-cookie"].lower()
        assert client.get("/dashboard/server").status_code == 200  # the cookie
        assert client.get("/dashboard/static/dashboard.js").status_code == 200


@pytest.mark.parametrize(
    ("headers", "client", "status"),
    [
        ({"host": "evil.test"}, LOCAL, 421),
        ({"host": "127.0.0.1:8765", "origin": "http://evil.test"}, LOCAL, 403),
        ({"host": "localhost:1234"}, LOCAL, 200),
        ({"host": "[::1]:8765"}, LOCAL, 200),
        ({}, ("203.0.113.9", 5000), 403),
    ],
)
def test_host_origin_and_client_address_are_checked(
    served: tuple[Settings, MCPServer], headers: dict[str, str], client: tuple[str, int], status: int
) -> None:
    settings, server = served
    app = dashboard_app(Dashboard(settings, server), settings, {})
    with TestClient(app, base_url=BASE, client=client) as browser:
        assert browser.get("/dashboard/changes", headers=headers).status_code == status


def test_a_post_without_origin_or_referer_is_refused(local: TestClient) -> None:
    assert local.post("/dashboard/changes/undo", data={"csrf": "x"}).status_code == 403


@pytest.mark.anyio
async def test_the_dashboard_sits_beside_the_mcp_app() -> None:
    seen: list[str] = []

    async def mcp(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(f"mcp {scope.get('path', scope['type'])}")

    async def dashboard(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(f"dashboard {scope['path']}")

    app = with_dashboard(mcp, dashboard)
    for path in ("/", "/dashboard", "/dashboard/rules", "/mcp", "/dashboards"):
        await app({"type": "http", "path": path}, None, None)
    await app({"type": "lifespan"}, None, None)
    assert seen == [
        "dashboard /",
        "dashboard /dashboard",
        "dashboard /dashboard/rules",
        "mcp /mcp",
        "mcp /dashboards",
        "mcp lifespan",
    ]


def test_the_layout_puts_dependencies_left_and_survives_a_cycle() -> None:
    drawn = layout(["a", "b", "c"], [("b", "a", ["project"]), ("c", "b", ["group:dev"]), ("a", "c", ["extra:x"])], {})
    columns = {node["name"]: node["x"] for node in drawn["nodes"]}
    assert len(set(columns.values())) == 3
    assert [edge["families"] for edge in drawn["edges"]] == [["project"], ["group"], ["extra"]]


def test_status_prints_the_server_view_as_tables_and_json(dashboard_project: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    environment = {"CODEGEN_LAB_STATE_DIR": str(tmp_path)}
    answer = runner.invoke(cli, ["status", "--root", str(dashboard_project), "--format", "json"], env=environment)
    assert answer.exit_code == 0, answer.output
    report = json.loads(answer.output)
    assert "rules_for_path" in {tool["name"] for toolkit in report["toolkits"] for tool in toolkit["tools"]}
    assert report["running"] is False
    text = runner.invoke(cli, ["status", "--root", str(dashboard_project)], env=environment)
    assert "Rate limits" in text.output
    assert "no calls recorded yet" in text.output
    unreachable = runner.invoke(cli, ["status", "--url", "ftp://x"])
    assert unreachable.exit_code == 2
    assert "--url 'ftp://x': give the server's address" in unreachable.output


def test_status_asks_a_running_server_with_the_token(
    served: tuple[Settings, MCPServer], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with client_of(*served, tokens={READ: "read"}) as client:
        with pytest.raises(UsageError, match="needs a token; set CODEGEN_LAB_TOKEN"):
            remote_status(BASE, client=client)
        monkeypatch.setenv("CODEGEN_LAB_TOKEN", READ)
        report = remote_status(BASE, client=client)
        with pytest.raises(OperationError, match="answered 421"):
            remote_status("http://elsewhere.test", client=client)
    assert report["running"] is True
    assert {item["tool"] for item in report["calls"]} == {"rules_list", "ws_graph"}
    report["llm"]["breakers"] = {"anthropic": "open"}
    print_status(report)
    printed = capsys.readouterr().out
    assert "rules_list" in printed
    assert "breakers: anthropic open" in printed
    with pytest.raises(OperationError, match="cannot reach the server"):
        remote_status("http://127.0.0.1:9")  # the discard port: nothing listens


def test_the_dashboard_command_serves_the_project_with_its_tokens(
    dashboard_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[tuple[int, str]] = []

    async def serve(app: Any, settings: Settings) -> None:
        with TestClient(app, base_url=f"http://127.0.0.1:{settings.port}", client=LOCAL) as browser:
            for headers in ({}, {"authorization": f"Bearer {WRITE}"}):
                answer = browser.get("/dashboard/workspace", headers=headers)
                answers.append((answer.status_code, answer.text))

    monkeypatch.setattr("codegen_lab.server._dashboard.serve_dashboard", serve)
    environment = {"CODEGEN_LAB_STATE_DIR": str(tmp_path), "CODEGEN_LAB_HTTP_TOKENS": f"write:{WRITE}"}
    done = CliRunner().invoke(cli, ["dashboard", "--port", "9876", "--root", str(dashboard_project)], env=environment)
    assert done.exit_code == 0, done.output
    assert [status for status, _ in answers] == [401, 200]
    assert 'data-name="core"' in answers[1][1]


@pytest.mark.anyio
async def test_serve_puts_the_dashboard_beside_mcp_under_one_app(
    served: tuple[Settings, MCPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, server = served
    statuses: dict[str, int] = {}

    async def serve(app: Any, settings: Settings) -> None:
        transport = httpx.ASGITransport(app=app, client=LOCAL)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as browser:
            for path in ("/", "/dashboard/tests", "/mcp"):
                statuses[path] = (await browser.get(path, headers={"authorization": f"Bearer {READ}"})).status_code

    monkeypatch.setattr("codegen_lab.server._dashboard._app.serve_dashboard", serve)
    limits = RateLimits(settings.rate_limits)
    await serve_with_dashboard(server, settings, stateless=True, tokens={READ: "read"}, rate_limits=limits)
    assert statuses == {"/": 307, "/dashboard/tests": 200, "/mcp": 405}  # a stateless /mcp refuses GET


def test_logging_out_forgets_the_cookie_and_a_broken_cookie_is_no_token(served: tuple[Settings, MCPServer]) -> None:
    with client_of(*served, tokens={WRITE: "write"}) as client:
        assert client.get("/").status_code == 307  # `/` only redirects, token or not
        client.post("/dashboard/login", data={"token": WRITE}, headers=SAME_ORIGIN)
        assert client.get("/dashboard/rules").status_code == 200
        out = client.post("/dashboard/logout", headers=SAME_ORIGIN)
        assert (out.status_code, out.headers["location"]) == (303, "/dashboard/login")
        client.cookies.clear()
        broken = client.get("/dashboard/rules", headers={"cookie": 'codegen_lab_token="unterminated'})
        assert broken.status_code == 401


def test_an_allowed_origin_from_the_settings_may_post(dashboard_project: Path, tmp_path: Path) -> None:
    settings = load_settings(
        dashboard_project,
        environ={},
        overrides={"state_dir": tmp_path, "allowed_origins": ["https://ide.example"], "allowed_hosts": ["dev.box"]},
    )
    with client_of(settings, MCPServer("empty")) as client:
        page = client.get("/dashboard/changes", headers={"host": "dev.box"})
        assert page.status_code == 200
        posted = client.post("/dashboard/changes/undo", data={}, headers={"origin": "https://ide.example"})
        assert posted.status_code == 403  # past the origin check: the CSRF token is missing
        assert "CSRF" in posted.text
