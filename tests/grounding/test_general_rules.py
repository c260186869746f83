"""The grounding rules of issue 22 stated for any document: leaks, counts, units, table rows, agents, bounds,
list lead-ins and word coverage, each with a case that must stop and a near miss that must pass."""

from __future__ import annotations

import pytest

from synth.grounding import check_answer, leak
from synth.grounding.agents import agent_swaps
from synth.grounding.bounds import bound_direction, direction_flips
from synth.grounding.numbers import contradicted_counts, count_words, find_numbers, listed_counts, missing_numbers
from synth.grounding.tables import misplaced_figures
from synth.grounding.terms import term_coverage

SPECS = """## 服务器配置

| 角色 | CPU | 内存 | 节点数 |
| --- | --- | --- | --- |
| 网关 | 4 核 | 8 GB | 2 |
| 存储 | 32 核 | 128 GB | 5 |
| 调度 | 8 核 | 32 GB | 3 |

日志盘容量建议不超过 2 TB。单个请求的最大长度为 4096 字节，相当于 1024 个汉字。"""

POLICY = ("Refunds. If a refund request arrives after the deadline, the merchant MUST reject it and SHOULD notify "
          "the customer. The customer MAY appeal once within 14 days.")


@pytest.mark.parametrize("answer", [
    "According to the report above, the fee is $20.",
    "As described in the notice, payments are due monthly.",
    "In the given table, the limit is 5.",
    "The figure below shows a limit of 5.",
    "如下表所示，网关需要 4 核 CPU。",
    "从上表可以看出，存储节点需要 5 个。",
    "根据该公告，费用为 20 元。",
])
def test_a_source_construction_with_any_document_noun_is_a_leak(answer):
    assert leak(answer)


@pytest.mark.parametrize("answer", [
    "The report must be filed within 30 days.",
    "Insert the row in the table before the commit.",
    "A report above the threshold is escalated.",
    "The text field holds 80 characters.",
    "根据材料强度选择焊条。",
    "报告应当在三十日内提交。",
    "Employees exempt as set out in section 13(a)(1) are not covered.",   # the law cited by its number
    "本通知自2020年1月1日起施行。",                                      # a notice naming itself
])
def test_documents_named_as_things_are_no_leak(answer):
    assert leak(answer) is None


def test_a_count_of_the_things_the_answer_lists_is_its_own():
    chunk = "| 类型 | 上限 |\n| --- | --- |\n| JSON | 64 KB |\n| XML | 64 KB |\n| CSV | 64 KB |"
    answer = "JSON、XML 和 CSV 三种格式的上限相同，都是 64 KB。"
    assert listed_counts(answer) == ["三"]
    assert check_answer(answer, ["| JSON | 64 KB |"], chunk).reason != "ungrounded_number"
    two = "网关有两个端口：8080 端口用于 HTTP，8443 端口用于 HTTPS。"
    assert listed_counts(two) == ["两"]
    assert check_answer(two, ["8080 端口用于 HTTP", "8443 端口用于 HTTPS"],
                        "网关的 8080 端口用于 HTTP，8443 端口用于 HTTPS。").status == "pass"


def test_a_count_nothing_lists_goes_to_the_judge_and_one_the_chunk_contradicts_fails():
    chunk = "The customer MAY appeal more than once. The plan has four tiers."
    v = check_answer("The customer may appeal twice.", ["The customer MAY appeal more than once"], chunk)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_number")
    assert contradicted_counts("All three tiers include support.", chunk) == ["three"]
    v = check_answer("The plan has three tiers.", ["The plan has four tiers"], chunk)
    assert (v.status, v.reason) == ("fail", "ungrounded_number")
    # a figure in digits is the document's, counted or not
    assert count_words("共 3 个节点，三种角色") == ["三"]


def test_one_before_a_measure_word_is_an_article():
    chunk = "单个订单最多包含 50 件商品。"
    assert missing_numbers("一个订单最多包含 50 件商品。", chunk) == []
    assert missing_numbers("只有一个订单。", chunk) == ["一"]   # a limit put on it is a figure


def test_a_year_opens_no_range():
    chunk = "The ratio was 3.4 percent in FY 2022, down from 3.9 percent in FY 2021."
    assert missing_numbers("The ratio fell from 3.9 percent in FY 2021 to 3.4 percent in FY 2022.", chunk) == []
    assert [m.range_to for m in find_numbers("from 2021 to 2023")][0] == 2023   # two years are a range


def test_a_number_keeps_its_size_unit():
    assert missing_numbers("单个请求的最大长度为 4096 个字符。", SPECS) == ["4096"]
    assert missing_numbers("单个请求的最大长度为 4096 个字节。", SPECS) == []
    assert missing_numbers("A request holds at most 4096 characters.", "最大长度为 4096 字符") == []
    v = check_answer("单个请求最多 4096 个字符。", ["单个请求的最大长度为 4096 字节"], SPECS)
    assert (v.status, v.reason) == ("fail", "ungrounded_number")


def test_a_table_figure_given_to_another_row_is_unbound():
    assert misplaced_figures("调度节点建议配置 32 核 CPU。", SPECS) == ["调度节点建议配置 32 核 CPU"]
    assert misplaced_figures("调度节点建议配置 8 核 CPU 和 32 GB 内存。", SPECS) == []
    v = check_answer("调度节点建议配置 32 核 CPU。", ["| 存储 | 32 核 | 128 GB | 5 |"], SPECS)
    assert v.status == "uncertain"


def test_a_table_row_restated_in_other_words_passes():
    v = check_answer("存储角色需要 32 核 CPU、128 GB 内存，共 5 个节点。", ["| 存储 | 32 核 | 128 GB | 5 |"], SPECS)
    assert v.status == "pass", v.checks


def test_the_agent_of_a_modal_verb_is_the_chunks():
    assert agent_swaps("The customer must reject a late refund request.", POLICY) == ["customer→reject"]
    v = check_answer("When a refund request is late, the customer must reject it.",
                     ["the merchant MUST reject it"], POLICY)
    assert v.status == "uncertain"
    assert agent_swaps("A late refund request must be rejected by the merchant, who should notify the customer.",
                       POLICY) == []
    v = check_answer("A merchant has to reject a refund request that arrives after the deadline, and it should "
                     "notify the customer.", ["the merchant MUST reject it and SHOULD notify the customer"], POLICY)
    assert v.status == "pass", v.checks


def test_a_bound_points_one_way():
    t = "半径≤2cm，或超过 6cm，不少于 3 个，at most 9 items"
    assert [bound_direction(t, m) for m in find_numbers(t)] == ["le", "ge", "ge", "le"]
    assert direction_flips("日志盘容量建议不少于 2 TB。", SPECS) == ["2"]
    assert direction_flips("日志盘不超过 2 TB。", SPECS) == []
    assert direction_flips("Costs were $4 million higher.", "Costs were $4 million lower than planned.") == ["4"]
    v = check_answer("日志盘容量建议不少于 2 TB。", ["日志盘容量建议不超过 2 TB"], SPECS)
    assert v.status == "uncertain" and v.checks["direction_flips"] == ["2"]


def test_two_bounds_swapped_between_conditions_are_unbound():
    chunk = ("甲级：单个结节、直径≤2cm，无转移；乙级：单个结节、直径＞2cm，或2～4个结节、最大直径≤1cm，无转移；"
             "丙级：2～4个结节、最大直径＞1cm，无转移。")
    swapped = "乙级包括单个结节直径＞1cm，或2～4个结节、最大直径≤2cm，无转移。"
    assert check_answer(swapped, ["单个结节、直径＞2cm，或2～4个结节、最大直径≤1cm"], chunk).status != "pass"
    right = "乙级包括单个结节直径超过2cm，或2～4个结节、最大直径不超过1cm，无转移。"
    assert check_answer(right, ["单个结节、直径＞2cm，或2～4个结节、最大直径≤1cm"], chunk).status == "pass"


def test_a_list_item_naming_its_own_subject_is_read_without_its_lead_in():
    chunk = ("The agency published estimates for the spring and autumn quarters:\n"
             "- During the spring quarter, the agency expects to spend $40 million on repairs.\n"
             "- During the autumn quarter, the agency expects to spend $65 million on repairs.")
    wrong = "During the autumn quarter, the agency expected to spend $40 million on repairs."
    assert check_answer(wrong, ["During the spring quarter, the agency expects to spend $40 million"], chunk).status \
        == "uncertain"
    right = "During the autumn quarter, the agency expected to spend $65 million on repairs."
    assert check_answer(right, ["During the autumn quarter, the agency expects to spend $65 million"], chunk).status \
        == "pass"


def test_word_coverage_admits_reordered_words_but_not_an_added_claim():
    chunk = "请求体的最大长度为 4096 字节。超过该长度的请求会被网关拒绝。"
    assert term_coverage("请求体最长 4096 字节。", chunk) == 1.0
    assert check_answer("请求体最长 4096 字节。", ["请求体的最大长度为 4096 字节"], chunk).status == "pass"
    added = "请求体最长 4096 字节，超出部分会被自动截断并记入审计日志。"
    assert term_coverage(added, chunk) < 0.85
    assert check_answer(added, ["请求体的最大长度为 4096 字节"], chunk).status == "uncertain"


PORTS = """| 服务 | 端口 | 用途 |
| --- | --- | --- |
| 网关 | 8080 | 外部请求入口 |
| 网关 | 9091 | 健康检查上报 |
| 队列 | 5672 | 消息投递 |"""


def test_two_rows_of_one_entity_restated_together_pass_and_swapped_stop():
    right = "网关用 8080 端口接收外部请求，用 9091 端口上报健康检查。"
    assert check_answer(right, ["| 网关 | 8080 | 外部请求入口 |", "| 网关 | 9091 | 健康检查上报 |"], PORTS).status == "pass"
    swapped = "网关用 9091 端口接收外部请求，用 8080 端口上报健康检查。"
    assert misplaced_figures(swapped, PORTS)
    assert check_answer(swapped, ["| 网关 | 8080 | 外部请求入口 |", "| 网关 | 9091 | 健康检查上报 |"], PORTS).status \
        == "uncertain"


def test_markup_is_not_words_and_a_conjoined_clause_with_its_own_subject_is_its_own_claim():
    chunk = ("A tag can hold values from −(2<sup>15</sup>) to 2<sup>15</sup> − 1, which equals\n−32768 to 32767. "
             "Tags MUST be unique within a record. A maximum of 64 tags per record is RECOMMENDED.")
    assert check_answer("A tag can hold values from -32768 to 32767.", ["which equals\n−32768 to 32767"],
                        chunk).status == "pass"
    both = "Tags must be unique within a record, and a maximum of 64 tags per record is recommended."
    assert check_answer(both, ["Tags MUST be unique within a record", "A maximum of 64 tags per record"],
                        chunk).status == "pass"
    # the conjoined clause is still checked on its own: 32 is no figure of the chunk
    wrong = "Tags must be unique within a record, and a maximum of 32 tags per record is recommended."
    assert check_answer(wrong, ["Tags MUST be unique within a record"], chunk).status == "fail"


def test_a_cell_given_to_a_row_that_lacks_it_is_unbound():
    chunk = "| 角色 | 网卡 |\n| --- | --- |\n| 网关 | 万兆网卡 |\n| 监控 | 千兆网卡 |"
    assert misplaced_figures("监控节点建议配万兆网卡。", chunk) == ["监控节点建议配万兆网卡"]
    assert misplaced_figures("监控节点配千兆网卡，网关配万兆网卡。", chunk) == []


def test_an_opposite_among_reworded_neighbours_is_a_swap():
    chunk = "运维人员可根据部署方案，在防火墙上开放相关端口。"
    v = check_answer("为了安全，运维人员应在防火墙上关闭这些端口。", ["在防火墙上开放相关端口"], chunk)
    assert v.status == "uncertain" and "关闭→开放" in v.checks["substitutions"]
    # 至少 and 最少 say the same
    v = check_answer("每个节点至少预留 20 GB。", ["每个节点最少预留 20 GB"], "每个节点最少预留 20 GB。")
    assert v.status == "pass"


def test_a_rule_made_universal_or_new_goes_to_the_judge():
    chunk = "scope: OPTIONAL, if identical to the scope requested by the client; otherwise, REQUIRED."
    v = check_answer("The scope parameter is always optional.", ["OPTIONAL, if identical to the scope"], chunk)
    assert v.status == "uncertain"
    ports = "| 服务 | 端口 | 用途 |\n| --- | --- | --- |\n| 探针 | 9115 | 集群端口监控 |"
    v = check_answer("探针使用 9115 端口做集群端口监控，这个端口必须对公网开放。", ["| 探针 | 9115 | 集群端口监控 |"], ports)
    assert v.status == "uncertain"
    assert check_answer("探针使用 9115 端口做集群端口监控。", ["| 探针 | 9115 | 集群端口监控 |"], ports).status == "pass"


def test_a_subject_under_no_negates_its_modal():
    chunk = "No other composition rules SHOULD be imposed on passwords."
    v = check_answer("Verifiers should impose composition rules on passwords.", ["composition rules SHOULD be imposed"],
                     chunk)
    assert v.status == "uncertain"
    v = check_answer("No other composition rules should be imposed on passwords.", ["No other composition rules"],
                     chunk)
    assert v.status == "pass"


def test_two_figures_swapped_in_place_are_a_swap():
    chunk = "| 节点 | 磁盘 |\n| --- | --- |\n| 存储 | 数据盘建议最少预留 500 GB，日志盘建议最少预留 50 GB |"
    swapped = "存储节点的数据盘建议至少预留 50 GB，日志盘建议至少预留 500 GB。"
    v = check_answer(swapped, ["数据盘建议最少预留 500 GB，日志盘建议最少预留 50 GB"], chunk)
    assert v.status == "uncertain" and "50→500" in v.checks["substitutions"]
    right = "存储节点的数据盘建议至少预留 500 GB，日志盘建议至少预留 50 GB。"
    assert check_answer(right, ["数据盘建议最少预留 500 GB，日志盘建议最少预留 50 GB"], chunk).status == "pass"


def test_a_party_in_the_plural_is_the_same_party():
    chunk = "Every employer shall pay to each of his employees wages at the following rates."
    assert agent_swaps("Employers must pay their employees wages at these rates.", chunk) == []
    assert agent_swaps("Employees must pay wages at these rates.", chunk) == ["employee→pay"]


def test_a_negated_sentence_is_a_rule_without_a_modal():
    chunk = "表名不使用复数名词。字段名使用小写字母或数字。"
    assert check_answer("表名不能使用复数名词。", ["表名不使用复数名词"], chunk).status == "pass"
    # a sentence with neither modality nor negation states no rule
    assert check_answer("字段名必须使用小写字母或数字。", ["字段名使用小写字母或数字"], chunk).status == "uncertain"


def test_a_latin_cell_is_read_as_whole_words():
    chunk = "| Plan | Encrypted | Support |\n| --- | --- | --- |\n| Basic | No | Email |\n| Pro | Yes | Phone |"
    assert misplaced_figures("The Basic plan has no node limit and email support.", chunk) == []
    assert misplaced_figures("The Basic plan has phone support.", chunk) == ["The Basic plan has phone support"]


# -- contractions and a part of the source as the one saying it -------------------------------------------

REFUNDS = ("Refunds: don't deduct the shipping fee from the refund, and you can't refuse a refund within 30 days. "
           "You may keep the original box.")


@pytest.mark.parametrize("answer,quote", [
    ("You may deduct the shipping fee from the refund.", "don't deduct the shipping fee from the refund"),
    ("Within 30 days you can refuse a refund.", "you can't refuse a refund within 30 days"),
])
def test_a_contracted_negation_is_a_negation(answer, quote):
    v = check_answer(answer, [quote], REFUNDS)
    assert v.status == "uncertain" and v.reason in {"ungrounded_modality", "ungrounded_negation"}


def test_a_restated_contraction_still_passes():
    v = check_answer("Do not deduct the shipping fee from the refund.", ["don't deduct the shipping fee from the refund"],
                     REFUNDS)
    assert v.status == "pass"


@pytest.mark.parametrize("answer,phrase", [
    ("本段指出，逾期未缴的按日加收滞纳金。", "本段指出"),
    ("上一节提到，会员费按季缴纳。", "上一节提到"),
])
def test_a_part_of_the_source_as_the_one_saying_it_is_a_leak(answer, phrase):
    assert leak(answer) == phrase
    assert leak("这段路程按日计费。") is None      # 段 as an ordinary word
    assert leak("本章所述小规模纳税人，是指年销售额未超过标准的纳税人。") is None   # a law naming itself
    assert leak("该段表示内存中一段连续的地址空间。") is None


# -- the evidence an answer cites carries its figures -----------------------------------------------------

FINES = ("第三十条 违反本条例规定，未及时收集、运送废物的，责令限期改正，给予警告；逾期不改正的，处2000元以上5000元以下的罚款。\n"
         "第三十一条 违反本条例规定，造成传染病传播的，处1万元以上3万元以下的罚款。\n"
         "第三十二条 本条例自2024年1月1日起施行。")
QUOTE = "逾期不改正的，处2000元以上5000元以下的罚款"


def test_a_figure_found_only_outside_the_cited_quotes_never_passes():
    moved = check_answer("未及时运送废物、逾期不改正的，处1万元以上3万元以下的罚款。", [QUOTE], FINES)
    assert moved.status == "uncertain" and moved.checks["unquoted_figures"] == ["1万", "3万"]
    kept = check_answer("未及时运送废物、逾期不改正的，处2000元以上5000元以下的罚款。", [QUOTE], FINES)
    assert kept.status == "pass" and kept.checks["unquoted_figures"] == []


def test_evidence_that_leaves_out_the_figure_goes_to_the_judge():
    chunk = "Membership fees: 120 dollars per year, payable each spring at the front desk."
    v = check_answer("Membership costs 120 dollars per year, payable each spring.", ["payable each spring"], chunk)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_unquoted")
    assert check_answer("Membership costs 120 dollars per year, payable each spring.",
                        ["120 dollars per year, payable each spring"], chunk).status == "pass"


def test_a_year_the_chunk_names_and_the_answers_own_count_are_context():
    v = check_answer("自2024年起，逾期不改正的处2000元以上5000元以下的罚款。", [QUOTE], FINES)
    assert v.checks["unquoted_figures"] == []


def test_the_text_as_the_one_requiring_is_a_leak():
    assert leak("文中要求，设施应当远离水源保护区。") == "文中要求"
    assert leak("该规定要求企业每年备案。") is None
