"""`dialogue`: a scripted server plays the user and the assistant. A grounded 3-turn conversation is kept
with verified evidence per factual turn; an unsupported fact in turn 3 is asked for once more and then
rejected; a follow-up that ignores the earlier turns is rejected; a group of chunks maps each quote to its
chunk; `synth run` end to end with the run's books checked."""

from __future__ import annotations

import doctest
import json

import yaml

from synth.recipes.dialogue import recipe as dialogue
from synth.recipes.dialogue.recipe import DialogueRecipe
from synth.testing import ScriptedServer, run_config
from tests.conftest import write_jsonl
from tests.recipes.helpers import run_recipe

MAINT = ("The hydraulic press is serviced every 500 operating hours. The service covers the hydraulic oil, "
         "the seals and the guard sensors. A press tagged out of service is repaired by the maintenance team "
         "within 24 hours.")
GUARD = ("Operators check the hydraulic press guard and the emergency stop button before every shift. "
         "A press whose guard fails the check is tagged out of service.")
ROW = {"group_id": "maint", "chunks": [{"id": "maint", "source": "maintenance.md", "doc_id": "maintenance.md",
                                        "headings": ["Press maintenance"], "start": 300, "end": 300 + len(MAINT),
                                        "lang": "en", "text": MAINT}]}

USERS = ["How often is the hydraulic press serviced?", "What does that service cover?",
         "And what about a press that is tagged out?"]


def reply(text, *quotes, factual=True):
    return {"reply": text, "factual": factual, "evidence": list(quotes)}


GOOD = [reply("Every 500 operating hours.", "The hydraulic press is serviced every 500 operating hours"),
        reply("It covers the hydraulic oil, the seals and the guard sensors.",
              "The service covers the hydraulic oil, the seals and the guard sensors"),
        reply("A tagged press is repaired by the maintenance team within 24 hours.",
              "repaired by the maintenance team within 24 hours")]
UNSUPPORTED = reply("A tagged press is repaired within 12 hours by the operator.", "repaired within 12 hours by the operator")


class Model:
    """Plays the user and the assistant from queues, in the order the recipe asks."""

    def __init__(self, users, replies, contradicts=None, judge=()):
        self.users, self.replies, self.calls, self.contradicts = list(users), list(replies), [], contradicts
        self.judge = list(judge)

    def __call__(self, kind, body):
        p = body["messages"][-1]["content"]
        if "You are playing a user" in p:
            self.calls.append("user")
            return json.dumps({"message": self.users.pop(0)})
        if "You are the assistant" in p:
            self.calls.append("assistant" + ("-repair" if "failed the check" in p else ""))
            return json.dumps(self.replies.pop(0))
        if "fully supported by the document" in p:
            self.calls.append("judge")
            return json.dumps(self.judge.pop(0))
        if "contradicts an earlier assistant reply" in p:
            self.calls.append("consistency")
            return json.dumps({"contradicts": self.contradicts is not None, "turn": self.contradicts,
                               "claim": "the interval" if self.contradicts else ""})
        return "ok"


def run_dialogue(model, row=ROW, **options):
    recipe = DialogueRecipe({"min_turns": 3, "max_turns": 3, **options})
    with ScriptedServer(model) as server:
        return run_recipe(recipe, [row], server.base_url, max_tokens=256)


def test_refers_back_finds_the_word_a_follow_up_leans_on():
    assert doctest.testmod(dialogue).failed == 0
    assert dialogue.refers_back("它的保存期限是多久？") == "它" and dialogue.refers_back("What else?") == "else"
    assert dialogue.refers_back("What is the maximum dose of metformin?") is None


def test_a_grounded_three_turn_conversation_is_kept_with_evidence_per_turn():
    model = Model(USERS, GOOD)
    (record,) = run_dialogue(model)
    assert record["rejected"] is None and record["failed_turn"] is None
    assert [m["role"] for m in record["messages"]] == ["user", "assistant"] * 3
    assert [m["content"] for m in record["messages"][::2]] == USERS
    turns = record["turns"]
    assert [t["turn"] for t in turns] == [1, 2, 3] and all(t["factual"] for t in turns)
    assert [t["depends_on_earlier"] for t in turns] == [None, "that", "And what"]
    for t, good in zip(turns, GOOD):
        (e,) = t["evidence"]
        assert MAINT[e["start"]:e["end"]] == good["evidence"][0] and e["chunk_id"] == "maint"
        assert e["doc_start"] == 300 + e["start"] and t["grounding"]["status"] == "pass"
    assert record["persona"] in dialogue.PERSONAS["en"]
    assert model.calls == ["user", "assistant"] * 3 + ["consistency"]
    assert record["consistency"]["contradicts"] is False


def test_a_reply_contradicting_an_earlier_one_is_rejected():
    (record,) = run_dialogue(Model(USERS, GOOD, contradicts=3))
    assert record["rejected"] == "dialogue_inconsistent_turns" and record["failed_turn"] == 3


def test_an_unsupported_fact_in_turn_three_is_repaired_once_then_rejected():
    model = Model(USERS, GOOD[:2] + [UNSUPPORTED, UNSUPPORTED])
    (record,) = run_dialogue(model)
    assert record["rejected"] == "dialogue_ungrounded_quote" and record["failed_turn"] == 3
    assert record["messages"] is None and record["turns"][-1]["repaired"] is True
    assert model.calls[-2:] == ["assistant", "assistant-repair"]


def test_a_repaired_turn_is_kept():
    (record,) = run_dialogue(Model(USERS, GOOD[:2] + [UNSUPPORTED, GOOD[2]]))
    assert record["rejected"] is None and [t["repaired"] for t in record["turns"]] == [False, False, True]


PARAPHRASE = reply("Servicing happens on a 500-hour cycle, looked after by the upkeep crew.",
                   "The hydraulic press is serviced every 500 operating hours")


def test_a_turn_the_checks_leave_uncertain_goes_to_the_judge():
    approve = {"supported": True, "evidence": ["serviced every 500 operating hours"], "missing": []}
    model = Model(USERS, [PARAPHRASE] + GOOD[1:], judge=[approve])
    (record,) = run_dialogue(model)
    first = record["turns"][0]
    assert record["rejected"] is None and first["grounding"]["method"] == "judge"
    assert first["grounding"]["reason"] == "ungrounded_low_support" and len(first["evidence"]) == 2
    assert model.calls[:3] == ["user", "assistant", "judge"]
    deny = {"supported": False, "evidence": [], "missing": ["upkeep crew"]}
    (record,) = run_dialogue(Model(USERS, [PARAPHRASE, PARAPHRASE], judge=[deny, deny]))
    assert record["rejected"] == "dialogue_judge_unsupported" and record["failed_turn"] == 1
    (record,) = run_dialogue(Model(USERS, [PARAPHRASE, PARAPHRASE]), judge="never")
    assert record["rejected"] == "dialogue_ungrounded_low_support"


def test_a_greeting_or_clarifying_turn_needs_no_evidence_but_a_number_does():
    clarify = reply("Which press do you mean?", factual=False)
    (record,) = run_dialogue(Model(USERS, [clarify] + GOOD[1:]))
    assert record["rejected"] is None and record["turns"][0]["factual"] is False
    assert record["turns"][0]["grounding"]["status"] == "not_factual"
    sneaky = reply("About 300 hours.", factual=False)  # says it states no fact, but gives a number
    (record,) = run_dialogue(Model(USERS, [sneaky, sneaky]))
    assert record["rejected"] == "dialogue_ungrounded_no_evidence" and record["failed_turn"] == 1


def test_a_follow_up_that_ignores_the_earlier_turns_is_rejected():
    standalone = "How often is the hydraulic press serviced?"
    model = Model([USERS[0], standalone, standalone], GOOD)
    (record,) = run_dialogue(model)
    assert record["rejected"] == "dialogue_followup_independent" and record["failed_turn"] == 2
    assert model.calls == ["user", "assistant", "user", "user"]  # asked once more, then rejected


def test_quotes_in_a_group_are_mapped_to_their_chunk():
    row = {"group_id": "g", "chunks": [
        {"id": "guard", "source": "inspection.md", "doc_id": "inspection.md", "headings": [], "start": 0,
         "end": len(GUARD), "lang": "en", "text": GUARD}, ROW["chunks"][0]]}
    replies = [reply("A press whose guard fails the check is tagged out of service.",
                     "A press whose guard fails the check is tagged out of service"),
               reply("It is repaired by the maintenance team within 24 hours.",
                     "repaired by the maintenance team within 24 hours")]
    (record,) = run_dialogue(Model(["What happens to a press whose guard fails the check?",
                                    "And how soon is it repaired?"], replies), row=row, min_turns=2, max_turns=2)
    assert record["rejected"] is None
    (first,), (second,) = (t["evidence"] for t in record["turns"])
    assert first["chunk_id"] == "guard" and GUARD[first["start"]:first["end"]] == replies[0]["evidence"][0]
    assert second["chunk_id"] == "maint" and MAINT[second["start"]:second["end"]] == replies[1]["evidence"][0]
    assert second["doc_start"] == 300 + second["start"]


def test_synth_run_end_to_end_writes_multi_turn_messages_and_balances_its_books(tmp_path):
    seeds = write_jsonl(tmp_path / "chunks.jsonl", [{k: v for k, v in ROW["chunks"][0].items()}])
    config = tmp_path / "dlg.yaml"
    config.write_text(yaml.safe_dump({"name": "dlg", "recipe": "dialogue", "seeds": str(seeds),
                                      "options": {"min_turns": 3, "max_turns": 3},
                                      "sampling": {"max_tokens": 256},
                                      "export": {"formats": ["messages", "sharegpt", "llamafactory"]}}))
    with ScriptedServer(Model(USERS, GOOD)) as server:
        run = run_config(config, tmp_path / "run", base_url=server.base_url)
    (row,) = run.kept
    assert len(row["messages"]) == 6 and run.rejected == []
    cov = run.manifest["coverage"]
    assert cov["dialogues"] == 1 and cov["factual_turns"] == 3 and cov["chunks_covered"] == 1
    assert cov["documents_uncovered"] == [] and cov["turns_mean"] == 3
    sharegpt = [json.loads(line) for line in (run.dir / "exports" / "sharegpt.jsonl").read_text().splitlines()]
    assert len(sharegpt) == 1 and len(sharegpt[0]["conversations"]) == 6
    assert [t["from"] for t in sharegpt[0]["conversations"]] == ["human", "gpt"] * 3
    info = json.loads((run.dir / "exports" / "dataset_info.json").read_text())
    assert any(entry["file_name"] == "llamafactory.jsonl" and entry["formatting"] == "sharegpt"
               for entry in info.values())
