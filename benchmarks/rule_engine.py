"""Rule engine speed: corpus parse rate, the compiled matcher against a naive loop, lint time on the corpus.

- Parse: every file of ../shared/corpus/cursor-rules read into a Rule (files/s; median of --repeat runs).
- Matcher: 100,000 repository paths x 500 rules whose globs are drawn from the corpus. The baseline is the naive
  loop: every pattern of every rule, each compiled once with wcmatch (the glob library), matched against every
  path. The naive loop runs on a sample of paths (it is slow); both give their time per path, and their
  answers are compared on that sample. Target: >= 20x faster, same answers.
- Lint: the whole corpus linted (seconds; median), and lint files per CPU-second (target >= 500/s), with the
  parse rate of the same files in CPU time as the baseline (lint parses, then checks: its ratio to parsing alone).
- Index: `rules_for_path` on a generated repository of --files files (default 6,000): p50 over 100 calls after the
  first through a `RuleIndex` (what the MCP tools use), against the baseline of a load per call (what they did
  before), measured in the same run over --baseline-calls calls. Target: a p50 in milliseconds.

Run: `uv run --all-packages python benchmarks/rule_engine.py [--paths 100000] [--rules 500] [--sample 2000]
[--files 6000]`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from wcmatch import glob

from codegen_lab.rule_engine import (
    CompiledRules,
    RuleEngine,
    RuleIndex,
    formats,
    glob_flags,
    lint,
    rule_from_text,
    scoped_pattern,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cursor-rules"
FOLDERS = [
    "src",
    "lib",
    "app",
    "api",
    "components",
    "utils",
    "tests",
    "docs",
    "web",
    "core",
    "models",
    "services",
    "pages",
    "hooks",
    "store",
    "server",
    "client",
    "config",
    "scripts",
    "internal",
]
EXTENSIONS = [
    ".py",
    ".ts",
    ".tsx",
    ".js",
    ".jsx",
    ".md",
    ".json",
    ".go",
    ".rs",
    ".java",
    ".css",
    ".svelte",
    ".vue",
    ".yaml",
    ".toml",
    ".html",
    ".sql",
    ".sh",
    ".rb",
    ".php",
    "",
]


def corpus_rules() -> list[tuple[Path, str, str]]:
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
    return [(CORPUS / e["file"], e["file"], (CORPUS / e["file"]).read_text(encoding="utf-8")) for e in manifest]


def bench_parse(files: list[tuple[Path, str, str]], repeat: int) -> float:
    cursor = next(f for f in formats() if f.name == "cursor-mdc")
    legacy = next(f for f in formats() if f.name == "cursorrules")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for path, relpath, text in files:
            rule_from_text(text, path=path, relpath=relpath, fmt=cursor if path.suffix == ".mdc" else legacy)
        times.append(time.perf_counter() - started)
    return len(files) / statistics.median(times)


def corpus_globs(files: list[tuple[Path, str, str]]) -> list[tuple[str, ...]]:
    cursor = next(f for f in formats() if f.name == "cursor-mdc")
    found = []
    for path, relpath, text in files:
        rule = rule_from_text(text, path=path, relpath=relpath, fmt=cursor)
        if rule.globs and not any(p.startswith('"') for p in rule.globs):
            found.append(rule.globs)
    return found


def make_paths(count: int, rng: random.Random) -> list[str]:
    paths = []
    for _ in range(count):
        depth = rng.choice([0, 1, 1, 2, 2, 3, 4])
        folders = [rng.choice(FOLDERS) for _ in range(depth)]
        paths.append("/".join([*folders, f"file{rng.randrange(1000)}{rng.choice(EXTENSIONS)}"]))
    return paths


def make_rules(count: int, globs: list[tuple[str, ...]], rng: random.Random) -> list[tuple[str, list[str]]]:
    rules = []
    for _ in range(count):
        scope = rng.choice(["", "", "", "", "api", "web", "services/core"])
        patterns = list(rng.choice(globs))
        if rng.random() < 0.1:
            patterns.append("!tests/**")
        rules.append((scope, patterns))
    return rules


def naive_attached(compiled: list[tuple[list[object], list[object]]], path: str) -> set[int]:
    attached = set()
    for index, (positives, negatives) in enumerate(compiled):
        if any(m.match(path) for m in positives) and not any(m.match(path) for m in negatives):  # type: ignore[attr-defined]
            attached.add(index)
    return attached


def bench_matcher(args: argparse.Namespace, globs: list[tuple[str, ...]]) -> tuple[float, float, int]:
    rng = random.Random(20261126)
    paths = make_paths(args.paths, rng)
    rules = make_rules(args.rules, globs, rng)
    sample = paths[: args.sample]

    started = time.perf_counter()
    matcher = CompiledRules(rules)
    build = time.perf_counter() - started
    flags = glob_flags()
    naive = [
        (
            [glob.compile(scoped_pattern(p, scope), flags=flags) for p in patterns if not p.startswith("!")],
            [glob.compile(scoped_pattern(p[1:], scope), flags=flags) for p in patterns if p.startswith("!")],
        )
        for scope, patterns in rules
    ]
    ours_times, naive_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for path in paths:
            matcher.attached(path)
        ours_times.append((time.perf_counter() - started) / len(paths))
        started = time.perf_counter()
        for path in sample:
            naive_attached(naive, path)
        naive_times.append((time.perf_counter() - started) / len(sample))
    mismatches = sum(set(matcher.attached(path)) != naive_attached(naive, path) for path in sample)
    print(
        f"  matcher: {len(rules)} rules, {matcher.size} distinct patterns after brace expansion, built in "
        f"{build * 1000:.1f} ms"
    )
    return statistics.median(ours_times), statistics.median(naive_times), mismatches


def make_repository(root: Path, files: int, rng: random.Random) -> list[str]:
    """A repository of `files` files in nested folders, with Cursor rules, AGENTS.md files and a .gitignore."""
    written: list[str] = []
    while len(written) < files:
        relpath = make_paths(1, rng)[0]
        path = root / relpath
        if path.exists() or any(part in {"build", "dist"} for part in path.parts):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n", encoding="utf-8")
        written.append(relpath)
    rules = root / ".cursor" / "rules"
    rules.mkdir(parents=True)
    for index, pattern in enumerate(["**/*.py", "src/**/*.ts", "**/*.{js,jsx}", "docs/**", "api/**/*.go"] * 4):
        (rules / f"r{index}.mdc").write_text(f"---\nglobs: {pattern}\n---\nrule {index}\n", encoding="utf-8")
    (rules / "always.mdc").write_text("---\nalwaysApply: true\n---\nalways\n", encoding="utf-8")
    for folder in ("", "api/", "web/", "services/"):
        (root / f"{folder}AGENTS.md").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{folder}AGENTS.md").write_text("agents\n", encoding="utf-8")
    (root / ".gitignore").write_text("*.log\n", encoding="utf-8")
    return written


def bench_index(files: int, baseline_calls: int) -> tuple[float, float, float, float]:
    """(first call, p50 through the index, p50 of a load per call, p50 with every assistant's view), in seconds.

    The index watches the tree (file-system events), as the MCP toolkit's does; plain and all-assistant calls
    are interleaved.
    """
    rng = random.Random(20261202)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = make_repository(root, files, rng)
        asked = [rng.choice(paths) for _ in range(101)]
        index = RuleIndex(watch=True)
        started = time.perf_counter()
        index.engine(root).explain(asked[0])
        first = time.perf_counter() - started
        indexed, grouped = [], []
        for path in asked[1:]:
            started = time.perf_counter()
            index.engine(root).explain(path)
            indexed.append(time.perf_counter() - started)
            started = time.perf_counter()
            index.engine(root).explain(path, "all")
            grouped.append(time.perf_counter() - started)
        loaded = []
        for path in asked[1 : baseline_calls + 1]:
            started = time.perf_counter()
            RuleEngine.load(root).explain(path)
            loaded.append(time.perf_counter() - started)
        folders = len(index.engine(root).folders)
        watched = "watched" if index.watching(root) else "not watched: folder sweep"
        print(
            f"  index: {files:,} files in {folders} folders ({watched}); {index.loads} load(s) for {len(asked)} calls"
        )
        index.close()
    return first, statistics.median(indexed), statistics.median(loaded), statistics.median(grouped)


def bench_lint_cpu(files: list[tuple[Path, str, str]], repeat: int) -> tuple[float, float]:
    """(lint files per CPU-second, parse files per CPU-second) on the corpus, best of `repeat`."""
    lint_rates, parse_rates = [], []
    cursor = next(f for f in formats() if f.name == "cursor-mdc")
    legacy = next(f for f in formats() if f.name == "cursorrules")
    for _ in range(repeat):
        started = time.process_time()
        report = lint(RuleEngine.load(CORPUS, loose=True))
        lint_rates.append(report.files / (time.process_time() - started))
        started = time.process_time()
        for path, relpath, _ in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            rule_from_text(text, path=path, relpath=relpath, fmt=cursor if path.suffix == ".mdc" else legacy)
        parse_rates.append(len(files) / (time.process_time() - started))
    return max(lint_rates), max(parse_rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=6_000)
    parser.add_argument("--baseline-calls", type=int, default=20)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"the corpus is not at {CORPUS}", file=sys.stderr)
        return 2

    files = corpus_rules()
    rate = bench_parse(files, args.repeat)
    print(f"parse: {len(files)} corpus files, median {rate:,.0f} files/s")

    ours, naive, mismatches = bench_matcher(args, corpus_globs(files))
    ratio = naive / ours
    print(
        f"match: {args.paths:,} paths x {args.rules} rules: compiled {ours * 1e6:.1f} us/path "
        f"({ours * args.paths:.2f} s for all), naive loop {naive * 1e6:.1f} us/path "
        f"(measured on {args.sample:,} paths; {naive * args.paths:.1f} s for all)"
    )
    print(
        f"       ratio {ratio:.1f}x (target >= 20x: {'ok' if ratio >= 20 else 'MISSED'}); "
        f"answers differ on {mismatches} of {args.sample:,} sampled paths"
    )

    lint_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        lint(RuleEngine.load(CORPUS, loose=True))
        lint_times.append(time.perf_counter() - started)
    print(f"lint: the whole corpus ({len(files)} files), median {statistics.median(lint_times):.2f} s")
    lint_rate, parse_rate = bench_lint_cpu(files, args.repeat)
    print(
        f"lint CPU: {lint_rate:,.0f} files per CPU-second (target >= 500: {'ok' if lint_rate >= 500 else 'MISSED'}); "
        f"baseline parse alone {parse_rate:,.0f} files per CPU-second; lint/parse ratio {lint_rate / parse_rate:.2f}"
    )

    first, indexed, loaded, grouped = bench_index(args.files, args.baseline_calls)
    print(
        f"rules_for_path: first call {first * 1000:.0f} ms; p50 after it {indexed * 1000:.2f} ms through the index "
        f"(100 calls), baseline a load per call {loaded * 1000:.0f} ms (p50 of {args.baseline_calls}); "
        f"ratio {loaded / indexed:.0f}x; with every assistant's view (the MCP default) p50 {grouped * 1000:.2f} ms"
    )
    ok = ratio >= 20 and mismatches == 0 and lint_rate >= 500 and indexed < 0.05 and grouped < 0.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
