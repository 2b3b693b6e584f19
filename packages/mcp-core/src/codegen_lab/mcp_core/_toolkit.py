"""Toolkit: a named bundle of tools, resources, resource templates and prompts that knows nothing of transports."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from codegen_lab.common.errors import DuplicateNameError, ToolkitError

if TYPE_CHECKING:
    from mcp_types import ToolAnnotations

__all__ = ["PromptSpec", "ResourceSpec", "ToolSpec", "Toolkit"]

_F = TypeVar("_F", bound=Callable[..., Any])
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_PARAMETER = re.compile(r"{[^}]+}")


class ToolSpec(NamedTuple):
    """A tool as its toolkit declared it."""

    fn: Callable[..., Any]
    name: str
    title: str | None = None
    description: str | None = None
    annotations: ToolAnnotations | None = None
    structured_output: bool | None = None
    paths: tuple[str, ...] = ()
    """Arguments that name files or folders (a string, a list of strings, or None): each must resolve inside the
    allowed roots, which the server checks before the tool runs."""
    revisions: tuple[str, ...] = ()
    """Arguments that name git revisions: the server refuses one that could pass for an option."""
    programs: tuple[str, ...] = ()
    """Arguments that name a program to run, such as a virtual environment's interpreter: inside the allowed
    roots as written (`..` resolved), though the program may be a link out of them, as `.venv/bin/python` is."""
    rate_class: str | None = None


class ResourceSpec(NamedTuple):
    """A resource, or a resource template when its URI has `{parameters}`."""

    fn: Callable[..., Any]
    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None

    @property
    def is_template(self) -> bool:
        """Whether the URI has parameters, which makes this a resource template."""
        return _TEMPLATE_PARAMETER.search(self.uri) is not None


class PromptSpec(NamedTuple):
    """A prompt as its toolkit declared it."""

    fn: Callable[..., Any]
    name: str
    title: str | None = None
    description: str | None = None


class Toolkit:
    """A named bundle of tools, resources, resource templates and prompts.

    Declare members with decorators shaped like `MCPServer`'s; `build_server` composes toolkits into one server.
    Every tool name carries the toolkit's namespace: a function `lint` in the toolkit `rules` becomes the tool
    `rules_lint` (a name that already starts with `rules_` is kept).

    Example:
        ```python
        rules = Toolkit("rules", description="Read and lint AI-assistant rule files.")


        @rules.tool()
        def lint(path: str) -> list[str]:
            "Lint the rule file at `path`."
            return []
        ```

    Args:
        name: The toolkit's name, also the entry-point name it is installed under: lowercase letters, digits, `_`.
        namespace: The prefix of its tool names (default: the name; `""` for none, as the composition root's own
            tools such as `generate_code` have).
        description: One line on what the toolkit is for.
        instructions: Guidance for the model on using these tools, joined into the server's instructions.
        package: The distribution that ships the toolkit, for version reports (discovery fills it in).
        rate_class: The rate-limit class of its tools unless a tool names its own: `llm` (calls an LLM), `tests`
            (runs tests), `subprocess` (runs commands), or another class the `rate-limits` setting names.

    Raises:
        ToolkitError: When the name, namespace or rate class is not lowercase letters, digits and `_`.
    """

    def __init__(
        self,
        name: str,
        *,
        namespace: str | None = None,
        description: str = "",
        instructions: str | None = None,
        package: str | None = None,
        rate_class: str | None = None,
    ) -> None:
        for label, value in (("name", name), ("namespace", name if namespace is None else namespace)):
            if not _NAME.match(value) and not (label == "namespace" and value == ""):
                raise ToolkitError(
                    f"toolkit {label} {value!r} must start with a lowercase letter and hold only a-z, 0-9 and _"
                )
        _check_rate_class(rate_class, f"toolkit {name!r}")
        self.name = name
        self.namespace = name if namespace is None else namespace
        self.description = description
        self.instructions = instructions
        self.package = package
        self.rate_class = rate_class
        self._tools: dict[str, ToolSpec] = {}
        self._resources: dict[str, ResourceSpec] = {}
        self._prompts: dict[str, PromptSpec] = {}

    def __repr__(self) -> str:
        return f"Toolkit({self.name!r}, tools={list(self._tools)!r})"

    @property
    def label(self) -> str:
        """The toolkit's name with its package, as errors show it: `'rules' (codegen-lab-rule-engine)`."""
        return f"{self.name!r}" + (f" ({self.package})" if self.package else "")

    @property
    def tools(self) -> tuple[ToolSpec, ...]:
        """The declared tools, in declaration order."""
        return tuple(self._tools.values())

    @property
    def resources(self) -> tuple[ResourceSpec, ...]:
        """The declared resources and resource templates, in declaration order."""
        return tuple(self._resources.values())

    @property
    def prompts(self) -> tuple[PromptSpec, ...]:
        """The declared prompts, in declaration order."""
        return tuple(self._prompts.values())

    def tool_name(self, name: str) -> str:
        """The namespaced tool name for `name`: `lint` becomes `rules_lint` in the `rules` toolkit."""
        prefix = f"{self.namespace}_" if self.namespace else ""
        return name if name.startswith(prefix) else f"{prefix}{name}"

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        structured_output: bool | None = None,
        paths: Iterable[str] = (),
        revisions: Iterable[str] = (),
        programs: Iterable[str] = (),
        rate_class: str | None = None,
    ) -> ToolSpec:
        """Declare `fn` as a tool; see `tool` for the arguments.

        Raises:
            DuplicateNameError: When this toolkit already has a tool of that name.
            ToolkitError: When `paths`, `revisions` or `programs` names an argument `fn` does not take, or
                the rate class is not lowercase letters, digits and `_`.
        """
        spec = ToolSpec(
            fn=fn,
            name=self.tool_name(name or fn.__name__),
            title=title,
            description=description,
            annotations=annotations,
            structured_output=structured_output,
            paths=tuple(paths),
            revisions=tuple(revisions),
            programs=tuple(programs),
            rate_class=rate_class or self.rate_class,
        )
        _check_rate_class(spec.rate_class, f"tool {spec.name!r}")
        declared = (*spec.paths, *spec.revisions, *spec.programs)
        parameters: Mapping[str, inspect.Parameter] = inspect.signature(fn).parameters if declared else {}
        unknown = [argument for argument in declared if argument not in parameters]
        if unknown:
            raise ToolkitError(f"tool {spec.name} of toolkit {self.label}: no argument named {', '.join(unknown)}")
        if spec.name in self._tools:
            raise DuplicateNameError("tool", spec.name, self.label, self.label)
        self._tools[spec.name] = spec
        return spec

    def tool(
        self,
        name: str | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        structured_output: bool | None = None,
        paths: Iterable[str] = (),
        revisions: Iterable[str] = (),
        programs: Iterable[str] = (),
        rate_class: str | None = None,
    ) -> Callable[[_F], _F]:
        """Declare the decorated function as a tool.

        Args:
            name: The tool's name before the namespace prefix (default: the function's name).
            title: A human-readable title.
            description: What the tool does (default: the function's docstring).
            annotations: Hints for clients: read-only, destructive, idempotent, open-world.
            structured_output: Whether the result is structured (default: from the return annotation).
            paths: The arguments that name files or folders; the server refuses a call whose paths leave the
                allowed roots (the server's root, narrowed by the client's roots) before the tool runs.
            revisions: The arguments that name git revisions; the server refuses one that could pass for an
                option (`--output=...`) before the tool runs.
            programs: The arguments that name a program to run (an interpreter): inside the allowed roots as
                written, though the program itself may be a link out of them.
            rate_class: The rate-limit class of the tool, such as `llm`, `tests` or `subprocess` (default: the
                toolkit's); each class's calls are limited by the `rate-limits` setting.

        Returns:
            A decorator that declares the function and returns it unchanged.
        """
        if callable(name):
            raise TypeError("use @toolkit.tool() with parentheses")

        def decorator(fn: _F) -> _F:
            self.add_tool(
                fn,
                name,
                title=title,
                description=description,
                annotations=annotations,
                structured_output=structured_output,
                paths=paths,
                revisions=revisions,
                programs=programs,
                rate_class=rate_class,
            )
            return fn

        return decorator

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
    ) -> Callable[[_F], _F]:
        """Declare the decorated function as a resource, or a resource template when `uri` has `{parameters}`.

        Args:
            uri: The resource's URI, such as `codegen-lab://server/info` or `codegen-lab://rules/{name}`.
            name: The resource's name (default: the function's name).
            title: A human-readable title.
            description: What the resource holds (default: the function's docstring).
            mime_type: The content's MIME type.

        Returns:
            A decorator that declares the function and returns it unchanged.
        """

        def decorator(fn: _F) -> _F:
            spec = ResourceSpec(
                fn=fn, uri=uri, name=name or fn.__name__, title=title, description=description, mime_type=mime_type
            )
            if uri in self._resources:
                raise DuplicateNameError("resource", uri, self.label, self.label)
            self._resources[uri] = spec
            return fn

        return decorator

    def prompt(
        self, name: str | None = None, *, title: str | None = None, description: str | None = None
    ) -> Callable[[_F], _F]:
        """Declare the decorated function as a prompt.

        Args:
            name: The prompt's name (default: the function's name with `_` as `-`).
            title: A human-readable title.
            description: What the prompt is for (default: the function's docstring).

        Returns:
            A decorator that declares the function and returns it unchanged.
        """
        if callable(name):
            raise TypeError("use @toolkit.prompt() with parentheses")

        def decorator(fn: _F) -> _F:
            spec = PromptSpec(fn=fn, name=name or fn.__name__.replace("_", "-"), title=title, description=description)
            if spec.name in self._prompts:
                raise DuplicateNameError("prompt", spec.name, self.label, self.label)
            self._prompts[spec.name] = spec
            return fn

        return decorator


def _check_rate_class(rate_class: str | None, owner: str) -> None:
    if rate_class is not None and not _NAME.match(rate_class):
        raise ToolkitError(
            f"{owner}: rate class {rate_class!r} must start with a lowercase letter and hold only a-z, 0-9 and _"
        )
