"""A word swapped inside the chunk's own sentence, or put under the opposite polarity.

An answer that copies a chunk sentence and changes one short word in it ("证券交易印花税按月解缴" for
"…按周解缴", "may be waived" for "may be shortened") shares nearly every word and bigram with the chunk,
so lexical support and claim binding let it through. Two rules catch it without a model:

- **substitution**: each answer sentence is aligned token by token (characters for Chinese, words for
  Latin script; ``difflib``) with the chunk clause it restates; a replaced span of one or two tokens,
  replaced by as many, with matching context of at least two tokens on both sides, is a swap. It is a
  defect when the answer's word does not occur in that chunk clause, or when the two words are
  opposites (有/无, before/after); a swap inside one modal class (应当/必须, shall/must) or of function
  words (的/之, the/a) is wording. A paraphrase that rewords whole phrases has no such flanked swap;
- **polarity**: a word the answer writes after one polarity marker (有息, with an agent, 六十周岁以上)
  that the chunk writes only after the opposite one (无息, without an agent, 以下).

Either leaves the answer *uncertain* for the judge.

>>> substitutions("证券交易印花税按月解缴。", "证券交易印花税按周解缴。")
['月→周']
>>> substitutions("证券交易印花税应当按周解缴。", "证券交易印花税按周解缴。")
[]
>>> polarity_flips("有息借款合同免征印花税。", "（五）无息或者贴息借款合同免征印花税；")
['有息']
"""

from __future__ import annotations

import difflib
import re

from synth.dedup.normalize import tokens
from synth.grounding.claims import _STOP, _modal_classes
from synth.grounding.context import Context, as_context
from synth.grounding.scales import has_scale, lemmas, opposite, scale_words
from synth.text import CJK

_CJK_TOKEN = re.compile(f"[{CJK}]")
_NUMERAL = re.compile(r"[\d一二两三四五六七八九十百千万亿零〇]")
_CLAUSE_END = re.compile(r"[。！？!?；;\n]|(?<=\.)\s")
# Chinese function characters: swapping one for another rewords, it does not change the claim
_FUNCTION_ZH = frozenset("的之了是为和与及或等在于由对将把被其所以而且并也都就即则向从")
_FUNCTION_EN = _STOP | {"every", "per", "each"}
# closed-class words a restatement swaps freely within their group: prepositions of basis, modals (应 for
# 应当 is no modal for synth.grounding.claims: 应税 would be one), conjunctions, demonstratives
_SYNONYMS_ZH = tuple(frozenset(g.split()) for g in (
    "按照 依照 依据 根据 按", "应当 应 须 必须 需 需要 要", "可以 可 能 能够 得", "不得 不能 不可 不准 禁止 严禁",
    "或者 或 或是", "以及 及 和 与 并 并且 同", "该 此 其 本 这", "如果 若 如 倘若", "未 没有 没 无", "即 就是 也就是",
    "之日 日", "向 对 给", "自 从 由", "至少 最少 不少于 不低于", "至多 最多 不超过 不多于"))
# Latin-script words whose swap always changes the claim: units of time, frequencies, quantifiers, ordinals
_CONTRAST_EN = frozenset(
    "second minute hour day week month year decade daily weekly monthly quarterly yearly annually hourly "
    "all none some any every first last second third primary secondary".split())

# opposite pairs: (marker, opposite, where the word it governs stands: "after" the marker or "before" it)
_OPPOSITES: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = tuple(
    (tuple(tokens(a)), tuple(tokens(b)), side) for a, b, side in (
        ("有", "无", "after"), ("有", "没有", "after"), ("含", "不含", "after"),
        ("以上", "以下", "before"), ("以前", "以后", "before"), ("之前", "之后", "before"),
        ("高于", "低于", "after"), ("最高", "最低", "after"), ("增加", "减少", "after"),
        ("with", "without", "after"), ("before", "after", "after"), ("minimum", "maximum", "after"),
        ("above", "below", "after"), ("higher", "lower", "after"), ("increase", "decrease", "after"),
        ("include", "exclude", "after"), ("at least", "at most", "after"), ("upper", "lower", "after"),
    ))
# an 有 inside 没有 or 所有 is not the existence marker
_NOT_MARKER_BEFORE = {("有",): {"没", "所"}}


def _sentences(text: str) -> list[list[str]]:
    from synth.grounding.claims import _join_broken_lines

    text = "\n".join(_join_broken_lines(text.split("\n")))  # a hard-wrapped sentence is one sentence
    return [t for t in (tokens(s) for s in _CLAUSE_END.split(text)) if t]


def _is_cjk(toks: list[str]) -> bool:
    return all(_CJK_TOKEN.fullmatch(t) for t in toks)


_NEGATING_PREFIX = ("un", "in", "im", "il", "ir", "dis", "non", "non-")


def _opposite(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Opposite markers, two ends of one scale (synth.grounding.scales), or an English word and its negating
    prefix (encrypted/unencrypted)."""
    if any({a, b} == {x, y} for x, y, _ in _OPPOSITES):
        return True
    if len(a) == len(b) == 1 and not _is_cjk([a[0], b[0]]):
        short, long_ = sorted((a[0], b[0]), key=len)
        if len(short) >= 3 and any(long_ == p + short for p in _NEGATING_PREFIX):
            return True
    cjk = _is_cjk(list(a + b))
    return opposite("".join(a), "".join(b)) if cjk or len(a) == len(b) == 1 else False


def _wording(a: list[str], b: list[str]) -> bool:
    """A swap that does not change what is claimed: function words, closed-class synonyms (依照/按照, 应/须),
    or two modals of one class."""
    if _is_cjk(a + b):
        if set(a) <= _FUNCTION_ZH and set(b) <= _FUNCTION_ZH:
            return True
        if any({"".join(a), "".join(b)} <= group for group in _SYNONYMS_ZH):
            return True
        joiner = ""
    else:
        if set(a) <= _FUNCTION_EN and set(b) <= _FUNCTION_EN and not {"may", "must", "shall", "not", "no"} & set(a + b):
            return True
        joiner = " "
    mine, theirs = _modal_classes(joiner.join(a)), _modal_classes(joiner.join(b))
    return bool(mine & theirs)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _defect(mine: list[str], theirs: list[str], clause: list[str], chunk_tokens: set[str]) -> bool:
    """Opposites always; a word the clause has, or a swap of wording, never. Otherwise a Chinese swap is
    a defect (a restating answer copies the clause's characters); a Latin-script one only when the word is
    a unit, frequency, quantifier or ordinal, or stands elsewhere in the chunk (moved from another rule):
    an English restatement swaps verbs for synonyms (rose/grew) freely."""
    if _opposite(tuple(mine), tuple(theirs)):
        return True
    if _contains(clause, mine) or _wording(mine, theirs):
        return False
    if _is_cjk(mine + theirs):
        return True
    stems = {_stem(t) for t in mine}
    return bool(stems & _CONTRAST_EN) or stems <= chunk_tokens


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def _chunk_sentences(ctx: Context) -> list[list[str]]:
    return ctx.derived("token_clauses", lambda c: _sentences(c.text))


def substitutions(answer: str, chunk: str | Context, *, span: int = 2, flank: int = 2, restates: float = 0.6) -> list[str]:
    """"answer word→chunk word" for each short swap the answer makes inside a chunk clause it restates
    (at least ``restates`` of its tokens aligned with that clause)."""
    ctx = as_context(chunk)
    clauses = _chunk_sentences(ctx)
    chunk_tokens = ctx.derived("token_stems", lambda c: {_stem(t) for clause in _chunk_sentences(c) for t in clause})
    out: list[str] = []
    for sent in _sentences(answer):
        best, best_ops, best_matched = None, [], 0
        words = set(sent)
        candidates = sorted(clauses, key=lambda c: -len(words.intersection(c)))[:3]  # align only the likeliest
        for clause in candidates:
            sm = difflib.SequenceMatcher(None, sent, clause, autojunk=False)
            matched = sum(b.size for b in sm.get_matching_blocks())
            if matched > best_matched:
                best, best_ops, best_matched = clause, sm.get_opcodes(), matched
        if best is not None and best_matched >= restates * len(sent):
            for k, (tag, i1, i2, j1, j2) in enumerate(best_ops):
                if tag == "replace" and 0 < i2 - i1 <= span and i2 - i1 == j2 - j1 and _flanked(best_ops, k, flank):
                    swap = _judge_swap(sent, i1, i2, best[j1:j2], best, chunk_tokens)
                    if swap:
                        out.append(swap)
        if best is None or best_matched < restates * len(sent):
            continue
        # an opposite between the same words on both sides, where the global alignment paired the answer's
        # word with a later copy (负载越高的 worker … 更高的机会 for 负载越低的worker … 更高的机会); a stretch the
        # chunk itself writes with those words around it ("Use a large value for the buffer." beside "Use a
        # small value for the timeout.") restates the chunk
        said = ctx.derived("token_windows", lambda c: _windows(_chunk_sentences(c), 2 * flank + 1, 2 * flank + span))
        for i1, i2, theirs in _local_swaps(sent, best, span, flank):
            mine = sent[i1:i2]
            swap = f"{_join(mine)}→{_join(theirs)}"
            if swap not in out and tuple(sent[i1 - flank:i2 + flank]) not in said \
                    and not any(_NUMERAL.search(t) for t in mine + theirs) and _opposite(tuple(mine), tuple(theirs)):
                out.append(swap)
    return out


def _windows(clauses: list[list[str]], shortest: int, longest: int) -> set[tuple[str, ...]]:
    return {tuple(c[i:i + n]) for c in clauses for n in range(shortest, longest + 1) for i in range(len(c) - n + 1)}


def _join(toks: list[str]) -> str:
    return ("" if _is_cjk(toks) else " ").join(toks)


def _judge_swap(sent: list[str], i1: int, i2: int, theirs: list[str], clause: list[str],
                chunk_tokens: set[str]) -> str | None:
    """"mine→theirs" when replacing the clause's ``theirs`` by the answer's ``sent[i1:i2]`` changes the claim."""
    mine = sent[i1:i2]
    if any(_NUMERAL.search(t) for t in mine + theirs):
        # a figure of the clause put where the clause has another one: two figures swapped in place
        if len(mine) == len(theirs) == 1 and mine != theirs and mine[0] in clause and theirs[0] in sent:
            return f"{mine[0]}→{theirs[0]}"
        return None  # any other changed number is the number checks' business
    # a CJK swap inside a word (按照/依照 aligns as 按/依) is judged with the word's shared character
    if _is_cjk(mine + theirs) and (_wording(mine + sent[i2:i2 + 1], theirs + sent[i2:i2 + 1])
                                   or _wording(sent[max(0, i1 - 1):i1] + mine, sent[max(0, i1 - 1):i1] + theirs)):
        return None
    return f"{_join(mine)}→{_join(theirs)}" if _defect(mine, theirs, clause, chunk_tokens) else None


_MOST_PLACES = 8


def _local_swaps(sent: list[str], clause: list[str], span: int, flank: int):
    """(i1, i2, clause words) for each stretch of one to ``span`` answer tokens that stands between ``flank``
    tokens on each side which the clause also has around other words."""
    where: dict[tuple[str, ...], list[int]] = {}
    for j in range(flank, len(clause) + 1):
        seen = where.setdefault(tuple(clause[j - flank:j]), [])
        if len(seen) < _MOST_PLACES:  # a flank repeated all over a long clause says nothing about one place
            seen.append(j)
    for i1 in range(flank, len(sent)):
        for n in range(1, span + 1):
            i2 = i1 + n
            right = tuple(sent[i2:i2 + flank])
            if len(right) < flank:
                break
            for j1 in where.get(tuple(sent[i1 - flank:i1]), ()):
                for m in range(1, span + 1):
                    if tuple(clause[j1 + m:j1 + m + flank]) == right and clause[j1:j1 + m] != sent[i1:i2]:
                        yield i1, i2, clause[j1:j1 + m]


def _flanked(ops: list[tuple[str, int, int, int, int]], k: int, flank: int) -> bool:
    """Matching context on both sides of the k-th opcode: ``flank`` tokens, or fewer where the match runs
    to where both sentences end (or start), with ``flank + 1`` in all: "tested every week." for "tested
    every month.", "申报退税。" for "申报纳税。"."""
    def side(j: int, last: bool) -> tuple[int, bool]:
        if not 0 <= j < len(ops):
            return 0, True
        tag, i1, i2, _, _ = ops[j]
        return (i2 - i1, j == (len(ops) - 1 if last else 0)) if tag == "equal" else (0, False)

    (before, start), (after, end) = side(k - 1, False), side(k + 1, True)
    return (before >= flank or start) and (after >= flank or end) and before + after > flank


def _governed(toks: list[str], marker: tuple[str, ...], side: str) -> list[tuple[str, ...]]:
    """The word each occurrence of ``marker`` governs: the next (or previous) character for Chinese,
    the next (or previous) content word for Latin script."""
    n, out = len(marker), []
    for i in range(len(toks) - n + 1):
        if tuple(toks[i:i + n]) != marker or (i and toks[i - 1] in _NOT_MARKER_BEFORE.get(marker, ())):
            continue
        cjk = _is_cjk(list(marker))
        if side == "after":
            rest = toks[i + n:]
            rest = rest[:1] if cjk else [t for t in rest[:3] if t not in _STOP][:1]
        else:
            rest = toks[max(0, i - 2):i] if cjk else [t for t in toks[max(0, i - 3):i] if t not in _STOP][-1:]
        if rest and (not cjk or _is_cjk(rest)):
            out.append(tuple(rest))
    return out


def _chunk_governed(ctx: Context, marker: tuple[str, ...], side: str) -> set[tuple[str, ...]]:
    return ctx.derived(f"governed {' '.join(marker)} {side}", lambda c: set(
        _governed([t for clause in _chunk_sentences(c) for t in clause], marker, side)))


def polarity_flips(answer: str, chunk: str | Context) -> list[str]:
    """Words the answer puts under one polarity marker that the chunk puts only under the opposite one."""
    a_toks = tokens(answer)
    present = set(a_toks)
    ctx = as_context(chunk)
    out: list[str] = []
    for x, y, side in _OPPOSITES:
        for marker, opposite in ((x, y), (y, x)):
            if not present.issuperset(marker):
                continue
            mine = set(_governed(a_toks, marker, side))
            if not mine:
                continue
            same, other = _chunk_governed(ctx, marker, side), _chunk_governed(ctx, opposite, side)
            for word in sorted(mine & other - same):
                cjk = _is_cjk(list(marker))
                parts = [*marker, *word] if side == "after" else [*word, *marker]
                out.append(("" if cjk else " ").join(parts))
    return out


def antonym_swaps(answer: str, chunk: str | Context) -> list[str]:
    """"answer word→chunk word" where an answer sentence uses a word that occurs nowhere in the chunk, in no
    inflection, while its opposite (开放/关闭, smaller/bigger, lower/greater, true/false: synth.grounding.scales)
    stands in the chunk clause the sentence restates best: an opposite written among reworded neighbours, which
    the flanked swap of ``substitutions`` does not see. A negation on either side (must not exceed / stays
    below) may turn the scale around, and a single Chinese character is too common to say so alone: both are
    left to the flanked swap.

    >>> antonym_swaps("管理员应在网络侧关闭这些端口。", "管理员可在网络侧和主机侧开放相关端口。")
    ['关闭→开放']
    >>> antonym_swaps("管理员应在网络侧开放这些端口。", "管理员可在网络侧和主机侧开放相关端口，并关闭其他端口。")
    []
    >>> antonym_swaps("For one dataset, AOF files are usually smaller than RDB files.",
    ...               "AOF files are usually bigger than the equivalent RDB files for the same dataset.")
    ['smaller→bigger']
    >>> antonym_swaps("Keys are evicted once usage stays below the limit.",
    ...               "Keys are evicted when usage does not exceed the limit.")
    []
    """
    ctx = as_context(chunk)
    clauses = _chunk_sentences(ctx)
    chunk_text = ctx.folded
    chunk_lemmas = ctx.derived("token_lemmas", lambda c: {w for clause in _chunk_sentences(c) for t in clause
                                                          if not _is_cjk([t]) for w in lemmas(t)})
    out: list[str] = []
    for sent in _sentences(answer):
        words = set(sent)
        best = max(clauses, key=lambda c: len(words.intersection(c)), default=None)
        if best is None or len(words.intersection(best)) < 3 or _negated(sent) or _negated(best):
            continue
        sent_cjk, best_cjk = ("".join(t for t in toks if _is_cjk([t])) for toks in (sent, best))
        mine_words = [t for t in sent if not _is_cjk([t]) and has_scale(t)] + scale_words(sent_cjk)
        theirs_words = [t for t in best if not _is_cjk([t]) and has_scale(t)] + scale_words(best_cjk)
        sent_lemmas = {w for t in sent if not _is_cjk([t]) for w in lemmas(t)}
        for mine in dict.fromkeys(mine_words):
            cjk = _is_cjk(list(mine))
            if not cjk and mine in _FUNCTION_EN:
                continue  # with/without, more/less reword freely ("more replicas keep latency lower")
            if (mine in chunk_text) if cjk else bool(lemmas(mine) & chunk_lemmas):
                continue
            # the opposite kept beside it in the answer too is no swap ("many small files" for "small files")
            theirs = next((t for t in theirs_words if opposite(mine, t)
                           and not ((t in sent_cjk) if _is_cjk([t[0]]) else lemmas(t) & sent_lemmas)), None)
            if theirs:
                out.append(f"{mine}→{theirs}")
    return out


_NEGATION_EN = frozenset("not no never nor cannot neither".split())


def _negated(toks: list[str]) -> bool:
    text = "".join(t for t in toks if _is_cjk([t])).replace("是否", "").replace("无论", "")
    contracted = any(a.endswith("n") and b == "t" for a, b in zip(toks, toks[1:]))  # doesn't -> doesn, t
    return bool(_NEGATION_EN.intersection(toks)) or contracted or any(c in text for c in "不未没非无")
