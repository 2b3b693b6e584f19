"""`audit`: uv audit's findings attributed to the members that need each package, offline a clear reason."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codegen_lab.uvtools import WorkspaceError, audit, load_workspace, read_lock
from codegen_lab.uvtools._health import audit_failure, parse_audit
from codegen_lab.uvtools.cli import cli

# What OSV knows in these tests: the id of each vulnerable package's advisory, and the advisory.
ADVISORIES = {
    "idna": {
        "id": "PYSEC-2099-1",
        "modified": "2099-01-01T00:00:00Z",
        "summary": "Crafted labels make idna.encode slow",
        "aliases": ["CVE-2099-0001"],
        "affected": [
            {
                "package": {"name": "idna", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
            }
        ],
    },
    "typing-extensions": {"id": "GHSA-test-test-test", "modified": "2099-01-01T00:00:00Z", "summary": "A test"},
}


class _Osv(BaseHTTPRequestHandler):
    """The two calls uv audit makes to an OSV service: `POST /v1/querybatch`, then `GET /v1/vulns/ID`."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        names = [query["package"]["name"] for query in body["queries"]]
        self.server.asked.extend(names)  # type: ignore[attr-defined]
        found = [{"vulns": [{"id": ADVISORIES[name]["id"]}] if name in ADVISORIES else []} for name in names]
        self._answer({"results": found})

    def do_GET(self) -> None:
        by_id = {advisory["id"]: advisory for advisory in ADVISORIES.values()}
        self._answer(by_id[self.path.rsplit("/", 1)[-1]])

    def _answer(self, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def osv(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    """A local OSV-compatible service; uv may use the network (the lock is read frozen: no index is asked)."""
    monkeypatch.delenv("UV_OFFLINE")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    server.asked = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_real_uv_audit_findings_name_the_members_and_their_paths(chain: Path, osv: ThreadingHTTPServer) -> None:
    report = audit(load_workspace(chain), service_url=url(osv))
    assert sorted(osv.asked) == ["anyio", "idna", "typing-extensions"]  # type: ignore[attr-defined]
    assert report.checked
    assert report.audited_packages == 3
    idna, typing_extensions = report.findings
    assert (idna.package, idna.version, idna.kind, idna.id) == ("idna", "3.20", "vulnerability", "PYSEC-2099-1")
    assert idna.details["aliases"] == ["CVE-2099-0001"]
    assert idna.details["fix_versions"] == ["99.0"]
    assert idna.details["summary"] == "Crafted labels make idna.encode slow"
    assert idna.members == {
        "a": (("a", "anyio", "idna"),),
        "b": (("b", "a", "anyio", "idna"),),
        # shortest first: through the extra, then the dev group, then the chain of members
        "c": (("c", "idna (extra net)"), ("c", "anyio (group dev)", "idna"), ("c", "b", "a", "anyio", "idna")),
        "d": (("d", "idna"),),
    }
    assert typing_extensions.id == "GHSA-test-test-test"
    assert set(typing_extensions.members) == {"a", "b", "c"}  # d needs only idna
    assert ("b", "typing-extensions") in typing_extensions.members["b"]
    assert report.by_member()["d"] == ["idna 3.20: PYSEC-2099-1"]

    only_d = audit(load_workspace(chain), members=["D"], service_url=url(osv)).to_result().model_dump()
    assert [(f["package"], f["members"]) for f in only_d["findings"]] == [("idna", {"d": [["d", "idna"]]})]
    assert only_d["members"] == {"d": ["idna 3.20: PYSEC-2099-1"]}


def test_the_cli_prints_findings_per_member_and_fails_on_them(chain: Path, osv: ThreadingHTTPServer) -> None:
    runner = CliRunner()
    args = ["audit", "--root", str(chain), "--service-url", url(osv), "--member", "d", "--member", "a"]
    result = runner.invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["checked"] is True
    assert data["members"] == {
        "d": ["idna 3.20: PYSEC-2099-1"],
        "a": ["idna 3.20: PYSEC-2099-1", "typing-extensions 4.16.0: GHSA-test-test-test"],
    }
    text = runner.invoke(cli, args).output
    assert "idna 3.20: PYSEC-2099-1: Crafted labels make idna.encode slow\n  fixed in: 99.0\n" in text
    assert "  d: d -> idna\n" in text
    unknown = runner.invoke(cli, ["audit", "--root", str(chain), "--member", "nope", "--offline"])
    assert unknown.exit_code == 2
    assert "no workspace member is called 'nope'" in unknown.output


# `uv audit --output-format json` as uv 0.13.9 printed it against the service above, with an adverse project
# status added in the shape uv's `json.rs` gives it (`name`, `status`, `reason`).
RECORDED = """
{
  "schema": {"version": "preview"},
  "summary": {"audited_packages": 3, "vulnerabilities": 2, "adverse_statuses": 1},
  "vulnerabilities": [
    {
      "dependency": {"name": "idna", "version": "3.20"},
      "id": "PYSEC-2099-1", "display_id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"],
      "summary": "Crafted labels make idna.encode slow", "description": null,
      "link": "https://osv.dev/vulnerability/PYSEC-2099-1", "fix_versions": ["99.0"],
      "published": null, "modified": "2099-01-01T00:00:00Z"
    },
    {
      "dependency": {"name": "idna", "version": "2.0"},
      "id": "PYSEC-1999-1", "display_id": "PYSEC-1999-1", "aliases": [], "summary": "old", "description": null,
      "link": null, "fix_versions": [], "published": null, "modified": null
    }
  ],
  "adverse_statuses": [{"name": "Typing_Extensions", "status": "archived", "reason": "moved"}]
}
"""


def test_a_recorded_report_is_attributed_through_the_lock(chain: Path) -> None:
    lock = read_lock(chain / "uv.lock")
    report = parse_audit(json.loads(RECORDED), lock)
    assert report.checked
    current, other_version, status = report.findings
    assert set(current.members) == {"a", "b", "c", "d"}
    assert other_version.members == {}  # the lock holds idna 3.20, not 2.0: no member needs the vulnerable one
    assert (status.package, status.version, status.kind, status.id) == ("typing-extensions", None, "status", "archived")
    assert status.details == {"reason": "moved"}
    assert status.members["b"][0] == ("b", "typing-extensions")
    assert report.to_result().model_dump()["findings"][2]["reason"] == "moved"
    filtered = parse_audit(json.loads(RECORDED), lock, members=["d"])
    assert [finding.label for finding in filtered.findings] == ["idna 3.20: PYSEC-2099-1"]
    assert filtered.by_member() == {"d": ["idna 3.20: PYSEC-2099-1"]}
    unknown = parse_audit({"vulnerabilities": []}, lock)
    assert not unknown.checked
    assert unknown.reason == "uv audit printed a report this version cannot read (KeyError('summary'))"


def test_offline_the_report_says_why_and_exits_3(chain: Path) -> None:
    workspace = load_workspace(chain)
    assert audit(workspace, offline=True).to_result().model_dump() == {
        "checked": False,
        "reason": "offline: the vulnerability service was not asked",
        "audited_packages": 0,
        "findings": [],
        "members": {},
    }
    # UV_OFFLINE=1 in these tests: the real uv audit refuses, and the report carries its reason.
    refused = audit(workspace, members=["a"])
    assert (refused.checked, refused.members) == (False, ("a",))
    assert (
        refused.reason == "offline: uv audit needs the network and uv is set to work offline (UV_OFFLINE or --offline)"
    )
    result = CliRunner().invoke(cli, ["audit", "--root", str(chain), "--format", "json"])
    assert result.exit_code == 3  # could not check: not a success
    assert json.loads(result.output)["checked"] is False
    with pytest.raises(WorkspaceError, match="no workspace member is called 'nope'"):
        audit(workspace, members=["nope"], offline=True)


def test_an_unreachable_service_is_named() -> None:
    # What uv 0.13.9 wrote on stderr when api.osv.dev could not be resolved.
    stderr = (
        "error: Request failed after 3 retries\n"
        "  cause: error sending request for url (https://api.osv.dev/v1/querybatch)\n"
        "  cause: client error (Connect)\n"
        "  cause: dns error\n"
        "  cause: failed to lookup address information: Name or service not known\n"
    )
    assert audit_failure(stderr) == (
        "the vulnerability service could not be reached: error sending request for url "
        "(https://api.osv.dev/v1/querybatch) (failed to lookup address information: Name or service not known)"
    )
    assert audit_failure("error: No `project` table found in: `pyproject.toml`\n") == (
        "uv audit could not run: No `project` table found in: `pyproject.toml`"
    )
