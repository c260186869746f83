"""Who must do it: the agent of a modal verb in the answer is the agent the chunk gives that verb.

A rule names a party and what it must, should or may do ("the authorization server MUST deny the request and
SHOULD revoke all tokens"). An answer that keeps the verb and the modal but hands the duty to another party
of the document ("the client must revoke all tokens") is built from the chunk's own words, so overlap and
binding pass it. For English text: the answer's subject of "<subject> must/should/may/… <verb>" (pronouns left
aside) must share a content word with the chunk's subject of the same verb under a modal, wherever the chunk
puts that verb under one; a verb the chunk never puts under a modal, or a subject that is no word of the
chunk, says nothing.

>>> ctx = "The client MUST NOT reuse a code. If a code is used twice, the authorization server MUST deny the request and SHOULD revoke all tokens."
>>> agent_swaps("The client must revoke all tokens issued from the code.", ctx)
['client→revoke']
>>> agent_swaps("The authorization server should revoke the tokens, and it must deny the request.", ctx)
[]
"""

from __future__ import annotations

import re
import unicodedata

from synth.grounding.claims import _STOP
from synth.grounding.context import Context, as_context

_MODAL = r"(?:must|shall|should|may|can|has to|have to|needs? to|is required to|are required to|is allowed to|are allowed to)"
_CHUNK_MODAL = re.compile(r"\b" + _MODAL + r"\b(?:\s+not)?(?:\s*\([^)]{0,30}\))?\s+(?:also\s+|only\s+)?(?!not\b)([a-z]{3,})", re.I)
# where a subject starts: after a clause break or a conditional ("If a code is used twice, the server MUST …")
_CLAUSE = re.compile(r"[.;:!?,]\s|\n\s*\n|\bif\b|\bwhen\b|\bunless\b", re.I)
_PRONOUNS = frozenset("it they he she this these those which who that one each both either neither you we".split())


def _stem(word: str) -> str:
    return word.casefold()[:5]


def _content(words: str) -> list[str]:
    """Content words in the singular: employer and employers are one party (employee another)."""
    return [_singular(w) for w in re.findall(r"[a-z][a-z_-]+", words.casefold()) if w not in _STOP and len(w) >= 3]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _rules(text: str) -> list[tuple[str, list[str], str]]:
    """(verb stem, the content words of its subject, the verb) for each verb under a modal: the subject is what
    stands before the first modal of its clause ("the authorization server MUST deny … and SHOULD revoke")."""
    text = unicodedata.normalize("NFKC", re.sub(r"\s+", " ", text))
    out = []
    for m in _CHUNK_MODAL.finditer(text):
        start = max((c.end() for c in _CLAUSE.finditer(text, 0, m.start())), default=0)
        clause = text[start:m.start()]
        first = re.search(r"\b" + _MODAL + r"\b", clause, re.I)
        subject = clause[:first.start()] if first else clause
        out.append((_stem(m.group(1)), subject, m.group(1)))
    return out


def _chunk_agents(text: str) -> dict[str, set[str]]:
    """For each verb stem the chunk puts under a modal: the content words of the subjects it has there."""
    out: dict[str, set[str]] = {}
    for verb, subject, _ in _rules(text):
        out.setdefault(verb, set()).update(_content(subject)[-10:])
    return out


def agent_swaps(answer: str, context: str | Context) -> list[str]:
    """"subject→verb" for each rule of ``answer`` whose subject the chunk never gives that verb under a modal."""
    ctx = as_context(context)
    if not re.search("[A-Za-z]", answer):
        return []
    agents = ctx.derived("modal_agents", lambda c: _chunk_agents(c.text))
    chunk_words = ctx.derived("content_words", lambda c: set(_content(c.text)))
    out = []
    for verb, subject, word in _rules(answer):
        words = _content(subject)
        if not words or subject.split()[-1].casefold() in _PRONOUNS:
            continue
        subjects = agents.get(verb)
        if subjects and words[0] in chunk_words and not set(words[-6:]) & subjects:
            out.append(f"{words[0]}→{word}")
    return out
