"""The coverage-guided loop: candidates run in the sandbox, the tests that pass twice and add coverage are kept."""

from __future__ import annotations

import ast
import json
import logging
import random
import shlex
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from codegen_lab.llm import Completer
from codegen_lab.testgen._analysis import CallableInfo, ModuleInfo, Scalar, analyze_source
from codegen_lab.testgen._collaborators import named
from codegen_lab.testgen._doctests import example_candidates
from codegen_lab.testgen._effects import AVOIDED
from codegen_lab.testgen._inputs import (
    Candidate,
    Value,
    candidates_for,
    module_path,
    standard_imports,
    wanted_attributes,
)
from codegen_lab.testgen._llm import llm_candidates
from codegen_lab.testgen._model_tests import NO_MODEL, model_tests, render_model_test
from codegen_lab.testgen._models import (
    FunctionResult,
    GeneratedTest,
    GenerationReport,
    ModelTestsReport,
    SkippedFunction,
)
from codegen_lab.testgen._paths import inside_root, write_output
from codegen_lab.testgen._properties import find_properties
from codegen_lab.testgen._render import STATE_HELPER, RenderedTest, render_module, render_property, render_test
from codegen_lab.testgen._runner import SCRIPTS, Project
from codegen_lab.testgen._sandbox import Limits, Requested
from codegen_lab.testgen._strategies import combined, mutated, repeated, replaced, sequences, strings_of
from codegen_lab.testgen._target import Target, resolve_target
from codegen_lab.testgen._validate import own_version, validate
from codegen_lab.testgen.errors import TestgenOperationError, TestgenUsageError

__all__ = ["Loop", "Observed", "agreed_outcome", "avoided", "generate", "redundant_raises_dropped", "testable"]

logger = logging.getLogger(__name__)

Progress = Callable[[float, float, str], None]
"""Called with (seconds spent, budget in seconds, what is happening)."""

_CALL_SECONDS = 2.0
_FIRST_ROUND = 6
_AIMED = 10
_MAX_CANDIDATES = 400
_STALLED_ROUNDS = 5
_GIVE_UP = 12
"""Rounds in a row that added nothing after which the search stops, however much time is left."""
_KEEP_TRYING = 0.3
"""Past `_STALLED_ROUNDS` stalled rounds (and short of `_GIVE_UP`), the search goes on while this share is left."""
_FRESH = 40
"""A stalled round with fewer new candidates than this ends the search (the small module's inputs are drawn)."""
_OVERSHOOT = 1.1
"""No run in the sandbox goes on past this share of the budget (unless `min_run_seconds` says otherwise)."""
_PYTEST_STARTS = 5.0
"""A pytest run of the kept tests takes about this many times the bare import of the module, plus the calls."""
_CHECK_SHARE = 0.5
"""At most this share of the budget is set aside for the final check."""
_IMPORT_SECONDS = 10.0
"""The least time the first run (the import alone, which tells the module's lines) gets."""
_LEAST_RUN = 1.0
"""Seconds the last runs still get when the budget is spent: one that cannot finish is stopped early."""
_MODEL_SHARE = 0.5
"""Of the search time, the share the offline rounds leave to the model's tests when there is a model."""

_REPAIRS = 6
"""At most this many strings that worked elsewhere tried in each string of a call that raised."""
_DISTINCT = 2
"""A function's kept tests show at least this many of the values it was seen returning, when it returned so many."""
_GROUP_EXTRAS = 6
"""At most this many more examples of a docstring kept beside the ones that added coverage."""
_MADE = 6
_STATE_CHANGES = 3
"""At most this many calls that change the module's state, each followed by calls that read it, per round."""
"""At most this many constructions that worked offered for the object of each method's candidates."""
_UNEXPECTED = {"TypeError", "AttributeError", "NameError", "UnboundLocalError", "RecursionError", "SystemExit"}


@dataclass(slots=True)
class Observed:
    candidate: Candidate
    outcome: dict[str, Any]
    lines: set[int]
    arcs: set[tuple[int, int]]
    seconds: float = 0.0
    """How long the call took in the sandbox."""


@dataclass(slots=True)
class Loop:
    project: Project
    target: Target
    info: ModuleInfo
    workdir: Path
    deadline: float
    rng: random.Random
    tried: set[str] = field(default_factory=set[str])
    covered_lines: set[int] = field(default_factory=set[int])
    covered_arcs: set[tuple[int, int]] = field(default_factory=set[tuple[int, int]])
    statements: set[int] = field(default_factory=set[int])
    kept: list[Observed] = field(default_factory=list[Observed])
    imported_lines: set[int] = field(default_factory=set[int])
    imported_arcs: set[tuple[int, int]] = field(default_factory=set[tuple[int, int]])
    candidates: int = 0
    serial: int = 0
    min_run_seconds: float = 5.0
    """The least time an observing run gets, even when the deadline is (nearly) past."""
    limit: float | None = None
    """A monotonic time no observing run outlasts, whatever `min_run_seconds` says."""
    branch_arcs: set[tuple[int, int]] | None = None
    """The arcs out of the module's branch lines (None when the target's coverage.py does not say)."""
    tried_by: Counter[str] = field(default_factory=Counter[str])
    """Candidates tried, by the function they call."""
    fates: dict[str, tuple[str, str]] = field(default_factory=dict[str, tuple[str, str]])
    """Candidates dropped before the coverage test, by id: the function they call and why."""
    stable: dict[str, Observed] = field(default_factory=dict[str, Observed])
    """Candidates that behaved the same in both runs, by id."""
    budget_end: float | None = None
    """When the whole generation should be done: the search leaves the final check the time it will take."""
    startup: float = 0.0
    """Seconds the sandbox took to start the interpreter and import the module (the first run)."""
    budget: float = 60.0
    fresh: int = 0
    """Candidates the last round had not tried before."""
    returned: dict[str, list[str]] = field(default_factory=dict[str, list[str]])
    """Calls (with no setup) that returned without raising in their first run, by the function they call."""

    def remaining(self) -> float:
        end = self.deadline
        if self.budget_end is not None:
            end = min(end, self.budget_end - self.check_seconds())
        return end - time.monotonic()

    def check_seconds(self) -> float:
        """What the final check (two pytest runs of the kept tests) is likely to take, from what runs took here.

        A pytest run starts a few times slower than the bare import; at most half the budget is set aside.
        """
        calls = 1.5 * sum(observed.seconds for observed in self.kept)
        return min(2 * (_PYTEST_STARTS * self.startup + calls), _CHECK_SHARE * self.budget)

    def _drop(self, candidate: Candidate, reason: str) -> None:
        self.fates[candidate.id] = (candidate.target, reason)

    def observe(
        self, candidates: Sequence[Candidate], *, hash_seed: int, elsewhere: bool = False, share: float = 1.0
    ) -> dict[str, Observed]:
        """Run the candidates once in the sandbox; the outcome and the lines and arcs each one ran.

        The run takes at most `share` of the time left (the first run of a round leaves time for the second).

        `elsewhere`: with HOME, the temporary folder and the working directory in other places than the
        first run's, so that a result that depends on them differs.
        """
        script = self.workdir / "_testgen_observe.py"
        if not script.exists():
            shutil.copyfile(SCRIPTS / "observe.py", script)
        job = self.workdir / "_testgen_job.json"
        answer = self.workdir / "_testgen_observed.json"
        answer.unlink(missing_ok=True)
        watched = [named(candidate) for candidate in candidates]  # collaborators bound to names, as the tests have them
        job_data: dict[str, Any] = {
            "module": self.target.module,
            "alias": self.target.alias,
            "file": str(self.target.file),
            "sys_path": [str(self.target.import_root)],
            "seconds": _CALL_SECONDS,
            "candidates": [candidate.job() for candidate in watched],
            "imports": {
                name: module_path(name)
                for name in standard_imports(
                    self.target.alias,
                    *(part for candidate in watched for part in (candidate.setup, candidate.expr)),
                    package=self.target.module.split(".")[0],
                )
            },
            "wanted": [] if candidates else wanted_attributes(self.info),
            "elsewhere": str(self.workdir / f"elsewhere-{self.serial}") if elsewhere else None,
            "state_helper": STATE_HELPER if self.info.has_state else None,
        }
        timeout = max(min(self.remaining() * share, 120.0), self.min_run_seconds)
        if not candidates:  # the import alone, which everything needs: until the limit, at least 10 s
            timeout = max(timeout, (self.limit - time.monotonic()) if self.limit else 0.0, _IMPORT_SECONDS)
        elif self.limit is not None:
            timeout = min(timeout, max(self.limit - time.monotonic(), 1.0))
        # The observer stops calling candidates in time to report those it ran: a run killed reports nothing. It
        # stops at its share of the budget too: `min_run_seconds` keeps a run from being killed on a loaded
        # machine, it is no licence to go on calling candidates past the budget.
        allowed = min(timeout, max(self.remaining() * share, 0.0)) if candidates else timeout
        job_data["stop_after"] = max(allowed - 2 * self.startup - _CALL_SECONDS, 0.5)
        job.write_text(json.dumps(job_data), encoding="utf-8")
        result = self.project.sandbox.run_python(
            [str(script), str(job), str(answer)],
            workdir=self.workdir,
            env={"PYTHONHASHSEED": str(hash_seed)},
            timeout=timeout,
        )
        if not answer.exists():
            if result.timed_out and not candidates:
                raise TestgenOperationError(
                    f"importing {self.target.module} in the sandbox did not finish within {timeout:.0f} s"
                )
            if result.timed_out:
                return {}
            tail = (result.stderr or result.stdout)[-2000:]
            raise TestgenOperationError(f"observing {self.target.module} failed (exit {result.returncode}):\n{tail}")
        data = json.loads(answer.read_text(encoding="utf-8"))
        if "import_error" in data:
            raise TestgenUsageError(
                f"target {self.target.module}: importing it in the sandbox failed: {data['import_error']}",
                hint="A module that needs the network, or files outside the project, cannot be tested in the sandbox",
            )
        self.statements = set(data["statements"])
        if not candidates:  # the import alone: the objects of the package that fit how parameters are read
            fitting: dict[str, list[str]] = data.get("fitting") or {}
            self.info.fitting = {key: found for key, found in fitting.items() if found}
        if data.get("branch_arcs") is not None:
            self.branch_arcs = {(int(a), int(b)) for a, b in data["branch_arcs"]}
        by_id = {candidate.id: candidate for candidate in candidates}
        found: dict[str, Observed] = {}
        for entry in data["results"]:
            arcs = {(int(a), int(b)) for a, b in entry["arcs"]}
            if entry["id"] == "import":
                self.covered_lines |= set(entry["lines"])
                self.covered_arcs |= arcs
                self.imported_lines |= set(entry["lines"])
                self.imported_arcs |= arcs
            elif entry["id"] in by_id:
                found[entry["id"]] = Observed(
                    by_id[entry["id"]],
                    entry["outcome"] or {},
                    set(entry["lines"]),
                    arcs,
                    float(entry.get("seconds", 0)),
                )
        return found

    def round(self, candidates: list[Candidate]) -> int:
        """Observe the candidates twice, keep the deterministic useful ones that add coverage; return the gain.

        The second time runs them in reverse order, elsewhere (see `observe`).
        """
        fresh = [c for c in candidates if _key(c) not in self.tried][:_MAX_CANDIDATES]
        self.fresh = len(fresh)
        self.tried |= {_key(c) for c in fresh}
        self.candidates += len(fresh)
        self.tried_by.update(c.target for c in fresh)
        if not fresh or self.remaining() <= self.startup:  # too little time left to start a run
            for candidate in fresh:
                self._drop(candidate, "out of time")
            return 0
        first = self.observe(fresh, hash_seed=0, share=0.5)
        useful = self._useful(fresh, first)
        if not useful or self.remaining() <= self.startup:
            for candidate in useful:
                self._drop(candidate, "out of time")
            return 0
        # Again, in reverse order: a call whose outcome depends on what the calls before it did differs.
        second = self.observe(useful[::-1], hash_seed=1, elsewhere=True)
        stable: list[Observed] = []
        for candidate in useful:
            observed, again = first[candidate.id], second.get(candidate.id)
            agreed = agreed_outcome(observed.outcome, again.outcome) if again is not None else None
            if agreed is not None:
                observed.outcome = agreed
                stable.append(observed)
                self.stable[candidate.id] = observed
            else:
                self._drop(candidate, _FLAKY if again is not None else "out of time")
        gain = 0
        for observed in sorted(stable, key=self._priority):
            new = len(observed.lines - self.covered_lines) + len(observed.arcs - self.covered_arcs)
            if new > 0 and not self._renders(observed):  # its lines stay open for a call a test can check
                self._drop(observed.candidate, "result not checkable")
            elif new > 0:
                self.covered_lines |= observed.lines
                self.covered_arcs |= observed.arcs
                self.kept.append(observed)
                gain += new
        ordered = sorted(stable, key=self._priority)
        self._values_over_raises(ordered)
        self._other_results(ordered)
        self._group_extras(stable)
        return gain

    def _renders(self, observed: Observed) -> bool:
        """Whether the candidate makes a test (a call for its effect needs a state to check afterwards)."""
        target = self.target
        made = render_test(observed.candidate, observed.outcome, module=target.module, alias=target.alias, taken=set())
        return made is not None

    def _useful(self, fresh: Sequence[Candidate], first: dict[str, Observed]) -> list[Candidate]:
        """The candidates whose first run makes a test; the others are dropped, with the reason."""
        useful: list[Candidate] = []
        for candidate in fresh:
            kind = first[candidate.id].outcome.get("kind") if candidate.id in first else None
            if kind not in {None, "raises", "timeout", "setup-error", "side-effect"} and not candidate.setup:
                self.returned.setdefault(candidate.target, []).append(candidate.expr)
            if candidate.id not in first:  # the run was stopped: the budget was spent
                self._drop(candidate, "out of time")
            elif _useful(first[candidate.id].outcome, candidate, self.info):
                useful.append(candidate)
            else:
                self._drop(candidate, why_dropped(first[candidate.id].outcome))
        return useful

    def _values_over_raises(self, ordered: Sequence[Observed]) -> None:
        """A returned value checked beats a raise: calls that return through code only raising tests ran are kept.

        The raising tests they make redundant then go.
        """
        lines, arcs = self._covered_by_values()
        for observed in ordered:
            if not _raises(observed) and not self._has(observed) and (observed.lines - lines or observed.arcs - arcs):
                self.kept.append(observed)
                lines |= observed.lines
                arcs |= observed.arcs
        self.kept = redundant_raises_dropped(self.kept, self.imported_lines, self.imported_arcs)

    def _other_results(self, ordered: Sequence[Observed]) -> None:
        """A function whose kept tests show one value it returned (True, say) gets a test of another (False)."""
        results: dict[str, set[str]] = {}
        for observed in self.kept:
            if (result := _result(observed)) is not None:
                results.setdefault(observed.candidate.target, set()).add(result)
        for observed in ordered:
            seen = results.get(observed.candidate.target)
            result = _result(observed)
            if seen is None or len(seen) >= _DISTINCT or result is None or result in seen or self._has(observed):
                continue
            self.kept.append(observed)
            seen.add(result)

    def _group_extras(self, stable: Sequence[Observed]) -> None:
        """A docstring's examples are its documented behaviour: kept together when one of them adds coverage."""
        groups = {observed.candidate.group: 0 for observed in self.kept if observed.candidate.group}
        kept = {observed.candidate.id for observed in self.kept}
        for observed in stable:
            group = observed.candidate.group
            if group in groups and observed.candidate.id not in kept and groups[group] < _GROUP_EXTRAS:
                groups[group] += 1
                self.kept.append(observed)

    def _has(self, observed: Observed) -> bool:
        return any(observed is other for other in self.kept)

    def _priority(self, observed: Observed) -> tuple[bool, bool, int, int, int]:
        """Calls that return first, then those whose inputs fit the parameters' hints, the most new code first.

        A raise, or a call with an input its hint or docstring rules out, is kept only for what the others do not run.
        """
        new = len(observed.lines - self.covered_lines) + len(observed.arcs - self.covered_arcs)
        kind = {"doctest": 0, "literal": 1, "iter": 1, "text": 2, "raises": 3}.get(observed.outcome.get("kind", ""), 4)
        return (_raises(observed), observed.candidate.misfit, -new, kind, len(observed.candidate.expr))

    def _covered_by_values(self) -> tuple[set[int], set[tuple[int, int]]]:
        """The lines and arcs that importing the module and the kept tests but the raising ones run."""
        lines, arcs = set(self.imported_lines), set(self.imported_arcs)
        for observed in self.kept:
            if not _raises(observed):
                lines |= observed.lines
                arcs |= observed.arcs
        return lines, arcs

    def next_id(self) -> str:
        self.serial += 1
        return f"r{self.serial}c"

    def first_candidates(self) -> list[Candidate]:
        found: list[Candidate] = []
        for label, has in (
            [("", self.info.has_module_doctest)]
            + [(item.qualname, item.has_doctest) for item in self.info.callables()]
            + [(cls.name, cls.has_doctest) for cls in self.info.classes]
        ):
            if has:
                examples = example_candidates(
                    label, self.info, self.target.alias, self.next_id(), module=self.target.module
                )
                found += examples or [
                    Candidate(id=self.next_id(), target=label, expr=f"doctest:{label}", doctest=label)
                ]
        for function in self._targets():
            found += candidates_for(
                function, self.info, self.target.alias, count=_FIRST_ROUND, rng=self.rng, prefix=self.next_id()
            )
        return found

    def aimed_candidates(self) -> list[Candidate]:
        """Candidates for the functions that hold uncovered lines, with the constants near those lines first."""
        uncovered = sorted(self.statements - self.covered_lines)
        by_function: dict[str, tuple[CallableInfo, list[Scalar]]] = {}
        targets = {function.qualname: function for function in self._targets()}
        for line in uncovered:
            holder = self.info.enclosing(line)
            if holder is None:
                continue
            function = targets.get(holder.qualname) or targets.get(f"{holder.owner}.__init__")
            if function is None:
                continue
            near = [value for at, value in function.literals if abs(at - line) <= 3]
            entry = by_function.setdefault(function.qualname, (function, []))
            entry[1].extend(value for value in near if value not in entry[1])
        found: list[Candidate] = []
        for function, focus in by_function.values():
            found += candidates_for(
                function,
                self.info,
                self.target.alias,
                count=_AIMED,
                rng=self.rng,
                focus=focus,
                prefix=self.next_id(),
                made=self.made(function),
            )
        return found

    def made(self, function: CallableInfo) -> list[str]:
        """Constructor calls seen to make an instance of the class of the method `function`, a few at random.

        A method reached only on an object in some state gets it from a construction that worked, not one drawn
        blind (most of which raise); those on whose objects more method calls returned come first.
        """
        if function.owner is None or function.name == "__init__":
            return []
        target = f"{function.owner}.__init__"
        wanted = f"{self.target.module}.{function.owner}"
        found = [
            observed.candidate.expr
            for observed in self.stable.values()
            if observed.candidate.target == target
            and not observed.candidate.setup
            and observed.outcome.get("kind") in {"text", "type"}
            and observed.outcome.get("type") == wanted
        ]
        self.rng.shuffle(found)
        # Constructions whose objects' methods returned come first: `Style(2)` is made, but every call on it raises.
        worked = Counter(
            observed.candidate.setup.partition("=")[2].strip()
            for observed in self.stable.values()
            if observed.candidate.setup and "\n" not in observed.candidate.setup and not _raises(observed)
        )
        found.sort(key=lambda expr: -worked[expr])
        return found[:_MADE]

    def wide_candidates(self) -> list[Candidate]:
        """A few fresh candidates for every function: branches inside covered lines are still worth a try."""
        found: list[Candidate] = []
        for function in self._targets():
            found += candidates_for(
                function,
                self.info,
                self.target.alias,
                count=_FIRST_ROUND,
                rng=self.rng,
                prefix=self.next_id(),
                explore=True,
                made=self.made(function),
            )
        return found

    def repaired_candidates(self) -> list[Candidate]:
        """Calls like the kept raising ones, a string another call returned with in place of (or after) theirs.

        `v.match('<')` raised; `v.match('<1.0.0')` may return through the same branch, and its value is checked.
        """
        found: list[Candidate] = []
        for observed in self.kept:
            if not _raises(observed) or observed.candidate.statement:
                continue
            candidate = observed.candidate
            worked = [
                text
                for other in sorted(self.kept, key=lambda other: other.candidate.target != candidate.target)
                if not _raises(other)
                for text in strings_of(other.candidate.expr)
            ]
            for text in strings_of(candidate.expr):
                for good in list(dict.fromkeys(worked))[:_REPAIRS]:
                    for replacement in dict.fromkeys((good, text + good)):
                        expr = replaced(candidate.expr, text, replacement)
                        args = [
                            Value(repr(replacement), "str") if arg.source == repr(text) else arg
                            for arg in candidate.args
                        ]
                        found.append(
                            Candidate(self.next_id(), candidate.target, expr, candidate.setup, args, group=None)
                        )
        return found

    def varied_candidates(self) -> list[Candidate]:
        """For a stalled search: the kept calls' inputs mutated and combined, and their methods called in sequence."""
        kept = [observed.candidate for observed in self.kept]
        pieces = self.info.harvested.strings
        return [
            *mutated(kept, pieces, self.rng, self.next_id),
            *combined(kept, pieces, self.rng, self.next_id),
            *sequences(kept, self.rng, self.next_id),
        ]

    def repeated_candidates(self) -> list[Candidate]:
        """Method calls that returned, made past the class's thresholds (in `with` blocks: see `repeated`).

        Calls for their effect on an object with no state to check (`writer.put_item(...)`) are among them: what
        they did shows after many of them, or when the `with` block ends.
        """
        returned = [
            observed.candidate
            for observed in self.stable.values()
            if observed.outcome.get("kind") in {"literal", "iter", "text", "type"}
        ]
        return repeated(returned, self.info, self.target.alias, self.rng, self.next_id)

    def state_candidates(self) -> list[Candidate]:
        """A call that changes the module's state (`activate('fr_FR')`, `register(...)`) then one that reads it.

        The change is one seen to work (else a typical call); the reader is any module function reading a global
        the change writes (the changing function too: registering twice).
        """
        functions = [function for function in self._targets() if function.owner is None]
        found: list[Candidate] = []
        for writer in (function for function in functions if function.writes_state):
            worked = list(dict.fromkeys(self.returned.get(writer.qualname, [])))
            self.rng.shuffle(worked)
            changes = worked[:_STATE_CHANGES] or [
                candidate.expr
                for candidate in candidates_for(writer, self.info, self.target.alias, count=2, rng=self.rng, prefix="s")
            ]
            for reader in functions:
                if reader.returns == "None" or not set(reader.reads_state) & set(writer.writes_state):
                    continue
                for change in changes:
                    for call in candidates_for(
                        reader, self.info, self.target.alias, count=2, rng=self.rng, prefix=self.next_id()
                    ):
                        call.setup = change
                        call.label = f"{reader.name}_after_{writer.name}"
                        found.append(call)
        return found

    def _targets(self) -> list[CallableInfo]:
        """The functions, methods and constructors to call: not async, and none a test must not depend on."""
        return [function for function in testable(self.info) if not avoided(function)]


def testable(info: ModuleInfo) -> list[CallableInfo]:
    """Every public function and method that is not async, and the constructors of classes but exceptions."""
    found = [function for function in info.callables() if not function.is_async]
    found += [cls.init for cls in info.classes if cls.init is not None and not cls.is_exception]
    return found


def avoided(function: CallableInfo) -> str | None:
    """Why no example test calls `function` (it reads the clock, uses the network, ...), or None."""
    reasons = [reason for effect, reason in AVOIDED.items() if effect in function.effects]
    return " and ".join(reasons) or None


def _result(observed: Observed) -> str | None:
    """The value a call returned, as the test checks it; None for calls that raised or return opaque objects."""
    outcome = observed.outcome
    if outcome.get("kind") == "text":
        return f"{outcome['via']}: {outcome['text']}"
    return str(outcome["repr"]) if outcome.get("kind") in {"literal", "iter"} else None


def _raises(observed: Observed) -> bool:
    return observed.outcome.get("kind") == "raises"


def redundant_raises_dropped(
    kept: Sequence[Observed], imported_lines: set[int], imported_arcs: set[tuple[int, int]]
) -> list[Observed]:
    """`kept` without the raising tests whose lines and arcs the other tests (or the import) run too.

    The exception leaving a function (an arc to its exit from a line that is not a `raise`, such as `next(it)`)
    is no branch: a raising test whose lines all run elsewhere adds nothing else. The latest raising tests go
    first: an early one often opened the branch that later ones only pass through.
    """
    found = list(kept)
    for observed in reversed(list(kept)):
        if not _raises(observed):
            continue
        others = [other for other in found if other is not observed]
        lines = imported_lines.union(*(other.lines for other in others))
        arcs = imported_arcs.union(*(other.arcs for other in others))
        if observed.lines <= lines and all(arc in arcs or arc[1] < 0 for arc in observed.arcs):
            found = others
    return found


_FLAKY = "flaky or depends on the calls before it, HOME, the temp or working folder"


def why_dropped(outcome: dict[str, Any]) -> str:
    """Why a candidate with this outcome (of its first run) makes no test."""
    kind = outcome.get("kind", "")
    if kind == "side-effect":
        return "side effect: " + str(outcome.get("effect", "")).split(" (", 1)[0]
    reasons = {
        "raises": "raised",
        "timeout": "timed out",
        "setup-error": "setup raised",
        "doctest": "doctest failed",
    }
    return reasons.get(kind, "result not checkable")


def explain(
    loop: Loop, kept: Sequence[RenderedTest], dropped: dict[str, str], rendered: Sequence[RenderedTest]
) -> list[FunctionResult]:
    """Per function: candidates tried, tests kept, why the others were dropped; and why a function was skipped.

    `rendered` are the tests made of the search's kept candidates (the final check then dropped `dropped`).
    """
    reasons: dict[str, Counter[str]] = {}
    for target, reason in loop.fates.values():
        reasons.setdefault(target, Counter())[reason] += 1
    made = {test.candidate_id: test for test in rendered if test.candidate_id}
    chosen = {observed.candidate.id for observed in loop.kept}
    for observed in loop.stable.values():
        candidate = observed.candidate
        if candidate.id not in chosen:
            reason = "no new line"
        elif candidate.id not in made:
            reason = "result not checkable"
        elif made[candidate.id].name in dropped:
            reason = dropped[made[candidate.id].name]
        else:
            continue
        reasons.setdefault(candidate.target, Counter())[reason] += 1
    target_of = {observed.candidate.id: observed.candidate.target for observed in loop.kept}
    counts = Counter(target_of[test.candidate_id] for test in kept if test.candidate_id in target_of)
    skipped = {function.qualname: avoided(function) for function in testable(loop.info)}
    names = list(dict.fromkeys([*skipped, *loop.tried_by]))
    found: list[FunctionResult] = []
    for name in names:
        tried = loop.tried_by.get(name, 0)
        why = skipped.get(name) or (None if tried else "no input could be built for it")
        found.append(
            FunctionResult(
                function=name or "(module docstring)",
                tried=tried,
                kept=counts.get(name, 0),
                dropped=dict(reasons.get(name, Counter()).most_common()),
                skipped=f"it {why}" if skipped.get(name) else why,
            )
        )
    return found


def _key(candidate: Candidate) -> str:
    return f"{candidate.setup}|{candidate.expr}"


def _useful(outcome: dict[str, Any], candidate: Candidate, info: ModuleInfo) -> bool:
    kind = outcome.get("kind")
    if kind == "doctest":
        return outcome.get("attempted", 0) > 0 and outcome.get("failed", 1) == 0
    if kind == "raises":
        name = str(outcome.get("type", "")).rpartition(".")[2]
        if not outcome.get("stable") or not outcome.get("in_module"):
            return False
        # A TypeError from `len(3)` says only that the input was junk; one from `raise TypeError(...)` is behaviour.
        return name not in _UNEXPECTED or outcome.get("line") in info.raise_lines
    return kind in {"literal", "iter", "text", "type"}


def agreed_outcome(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any] | None:
    """The outcome both runs agree on, or None.

    An attribute of the result (or the object a call raised on) that differed is left unchecked; the check of
    the result itself stays.
    """
    details = ("state", "after", "watched", "changed")
    if not _same(
        {k: v for k, v in first.items() if k not in details}, {k: v for k, v in second.items() if k not in details}
    ):
        return None
    agreed = dict(first)
    if isinstance(first.get("state"), dict):
        theirs: dict[str, Any] = second.get("state") or {}
        agreed["state"] = {name: value for name, value in first["state"].items() if theirs.get(name) == value}
    if "after" in first and first["after"] != second.get("after"):
        agreed["after"] = None
    if "changed" in first and first["changed"] != second.get("changed"):
        del agreed["changed"]
    if "watched" in first:
        theirs_watched: list[Any] = second.get("watched") or []
        agreed["watched"] = [entry for entry in first["watched"] if entry in theirs_watched]
    return agreed


def _same(first: dict[str, Any], second: dict[str, Any]) -> bool:
    if first.get("kind") == second.get("kind") == "literal":
        try:
            return bool(ast.literal_eval(first["repr"]) == ast.literal_eval(second["repr"]))
        except (ValueError, SyntaxError):
            return False
    return first == second


def generate(
    target: str,
    *,
    root: Path | str | None = None,
    python: Path | str | None = None,
    out: Path | str | None = None,
    budget: float = 60.0,
    isolation: Requested = "auto",
    completer: Completer | None = None,
    llm: bool = False,
    progress: Progress | None = None,
    seed: int = 0,
    min_run_seconds: float | None = None,
    state_dir: Path | None = None,
) -> GenerationReport:
    """Generate pytest tests for the module `target`, keeping only those that pass twice and add coverage.

    Candidates are calls with inputs typed from the hints, defaults and parameter names and mined from the
    constants the code compares against, plus the docstring examples; they run in the sandbox under coverage.
    A candidate becomes a test when it behaves the same in two runs and covers lines or branches no kept test
    did; the next round aims at the lines still uncovered, until `budget` seconds pass or a round adds nothing.
    Round trips and idempotence found in the code become Hypothesis tests. With a `completer`, the model then
    writes test functions for the lines still uncovered (as CoverUp does), kept on the same terms. The kept
    tests then run under pytest twice; any that fails is dropped.

    Args:
        target: A module name the target interpreter imports (`package.module`) or a `.py` file in the root.
        root: The project root (default: the current directory).
        python: The target interpreter (default: `root/.venv/bin/python`, else the current one).
        out: Folder to write `test_<module>_generated.py` in, inside the root (default: not written).
        budget: Wall-clock seconds for the whole generation, measuring included.
        isolation: `auto` (the strongest that works here), `bubblewrap`, `namespaces`, `uid` or `none`.
        completer: A model to ask for candidate calls and test functions aimed at uncovered lines (optional).
        llm: Whether tests from a model were asked for: without a `completer`, `report.llm` then says that the
            offline strategies ran alone. A `completer` is used whether or not this is set.
        progress: Called as work advances, with (seconds spent, budget, what is happening).
        seed: Seed of the input choices, for reproducible output.
        min_run_seconds: The least time each run in the sandbox gets, even when the budget is (nearly) spent:
            the last round and the final check of the kept tests may then end this much after the budget.
            Default: none, and no run goes on past 110% of the budget; when the final check runs out of time,
            the tests it passed are kept, those it did not reach are dropped, and `report.note` says so.
        state_dir: Where the journal of the written file lives (default: the user's state folder).

    Returns:
        The kept tests, their coverage of the target, and the generated module's code.

    Raises:
        TestgenUsageError: When the target, root, interpreter or `out` is wrong.
        MissingToolsError: When the target interpreter lacks pytest, coverage or hypothesis.
        TestgenOperationError: When the sandbox or pytest fails.
    """
    if budget <= 0:
        raise TestgenUsageError(f"budget {budget}: must be a positive number of seconds")
    if min_run_seconds is not None and min_run_seconds <= 0:
        raise TestgenUsageError(f"min_run_seconds {min_run_seconds}: must be a positive number of seconds")
    started = time.monotonic()
    least = min_run_seconds if min_run_seconds is not None else _LEAST_RUN
    limit = None if min_run_seconds is not None else started + _OVERSHOOT * budget
    report: Progress = progress or _no_progress
    project = Project.open(
        root,
        python,
        isolation=isolation,
        limits=Limits(timeout=max(budget, least) + 30),
        tools=("pytest", "coverage", "hypothesis"),
    )
    destination = inside_root(project.root, out, "out", must_exist=False) if out is not None else None
    resolved = resolve_target(project, target)
    report(time.monotonic() - started, budget, f"analysing {resolved.file.name}")
    info = analyze_source(resolved.file)
    reserve = min(max(0.15 * budget, 4.0), 25.0)  # at least: the search also leaves what the check will take
    search_end = started + budget - reserve
    offline_end = search_end - _MODEL_SHARE * (budget - reserve) if completer is not None else search_end
    with project.workdir() as workdir:
        rng = random.Random(seed)  # noqa: S311 (input choices, not secrets)
        loop = Loop(project, resolved, info, workdir, offline_end, rng, min_run_seconds=least, limit=limit)
        report(time.monotonic() - started, budget, f"importing {resolved.module} in the sandbox")
        begun = time.monotonic()
        loop.observe([], hash_seed=0)  # imports it once: its statements, and whether it imports at all
        loop.startup, loop.budget_end, loop.budget = time.monotonic() - begun, started + budget, budget
        logger.info("importing %s in the sandbox took %.2f s", resolved.module, loop.startup)
        rounds, stopped = _search(loop, completer, report, started=started, budget=budget)
        report(time.monotonic() - started, budget, "checking the kept tests under pytest")
        taken: set[str] = set()
        tests = _kept_tests(loop, taken)
        examples = [(observed.candidate, observed.outcome) for observed in loop.kept]
        tests += [render_property(prop, resolved.alias, taken) for prop in find_properties(info, examples)]
        model = ModelTestsReport(used=False, note=NO_MODEL) if llm and completer is None else None
        if completer is not None:
            report(time.monotonic() - started, budget, "asking the model for tests of the uncovered lines")
            from_model, model = model_tests(
                completer,
                project=project,
                target=resolved,
                workdir=workdir,
                statements=loop.statements,
                covered_lines=loop.covered_lines,
                covered_arcs=loop.covered_arcs,
                kept_names=sorted(taken),
                deadline=search_end,
            )
            defined: set[str] = set()
            tests += [render_model_test(entry, taken, defined) for entry in from_model]
        rendered = list(tests)
        command = _command(target, python=python, budget=budget, seed=seed, llm=llm)
        final = validate(
            project,
            resolved,
            workdir,
            tests,
            deadline=started + budget,
            min_seconds=least,
            limit=limit,
            estimate=lambda chosen: _estimate(loop, chosen),
            render=lambda chosen: render_module(
                resolved.module,
                resolved.alias,
                chosen,
                version=own_version(),
                shadowed=resolved.shadowed,
                command=command,
                state=info.has_state,
            ),
        )
        if model is not None and model.used:
            final_count = sum(test.kind == "model" for test in final.tests)
            model.failed += model.kept - final_count
            model.kept = final_count
    code = final.code
    written, backup = write_output(
        destination,
        f"test_{resolved.alias}_generated.py",
        code,
        root=project.root,
        purpose=f"testgen generate {resolved.module}",
        state_dir=state_dir,
    )
    report(time.monotonic() - started, budget, f"{len(final.tests)} tests kept")
    return GenerationReport(
        target=resolved.module,
        source=str(resolved.file),
        test_file=written,
        backup=backup,
        tests=[GeneratedTest(name=t.name, kind=t.kind, target=t.target, new_lines=t.new_coverage) for t in final.tests],
        avoided=[
            SkippedFunction(function=function.qualname, reason=reason)
            for function in testable(info)
            if (reason := avoided(function))
        ],
        candidates=loop.candidates,
        rounds=rounds,
        line_percent=final.line_percent,
        percent=final.percent,
        missing_lines=final.missing_lines,
        isolation=project.sandbox.mode,
        seconds=round(time.monotonic() - started, 2),
        stopped=stopped,
        code=code,
        llm=model,
        functions=explain(loop, final.tests, final.dropped, rendered),
        note=final.note,
    )


def _search(
    loop: Loop, completer: Completer | None, report: Progress, *, started: float, budget: float
) -> tuple[int, Literal["budget", "no-improvement", "complete"]]:
    """Rounds of candidates until every line is covered, the time is up, or rounds stop adding coverage."""
    loop.round(loop.first_candidates())
    rounds, stalled = 1, 0
    while True:
        report(time.monotonic() - started, budget, f"round {rounds}: {len(loop.kept)} tests kept")
        if loop.statements and loop.statements <= loop.covered_lines:
            return rounds, "complete"
        if loop.remaining() <= loop.startup:  # what is left goes to the final check
            return rounds, "budget"
        candidates = (
            loop.aimed_candidates() + loop.repaired_candidates() + loop.state_candidates() + loop.repeated_candidates()
        )
        if stalled:  # aiming found nothing new: widen to every function, vary what worked, before giving up
            candidates += loop.wide_candidates() + loop.varied_candidates()
        if completer is not None:
            uncovered = loop.statements - loop.covered_lines
            candidates += llm_candidates(
                completer, loop.info, loop.target, uncovered, loop.next_id(), timeout=loop.remaining()
            )
        gain = loop.round(candidates)
        rounds += 1
        stalled = 0 if gain else stalled + 1
        logger.debug(
            "round %d: %d candidates, gain %d, at %.1f s", rounds, len(candidates), gain, time.monotonic() - started
        )
        # A stalled search goes on drawing (the inputs are random) while a good share of the budget is left.
        exhausted = loop.fresh < _FRESH  # the inputs left to draw are few: more rounds find nothing new
        if stalled >= _STALLED_ROUNDS and (
            stalled >= _GIVE_UP or exhausted or loop.remaining() < _KEEP_TRYING * budget
        ):
            return rounds, "no-improvement"


def _kept_tests(loop: Loop, taken: set[str]) -> list[RenderedTest]:
    """The search's kept candidates as tests.

    Those that write files (read from the source, or seen as they ran) run in a fresh folder, not the caller's.
    """
    target = loop.target
    tests = [
        test
        for observed in loop.kept
        if (
            test := render_test(
                observed.candidate, observed.outcome, module=target.module, alias=target.alias, taken=taken
            )
        )
    ]
    gains = _gains(loop.kept)
    writers = {function.qualname for function in testable(loop.info) if "writes-files" in function.effects}
    targets = {observed.candidate.id: observed.candidate.target for observed in loop.kept}
    writing = {observed.candidate.id for observed in loop.kept if observed.outcome.get("writes")}
    for test in tests:
        test.new_coverage = gains.get(test.candidate_id, 0)
        if targets.get(test.candidate_id) in writers or test.candidate_id in writing:
            test.fixtures = ["tmp_path", "monkeypatch"]
            test.lines.insert(0, "    monkeypatch.chdir(tmp_path)")
    return tests


def _command(target: str, *, python: Path | str | None, budget: float, seed: int, llm: bool) -> str:
    """The command that makes the same tests again: the target and the options that were used."""
    parts = ["codegen-lab", "testgen", "generate", target]
    if python is not None:
        parts += ["--python", str(python)]
    parts += ["--budget", f"{budget:g}"]
    if seed:
        parts += ["--seed", str(seed)]
    if llm:
        parts.append("--llm")
    return shlex.join(parts)


def _estimate(loop: Loop, tests: Sequence[RenderedTest]) -> tuple[float, float, list[int]]:
    """Coverage of the target by `tests` as the search measured it: line %, line and branch %, missing lines.

    The import's lines count (the tests import the module); a test the search did not observe (a property, a
    model's) adds nothing, so this is a lower bound.
    """
    chosen = {test.candidate_id for test in tests}
    lines, arcs = set(loop.imported_lines), set(loop.imported_arcs)
    for observed in loop.kept:
        if observed.candidate.id in chosen:
            lines |= observed.lines
            arcs |= observed.arcs
    statements = loop.statements
    if not statements:
        raise TestgenOperationError(
            f"coverage of {loop.target.file} was not measured: importing `{loop.target.module}` ran none of it"
        )
    covered = len(statements & lines)
    line_percent = round(100.0 * covered / len(statements), 2)
    branches = loop.branch_arcs or set()
    percent = round(100.0 * (covered + len(branches & arcs)) / (len(statements) + len(branches)), 2)
    return line_percent, percent, sorted(statements - lines)


def _no_progress(_done: float, _total: float, _what: str) -> None:
    """The progress callback when the caller gave none."""


def _gains(kept: Sequence[Observed]) -> dict[str, int]:
    lines: set[int] = set()
    arcs: set[tuple[int, int]] = set()
    gains: dict[str, int] = {}
    for observed in kept:
        gains[observed.candidate.id] = len(observed.lines - lines) + len(observed.arcs - arcs)
        lines |= observed.lines
        arcs |= observed.arcs
    return gains
