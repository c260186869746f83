"""`multi-hop`: deterministic grouping of related chunks, and a scripted server playing a competent and a
careless model (a question one chunk answers, a hop without a quote, a quote from the wrong chunk, an
answer that contradicts a chunk): each careless case rejected with its reason, the good one kept with
evidence per hop; then `synth run` end to end with the run's books checked."""

from __future__ import annotations

import json

import yaml

from synth.recipes.multi_hop.groups import Similarity, chunk_terms, make_groups, relatedness
from synth.recipes.multi_hop.recipe import MultiHopRecipe
from synth.testing import ScriptedServer, run_config
from tests.conftest import write_jsonl
from tests.recipes.helpers import run_recipe

GUARD = ("Operators check the hydraulic press guard and the emergency stop button before every shift. "
         "A press whose guard fails the check is tagged out of service.")
REPAIR = ("The hydraulic press is serviced every 500 operating hours. A press tagged out of service is "
          "repaired by the maintenance team within 24 hours.")
LEAVE = ("Employees with one to ten years of employment receive five days of annual leave. Employees with "
         "ten or more years receive ten days.")
CANTEEN = "The canteen serves lunch from 11:30 to 13:00. Vegetarian meals are ordered at the counter."
INSPECT_ZH = "冲压车间每班开机前由操作工点检压力机的安全光栅和急停按钮，点检不合格的设备挂停用牌。"
REPAIR_ZH = "挂停用牌的压力机由设备维修组在24小时内修复，修复后经班组长确认方可恢复使用。"


def chunk(cid, source, headings, text, start=0, lang="en"):
    return {"id": cid, "source": source, "doc_id": source, "headings": headings, "start": start,
            "end": start + len(text), "text": text, "lang": lang}


CHUNKS = [
    chunk("guard", "inspection.md", ["Press inspection", "Daily checks"], GUARD, 120),
    chunk("leave", "leave.md", ["Annual leave"], LEAVE),
    chunk("repair", "maintenance.md", ["Press maintenance", "Hydraulic press"], REPAIR, 40),
    chunk("canteen", "canteen.md", ["Canteen"], CANTEEN),
    chunk("inspect-zh", "点检.md", ["设备点检"], INSPECT_ZH, lang="zh"),
    chunk("repair-zh", "维修.md", ["设备维修"], REPAIR_ZH, lang="zh"),
]


# -- grouping ----------------------------------------------------------------------------------------

def test_groups_join_related_chunks_across_documents_and_leave_unrelated_ones_out():
    groups = make_groups(CHUNKS, scope="cross")
    assert [[c["id"] for c in g["chunks"]] for g in groups] == [["guard", "repair"], ["inspect-zh", "repair-zh"]]
    first = groups[0]
    assert {"hydraulic", "tagged"} <= set(first["shared_terms"]) and first["similarity"] >= 0.1
    assert first["method"] and first["chunks"][0]["text"] == GUARD and first["chunks"][1]["start"] == 40
    assert "停用" in groups[1]["shared_terms"]


def test_grouping_is_deterministic_and_scope_is_respected():
    assert make_groups(CHUNKS) == make_groups([dict(c) for c in CHUNKS])
    assert make_groups(CHUNKS, scope="within") == []  # every document here has one chunk
    two_in_one = [chunk("a", "one.md", [], GUARD), chunk("b", "one.md", [], REPAIR)]
    assert [len(g["chunks"]) for g in make_groups(two_in_one, scope="within")] == [2]
    assert make_groups(two_in_one, scope="cross") == []


def test_proposed_groups_are_more_related_than_random_ones():
    bags = [chunk_terms(c["text"], c["headings"]) for c in CHUNKS]
    distinctive = set(Similarity(bags).idf)
    proposed = relatedness(make_groups(CHUNKS), distinctive)
    unrelated = relatedness([{"chunks": [CHUNKS[0], CHUNKS[3]]}, {"chunks": [CHUNKS[1], CHUNKS[5]]}], distinctive)
    assert proposed["groups"] == 2 and proposed["all_pairs_share_a_term"] == 1.0
    assert unrelated["all_pairs_share_a_term"] == 0.0 and proposed["mean_shared_terms"] > unrelated["mean_shared_terms"]


# -- the recipe against a scripted model --------------------------------------------------------------

GOOD = {"question": "How soon must a hydraulic press whose guard fails the shift check be repaired?",
        "answer": "A press whose guard fails the check is tagged out of service, and a tagged press is repaired "
                  "by the maintenance team within 24 hours.",
        "evidence": [{"chunk": 1, "quote": "A press whose guard fails the check is tagged out of service"},
                     {"chunk": 2, "quote": "repaired by the maintenance team within 24 hours"}]}


def prompt_of(body):
    return body["messages"][-1]["content"].split("\n\nReply with one JSON object", 1)[0]


class Model:
    """Plays the model: the generated question, which chunks it says answer it alone, a contradiction."""

    def __init__(self, generated, answerable_from=(), contradicts=None):
        self.generated, self.answerable_from, self.contradicts = generated, answerable_from, contradicts
        self.calls = []

    def __call__(self, kind, body):
        p = prompt_of(body)
        self.calls.append(next((k for k, marks in CALLS.items() if any(m in p for m in marks)), "probe"))
        if "multi-hop question" in p or "多跳问题" in p:
            return json.dumps(self.generated, ensure_ascii=False)
        if "from this one passage alone" in p or "只使用下面这一段资料" in p:
            alone = any(CHUNKS_BY_ID[c]["text"] in p for c in self.answerable_from)
            return json.dumps({"answerable": alone, "answer": "Within 24 hours." if alone else ""})
        if "contradicts any of the passages" in p or "是否与任何一段资料相矛盾" in p:
            return json.dumps({"contradicts": self.contradicts is not None, "chunk": self.contradicts,
                               "claim": "the interval" if self.contradicts else ""})
        return "ok"  # capability probes


CHUNKS_BY_ID = {c["id"]: c for c in CHUNKS}
CALLS = {"generate": ("multi-hop question", "多跳问题"), "single": ("from this one passage alone", "只使用下面这一段资料"),
         "consistency": ("contradicts any of the passages", "是否与任何一段资料相矛盾")}


def run_group(model, **options):
    group = make_groups(CHUNKS, scope="cross")[0]
    with ScriptedServer(model) as server:
        records = run_recipe(MultiHopRecipe(options), [group], server.base_url, max_tokens=256)
        return records, [c for c in model.calls if c != "probe"]


def test_a_question_needing_both_chunks_is_kept_with_evidence_per_hop():
    (record,), sent = run_group(Model(GOOD))
    assert record["rejected"] is None
    assert [c["id"] for c in record["chunks"]] == ["guard", "repair"] and "text" not in record["chunks"][0]
    assert [h["chunk_id"] for h in record["hops"]] == ["guard", "repair"]
    first, second = (h["evidence"][0] for h in record["hops"])
    assert GUARD[first["start"]:first["end"]] == GOOD["evidence"][0]["quote"] and first["doc_start"] == 120 + first["start"]
    assert REPAIR[second["start"]:second["end"]] == GOOD["evidence"][1]["quote"] and second["method"] == "exact"
    assert all(h["single_chunk"]["answerable"] is False for h in record["hops"])
    assert record["consistency"]["contradicts"] is False
    assert record["messages"] == [{"role": "user", "content": GOOD["question"]},
                                  {"role": "assistant", "content": GOOD["answer"]}]
    assert record["question_type"] in {"comparison", "causal", "temporal", "aggregation"}
    assert sorted(sent) == ["consistency", "generate", "single", "single"]  # one single-chunk check per chunk


def test_a_question_one_chunk_answers_is_rejected():
    (record,), _ = run_group(Model(GOOD, answerable_from=["repair"]))
    assert record["rejected"] == "multi_hop_single_chunk_answerable"
    assert [h["single_chunk"]["answerable"] for h in record["hops"]] == [False, True]


def test_a_hop_without_a_quote_is_rejected_before_any_check_call():
    missing = {**GOOD, "evidence": GOOD["evidence"][1:]}
    (record,), sent = run_group(Model(missing))
    assert record["rejected"] == "multi_hop_missing_hop" and record["hops"][0]["evidence"] == []
    assert sent == ["generate"]


def test_a_quote_not_in_the_chunk_it_names_is_rejected():
    wrong = {**GOOD, "evidence": [{"chunk": 1, "quote": "repaired by the maintenance team within 24 hours"},
                                  GOOD["evidence"][1]]}
    (record,), _ = run_group(Model(wrong))
    assert record["rejected"] == "multi_hop_ungrounded_quote"
    assert record["hops"][0]["evidence"][0]["method"] is None and record["hops"][1]["evidence"][0]["method"] == "exact"
    assert record["hops"][0]["evidence"][0]["found_in"] == "repair"  # the quote came from the other chunk


def test_an_answer_contradicting_a_chunk_is_rejected():
    (record,), _ = run_group(Model(GOOD, contradicts=2))
    assert record["rejected"] == "multi_hop_contradicts_chunk" and record["consistency"]["chunk_id"] == "repair"


def test_a_question_naming_its_passages_is_not_standalone():
    import doctest

    from synth.recipes.multi_hop import recipe

    assert doctest.testmod(recipe).failed == 0
    (record,), sent = run_group(Model({**GOOD, "question": "What do passage 1 and passage 2 say about repairs?"}))
    assert record["rejected"] == "question_not_standalone" and sent == ["generate"]


def test_a_number_in_no_chunk_is_rejected_without_check_calls():
    wrong = {**GOOD, "answer": GOOD["answer"].replace("24 hours", "48 hours")}
    (record,), sent = run_group(Model(wrong))
    assert record["rejected"] == "ungrounded_number" and sent == ["generate"]


def test_synth_run_end_to_end_keeps_the_good_group_and_balances_its_books(tmp_path):
    seeds = write_jsonl(tmp_path / "chunks.jsonl", CHUNKS)
    config = tmp_path / "mh.yaml"
    config.write_text(yaml.safe_dump({"name": "mh", "recipe": "multi-hop", "seeds": str(seeds),
                                      "options": {"scope": "cross"}, "sampling": {"max_tokens": 256}}))

    def model(kind, body):
        if "设备" in prompt_of(body) and ("multi-hop" in prompt_of(body) or "多跳问题" in prompt_of(body)):
            return json.dumps({"question": "压力机点检不合格后多久修复？", "answer": "在24小时内修复。",
                               "evidence": [{"chunk": 1, "quote": "点检不合格的设备挂停用牌"}]}, ensure_ascii=False)
        return Model(GOOD)(kind, body)

    with ScriptedServer(model) as server:
        run = run_config(config, tmp_path / "run", base_url=server.base_url)
    assert [r["question"] for r in run.kept] == [GOOD["question"]]
    assert [r["reason"] for r in run.rejected] == ["multi_hop_missing_hop"]
    assert run.manifest["rows"]["selected"] == 2
    cov = run.manifest["coverage"]
    assert cov["groups"] == 2 and cov["groups_kept"] == 1 and cov["chunks_covered"] == 2
    assert cov["chunk_ids_uncovered"] == ["inspect-zh", "repair-zh"] and cov["documents_uncovered"] == ["点检.md", "维修.md"]
    assert "点检.md > 设备点检" in cov["headings_uncovered"] and "inspection.md > Press inspection > Daily checks" \
        not in cov["headings_uncovered"]


def test_coverage_doctest():
    import doctest

    from synth.recipes.multi_hop import coverage

    assert doctest.testmod(coverage).failed == 0
