from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from codegen_lab.uvtools import WorkspaceError, load_workspace, release_plan


class Index(BaseHTTPRequestHandler):
    """A PEP 691 index where `a` has 0.1.0 (as versions) and `b` has 0.0.9 (as files only)."""

    def do_GET(self) -> None:
        assert self.headers["Accept"] == "application/vnd.pypi.simple.v1+json"
        pages = {
            "/simple/a/": {"name": "a", "versions": ["0.0.1", "0.1.0"], "files": []},
            "/simple/b/": {"name": "b", "files": [{"filename": "b-0.0.9-py3-none-any.whl"}]},
        }
        page = pages.get(self.path)
        self.send_response(200 if page else 404)
        self.end_headers()
        self.wfile.write(json.dumps(page or {}).encode())

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def index() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


def test_the_plan_skips_published_versions_in_publish_order(chain: Path, index: str) -> None:
    plan = release_plan(load_workspace(chain), index=index)
    assert [(step.member, step.status) for step in plan.steps] == [
        ("a", "published"),
        ("b", "publish"),
        ("c", "publish"),
        ("d", "publish"),
    ]


def test_offline_nothing_is_checked_and_it_says_so(chain: Path) -> None:
    data = release_plan(load_workspace(chain), offline=True).to_result().model_dump()
    assert data["unchecked"] == ["a", "b", "c", "d"]
    assert {step["reason"] for step in data["steps"]} == {"offline: the index was not asked"}


def test_an_unreachable_index_is_a_reason_not_a_traceback(chain: Path, index: str) -> None:
    unreachable = "http://127.0.0.1:9/simple"  # the discard port: nothing listens
    plan = release_plan(load_workspace(chain), index=unreachable, timeout=2)
    assert {step.status for step in plan.steps} == {"unchecked"}
    assert plan.steps[0].reason is not None
    assert plan.steps[0].reason.startswith(f"the index {unreachable} could not be asked")
    with pytest.raises(WorkspaceError, match="not an http"):
        release_plan(load_workspace(chain), index="file:///etc")
    assert index
