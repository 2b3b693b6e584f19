from __future__ import annotations

import textwrap
from pathlib import Path

from codegen_lab.testgen._analysis import analyze_source
from codegen_lab.testgen._doctests import example_candidates

MODULE = '''
class Version:
    def __init__(self, major):
        self.major = major

    def bump(self):
        """The next major version.

        >>> ver = pkg.Version.parse("1")
        >>> ver.bump().major
        2
        >>> pkg.version.Version(3).bump().major
        4
        """
        return Version(self.major + 1)

    @classmethod
    def parse(cls, text):
        """Read it: `other` is no name of this module, so this docstring stays a doctest.

        >>> other.Version.parse("1").major
        1
        """
        return cls(int(text))
'''


def test_examples_that_reach_the_module_through_its_package_become_value_checks(tmp_path: Path) -> None:
    source = tmp_path / "version.py"
    source.write_text(textwrap.dedent(MODULE), encoding="utf-8")
    info = analyze_source(source)
    found = example_candidates("Version.bump", info, "version", "c", module="pkg.version")
    assert found is not None
    assert [(c.setup, c.expr, c.target) for c in found] == [
        ("ver = version.Version.parse('1')", "ver.bump().major", "Version.bump"),
        (None, "version.Version(3).bump().major", "Version.bump"),
    ]
    assert example_candidates("Version.parse", info, "version", "c", module="pkg.version") is None
