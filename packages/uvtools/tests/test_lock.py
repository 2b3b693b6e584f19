from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from codegen_lab.uvtools import LockDependency, LockFileError, parse_lock, read_lock
from codegen_lab.uvtools._lock import Lock, _build, _fast_parse, _Unsupported, parse_lock_members, read_lock_members


def by_tomllib(text: str):
    return _build(tomllib.loads(text), "x")


def test_the_repository_lock_reads_as_tomllib_reads_it(repository_root: Path) -> None:
    text = (repository_root / "uv.lock").read_text(encoding="utf-8")
    lock = parse_lock(text)
    assert lock == by_tomllib(text)
    assert (lock.version, lock.revision) == (1, 5)
    assert "codegen-lab-uvtools" in lock.members
    (uvtools,) = lock.by_name("codegen-lab-uvtools")
    assert uvtools.source == "editable+packages/uvtools"
    assert {dep.name for dep in uvtools.dependencies} >= {"codegen-lab-common", "tomlkit", "uv"}
    assert "dev" in uvtools.dev_dependencies


def local_only(lock: Lock) -> tuple[object, ...]:
    """What `parse_lock_members` must give: the lock's fields with only its local packages."""
    packages = tuple(package for package in lock.packages if package.is_local)
    return (lock.version, lock.revision, lock.requires_python, lock.resolution_markers, lock.members, packages)


def fields(lock: Lock) -> tuple[object, ...]:
    return (lock.version, lock.revision, lock.requires_python, lock.resolution_markers, lock.members, lock.packages)


def test_the_members_of_real_locks_read_as_the_whole_lock_has_them(repository_root: Path, chain: Path) -> None:
    for path in (repository_root / "uv.lock", chain / "uv.lock"):
        whole = read_lock(path)
        members = read_lock_members(path)
        assert fields(members) == local_only(whole)
        assert set(members.member_names) == {package.name for package in members.packages} >= set(whole.members)
        assert len(members.packages) < len(whole.packages)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('source = { editable = "packages/b" }', 'source = {editable = "packages/b"}'),  # spelled unusually
        ('\nname = "anyio"\n', '\nname    =   "anyio"  # spaced\n'),  # a shape only tomllib reads
        (
            "revision = 5\n",
            'revision = 5\nconflicts = [[\n    { package = "a", extra = "x" },\n    { package = "b" },\n]]\n',
        ),
    ],
)
def test_locks_the_shortcut_cannot_vouch_for_are_read_whole(chain: Path, old: str, new: str) -> None:
    text = (chain / "uv.lock").read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    assert fields(parse_lock_members(changed)) == local_only(parse_lock(changed))
    assert {package.name for package in parse_lock_members(changed).packages} == {"a", "b", "c", "d"}


def test_a_real_lock_with_markers_extras_and_groups(chain: Path) -> None:
    lock = read_lock(chain / "uv.lock")
    assert lock == by_tomllib((chain / "uv.lock").read_text(encoding="utf-8"))
    assert lock.members == ("a", "b", "c", "d")
    (b,) = lock.by_name("b")
    assert b.source == "editable+packages/b"
    assert LockDependency("typing-extensions", marker="python_full_version < '3.13'") in b.dependencies
    (c,) = lock.by_name("c")
    assert [dep.name for dep in c.optional_dependencies["net"]] == ["idna"]
    assert [dep.name for dep in c.dev_dependencies["dev"]] == ["anyio"]
    assert lock.resolve(LockDependency("anyio")) is not None


@pytest.mark.parametrize("revision", [1, 2, 3, 4, 5])
def test_revisions_one_to_five_are_read(chain: Path, revision: int) -> None:
    text = (chain / "uv.lock").read_text(encoding="utf-8").replace("revision = 5", f"revision = {revision}", 1)
    assert parse_lock(text).revision == revision


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("revision = 5", "revision = 6", "revision = 6: only revisions 1 to 5"),
        ("version = 1", "version = 2", "version = 2: only lock version 1"),
        ("[[package]]", "[[package]", "not valid TOML"),
    ],
)
def test_an_unknown_format_names_the_file_and_field(chain: Path, old: str, new: str, message: str) -> None:
    path = chain / "uv.lock"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LockFileError, match=re.escape(message)) as caught:
        read_lock(path)
    assert str(path) in str(caught.value)


def test_a_missing_lock_says_to_lock(tmp_path: Path) -> None:
    with pytest.raises(LockFileError, match="cannot be read") as caught:
        read_lock(tmp_path / "uv.lock")
    assert caught.value.hint == "Run `uv lock`"


def test_unusual_but_valid_toml_goes_to_tomllib(chain: Path) -> None:
    text = (chain / "uv.lock").read_text(encoding="utf-8")
    unusual = text.replace('\nname = "anyio"\n', '\nname    =   "anyio"  # spaced\n', 1)
    with pytest.raises(_Unsupported):
        _fast_parse(unusual)
    assert parse_lock(unusual) == parse_lock(text)


names = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?", fullmatch=True)
markers = st.sampled_from([None, "python_full_version < '3.13'", "sys_platform == 'win32'", 'extra == "x\\"y"'])
versions = st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}(\.[0-9]{1,2})?", fullmatch=True)


def dependency_line(name: str, marker: str | None, extras: list[str]) -> str:
    fields = [f"name = {json.dumps(name)}"]
    if extras:
        fields.append(f"extra = [{', '.join(json.dumps(e) for e in extras)}]")
    if marker is not None:
        fields.append(f"marker = {json.dumps(marker)}")
    return "{ " + ", ".join(fields) + " }"


@st.composite
def lock_texts(draw: st.DrawFn) -> str:
    package_names = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    lines = ["version = 1", f"revision = {draw(st.integers(1, 5))}", 'requires-python = ">=3.12"', ""]
    for name in package_names:
        lines += ["[[package]]", f'name = "{name}"', f'version = "{draw(versions)}"']
        lines.append('source = { registry = "https://pypi.org/simple" }')
        deps = draw(st.lists(st.sampled_from(package_names), unique=True, max_size=3))
        rendered = [dependency_line(dep, draw(markers), draw(st.lists(names, max_size=2))) for dep in deps]
        if rendered and draw(st.booleans()):
            lines += ["dependencies = [", *(f"    {line}," for line in rendered), "]"]
        elif rendered:
            lines.append(f"dependencies = [{', '.join(rendered)}]")
        lines.append('sdist = { url = "https://example.org/x.tar.gz", hash = "sha256:00", size = 1 }')
        lines += ["wheels = [", '    { url = "https://example.org/x.whl", hash = "sha256:00", size = 2 },', "]"]
        if draw(st.booleans()):
            lines += ["", "[package.optional-dependencies]", f"opt = [{rendered[0] if rendered else ''}]"]
        lines += ["", "[package.metadata]", "requires-dist = [", '    { name = "x", specifier = ">=1" },', "]", ""]
    return "\n".join(lines) + "\n"


@given(lock_texts())
def test_the_fast_reader_agrees_with_tomllib(text: str) -> None:
    assert _build(_fast_parse(text), "x") == by_tomllib(text)


@given(lock_texts(), st.dictionaries(st.integers(0, 5), st.sampled_from(["editable", "virtual", "directory"])))
def test_the_members_reader_agrees_with_the_whole_reader(text: str, local: dict[int, str]) -> None:
    registry = 'source = { registry = "https://pypi.org/simple" }'
    parts = text.split(registry)
    text = parts[0] + "".join(
        (f'source = {{ {local[index]} = "p{index}" }}' if index in local else registry) + part
        for index, part in enumerate(parts[1:])
    )
    assert fields(parse_lock_members(text)) == local_only(parse_lock(text))


@pytest.mark.parametrize("source", ["", "source = {}", 'source = "pypi"'])
def test_a_malformed_package_is_named(source: str) -> None:
    text = f'version = 1\nrevision = 5\n\n[[package]]\nname = "x"\nversion = "1"\n{source}\n'
    with pytest.raises(LockFileError, match=r"\[\[package\]\] number 1 is malformed"):
        parse_lock(text, origin="broken.lock")


def test_the_same_lock_text_is_parsed_once_and_an_edited_one_again(chain: Path) -> None:
    text = (chain / "uv.lock").read_text()
    first = read_lock(chain / "uv.lock")
    assert parse_lock(text, origin="HEAD:uv.lock") is first  # e.g. the same revision asked for again
    edited = text.replace('version = "0.1.0"', 'version = "0.2.0"', 1)
    assert edited != text
    again = parse_lock(edited)
    assert again is not first
    assert again.packages != first.packages
    for number in range(8):  # older texts leave the cache; each is still parsed right
        parse_lock(text + f"\n# {number}\n")
    assert parse_lock(text) is not first
    assert parse_lock(text).packages == first.packages
