"""Issue 22, the defects built from the chunk's own words that reached "pass": a word swapped inside the
chunk's clause, a word put under the opposite polarity, a number taken from the neighbouring ；-clause
however far its condition stands, a rule given to the other case; and a count the answer made (all three
plans), which the chunk cannot refute. Chunks and answers written for these tests; each defect beside a
near-miss that says the same thing and must still pass."""

from __future__ import annotations

import pytest

from synth.grounding import check_answer
from synth.grounding.clauses import clause_problems
from synth.grounding.numbers import counted_totals
from synth.grounding.substitution import antonym_swaps, polarity_flips, substitutions

LIBRARY = ("第八条　会员费按季缴纳，逾期未缴的，按日加收万分之五的滞纳金。\n"
           "读者借阅图书，借期为三十日；借阅期刊，借期为七日；借阅古籍善本的，读者应当在阅览室内阅读。\n"
           "对逾期归还的读者，图书馆可以暂停其借阅权限。\n"
           "会员入会满三年以上不满五年的，年费减免百分之十；入会满五年以上的，年费减免百分之二十。\n"
           "申请人委托代理人办理的，应当提交授权委托书；未委托代理人的，由申请人本人签字确认。")
PLANT = ("The operator shall record each inspection in the maintenance log. Revenue rose 5% in the quarter. "
         "Valves on the primary cooling loop of the north plant shall be tested every 3 months; valves on the "
         "secondary loop shall be tested every 12 months. Fire doors shall be inspected every month by the "
         "safety officer. Filters shall be replaced every year. Visitors without a badge must sign in at the front desk.\n"
         "If the owner has an agent, the agent signs the permit; without an agent, the owner signs the permit in person.")
PLANS = "Feature | Basic | Plus | Pro\n---|---|---|---\nEncryption | Included | Included | Included\nSupport | Email | Email | Phone"


# -- a word swapped inside the chunk's own clause --------------------------------------------------------

@pytest.mark.parametrize("answer,chunk,swap", [
    ("会员费按月缴纳。", LIBRARY, ["月→季"]),                                       # another unit
    ("对逾期归还的读者，图书馆可以取消其借阅权限。", LIBRARY, ["取消→暂停"]),        # another action
    ("Fire doors shall be inspected every week by the safety officer.", PLANT, ["week→month"]),
    ("Filters shall be replaced every month.", PLANT, ["month→year"]),             # at the end of the sentence
])
def test_a_word_swapped_inside_the_chunk_clause_is_found(answer, chunk, swap):
    assert substitutions(answer, chunk) == swap


FILING = "企业应当依照法律规定在十五日内申报纳税。"


@pytest.mark.parametrize("answer,swap", [
    ("企业应当依照法律规定在十五日内申报退税。", ["退→纳"]),       # matching context runs to the sentence end
    ("企业应当依照法律规定在十五日内缴清纳税。", ["缴清→申报"]),
    ("企业应当按照法律规定在十五日内申报纳税。", []),               # 按照/依照: closed-class synonyms
    ("企业须依照法律规定在十五日内申报纳税。", []),                 # 须/应当: one modal class
    ("企业应依照法律规定在十五日内申报纳税。", []),                 # a character dropped is no swap
])
def test_closed_class_synonyms_are_wording_and_content_words_are_not(answer, swap):
    assert substitutions(answer, FILING) == swap


@pytest.mark.parametrize("answer,chunk,swap", [
    # an opposite is a swap even where the clause has the answer's word elsewhere, and in any inflection
    ("Net sales increased 4% in the second quarter, and costs increased.",
     "Net sales decreased 4% in the second quarter, and costs increased.", ["increased→decreased"]),
    ("Net sales fell 4% in the second quarter.", "Net sales rose 4% in the second quarter.", ["fell→rose"]),
    ("存款利率上升了两个百分点，贷款利率上升。", "存款利率下降了两个百分点，贷款利率上升。", ["上升→下降"]),
    ("Backups are stored unencrypted on the remote server.", "Backups are stored encrypted on the remote server.",
     ["unencrypted→encrypted"]),
    # an English content word the chunk never uses is taken for a synonym
    ("Net sales climbed 4% in the second quarter.", "Net sales rose 4% in the second quarter.", []),
])
def test_opposites_are_swaps_and_unknown_english_words_are_synonyms(answer, chunk, swap):
    assert substitutions(answer, chunk) == swap


@pytest.mark.parametrize("answer,quotes", [
    ("会员费按月缴纳。", ["会员费按季缴纳"]),
    ("对逾期归还的读者，图书馆可以取消其借阅权限。", ["对逾期归还的读者，图书馆可以暂停其借阅权限"]),
])
def test_a_swapped_word_goes_to_the_judge(answer, quotes):
    v = check_answer(answer, quotes, LIBRARY)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_substitution"), v.checks


@pytest.mark.parametrize("answer,quotes,chunk", [
    # a synonym of one modal class, a dropped character, function words, a reordered restatement
    ("借阅古籍善本的，读者应在阅览室内阅读。", ["借阅古籍善本的，读者应当在阅览室内阅读"], LIBRARY),
    ("借阅古籍善本的，读者必须在阅览室内阅读。", ["借阅古籍善本的，读者应当在阅览室内阅读"], LIBRARY),
    ("逾期未缴会员费的，按日加收万分之五的滞纳金。", ["逾期未缴的，按日加收万分之五的滞纳金"], LIBRARY),
    ("The operator must record each inspection in the maintenance log.",
     ["The operator shall record each inspection in the maintenance log"], PLANT),
    ("Each inspection shall be recorded in the maintenance log by the operator.",
     ["The operator shall record each inspection in the maintenance log"], PLANT),
    # an English verb swapped for its synonym is wording, not a new claim
    ("Revenue grew 5% in the quarter.", ["Revenue rose 5% in the quarter"], PLANT),
])
def test_restatements_with_synonyms_or_another_order_still_pass(answer, quotes, chunk):
    v = check_answer(answer, quotes, chunk)
    assert (v.status, v.reason) == ("pass", None), v.checks
    assert v.checks["substitutions"] == [] and v.checks["polarity_flips"] == []


# -- a word under the opposite polarity --------------------------------------------------------------------

def test_a_word_the_chunk_writes_only_under_the_opposite_polarity_is_found():
    assert polarity_flips("Visitors with a badge must sign in at the front desk.", PLANT) == ["with badge"]
    assert polarity_flips("有偿借用的设备，借用人应当妥善保管。", "无偿借用的设备，借用人应当妥善保管。") == ["有偿"]
    assert polarity_flips("年满六十周岁以下的会员免收年费。", "年满六十周岁以上的会员免收年费。") == ["周岁以下"]


def test_a_word_the_chunk_writes_under_both_polarities_is_no_flip():
    chunk = "有偿借用的设备按日计费；无偿借用的设备不计费。"
    assert polarity_flips("有偿借用的设备按日计费。", chunk) == []
    assert polarity_flips("没有代理人的，由本人签字。", "有代理人的，由代理人签字；没有代理人的，由本人签字。") == []


def test_a_polarity_flip_goes_to_the_judge():
    v = check_answer("Visitors with a badge must sign in at the front desk.",
                     ["Visitors without a badge must sign in at the front desk"], PLANT)
    assert v.status == "uncertain", v.checks


# -- a number from the neighbouring clause, and a rule given to the other case ------------------------------

@pytest.mark.parametrize("answer,chunk", [
    ("会员入会满三年以上不满五年的，年费减免百分之二十。", LIBRARY),
    ("Valves on the primary cooling loop of the north plant shall be tested every 12 months.", PLANT),
])
def test_a_number_of_the_neighbouring_clause_is_unbound(answer, chunk):
    assert clause_problems(answer, chunk)["unbound"], answer
    assert check_answer(answer, [answer.rstrip("。.")[:12]], chunk).status != "pass"


@pytest.mark.parametrize("answer,chunk", [
    ("会员入会满五年以上的，年费减免百分之二十。", LIBRARY),
    ("图书借期为三十日，期刊借期为七日。", LIBRARY),           # two clauses merged, each with its own number
    ("Valves on the secondary loop shall be tested every 12 months.", PLANT),
    ("Primary loop valves are tested every 3 months and secondary loop valves every 12 months.", PLANT),
])
def test_a_number_of_its_own_clause_is_bound(answer, chunk):
    assert clause_problems(answer, chunk) == {"unbound": [], "negation": []}


@pytest.mark.parametrize("answer,quotes,chunk", [
    ("申请人委托代理人办理的，由申请人本人签字确认。", ["未委托代理人的，由申请人本人签字确认"], LIBRARY),
    ("If the owner has an agent, the owner signs the permit in person.",
     ["without an agent, the owner signs the permit in person"], PLANT),
])
def test_a_rule_given_to_the_other_case_goes_to_the_judge(answer, quotes, chunk):
    assert clause_problems(answer, chunk)["negation"], answer
    v = check_answer(answer, quotes, chunk)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_negation"), v.checks


@pytest.mark.parametrize("answer,quotes,chunk", [
    ("未委托代理人的，由申请人本人签字确认。", ["未委托代理人的，由申请人本人签字确认"], LIBRARY),
    ("Without an agent, the owner signs the permit in person.", ["without an agent, the owner signs the permit in person"],
     PLANT),
])
def test_a_rule_given_to_its_own_case_passes(answer, quotes, chunk):
    v = check_answer(answer, quotes, chunk)
    assert (v.status, v.reason) == ("pass", None), v.checks


# -- a count the answer made ----------------------------------------------------------------------------------

def test_a_count_the_answer_made_goes_to_the_judge_not_the_bin():
    v = check_answer("Encryption is included in all three plans.", ["Encryption | Included | Included | Included"], PLANS)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_number"), v.checks
    assert counted_totals("上述三类人员均应参加培训。", "管理人员、技术人员和操作人员均应参加培训。") == ["三"]


def test_a_count_the_chunk_contradicts_fails():
    chunk = "The service has four plans. Encryption is included in every plan."
    assert counted_totals("Encryption is included in all three plans.", chunk) == []
    v = check_answer("Encryption is included in all three plans.", ["Encryption is included in every plan"], chunk)
    assert (v.status, v.reason) == ("fail", "ungrounded_number")


def test_a_number_that_is_no_count_still_fails():
    v = check_answer("Fire doors shall be inspected every 2 months by the safety officer.",
                     ["Fire doors shall be inspected every month by the safety officer"], PLANT)
    assert (v.status, v.reason) == ("fail", "ungrounded_number")


# -- opposites on one scale (synth.grounding.scales) -------------------------------------------------------

ACCOUNTS = ("Premium accounts get a bigger deposit limit than basic accounts. Refunds are slower for card "
            "payments than for bank transfers in every order. Usage must not exceed the monthly quota.\n"
            "| 参数 | 类型 | 说明 | 默认值 |\n|---|---|---|---|\n| auto.commit | boolean | 是否自动提交 | false |\n"
            "负债率越低的企业将会有更高的概率获得贷款。")


@pytest.mark.parametrize("answer,quote,found", [
    ("Premium accounts get a smaller deposit limit than basic accounts.",                     # a comparative
     "Premium accounts get a bigger deposit limit than basic accounts", ["smaller→bigger"]),
    ("For every order, refunds are faster with card payments than with bank transfers.",
     "Refunds are slower for card payments than for bank transfers", ["faster→slower"]),
    ("auto.commit 默认是 true，消费者默认自动提交。", "auto.commit | boolean | 是否自动提交 | false", ["true→false"]),
    ("负债率越高的企业越容易获得贷款。", "负债率越低的企业将会有更高的概率获得贷款",   # the answer's 高 aligns
     ["高→低"]),                                                                       # with the later 更高 as a whole
])
def test_an_opposite_on_one_scale_is_a_swap(answer, quote, found):
    assert set(found) <= set(substitutions(answer, ACCOUNTS) + antonym_swaps(answer, ACCOUNTS))
    assert check_answer(answer, [quote], ACCOUNTS).status == "uncertain"  # the judge decides, never a pass


@pytest.mark.parametrize("answer", [
    "Premium accounts get a larger deposit limit than basic accounts.",   # one end of the scale, reworded
    "Usage must stay below the monthly quota.",                            # a negation turns the scale around
    "auto.commit 默认是 false，消费者默认不自动提交。",
    "负债率越低的企业越容易获得贷款。",
])
def test_the_same_end_of_a_scale_or_a_negated_one_is_wording(answer):
    assert substitutions(answer, ACCOUNTS) + antonym_swaps(answer, ACCOUNTS) == []


@pytest.mark.parametrize("answer,chunk", [
    # parallel sentences: a verbatim copy of one is no swap of the other's word
    ("Use a large value for the buffer.", "Use a small value for the timeout. Use a large value for the buffer."),
    ("写多读少的场景建议关闭缓存。", "读多写少的场景建议开启缓存。写多读少的场景建议关闭缓存。"),
    ("写入量大时用行存，写入量小时用列存。", "写入量大时用行存，写入量小时用列存。"),
    # the opposite kept beside the word, function words, a contraction, minutes
    ("Using more replicas keeps read latency lower.", "Adding replicas keeps read latency lower."),
    ("HDFS handles many small files poorly.", "HDFS handles small files poorly."),
    ("Always move the client closer to the server.", "Keep the connection open and the client near the server."),
    ("A session expires after at most 30 minutes of inactivity.", "A session expires after 30 min of inactivity."),
    ("Usage doesn't go higher than the limit in this mode.", "Usage stays lower than the limit in this mode."),
])
def test_wording_around_a_scale_word_is_no_swap(answer, chunk):
    assert substitutions(answer, chunk) + antonym_swaps(answer, chunk) == []
