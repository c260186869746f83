"""Answer checking: extract a final answer, split a solution into steps, compare with the gold answer.

    >>> from synth.verify import check, extract_answer
    >>> check("0.75", extract_answer(r"so the share is \\boxed{\\frac{3}{4}}").answer).status
    'correct'
    >>> check("0.75", r"<think>3 of 4 parts...</think> so the share is \\boxed{\\frac{3}{4}}").extraction
    'boxed'

See docs/answer-checking.md for the statuses, methods and what counts as equivalent.
"""

from synth.verify.choice import find_choice, gold_choice, gold_option
from synth.verify.chinese import parse_chinese_number
from synth.verify.decide import Status, Verdict, fast_check
from synth.verify.equivalence import DEFAULT_TIMEOUT, acheck, acheck_many, check, check_many, check_solution
from synth.verify.extract import Extraction, extract_answer, split_thinking
from synth.verify.latex import ORDERS
from synth.verify.numbers import Number, numbers_equal, parse_number
from synth.verify.steps import split_steps
from synth.verify.timeout import WorkerPool

__all__ = [
    "DEFAULT_TIMEOUT",
    "Extraction",
    "ORDERS",
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
    "gold_option",
    "numbers_equal",
    "parse_chinese_number",
    "parse_number",
    "split_steps",
    "split_thinking",
]
