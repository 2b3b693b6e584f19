"""Choose the modules of testgen's benchmark by a rule fixed before measuring, so that it cannot be tuned to.

The rule: walk the PyPI packages in order of downloads (the `rank` column of a list of the most downloaded
packages, given as a TSV file: name, version, month, rank, summary); download each one's newest wheel (no
dependencies); keep the package when that wheel is pure Python (`*-none-any.whl`); among its modules (not
`__init__.py`, `__main__.py`, `conftest.py`, tests, vendored copies, private `_`-prefixed modules or folders)
keep those of 150-600 lines with no `async def` that import, directly or through the package's own modules,
only the standard library and the package itself, and nothing of the network, other processes, threads or the
event loop (`socket`, `ssl`, `http`, `urllib.request`, `subprocess`, `threading`, `multiprocessing`, `asyncio`,
`concurrent`, `select`, `signal`, `ctypes`); take the largest (ties: by path). The first `--count` packages
that have one give one module each. testgen's earlier anchors (`boltons`, `toolz`, `semver`) are left out.

Run: `uv run python benchmarks/testgen_modules.py PYPI_TSV [--count 15] [--top 200]`; it prints one
`module package` line per choice, the list `testgen_vs_peers.py` reads with `--modules-file`.
"""

from __future__ import annotations

import argparse
import ast
import csv
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

FORBIDDEN = {
    "socket",
    "ssl",
    "http",
    "urllib.request",
    "subprocess",
    "threading",
    "multiprocessing",
    "asyncio",
    "concurrent",
    "select",
    "signal",
    "ctypes",
}
LEFT_OUT = {"boltons", "toolz", "semver"}


def ranked(tsv: Path, top: int) -> list[str]:
    """The package names of the list, most downloaded first, the first `top` of them."""
    with tsv.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row.get("rank_among_15000_most_downloaded")]
    rows.sort(key=lambda row: int(row["rank_among_15000_most_downloaded"]))
    return [row["name"] for row in rows[:top]]


def imported(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """The absolute names a module imports (`from . import x` resolved against `module`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, *([node.module] if node.module else [])])
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def eligible(path: PurePosixPath) -> bool:
    """Whether a file of the wheel is a module the rule may take (by its path alone)."""
    parts = path.parts
    if path.suffix != ".py" or path.name.startswith(("_", "test")) or path.name in {"conftest.py", "setup.py"}:
        return False
    if any(part.endswith((".dist-info", ".data")) for part in parts):
        return False
    folders = parts[:-1]
    if any(part in {"tests", "test", "testing", "vendor", "vendored", "examples"} for part in folders):
        return False
    return not any(part.startswith("_") for part in folders)


def choose(wheel: Path) -> str | None:
    """The module the rule takes from a pure-Python wheel, as a dotted import name, or None."""
    trees: dict[str, tuple[ast.Module, int, bool]] = {}
    paths: dict[str, PurePosixPath] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            path = PurePosixPath(name)
            if path.suffix != ".py" or any(part.endswith((".dist-info", ".data")) for part in path.parts):
                continue
            text = archive.read(name).decode("utf-8", errors="replace")
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            is_package = path.name == "__init__.py"
            module = ".".join((path.parent if is_package else path.with_suffix("")).parts)
            trees[module] = (tree, len(text.splitlines()), is_package)
            paths[module] = path
    tops = {module.split(".")[0] for module in trees}
    stdlib = set(sys.stdlib_module_names)
    verdict: dict[str, bool] = {}

    def clean(module: str, seen: frozenset[str] = frozenset()) -> bool:
        if module in verdict:
            return verdict[module]
        tree, _, is_package = trees[module]
        ok = True
        for name in imported(tree, module, is_package):
            top = name.split(".")[0]
            if name in FORBIDDEN or any(name.startswith(f"{bad}.") for bad in FORBIDDEN) or top in FORBIDDEN:
                ok = False
            elif top in tops:
                inner = name if name in trees else name.rpartition(".")[0]
                if inner in trees and inner not in seen and inner != module:
                    ok = clean(inner, seen | {module})
            elif top not in stdlib and top != "__future__":
                ok = False
            if not ok:
                break
        verdict[module] = ok
        return ok

    chosen: tuple[int, str] | None = None
    for module, (tree, lines, _) in sorted(trees.items()):
        if not eligible(paths[module]) or not 150 <= lines <= 600:
            continue
        if any(isinstance(node, ast.AsyncFunctionDef) for node in ast.walk(tree)) or not clean(module):
            continue
        if chosen is None or lines > chosen[0]:
            chosen = (lines, module)
    return chosen[1] if chosen else None


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("tsv", type=Path)
    parser.add_argument("--count", type=int, default=15)
    parser.add_argument("--top", type=int, default=200, help="Look no further than this rank.")
    arguments = parser.parse_args()
    found = 0
    with tempfile.TemporaryDirectory(prefix="testgen-modules-") as folder:
        for package in ranked(arguments.tsv, arguments.top):
            if package in LEFT_OUT:
                continue
            target = Path(folder) / package
            fetched = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--only-binary",
                    ":all:",
                    "-d",
                    target,
                    package,
                ],
                capture_output=True,
                check=False,
            )
            wheels = sorted(target.glob("*.whl")) if fetched.returncode == 0 else []
            if not wheels or not wheels[0].name.endswith("-none-any.whl"):
                print(f"# {package}: no pure-Python wheel", file=sys.stderr, flush=True)
                continue
            module = choose(wheels[0])
            if module is None:
                print(f"# {package}: no module the rule takes", file=sys.stderr, flush=True)
                continue
            print(f"{module} {package}", flush=True)
            found += 1
            if found == arguments.count:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
