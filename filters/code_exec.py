"""For code rows: run the answer's code against the row's tests in the sandbox; drop it unless all pass.

Execution-based filtering as in AlphaCode (Li et al. 2022, arXiv 2203.07814: samples that fail the
problem's example tests are discarded) and the execution checks of code SFT sets (OSS-Instruct,
APIGen's execution checker): a row keeps its solution only when the code runs and every test passes.
The code is the answer's longest ```python block (or `code_field`); the tests are in `tests_field`:
`assert` strings, `{input, output}` stdin/stdout pairs, or APPS's `{inputs, outputs}`
(synth.execute.code_checks). Each test runs in its own sandboxed process (synth.execute: limits,
no network with bubblewrap), the tests of a row concurrently; with `cache` the results are kept in
a SQLite file, so filtering the same rows again runs nothing.

Not implemented: generated tests and CodeT agreement for rows without tests (the `code` recipe does
that); languages other than Python.
"""

from __future__ import annotations

from typing import Literal

from synth.errors import SynthError
from synth.execute import Executor, Limits, SQLiteCache
from synth.execute.code_checks import extract_code, parse_tests, run_tests, tail
from synth.filter import Decision, Filter, FilterOptions, option


class CodeExecOptions(FilterOptions):
    tests_field: str = option("tests", "record field with the tests: assert strings, {input, output} pairs, or "
                              "{inputs, outputs}", source="MBPP / APPS row shapes")
    code_field: str | None = option(None, "record field holding the code (default: the answer's ```python block)")
    missing_tests: Literal["reject", "keep"] = option("reject", "a row without tests: reject it or keep it unrun")
    cache: str | None = option(None, "SQLite file caching results across runs (created if missing); default none")
    limits: Limits = option(Limits(), "sandbox limits per test run (synth.execute.Limits)")
    isolation: Literal["auto", "bwrap", "rlimits"] = option("auto", "sandbox: bubblewrap when it works here, "
                                                            "required, or rlimits only")
    max_output_chars: int = option(500, "characters of the failing test's output in the detail", ge=50)


class CodeExecFilter(Filter):
    """Reject code answers that do not pass their row's tests when run in the sandbox."""

    name = "code-exec"
    description = "Code rows: run the answer's code against the row's tests in a sandbox; keep it if all pass."
    Options = CodeExecOptions
    reasons = ("code_exec_no_code", "code_exec_no_tests", "code_exec_bad_tests", "code_exec_failed",
               "code_exec_timeout", "code_exec_resource_limit")
    score_names = ("code_exec_passed", "code_exec_total")

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        o = self.options
        self.executor = Executor(o.limits, isolation=o.isolation, cache=SQLiteCache(o.cache) if o.cache else None)

    def filter(self, record):
        o = self.options
        if o.code_field:
            raw = str(record.get(o.code_field) or "")
            code = extract_code(raw) or raw.strip() or None  # a bare code column, fenced or not
        else:
            code = extract_code(self.answer(record))
        if not code:
            return Decision(False, "code_exec_no_code", {"code_exec_passed": None, "code_exec_total": None})
        try:
            tests = parse_tests(record.get(o.tests_field))
        except ValueError as exc:
            return Decision(False, "code_exec_bad_tests", {"code_exec_passed": None, "code_exec_total": None},
                           detail=str(exc)[:300])
        if not tests:
            keep = o.missing_tests == "keep"
            return Decision(keep, None if keep else "code_exec_no_tests", {"code_exec_passed": None,
                                                                         "code_exec_total": 0})
        outcomes = run_tests(self.executor, code, tests)
        broken = next((x for x in outcomes if x.status == "sandbox_error"), None)
        if broken is not None:
            raise SynthError(f"filter 'code-exec': the sandbox could not run a test ({broken.output}): "
                             "check `isolation`, or install bubblewrap")
        scores = {"code_exec_passed": sum(x.passed for x in outcomes), "code_exec_total": len(outcomes)}
        failed = next((x for x in outcomes if not x.passed), None)
        if failed is None:
            return Decision(True, scores=scores)
        reason = {"tests_failed": "code_exec_failed"}.get(failed.reason, f"code_exec_{failed.reason}")
        return Decision(False, reason, scores, detail=f"{failed.test.label[:200]} -> {failed.status}: "
                       f"{tail(failed.output, o.max_output_chars)}")
