from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from codegen_lab.testgen import generate
from codegen_lab.testgen._analysis import analyze_source

PYTHON = sys.executable

EFFECTS = """
import random
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from time import monotonic as tick

COUNT = 0


def stamp():
    return time.time()


def today():
    return datetime.now().date()


def elapsed():
    return tick()


def pick(items):
    return random.choice(items)


def pick_seeded(items, seed):
    return random.Random(seed).choice(items)


def fetch(url):
    return urllib.request.urlopen(url).read()


def save(name, text):
    with open(name, "w") as sink:
        sink.write(text)
    return len(text)


def save_path(name):
    Path(name).write_text("x")


def load(name):
    with open(name) as source:
        return source.read()


def shout(text):
    print(text.upper())


def bump():
    global COUNT
    COUNT += 1
    return COUNT


def push(items, item):
    items.append(item)
    return len(items)


def fill(mapping):
    mapping["a"] = 1


def swap(text, version):
    return text.replace("a", "b") + str(version.replace(major=1))


def _clock():
    return time.monotonic()


def later():
    return _clock() + 1


class Counter:
    def __init__(self):
        self.seen = []

    def add(self, item):
        self.seen.append(item)
        return len(self.seen)

    def when(self):
        return later()
"""


def test_side_effects_are_read_from_the_source(tmp_path: Path) -> None:
    path = tmp_path / "effects.py"
    path.write_text(textwrap.dedent(EFFECTS), encoding="utf-8")
    info = analyze_source(path)
    found = {function.qualname: sorted(function.effects) for function in info.callables()}
    assert found == {
        "stamp": ["clock"],
        "today": ["clock"],
        "elapsed": ["clock"],  # through `from time import monotonic as tick`
        "pick": ["randomness"],
        "pick_seeded": [],  # seeded by its caller: deterministic
        "fetch": ["network"],
        "save": ["writes-files"],
        "save_path": ["writes-files"],
        "load": [],  # reading is not writing
        "shout": ["prints"],
        "bump": ["mutates-globals"],
        "push": ["mutates-arguments"],
        "fill": ["mutates-arguments"],
        "swap": [],  # a string's and a dataclass's replace, not a file's
        "later": ["clock"],  # through the module's own helper
        "Counter.add": [],  # a method changing its own object does what methods do
        "Counter.when": ["clock"],
    }


WORLD = """
import random
import time


def roll():
    return random.randint(1, 6)


def stamp(label):
    return f"{label}@{int(time.time())}"


def save(name, text):
    with open(name, "w") as sink:
        sink.write(text)
    return len(text)


def double(n):
    return n * 2
"""


@pytest.mark.slow
def test_no_test_depends_on_the_clock_or_randomness_and_file_writers_run_in_tmp_path(
    tmp_path: Path, user_pytest: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = tmp_path / "world"
    root.mkdir()
    root.chmod(0o755)
    (root / "world.py").write_text(textwrap.dedent(WORLD), encoding="utf-8")
    report = generate("world.py", root=root, python=PYTHON, out="tests", budget=60, min_run_seconds=120)
    assert {(item.function, item.reason) for item in report.avoided} == {
        ("roll", "draws random numbers without a seed parameter"),
        ("stamp", "reads the clock"),
    }
    assert {test.target for test in report.tests} == {"save", "double"}
    assert "world.roll" not in report.code
    assert "world.stamp" not in report.code
    save_tests = [test.name for test in report.tests if test.target == "save"]
    assert save_tests  # one, or two when a second returned a different length
    for save_test in save_tests:
        assert f"def {save_test}(tmp_path, monkeypatch):\n    monkeypatch.chdir(tmp_path)\n" in report.code
    # Run from the project: the file the test writes lands in pytest's temporary folder, not here.
    completed = user_pytest(root, "tests")
    assert completed.returncode == 0, completed.stdout
    assert sorted(path.name for path in root.iterdir() if path.is_file()) == ["world.py"]


DOCUMENTED = '''
"""Versions.

>>> v = Version(1, 2)
>>> v.bump()
Version(2, 2)
>>> str(parse("3.4"))
'3.4'
"""

import re


class Version:
    def __init__(self, major, minor):
        self.major, self.minor = major, minor

    def bump(self):
        return Version(self.major + 1, self.minor)


def parse(text):
    """Read a version.

    >>> parse("1.2").major
    1
    >>> for part in "1.2".split("."):
    ...     print(part)
    1
    2
    """
    major, minor = re.split(r"[.]", text)
    return Version(int(major), int(minor))
'''


def test_docstring_examples_become_calls_on_the_module_with_their_setup(tmp_path: Path) -> None:
    from codegen_lab.testgen._doctests import example_candidates

    path = tmp_path / "documented.py"
    path.write_text(DOCUMENTED, encoding="utf-8")
    info = analyze_source(path)
    found = example_candidates("", info, "documented", "d")
    assert found is not None
    assert [(c.target, c.setup, c.expr, c.group) for c in found] == [
        ("Version.bump", "v = documented.Version(1, 2)", "v.bump()", "<module>"),
        ("parse", None, "str(documented.parse('3.4'))", "<module>"),  # it does not use `v`
    ]
    assert example_candidates("parse", info, "documented", "d") is None  # a loop: stays a doctest
