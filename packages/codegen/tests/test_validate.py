"""Validation of generated code: syntax, ruff with the security rules, the import allowlist and call policy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codegen_lab.codegen import ImportPolicy, check_policy, validate_code
from codegen_lab.codegen._policy import project_imports


def test_validation_reports_lint_security_and_policy() -> None:
    report = validate_code("import subprocess\nsubprocess.run('ls', shell=True)\nimport pickle\npickle.loads(b'')\n")
    assert not report.passed
    refused = {item["message"].split(":")[0] for item in report.policy}
    assert {"import subprocess", "subprocess.run", "import pickle", "pickle.loads"} <= refused
    assert any(item["code"].startswith("S") for item in report.lint)
    assert validate_code("def f() -> int:\n    return 1\n").passed


def test_typecheck_runs_basedpyright() -> None:
    report = validate_code('def half(n: int) -> int:\n    return "half"\n', typecheck=True)
    assert not report.passed
    assert any(item["code"].startswith("basedpyright:") and item["line"] == 2 for item in report.lint), report.lint
    assert validate_code("def half(n: int) -> float:\n    return n / 2\n", typecheck=True).passed


BYPASSES = {
    "getattr with a computed name": 'import os\ngetattr(os, "sys" + "tem")("id")\n',
    "importlib": 'from os import path\nimport importlib\nimportlib.import_module("os").system("id")\n',
    "vars of builtins": 'import builtins\nvars(builtins)["ex" + "ec"]("print(1)")\n',
    "pty": 'import pty\npty.spawn("sh")\n',
    "compile and FunctionType": 'import types\nf = types.FunctionType(compile("1", "x", "eval"), {})\n',
    "an alias of pickle": 'import pickle as p\np.loads(b"")\n',
    "a renamed import": 'from os import system as run\nrun("id")\n',
    "a function passed around": 'import os\nf = os.system\nf("id")\n',
    "eval as a value": 'x = eval\nx("1")\n',
    "globals by text": 'globals()["__builtins__"]\n',
    "subclasses walk": "().__class__.__bases__[0].__subclasses__()\n",
    "ctypes": "import ctypes\nctypes.CDLL(None)\n",
    "socket": "import socket\nsocket.create_connection(('127.0.0.1', 1))\n",
}


@pytest.mark.parametrize("code", BYPASSES.values(), ids=list(BYPASSES))
def test_every_known_bypass_of_a_denylist_is_refused(code: str) -> None:
    assert check_policy(ast.parse(code)), code
    assert not validate_code(code).passed


def test_ordinary_code_passes() -> None:
    code = (
        "import json\nimport re\nfrom pathlib import Path\nfrom dataclasses import dataclass\n\n\n"
        "def slug(text: str) -> str:\n    return re.compile(r'\\W+').sub('-', text).strip('-').lower()\n\n\n"
        "def field(obj: object, name: str) -> object:\n    return getattr(obj, name)\n\n\n"
        "def load(path: Path) -> object:\n    return json.loads(path.read_text())\n"
    )
    assert check_policy(ast.parse(code)) == []


def test_a_function_of_the_code_named_like_a_builtin_is_its_own() -> None:
    assert check_policy(ast.parse("def compile(x: str) -> str:\n    return x\n\n\ncompile('a')\n")) == []


def test_the_project_declares_what_it_may_import_but_never_code_loaders() -> None:
    assert check_policy(ast.parse("import requests\n"), ImportPolicy.of(project=["requests"])) == []
    assert check_policy(ast.parse("import requests\n"))
    assert check_policy(ast.parse("import pickle\n"), ImportPolicy.of(project=["pickle"]))
    assert check_policy(ast.parse("import subprocess\n"), ImportPolicy.of(user=["subprocess"])) == []


def test_project_imports_reads_packages_and_declared_dependencies(tmp_path: Path) -> None:
    root = tmp_path
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "MyPkg").mkdir(parents=True)
    (root / "tool.py").write_text("", encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["python-dateutil>=2", "Requests[socks]", "zope.interface>=6"]\n'
        "[project.optional-dependencies]\nfast = [\"orjson; python_version>'3'\"]\n"
        '[dependency-groups]\ndev = ["pytest"]\n',
        encoding="utf-8",
    )
    found = project_imports(root)
    assert {"app", "MyPkg", "tool", "python_dateutil", "requests", "zope", "orjson", "pytest"} <= found
    assert "zope_interface" not in found
    policy = ImportPolicy.for_project(root)
    assert check_policy(ast.parse("import zope.interface\nimport MyPkg\n"), policy) == []


def test_user_import_names_keep_their_case() -> None:
    policy = ImportPolicy.of(user=["PIL", "Crypto.Cipher"])
    assert check_policy(ast.parse("from PIL import Image\nfrom Crypto.Cipher import AES\n"), policy) == []
    assert check_policy(ast.parse("import pil\n"), policy)


def test_noqa_written_by_the_model_is_ignored() -> None:
    report = validate_code("import hashlib\nhashlib.md5(b'x')  # noqa: S324\n")
    assert any(item["code"] == "S324" for item in report.lint), report.lint
