"""The server image of deploy/Containerfile, built with podman and run: `/healthz` and one tool call through it.

No image registry is reachable here, so the base is made from Debian packages with `mmdebstrap` (Python 3.13 on
trixie) and kept as a tarball in the cache folder (`~/.cache/codegen-lab-ci`), named by a hash of what makes it
(suite, variant, packages, mirror) so that a base made another way is never reused, then imported and built on with
podman's `vfs` driver and `--isolation chroot` (`--layers=false`: with vfs each layer is a whole copy). The
container runs with `runc` and `--ulimit`s no higher than this process's own, its port 8765 published on a free
loopback port: crun cannot run on this machine's hybrid cgroups, and a container may not raise a limit. Marked
`container`: it runs only when asked (`pytest -m container`), since it builds an image; `.ci/run` asks. It skips,
saying why, when podman, runc or mmdebstrap is missing, when the Debian base cannot be made (no mirror), or when
podman cannot run a container at all here (`true` in the bare base fails); a cached base that podman cannot import
is made again. Waits end when what they wait for happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from codegen_lab.common.testing import free_port

pytestmark = [pytest.mark.container, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codegen-lab-ci"
MMDEBSTRAP = ["--variant=apt", "--include=python3,python3-venv,python3-pip,ca-certificates", "trixie"]
MIRROR = "http://deb.debian.org/debian"
BASE_KEY = hashlib.sha256(json.dumps([MMDEBSTRAP, MIRROR]).encode()).hexdigest()[:16]
"""What the base is made of: its tarball and image are named by it, so a change makes a new one, never a stale one."""
BASE_TARBALL = CACHE / f"debian-trixie-python-{BASE_KEY}.tar"
BASE_IMAGE = f"localhost/codegen-lab-ci-base:{BASE_KEY}"
IMAGE = "localhost/codegen-lab-ci"
PODMAN = ["podman", "--storage-driver", "vfs"]
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
TOKEN = "container-test-write-token-0123456789"  # noqa: S105 - the test's own
BOUND = 120.0
"""The longest a wait here lasts before the test fails: a guard against hanging, never a measurement."""


def _run(*command: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    output = f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}):\n{output}"
    return done


def _limits() -> list[str]:
    """`--ulimit`s for open files and processes within this process's hard limits (a container cannot raise them)."""
    found: list[str] = []
    for name, limit, wanted in (("nofile", resource.RLIMIT_NOFILE, 4096), ("nproc", resource.RLIMIT_NPROC, 4096)):
        hard = resource.getrlimit(limit)[1]
        value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        found += ["--ulimit", f"{name}={value}:{value}"]
    return found


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stderr or done.stdout).strip()[-500:]


def _make_base_tarball() -> None:
    """The Debian base as a tarball in the cache, made by mmdebstrap; skips the test when it cannot be made."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob("debian-trixie-python*.tar"):  # bases made another way, or cut short
        stale.unlink()
    partial = BASE_TARBALL.with_suffix(".partial.tar")
    made = subprocess.run(
        ["mmdebstrap", *MMDEBSTRAP, str(partial), MIRROR], capture_output=True, text=True, timeout=1800, check=False
    )
    if made.returncode != 0:
        partial.unlink(missing_ok=True)
        pytest.skip(f"mmdebstrap could not make the Debian base from {MIRROR}: {_tail(made)}")
    partial.replace(BASE_TARBALL)


def _base_image() -> None:
    """The cached base imported into podman's storage (made again when the cached tarball does not import)."""
    if subprocess.run([*PODMAN, "image", "exists", BASE_IMAGE], check=False).returncode == 0:
        return
    if not BASE_TARBALL.exists():
        _make_base_tarball()
    listed = _run(*PODMAN, "images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/codegen-lab-ci-base")
    for stale in set(listed.stdout.split()) - {BASE_IMAGE}:  # bases made another way: a whole copy each, with vfs
        subprocess.run([*PODMAN, "rmi", "--force", stale], capture_output=True, check=False)
    imported = subprocess.run([*PODMAN, "import", str(BASE_TARBALL), BASE_IMAGE], capture_output=True, check=False)
    if imported.returncode != 0:  # a damaged tarball: made again, once
        _make_base_tarball()
        _run(*PODMAN, "import", str(BASE_TARBALL), BASE_IMAGE)


@pytest.fixture(scope="module")
def image() -> str:
    """The server image, built from this checkout on the cached Debian base."""
    for program in ("podman", "runc", "mmdebstrap"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (apt-get install -y podman runc mmdebstrap)")
    storage = subprocess.run([*PODMAN, "info"], capture_output=True, text=True, timeout=300, check=False)
    if storage.returncode != 0:
        pytest.skip(f"podman cannot run here: {_tail(storage)}")
    _base_image()
    probe = [*PODMAN, "run", "--rm", "--runtime", "runc", "--network", "none", *_limits(), BASE_IMAGE, "true"]
    ran = subprocess.run(probe, capture_output=True, text=True, timeout=300, check=False)
    if ran.returncode != 0:
        pytest.skip(f"podman cannot run a container here (`{' '.join(probe)}`): {_tail(ran)}")
    inspect = [*PODMAN, "image", "inspect", "--format", "{{.Id}}", IMAGE]
    before = subprocess.run(inspect, capture_output=True, text=True, check=False).stdout.strip()
    # behind a TLS-intercepting proxy, pip in the build trusts what this machine trusts
    trust = ["--volume", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"] if CA_BUNDLE.exists() else []
    _run(
        *PODMAN,
        "build",
        "--runtime",
        "runc",
        "--format",
        "docker",
        "--isolation",
        "chroot",
        "--layers=false",  # no image per step: with vfs, each would be a whole copy of the file system
        *trust,
        "--build-arg",
        f"BASE={BASE_IMAGE}",
        "--file",
        str(REPOSITORY / "deploy" / "Containerfile"),
        "--tag",
        IMAGE,
        str(REPOSITORY),
    )
    if before and before != _run(*inspect).stdout.strip():
        subprocess.run([*PODMAN, "rmi", before], capture_output=True, check=False)  # the last build's, untagged now
    return IMAGE


@pytest.fixture
def container(image: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The image running as the Containerfile says, the tokens file mounted as its secret; its name and URL."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"write {TOKEN}\n", encoding="utf-8")
    tokens.chmod(0o644)  # readable by the image's user, uid 10001
    name, port = f"codegen-lab-ci-{os.getpid()}-{tmp_path.name}", free_port()
    _run(
        *PODMAN,
        "run",
        "--detach",
        "--name",
        name,
        "--runtime",
        "runc",
        *_limits(),
        "--publish",
        f"127.0.0.1:{port}:8765",
        "--volume",
        f"{tokens}:/run/secrets/codegen-lab-tokens:ro",
        image,
    )
    try:
        yield name, f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([*PODMAN, "rm", "--force", "--time", "2", name], capture_output=True, check=False)


def test_the_image_serves_health_and_a_tool_call_as_a_non_root_user(container: tuple[str, str]) -> None:
    name, url = container
    deadline = time.monotonic() + BOUND
    health: httpx.Response | None = None
    while health is None or health.status_code != 200:
        assert time.monotonic() < deadline, _run(*PODMAN, "logs", name).stderr[-3000:]
        try:
            health = httpx.get(f"{url}/healthz", timeout=5)
        except httpx.TransportError:
            time.sleep(0.5)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "server_info", "arguments": {}}}
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    answer = httpx.post(f"{url}/mcp", json=call, headers=headers, timeout=60)
    refused = httpx.post(f"{url}/mcp", json=call, headers={**headers, "Authorization": "Bearer wrong"}, timeout=60)
    user = _run(*PODMAN, "exec", name, "id", "-u").stdout.strip()
    checked = subprocess.run([*PODMAN, "healthcheck", "run", name], capture_output=True, text=True, check=False)
    assert health.json() == {"status": "ok"}
    assert answer.status_code == 200, answer.text
    info = json.loads(answer.json()["result"]["content"][0]["text"])
    assert info["name"] == "codegen-lab"
    assert info["workspace_root"] == "/srv/codegen-lab/workspace"
    assert info["python"].startswith("3.13")  # the Debian trixie base's
    assert refused.status_code == 401
    assert user == "10001"
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the image's HEALTHCHECK passes
