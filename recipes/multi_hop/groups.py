"""Groups of related chunks, made deterministically before any request (the seed rows of `multi-hop`,
and of `dialogue` with ``chunks_per_dialogue > 1``).

Method (no model, no randomness):

1. **Terms.** Each chunk's text and heading path become a bag of terms: Han character bigrams for
   Chinese, lowercased Latin words of 3+ letters (stop words out); bigrams holding a function character (的, 于, 和 ...) out, and those made only of numbering characters (百零, 第九, 二次) for other text; heading terms count
   ``heading_weight`` times (a shared heading such as "4 点检周期" or "Removing locks" says more than a
   shared word of body text).
2. **Distinctive terms.** A term found in one chunk only can join nothing, and one found in more than
   ``max_df`` of the chunks (冲压, "the", a document title repeated in every heading path) joins
   everything; both are left out. The rest weigh their inverse document frequency, ``log(1 + N / df)``.
3. **Similarity** of two chunks: cosine of their tf-idf vectors over the distinctive terms, found
   through an inverted index (only pairs that share a term are ever scored).
4. **Groups, greedily in seed order.** Each chunk in turn anchors a group (unless already in
   ``max_uses`` groups); the group grows by the candidate whose *smallest* similarity to the members
   is highest (every member must be related to every other, not only to the anchor), ties broken by
   seed order, while that similarity is at least ``min_similarity`` and the group is smaller than
   ``group_size``. ``scope: cross`` takes only chunks of documents not yet in the group,
   ``within`` only chunks of the anchor's document, ``any`` both. A group of one is dropped.

A group row carries its chunks (text and provenance), the shared terms (terms in two or more members,
by weight) and the smallest pairwise similarity, so how related each group is can be read off the
seeds (``relatedness`` sums it up for a set of groups; bench/multi_hop_groups.py prints it for the
example documents beside random groups of the same sizes). A table of such rows is taken as it is
(``is_group_table``); ``group_language`` is the prompt language of a group.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from synth.recipes.doc_qa.chunks import chunk_info
from synth.text import prompt_language

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{2,}")
_STOP = frozenset("""the and for are but not you all any can had her was one our out has have this that with
from they will would there their what which when who whom been were into than then them these those such
only other also must shall should may each more most some its per via upon under over after before while
where here does done being used using use""".split())

# function characters: a bigram holding one (的规, 于三, 和班) is grammar, not a shared subject
_FUNCTION_HAN = frozenset("的了和与及或在是为对于其之等而并且被把将从向以所也就都")

# numbering: a bigram made only of these (百零, 第九, 二次, 八届) is an article or session number, not a subject
_NUMBERING_HAN = frozenset("零〇一二三四五六七八九十百千万第条章节款项次届")

METHOD = "tfidf-cosine-greedy-v1"


def terms(text: str) -> Counter:
    """Han character bigrams and lowercased Latin words (3+ letters, stop words out)."""
    out: Counter = Counter()
    for run in _HAN_RUN.findall(text or ""):
        out.update(b for b in (run[i:i + 2] for i in range(len(run) - 1))
                   if not _FUNCTION_HAN.intersection(b) and not set(b) <= _NUMBERING_HAN)
    out.update(w for w in (m.lower() for m in _WORD.findall(text or "")) if w not in _STOP)
    return out


def chunk_terms(text: str, headings: list[str], heading_weight: int = 3) -> Counter:
    bag = terms(text)
    for h in headings:
        for t, c in terms(h).items():
            bag[t] += c * heading_weight
    return bag


def _vectors(bags: list[Counter], max_df: float) -> tuple[list[dict[str, float]], dict[str, float]]:
    n = len(bags)
    df = Counter(t for bag in bags for t in bag)
    cap = max(2, math.floor(max_df * n))
    idf = {t: math.log(1 + n / d) for t, d in df.items() if 2 <= d <= cap}
    vectors = []
    for bag in bags:
        v = {t: c * idf[t] for t, c in bag.items() if t in idf}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({t: x / norm for t, x in v.items()})
    return vectors, idf


class Similarity:
    """Pairwise cosine over distinctive terms, computed once per chunk through an inverted index."""

    def __init__(self, bags: list[Counter], max_df: float = 0.5) -> None:
        self.vectors, self.idf = _vectors(bags, max_df)
        index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, v in enumerate(self.vectors):
            for t, x in v.items():
                index[t].append((i, x))
        self.rows: list[dict[int, float]] = []
        for i, v in enumerate(self.vectors):
            acc: dict[int, float] = defaultdict(float)
            for t, x in v.items():
                for j, y in index[t]:
                    if j != i:
                        acc[j] += x * y
            self.rows.append(dict(acc))

    def __call__(self, i: int, j: int) -> float:
        return self.rows[i].get(j, 0.0)


def is_group_table(rows: list[dict]) -> bool:
    """Rows that are groups already (each with its ``chunks``), to be taken as they are."""
    return bool(rows) and all(isinstance(r.get("chunks"), list) for r in rows)


def group_language(chunks: list[dict], language: str) -> str:
    """``language`` unless "auto"; then zh when at least half the chunks' ``lang`` is zh* (every chunk
    having one), else en; chunks without ``lang``: the script of their text."""
    if language != "auto":
        return language
    langs = [str(c.get("lang") or "").lower() for c in chunks]
    if langs and all(langs):
        return "zh" if sum(lg.startswith("zh") for lg in langs) * 2 >= len(langs) else "en"
    return prompt_language("\n".join(c["text"] for c in chunks))


def make_groups(rows: list[dict], *, text_field: str = "text", group_size: int = 3, min_size: int = 2,
                min_similarity: float = 0.1, scope: str = "any", max_uses: int = 1, max_df: float = 0.5,
                heading_weight: int = 3) -> list[dict]:
    """Group rows (seed rows of `multi-hop`): ``{group_id, method, scope, similarity, shared_terms,
    chunks: [{id, source, doc_id, headings, start, end, lang, text}]}``, in the order of their anchors."""
    rows = [r for r in rows if isinstance(r.get(text_field), str) and r[text_field].strip()]
    infos = [chunk_info(r, text_field) for r in rows]
    bags = [chunk_terms(r[text_field], info["headings"], heading_weight) for r, info in zip(rows, infos)]
    sim = Similarity(bags, max_df)
    uses = [0] * len(rows)
    groups, seen = [], set()
    for anchor in range(len(rows)):
        if uses[anchor] >= max_uses:
            continue
        members = [anchor]
        while len(members) < group_size:
            docs = {infos[m]["doc_id"] for m in members}
            best, best_score = None, min_similarity
            for j in sorted(sim.rows[anchor]):
                if j in members or uses[j] >= max_uses:
                    continue
                if scope == "cross" and infos[j]["doc_id"] in docs:
                    continue
                if scope == "within" and infos[j]["doc_id"] != infos[anchor]["doc_id"]:
                    continue
                score = min(sim(m, j) for m in members)
                if score > best_score or (best is None and score >= best_score):
                    best, best_score = j, score
            if best is None:
                break
            members.append(best)
        if len(members) < min_size or frozenset(members) in seen:
            continue
        seen.add(frozenset(members))
        for m in members:
            uses[m] += 1
        groups.append(_group_row(members, rows, infos, bags, sim, text_field, scope))
    return groups


def _group_row(members, rows, infos, bags, sim, text_field, scope) -> dict:
    ids = [infos[m]["id"] for m in members]
    counts = Counter(t for m in members for t in bags[m] if t in sim.idf)
    shared = sorted((t for t, c in counts.items() if c >= 2), key=lambda t: (-sim.idf[t] * counts[t], t))
    pairs = [sim(a, b) for i, a in enumerate(members) for b in members[i + 1:]]
    chunks = [{**infos[m], "lang": rows[m].get("lang"), "text": rows[m][text_field]} for m in members]
    return {"group_id": hashlib.sha1("|".join(ids).encode()).hexdigest()[:16], "method": METHOD, "scope": scope,
            "similarity": round(min(pairs), 4), "shared_terms": shared[:12], "chunks": chunks}


def relatedness(groups: Iterable[dict], distinctive: set[str]) -> dict:
    """How related a set of groups is, by what their members share (``distinctive``: the terms of
    ``Similarity(...).idf`` over the whole corpus, so proposed and random groups are measured alike): the
    share of groups in which every pair of members shares a distinctive term, in which two members share a
    heading term below the document title, and which span two or more documents; the mean number of
    distinctive terms in two or more members."""
    groups = list(groups)
    if not groups:
        return {"groups": 0}
    all_pairs = every_term = heading = cross = 0
    shared_counts = []
    for g in groups:
        bags = [terms(c["text"]) for c in g["chunks"]]
        heads = [set().union(*(terms(h) for h in c["headings"][1:])) if len(c["headings"]) > 1 else set()
                 for c in g["chunks"]]
        k = len(bags)
        ok = all(set(bags[a]) & set(bags[b]) & distinctive for a in range(k) for b in range(a + 1, k))
        every_term += ok
        heading += any(heads[a] & heads[b] for a in range(k) for b in range(a + 1, k))
        cross += len({c["doc_id"] for c in g["chunks"]}) > 1
        counts = Counter(t for bag in bags for t in set(bag) & distinctive)
        shared_counts.append(sum(1 for c in counts.values() if c >= 2))
        all_pairs += k * (k - 1) // 2
    n = len(groups)
    return {"groups": n, "pairs": all_pairs, "all_pairs_share_a_term": round(every_term / n, 3),
            "share_a_subheading_term": round(heading / n, 3), "cross_document": round(cross / n, 3),
            "mean_shared_terms": round(sum(shared_counts) / n, 2)}
