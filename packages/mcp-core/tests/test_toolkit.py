from __future__ import annotations

import pytest

from codegen_lab.common import DuplicateNameError, ToolkitError
from codegen_lab.mcp_core import Toolkit


def test_tool_names_carry_the_namespace() -> None:
    kit = Toolkit("rules")

    @kit.tool()
    def lint(path: str) -> str:
        return path

    @kit.tool()
    def rules_match(path: str) -> str:
        return path

    @kit.tool("explain")
    def anything(path: str) -> str:
        return path

    assert [tool.name for tool in kit.tools] == ["rules_lint", "rules_match", "rules_explain"]
    assert kit.tools[0].fn is lint


def test_a_separate_namespace_prefixes_tools() -> None:
    kit = Toolkit("uvtools", namespace="ws")
    kit.add_tool(lambda: "g", "graph")
    assert kit.tools[0].name == "ws_graph"


@pytest.mark.parametrize("name", ["Rules", "1rules", "rules-engine", "", "rules engine"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ToolkitError, match="must start with a lowercase letter"):
        Toolkit(name)


def test_a_tool_declared_twice_names_the_toolkit() -> None:
    kit = Toolkit("rules", package="codegen-lab-rule-engine")
    kit.add_tool(lambda: 1, "lint")
    with pytest.raises(DuplicateNameError, match=r"tool 'rules_lint' .* 'rules' \(codegen-lab-rule-engine\)"):
        kit.add_tool(lambda: 2, "lint")


def test_decorator_without_parentheses_is_a_clear_type_error() -> None:
    kit = Toolkit("rules")
    with pytest.raises(TypeError, match=r"@toolkit.tool\(\)"):
        kit.tool(lambda: 1)  # pyright: ignore[reportArgumentType]


def test_resources_templates_and_prompts() -> None:
    kit = Toolkit("rules")

    @kit.resource("codegen-lab://rules/index", mime_type="application/json")
    def index() -> str:
        return "{}"

    @kit.resource("codegen-lab://rules/{name}")
    def one(name: str) -> str:
        return name

    @kit.prompt()
    def apply_rules(path: str) -> str:
        return path

    assert [(r.uri, r.name, r.is_template) for r in kit.resources] == [
        ("codegen-lab://rules/index", "index", False),
        ("codegen-lab://rules/{name}", "one", True),
    ]
    assert [p.name for p in kit.prompts] == ["apply-rules"]
    with pytest.raises(DuplicateNameError, match="resource 'codegen-lab://rules/index'"):
        kit.resource("codegen-lab://rules/index")(index)
    with pytest.raises(DuplicateNameError, match="prompt 'apply-rules'"):
        kit.prompt("apply-rules")(apply_rules)


def test_an_empty_namespace_leaves_tool_names_as_they_are() -> None:
    kit = Toolkit("codegen", namespace="")
    kit.add_tool(lambda: 1, "generate_code")
    assert kit.tools[0].name == "generate_code"
