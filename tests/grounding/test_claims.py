"""Claim-by-claim grounding (synth.grounding.claims) and the issue 22 phenomena on inputs whose right answer
is known: figures swapped between subjects, a number from the neighbouring clause, a table value given to
another row, a prohibition made a permission, a negation dropped, source-referring phrasings, and a bare
article or level number standing in for a percentage."""

from __future__ import annotations

import pytest

from synth.grounding import check_answer, find_numbers, leak, missing_numbers

TAX = "第二十八条　符合条件的小型微利企业，减按20%的税率征收企业所得税。\n国家需要重点扶持的高新技术企业，减按15%的税率征收企业所得税。"
PROBATION = ("第十九条　劳动合同期限三个月以上不满一年的，试用期不得超过一个月；劳动合同期限一年以上不满三年的，试用期不得超过二个月；"
             "三年以上固定期限和无固定期限的劳动合同，试用期不得超过六个月。\n以完成一定工作任务为期限的劳动合同或者劳动合同期限不满三个月的，不得约定试用期。")
SECRETS = ("Memorized secrets SHALL be at least 8 characters in length if chosen by the subscriber. Memorized secrets "
           "chosen randomly by the CSP or verifier SHALL be at least 6 characters in length. Truncation of the secret "
           "SHALL NOT be performed.")
TABLE = ("个人所得税税率表一（综合所得适用）\n级数\t全年应纳税所得额\t税率（%）\n1\t不超过36000元的\t3\n"
         "2\t超过36000元至144000元的部分\t10\n3\t超过144000元至300000元的部分\t20")


@pytest.mark.parametrize("answer,quotes,chunk", [
    ("符合条件的小型微利企业，减按20%的税率征收企业所得税。", ["符合条件的小型微利企业，减按20%的税率征收企业所得税"], TAX),
    ("劳动合同期限一年以上不满三年的，试用期不得超过二个月。", ["劳动合同期限一年以上不满三年的，试用期不得超过二个月"], PROBATION),
    ("Memorized secrets chosen randomly by the CSP or verifier must be at least 6 characters long.",
     ["chosen randomly by the CSP or verifier SHALL be at least 6 characters in length"], SECRETS),
    ("综合所得超过144000元至300000元的部分，税率为20%。", ["3\t超过144000元至300000元的部分\t20"], TABLE),
])
def test_restatements_pass(answer, quotes, chunk):
    v = check_answer(answer, quotes, chunk)
    assert (v.status, v.reason) == ("pass", None), v.checks


@pytest.mark.parametrize("answer,quotes,chunk,reason", [
    # two figures swapped between their subjects
    ("符合条件的小型微利企业，减按15%的税率征收企业所得税。", ["符合条件的小型微利企业，减按20%的税率征收企业所得税"], TAX,
     "ungrounded_binding"),
    # the number of the neighbouring clause: caught where the clause's own words stand near the number...
    ("Memorized secrets chosen randomly by the CSP or verifier must be at least 8 characters long.",
     ["chosen randomly by the CSP or verifier SHALL be at least 6 characters in length"], SECRETS, "ungrounded_binding"),
    # ... and where only the condition, farther than four terms from it, differs (one sentence of ；-parts)
    ("劳动合同期限三个月以上不满一年的，试用期不得超过二个月。", ["劳动合同期限三个月以上不满一年的，试用期不得超过一个月"],
     PROBATION, "ungrounded_binding"),
    ("Memorized secrets chosen by the subscriber must be at least 6 characters long.",
     ["Memorized secrets SHALL be at least 8 characters in length if chosen by the subscriber"], SECRETS,
     "ungrounded_binding"),
    # a table value given to another row
    ("综合所得超过36000元至144000元的部分，税率为20%。", ["2\t超过36000元至144000元的部分\t10"], TABLE, "ungrounded_binding"),
    # a prohibition made a permission
    ("劳动合同期限不满三个月的，可以约定试用期。", ["劳动合同期限不满三个月的，不得约定试用期"], PROBATION, "ungrounded_modality"),
    ("Truncation of the secret may be performed.", ["Truncation of the secret SHALL NOT be performed"], SECRETS,
     "ungrounded_modality"),
])
def test_claims_the_chunk_does_not_make_go_to_the_judge(answer, quotes, chunk, reason):
    v = check_answer(answer, quotes, chunk)
    assert (v.status, v.reason) == ("uncertain", reason), v.checks


def test_a_dropped_negation_goes_to_the_judge():
    chunk = "应税合同的计税依据，为合同所列的金额，不包括列明的增值税税款；"
    v = check_answer("应税合同的计税依据为合同所列的金额，包括列明的增值税税款。", ["应税合同的计税依据，为合同所列的金额"], chunk)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_negation")


@pytest.mark.parametrize("text", ["根据上文，试用期不得超过六个月。", "如上所述，劳动者可以解除劳动合同。", "文中规定，用人单位应当支付二倍工资。",
                                  "根据以上条文，税率为20%。", "根据所给材料，副本免征印花税。",
                                  "According to the summary provided, the fee is waived.",
                                  "Based on the provided context, the limit is 100.", "As stated in the excerpt, fees apply.",
                                  "According to the passage above, the fee is 5%."])
def test_source_referring_phrasings_are_leaks(text):
    assert leak(text) is not None


@pytest.mark.parametrize("text", ["上述利润应计入当期收入。", "根据材料强度选择焊条。", "The text of the law was amended in 2018.",
                                  "Passengers should read the document carefully."])
def test_ordinary_phrasings_are_no_leaks(text):
    assert leak(text) is None


def test_a_bare_article_or_level_number_is_no_percentage():
    chunk = "第二十条　劳动者在试用期的工资不得低于约定工资的百分之八十。"
    assert missing_numbers("试用期工资不得低于约定工资的20%。", chunk) == ["20%"]      # 二十 of 第二十条 is a place
    assert missing_numbers("依照第二十条，试用期工资不得低于约定工资的百分之八十。", chunk) == []  # a label matches a label
    assert missing_numbers("第2级税率为10%。", TABLE) == []         # a bare 10 under a "税率（%）" header is a percentage
    assert missing_numbers("税率为2%。", TABLE) == ["2%"]               # the row's index is not
    assert missing_numbers("at least 53% of them", "apply the SP 800-53 Low Baseline") == ["53%"]
    assert [m.label for m in find_numbers("Section 5.2 of SP 800-53, page 12", reference=True)] == [True, True, True, True]



def test_binding_slack_lets_a_claim_miss_a_word_of_its_sentence_but_never_a_figure():
    from synth.grounding import Thresholds, check_answer

    chunk = ("Members pay the annual fee of 120 dollars before the renewal date each spring.\n"
             "The renewal form is mailed to guests, who pay 15 dollars.")
    quote = "Members pay the annual fee of 120 dollars before the renewal date each spring"
    # "form" stands only in the other sentence: the claim's words are not all in one sentence
    answer = "Members pay the annual fee of 120 dollars on the form before the renewal date each spring."
    loose = Thresholds(binding_slack=0.25)
    assert check_answer(answer, [quote], chunk).reason == "ungrounded_binding"
    assert check_answer(answer, [quote], chunk, thresholds=loose).status == "pass"
    # a figure of the other sentence never binds, whatever the slack
    moved = "Members pay the annual fee of 15 dollars before the renewal date each spring."
    assert check_answer(moved, [quote], chunk, thresholds=loose).status != "pass"
