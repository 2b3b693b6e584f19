# pyright: basic
"""Calls candidate inputs on the module under test and records what happens, with the lines each call runs.

testgen copies this file into the sandbox's work folder and runs it with the target interpreter (any Python
from 3.8 on, without Codegen Lab): standard library and coverage only. Input and output are JSON files named
on the command line. Each candidate is source code testgen generated: an optional setup statement and an
expression, evaluated with the module under test bound to its alias.
"""

import ast
import contextlib
import doctest
import importlib
import io
import itertools
import json
import os
import re
import signal
import sys
import traceback
import types

import coverage

ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{4,}|<[\w.]+ object>")
SAFE = (str, int, float, bytes, bool, type(None), list, tuple, dict, set, frozenset)
MAX_REPR = 400
MAX_STATE = 8


class CallTimeout(BaseException):
    """The call took longer than its share of time."""


def _alarm(_signum, _frame):
    raise CallTimeout


def literal(value, depth=0):
    """`repr(value)` when it reads back as an equal value of the same type, else None."""
    if depth > 6 or type(value) not in SAFE:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        if any(literal(item, depth + 1) is None for item in value):
            return None
    if isinstance(value, dict):
        if any(literal(key, depth + 1) is None or literal(item, depth + 1) is None for key, item in value.items()):
            return None
    text = repr(value)
    if len(text) > MAX_REPR:
        return None
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if type(back) is not type(value) or back != value:
        return None
    return text


def type_name(cls):
    return "{}.{}".format(cls.__module__, cls.__qualname__)


def exception(exc, tb, module_file, during):
    frames = traceback.extract_tb(tb)
    last = frames[-1].filename if frames else ""
    message = str(exc)
    return {
        "kind": "raises",
        "type": type_name(type(exc)),
        "message": message[:MAX_REPR],
        "in_module": os.path.realpath(last) == module_file,
        "line": frames[-1].lineno if frames else 0,
        "during": during,
        "stable": not ADDRESS.search(message),
    }


def state(value):
    """The public properties and attributes of an object that read back as literals: what a test can check."""
    cls = type(value)
    if cls.__module__ == "builtins":
        return {}
    names = [  # in the order the classes define them, the base classes' first
        name
        for klass in reversed(cls.__mro__)
        for name, item in vars(klass).items()
        if not name.startswith("_") and isinstance(item, property)
    ]
    if not names and not has_accessors(cls):  # attributes are the state only when nothing public reads it
        names += [name for name in getattr(value, "__dict__", {}) if not name.startswith("_")]
    found = {}
    for name in list(dict.fromkeys(names))[:MAX_STATE]:
        try:
            item = getattr(value, name)
        except CallTimeout:
            raise
        except Exception:
            continue
        text = literal(item)
        if text is not None:
            found[name] = text
    return found


def has_accessors(cls):
    """Whether a class of the module offers a public way to read its contents (`len`, iteration, indexing)."""
    return any(
        name in vars(klass)
        for klass in cls.__mro__
        if klass.__module__ != "builtins"
        for name in ("__len__", "__iter__", "__getitem__", "__contains__")
    )


def classify(value, module_file):
    text = literal(value)
    if text is not None:
        return {"kind": "literal", "repr": text}
    if isinstance(value, (types.GeneratorType, map, filter, zip, itertools.chain)) or (
        hasattr(value, "__next__") and hasattr(value, "__iter__") and not isinstance(value, io.IOBase)
    ):
        try:
            items = list(itertools.islice(value, 101))
        except CallTimeout:
            raise
        except Exception as exc:
            return exception(exc, exc.__traceback__, module_file, "iteration")
        text = literal(items) if len(items) <= 100 else None
        if text is not None:
            return {"kind": "iter", "repr": text}
        return {"kind": "opaque"}
    cls = type(value)
    shown = []
    if cls.__str__ is not object.__str__ and cls.__str__ is not cls.__repr__:
        shown.append(("str", str))
    if cls.__repr__ is not object.__repr__:
        shown.append(("repr", repr))
    for via, show in shown:
        try:
            text = show(value)
        except Exception:
            continue
        if text and not ADDRESS.search(text) and len(text) <= MAX_REPR:
            return {"kind": "text", "via": via, "text": text, "type": type_name(cls), "state": state(value)}
    return {"kind": "type", "type": type_name(cls), "state": state(value)}


def run_candidate(candidate, namespace, module_file, seconds):
    local = dict(namespace)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        if candidate.get("setup"):
            try:
                exec(candidate["setup"], local)
            except CallTimeout:
                return {"kind": "timeout"}
            except Exception:
                return {"kind": "setup-error"}
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                if candidate.get("statement"):
                    exec(candidate["expr"], local)
                    return {"kind": "done"}
                value = eval(candidate["expr"], local)
                shown: "dict[str, object]" = dict(classify(value, module_file))
                if value is None and candidate.get("after"):  # a call for its effect: what did it change?
                    shown["after"] = after(candidate["after"], local, module_file)
                return shown
        except CallTimeout:
            return {"kind": "timeout"}
        except RecursionError:
            return {"kind": "opaque"}
        except Exception as exc:
            raised = exception(exc, exc.__traceback__, module_file, "call")
            if candidate.get("after"):
                raised["after"] = after(candidate["after"], local, module_file)
            return raised
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def after(expr, local, module_file):
    """What `expr` (the object a call was made on) is after a call that raised or returned None, when a test can
    check it: its value, its `str()`, or its public properties."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            shown = classify(eval(expr, local), module_file)
    except CallTimeout:
        raise
    except Exception:
        return None
    if shown["kind"] == "literal" or (shown["kind"] == "text" and shown["via"] == "str"):
        shown.pop("state", None)
        return dict(shown, expr=expr)
    if shown.get("state"):
        return {"kind": "state", "state": shown["state"], "expr": expr}
    return None


def run_doctest(module, qualname, seconds):
    target = module
    for part in qualname.split(".") if qualname else []:
        target = getattr(target, part, None)
    if target is None:
        return {"kind": "doctest", "attempted": 0, "failed": 0}
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        for test in finder.find(target, qualname or module.__name__, module=module, globs=dict(vars(module))):
            with contextlib.redirect_stdout(io.StringIO()):
                runner.run(test, out=lambda _text: None)
    except CallTimeout:
        return {"kind": "timeout"}
    except Exception as exc:
        return {"kind": "doctest", "attempted": runner.tries, "failed": runner.failures + 1, "error": repr(exc)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"kind": "doctest", "attempted": runner.tries, "failed": runner.failures}


def main():
    with open(sys.argv[1], encoding="utf-8") as source:
        job = json.load(source)
    for entry in reversed(job.get("sys_path", [])):
        sys.path.insert(0, entry)
    module_file = os.path.realpath(job["file"])
    signal.signal(signal.SIGALRM, _alarm)
    cov = coverage.Coverage(branch=True, include=[module_file], data_file=None, config_file=False)
    cov.start()
    cov.switch_context("import")
    try:
        module = importlib.import_module(job["module"])
    except BaseException as exc:
        cov.stop()
        with open(sys.argv[2], "w", encoding="utf-8") as sink:
            json.dump({"import_error": "".join(traceback.format_exception_only(type(exc), exc)).strip()}, sink)
        return 0
    namespace = {job["alias"]: module, "__builtins__": __builtins__}
    outcomes = {}
    for candidate in job["candidates"]:
        cov.switch_context(candidate["id"])
        if "doctest" in candidate:
            outcomes[candidate["id"]] = run_doctest(module, candidate["doctest"], job["seconds"])
        else:
            outcomes[candidate["id"]] = run_candidate(candidate, namespace, module_file, job["seconds"])
    cov.stop()
    data = cov.get_data()
    measured = [name for name in data.measured_files() if os.path.realpath(name) == module_file]
    statements = []
    if measured:
        statements = sorted(cov.analysis2(measured[0])[1])
    results = []
    for context in ["import", *outcomes]:
        lines, arcs = [], []
        if measured:
            data.set_query_contexts(["^" + re.escape(context) + "$"])
            lines = sorted(data.lines(measured[0]) or [])
            arcs = sorted(data.arcs(measured[0]) or [])
        results.append({"id": context, "outcome": outcomes.get(context), "lines": lines, "arcs": arcs})
    with open(sys.argv[2], "w", encoding="utf-8") as sink:
        json.dump({"file": module_file, "statements": statements, "results": results}, sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
