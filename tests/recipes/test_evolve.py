"""`evolve`: chained Evol-Instruct evolutions with provenance, each elimination rule with its reason
(ScriptedServer: evolutions, equality verdicts and answers we choose), seeds of every shape, and the
example config on the embedded model (structure and bookkeeping only)."""

from __future__ import annotations

import doctest
import json
import re
from collections import Counter

import pytest

from synth.errors import InputError
from synth.recipes.evolve import recipe as recipe_module
from synth.recipes.evolve import rules
from synth.recipes.evolve.recipe import IN_DEPTH, OPERATIONS, EvolveRecipe, instruction_of
from synth.recipes.evolve.rules import copies_template, sorry_short, stopwords_only
from tests.conftest import EXAMPLES, synth_cli, write_config, write_jsonl
from tests.recipes.helpers import run_recipe
from tests.servers import ScriptedServer

# the sentence of each operation's template, to tell from a request which operation was asked for
MARKERS = {"add_constraints": ("add one more constraint", "再增加一条约束"),
           "deepening": ("depth and breadth of the inquiry can be increased", "加深和拓宽"),
           "concretizing": ("replace general concepts", "更具体的概念"),
           "increase_reasoning": ("multiple-step reasoning", "多步推理"),
           "complicate_input": ("add a complex input", "复杂输入"),
           "breadth": ("Prompt Creator", "提示创作者")}
LONG_ANSWER = "Apples, pears and plums are common fruits; each grows on trees in temperate climates."


@pytest.mark.parametrize("module", [rules, recipe_module], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def user_text(body: dict) -> str:
    return body["messages"][-1]["content"]


def operation_of(prompt: str) -> str | None:
    return next((op for op, marks in MARKERS.items() if any(m in prompt for m in marks)), None)


def given_of(prompt: str) -> str:
    return re.search(r"#(?:The Given Prompt|Given Prompt|给定提示)#[:：]\n(.*?)\n\n#", prompt, re.S).group(1)


def evol_server(evolve=lambda given, n: f"{given} Explain step {n}.", equal=lambda first, second: False,
                answer=lambda instruction: LONG_ANSWER):
    """evolve(given, n-th evolution request) -> text; equal(parent, evolved) -> bool or raw text;
    answer(instruction) -> text."""
    count = Counter()

    def reply(kind, body):
        text = user_text(body)
        if text == "Say hi.":
            return '{"a": 1}'  # the engine's JSON-schema probe
        if operation_of(text):
            count["evolve"] += 1
            return evolve(given_of(text), count["evolve"])
        if "The First Prompt:" in text or "第一条指令：" in text:
            first, second = re.search(r"(?:The First Prompt:|第一条指令：)\n(.*?)\n\n(?:The Second Prompt:|第二条指令：)\n"
                                      r"(.*?)\n\n", text, re.S).groups()
            verdict = equal(first, second)
            return verdict if isinstance(verdict, str) else json.dumps({"equal": verdict})
        return answer(text)
    return ScriptedServer(reply)


def asked(server, what: str) -> list[str]:
    texts = [user_text(b) for b in server.requests() if user_text(b) != "Say hi."]
    if what == "evolve":
        return [t for t in texts if operation_of(t)]
    if what == "equal":
        return [t for t in texts if "The First Prompt:" in t or "第一条指令：" in t]
    return [t for t in texts if not operation_of(t) and "The First Prompt:" not in t and "第一条指令：" not in t]


def test_a_chain_records_parent_operation_depth_and_root():
    with evol_server() as server:
        records = run_recipe(EvolveRecipe({"rounds": 3}), [{"id": "seed-7", "instruction": "List three fruits."}],
                             server.base_url)
        prompts = asked(server, "evolve")
    assert [r["instruction"] for r in records] == ["List three fruits. Explain step 1.",
                                                   "List three fruits. Explain step 1. Explain step 2.",
                                                   "List three fruits. Explain step 1. Explain step 2. Explain step 3."]
    evo = [r["evolution"] for r in records]
    assert [e["parent_id"] for e in evo] == ["seed-7", evo[0]["id"], evo[1]["id"]]
    assert [e["parent_instruction"] for e in evo] == ["List three fruits.", records[0]["instruction"],
                                                      records[1]["instruction"]]
    assert [e["depth"] for e in evo] == [1, 2, 3] and [e["round"] for e in evo] == [1, 2, 3]
    assert all(e["root_id"] == "seed-7" and e["root_instruction"] == "List three fruits." for e in evo)
    assert [e["operation"] for e in evo] == [operation_of(p) for p in prompts]
    assert all(e["kind"] == ("in-depth" if e["operation"] in IN_DEPTH else "in-breadth") for e in evo)
    assert len({e["id"] for e in evo}) == 3
    for r in records:
        assert "rejected" not in r and r["response"] == LONG_ANSWER
        assert r["messages"] == [{"role": "user", "content": r["instruction"]},
                                 {"role": "assistant", "content": LONG_ANSWER}]
        assert r["generation"]["model"] == "scripted" and r["generation"]["evolve_seed"] is not None


def test_an_eliminated_evolution_sends_its_parent_back_to_the_pool():
    # the second evolution is judged equal to its parent: rejected, not answered, and round 3 evolves round 1's
    with evol_server(equal=lambda first, second: second.endswith("step 2.")) as server:
        records = run_recipe(EvolveRecipe({"rounds": 3}), [{"instruction": "List three fruits."}], server.base_url)
        answered = asked(server, "answer")
    assert [r.get("rejected") for r in records] == [None, "evol_no_information_gain", None]
    first, failed, third = (r["evolution"] for r in records)
    assert failed["parent_id"] == first["id"] and third["parent_id"] == first["id"]
    assert third["parent_instruction"] == records[0]["instruction"] and (third["depth"], third["round"]) == (2, 3)
    assert records[1]["response"] is None and records[1]["messages"] is None
    assert answered == [records[0]["instruction"], records[2]["instruction"]]


@pytest.mark.parametrize("seed,server_kwargs,reason", [
    ("List three fruits.", {"evolve": lambda g, n: "#Rewritten Prompt#: List three tropical fruits."},
     "evol_copied_template"),
    ("List three fruits.", {"evolve": lambda g, n: "Here is the rewritten prompt: list five fruits."},
     "evol_copied_template"),
    ("列出三种水果。", {"evolve": lambda g, n: "改写后的提示：列出五种热带水果。"}, "evol_copied_template"),
    ("List three fruits.", {"evolve": lambda g, n: "   "}, "evol_empty_instruction"),
    ("List three fruits.", {"equal": lambda a, b: True}, "evol_no_information_gain"),
    ("列出三种水果。", {"equal": lambda a, b: True}, "evol_no_information_gain"),
    ("List three fruits.", {"answer": lambda i: "Sorry, I can't help with that request."}, "evol_sorry_short"),
    ("列出三种水果。", {"answer": lambda i: "抱歉，这个问题我无法回答。"}, "evol_sorry_short"),
    ("List three fruits.", {"answer": lambda i: "It is what it is..."}, "evol_stopwords_only"),
    ("列出三种水果。", {"answer": lambda i: "这个……是的。"}, "evol_stopwords_only"),
    ("List three fruits.", {"equal": lambda a, b: "they look the same to me"}, "json_unparseable: equality check"),
])
def test_each_elimination_rule_rejects_with_its_reason(seed, server_kwargs, reason):
    with evol_server(**server_kwargs) as server:
        (record,) = run_recipe(EvolveRecipe({"rounds": 1}), [{"instruction": seed}], server.base_url)
        answers = asked(server, "answer")
    assert record["rejected"].startswith(reason)
    assert record["evolution"]["language"] == ("zh" if "水果" in seed else "en")
    before_answer = reason.startswith(("evol_copied", "evol_empty", "evol_no_information", "json_unparseable"))
    assert (answers == []) == before_answer  # instruction rules are checked before paying for an answer


def test_long_answers_that_apologise_are_kept():
    long_en = "Sorry for the wait. " + " ".join(["Apples, pears and plums grow well in temperate orchards."] * 9)
    long_zh = "无法一概而论，" + "苹果、梨和李子都适合在温带果园种植，" * 8
    assert len(long_en.split()) >= 80 and len(long_zh) >= 120
    for seed, answer in (("List three fruits.", long_en), ("列出三种水果。", long_zh)):
        with evol_server(answer=lambda i, a=answer: a) as server:
            (record,) = run_recipe(EvolveRecipe({"rounds": 1}), [{"instruction": seed}], server.base_url)
        assert "rejected" not in record and record["response"] == answer


def test_rules_directly_on_their_edges():
    assert sorry_short("sorry " * 79) and not sorry_short("sorry " * 80)
    assert sorry_short("无法" + "字" * 117) and not sorry_short("无法" + "字" * 118)
    assert sorry_short("x" * 50, max_words=80) is False
    assert copies_template("As the GIVEN PROMPT says") and not copies_template("Give a prompt reply")
    assert stopwords_only("") and stopwords_only("!!! ...") and not stopwords_only("Paris is the capital.")
    assert not stopwords_only("这是利率。")


def test_zh_seeds_use_the_zh_templates_and_operations_can_be_restricted():
    with evol_server() as server:
        records = run_recipe(EvolveRecipe({"rounds": 2, "operations": ["breadth"]}),
                             [{"instruction": "用两句话解释什么是指数基金。"}], server.base_url)
        prompts = asked(server, "evolve")
    assert all("提示创作者" in p and "#创作的提示#" in p for p in prompts) and len(prompts) == 2
    assert [r["evolution"]["operation"] for r in records] == ["breadth", "breadth"]
    assert all(r["evolution"]["kind"] == "in-breadth" for r in records)


def test_operation_choice_is_deterministic_and_follows_the_seed_option():
    rows = [{"instruction": f"Describe fruit number {i}."} for i in range(5)]

    def ops(options):
        with evol_server() as server:
            return [r["evolution"]["operation"] for r in run_recipe(EvolveRecipe(options), rows, server.base_url)]

    first = ops({"rounds": 4})
    assert first == ops({"rounds": 4}) and set(first) <= set(OPERATIONS) and len(set(first)) > 1
    assert ops({"rounds": 4, "seed": 1}) != first


def test_seeds_of_every_shape_and_a_row_without_an_instruction(tmp_path):
    rows = [{"instruction": "Plain row."},
            {"id": "r2", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "From chat."},
                                      {"role": "assistant", "content": "a"}]},
            {"conversations": [{"from": "human", "value": "From ShareGPT."}, {"from": "gpt", "value": "a"}]}]
    path = write_jsonl(tmp_path / "seeds.jsonl", rows)
    assert EvolveRecipe({}).read_seeds(path) == [{"instruction": "Plain row."},
                                                 {"instruction": "From chat.", "id": "r2"},
                                                 {"instruction": "From ShareGPT."}]
    assert instruction_of({"prompt": "P"}, "prompt") == "P"
    bad = write_jsonl(tmp_path / "bad.jsonl", rows + [{"text": "no instruction here"}])
    with pytest.raises(InputError, match=r"bad.jsonl: row 4 has no 'instruction' field and no user message"):
        EvolveRecipe({}).read_seeds(bad)


def test_synth_run_moves_eliminated_evolutions_to_rejected_and_counts_them(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "List three fruits."},
                                          {"instruction": "列出三种水果。"},
                                          {"instruction": "Name two rivers."}])
    cfg = write_config(tmp_path / "c.yaml", name="evo", recipe="evolve", seeds="seeds.jsonl",
                       options={"rounds": 2}, sampling={"max_tokens": 64}, export={"jsonl": True})

    def answer(instruction):  # every evolution of the Chinese seed gets a short apology
        return "抱歉，我无法回答。" if "水果" in instruction else LONG_ANSWER

    with evol_server(answer=answer) as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "--out", str(tmp_path / "run"), "-q")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "run"
    manifest = json.loads((out / "manifest.json").read_text())
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    train = [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["stage"], r["reason"]) for r in rejected] == [("recipe:evolve", "evol_sorry_short")] * 2
    stage = next(s for s in manifest["stages"] if s["name"] == "recipe:evolve")
    assert stage["dropped_by_reason"] == {"evol_sorry_short": 2} and stage["kept"] == len(train) == 4
    coverage = manifest["coverage"]
    assert coverage["rows_by_operation"] == dict(Counter(r["evolution"]["operation"] for r in train))
    assert coverage["rows_by_depth"] == {"1": 2, "2": 2} and coverage["seeds_without_evolution"] == 1
    assert all("rejected" not in r and r["evolution"]["root_instruction"] != "列出三种水果。" for r in train)


def test_evolve_example_runs_on_the_embedded_model(tmp_path, llm_server):
    out = tmp_path / "evolve"
    proc = synth_cli("run", str(EXAMPLES / "evolve.yaml"), "--base-url", llm_server, "--limit", "1",
                     "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["rows"]["done"], manifest["rows"]["failed"]) == (1, 0) and manifest["coverage"]["seeds"] == 1
    records = [json.loads(line) for shard in sorted((out / "records").rglob("*.jsonl"))
               for line in shard.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2  # rounds: 2, one record per evolution, kept or not
    for r in records:
        e = r["evolution"]
        assert set(e) == {"id", "parent_id", "root_id", "parent_instruction", "root_instruction", "operation",
                          "kind", "depth", "round", "language"}
        assert e["language"] == "zh" and e["operation"] in OPERATIONS and 1 <= e["depth"] <= e["round"] <= 2
        assert r.get("rejected") is None or r["rejected"].startswith(("evol_", "json_unparseable"))
        assert r["generation"]["model"] and r["generation"]["evolve_finish_reason"]
        assert (r["response"] is None) == (r["messages"] is None)
    kept = manifest["outputs"]["kept"]
    assert manifest["coverage"]["rows"] == kept == sum(manifest["coverage"]["rows_by_operation"].values())
