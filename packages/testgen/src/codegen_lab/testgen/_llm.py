"""Candidate calls from a model, when the server offers one.

The code and its uncovered lines go in, as CoverUp does, and each call that comes back goes through the same
keep-only-if-passing-and-covering loop as the others.
"""

from __future__ import annotations

import ast
import asyncio
import logging
from collections.abc import Iterable

from codegen_lab.llm import Completer, CompletionRequest, Message
from codegen_lab.testgen._analysis import ModuleInfo
from codegen_lab.testgen._inputs import Candidate
from codegen_lab.testgen._target import Target

__all__ = ["llm_candidates"]

logger = logging.getLogger(__name__)

_SYSTEM = (
    "You write inputs for unit tests of Python code. Answer only with Python expressions, one per line, each a "
    "call into the module under test through its name as given; no imports, no comments, no prose."
)
_MAX_TOKENS = 2000
TOOL = "testgen_generate"
"""The name the model's usage is counted under."""
_MAX_CALLS = 40


def llm_candidates(
    completer: Completer, info: ModuleInfo, target: Target, uncovered: Iterable[int], prefix: str, *, timeout: float
) -> list[Candidate]:
    """Ask the model for calls that reach the uncovered lines; malformed answers are skipped, never run.

    A model that does not answer within `timeout` seconds gives no candidates.
    """
    lines = sorted(uncovered)
    if not lines or timeout <= 0:
        return []
    source = info.path.read_text(encoding="utf-8").splitlines()
    numbered = "\n".join(
        f"{number:>5}{'*' if number in lines else ' '} {text}" for number, text in enumerate(source, start=1)
    )
    prompt = (
        f"The module `{target.module}` is imported as `{target.alias}`. Lines marked * are not yet run by any "
        f"test. Write up to {_MAX_CALLS} calls such as `{target.alias}.function(arguments)` whose execution runs "
        f"those lines.\n\n```python\n{numbered}\n```"
    )
    request = CompletionRequest(messages=(Message("user", prompt),), system=_SYSTEM, max_tokens=_MAX_TOKENS)
    try:
        answer = asyncio.run(asyncio.wait_for(completer.complete(request, tool=TOOL), timeout)).text
    except TimeoutError:
        logger.warning("the model did not answer within %.0f s", timeout)
        return []
    except Exception:
        logger.warning("the model could not be asked for candidates", exc_info=True)
        return []
    found: list[Candidate] = []
    for line in answer.splitlines():
        expr = line.strip().strip("`")
        if not expr.startswith(f"{target.alias}.") or not _is_call(expr):
            continue
        name = expr[len(target.alias) + 1 :].split("(", 1)[0]
        found.append(Candidate(id=f"{prefix}llm{len(found)}", target=name, expr=expr))
        if len(found) >= _MAX_CALLS:
            break
    return found


def _is_call(expr: str) -> bool:
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.Call)
