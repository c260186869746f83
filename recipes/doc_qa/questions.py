"""Questions of `doc-qa`: how many per chunk, which task type each slot asks for, whether a question
stands alone, and near-duplicate questions across a run (found before any answer is paid for)."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np

from synth.dedup.params import choose_params
from synth.dedup.signatures import sketch

TASK_TYPES = ("fact", "explanation", "reasoning", "procedure", "comparison", "calculation", "summary")
LABELS = {
    "zh": {"fact": "事实查询", "explanation": "原因解释", "reasoning": "多句推理", "procedure": "操作步骤",
           "comparison": "比较辨析", "calculation": "数值计算", "summary": "归纳总结"},
    "en": {"fact": "fact lookup", "explanation": "explanation", "reasoning": "multi-sentence reasoning",
           "procedure": "procedure / how-to", "comparison": "comparison", "calculation": "calculation",
           "summary": "summary"},
}
# characters of text per question when the option is not set: Chinese says in ~300 characters what
# English says in ~900 (translations run about 3 English characters per Chinese one)
CHARS_PER_QUESTION = {"zh": 300, "en": 900}


def question_count(text: str, chars_per_question: int, max_questions: int) -> int:
    """``clamp(ceil(len / chars_per_question), 1, max_questions)``, whitespace not counted.

    >>> question_count("字" * 650, 300, 5), question_count("a", 300, 5), question_count("x" * 9000, 300, 5)
    (3, 1, 5)
    """
    length = len(re.sub(r"\s+", "", text))
    return max(1, min(max_questions, math.ceil(length / chars_per_question)))


_SECTION = re.compile(r"(?m)^\s*(?:#+.*|(?:第[^\s]{1,6}[章节条]|\d+(?:\.\d+)*)(?=\s))")


def has_numbers(text: str) -> bool:
    """Whether a calculation question makes sense: two or more distinct quantities in the text,
    headings and section numbers (## 2, 4.1, 第三条) not counted.

    >>> has_numbers("## 2 When lockout is required\\nChanging a die."), has_numbers("罚款5万元，并处10日拘留")
    (False, True)
    """
    from synth.grounding import find_numbers

    return len({m.value for m in find_numbers(_SECTION.sub(" ", text))}) >= 2


def plan_slots(key: str, n: int, types: list[str]) -> list[str]:
    """The task type of each of ``n`` question slots: the types in order, starting at an offset
    derived from ``key`` (the chunk), so one-question chunks do not all ask for the first type.

    >>> plan_slots("chunk-3", 3, ["fact", "explanation"]), plan_slots("chunk-4", 3, ["fact", "explanation"])
    (['fact', 'explanation', 'fact'], ['explanation', 'fact', 'explanation'])
    """
    offset = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(types)
    return [types[(offset + i) % len(types)] for i in range(n)]


def task_type_of(value: str | None) -> str | None:
    """A model's task-type label (key or a Chinese/English label) as one of TASK_TYPES, else None.

    >>> task_type_of("数值计算"), task_type_of("Procedure / how-to"), task_type_of("other")
    ('calculation', 'procedure', None)
    """
    if not value:
        return None
    v = value.strip().casefold()
    for key in TASK_TYPES:
        if v == key or v in (LABELS["zh"][key], LABELS["en"][key].casefold()):
            return key
    return None


def assign(slots: list[str], items: list[tuple[str, str | None]]) -> list[str | None]:
    """Questions for the slots: a question labelled with a slot's type goes there first, the rest
    fill the remaining slots in order; extra questions are cut, missing ones are ``None``.

    >>> assign(["fact", "summary"], [("q1", "summary"), ("q2", None), ("q3", "fact")])
    ['q3', 'q1']
    >>> assign(["fact", "summary", "fact"], [("q1", None)])
    ['q1', None, None]
    """
    out: list[str | None] = [None] * len(slots)
    left = list(items)
    for i, slot in enumerate(slots):
        for j, (question, kind) in enumerate(left):
            if task_type_of(kind) == slot:
                out[i] = question
                del left[j]
                break
    for i in range(len(slots)):
        if out[i] is None and left:
            out[i] = left.pop(0)[0]
    return out


# Phrases by which a question points at a text its reader does not have (easy-dataset #464).
CONTEXT_DEPENDENT = re.compile(
    # pointers only: 焊接材料中 / 年度报告中 / 中文中 are ordinary subjects, 该材料 / 本报告 / 文中 are not
    r"本文|(?<![中英日外])文中|上文|下文|上述|前述|该文|[本该](?:材料|资料|报告|文档|文件|段|节)|这段(?:文字|话|内容|材料)?"
    r"|这份(?:文件|材料|资料|报告|文档)|以下内容|如图|如表|图\s*\d|表\s*\d|原文|根据(?:以上|上面|下面)"
    r"|according to the (?:text|passage|document|article|context|excerpt|material|above|report)"
    r"|\bin (?:this|the) (?:document|passage|text|excerpt|article|section|paragraph|material)\b"
    r"|\bthe (?:above|following|preceding) (?:text|passage|section|paragraph|table|figure)"
    r"|\b(?:figure|fig\.|table)\s*\d|\b(?:mentioned|described|stated) above\b|\bthe author\b",
    re.I)


def context_dependent(question: str) -> str | None:
    """The phrase that ties ``question`` to an unseen text, or None when it stands alone.

    >>> context_dependent("文中提到的预热温度是多少？")
    '文中'
    >>> context_dependent("According to the passage, who approves the budget?")
    'According to the passage'
    >>> context_dependent("Q345R钢板焊接前的预热温度是多少？"), context_dependent("上市公司应在年度报告中披露什么？")
    (None, None)
    """
    m = CONTEXT_DEPENDENT.search(question)
    return m.group() if m else None


# -- near-duplicate questions ----------------------------------------------------------------------
@dataclass
class Duplicate:
    question: str
    chunk_id: str
    similarity: float

    def as_dict(self) -> dict:
        return {"question": self.question, "chunk_id": self.chunk_id, "similarity": round(self.similarity, 3)}


class QuestionIndex:
    """Questions met so far (one chunk's, or a run's in the dedup stage's order), for MinHash
    near-duplicate lookups (synth.dedup signatures: character bigrams for Chinese, word bigrams for
    English, as questions are short; one byte per permutation). ``threshold`` is the estimated Jaccard at which a question duplicates an earlier
    one; LSH bands (b x r chosen by synth.dedup.params.choose_params) propose candidates, every
    candidate is verified on its signature. First come, first kept.

    >>> idx = QuestionIndex(0.7)
    >>> idx.check_add("Q345R钢板焊接前的预热温度是多少？", "c1") is None
    True
    >>> idx.check_add("Q345R钢板焊接前预热温度是多少？", "c2").chunk_id
    'c1'
    >>> idx.check_add("Q345R钢板焊后消氢处理的保温时间是多久？", "c2") is None
    True
    """

    def __init__(self, threshold: float = 0.7, num_perm: int = 128, ngram: int = 2, seed: int = 1) -> None:
        self.threshold, self.num_perm, self.ngram, self.seed = threshold, num_perm, ngram, seed
        self.bands, self.rows = choose_params(threshold, num_perm)
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in range(self.bands)]
        self._sigs: list[np.ndarray] = []
        self._items: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self._items)

    def _signature(self, text: str) -> np.ndarray:
        return sketch([text], num_perm=self.num_perm, seed=self.seed, ngram=self.ngram, cjk_ngram=self.ngram,
                      compact=True, workers=1)[1][0]

    def _keys(self, sig: np.ndarray) -> list[bytes]:
        return [sig[b * self.rows:(b + 1) * self.rows].tobytes() for b in range(self.bands)]

    def check_add(self, question: str, chunk_id: str) -> Duplicate | None:
        """The earlier question ``question`` duplicates, or None (then it is added)."""
        sig = self._signature(question)
        keys = self._keys(sig)
        candidates = sorted({i for band, key in enumerate(keys) for i in self._buckets[band].get(key, ())})
        best: Duplicate | None = None
        for i in candidates:
            agree = float(np.mean(self._sigs[i] == sig))
            sim = max(0.0, (agree - 1 / 256) / (1 - 1 / 256))  # one-byte values agree by chance 1/256
            if sim >= self.threshold and (best is None or sim > best.similarity):
                best = Duplicate(self._items[i][0], self._items[i][1], sim)
        if best is not None:
            return best
        n = len(self._items)
        self._sigs.append(sig)
        self._items.append((question, chunk_id))
        for band, key in enumerate(keys):
            self._buckets[band].setdefault(key, []).append(n)
        return None
