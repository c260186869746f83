"""`instruct`: answer each seed instruction (Alpaca / Self-Instruct style response generation).

The simplest recipe, and the template for writing one: read fields from the seed row, render a
prompt, ask the LLM for `samples` answers, return one record per answer. Failures, retries, caching,
resume and counting are the runner's job.
"""

from __future__ import annotations

from pydantic import Field

from synth.recipe import Recipe, RecipeOptions


class InstructOptions(RecipeOptions):
    field: str = Field("instruction", description="seed column holding the instruction")
    input_field: str | None = Field("input", description="optional column with extra input (Alpaca style)")
    system: str | None = Field(None, description="system prompt for every request")
    samples: int = Field(1, ge=1, le=64, description="answers per instruction")


class InstructRecipe(Recipe):
    name = "instruct"
    version = "1"
    description = "Answer each seed instruction (SFT pairs as chat messages)."
    Options = InstructOptions

    def required_fields(self) -> list[str]:
        return [self.options.field]

    async def run(self, row, llm):
        o = self.options
        user = self.render("user.j2", instruction=str(row[o.field]),
                           input=str(row.get(o.input_field) or "") if o.input_field else "")
        prompt = ([{"role": "system", "content": o.system}] if o.system else []) + [{"role": "user", "content": user}]
        records = []
        for sample, c in enumerate(await llm.chat(prompt, n=o.samples)):
            records.append({
                "messages": prompt + [{"role": "assistant", "content": c.text}],
                "instruction": user,
                "response": c.text,
                "sample": sample,
                "reasoning": c.reasoning,
                "generation": {"model": llm.engine.model, "finish_reason": c.finish_reason, "seed": c.seed,
                               "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens},
            })
        return records
