"""Code against tests, shared by the `code` recipe and the `code-exec` filter: tests read from rows or
model answers, one sandboxed process per (solution, test), verdicts per test, and CodeT's dual agreement.

Two kinds of test:

- ``assert``: Python statements (MBPP's ``assert f(1) == 2``, HumanEval's ``check(candidate)`` code). The
  program runs the solution as a module named ``solution`` (so an ``if __name__ == "__main__"`` block
  stays quiet), then the test in the same namespace, then prints a sentinel line: it passes when it exits
  0 *and* the sentinel is the last line (a solution that calls ``sys.exit(0)`` at import does not pass);
- ``io``: the solution is the main program, the test's ``input`` its stdin; it passes when it exits 0 and
  its stdout equals ``output`` (trailing whitespace of each line and trailing blank lines ignored).

    >>> [t.kind for t in parse_tests(["assert add(1, 2) == 3", {"input": "1 2", "output": "3"}])]
    ['assert', 'io']
    >>> [t.code for t in parse_tests("assert f(1) == 1\\nassert f(2) == 4\\n")]
    ['assert f(1) == 1', 'assert f(2) == 4']
    >>> extract_code("Here:\\n```python\\ndef f(x):\\n    return x * x\\n```\\nDone.")
    'def f(x):\\n    return x * x'
    >>> consensus([{0, 1}, {0, 1}, {0}, set()]).solutions
    [0, 1]
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from synth.execute.executor import Executor
from synth.execute.program import Program, Result

SENTINEL = "__synth_test_passed__"
HARNESS = (
    '_g = {"__name__": "solution", "__file__": "solution.py", "__builtins__": __builtins__}\n'
    'exec(compile(open("solution.py", encoding="utf-8").read(), "solution.py", "exec"), _g)\n'
    'exec(compile(open("test.py", encoding="utf-8").read(), "test.py", "exec"), _g)\n'
    f'print("\\n{SENTINEL}")\n'
)
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
_CODE_HINT = re.compile(r"^\s*(def |class |import |from \w+ import |print\(|for |while |if )", re.M)
# a failing test's status -> the reason a solution is rejected for it
REASONS = {"failed": "tests_failed", "wrong_output": "tests_failed", "error": "tests_failed",
           "exited_early": "tests_failed", "timeout": "timeout", "memory_limit": "resource_limit",
           "output_limit": "resource_limit", "file_limit": "resource_limit", "killed": "resource_limit"}


@dataclass(frozen=True)
class CodeTest:
    """One test: Python statements (`assert`) or a stdin / expected-stdout pair (`io`)."""

    kind: str
    code: str = ""
    input: str = ""
    output: str = ""

    @property
    def label(self) -> str:
        return self.code if self.kind == "assert" else f"stdin: {self.input!r} -> {self.output!r}"


def parse_tests(value: Any) -> list[CodeTest]:
    """Tests from a row's field: a string of statements (each top-level statement of a string of only
    asserts is one test), a list of such strings, `{input, output}` mappings, or APPS's
    `{"inputs": [...], "outputs": [...]}`. Raises ValueError for anything else."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):
        return split_asserts(value) or [CodeTest("assert", value.strip())]
    if isinstance(value, dict):
        if "inputs" in value and "outputs" in value:
            return [CodeTest("io", input=_text(i), output=_text(o)) for i, o in zip(value["inputs"], value["outputs"])]
        if "input" in value and "output" in value:
            return [CodeTest("io", input=_text(value["input"]), output=_text(value["output"]))]
        raise ValueError(f"a test mapping needs input and output (or inputs and outputs), got keys {sorted(value)}")
    if isinstance(value, (list, tuple)):
        out: list[CodeTest] = []
        for item in value:
            if isinstance(item, str):
                if item.strip():
                    out.append(CodeTest("assert", item.strip()))
            else:
                out += parse_tests(item)
        return out
    raise ValueError(f"tests must be a string, a list or a mapping, not {type(value).__name__}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "\n".join(map(str, value)) if isinstance(value, list) else str(value)


def split_asserts(source: str) -> list[CodeTest]:
    """Each top-level statement of `source` as a test when every one is an `assert`; else []."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    if not tree.body or not all(isinstance(node, ast.Assert) for node in tree.body):
        return []
    return [CodeTest("assert", ast.get_source_segment(source, node) or ast.unparse(node)) for node in tree.body]


def extract_code(text: str | None, language: str = "python") -> str | None:
    """The solution in a model's answer: the longest fenced block tagged `language` (or untagged), else the
    whole answer when it parses as Python and looks like code; None when there is no code."""
    if not text:
        return None
    blocks = [(tag.lower(), body.strip("\n")) for tag, body in _FENCE.findall(text)]
    tagged = [b for t, b in blocks if t in (language, "py", "python3")] or [b for t, b in blocks if not t]
    if tagged:
        return max(tagged, key=len).strip() or None
    if blocks:
        return None
    try:
        ast.parse(text)
    except SyntaxError:
        return None
    return text.strip() if _CODE_HINT.search(text) else None


def generated_tests(text: str | None) -> list[CodeTest]:
    """The assert statements of a model's answer (its code block, else its text), one test each."""
    code = extract_code(text) or (text or "")
    found = split_asserts(code)
    if found:
        return found
    return [CodeTest("assert", line.strip()) for line in code.splitlines()
            if line.strip().startswith("assert ") and _parses(line.strip())]


def _parses(line: str) -> bool:
    try:
        ast.parse(line)
        return True
    except SyntaxError:
        return False


def program_for(code: str, test: CodeTest, language: str = "python") -> Program:
    if test.kind == "io":
        return Program(code, language=language, stdin=test.input)
    return Program(HARNESS, language=language, files={"solution.py": code, "test.py": test.code})


@dataclass
class Outcome:
    """A solution's verdict on one test: `passed`, or `failed` (an assert), `wrong_output`, `error`,
    `exited_early`, or the executor's status (`timeout`, `memory_limit`, ...)."""

    test: CodeTest
    status: str
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, self.status)

    def as_dict(self, max_chars: int = 1000) -> dict:
        return {"test": self.test.label[:max_chars], "status": self.status, "passed": self.passed,
                "output": tail(self.output, max_chars)}


def tail(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else "…" + text[-(max_chars - 1):]


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).rstrip()


def judge(test: CodeTest, result: Result) -> Outcome:
    """The outcome of `test` from the result of its program."""
    printed = (result.stderr.strip() + ("\n" if result.stderr.strip() and result.stdout.strip() else "")
               + result.stdout.strip()) if result.status != "ok" else ""
    if result.status == "sandbox_error":
        return Outcome(test, "sandbox_error", result.detail or "")
    if result.status == "error":
        failed = (result.detail or "").startswith("AssertionError") and test.kind == "assert"
        return Outcome(test, "failed" if failed else "error", printed)
    if result.status != "ok":
        return Outcome(test, result.status, f"{result.detail}\n{printed}".strip())
    if test.kind == "assert":
        if result.stdout.rstrip().endswith(SENTINEL):
            return Outcome(test, "passed")
        return Outcome(test, "exited_early", "the program exited (code 0) before the test finished\n"
                       + result.stdout.strip())
    if _norm(result.stdout) == _norm(test.output):
        return Outcome(test, "passed")
    return Outcome(test, "wrong_output", f"expected:\n{test.output.strip()}\ngot:\n{result.stdout.strip()}")


async def arun_tests(executor: Executor, code: str, tests: list[CodeTest], language: str = "python") -> list[Outcome]:
    results = await executor.arun_many([program_for(code, t, language) for t in tests])
    return [judge(t, r) for t, r in zip(tests, results)]


def run_tests(executor: Executor, code: str, tests: list[CodeTest], language: str = "python") -> list[Outcome]:
    results = executor.run_many([program_for(code, t, language) for t in tests])
    return [judge(t, r) for t, r in zip(tests, results)]


@dataclass
class Consensus:
    """CodeT's best consensus set: the tests agreed on and the solutions that pass exactly those."""

    tests: list[int]
    solutions: list[int]
    score: int


def consensus(passed: list[set[int]]) -> Consensus | None:
    """CodeT dual execution agreement (Chen et al. 2022, arXiv 2207.10397): solutions passing the same
    set of generated tests form a consensus set, scored (solutions in it) x (tests in it); the best set
    wins (ties: more tests, then the earliest solution). None when no solution passes any test."""
    groups: dict[frozenset[int], list[int]] = {}
    for i, tests in enumerate(passed):
        if tests:
            groups.setdefault(frozenset(tests), []).append(i)
    if not groups:
        return None
    best = max(groups.items(), key=lambda kv: (len(kv[1]) * len(kv[0]), len(kv[0]), -kv[1][0]))
    return Consensus(sorted(best[0]), best[1], len(best[1]) * len(best[0]))
