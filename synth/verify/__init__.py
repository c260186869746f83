"""Answer checking: extract a final answer, split a solution into steps, compare with the gold answer.

    >>> from synth.verify import check, extract_answer
    >>> check("0.75", extract_answer(r"so the share is \\boxed{\\frac{3}{4}}").answer).status
    'correct'

See docs/answer-checking.md for the statuses, methods and what counts as equivalent.
"""

from synth.verify.choice import find_choice, gold_choice
from synth.verify.chinese import parse_chinese_number
from synth.verify.equivalence import (
    DEFAULT_TIMEOUT,
    Status,
    Verdict,
    acheck,
    acheck_many,
    check,
    check_many,
    check_solution,
    fast_check,
)
from synth.verify.extract import Extraction, extract_answer
from synth.verify.numbers import Number, numbers_equal, parse_number
from synth.verify.steps import split_steps
from synth.verify.timeout import WorkerPool

__all__ = [
    "DEFAULT_TIMEOUT",
    "Extraction",
    "Number",
    "Status",
    "Verdict",
    "WorkerPool",
    "acheck",
    "acheck_many",
    "check",
    "check_many",
    "check_solution",
    "extract_answer",
    "fast_check",
    "find_choice",
    "gold_choice",
    "numbers_equal",
    "parse_chinese_number",
    "parse_number",
    "split_steps",
]
