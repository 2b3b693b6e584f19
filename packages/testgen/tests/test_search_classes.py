"""The kinds of code plain typed inputs do not reach: module state, types checked with `isinstance`, `sys.exit`."""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path
from random import Random
from typing import Any
from unittest import mock

import pytest

from codegen_lab.testgen import GenerationReport, generate, run_tests
from codegen_lab.testgen._analysis import analyze_source
from codegen_lab.testgen._generate import avoided
from codegen_lab.testgen._harvest import realistic
from codegen_lab.testgen._inputs import Candidate, candidates_for, standard_imports
from codegen_lab.testgen._render import STATE_HELPER
from codegen_lab.testgen._strategies import repeated

PYTHON = sys.executable

LEDGER = '''\
"""Rates registered by name, dates moved by days, and a command line."""

import sys
from datetime import date, timedelta

_RATES = {}


def register(name, rate):
    """Register the currency `name` at `rate`."""
    if name in _RATES:
        raise ValueError(f"{name} is registered already")
    _RATES[name] = rate


def convert(amount, name):
    """`amount` in the currency `name`."""
    if name not in _RATES:
        raise KeyError(name)
    return amount * _RATES[name]


def registered():
    return sorted(_RATES)


def shift(when, days=1):
    """`when` moved by `days`."""
    if isinstance(when, date):
        return (when + timedelta(days=days)).isoformat()
    if isinstance(when, timedelta):
        return when.days + days
    raise TypeError("a date or a timedelta")


def write_title(out, title):
    """Write `title` to the text file `out`, underlined."""
    out.write(title + "\\n")
    out.write("=" * len(title) + "\\n")


class Printer:
    def __init__(self, sink):
        self.sink = sink

    def heading(self, text):
        self.sink.emit("# " + text.upper())


def main(argv):
    if not argv:
        sys.exit("usage: ledger NAME RATE")
    register(argv[0], float(argv[1]))
    return 0
'''


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("ledger")
    root.chmod(0o755)  # pytest makes its folders 0700; the sandbox's uid must be able to read the project
    (root / "ledger.py").write_text(LEDGER, encoding="utf-8")
    return root, generate("ledger.py", root=root, python=PYTHON, out="tests", budget=40, min_run_seconds=40)


def _test_bodies(code: str) -> dict[str, str]:
    tree = ast.parse(code)
    return {node.name: ast.unparse(node) for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.slow
def test_a_change_of_module_state_is_followed_by_a_read_and_undone_after_each_test(
    ledger: tuple[Path, GenerationReport],
) -> None:
    root, report = ledger
    bodies = _test_bodies(report.code)
    assert any("ledger.register(" in body and "ledger.convert(" in body for body in bodies.values())
    assert "def _module_state_restored" in report.code  # the autouse fixture that puts the registry back
    names = [name for name in bodies if name.startswith("test_")]
    # Each test passes whatever ran before it: in the written order, and reversed.
    forward = run_tests(["tests"], root=root, python=PYTHON)
    backward = run_tests(
        [f"tests/test_ledger_generated.py::{name}" for name in reversed(names)], root=root, python=PYTHON
    )
    for run in (forward, backward):
        assert run.failed == 0, [test.message for test in run.tests if test.outcome != "passed"]
        assert run.passed == len(names)


@pytest.mark.slow
def test_a_type_the_code_checks_with_isinstance_is_given_and_imported(ledger: tuple[Path, GenerationReport]) -> None:
    _, report = ledger
    bodies = _test_bodies(report.code)
    assert "import datetime" in report.code
    assert any("ledger.shift(datetime.date(" in body for body in bodies.values())
    assert any("ledger.shift(datetime.timedelta(" in body for body in bodies.values())


@pytest.mark.slow
def test_a_call_for_its_effect_is_checked_by_what_it_wrote_to_a_file_and_the_calls_it_made_on_a_double(
    ledger: tuple[Path, GenerationReport],
) -> None:
    _, report = ledger
    bodies = list(_test_bodies(report.code).values())
    assert any("out = io.StringIO()" in body and "assert out.getvalue() == " in body for body in bodies), bodies
    assert any(
        "double = mock.MagicMock()" in body and "assert double.mock_calls == [mock.call.emit('# " in body
        for body in bodies
    ), bodies


@pytest.mark.slow
def test_sys_exit_in_the_code_is_behaviour_a_test_expects(ledger: tuple[Path, GenerationReport]) -> None:
    _, report = ledger
    assert any(
        "pytest.raises(SystemExit" in body and "ledger.main(" in body for body in _test_bodies(report.code).values()
    )


def test_the_functions_that_change_module_state_and_those_that_read_it_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "ledger.py").write_text(LEDGER, encoding="utf-8")
    info = analyze_source(tmp_path / "ledger.py")
    functions = {function.name: function for function in info.functions}
    assert functions["register"].writes_state == ["_RATES"]
    assert functions["convert"].writes_state == []
    assert functions["convert"].reads_state == functions["registered"].reads_state == ["_RATES"]
    assert functions["shift"].checked == {"when": ["date", "timedelta"]}
    assert info.has_state


def test_standard_modules_named_by_inputs_are_imported_but_never_over_the_module_itself() -> None:
    assert standard_imports("ledger", "ledger.shift(datetime.date(2024, 2, 29))", None) == ["datetime"]
    assert standard_imports("re", "re.compile('x')", "decimal.Decimal('1')") == ["decimal"]


def test_a_compound_parameter_name_gets_the_real_looking_input_of_its_word() -> None:
    assert realistic("datestring") == realistic("date_str") == realistic("date")
    assert set(realistic("url")) <= set(realistic("url_text"))
    assert realistic("status") == []


CLIENT = '''\
CODES = {"AccessDenied": PermissionError, "NoSuchKey": FileNotFoundError}


def translate(error, message=None):
    """The exception for a client error (`error.response['Error']['Code']`)."""
    code = error.response["Error"].get("Code")
    constructor = CODES.get(code)
    if constructor is None:
        return OSError(message or str(error))
    return constructor(message or error.response["Error"].get("Message", ""))
'''


def test_a_parameter_read_by_attributes_and_keys_gets_objects_of_that_shape_with_the_modules_strings(
    tmp_path: Path,
) -> None:
    (tmp_path / "client.py").write_text(CLIENT, encoding="utf-8")
    info = analyze_source(tmp_path / "client.py")
    (translate,) = info.functions
    assert translate.shapes == {"error": {".response": {"[Error": {"[Code": {}, "[Message": {}}}}}
    made = candidates_for(translate, info, "client", count=4, rng=Random(0), prefix="c")  # noqa: S311 (inputs)
    calls = [candidate.expr for candidate in made]
    assert calls[0].startswith("client.translate(types.SimpleNamespace(response={'Error': {")
    assert "'Code': " in calls[0]
    assert any("'Code': 'AccessDenied'" in call or "'Code': 'NoSuchKey'" in call for call in calls)


OPTIONS = """\
def get_bool_opt(options, name, default=None):
    return bool(options.get(name, default))


class Formatter:
    def __init__(self, style="plain", **options):
        self.style = style
        self.linenos = get_bool_opt(options, "linenos", False)
        self.width = options.get("width", 80)
        self.mode = options.pop("mode", self.style)
        if "title" in options:
            self.title = options["title"]
        self.other = options.get("style")  # bound to `style` whatever the caller does: not a key to pass
"""


def test_the_keys_a_body_reads_from_its_kwargs_are_passed_by_name_with_values_of_their_defaults_types(
    tmp_path: Path,
) -> None:
    (tmp_path / "fmt.py").write_text(OPTIONS, encoding="utf-8")
    info = analyze_source(tmp_path / "fmt.py")
    (formatter,) = info.classes
    assert formatter.init is not None
    keywords = {parameter.name: (parameter.annotation, parameter.default) for parameter in formatter.init.keywords}
    # `get_bool_opt` names its type; `self.style` is no value to type `mode` by.
    assert keywords == {
        "linenos": ("bool", "False"),
        "width": (None, "80"),
        "mode": (None, None),
        "title": (None, None),
    }
    made = candidates_for(formatter.init, info, "fmt", count=12, rng=Random(1), prefix="f")  # noqa: S311 (inputs)
    calls = [candidate.expr for candidate in made]
    assert calls[0] == "fmt.Formatter()"  # the first call is the plainest: no option
    assert any("linenos=True" in call for call in calls)
    assert any(re.search(r"width=-?\d", call) for call in calls)
    assert all(compile(call, "<call>", "eval") for call in calls)


TOKENS = """\
class Kind:
    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent


ROOT = Kind("root")
WORD = Kind("word", ROOT)
NUMBER = Kind("number", ROOT)
KEYWORD = Kind("keyword", WORD)  # no colour of its own: painted as its parent
"""
STYLE = """\
from tokens.kinds import NUMBER, ROOT, WORD

COLOURS = {ROOT: "black", WORD: "blue", NUMBER: "red"}
"""
PAINT = """\
from tokens.style import COLOURS


def paint(tokensource):
    \"\"\"The text of `tokensource`, (kind, text) pairs, each part marked with its kind's colour.\"\"\"
    parts = []
    for kind, text in tokensource:
        while kind not in COLOURS and kind.parent:
            kind = kind.parent
        colour = COLOURS[kind]
        if colour == "blue":
            parts.append("<b>" + text + "</b>")
        elif colour == "red":
            parts.append("<r>" + text + "</r>")
        else:
            parts.append(text)
    return "".join(parts)
"""


def test_standard_and_package_modules_an_input_names_are_imported_by_their_longest_names() -> None:
    found = standard_imports("paint", "paint.paint([(tokens.kinds.WORD, io.StringIO())])", package="tokens")
    assert found == ["io", "tokens.kinds"]
    assert standard_imports("paint", "tokens.kinds.WORD") == []  # no package: the standard modules alone


@pytest.mark.slow
def test_objects_of_the_package_with_the_attributes_a_parameter_is_read_with_are_its_inputs(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    package = tmp_path / "tokens"
    package.mkdir()
    package.chmod(0o755)
    for name, source in (("__init__", ""), ("kinds", TOKENS), ("style", STYLE), ("paint", PAINT)):
        (package / f"{name}.py").write_text(source, encoding="utf-8")
    report = generate("tokens.paint", root=tmp_path, python=PYTHON, out="tests", budget=30, min_run_seconds=30)
    # A made-up `types.SimpleNamespace(parent=...)` is no key of COLOURS: the package's own kinds are, named where
    # they are made (not where `style` imported them), and imported.
    assert "import tokens.kinds" in report.code
    assert re.search(r"tokens\.kinds\.(WORD|NUMBER|ROOT)", report.code)
    assert "tokens.style." not in report.code
    assert report.line_percent == 100.0
    run = run_tests(["tests"], root=tmp_path, python=PYTHON)
    assert run.failed == 0
    assert run.passed == len(report.tests)


def test_an_underscored_method_nothing_in_the_module_calls_is_a_hook_a_test_calls(tmp_path: Path) -> None:
    (tmp_path / "codec.py").write_text(
        "import codecs\n\n\n"
        "class Encoder(codecs.BufferedIncrementalEncoder):\n"
        "    def _buffer_encode(self, data, errors, final):\n"
        "        return self._upper(data), len(data)\n\n"
        "    def _upper(self, data):\n"
        "        return data.upper().encode()\n",
        encoding="utf-8",
    )
    (encoder,) = analyze_source(tmp_path / "codec.py").classes
    assert [method.name for method in encoder.methods] == ["_buffer_encode"]  # `_upper` is the module's own helper


PARSER = """\
class Parser(object):
    _CACHE = {}
    _MAX = 3
    _TABLE = {"+": "plus", "-": "minus"}

    def __init__(self, lookahead=2):
        self.lookahead = lookahead

    def parse(self, text):
        cached = self._CACHE.get(text)
        if cached is not None:
            return cached
        self._tokens = text.split()
        self._index = 0
        parsed = [getattr(self, "_token_" + self._TABLE.get(token, "word"))(token) for token in self._tokens]
        self._CACHE[text] = parsed
        if len(self._CACHE) > self._MAX:
            self.purge()
        return parsed

    def current(self):
        return self._tokens[self._index]

    def _token_plus(self, token):
        return ("op", token)

    def _token_word(self, token):
        return ("word", token)

    @classmethod
    def purge(cls):
        cls._CACHE.clear()


class Counter:
    made = 0
    names = []

    def __init__(self, name):
        self.names = [name]  # its own list: the class's is never changed
        Counter.made += 1
"""


def test_a_cache_every_object_of_a_class_shares_is_module_state_and_its_own_methods_are_no_hooks(
    tmp_path: Path,
) -> None:
    (tmp_path / "parsing.py").write_text(PARSER, encoding="utf-8")
    info = analyze_source(tmp_path / "parsing.py")
    assert info.class_state == ["Parser._CACHE", "Counter.made"]
    assert info.has_state  # the tests restore the cache: a text an earlier test parsed is no longer cached
    parser = next(cls for cls in info.classes if cls.name == "Parser")
    # `object` calls no `_token_*` method: they are the class's own helpers (reached through `getattr`), not hooks.
    assert [method.name for method in parser.methods] == ["parse", "current", "purge"]


def test_the_state_helper_puts_back_what_calls_changed_in_a_classs_attributes() -> None:
    module = types.ModuleType("parsing")
    exec(PARSER, vars(module))  # noqa: S102 (the module under test, written above)
    helpers: dict[str, Any] = {}
    exec(STATE_HELPER, helpers)  # noqa: S102 (the helper the generated tests hold)
    saved = helpers["_module_state"](module)
    parser = module.Parser()
    parser.parse("a + b")
    module.Counter("x")
    module.Parser.extra = 1
    module.Parser._TABLE = {}
    assert module.Parser._CACHE
    assert module.Counter.made == 1
    helpers["_restore_module_state"](module, saved)
    assert module.Parser._CACHE == {}
    assert module.Counter.made == 0
    assert module.Parser._TABLE == {"+": "plus", "-": "minus"}
    assert not hasattr(module.Parser, "extra")
    parser.parse("a + b")  # the cache is empty again: the text is parsed, and its tokens set
    assert parser.current() == "a"


@pytest.mark.slow
def test_tests_of_a_class_with_a_shared_cache_pass_in_any_order(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "parsing.py").write_text(PARSER, encoding="utf-8")
    report = generate("parsing.py", root=tmp_path, python=PYTHON, out="tests", budget=30, min_run_seconds=30)
    assert "def _module_state_restored" in report.code
    names = [name for name in _test_bodies(report.code) if name.startswith("test_")]
    assert names
    for order in (names, names[::-1], names[1::2] + names[::2]):
        run = run_tests([f"tests/test_parsing_generated.py::{name}" for name in order], root=tmp_path, python=PYTHON)
        assert run.failed == 0, [test.message for test in run.tests if test.outcome != "passed"]
        assert run.passed == len(names)


WRITER = """\
class Base:
    def __init__(self, doc, width=2):
        self.doc = doc
        self.width = width


class Style(Base):
    def __init__(self, doc, width=2):
        Base.__init__(self, doc, width)

    def bold(self, text):
        self.doc.write(f"**{text}**")
        self.doc.push_write("")


def render(outfile, text):
    outfile.write(text)
    outfile.flush()
"""


def test_a_parameter_whose_methods_are_called_gets_a_double_or_a_text_file(tmp_path: Path) -> None:
    (tmp_path / "writer.py").write_text(WRITER, encoding="utf-8")
    info = analyze_source(tmp_path / "writer.py")
    style = next(cls for cls in info.classes if cls.name == "Style")
    assert style.init is not None
    assert style.init.shapes == {"doc": {"(write": {}, "(push_write": {}}}  # through `self.doc`, set by its base
    (render,) = info.functions
    calls = [candidate.expr for candidate in candidates_for(render, info, "writer", count=3, rng=Random(0), prefix="r")]  # noqa: S311
    assert calls[0].startswith("writer.render(io.StringIO(")
    made = candidates_for(style.init, info, "writer", count=1, rng=Random(0), prefix="s")  # noqa: S311
    assert made[0].expr.startswith("writer.Style(mock.MagicMock()")
    assert standard_imports("writer", made[0].expr) == ["mock"]


def test_a_function_that_rebinds_a_global_is_called_since_each_test_restores_the_module(tmp_path: Path) -> None:
    (tmp_path / "counter.py").write_text(
        "COUNT = 0\n\n\ndef bump():\n    global COUNT\n    COUNT += 1\n    return COUNT\n", encoding="utf-8"
    )
    info = analyze_source(tmp_path / "counter.py")
    (bump,) = info.functions
    assert "mutates-globals" in bump.effects
    assert bump.writes_state == ["COUNT"]
    assert avoided(bump) is None


BATCH = """\
class Batch:
    def __init__(self, client, size=25):
        self._client = client
        self._buffer = []
        self._size = size

    def add(self, item):
        self._buffer.append(item)
        if len(self._buffer) >= self._size:
            self.flush()

    def flush(self):
        self._client.send(self._buffer[: self._size])
        self._buffer = self._buffer[self._size :]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        while self._buffer:
            self.flush()
"""


def test_a_method_call_is_repeated_past_the_classs_threshold_in_a_with_block_and_the_double_is_checked(
    tmp_path: Path,
) -> None:
    (tmp_path / "batch.py").write_text(BATCH, encoding="utf-8")
    info = analyze_source(tmp_path / "batch.py")
    (batch,) = info.classes
    assert batch.context_manager
    kept = Candidate("k0", "Batch.add", "batch.add(1)", "batch = batch_.Batch(mock.MagicMock())")
    ids = iter(range(100))
    (made,) = repeated([kept], info, "batch_", Random(0), lambda: f"r{next(ids)}")  # noqa: S311 (inputs)
    assert made.setup == (
        "double = mock.MagicMock()\nbatch = batch_.Batch(double)\nwith batch:\n    for _ in range(26):\n"
        "        batch.add(1)"
    )
    assert made.expr == "len(double.mock_calls)"
    namespace: dict[str, object] = {"mock": mock, "batch_": _module(tmp_path / "batch.py")}
    exec(made.setup, namespace)  # noqa: S102 (the generated test's own lines)
    assert eval(made.expr, namespace) == 2  # noqa: S307 (25 sent when the buffer filled, 1 when the block ended)


def _module(path: Path) -> object:
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return type("Module", (), namespace)


def test_a_parameter_whose_items_a_loop_unpacks_gets_a_list_of_tuples_shaped_to_fit(tmp_path: Path) -> None:
    (tmp_path / "tokens.py").write_text(
        "def render(tokens, out):\n    for kind, text in tokens:\n        out.write(kind.name + ':' + text.upper())\n",
        encoding="utf-8",
    )
    info = analyze_source(tmp_path / "tokens.py")
    (render,) = info.functions
    assert render.shapes["tokens"] == {"*2": {"#0": {".name": {}}, "#1": {"(upper": {}}}}
    (first,) = candidates_for(render, info, "tokens", count=1, rng=Random(0), prefix="t")  # noqa: S311 (inputs)
    tokens = ast.parse(first.expr, mode="eval").body
    assert isinstance(tokens, ast.Call)
    items = tokens.args[0]
    assert isinstance(items, ast.List)
    assert len(items.elts) == 3
    for item in items.elts:  # `(types.SimpleNamespace(name='...'), '...')`: a kind with a name, a text
        assert isinstance(item, ast.Tuple)
        assert ast.unparse(item.elts[0]).startswith("types.SimpleNamespace(name=")
        assert isinstance(item.elts[1], ast.Constant)
        assert isinstance(item.elts[1].value, str)


ERRORS = '''\
class LineError(Exception):
    """An error at a line of a file."""

    def __init__(self, message, lineno):
        super().__init__(message)
        self.lineno = lineno

    def __str__(self):
        return f"{self.args[0]} (line {self.lineno})"

    def __reduce__(self):
        return self.__class__, (self.args[0], self.lineno)
'''


def test_the_copy_protocol_of_a_class_is_called_through_copy_copy_which_imports_copy(tmp_path: Path) -> None:
    (tmp_path / "errors.py").write_text(ERRORS, encoding="utf-8")
    info = analyze_source(tmp_path / "errors.py")
    (error,) = info.classes
    (reduce,) = (method for method in error.methods if method.name == "__reduce__")
    made = candidates_for(reduce, info, "errors", count=2, rng=Random(0), prefix="c")  # noqa: S311 (inputs)
    assert [candidate.expr for candidate in made] == ["copy.copy(line_error)"]
    assert made[0].setup is not None
    assert made[0].setup.startswith("line_error = errors.LineError(")
    assert standard_imports("errors", made[0].setup, made[0].expr) == ["copy"]


@pytest.mark.slow
def test_a_class_whose_reduce_nothing_calls_gets_a_test_that_copies_an_object(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # the sandbox's uid must be able to read the project
    (tmp_path / "errors.py").write_text(ERRORS, encoding="utf-8")
    report = generate("errors.py", root=tmp_path, python=PYTHON, out="tests", budget=40, min_run_seconds=40)
    reduce_line = ERRORS.splitlines().index("        return self.__class__, (self.args[0], self.lineno)") + 1
    assert reduce_line not in report.missing_lines
    assert "import copy\n" in report.code
    assert "copy.copy(line_error)" in report.code


REPORT = """\
class Report:
    def __init__(self, title):
        self.title = title
        self.source: str | None = None
        self.short = False
        self._cache = None

    def render(self):
        if self.short:
            return self.title
        if self.source is not None:
            return self.title + ": " + self.source.upper()
        return self.title + "."
"""


def test_state_the_constructor_sets_to_none_or_a_bool_is_set_before_a_method_that_reads_it(tmp_path: Path) -> None:
    (tmp_path / "report.py").write_text(REPORT, encoding="utf-8")
    info = analyze_source(tmp_path / "report.py")
    ((render,),) = [cls.methods for cls in info.classes]
    assert render.switches == {"source": ("str | None", None), "short": ("bool", False)}
    made = candidates_for(render, info, "report", count=8, rng=Random(0), prefix="c")  # noqa: S311 (inputs)
    setups = [candidate.setup or "" for candidate in made]
    assert "\n" not in setups[0]  # the first call takes the object as constructed
    assert any("\nreport_.short = True" in setup for setup in setups)
    assert not any("report_.short = False" in setup for setup in setups)  # what the constructor set already
    assert any(re.search(r"\nreport_\.source = '[^']+'", setup) for setup in setups)
