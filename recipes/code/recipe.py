"""`code`: k candidate solutions per programming problem, each run against tests in the sandbox
(synth.execute); the ones that pass are kept, the others rejected with the failing test's output, and
passing / failing pairs kept for DPO.

Tests come from the seed row (MBPP-style `assert` strings, `{input, output}` stdin/stdout pairs, or
APPS's `{inputs, outputs}`) or, without them, from the model: `test_samples` answers of up to `n_tests`
asserts each. With given tests a solution is kept when it passes all of them (the execution filter of
AlphaCode, Li et al. 2022, arXiv 2203.07814, and of most code SFT sets). With generated tests the
model's tests may be wrong too, so the solutions and tests vote: CodeT's dual execution agreement
(Chen et al. 2022, arXiv 2207.10397) groups solutions by the set of tests they pass, scores each group
(solutions x tests) and keeps the solutions that pass the best group's tests.

Each candidate is one record: kept ones carry `execution` (a verdict per test), their SFT `messages`
and up to `rejected_per_record` failing candidates in `rejected_solutions` (the `dpo` export pairs them); a
failing one is rejected (`"rejected": "tests_failed"`, `timeout`, `resource_limit`, `no_code`,
`no_tests`, `no_consensus`) and lands in rejected.jsonl with its `failure` (the test and its output).

Left out: CodeT's sampling of test inputs apart from outputs and its cap on the number of tests per
solution; AlphaCode's clustering of solutions by behaviour on generated inputs; languages other than
Python (the executor's set); repair of failing solutions from their test output (self-debugging).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import Field

from synth.errors import ConfigError, RecipeError
from synth.execute import Executor, Limits, detect
from synth.execute.code_checks import (REASONS, CodeTest, Outcome, arun_tests, consensus, extract_code,
                                       generated_tests, parse_tests)
from synth.recipe import Recipe, RecipeOptions
from synth.recipes._records import generation_info, sft_messages, to_dpo
from synth.text import prompt_language


class CodeOptions(RecipeOptions):
    problem_field: str = Field("problem", description="seed column holding the problem statement")
    tests_field: str | None = Field("tests", description="seed column holding tests: assert strings, "
                                    "{input, output} pairs or {inputs, outputs}")
    starter_field: str | None = Field("starter", description="seed column with starter code (a signature), optional")
    tests: Literal["auto", "given", "generated"] = Field(
        "auto", description="auto: the row's tests when it has them, else generated ones")
    language: Literal["auto", "en", "zh"] = Field("auto", description="prompt language (auto: by the problem's script)")
    system: str | None = Field(None, description="system prompt for every request")
    k: int = Field(4, ge=1, le=256, description="candidate solutions per problem")
    temperature: float | None = Field(None, ge=0, le=2, description="sampling temperature (default: the run's)")
    top_p: float | None = Field(None, gt=0, le=1, description="nucleus sampling (default: the run's)")
    max_tokens: int | None = Field(None, ge=1, description="tokens per solution (default: the run's)")
    seed: int | None = Field(None, description="seed of sample 0 (sample i uses seed + i)")
    test_seed: int | None = Field(None, description="seed of test answer 0 (default: derived from the prompt)")
    test_samples: int = Field(2, ge=1, le=64, description="answers asked for generated tests")
    n_tests: int = Field(5, ge=1, le=50, description="tests asked for in each answer")
    max_tests: int = Field(10, ge=1, le=200, description="generated tests kept (distinct, in order)")
    test_temperature: float | None = Field(None, ge=0, le=2, description="temperature of test generation")
    test_max_tokens: int | None = Field(None, ge=1, description="tokens per test answer (default: the run's)")
    min_consensus: int = Field(1, ge=1, description="generated tests: fewest solutions in the winning consensus set")
    keep: Literal["passing", "all"] = Field("passing", description="passing: failing candidates are rejected "
                                            "records; all: every candidate is data, with `correct` set")
    rejected_per_record: int = Field(1, ge=0, le=16, description="failing candidates stored on each kept "
                                     "record for DPO pairs, spread round-robin")
    max_output_chars: int = Field(1000, ge=100, le=100_000, description="characters of a test's output kept")
    limits: Limits = Field(default_factory=Limits, description="sandbox limits per test run (synth.execute.Limits)")
    isolation: Literal["auto", "bwrap", "rlimits"] = Field("auto", description="sandbox: bubblewrap when it works "
                                                           "here (auto), required (bwrap), or rlimits only")


class CodeRecipe(Recipe):
    name = "code"
    version = "1"
    description = "Code solutions run against given or generated tests in a sandbox; passing kept, DPO pairs."
    Options = CodeOptions
    exports = {"dpo": to_dpo}

    def __init__(self, options=None) -> None:
        super().__init__(options)
        detect(self.options.isolation)  # `isolation: bwrap` without a working bubblewrap stops here
        self._executor: Executor | None = None

    def required_fields(self) -> list[str]:
        o = self.options
        if o.tests == "given" and not o.tests_field:
            raise ConfigError("recipe 'code': options.tests: given needs options.tests_field")
        return [o.problem_field] + ([o.tests_field] if o.tests == "given" else [])

    def executor(self, llm) -> Executor:
        if self._executor is None:
            self._executor = Executor.for_llm(llm, self.options.limits, isolation=self.options.isolation)
        return self._executor

    def prompt(self, kind: str, problem: str, starter: str, **extra) -> list[dict]:
        o = self.options
        lang = o.language if o.language != "auto" else prompt_language(problem)
        user = self.render(f"{kind}_{lang}.j2", problem=problem, starter=starter, **extra)
        return ([{"role": "system", "content": o.system}] if o.system else []) + [{"role": "user", "content": user}]

    async def run(self, row, llm):
        o = self.options
        problem = str(row[o.problem_field]).strip()
        starter = str(row.get(o.starter_field) or "").strip() if o.starter_field else ""
        try:
            given = parse_tests(row.get(o.tests_field)) if o.tests_field else []
        except ValueError as exc:
            raise RecipeError(f"{o.tests_field!r}: {exc}") from None
        if o.tests == "given" and not given:
            raise RecipeError(f"no tests in {o.tests_field!r} (tests: given)")
        use_given = bool(given) and o.tests != "generated"
        prompt = self.prompt("solve", problem, starter)
        solve = llm.chat(prompt, n=o.k, temperature=o.temperature, top_p=o.top_p, max_tokens=o.max_tokens,
                         seed=o.seed)
        if use_given:
            completions, tests = await solve, given
        else:
            ask = llm.chat(self.prompt("tests", problem, starter, n=o.n_tests), n=o.test_samples,
                           temperature=o.test_temperature, max_tokens=o.test_max_tokens, seed=o.test_seed)
            completions, answers = await asyncio.gather(solve, ask)
            tests = _distinct([t for a in answers for t in generated_tests(a.text)])[: o.max_tests]
        codes = [extract_code(c.text) for c in completions]
        executor = self.executor(llm)
        runs = await asyncio.gather(*(arun_tests(executor, code, tests) if code and tests else _none()
                                      for code in codes))
        broken = next((x for outs in runs for x in outs if x.status == "sandbox_error"), None)
        if broken is not None:  # the sandbox, not the solution: fail the row (retried on the next run)
            raise RecipeError(f"the sandbox could not run a test: {broken.output}")
        agreed, agreement = list(range(len(tests))), None
        if not use_given:
            found = consensus([{j for j, x in enumerate(outs) if x.passed} for outs in runs])
            if found is not None and len(found.solutions) >= o.min_consensus:
                agreed = found.tests
                agreement = {"tests": len(found.tests), "solutions": len(found.solutions), "score": found.score}
            else:
                agreed = None
        verdicts = [_verdict(code, tests, outs, agreed, o.max_output_chars) for code, outs in zip(codes, runs)]
        return self.records(llm, problem, prompt, completions, codes, tests, runs, verdicts, agreed, agreement,
                            "given" if use_given else "generated")

    def records(self, llm, problem, prompt, completions, codes, tests, runs, verdicts, agreed, agreement,
                source) -> list[dict]:
        o = self.options
        passing = [i for i, (reason, _) in enumerate(verdicts) if reason is None]
        failing = _distinct_failures([i for i, (reason, _) in enumerate(verdicts) if reason is not None and codes[i]],
                                     codes)
        stats = {"samples": len(completions), "with_code": sum(bool(c) for c in codes), "tests": len(tests),
                 "passing": len(passing)}
        sampling = {"k": o.k, "temperature": o.temperature if o.temperature is not None else llm.defaults.temperature,
                    "max_tokens": o.max_tokens or llm.defaults.max_tokens}
        m = min(o.rejected_per_record, len(failing))
        out = []
        for i in range(len(completions)):
            reason, failure = verdicts[i]
            kept = reason is None
            pos = passing.index(i) if kept else 0
            partners = [failing[(pos * m + t) % len(failing)] for t in range(m)] if kept else []
            outs = runs[i]
            record = {
                "problem": problem,
                "language": "python",
                "sample_index": i,
                "solution": completions[i].text,
                "code": codes[i],
                "tests_source": source,
                "execution": {
                    "tests": [x.as_dict(o.max_output_chars) for x in outs],
                    "passed": sum(x.passed for x in outs), "failed": sum(not x.passed for x in outs),
                    "total": len(outs), "agreed": agreed if agreed is not None else [],
                    "status": "passed" if kept else reason, "isolation": self._executor.isolation,
                },
                "consensus": agreement,
                "failure": failure,
                "correct": kept,
                "selected": kept,
                "rejected_solutions": [{"solution": completions[j].text, "code": codes[j], "status": verdicts[j][0],
                                        "failure": verdicts[j][1]} for j in partners] if kept else [],
                "rejected": None,
                "stats": stats,
                "generation": generation_info(llm, completions[i], **sampling),
                "messages": sft_messages(prompt, completions[i].text) if kept else None,
            }
            if not kept and o.keep == "passing":
                record["rejected"] = reason
            out.append(record)
        return out

    async def close(self) -> None:
        self._executor = None


async def _none() -> list[Outcome]:
    return []


def _distinct(tests: list[CodeTest]) -> list[CodeTest]:
    seen, out = set(), []
    for t in tests:
        key = " ".join(t.code.split())
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _distinct_failures(indices: list[int], codes: list[str | None]) -> list[int]:
    seen, out = set(), []
    for i in indices:
        key = "\n".join(line.rstrip() for line in (codes[i] or "").strip().splitlines())
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def _verdict(code: str | None, tests: list[CodeTest], outs: list[Outcome],
             agreed: list[int] | None, max_chars: int) -> tuple[str | None, dict | None]:
    """(None, None) for a solution to keep, else (the reason, the failing test as a dict or None)."""
    if not code:
        return "no_code", None
    if not tests:
        return "no_tests", None
    if agreed is None:
        return "no_consensus", None
    for j in agreed:
        if not outs[j].passed:
            return REASONS.get(outs[j].status, "tests_failed"), outs[j].as_dict(max_chars)
    return None, None
