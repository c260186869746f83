"""Synthetic instruction-like corpus with planted near-duplicates (English and Chinese).

Used by bench/dedup.py; standalone, deterministic for a given seed, no downloads.
Originals: an instruction from templates + a response of Zipf-distributed words (English-like
pseudo-words mixed with real function words) or characters (common CJK). Copies: light edits
(1-5 % of words or characters) or heavy edits (5-15 %), each followed by casing and punctuation noise
(and full-width forms for some copies).
"""

from __future__ import annotations

import itertools
import random

_FUNC = ("the of and to a in is that for it as with was on be by this are or from at an which "
         "not have has can will your you we they how what why when explain describe write give list").split()
_SYL = "ka lo mi ne ru sa ti po de ga fe hu ji ko lu ma no pe qu ri so tu va we xi yo za".split()
_INSTR = [
    "Write a short {a} about {t} for {b}.", "Explain how {t} works and why it matters to {b}.",
    "Give three examples of {t} in {a}.", "Summarise the following text about {t}.",
    "Translate this paragraph on {t} into plain language for {b}.", "List the main steps to {a} {t}.",
    "What is the difference between {t} and {a}?", "Describe {t} in the style of {b}.",
]
_ZH_INSTR = ["请写一篇关于{t}的短文。", "解释{t}的原理以及它对{b}的意义。", "列出{t}的三个例子。",
             "用简单的语言总结下面关于{t}的文字。", "{t}和{b}有什么区别？", "请为{b}描述{t}。"]
_ZH_FUNC = list("的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自后之年过发")
_ZH_PUNCT = "，。！？；："


def _vocab(rng: random.Random, n: int) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(_SYL) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    return sorted(words)


class Corpus:
    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.words = _vocab(self.rng, 20000)
        self.zh_chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3500)]
        self.wcum = list(itertools.accumulate(1 / (i + 10) for i in range(len(self.words))))
        self.ccum = list(itertools.accumulate(1 / (i + 10) for i in range(len(self.zh_chars))))

    def _words(self, k: int) -> list[str]:
        rng = self.rng
        out = rng.choices(self.words, cum_weights=self.wcum, k=k)
        for i in range(k):
            if rng.random() < 0.35:
                out[i] = rng.choice(_FUNC)
        return out

    def english(self) -> str:
        rng = self.rng
        instr = rng.choice(_INSTR).format(t=" ".join(self._words(2)), a=" ".join(self._words(1)), b=" ".join(self._words(2)))
        n = int(min(300, max(6, rng.lognormvariate(3.7, 0.7))))  # median ~40 words
        w = self._words(n)
        sent, out = [], []
        for x in w:
            sent.append(x)
            if len(sent) > 5 and rng.random() < 0.12:
                out.append(" ".join(sent).capitalize() + rng.choice(".,;!?"))
                sent = []
        if sent:
            out.append(" ".join(sent).capitalize() + ".")
        return instr + "\n" + " ".join(out)

    def chinese(self) -> str:
        rng = self.rng
        t = "".join(rng.choices(self.zh_chars, cum_weights=self.ccum, k=2))
        instr = rng.choice(_ZH_INSTR).format(t=t, b="".join(rng.choices(self.zh_chars, cum_weights=self.ccum, k=2)))
        n = int(min(600, max(10, rng.lognormvariate(4.3, 0.7))))  # median ~75 characters
        chars = rng.choices(self.zh_chars, cum_weights=self.ccum, k=n)
        for i in range(n):
            if rng.random() < 0.3:
                chars[i] = rng.choice(_ZH_FUNC)
            if i and rng.random() < 0.07:
                chars[i] += rng.choice(_ZH_PUNCT)
        return instr + "\n" + "".join(chars) + "。"

    # -- edits ---------------------------------------------------------------------------------
    def edit(self, text: str, lo: float, hi: float, unit: str) -> str:
        """Edit round(U(lo, hi) * units) units, at least one. Units: "word" (delete/replace/insert a
        word), "typo" (change one character inside a word), "char" (delete/replace/insert a character)."""
        rng = self.rng
        if unit in ("word", "typo"):
            parts = text.split(" ")
            n_ops = max(1, round(rng.uniform(lo, hi) * len(parts)))
            for _ in range(n_ops):
                i = rng.randrange(len(parts))
                op = rng.randrange(3)
                if unit == "typo":
                    w = parts[i]
                    j = rng.randrange(len(w)) if w else 0
                    parts[i] = w[:j] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[j + (op > 0):]
                elif op == 0 and len(parts) > 2:
                    del parts[i]
                elif op == 1:
                    parts[i] = self._words(1)[0]
                else:
                    parts.insert(i, self._words(1)[0])
            return " ".join(parts)
        chars = list(text)
        n_ops = max(1, round(rng.uniform(lo, hi) * len(chars)))
        pool = self.zh_chars if not text.isascii() else list("abcdefghijklmnopqrstuvwxyz")
        for _ in range(n_ops):
            i = rng.randrange(len(chars))
            op = rng.randrange(3)
            if op == 0 and len(chars) > 2:
                del chars[i]
            elif op == 1:
                chars[i] = rng.choice(pool)
            else:
                chars.insert(i, rng.choice(pool))
        return "".join(chars)

    def noise(self, text: str) -> str:
        """Casing, punctuation and width noise that normalisation should undo."""
        rng = self.rng
        r = rng.random()
        if text.isascii():
            if r < 0.15:
                text = text.lower()
            elif r < 0.25:
                text = text.upper()
            elif r < 0.30:
                text = text.title()
            words = text.split(" ")
            for i in range(len(words)):
                if rng.random() < 0.08:
                    words[i] = words[i].rstrip(".,;!?") if words[i][-1:] in ".,;!?" else words[i] + rng.choice(",.;:!?")
            text = " ".join(words)
            if rng.random() < 0.05:  # full-width copy
                text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
            return text
        table = str.maketrans("，。！？；：", ",.!?;:") if r < 0.5 else {}
        text = text.translate(table)
        if rng.random() < 0.3:
            text = text.replace("\n", "  ")
        return text

    def build(self, n_originals: int, n_light: int, n_heavy: int, zh_share: float = 0.3):
        """Rows {id, text, group, kind}; each copy follows its original at a random later position."""
        rng = self.rng
        originals = [self.chinese() if rng.random() < zh_share else self.english() for _ in range(n_originals)]
        rows = [{"id": f"o{i}", "text": t, "group": i, "kind": "original"} for i, t in enumerate(originals)]
        copies = []
        for k, (kind, lo, hi) in enumerate([("light", 0.01, 0.05)] * n_light + [("heavy", 0.05, 0.15)] * n_heavy):
            g = rng.randrange(n_originals)
            zh = not originals[g].isascii()
            unit = "char" if zh else rng.choice(("word", "word", "typo"))
            text = self.noise(self.edit(originals[g], lo, hi, unit))
            kind = f"{kind}-{unit}-{'zh' if zh else 'en'}"
            copies.append({"id": f"c{k}", "text": text, "group": g, "kind": kind})
        # each copy lands at a random place after its original
        keyed = [(float(i), r) for i, r in enumerate(rows)]
        keyed += [(rng.uniform(c["group"] + 0.5, n_originals), c) for c in copies]
        keyed.sort(key=lambda kr: kr[0])
        return [r for _, r in keyed]

    def stream(self, n: int, block: int = 250_000, cross: float = 0.2, zh_share: float = 0.3):
        """`n` rows as `build` makes them, a block at a time (memory of two blocks, not of `n` rows): each
        block is 80 % originals, 10 % light and 10 % heavy copies; a copy follows its original in the
        same block, or (share `cross`) copies an original of the previous block, so duplicates also
        cross block (and shard) boundaries."""
        rng = self.rng
        prev: list[tuple[int, str]] = []
        n_orig = n_copy = done = 0
        while done < n:
            nb = min(block, n - done)
            no, nl = int(nb * 0.8), int(nb * 0.1)
            cur = [(n_orig + i, self.chinese() if rng.random() < zh_share else self.english()) for i in range(no)]
            keyed = [(float(i), {"id": f"o{g}", "text": t, "group": g, "kind": "original"}) for i, (g, t) in enumerate(cur)]
            for k, (kind, lo, hi) in enumerate([("light", 0.01, 0.05)] * nl + [("heavy", 0.05, 0.15)] * (nb - no - nl)):
                if prev and rng.random() < cross:
                    g, orig = rng.choice(prev)
                    at = rng.uniform(0, no)
                else:
                    i = rng.randrange(no)
                    (g, orig), at = cur[i], rng.uniform(i + 0.5, no)
                zh = not orig.isascii()
                unit = "char" if zh else rng.choice(("word", "word", "typo"))
                text = self.noise(self.edit(orig, lo, hi, unit))
                keyed.append((at, {"id": f"c{n_copy + k}", "text": text, "group": g,
                                   "kind": f"{kind}-{unit}-{'zh' if zh else 'en'}"}))
            keyed.sort(key=lambda kr: kr[0])
            yield from (r for _, r in keyed)
            n_orig, n_copy, done, prev = n_orig + no, n_copy + nb - no, done + nb, cur
