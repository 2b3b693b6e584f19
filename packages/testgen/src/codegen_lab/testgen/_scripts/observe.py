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
import tempfile
import time
import traceback
import types
from unittest import mock

import coverage

ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{4,}|<[\w.]+ object>")
SAFE = (str, int, float, bytes, bool, type(None), list, tuple, dict, set, frozenset)
MAX_REPR = 400
MAX_STATE = 8
MAX_WATCHED = 2000


class CallTimeout(BaseException):
    """The call took longer than its share of time."""


class SideEffect(BaseException):
    """The call used the network, started a program or wrote outside its folders: stopped before it did."""


NETWORK = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "urllib.Request",
    }
)
PROGRAMS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.startfile"}
)
WRITES = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.mkdir",
        "os.rmdir",
        "os.chmod",
        "os.chown",
        "os.symlink",
        "os.link",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
    }
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Watch:
    """What the running candidate does, seen through audit hooks (PEP 578) rather than read from its source.

    The network, other programs and writes outside the working and temporary folders are stopped (the hook
    raises `SideEffect`) and recorded; writes inside those folders are recorded, so the test runs in `tmp_path`.
    """

    def __init__(self):
        self.active = False
        self.blocked = None
        self.writes = False
        self.folders = ()

    def start(self):
        self.folders = tuple(os.path.realpath(folder) for folder in (os.getcwd(), tempfile.gettempdir()))
        self.blocked, self.writes, self.active = None, False, True

    def stop(self):
        self.active = False

    def __call__(self, event, args):
        if not self.active:
            return
        if event in NETWORK:
            self._block("uses the network ({})".format(event))
        elif event in PROGRAMS:
            self._block("runs another program ({})".format(event))
        elif event == "open":
            path, mode, flags = [*list(args), None, None, None][:3]
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & WRITE_FLAGS)
            if writing and isinstance(path, (str, bytes, os.PathLike)):
                self._write(path)
        elif event in WRITES and args and isinstance(args[0], (str, bytes, os.PathLike)):
            self._write(args[0])

    def _write(self, path):
        try:
            where = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        if any(where == folder or where.startswith(folder + os.sep) for folder in self.folders):
            self.writes = True
            return
        self._block("writes outside its folder ({})".format(where))

    def _block(self, reason):
        if self.blocked is None:
            self.blocked = reason
        raise SideEffect(reason)


WATCH = Watch()


def _alarm(_signum, _frame):
    raise CallTimeout


def literal(value, depth=0, limit=MAX_REPR):
    """`repr(value)` when it reads back as an equal value of the same type and is at most `limit` long, else None."""
    if depth > 6 or type(value) not in SAFE:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        if any(literal(item, depth + 1, limit) is None for item in value):
            return None
    if isinstance(value, dict):
        if any(literal(part, depth + 1, limit) is None for pair in value.items() for part in pair):
            return None
    text = repr(value)
    if len(text) > limit:
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
        shown = repr(items) if len(items) <= 100 else ""
        if shown and not ADDRESS.search(shown) and len(shown) <= MAX_WATCHED:  # items that show themselves
            return {"kind": "text", "via": "repr", "text": shown, "type": type_name(type(value)), "iterated": True}
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


def watched(run, *args):
    """`run(*args)`, the outcome of a candidate, with what the audit hooks saw it do."""
    WATCH.start()
    try:
        outcome = run(*args)
    except SideEffect:
        outcome = {}
    finally:
        WATCH.stop()
    if WATCH.blocked is not None:
        return {"kind": "side-effect", "effect": WATCH.blocked}
    if WATCH.writes:
        outcome["writes"] = True
    return outcome


def run_candidate(candidate, namespace, module_file, seconds):
    local = dict(namespace)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        if candidate.get("setup"):
            try:
                exec(candidate["setup"], local)
            except CallTimeout:
                return {"kind": "timeout"}
            except (Exception, SystemExit):
                return {"kind": "setup-error"}
        watch = candidate.get("watch") or []
        subject = candidate.get("after") if not candidate.get("statement") else None
        before = {name: literal(local.get(name), limit=MAX_WATCHED) for name in watch}
        was = None
        try:
            was = after(subject, local, module_file) if subject else None
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                if candidate.get("statement"):
                    exec(candidate["expr"], local)
                    return {"kind": "done"}
                value = eval(candidate["expr"], local)
                shown: "dict[str, object]" = dict(classify(value, module_file))
                shown.update(effects(candidate, local, module_file, value is None, was, before))
                return shown
        except CallTimeout:
            return {"kind": "timeout"}
        except RecursionError:
            return {"kind": "opaque"}
        except (Exception, SystemExit) as exc:  # code that calls sys.exit (a CLI parser) raises, it does not end this
            raised = exception(exc, exc.__traceback__, module_file, "call")
            raised.update(effects(candidate, local, module_file, True, was, before))
            return raised
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def effects(candidate, local, module_file, for_effect, was, before):
    """What a call did beside its result: the state of the object it was made on, after a call for its effect
    (`for_effect`: it returned None or raised) or when it changed (`was`: its state before); the collaborators it
    was given (`before`: the values of the watched names before the call)."""
    found = {}
    subject = candidate.get("after")
    if subject and for_effect:
        found["after"] = after(subject, local, module_file)
    elif subject and not candidate.get("statement"):
        now = after(subject, local, module_file)
        if now is not None and now != was:
            found["changed"] = now
    if candidate.get("watch"):
        found["watched"] = watched_effects(candidate["watch"], local, before)
    return found


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


def watched_effects(names, local, before):
    """What the call did to the collaborators it was given: `[{"expr": "stream.getvalue()", "repr": "'a'"}]`.

    A file's whole contents, a double's calls (`[mock.call.write('a')]`) when their arguments read back, else how
    many there were; a list, dict or set the call changed in place (`before`: their values before the call)."""
    found = []
    for name in names:
        item = local.get(name)
        if isinstance(item, mock.NonCallableMock):
            calls = item.mock_calls
            text = calls_literal(calls)
            if text is not None:
                found.append({"expr": name + ".mock_calls", "repr": text})
            else:
                found.append({"expr": "len({}.mock_calls)".format(name), "repr": str(len(calls))})
        elif isinstance(item, (io.StringIO, io.BytesIO)):
            try:
                contents = item.getvalue()
            except ValueError:  # closed by the call
                continue
            text = literal(contents, limit=MAX_WATCHED)
            if text is None:
                found.append({"expr": "len({}.getvalue())".format(name), "repr": str(len(contents))})
            else:
                found.append({"expr": name + ".getvalue()", "repr": text})
        else:
            text = literal(item, limit=MAX_WATCHED)
            if text is not None and text != before.get(name):
                found.append({"expr": name, "repr": text})
    return found


def calls_literal(calls):
    """`[mock.call.write('a'), mock.call()]` for a double's calls when it reads back as equal calls, else None."""
    shown = []
    for call in calls:
        name, args, kwargs = call
        parts = [literal(arg, limit=MAX_WATCHED) for arg in args]
        for key, value in kwargs.items():
            text = literal(value, limit=MAX_WATCHED)
            parts.append(None if text is None else "{}={}".format(key, text))
        if any(part is None for part in parts):
            return None
        path = name.replace(".()", "()")
        head = "mock.call" + ("" if not path or path.startswith("(") else ".") + path
        shown.append("{}({})".format(head, ", ".join(str(part) for part in parts)))
    text = "[" + ", ".join(shown) + "]"
    if len(text) > MAX_WATCHED:
        return None
    try:
        back = eval(text, {"mock": mock})  # made above of literals and names
    except Exception:
        return None
    return text if back == calls else None


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
    except (Exception, SystemExit) as exc:
        return {"kind": "doctest", "attempted": runner.tries, "failed": runner.failures + 1, "error": repr(exc)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"kind": "doctest", "attempted": runner.tries, "failed": runner.failures}


def possible_branches(cov, name):
    """The arcs out of the module's branch lines, as coverage.py counts them; None when this version hides them."""
    try:
        analysis = cov._analyze(name)
        return sorted(arc for arc in analysis.arc_possibilities if analysis.exit_counts.get(arc[0], 0) > 1)
    except Exception:
        return None


def elsewhere(folder):
    """HOME, the temporary folder and the working directory moved to fresh folders under `folder`.

    A result that depends on where they are differs from the other run's, and is not checked.
    """
    for name in ("home", "tmp", "cwd"):
        os.makedirs(os.path.join(folder, name), exist_ok=True)
    os.environ["HOME"] = os.path.join(folder, "home")
    os.environ["TMPDIR"] = os.path.join(folder, "tmp")
    tempfile.tempdir = None
    os.chdir(os.path.join(folder, "cwd"))


def run_all(job, module, module_file, cov):
    """Each candidate's outcome and seconds, under its own coverage context, until the job's time is up."""
    namespace = {job["alias"]: module, "__builtins__": __builtins__}
    for name, path in job.get("imports", {}).items():  # modules the inputs use (`datetime.date(...)`)
        importlib.import_module(path)
        root = name.split(".")[0]  # `pygments.token.Keyword` needs `pygments`, with its `token` imported
        namespace[root] = importlib.import_module(path if root == name else root)
    state = {}
    if job.get("state_helper"):  # the module's functions change its globals: each candidate starts from the import's
        exec(job["state_helper"], state)
        saved = state["_module_state"](module)
    outcomes, seconds = {}, {}
    stop_at = time.monotonic() + job["stop_after"] if job.get("stop_after") else None
    for candidate in job["candidates"]:
        if stop_at is not None and time.monotonic() > stop_at:
            break  # out of time: report what ran (the rest is left out, not lost with the run)
        cov.switch_context(candidate["id"])
        begun = time.perf_counter()
        if "doctest" in candidate:
            outcomes[candidate["id"]] = watched(run_doctest, module, candidate["doctest"], job["seconds"])
        else:
            outcomes[candidate["id"]] = watched(run_candidate, candidate, namespace, module_file, job["seconds"])
        seconds[candidate["id"]] = round(time.perf_counter() - begun, 4)
        if state:
            state["_restore_module_state"](module, saved)
    return outcomes, seconds


MAX_FITTING = 8
MAX_SCANNED = 20000
FITTING_SECONDS = 2.0


def package_objects(job):
    """The plain objects at the top level of the target package's loaded modules, those made there first.

    Each as (whether its module defines its type, the object, its expression).
    """
    top = job["module"].split(".")[0]
    seen = []
    for name in sorted(sys.modules):
        loaded = sys.modules.get(name)
        if (name != top and not name.startswith(top + ".")) or getattr(loaded, "__name__", None) != name:
            continue
        try:
            items = list(vars(loaded).items())
        except TypeError:
            continue
        prefix = job["alias"] if name == job["module"] else name
        for attribute, value in items:
            if len(seen) >= MAX_SCANNED:
                break
            if (
                not attribute.startswith("_")
                and not isinstance(value, (type, types.ModuleType))
                and not callable(value)
            ):
                seen.append((type(value).__module__ == name, value, prefix + "." + attribute))
    seen.sort(key=lambda entry: not entry[0])  # named where it is made (`pygments.token`), not where imported
    return seen


def fitting(job):
    """Objects at the top level of the target package's loaded modules that have the attributes a parameter is
    read with (`ttype.parent`: `pygments.token.Keyword`), by the attribute names joined with commas.

    Each is named by where it lives (`pygments.token.Keyword`, or the alias's name for the target's own), so that
    a test imports that module and names it there.
    """
    wanted = {",".join(names): names for names in job.get("wanted") or []}
    found = {key: [] for key in wanted}
    if not found:
        return found
    seen = package_objects(job)
    signal.setitimer(signal.ITIMER_REAL, FITTING_SECONDS)  # an attribute's code may hang: what fits in time
    try:
        for _, value, expr in seen:
            for key, names in wanted.items():
                if len(found[key]) >= MAX_FITTING or any(value is other for other, _ in found[key]):
                    continue
                try:
                    fits = all(hasattr(value, each) for each in names)
                except CallTimeout:
                    raise
                except BaseException:  # an attribute that raises, whatever it raises: no fit
                    fits = False
                if fits:
                    found[key].append((value, expr))
    except CallTimeout:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {key: [expr for _, expr in pairs] for key, pairs in found.items()}


def main():
    with open(sys.argv[1], encoding="utf-8") as source:
        job = json.load(source)
    answer = os.path.abspath(sys.argv[2])
    if job.get("elsewhere"):
        elsewhere(job["elsewhere"])
    sys.addaudithook(WATCH)
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
        with open(answer, "w", encoding="utf-8") as sink:
            json.dump({"import_error": "".join(traceback.format_exception_only(type(exc), exc)).strip()}, sink)
        return 0
    outcomes, seconds = run_all(job, module, module_file, cov)
    cov.stop()
    data = cov.get_data()
    measured = [name for name in data.measured_files() if os.path.realpath(name) == module_file]
    statements, branch_arcs = [], None
    if measured:
        statements = sorted(cov.analysis2(measured[0])[1])
        branch_arcs = possible_branches(cov, measured[0])
    results = []
    for context in ["import", *outcomes]:
        lines, arcs = [], []
        if measured:
            data.set_query_contexts(["^" + re.escape(context) + "$"])
            lines = sorted(data.lines(measured[0]) or [])
            arcs = sorted(data.arcs(measured[0]) or [])
        results.append(
            {
                "id": context,
                "outcome": outcomes.get(context),
                "lines": lines,
                "arcs": arcs,
                "seconds": seconds.get(context, 0.0),
            }
        )
    with open(answer, "w", encoding="utf-8") as sink:
        json.dump(
            {
                "file": module_file,
                "statements": statements,
                "branch_arcs": branch_arcs,
                "results": results,
                "fitting": fitting(job),
            },
            sink,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
