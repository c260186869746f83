"""An LLM judge: score each answer against a rubric (1–10, or pass/fail), as a filter or as a score only.

After AlpaGasus (Chen et al. 2023, arXiv 2307.08701: ChatGPT at temperature 0 rates each Alpaca
answer, keep >= 4.5 of 5) and UltraFeedback (Cui et al. 2023, arXiv 2310.01377: an overall 1–10
score with a rationale), with the judge writing its reasons before its score, as MT-Bench's
single-answer grading asks (Zheng et al. 2023, arXiv 2306.05685). Items are judged one per request
(batching couples parse failures and position bias), as JSON through synth.structured.chat_json
(schema-constrained where the engine can, repaired, asked again with the parse error and a higher
temperature, see synth.structured; an answer that never parses rejects the row as `judge_unparseable`,
a request the server refuses, e.g. a context overflow, as `judge_failed`: `on_error` decides both).
Requests go through the run's LLM: the same engine, request cache and concurrency as generation, so a
re-run judges nothing twice.
Scores land on the record (`scores.judge`, `scores.judge_rationale`) and their distribution in the
stage report, so you can look first and set `threshold` later: thresholds depend on the judge model
(4.5 of 5 was chosen against ChatGPT's distribution). Not implemented: expected scores from logprobs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from synth.errors import ConfigError
from synth.filter import Decision, FilterOptions, LLMFilter, option, reasoning_text
from synth.structured import StructuredOutputError, chat_json
from synth.text import prompt_language

RUBRIC = {
    "en": "- Helpfulness: does the response do what the instruction asks, completely?\n"
          "- Correctness: are its facts, numbers, reasoning and code right?\n"
          "- Clarity: is it well organised, concise and in the language of the instruction?",
    "zh": "- 有用性：回答是否完整地完成了指令的要求？\n"
          "- 正确性：事实、数字、推理和代码是否正确？\n"
          "- 清晰度：是否条理清楚、简洁，并使用与指令相同的语言？",
}
SCALE = {
    ("en", "1-10"): "Score from 1 to 10: 10 excellent on every point; 7 good with minor flaws; 4 partly useful with "
                    "real errors or gaps; 1 useless, wrong, off-topic or a refusal.",
    ("zh", "1-10"): "评分范围 1 到 10：10 分各方面都出色；7 分良好但有小问题；4 分部分有用但有明显错误或遗漏；"
                    "1 分无用、错误、答非所问或拒绝回答。",
    ("en", "pass-fail"): "Decision: pass if the response is correct and fully usable as a model answer, else fail.",
    ("zh", "pass-fail"): "结论：回答正确且可直接作为范例答案时为 pass，否则为 fail。",
}
SYSTEM = {
    "en": "You are a strict, fair judge of answers written by an AI assistant. Judge the response to the "
          "instruction by this rubric:\n{rubric}\n{scale}\nLength is not quality. First give a short rationale, "
          "then the {what}. Reply with one JSON object: {shape}",
    "zh": "你是一名严格、公正的评审，负责评价 AI 助手写的回答。请按以下标准评价回答：\n{rubric}\n{scale}\n"
          "篇幅长不代表质量高。先写简短的理由，再给出{what}。只输出一个 JSON 对象：{shape}",
}
USER = {"en": "[Instruction]\n{question}\n\n{thinking}[Response]\n{answer}",
        "zh": "【指令】\n{question}\n\n{thinking}【回答】\n{answer}"}
THINKING = {"en": "[Reasoning]\n{reasoning}\n\n", "zh": "【推理过程】\n{reasoning}\n\n"}
SHAPES = {"1-10": ('{"rationale": "...", "score": 7}', "score", "分数"),
          "pass-fail": ('{"rationale": "...", "verdict": "pass"}', "verdict", "结论")}


class ScoreJudgement(BaseModel):
    rationale: str = Field(max_length=4000)
    score: int = Field(ge=1, le=10)


class PassFailJudgement(BaseModel):
    rationale: str = Field(max_length=4000)
    verdict: Literal["pass", "fail"]


class JudgeOptions(FilterOptions):
    scale: Literal["1-10", "pass-fail"] = option("1-10", "score scale: 1-10, or pass-fail (pass = 1, fail = 0)",
                                                 source="UltraFeedback / MT-Bench (1-10)")
    threshold: float | None = option(None, "keep rows scoring at least this; null: score only, drop nothing",
                                     source="calibrate per judge model (AlpaGasus kept >= 4.5 of 5 for ChatGPT)")
    rubric: str | None = option(None, "rubric text (default: helpfulness, correctness, clarity)")
    rubric_file: str | None = option(None, "file holding the rubric (relative to the config)")
    language: Literal["auto", "en", "zh"] = option("auto", "prompt language: auto follows the instruction")
    include_reasoning: bool = option(False, "show the judge the record's separate reasoning too")
    temperature: float = option(0.0, "judge sampling temperature", ge=0, le=2, source="AlpaGasus / UltraFeedback (0)")
    max_tokens: int = option(512, "most tokens the judge may write", ge=16, source="UltraFeedback (500)")
    retries: int = option(2, "new attempts after an answer that does not parse (told the error, at temperature "
                             ">= 0.7 so a greedy judge can answer otherwise)", ge=0, le=10)
    on_error: Literal["reject", "keep"] = option("reject", "a row whose judgement never parses or whose request "
                                                 "fails: reject (judge_unparseable / judge_failed) or keep (unscored)")

    @model_validator(mode="after")
    def _checks(self) -> JudgeOptions:
        if self.rubric and self.rubric_file:
            raise ValueError("give rubric or rubric_file, not both")
        if self.threshold is not None and self.scale == "1-10" and not 1 <= self.threshold <= 10:
            raise ValueError(f"threshold {self.threshold} is outside the 1-10 scale")
        return self


class JudgeFilter(LLMFilter):
    """Ask the run's model to grade each answer by a rubric; keep the score, optionally drop below a threshold."""

    name = "judge"
    description = "LLM judge: rubric score 1-10 or pass/fail, JSON output; a filter (threshold) or a score only."
    Options = JudgeOptions
    path_options = ("rubric_file",)
    reasons = ("judge_below_threshold", "judge_unparseable", "judge_failed")  # _failed: FilterStage, on_error
    score_names = ("judge", "judge_rationale")
    text_scores = ("judge_rationale",)  # on each record; the stage summary counts them (bounded memory)

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        self.rubric = self.options.rubric
        if self.options.rubric_file:
            path = Path(self.options.rubric_file)
            try:
                self.rubric = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"filter 'judge': bad options: rubric_file: cannot read {path} "
                                  f"({type(exc).__name__}); give a UTF-8 text file") from None

    def messages(self, record: dict) -> list[dict[str, str]]:
        """The judge's conversation for one record (system: rubric and JSON shape; user: the item)."""
        question, answer = self.question(record), self.answer(record)
        lang = self.options.language
        if lang == "auto":
            lang = prompt_language(question or answer)
        shape, what_en, what_zh = SHAPES[self.options.scale]
        system = SYSTEM[lang].format(rubric=self.rubric or RUBRIC[lang], scale=SCALE[lang, self.options.scale],
                                     what=what_zh if lang == "zh" else what_en, shape=shape)
        reasoning = reasoning_text(record) if self.options.include_reasoning else ""
        thinking = THINKING[lang].format(reasoning=reasoning) if reasoning else ""
        user = USER[lang].format(question=question, answer=answer, thinking=thinking)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def afilter(self, record, llm):
        o = self.options
        model = ScoreJudgement if o.scale == "1-10" else PassFailJudgement
        try:
            judgement, _ = await chat_json(llm, self.messages(record), model, retries=o.retries,
                                           temperature=o.temperature, max_tokens=o.max_tokens)
        except StructuredOutputError as exc:
            unscored = {"judge": None, "judge_rationale": None}
            if o.on_error == "keep":
                return Decision(True, scores=unscored)
            return Decision(False, "judge_unparseable", unscored, detail=str(exc)[:300])
        if isinstance(judgement, ScoreJudgement):
            score = float(judgement.score)
        else:
            score = 1.0 if judgement.verdict == "pass" else 0.0
        scores = {"judge": score, "judge_rationale": judgement.rationale}
        if o.threshold is not None and score < o.threshold:
            return Decision(False, "judge_below_threshold", scores)
        return Decision(True, scores=scores)

    def summarize(self, score, values):
        if score != "judge":
            return {"n": sum(v is not None for v in values)}
        present = [v for v in values if v is not None]
        histogram = Counter(int(v) for v in present)
        keys = range(1, 11) if self.options.scale == "1-10" else (0, 1)
        return {"n": len(present), "unscored": len(values) - len(present), "scale": self.options.scale,
                "mean": round(sum(present) / len(present), 3) if present else None,
                "histogram": {str(k): histogram.get(k, 0) for k in keys}}
