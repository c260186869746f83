"""Drop rows where the prompt template or the chat format leaked into the text.

Chat special tokens (`<|im_end|>`, `<|assistant|>`, `<|eot_id|>`, `[INST]`, `<｜end▁of▁sentence｜>`,
`<end_of_turn>`, a stray `</s>`) mean a server rendered or stopped the chat template wrongly; prompt
headers copied into the output (Alpaca's `### Response:`, Evol-Instruct's `#Rewritten Prompt#` /
`#The Given Prompt#`, `[[[User]]]`) mean the model echoed its instructions; a chat template's turn
header (`### Human:`, `### Assistant:` of Guanaco/OpenAssistant, `<human>:`) after the answer means it
went on writing the conversation. Evol-Instruct eliminates
evolved prompts that copy such words (Xu et al. 2023, arXiv 2304.12244, elimination rule 4); recipes.md
§6.4 lists `leaked_template`. Code blocks, inline code and URLs are left out of the check, so an
answer about tokenizers that prints "<|endoftext|>", or Haskell's `<|>`, is kept. Not implemented:
leaked role prefixes ("User:" / "Assistant:"), which real dialogues also contain.
"""

from __future__ import annotations

import re
from typing import Literal

from synth.filter import Decision, Filter, FilterOptions, compile_patterns, option
from synth.text import strip_code

SPECIAL_TOKENS = (
    r"<\|[A-Za-z][A-Za-z0-9_]{1,40}\|>",      # ChatML, Llama 3, Phi, GLM: <|im_end|> <|eot_id|> <|assistant|>
    r"<｜[^｜<>\n]{1,40}｜>",                   # DeepSeek: <｜end▁of▁sentence｜> <｜Assistant｜>
    r"\[/?INST\]", r"<</?SYS>>",               # Llama 2
    r"<(?:start|end)_of_turn>",                # Gemma
    r"</s>", r"\A\s*<s>",                      # SentencePiece end / start of sequence
)
HEADERS = (
    r"(?im)^[ \t]*#{2,4}[ \t]*(?:instruction|input|response|output)[ \t]*:",         # Alpaca prompt
    r"(?im)^[ \t]*#{2,4}[ \t]*(?:human|assistant|user|system)[ \t]*:",                # Guanaco/OASST turns
    r"(?i)###[ \t]*(?:human|user)[ \t]*:",                                            # a next turn glued on
    r"(?im)^[ \t]*<(?:human|bot|user|assistant)>[ \t]*:",                              # RedPajama-INCITE turns
    r"(?i)below is an instruction that describes a task",
    r"(?i)#[ \t]*(?:the[ \t]+)?(?:given|rewritten|created|new)[ \t]+(?:prompt|instruction)[ \t]*#",  # Evol-Instruct
    r"(?im)^[ \t]*(?:the[ \t]+)?(?:rewritten|given|created)[ \t]+prompt[ \t]*[:：]",
    r"#[ \t]*(?:给定的?|改写后?的?|重写后?的?|创建的?|新的?)[ \t]*(?:提示|指令|问题)[ \t]*#",
    r"(?i)\[\[\[(?:user|assistant|system)\]\]\]",
)


class TemplateLeakOptions(FilterOptions):
    fields: list[Literal["answer", "question"]] = option(["answer", "question"], "which texts to check: answer, question",
                               source="Evol-Instruct rule 4 (the evolved prompt) + recipes.md §6.4 (the answer)")
    extra: list[str] = option([], "more leak patterns (regular expressions, case-sensitive)")


class TemplateLeakFilter(Filter):
    """Reject chat special tokens and prompt-template headers outside code."""

    name = "template-leak"
    description = "Drop leaked chat special tokens (<|im_end|>, [INST], ...) and prompt headers (#Rewritten Prompt#)."
    Options = TemplateLeakOptions
    reasons = ("template_leak_special_token", "template_leak_header")

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        compile_patterns(self.name, "extra", self.options.extra)
        self._tokens = re.compile("|".join((*SPECIAL_TOKENS, *self.options.extra)))
        self._headers = [re.compile(h) for h in HEADERS]

    def filter(self, record):
        for where in self.options.fields:
            text = strip_code(self.answer(record) if where == "answer" else self.question(record))
            found = self._tokens.search(text)
            if found:
                return Decision(False, "template_leak_special_token", detail=f"{where}: {found.group(0).strip()}")
            for header in self._headers:
                found = header.search(text)
                if found:
                    return Decision(False, "template_leak_header", detail=f"{where}: {found.group(0).strip()}")
        return True
