"""synth.grounding on inputs whose right answer is known, and its precision/recall on the labelled pairs."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from synth.grounding import (Context, Thresholds, check_answer, find_numbers, leak, lexical_support, locate,
                             missing_numbers, normalize, normalize_map, unknown_terms)

PAIRS = Path(__file__).parent / "labelled_pairs.jsonl"


def test_normalised_characters_map_back_to_their_source():
    text = "Ｎｅｔ “profit”\u3000rose —\n12 ％…… capi-\n  tal 「资本」"
    norm, index = normalize_map(text)
    assert norm == 'net"profit"rose-12%…capital"资本"'
    assert len(index) == len(norm) and index == sorted(index)
    assert text[index[norm.index("资")]] == "资" and text[index[norm.index("%")]] == "％"


@pytest.mark.parametrize("quote", [
    "资本充足率不得低于８％",                        # full width
    "资本充足率 不得\n低于8%",                       # spaces and a PDF line break
    "“核心资本”充足率不得低于4%",                    # curly quotes where the chunk has corner quotes
    "不得低于8%……",                                  # …… against ...
])
def test_quotes_found_exactly_despite_width_space_and_punctuation(quote):
    ctx = "商业银行资本充足率不得低于8%...「核心资本」充足率不得低于4%。"
    m = locate(quote, ctx)
    assert m.method == "exact" and m.score == 100.0
    assert normalize(ctx[m.start:m.end]) == normalize(quote).strip('"…')   # marks around a quote are dropped


def test_fuzzy_match_keeps_its_score_and_its_numbers():
    ctx = "The Board declared a quarterly dividend of $0.45 per share, payable on March 15."
    m = locate("The Board declared a quarterly dividend of $0.45 a share", ctx)
    assert m.method == "fuzzy" and 90 <= m.score < 100 and ctx[m.start:m.end].startswith("The Board declared")
    wrong = locate("The Board declared a quarterly dividend of $0.54 per share", ctx)
    assert not wrong.found and wrong.problem == "number_differs" and wrong.score >= 90
    assert locate("The Board declared a quarterly dividend of $0.45 a share", ctx, threshold=99).found is False
    assert locate("8%", "不得低于8%").problem == "too_short"
    assert locate("x" * 50, "short").problem == "longer_than_context"


@pytest.mark.parametrize("text,values", [
    ("营业收入3.2亿元，同比增长12.5%", [Fraction(320000000), Fraction(25, 2)]),
    ("罚款五万元，百分之八，三百二十人，二〇二四年", [Fraction(50000), Fraction(8), Fraction(320), Fraction(2024)]),
    ("revenue of $4.2 billion and 1,250 staff", [Fraction(4200000000), Fraction(1250)]),
    ("1. 停机\n2. 挂牌\n（3）上锁，等待30分钟", [Fraction(30)]),   # list markers are not facts
    ("一般来说，统一标准", []),                                   # numerals inside ordinary words
    ("满八年的，liable for three times", [Fraction(8), Fraction(3)]),
])
def test_numbers_in_an_answer(text, values):
    assert [m.value for m in find_numbers(text)] == values


def test_numbers_must_match_value_unit_and_range():
    ctx = Context("成人一次0.5g，每6～8小时1次，一日剂量不超过4g；儿童每12小时1次。资本充足率不得低于8%。")
    assert missing_numbers("每次0.5克，间隔6到8小时", ctx) == []                    # 克 = g, 到 = ～
    assert missing_numbers("每4小时一次", ctx) == ["4"]                            # 4 is in the chunk, as 4 g
    assert missing_numbers("每6～12小时", ctx) == ["6"]             # 6 and 12 are there, but not as a range
    assert missing_numbers("不得低于0.08", ctx) == []                              # 8% as a fraction
    assert missing_numbers("不得低于百分之八", ctx) == []


def test_leaks_terms_and_lexical_support():
    assert leak("根据提供的资料，年利率为3.5%。") == "根据提供的资料"
    assert leak("As stated in the document, fees apply.") == "As stated in the document"
    assert leak("The passage says fees apply.") == "The passage says"
    assert leak("年利率为3.5%，按日计息。") is None
    ctx = "Pfizer ran the trial; gloves of EN 388 level C."
    assert unknown_terms("The trial was run by Moderna; see the EN 388 rating.", ctx) == ["Moderna"]
    assert unknown_terms("Moderna ran it.", ctx) == []              # a sentence-initial capital is not a name
    assert lexical_support("预热温度不低于120℃", "预热温度不低于120℃。") == 1.0
    assert lexical_support("完全无关的句子", "预热温度不低于120℃。") == 0.0


def test_verdict_order_hard_evidence_first():
    ctx = "预热温度不低于120℃，层间温度应控制在120～250℃之间。"
    quote = ["预热温度不低于120℃"]
    assert check_answer("根据资料，预热温度不低于150℃。", ["伪造的引文内容"], ctx).reason == "answer_leaks_source"
    assert check_answer("预热温度不低于150℃。", ["伪造的引文内容"], ctx).reason == "ungrounded_quote"
    assert check_answer("预热温度不低于150℃。", quote, ctx).reason == "ungrounded_number"
    v = check_answer("预热温度不低于150℃。", quote, ctx, calculation=True)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_number")
    assert check_answer("预热温度不低于120℃。", [], ctx).reason == "ungrounded_no_evidence"
    v = check_answer("开焊前先把钢板烤热到至少120℃。", quote, ctx)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_low_support")
    assert check_answer("开焊前先把钢板烤热到至少120℃。", quote, ctx, thresholds=Thresholds(support=0.0)).status == "pass"
    v = check_answer("预热温度不低于120℃。", quote, ctx)
    assert v.status == "pass" and v.checks["quotes_verified"] == 1 and v.evidence[0].start == 0


# -- measured on hand-labelled pairs ----------------------------------------------------------------
def labelled() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]


def test_labelled_pairs_are_varied_and_balanced():
    pairs = labelled()
    assert len(pairs) >= 40 and len({p["id"] for p in pairs}) == len(pairs)
    assert {p["lang"] for p in pairs} == {"zh", "en"}
    assert {p["domain"] for p in pairs} == {"finance", "medicine", "manufacturing", "law"}
    assert 0.4 <= sum(p["label"] == "supported" for p in pairs) / len(pairs) <= 0.6


def test_cheap_checks_precision_and_recall_stay_above_their_floor():
    """Measured before claim binding (synth.grounding.claims): precision 19/24 = 0.79, recall 19/23 = 0.83.
    With it "pass" means a restatement bound clause by clause, so answers that merge two sentences of the
    chunk or reuse a word from another sentence ("dose" for "Dosage", the document's subject in a rule
    about allergies) go to the judge instead: precision 14/17 = 0.82, recall 14/23 = 0.61. Four supported
    answers carry paraphrased quotes, which a record may not carry as evidence. The three false
    positives left are swapped entities written with the chunk's own words in one sentence (6 % and 5 %
    between two ratios, a complication moved to another drug). On material from elsewhere the same
    change took the precision of pass from 0.53 to 0.91 (bench/RESULTS.md). The in-place figure swap of
    issue 22's second round stops fin-zh-5 (precision 15/17 = 0.88)."""
    pairs = labelled()
    verdicts = [check_answer(p["answer"], p["evidence"], p["chunk"]) for p in pairs]
    kept = [p for p, v in zip(pairs, verdicts) if v.status == "pass"]
    tp = sum(p["label"] == "supported" for p in kept)
    precision, recall = tp / len(kept), tp / sum(p["label"] == "supported" for p in pairs)
    assert precision >= 0.8 and recall >= 0.6, (precision, recall)
    for p, v in zip(pairs, verdicts):
        if p["kind"] in ("wrong_number", "fabricated_quote"):
            assert v.status == "fail", p["id"]                     # hard evidence: never kept, never judged
        if p["kind"] in ("verbatim", "full_width", "whitespace", "pdf_line_break"):
            # a quote copied with other widths, spaces or line breaks is never rejected; the answer around
            # it may still go to the judge when it merges two sentences of the chunk
            assert v.status != "fail" and v.checks["quotes_verified"] == v.checks["quotes"], (p["id"], v.reason)
