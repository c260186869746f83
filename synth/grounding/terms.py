"""What an answer says besides its numbers: source leaks, names and codes, lexical support.

A leak ("根据参考资料", "according to the text") refers to a source the reader of an SFT pair cannot
see; a Latin name or code (Pfizer, GMP, EN 388) the chunk lacks is a claim from elsewhere; the share
of the answer's token bigrams found in the chunk (characters for Chinese, words for English) says
how closely it restates the chunk.
"""

from __future__ import annotations

import re
import unicodedata

from synth.grounding.context import Context, _bigrams, as_context


_SOURCE_ZH = r"(?:内容|资料|文献|原文|文本|文档|材料|段落|信息|条文|规定|文字|表格|摘要|片段)"
_SOURCE_EN = r"(?:text|passage|document|context|excerpt|source|summary|article|section|material|information|content|chunk)"
# nouns for a document or a part of one: the reader of an SFT pair sees none of them
_DOC_EN = (r"(?:text|passage|document|context|excerpt|source|summary|article|section|material|information|content|chunk"
           r"|release|press release|announcement|report|table|notice|paragraph|page|chapter|figure|list|statement above"
           r"|extract|snippet|reference|guideline|manual|specification|memo|bulletin)s?")
_DOC_MOD = r"(?:given|provided|above|following|preceding|previous|original|source|quoted|cited|attached|same|press) "
_DOC_MOD_EN = "(?:" + _DOC_MOD + ")?"
# nouns that name the source itself wherever they stand ("in the passage"); "in the table" may be a database's table
_DOC_STRONG_EN = r"(?:text|passage|document|excerpt|press release|announcement|snippet|extract|context|chunk)s?"
_DOC_ZH = r"(?:文档|文本|原文|文章|表格|列表|清单|公告|报告|通知|段落|材料|资料|内容|摘要|章节|图表|上表|下表|表|图)"
_DOC_SAYER = (r"(?:documentation|docs|document|manual|guide|guidelines?|handbook|readme|faq|tutorial|specification|spec"
               r"|text|passage|source|article|section|table|chapter|page|instructions)s?")
LEAK = re.compile(
    # 根据内容/材料 alone is ordinary Chinese (根据材料强度选择焊条): only with a pointer, or 资料/文献/原文
    r"根据(?:所给|给定|提供的?|上述|以上|上面的?|前述|参考)的?" + _SOURCE_ZH + r"?"
    r"|根据(?:上文|前文|原文|文中|本文|该文|资料|文献)"
    r"|(?:文档|手册|指南|官方文档|说明书|原文|资料)(?:中|里|上)?(?:也|还|明确)?(?:指出|提到|写道|写明|称(?!之|为)|表示)"
    r"|(?:文中|原文|材料中|资料中|文档中|上文|前文|参考资料中?|以上" + _SOURCE_ZH + r"中?)(?:提到|提及|指出|所述|显示|规定|表明|说明|要求|强调|写道|写明|列出|列明)"
    r"|参考资料|如上文?所述|如前所述|本文(?:提到|指出)"
    # a paragraph or the section before as the one saying it: 本段指出, 上一节提到 (本章所述 is how a law names
    # itself, 该段表示 an ordinary definition)
    r"|(?:本|该|这|此|上一?|前一?)段(?:中|里)?(?:也|还|明确)?(?:指出|提到|写道|写明)"
    r"|(?:上一?|前一?)(?:节|章)(?:中|里)?(?:也|还|明确)?(?:指出|提到|写道|写明)|(?:本段|该段|这段|所给的?|给定的?)" + _SOURCE_ZH +
    # a source-referring construction (根据/从/如…所示) with a document noun: 根据文档中的表格, 从表格可以看出, 如上表所示
    r"|(?:根据|依据|据|从|由|参照)(?:上面|上方|上述|以上|下面|下述|前面|该|本|此|这个|这份|这篇|这张)?的?"
    r"(?:文档|文中|原文|表格|表中|上表|下表|该表|本表|图表|公告|报告|列表)"
    r"|(?:从|由)(?:上|下)?表(?:格|中)?(?:中)?(?:可以|可)?(?:看出|看到|得知|可知|可见|知)"
    r"|如(?:上|下|前)文?" + _DOC_ZH + r"?所(?:示|述|列)|如(?:表|图)\s*[\d.\-]*\s*所示"
    # 本通知, 本公告 is how a notice names itself (本通知自发布之日起施行): only 该/上述 point at a source
    r"|(?:该|上述|以上|上面)(?:公告|报告|文档|表格|通知|文章|段落)|表中(?:所示|列出|列明|显示)"
    r"|according to the (?:given |provided |above |following )?" + _SOURCE_EN +
    r"|(?:according to|based on|per) (?:the|this|that) " + _DOC_MOD_EN + _DOC_EN + r"\b"
    r"|(?:from|in) (?:the|this|that) (?:" + _DOC_MOD + _DOC_EN + "|" + _DOC_STRONG_EN + r"(?=\s*(?:[,.;:!?，。]|$|above|below|provided|given)))\b"
    r"|(?:the|this) " + _SOURCE_EN + r" (?:says|states|mentions|notes|explains|indicates|describes|shows)"
    r"|(?:the|this) " + _DOC_MOD_EN + _DOC_EN + r" (?:says|states|mentions|notes|explains|indicates|describes|shows|lists)"
    # a document noun as the subject of a saying verb: "The documentation states that …", "the guide notes …"
    r"|\b(?:the|this|that|these|its|their) (?:\w+ )?" + _DOC_SAYER + r" (?:also |further |clearly |explicitly )?"
    r"(?:(?:say|state|mention|note|explain|indicate|write|tell)(?:s|d|ed)?|points? out)\b"
    r"|as (?:stated|mentioned|described|noted|shown|indicated|listed|given|outlined|explained|specified|set out) "
    # "as set out in section 13(a)" cites the law by its number: no leak; "as shown in the table" is one
    r"(?:(?:in|by|from) (?:the |this )?" + _DOC_MOD_EN + _DOC_EN + r"\b(?!\s*[\d(§])|above|below|earlier|previously)"
    r"|as (?:stated|mentioned|described|noted|shown|indicated) (?:in the " + _SOURCE_EN + r"|above)"
    r"|based on the (?:given |provided |above )?" + _SOURCE_EN +
    r"|(?:in|from) the (?:provided|given|above) " + _SOURCE_EN +
    r"|the (?:provided|given) " + _SOURCE_EN + r"|the " + _SOURCE_EN + r" above"
    r"|(?:\b(?:the|this) " + _DOC_EN + r"|\b(?:table|figure|section|chapter|appendix) [\w.\-]+) (?:above|below)\b"
    r"(?!\s+(?:the|a|an|\d))"
    r"|" + _SOURCE_EN + r" (?:provided|given) (?:above|here)",
    re.I)


def leak(answer: str) -> str | None:
    """The phrase by which ``answer`` refers to a source the reader cannot see, or None.

    >>> leak("根据参考资料，年利率为3.5%。")
    '根据参考资料'
    >>> leak("According to the passage, the fee is waived.")
    'According to the passage'
    >>> leak("根据上文，试用期不得超过六个月。"), leak("Per the summary provided above, fees apply.")
    ('根据上文', 'Per the summary')
    >>> leak("年利率为3.5%。") is None, leak("根据材料强度选择焊条。") is None, leak("上述利润应计入当期收入。") is None
    (True, True, True)
    """
    m = LEAK.search(answer)
    return m.group() if m else None


_TERM = re.compile(r"[A-Za-z][A-Za-z0-9&.\-/]*[A-Za-z0-9]|[A-Z]")
_SENTENCE_START = re.compile(r"(?:^|[.!?。！？:：;；\n]\s*|[\"'“‘(（]\s*)$")


def unknown_terms(answer: str, context: str | Context) -> list[str]:
    """Latin names and codes in ``answer`` (a capital letter past the first, or one inside a
    sentence) that the context does not contain, case-insensitively.

    >>> unknown_terms("The trial was run by Pfizer under GMP rules.", "Moderna ran the trial under GMP.")
    ['Pfizer']
    >>> unknown_terms("依据ISO 9001建立体系。", "企业应依据ISO 9001建立质量管理体系。")
    []
    """
    ctx = as_context(context)
    text = unicodedata.normalize("NFKC", answer)
    out = []
    for m in _TERM.finditer(text):
        word = m.group()
        capital_inside = any(c.isupper() for c in word[1:])
        if not (capital_inside or (word[0].isupper() and not _SENTENCE_START.search(text[:m.start()]))):
            continue
        if word.casefold() not in ctx.folded and word not in out:
            out.append(word)
    return out


def lexical_support(answer: str, context: str | Context) -> float:
    """Share of the answer's token bigrams (Chinese: character bigrams; English: word bigrams) that
    occur in the context; 1.0 for an empty answer.

    >>> lexical_support("核心资本充足率不得低于4%", "核心资本充足率不得低于4%。")
    1.0
    >>> round(lexical_support("The board approved a dividend.", "The board approved the merger."), 2)
    0.5
    """
    ctx = as_context(context)
    grams = _bigrams(answer)
    if not grams:
        return 1.0
    return sum(g in ctx.bigrams for g in grams) / len(grams)




# Chinese characters that carry no claim of their own (particles, conjunctions, prepositions, measure words)
# (需要, 共, 各, 均: need and quantity, which the modality and count checks read)
_FUNCTION_ZH = frozenset("的之了是为和与及或等在于由对将把被其所以而且并也都就即则向从个这那些该中有需要共各均")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_STOP_EN = frozenset(
    "the a an and or of to in on at by for from with as is are was were be been being it its this that these those "
    "than then there their which who whom whose what when where while into onto over under such any all each "
    "per not no also only both either other more most less least very can may must shall should will would "
    "could might has have had does did do if but so".split())
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|(?<=\.)\s")


def _units(text: str) -> list[str]:
    """Content units: Chinese characters other than function characters, and English content words cut to five
    letters (expires/expired/expiry are one unit); numbers are left to the number checks."""
    from synth.dedup.normalize import tokens

    out = []
    for t in tokens(unicodedata.normalize("NFKC", text)):
        if _CJK_CHAR.fullmatch(t):
            if t not in _FUNCTION_ZH:
                out.append(t)
        elif not any(c.isdigit() for c in t) and len(t) >= 3 and t not in _STOP_EN:
            out.append(t[:5])
    return out


def term_coverage(answer: str, context: str | Context) -> float:
    """The lowest share, over the answer's sentences, of content units (Chinese characters, English word stems)
    that occur in the context: a paraphrase reorders and rejoins the chunk's words (最长 for 最大长度, "holds"
    for "can store") and keeps few of its bigrams, but a sentence that adds a claim brings words of its own.

    >>> term_coverage("索引最长 3072 字节。", "索引的最大长度为 3072 字节。")
    1.0
    >>> round(term_coverage("单个事务最多 5000 条语句，超出后会自动拆分提交。", "单个事务最大语句数默认限制 5000。"), 2)
    0.33
    """
    ctx = as_context(context)
    known = ctx.derived("content_units", lambda c: set(_units(c.text)))
    worst = 1.0
    for sentence in _SENTENCE_END.split(answer):
        units = _units(sentence)
        if len(units) >= 2:
            worst = min(worst, sum(u in known for u in units) / len(units))
    return worst


_ABSOLUTE = re.compile(r"\b(?:always|never|in all cases|in every case|in any case|regardless|under no circumstances|without exception)\b"
                       r"|总是|始终|一律|无论|不论|任何情况|在任何|一概|均不得例外", re.I)


def absolutes(answer: str, context: str | Context) -> list[str]:
    """Words of ``answer`` that make a rule hold in every case (always, never, 一律, 无论) where the context uses
    none of them: a condition of the chunk ("OPTIONAL if …; otherwise REQUIRED") dropped into a universal claim.

    >>> absolutes("The scope is always optional.", "scope: OPTIONAL, if identical to the request; otherwise, REQUIRED.")
    ['always']
    >>> absolutes("无论金额大小，一律免征。", "无论金额大小，一律免征印花税。"), absolutes("不论金额大小均免征。", "无论金额大小，均免征。")
    ([], [])
    """
    ctx = as_context(context)
    said = {m.group().casefold() for m in _ABSOLUTE.finditer(ctx.folded)}
    # 无论/不论, always/in all cases: any word of the kind in the chunk says it states a universal rule itself
    return [] if said else [m.group() for m in _ABSOLUTE.finditer(unicodedata.normalize("NFKC", answer))]
