"""The items of one ask, turned into checked records: one builder per format (cloze, mcq, true_false,
short_answer), each applying the rules of recipe.py's docstring and giving a verdict (pass, fail or
uncertain, with a reason), and the record, prompt and checker spec every item carries.
"""

from __future__ import annotations

import random

from pydantic import BaseModel

from synth.grounding import Context, Thresholds, check_answer, normalize, verify_quotes
from synth.recipes.doc_quiz import checks as ck

LETTERS = "ABCDEFGH"


class _Cloze(BaseModel):
    sentence: str
    answer: str


class _Mcq(BaseModel):
    question: str
    correct: list[str]
    distractors: list[str]
    evidence: list[str] = []


class _TrueFalse(BaseModel):
    statement: str
    altered: str
    evidence: list[str] = []


class _Short(BaseModel):
    question: str
    answer: str
    evidence: list[str] = []


_ITEM = {"cloze": _Cloze, "mcq": _Mcq, "true_false": _TrueFalse, "short_answer": _Short}
SCHEMAS = {f: type(f"_{f}_items", (BaseModel,), {"__annotations__": {"items": list[m]}}) for f, m in _ITEM.items()}


TEXT = {
    "zh": {"cloze": "填空：{q}\n只写出空白处（____）的内容。", "true_false": "判断正误：{q}\n请回答“正确”或“错误”。",
           "short_answer": "{q}\n只写出答案。", "single": "（单选题）请只回答一个选项字母。",
           "multiple": "（多选题，选出所有正确选项）请只回答选项字母，用逗号分隔。", True: "正确", False: "错误"},
    "en": {"cloze": "Fill in the blank: {q}\nGive only the words that go in the blank (____).",
           "true_false": "True or false: {q}\nAnswer \"true\" or \"false\".", "short_answer": "{q}\nGive only the answer.",
           "single": "(One answer.) Reply with the letter only.",
           "multiple": "(Choose all that apply.) Reply with the letters, comma-separated.", True: "True", False: "False"},
}


def cloze(base: dict, slot: int, item: _Cloze, options) -> dict:
    """A sentence of the chunk with a span of it masked (offsets recorded)."""
    text = base["context"]
    sentence, answer = item.sentence.strip(), item.answer.strip()
    rec = new_record(base, "cloze", slot, answer=answer)
    where = ck.span(sentence, text) if sentence else None
    if where is None:
        return verdict(rec, "fail", "cloze_sentence_not_in_chunk", question=sentence or None)
    s0, s1 = where
    inner = ck.span(answer, text[s0:s1]) if answer else None
    if inner is None:
        return verdict(rec, "fail", "answer_not_in_chunk", question=text[s0:s1])
    a0, a1 = s0 + inner[0], s0 + inner[1]
    masked = (text[s0:a0] + "____" + text[a1:s1]).strip()
    rec["answer"] = text[a0:a1]
    rec["answer_span"] = answer_span(base, a0, a1)
    pose(rec, masked)
    if ck.trivial(answer):
        return verdict(rec, "fail", "cloze_trivial_answer")
    if len(answer) > options.max_answer_chars:
        return verdict(rec, "fail", "answer_too_long")
    if ck.leaked(answer, masked.replace("____", " ")):
        return verdict(rec, "fail", "answer_leaked")
    if len(normalize(masked.replace("____", ""))) < 6:
        return verdict(rec, "fail", "cloze_too_little_context")
    if ck.standalone_problem(masked):
        return verdict(rec, "fail", "question_not_standalone")
    return verdict(rec, "pass", None)

def mcq(base: dict, slot: int, item: _Mcq, related: dict | None, multiple: bool, options,
        thresholds: Thresholds) -> dict:
    """Options shuffled by the seed row's key, format and slot; each correct one in the chunk or grounded."""
    o, text = options, base["context"]
    question = item.question.strip()
    correct = [c.strip() for c in item.correct if c.strip()]
    distractors = [d.strip() for d in item.distractors if d.strip()][:max(0, o.mcq_options - len(correct))]
    rng = random.Random(f"{base['key']}|mcq|{slot}")
    options = [(c, True) for c in correct] + [(d, False) for d in distractors]
    rng.shuffle(options)
    rel_text = related["text"] if related else ""
    opts = [{"letter": LETTERS[i], "text": t, "correct": ok,
             "source": "chunk" if ck.span(t, text) else (related["id"] if rel_text and ck.span(t, rel_text) else None)}
            for i, (t, ok) in enumerate(options[:len(LETTERS)])]
    gold = [x["letter"] for x in opts if x["correct"]]
    rec = new_record(base, "mcq", slot, answer=", ".join(gold), variant="multiple" if multiple else "single")
    rec["options"] = opts
    rec["evidence"] = [m.as_dict(base["chunk"]["start"]) for m in verify_quotes(item.evidence, text, thresholds)]
    lines = [question] + [f"{x['letter']}. {x['text']}" for x in opts]
    pose(rec, question, "\n".join(lines) + "\n" + TEXT[base["lang"]]["multiple" if multiple else "single"])
    if len(correct) != (2 if multiple else 1):
        return verdict(rec, "fail", "mcq_wrong_answer_count")
    if len(opts) < 3:
        return verdict(rec, "fail", "mcq_too_few_options")
    problem = ck.mcq_problem(question, correct, distractors) or ck.standalone_problem(question)
    if problem:
        return verdict(rec, "fail", problem)
    checks = rec["verification"]["checks"]
    for c in correct:
        if ck.span(c, text):
            continue
        v = check_answer(c, item.evidence, Context(text), thresholds=thresholds)
        checks.setdefault("correct_options", []).append({"option": c, "status": v.status, "reason": v.reason})
        if v.status == "fail":
            return verdict(rec, "fail", "mcq_correct_unsupported")
        if v.status == "uncertain":
            return verdict(rec, "uncertain", "mcq_correct_unsupported")
    in_chunk = [d for d in distractors if ck.span(d, text)]
    checks["distractors_in_chunk"] = in_chunk
    if in_chunk:  # the chunk mentions it: it may answer the question too
        return verdict(rec, "uncertain", "mcq_distractor_in_chunk")
    return verdict(rec, "pass", None)

def true_false(base: dict, slot: int, item: _TrueFalse, thresholds: Thresholds) -> list[dict]:
    """The chunk's statement (grounded) and its altered twin (must contradict it)."""
    text, lang = base["context"], base["lang"]
    statement, altered = item.statement.strip(), item.altered.strip()
    true = new_record(base, "true_false", slot, answer=TEXT[lang][True], variant="original")
    false = new_record(base, "true_false", slot, answer=TEXT[lang][False], variant="altered")
    pose(true, statement)
    pose(false, altered)
    v = check_answer(statement, item.evidence or [statement], Context(text), thresholds=thresholds)
    true["evidence"] = [m.as_dict(base["chunk"]["start"]) for m in v.evidence]
    true["verification"]["checks"].update(grounding=v.status, grounding_reason=v.reason)
    if ck.standalone_problem(statement):
        verdict(true, "fail", "question_not_standalone")
    elif v.status == "fail":
        verdict(true, "fail", "tf_statement_unsupported")
    else:
        verdict(true, v.status, None if v.status == "pass" else "tf_statement_unsupported")
    how = ck.alteration(statement, altered)
    false["verification"]["checks"]["alteration"] = how
    if true["verification"]["status"] == "fail":
        verdict(false, "fail", "tf_statement_unsupported")  # nothing proven for it to contradict
    elif normalize(statement) == normalize(altered):
        verdict(false, "fail", "tf_not_altered")
    elif ck.span(altered, text):
        verdict(false, "fail", "tf_altered_in_chunk")
    elif ck.standalone_problem(altered):
        verdict(false, "fail", "question_not_standalone")
    elif how is not None and true["verification"]["status"] == "pass":
        verdict(false, "pass", None)
    else:
        verdict(false, "uncertain", "tf_altered_not_contradicting")
    return [true, false]

def short_answer(base: dict, slot: int, item: _Short, options, thresholds: Thresholds) -> dict:
    """A value found verbatim in the chunk, inside a verified evidence quote."""
    from synth.verify import check

    text = base["context"]
    question, answer = item.question.strip(), item.answer.strip()
    rec = new_record(base, "short_answer", slot, answer=answer)
    pose(rec, question)
    quotes = verify_quotes(item.evidence, text, thresholds)
    rec["evidence"] = [m.as_dict(base["chunk"]["start"]) for m in quotes]
    where = ck.span(answer, text) if answer else None
    if where is None:
        return verdict(rec, "fail", "answer_not_in_chunk")
    rec["answer"] = text[where[0]:where[1]]
    rec["answer_span"] = answer_span(base, *where)
    if len(normalize(answer)) > options.max_answer_chars:
        return verdict(rec, "fail", "answer_too_long")
    if ck.leaked(answer, question):
        return verdict(rec, "fail", "answer_leaked")
    if ck.standalone_problem(question):
        return verdict(rec, "fail", "question_not_standalone")
    if not check(rec["answer"], rec["answer"], use_math_verify=False).correct:
        return verdict(rec, "fail", "answer_uncheckable")
    inside = any(m.found and m.start <= where[0] and where[1] <= m.end for m in quotes)
    rec["verification"]["checks"]["answer_in_evidence"] = inside
    if not inside:
        return verdict(rec, "uncertain", "short_answer_unsupported")
    return verdict(rec, "pass", None)


def answer_span(base: dict, start: int, end: int) -> dict:
    offset = base["chunk"]["start"]
    return {"start": start, "end": end, "doc_start": start + offset if offset is not None else None,
            "doc_end": end + offset if offset is not None else None, "text": base["context"][start:end]}

def pose(record: dict, question: str, posed: str | None = None) -> None:
    """Set the item's question and the prompt as a policy sees it (and the SFT messages)."""
    record["question"] = question
    fmt, lang = record["format"], record["lang"]
    record["prompt"] = posed if posed is not None else TEXT[lang][fmt].format(q=question)
    record["messages"] = [{"role": "user", "content": record["prompt"]},
                          {"role": "assistant", "content": record["answer"]}]

def verdict(record: dict, status: str, reason: str | None, question: str | None = None) -> dict:
    if question is not None and record["question"] is None:
        record["question"] = question
    record["verification"].update(status=status, reason=reason)
    record["verifier"] = verifier(record)
    return record

def verifier(record: dict) -> dict:
    """The checker spec of the item (rewards.score reads it). Every record's has the same keys and
    kinds (one parquet schema): ``answer`` is text ("true"/"false" for bool, "A, C" for choice),
    ``choices`` the correct letters of a choice item."""
    fmt = record["format"]
    kind = {"cloze": "exact_span", "mcq": "choice", "true_false": "bool", "short_answer": "equivalence"}[fmt]
    choices = [o["letter"] for o in record["options"] or [] if o["correct"]]
    if fmt == "true_false":
        answer = "true" if record["variant"] == "original" else "false"
    else:
        answer = ", ".join(choices) if fmt == "mcq" else str(record["answer"] or "")
    return {"kind": kind, "answer": answer, "choices": choices, "lang": record["lang"],
            "options": [{"letter": o["letter"], "text": o["text"]} for o in record["options"] or []]}

def new_record(base: dict, fmt: str, slot: int, *, answer: str | None = None, variant: str | None = None,
               rejected: str | None = None, error: str | None = None) -> dict:
    """A record of the item in `slot` of `fmt`: every record has the same keys (one parquet schema)."""
    record = {"chunk": base["chunk"], "context": base["context"], "lang": base["lang"], "format": fmt,
              "variant": variant, "slot": slot, "question": None, "prompt": None, "answer": answer,
              "options": None, "answer_span": None, "evidence": [],
              "verifier": None, "verification": {"status": "fail" if rejected else None, "reason": rejected,
                                                 "method": "rules", "checks": {}, "judge": None},
              "messages": None, "generation": None, "error": error, "duplicate_of": None}
    if rejected:
        record["rejected"] = rejected
    return record
