"""RAFT (Zhang et al. 2024, arXiv 2403.10131; ShishirPatil/gorilla raft/raft.py): train answering
with the oracle chunk among distractor chunks, and sometimes without it.

Distractors are the seed chunks most similar in vocabulary to the oracle (MinHash of words and
Chinese character bigrams, synth.dedup signatures), from other documents first, so the model learns
to tell the right passage from plausible ones rather than from random text. Whether the oracle is
shown and the order of the documents are drawn from a hash of (chunk, question): the same on every
run and resume. Left out from the reference code: the semantic chunker and the CoT answer written
by a second model (the answer here is the grounded answer of `doc-qa`, cited with its verified
quotes in RAFT's ``##begin_quote##`` markers).
"""

from __future__ import annotations

import hashlib
import random

import numpy as np

from synth.dedup.signatures import sketch

NUM_PERM = 64


def _signatures(texts: list[str]) -> np.ndarray:
    return sketch(texts, num_perm=NUM_PERM, ngram=1, cjk_ngram=2, compact=True, workers=1)[1]


class DistractorPool:
    """The seed chunks, sketched once, to pick distractors from.

    >>> pool = DistractorPool([
    ...     {"id": "a1", "doc_id": "A", "text": "焊接前预热温度不低于120℃，层间温度控制在250℃以下。"},
    ...     {"id": "a2", "doc_id": "A", "text": "焊后消氢处理的加热温度为300～350℃。"},
    ...     {"id": "b1", "doc_id": "B", "text": "焊接坡口两侧应清除油污，预热温度不低于100℃。"},
    ...     {"id": "c1", "doc_id": "C", "text": "年假天数按工龄计算，满一年不满十年的年休假五天。"}])
    >>> pool.pick({"id": "a1", "doc_id": "A", "text": "焊接前预热温度不低于120℃。"}, 2)
    ['b1', 'c1']
    >>> pool.pick({"id": "a1", "doc_id": "A", "text": "焊接前预热温度不低于120℃。"}, 3)
    ['b1', 'c1', 'a2']
    """

    def __init__(self, chunks: list[dict]) -> None:
        self.chunks = [c for c in chunks if c.get("text")]
        self.by_id = {str(c["id"]): c for c in self.chunks}
        self._sigs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def sigs(self) -> np.ndarray:
        if self._sigs is None:
            self._sigs = _signatures([c["text"] for c in self.chunks]) if self.chunks else \
                np.zeros((0, NUM_PERM), np.uint8)
        return self._sigs

    def pick(self, oracle: dict, k: int) -> list[str]:
        """Ids of ``k`` distractors for ``oracle``: other documents first, then other chunks of the
        same document that do not overlap it; most similar first, ties by id."""
        if k <= 0 or not self.chunks:
            return []
        sig = _signatures([oracle["text"]])[0]
        sims = (self.sigs == sig).mean(axis=1)
        ranked = []
        for chunk, sim in zip(self.chunks, sims):
            if str(chunk["id"]) == str(oracle["id"]) or chunk["text"] == oracle["text"]:
                continue
            same_doc = chunk.get("doc_id") is not None and chunk.get("doc_id") == oracle.get("doc_id")
            if same_doc and _overlaps(chunk, oracle):
                continue
            ranked.append((same_doc, -float(sim), str(chunk["id"])))
        ranked.sort()
        return [cid for _, _, cid in ranked[:k]]


def _overlaps(a: dict, b: dict) -> bool:
    try:
        return a["start"] < b["end"] and b["start"] < a["end"]
    except (KeyError, TypeError):
        return False


def layout(chunk_id: str, question: str, distractor_ids: list[str],
           oracle_probability: float) -> tuple[list[str], bool]:
    """(document ids in the order shown, whether the oracle is among them), drawn from a hash of
    (chunk, question): with probability ``oracle_probability`` the oracle is shown.

    >>> layout("c1", "q", ["d1", "d2"], 1.0)[1], layout("c1", "q", ["d1", "d2"], 0.0)
    (True, (['d1', 'd2'], False))
    >>> sorted(layout("c1", "q", ["d1", "d2"], 1.0)[0])
    ['c1', 'd1', 'd2']
    """
    digest = hashlib.sha256(f"{chunk_id}\x00{question}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    include = rng.random() < oracle_probability
    docs = list(distractor_ids) + ([chunk_id] if include else [])
    rng.shuffle(docs)
    return docs, include


def cited(answer: str, quotes: list[str]) -> str:
    """RAFT's answer shape: the verified quotes in ``##begin_quote##`` markers, then ``<ANSWER>:``.

    >>> print(cited("8%", ["资本充足率不得低于8%"]))
    ##begin_quote##资本充足率不得低于8%##end_quote##
    <ANSWER>: 8%
    """
    lines = [f"##begin_quote##{q}##end_quote##" for q in quotes]
    return "\n".join([*lines, f"<ANSWER>: {answer}"])
