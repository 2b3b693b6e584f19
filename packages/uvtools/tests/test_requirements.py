from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st
from packaging.requirements import InvalidRequirement as RefusedByPackaging, Requirement

from codegen_lab.uvtools._requirements import InvalidRequirement, parse_requirement

names = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,10}[A-Za-z0-9]", fullmatch=True)
versions = st.from_regex(
    r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}((a|b|rc)[0-9]{0,2})?(\.post[0-9]?)?(\.dev[0-9]?)?(\.\*)?", fullmatch=True
)
operators = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~="])
spaces = st.sampled_from(["", " ", "  "])
urls = st.sampled_from(
    [
        "https://example.org/d-1.0-py3-none-any.whl",
        "git+https://github.com/o/r.git@7fc59da2c4dff919db2095a0f0e47101b657131d",
        "git+ssh://git@github.com/o/r",
        "https://user@example.org/x.tar.gz#sha256=00",
        "file:///tmp/x",
        "file:x",
        "https:///no-host",
        "x://",
        "not-a-url",
    ]
)
variables = st.sampled_from(["python_version", "sys_platform", "os_name", "platform_machine", "implementation_name"])


@st.composite
def requirements(draw: st.DrawFn) -> str:
    text = draw(names) + draw(spaces)
    if draw(st.booleans()):
        text += "[" + ",".join(draw(st.lists(names, min_size=1, max_size=2))) + "]"
    if draw(st.integers(0, 3)) == 0:  # a direct reference
        text += f"@{draw(spaces)}{draw(urls)}" + draw(st.sampled_from(["", " "]))
        return text + draw(markers(draw(spaces)))
    clauses = [
        f"{draw(operators)}{draw(spaces)}{draw(versions)}" for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    text += draw(spaces) + f"{draw(spaces)},{draw(spaces)}".join(clauses)
    return text + draw(markers(draw(spaces)))


@st.composite
def markers(draw: st.DrawFn, spacing: str) -> str:
    if not draw(st.booleans()):
        return ""
    quote = draw(st.sampled_from(["'", '"']))
    value = draw(st.from_regex(r"[A-Za-z0-9.]{1,6}", fullmatch=True))
    return (
        f"{spacing};{draw(spaces)}{draw(variables)}{draw(spaces)}{draw(operators)}{draw(spaces)}{quote}{value}{quote}"
    )


@given(requirements())
@example("idna>=3; python_version < '3.14'")
@example("a [x, y] >= 1.0 , <2")
@example("b==1.*")
@example("c (>=1)")
@example("d @ https://example.org/d.whl")
@example("opentelemetry-api >= 1.42.0.dev, < 2.0.0")
@example("opentelemetry-instrumentation == 0.66b0.dev")
@example("strict-no-cover @ git+https://github.com/o/strict-no-cover.git@7fc59da")
@example("f @ https://example.org/f.whl ; python_version < '3.13'")
@example("e>=1; python_version < '3.13' and sys_platform == 'linux'")
def test_the_fast_path_agrees_with_packaging(text: str) -> None:
    try:
        expected = Requirement(text)
    except RefusedByPackaging:
        with pytest.raises(InvalidRequirement):
            parse_requirement(text)
        return
    parsed = parse_requirement(text)
    assert parsed.name == expected.name
    assert parsed.specifier == str(expected.specifier)
    assert parsed.marker == (str(expected.marker) if expected.marker else None)


@pytest.mark.parametrize("text", ["a>=", "[x]", "a b", "a>=1;", "a>=1.*", "a~=1", "a==1.0a1.*"])
def test_invalid_requirements_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequirement):
        parse_requirement(text)
