from __future__ import annotations

from hypothesis import given, settings, strategies as st
from wcmatch import glob

from codegen_lab.rule_engine import CompiledRules, glob_flags, scoped_pattern

SEGMENT = st.sampled_from(["src", "lib", "a", "b", "tests", ".hidden", "node", "web"])
NAME = st.sampled_from(["x.py", "y.ts", "z.tsx", "README.md", "Makefile", "a.test.ts", ".env", "w.d.ts", ".py", "py"])
PATH = st.builds(lambda folders, name: "/".join([*folders, name]), st.lists(SEGMENT, max_size=4), NAME)
PATTERN = st.sampled_from(
    [
        "**/*.py",
        "*.ts",
        "src/**",
        "src/*.py",
        "**/*.{ts,tsx}",
        "lib/**/*.test.ts",
        "*",
        "**/*",
        "README.md",
        "**/.env",
        "a/*/x.py",
        "!tests/**",
        "!**/*.d.ts",
        "*.[jt]s",
        "?.py",
        "b/",
        "**/*.*",
        "{src,lib}/**/*.py",
    ]
)
RULE = st.tuples(st.sampled_from(["", "a", "src/b"]), st.lists(PATTERN, min_size=1, max_size=4))


def naive(rules: list[tuple[str, list[str]]], path: str) -> dict[int, bool]:
    """What a plain loop over every pattern of every rule with the glob library says."""
    verdict: dict[int, bool] = {}
    for index, (scope, patterns) in enumerate(rules):
        positive = any(
            glob.globmatch(path, scoped_pattern(p, scope), flags=glob_flags()) for p in patterns if p[0] != "!"
        )
        negative = any(
            glob.globmatch(path, scoped_pattern(p[1:], scope), flags=glob_flags()) for p in patterns if p[0] == "!"
        )
        if positive and not negative:
            verdict[index] = True
    return verdict


@settings(max_examples=300)
@given(st.lists(RULE, min_size=1, max_size=8), st.lists(PATH, min_size=1, max_size=10))
def test_the_compiled_matcher_gives_the_naive_loops_answers(
    rules: list[tuple[str, list[str]]], paths: list[str]
) -> None:
    compiled = CompiledRules(rules)
    for path in paths:
        assert dict.fromkeys(compiled.attached(path), True) == naive(rules, path), path


def test_the_pattern_reported_is_one_the_rule_wrote() -> None:
    compiled = CompiledRules([("", ["docs/**", "**/*.{py,pyi}"])])
    assert compiled.attached("pkg/mod.pyi") == {0: "**/*.{py,pyi}"}
    assert {hit.pattern for hit in compiled.match("docs/x.py")} == {"**/*.{py,pyi}", "docs/**"}


def test_unbalanced_braces_do_not_break_the_matcher() -> None:
    compiled = CompiledRules([("", ["**/*.{ts", "src/}x"])])
    assert compiled.attached("a.ts") == {}
