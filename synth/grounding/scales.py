"""Opposites: words on the two ends of one scale (higher/lower, 开启/关闭, true/false) in any inflection.

A restating answer that keeps a clause's words and puts one word's opposite in place of it says the reverse of
the clause, and nothing else in the sentence shows it: overlap, numbers and terms all agree. The scales are a
closed lexicon of polar pairs, grouped by dimension, and size, height and amount form one dimension, so that
"lower than the limit" is the opposite of "greater than the limit" as much as of "higher". English words are
compared by lemma: comparatives and superlatives (bigger, larger, earliest), verb forms (rose, fell, increased)
and plurals come back to the scale's word.

>>> opposite("smaller", "bigger"), opposite("lower", "greater"), opposite("larger", "bigger")
(True, True, False)
>>> opposite("高", "低"), opposite("开启", "关闭"), opposite("true", "false"), opposite("rose", "fell")
(True, True, True, True)
"""

from __future__ import annotations

from functools import lru_cache

# (one end, other end): each a space-separated list of words of that end
_SCALES_EN = (
    ("big large great high huge tall much many maximum upper", "small low tiny few minimum"),
    ("long", "short"), ("fast quick rapid", "slow"), ("early", "late"), ("before prior", "after"),
    ("new recent", "old"), ("strong", "weak"), ("heavy", "light"), ("wide broad", "narrow"),
    ("expensive costly", "cheap inexpensive"), ("hard difficult", "easy"), ("true", "false"),
    ("enable enabled", "disable disabled"), ("allow permit accept", "deny forbid reject prohibit"),
    ("increase rise grow gain raise", "decrease fall drop decline shrink reduce lower lose"),
    ("include", "exclude"), ("first", "last"), ("sync synchronous", "async asynchronous"), ("local", "remote"),
    ("success succeed successful", "failure fail failed"), ("inbound", "outbound"), ("internal", "external"),
    ("public", "private"), ("positive", "negative"), ("open", "close"), ("start begin", "end stop finish"),
    ("ascend ascending", "descend descending"), ("valid", "invalid"), ("same", "different"),
    ("inclusive", "exclusive"), ("buyer", "seller"), ("lender", "borrower"), ("profit", "loss"),
    ("income revenue", "expense expenditure"), ("above", "below"), ("with", "without"),
)
_SCALES_ZH = (
    "高 低", "大 小", "多 少", "长 短", "快 慢", "早 晚", "前 后", "新 旧", "强 弱", "重 轻", "宽 窄", "深 浅", "增 减",
    "升 降", "涨 跌", "开 关", "真 假", "是 否", "正 负", "先 后", "盈 亏", "买 卖", "主 从", "主 备",
    "同步 异步", "本地 远程", "必选 可选", "必填 选填", "升序 降序", "成功 失败", "有效 无效", "启用 禁用", "开启 关闭",
    "打开 关闭", "开放 关闭", "允许 禁止", "允许 拒绝", "接受 拒绝", "上升 下降", "提高 降低", "增长 下降", "增加 减少",
    "扩大 缩小", "最大 最小", "最高 最低", "最多 最少", "最多 至少", "至少 至多", "大于 小于", "高于 低于", "多于 少于",
    "早于 晚于", "以上 以下", "之前 之后", "以前 以后", "上限 下限", "长期 短期", "境内 境外", "国内 国外", "内部 外部",
    "公开 保密", "收入 支出", "盈利 亏损", "买入 卖出", "买方 卖方", "借方 贷方", "甲方 乙方", "出让 受让",
)
# irregular forms back to the scale's word
_IRREGULAR = {"rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall", "grew": "grow", "grown": "grow",
              "more": "much", "most": "much", "less": "few", "least": "few", "lesser": "few",
              "fewer": "few", "fewest": "few", "lost": "lose", "began": "begin", "begun": "begin", "lower": "low",
              "higher": "high", "highest": "high", "lowest": "low", "upper": "upper",
              "closer": "near", "closest": "near", "min": "minute", "mins": "minute", "max": "max"}


def _ends() -> dict[str, set[tuple[int, int]]]:
    """word -> {(scale, end)}."""
    out: dict[str, set[tuple[int, int]]] = {}
    scales = [tuple(side.split() for side in pair) for pair in _SCALES_EN] + [tuple([w] for w in p.split())
                                                                            for p in _SCALES_ZH]
    for i, sides in enumerate(scales):
        for end, words in enumerate(sides):
            for w in words:
                out.setdefault(w, set()).add((i, end))
    return out


_END = _ends()


@lru_cache(maxsize=4096)
def lemmas(word: str) -> frozenset[str]:
    """The word and the scale words it may be an inflection of: bigger -> big, earlier -> early, larger -> large,
    increased -> increase, drops -> drop; Chinese words stand as written.

    >>> sorted(lemmas("bigger") & {"big"}), sorted(lemmas("earliest") & {"early"}), sorted(lemmas("rose"))
    (['big'], ['early'], ['rise', 'rose'])
    """
    word = word.casefold()
    out = {word}
    if word in _IRREGULAR:  # no suffix is stripped from these: closer is near, not close
        return frozenset(w for w in (word, _IRREGULAR[word]) if w in _END) | {word}
    for end in ("s", "es", "d", "ed", "ing", "er", "est", "r", "st"):
        if word.endswith(end) and len(word) - len(end) >= 2:
            stem = word[:-len(end)]
            out.update((stem, stem + "e"))
            if len(stem) >= 3 and stem[-1] == stem[-2]:
                out.add(stem[:-1])              # bigger -> big, dropped -> drop
            if stem.endswith("i"):
                out.add(stem[:-1] + "y")        # earlier -> early
    return frozenset(w for w in out if w in _END) | {word}


def ends(word: str) -> set[tuple[int, int]]:
    """The (scale, end) pairs the word stands on."""
    return set().union(*(_END.get(w, set()) for w in lemmas(word)))


def opposite(a: str, b: str) -> bool:
    """The two words stand on opposite ends of one scale, and on no common end (larger/bigger are one end)."""
    ea, eb = ends(a), ends(b)
    if not ea or not eb or ea & eb:
        return False
    return any(s == t and x != y for s, x in ea for t, y in eb)


def has_scale(word: str) -> bool:
    return bool(ends(word))


_ZH_WORDS = sorted((w for w in _END if len(w) >= 2 and "\u4e00" <= w[0] <= "\u9fff"), key=len, reverse=True)


def scale_words(text: str) -> list[str]:
    """The Chinese scale words of two or more characters in ``text``, longest first where two overlap.

    >>> scale_words("开启失效转移后，负载越高越好；最大值以上")
    ['开启', '最大', '以上']
    """
    out, taken = [], [False] * len(text)
    for w in _ZH_WORDS:
        start = text.find(w)
        while start != -1:
            if not any(taken[start:start + len(w)]):
                out.append((start, w))
                taken[start:start + len(w)] = [True] * len(w)
            start = text.find(w, start + 1)
    return [w for _, w in sorted(out)]
