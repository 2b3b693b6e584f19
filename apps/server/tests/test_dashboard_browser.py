"""The dashboard in a real browser: headless Chromium (the Debian `chromium`) driven by Playwright.

`codegen-lab serve --transport http` with a read and a write token serves a small real project whose coverage
was measured by `codegen-lab testgen coverage` and which has one journaled change; each view is loaded, checked
and saved as a screenshot under the test's temporary folder (printed).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from codegen_lab.common.files import ChangeSet

if TYPE_CHECKING:
    from playwright.sync_api import Route

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READ = "read-token-" + "r" * 16
WRITE = "write-token-" + "w" * 16


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running(fresh_project: Callable[[], Path], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The project, its coverage measured and a change journaled, served over HTTP with a read and a write token."""
    root = fresh_project()
    environment = {
        **os.environ,
        "CODEGEN_LAB_STATE_DIR": str(tmp_path / "state"),
        "CODEGEN_LAB_CACHE_DIR": str(tmp_path / "cache"),
        "CODEGEN_LAB_CONFIG": "",
        "CODEGEN_LAB_ALLOW_UNSANDBOXED": "1",
        "CODEGEN_LAB_HTTP_TOKENS": f"read:{READ},write:{WRITE}",
    }
    command = [sys.executable, "-m", "codegen_lab.server"]
    measured = subprocess.run(
        [*command, "testgen", "coverage", "tests/test_calc.py", "--source", "packages", "--root", str(root)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert measured.returncode == 0, measured.stderr
    target = root / "packages" / "core" / "src" / "core" / "calc.py"
    with ChangeSet(root, "generate_code calc.py", state_dir=tmp_path / "state") as change:
        change.write(target, target.read_text(encoding="utf-8").replace("a + b", "b + a"))
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [*command, "serve", "--transport", "http", "--port", str(port), "--root", str(root)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a generous limit: the wait ends when the server answers
        while True:
            try:
                if httpx.get(f"{base}/dashboard/login", timeout=10).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)
        yield base, root
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_every_view_in_chromium(running: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("the Debian chromium is not installed (apt-get install -y chromium; .ci/run does)")
    base, root = running
    shots = tmp_path / "screenshots"
    shots.mkdir()
    target = root / "packages" / "core" / "src" / "core" / "calc.py"
    edited = target.read_text(encoding="utf-8")
    (root / "packages" / "api" / "src" / "api" / "__init__.py").write_text('"""Changed."""\n', encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        writer = browser.new_page(viewport={"width": 1280, "height": 900})
        writer.set_default_timeout(60_000)
        writer.goto(f"{base}/dashboard/server")
        expect(writer).to_have_url(f"{base}/dashboard/login")
        writer.fill("#token", WRITE)
        writer.click("#login")
        expect(writer.locator("#role")).to_have_text("write")
        expect(writer.locator("#tool-rules_for_path")).to_be_visible()
        expect(writer.locator("#live")).to_have_attribute("data-refreshed", "1")  # the live part refreshed itself
        writer.screenshot(path=shots / "server.png", full_page=True)

        # The page's script is held back until the path is typed: what was typed before it ran is completed too.
        held: list[Route] = []
        writer.route("**/static/dashboard.js", lambda route: held.append(route))  # noqa: PLW0108 (Playwright wraps only Python functions)
        writer.click("#nav-rules")
        writer.fill("#path", "calc")
        deadline = time.monotonic() + 120  # a guard against hanging, not a limit the test measures
        while not held:
            assert time.monotonic() < deadline, "the rules page never asked for its script"
            writer.wait_for_timeout(50)
        held[0].continue_()
        writer.unroute("**/static/dashboard.js")
        writer.click('button[data-path="packages/core/src/core/calc.py"]')
        expect(writer.locator('tr.attached[data-rule=".cursor/rules/python.mdc"]')).to_be_visible()
        expect(writer.locator('tr.not-attached[data-rule=".cursor/rules/docs.mdc"]')).to_be_visible()
        writer.screenshot(path=shots / "rules.png", full_page=True)

        writer.goto(f"{base}/dashboard/workspace?since=HEAD&before=HEAD")
        node = writer.locator('g.node[data-name="api"]')
        expect(node).to_have_class("node changed affected")
        expect(writer.locator("#graph")).not_to_have_class("graph show-affected")
        writer.click("#highlight")
        expect(writer.locator("#graph")).to_have_class("graph show-affected")
        fill = node.locator("rect").evaluate("rect => getComputedStyle(rect).fill")
        assert fill == "rgb(253, 226, 225)"  # the changed colour
        writer.screenshot(path=shots / "workspace.png", full_page=True)

        writer.click("#nav-tests")
        expect(writer.locator("#L2")).to_have_class("line hit")
        expect(writer.locator("#L7")).to_have_class("line miss")
        writer.screenshot(path=shots / "tests.png", full_page=True)

        reader = browser.new_page(viewport={"width": 1280, "height": 900})
        reader.set_default_timeout(60_000)
        reader.goto(f"{base}/dashboard/login")
        reader.fill("#token", READ)
        reader.click("#login")
        reader.click("#nav-changes")
        expect(reader.locator(".diff .add")).to_have_text(["+    return b + a"])
        reader.once("dialog", lambda dialog: dialog.accept())
        reader.click("#undo")
        expect(reader.locator("#error")).to_contain_text("undo needs a token with the write role")
        assert target.read_text(encoding="utf-8") == edited
        reader.screenshot(path=shots / "changes-refused.png", full_page=True)

        writer.click("#nav-changes")
        writer.screenshot(path=shots / "changes.png", full_page=True)
        writer.once("dialog", lambda dialog: dialog.accept())
        writer.click("#undo")
        expect(writer.locator("#undone")).to_contain_text("undid generate_code calc.py")
        assert "return a + b" in target.read_text(encoding="utf-8")
        browser.close()
    print(f"dashboard screenshots: {shots}")
    assert sorted(path.name for path in shots.iterdir()) == [
        "changes-refused.png",
        "changes.png",
        "rules.png",
        "server.png",
        "tests.png",
        "workspace.png",
    ]
