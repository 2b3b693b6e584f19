"""What `generate_code` and `review_code` return: the loop's JSON, as documented models.

Each model has exactly the keys of the JSON the loop writes, so that the tools' output schemas say what clients
get; `SparseResult` keeps a key the loop leaves out out of the JSON too.
"""

from __future__ import annotations

from codegen_lab.common.results import SparseResult

__all__ = ["GenerationOutput", "ReviewOutput"]


class Finding(SparseResult):
    """A linter's, the type checker's or the policy's finding."""

    code: str | None = None
    """The check (`ruff` rule, `basedpyright:RULE`), for a lint finding."""
    rule: str | None = None
    """The policy rule broken, for a policy finding."""
    line: int | None
    """The line it is on, when it is on one."""
    message: str
    """The finding in words."""


class TestFailure(SparseResult):
    """A test that failed against the new code."""

    __test__ = False  # not a pytest test class, whatever its name

    test: str
    """pytest's id of the test."""
    message: str
    """Its failure, short."""


class TestsRun(SparseResult):
    """The target's tests, run in the sandbox against the new code."""

    __test__ = False

    tests: list[str]
    """The test files, relative to the root."""
    passed: int | None = None
    """Tests that passed, when they ran."""
    failed: int | None = None
    """Tests that failed, when they ran."""
    isolation: str | None = None
    """Which sandbox ran them."""
    failures: list[TestFailure] | None = None
    """The first failing tests, with their failures."""
    error: str | None = None
    """Why the tests could not run."""
    skipped: str | None = None
    """Why they were not run (the code failed static validation, or no test runner is configured)."""


class Validation(SparseResult):
    """What the checks found in the code."""

    passed: bool
    """No syntax error, no lint finding, no forbidden call, and every test that ran passed."""
    syntax_error: str | None
    """Where the code does not parse, and why."""
    lint: list[Finding]
    """ruff's (and with `typecheck`, basedpyright's) findings."""
    policy: list[Finding]
    """Imports and calls the policy forbids."""
    tests: TestsRun | None
    """The target's tests, when it has some."""


class Usage(SparseResult):
    """Tokens an answer took."""

    input_tokens: int
    """Tokens of the prompt."""
    output_tokens: int
    """Tokens of the answer."""
    cache_read_input_tokens: int
    """Prompt tokens read from the provider's cache."""
    cache_creation_input_tokens: int
    """Prompt tokens written to the provider's cache."""
    latency_seconds: float
    """How long the answer took."""


class LLMInfo(SparseResult):
    """Which model answered, and what it cost."""

    backend: str
    """The backend that answered (`anthropic`, `sampling`, ...)."""
    model: str
    """The model."""
    cached: bool
    """Whether the answer came from the response cache."""
    notes: list[str]
    """What the LLM service noted (retries, fallbacks)."""
    cost_usd: float | None
    """What it cost, in US dollars, when known."""
    usage: Usage
    """Tokens of the last answer."""
    requests: int | None = None
    """Requests sent to the model over every round (cached answers not counted)."""


class Round(SparseResult):
    """One answer of the model."""

    round: int
    """Its number (1 is the first answer)."""
    passed: bool
    """Whether its code passed validation."""
    cached: bool
    """Whether it came from the cache."""
    failures: list[str]
    """What failed, one line each."""


class GenerationOutput(SparseResult):
    """What `generate_code` produced."""

    target: str
    """The file written for, relative to the root."""
    code: str
    """The code."""
    validation: Validation
    """What the checks found in it."""
    rules: list[str]
    """The rules that went to the model."""
    llm: LLMInfo
    """The model that answered, the requests sent and their cost."""
    rounds: list[Round]
    """Each answer the model gave."""
    written: bool
    """Whether the file was written."""
    note: str
    """What happened to the file."""


class ReviewOutput(SparseResult):
    """What `review_code` found."""

    path: str
    """The file reviewed, relative to the root."""
    mode: str
    """`llm` when a model reviewed the file, `static` when only the rules and linters did."""
    rules: list[str]
    """The rules that apply to it."""
    validation: Validation
    """What the checks found in it."""
    review: str
    """The review."""
    llm: LLMInfo | None
    """The model that answered, when one did."""
