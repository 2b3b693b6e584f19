"""Side effects of a function, read from its source: what a test of it would depend on or change.

Static and conservative in what it names: a call is judged by the dotted name it resolves to through the
module's imports (`from time import time` makes `time()` the clock), so a name hidden behind a variable goes
unseen. The generator uses the result to leave out what a test must not depend on (the clock, randomness,
the network, other processes, global state) and to run file writers in a temporary folder.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Literal

__all__ = ["AVOIDED", "Effect", "dotted", "imports_of", "propagate", "side_effects"]

Effect = Literal[
    "writes-files", "network", "clock", "randomness", "prints", "subprocess", "mutates-globals", "mutates-arguments"
]

AVOIDED: dict[Effect, str] = {
    "clock": "reads the clock",
    "randomness": "draws random numbers without a seed parameter",
}
"""Effects that make a function's results depend on the world: no example test is made.

Changing module-level state is not among them: the observer and the generated tests put the module's globals
back after each call and each test, so no result depends on the order tests run in.

The network and other programs are not among them: a name in the source says too little (`socket.inet_aton`
is pure; `__import__("so" + "cket")` is not a name at all). The observer's audit hooks stop a call as it uses
them, and the call is dropped."""

_PREFIXES: list[tuple[str, Effect]] = [
    ("socket.", "network"),
    ("urllib.request.", "network"),
    ("http.client.", "network"),
    ("requests.", "network"),
    ("httpx.", "network"),
    ("aiohttp.", "network"),
    ("smtplib.", "network"),
    ("ftplib.", "network"),
    ("random.", "randomness"),
    ("secrets.", "randomness"),
    ("numpy.random.", "randomness"),
    ("subprocess.", "subprocess"),
    ("shutil.", "writes-files"),
    ("tempfile.", "writes-files"),
]
_EXACT: dict[str, Effect] = {
    "time.time": "clock",
    "time.time_ns": "clock",
    "time.monotonic": "clock",
    "time.monotonic_ns": "clock",
    "time.perf_counter": "clock",
    "time.perf_counter_ns": "clock",
    "time.localtime": "clock",
    "time.gmtime": "clock",
    "time.ctime": "clock",
    "time.asctime": "clock",
    "datetime.datetime.now": "clock",
    "datetime.datetime.utcnow": "clock",
    "datetime.datetime.today": "clock",
    "datetime.date.today": "clock",
    "uuid.uuid1": "randomness",
    "uuid.uuid4": "randomness",
    "os.urandom": "randomness",
    "os.system": "subprocess",
    "os.popen": "subprocess",
    "print": "prints",
    "pprint.pprint": "prints",
    "sys.stdout.write": "prints",
    "sys.stderr.write": "prints",
    "os.remove": "writes-files",
    "os.unlink": "writes-files",
    "os.rename": "writes-files",
    "os.replace": "writes-files",
    "os.mkdir": "writes-files",
    "os.makedirs": "writes-files",
    "os.rmdir": "writes-files",
    "os.removedirs": "writes-files",
    "os.write": "writes-files",
    "os.chmod": "writes-files",
    "os.symlink": "writes-files",
    "os.link": "writes-files",
}
_FILE_METHODS = {"write_text", "write_bytes", "touch", "mkdir", "unlink", "rmdir", "symlink_to", "hardlink_to"}
"""`pathlib` methods that change the file system (`rename` and `replace` are left out: strings and
dataclasses have methods of those names)."""
_MUTATORS = {
    "append", "extend", "insert", "remove", "pop", "clear", "update", "add", "discard", "setdefault", "popitem",
    "sort", "reverse", "appendleft", "extendleft", "popleft", "difference_update", "intersection_update",
}  # fmt: skip
_SEEDS = {"seed", "random_state", "rng", "random", "randomizer", "state"}
_NOW = {"now", "utcnow", "today"}


def imports_of(tree: ast.Module) -> dict[str, str]:
    """The module's import bindings: local name to dotted name (`dt` to `datetime`, `time` to `time.time`)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for the expression `a.b.c`; None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _resolve(name: str, imports: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    base = imports.get(head, head)
    return f"{base}.{rest}" if rest else base


def _call_effect(call: ast.Call, imports: dict[str, str]) -> Effect | None:
    if isinstance(call.func, ast.Attribute) and call.func.attr in _FILE_METHODS:  # `Path(p).write_text(...)`
        return "writes-files"
    name = dotted(call.func)
    if name is None:
        return None
    full = _resolve(name, imports)
    if full in _EXACT:
        return _EXACT[full]
    if full in {"open", "io.open", "builtins.open"} and _writes(call):
        return "writes-files"
    for prefix, effect in _PREFIXES:
        if full.startswith(prefix) or full == prefix[:-1]:
            return effect
    if full.startswith("datetime.") and full.rsplit(".", 1)[-1] in _NOW:
        return "clock"
    return None


def _writes(call: ast.Call) -> bool:
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return any(flag in mode.value for flag in "wax+")
    return True  # a mode chosen at run time may write


def side_effects(
    node: ast.FunctionDef | ast.AsyncFunctionDef, body: Iterable[ast.AST], imports: dict[str, str]
) -> tuple[set[Effect], set[str]]:
    """The effects of the function `node` (whose own nodes are `body`), and the plain names it calls.

    `self` and `cls` are not arguments here: a method that changes its own object does what methods do.
    """
    arguments = {arg.arg for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
    arguments -= {"self", "cls"}
    seeded = bool(arguments & _SEEDS)
    effects: set[Effect] = set()
    called: set[str] = set()
    for child in body:
        if isinstance(child, ast.Call):
            effect = _call_effect(child, imports)
            if effect is not None and not (effect == "randomness" and seeded):
                effects.add(effect)
            if isinstance(child.func, ast.Name):
                called.add(child.func.id)
            if (
                isinstance(child.func, ast.Attribute)
                and child.func.attr in _MUTATORS
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id in arguments
            ):
                effects.add("mutates-arguments")
        elif isinstance(child, ast.Global | ast.Nonlocal):
            effects.add("mutates-globals")
        elif isinstance(child, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = child.targets if isinstance(child, ast.Assign | ast.Delete) else [child.target]
            for target in targets:
                if (
                    isinstance(target, ast.Subscript | ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in arguments
                ):
                    effects.add("mutates-arguments")
    return effects, called


def propagate(direct: dict[str, tuple[set[Effect], set[str]]]) -> dict[str, set[Effect]]:
    """Each function's effects with those of the module functions it calls, directly or not.

    Changing one's own arguments does not carry over: the caller's arguments are not the callee's.
    """
    effects = {name: set(found) for name, (found, _) in direct.items()}
    changed = True
    while changed:
        changed = False
        for name, (_, called) in direct.items():
            for callee in called & effects.keys():
                inherited = effects[callee] - {"mutates-arguments"} - effects[name]
                if inherited:
                    effects[name] |= inherited
                    changed = True
    return effects
