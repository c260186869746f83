"""`doc-quiz`: every verification rule on a scripted server that writes right and careless items (answer
not in the chunk, answer given away, a distractor also correct, a negation that does not contradict),
deterministic option shuffling, the reward checker, and `synth run` end to end with balanced books."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import pytest
import yaml

from synth import rewards
from synth.recipes.doc_quiz import checks, exports
from synth.recipes.doc_quiz.recipe import DocQuizRecipe
from synth.testing import ScriptedServer, run_config
from tests.conftest import EXAMPLES, write_jsonl
from tests.recipes.helpers import run_recipe, sent

LOTO = ("Lockout is required before servicing any press. Each authorized employee applies a personal lock; "
        "a personal lock is never removed by another employee. Safety glasses and cut-resistant gloves are "
        "required in the press area. The hydraulic pressure must be bled to 0 bar before work starts. "
        "Audits are held every 12 months.")
WELD = ("5.3 焊接工艺要求\n焊接前应清除坡口两侧20mm范围内的油污、铁锈和水分。预热温度不低于120℃，层间温度应控制在\n"
        "120～250℃之间。焊后应立即进行消氢处理，加热温度为300～350℃，保温时间不少于2小时。")
CHUNKS = [
    {"id": "loto-1", "source": "docs/loto.html", "doc_id": "loto", "headings": ["Lockout"], "start": 50,
     "end": 50 + len(LOTO), "text": LOTO, "lang": "en"},
    {"id": "weld-1", "source": "docs/weld.md", "doc_id": "weld", "headings": ["5.3 焊接工艺要求"], "start": 0,
     "end": len(WELD), "text": WELD, "lang": "zh"},
]

# item -> what the careless ones must be rejected for (None: kept)
EN_ITEMS = {
    "cloze": [
        ({"sentence": "Audits are held every 12 months.", "answer": "every 12 months"}, None),
        ({"sentence": "Audits are held every 12 months.", "answer": "every 6 months"}, "answer_not_in_chunk"),
        ({"sentence": "Each authorized employee applies a personal lock; a personal lock is never removed by "
                      "another employee.", "answer": "personal lock"}, "answer_leaked"),
        ({"sentence": "Audits are held quarterly.", "answer": "quarterly"}, "cloze_sentence_not_in_chunk"),
    ],
    "mcq": [
        ({"question": "How often are lockout audits held?", "correct": ["every 12 months"],
          "distractors": ["every 6 months", "every 24 months", "every 3 months"],
          "evidence": ["Audits are held every 12 months."]}, None),
        ({"question": "Which protective equipment is required in the press area?", "correct": ["Safety glasses"],
          "distractors": ["cut-resistant gloves", "ear muffs", "a hard hat"],
          "evidence": ["Safety glasses and cut-resistant gloves are required in the press area."]},
         "mcq_distractor_also_correct"),
        ({"question": "Is lockout required before servicing any press?", "correct": ["Lockout"],
          "distractors": ["Tagout", "A permit", "A sign"], "evidence": ["Lockout is required"]}, "answer_leaked"),
        ({"question": "To what pressure must the hydraulic pressure be bled before work?", "correct": ["5 bar"],
          "distractors": ["1 bar", "10 bar", "2 bar"], "evidence": ["bled to 5 bar before work starts"]},
         "mcq_correct_unsupported"),
    ],
    "true_false": [
        ({"statement": "Lockout is required before servicing any press.",
          "altered": "Lockout is not required before servicing any press.",
          "evidence": ["Lockout is required before servicing any press."]}, (None, None)),
        ({"statement": "The hydraulic pressure must be bled to 0 bar before work starts.",
          "altered": "The hydraulic pressure must be bled to 5 bar before work starts.",
          "evidence": ["The hydraulic pressure must be bled to 0 bar before work starts."]}, (None, None)),
        ({"statement": "Safety glasses are required in the press area.",
          "altered": "Safety glasses are not optional in the press area.",
          "evidence": ["Safety glasses and cut-resistant gloves are required in the press area."]},
         ("tf_twin_rejected", "tf_altered_not_contradicting")),
        ({"statement": "Audits are held every 12 months.", "altered": "Lockout is required before servicing any press.",
          "evidence": ["Audits are held every 12 months."]}, ("tf_twin_rejected", "tf_altered_in_chunk")),
    ],
    "short_answer": [
        ({"question": "How often are lockout audits held?", "answer": "every 12 months",
          "evidence": ["Audits are held every 12 months."]}, None),
        ({"question": "To what pressure must the hydraulic pressure be bled before work starts?", "answer": "1 bar",
          "evidence": ["bled to 0 bar"]}, "answer_not_in_chunk"),
        ({"question": "Is the hydraulic pressure bled to 0 bar before work starts?", "answer": "0 bar",
          "evidence": ["bled to 0 bar before work starts"]}, "answer_leaked"),
        ({"question": "According to the passage, how often are audits held?", "answer": "every 12 months",
          "evidence": ["Audits are held every 12 months."]}, "question_not_standalone"),
    ],
}
ZH_ITEMS = {
    "cloze": [({"sentence": "焊后应立即进行消氢处理，加热温度为300～350℃，保温时间不少于2小时。", "answer": "2小时"}, None),
              ({"sentence": "焊后应立即进行消氢处理，加热温度为300～350℃，保温时间不少于2小时。", "answer": "3小时"},
               "answer_not_in_chunk")],
    "mcq": [({"question": "焊接前坡口两侧需要清除油污的范围是多少？", "correct": ["20mm"],
              "distractors": ["10mm", "50mm", "100mm"], "evidence": ["焊接前应清除坡口两侧20mm范围内的油污"]}, None)],
    "true_false": [({"statement": "焊后应立即进行消氢处理。", "altered": "焊后不应立即进行消氢处理。",
                     "evidence": ["焊后应立即进行消氢处理"]}, (None, None)),
                   ({"statement": "预热温度不低于120℃。", "altered": "预热温度不得低于120℃。",
                     "evidence": ["预热温度不低于120℃"]}, ("tf_twin_rejected", "tf_altered_not_contradicting"))],
    "short_answer": [({"question": "焊后消氢处理的加热温度是多少？", "answer": "300～350℃",
                       "evidence": ["加热温度为300～350℃"]}, None),
                     ({"question": "焊后消氢处理的加热温度300～350℃吗？", "answer": "300～350℃",
                       "evidence": ["加热温度为300～350℃"]}, "answer_leaked")],
}
ITEMS = {"en": EN_ITEMS, "zh": ZH_ITEMS}
# what is true according to the chunks: the competent judge answers by this
TRUE_OPTIONS = {"every 12 months", "safety glasses", "cut-resistant gloves", "20mm"}
FALSE_STATEMENTS = {"lockout is not required before servicing any press.",
                    "the hydraulic pressure must be bled to 5 bar before work starts.", "焊后不应立即进行消氢处理。"}
FORMAT_WORDS = {"cloze": ("填空题", "fill-in-the-blank"), "mcq": ("选择题", "multiple-choice"),
                "true_false": ("判断题", "true/false"), "short_answer": ("简答题", "short-answer")}


def prompt_of(body: dict) -> str:
    return body["messages"][-1]["content"].split("\n\nReply with one JSON object", 1)[0]


def competent_judge(item: str) -> str:
    """Solves an item the way the chunk says (options and statements by the tables above)."""
    options = re.findall(r"^([A-H])\. (.+)$", item, re.M)
    if options:
        return ", ".join(letter for letter, text in options if text.casefold() in TRUE_OPTIONS)
    m = re.search(r"(?:True or false|判断正误)[:：] ?(.+)", item)
    if m:
        false = m.group(1).strip().casefold() in FALSE_STATEMENTS
        return ("错误" if false else "正确") if "判断正误" in item else ("false" if false else "true")
    if "焊后消氢处理的加热温度" in item:
        return "300～350℃"
    return "every 12 months"


class Script:
    def __init__(self, items=ITEMS):
        self.items = items

    def __call__(self, kind: str, body: dict) -> str:
        p = prompt_of(body)
        if "Item:\n" in p or "题目：\n" in p:
            item = p.split("Item:\n", 1)[-1].split("题目：\n", 1)[-1].split("\n\nReply as JSON", 1)[0].split("\n\n输出 JSON", 1)[0]
            return json.dumps({"answer": competent_judge(item)}, ensure_ascii=False)
        lang = "zh" if p.startswith("请根据") else "en"
        fmt = next((f for f, words in FORMAT_WORDS.items() if any(w in p.split("\n", 1)[0] for w in words)), None)
        if fmt is None:
            return "ok"  # the engine's capability probes
        return json.dumps({"items": [i for i, _ in self.items[lang].get(fmt, [])]}, ensure_ascii=False)


def expected(lang: str, n: int = 4) -> list[tuple[str, str | None, str | None]]:
    """(format, variant, reason) of every record the script's items make, in order (``n`` asked per
    format: the slots the script leaves empty are `item_shortfall` records)."""
    out = []
    for fmt, items in ITEMS[lang].items():
        for _, why in items:
            if fmt == "true_false":
                out += [(fmt, "original", why[0]), (fmt, "altered", why[1])]
            else:
                out.append((fmt, "single" if fmt == "mcq" else None, why))
        out += [(fmt, None, "item_shortfall")] * (n - len(items))
    return out


def recipe(**options) -> DocQuizRecipe:
    return DocQuizRecipe({"items_per_format": 4, "multiple_share": 0, **options})


def verdicts(records: list[dict]) -> list[tuple[str, str | None, str | None]]:
    return [(r["format"], r["variant"], r.get("rejected")) for r in records]


def test_doctests():
    for module in (checks, rewards):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("lang,chunk", [("en", CHUNKS[0]), ("zh", CHUNKS[1])])
def test_each_rule_rejects_the_careless_item_and_keeps_the_right_one(lang, chunk):
    with ScriptedServer(Script()) as server:
        records = run_recipe(recipe(), [chunk], server.base_url, max_tokens=400)
    assert verdicts(records) == expected(lang)
    for r in records:
        if r.get("rejected") == "item_shortfall":
            assert r["verifier"] is None and r["question"] is None
            continue
        assert r["verifier"]["kind"] in ("exact_span", "choice", "bool", "equivalence")
        if r.get("rejected"):
            assert r["verification"]["status"] == "fail" and r["verification"]["reason"] == r["rejected"]
            continue
        # every kept item: its gold answer scores 1 by its own checker, and its span sits in the chunk
        assert rewards.score(r["verifier"], r["messages"][-1]["content"]) == 1.0
        if r["answer_span"]:
            s = r["answer_span"]
            assert chunk["text"][s["start"]:s["end"]] == r["answer"] == s["text"]
            assert s["doc_start"] == s["start"] + chunk["start"]
        if r["format"] == "cloze":
            assert "____" in r["question"] and r["answer"] not in r["question"]
        if r["format"] == "mcq":
            wrong = [o["letter"] for o in r["options"] if not o["correct"]]
            assert wrong and all(rewards.score(r["verifier"], w) == 0.0 for w in wrong)


def test_the_judge_is_asked_only_where_rules_cannot_settle():
    with ScriptedServer(Script()) as server:
        records = run_recipe(recipe(), [CHUNKS[0]], server.base_url, max_tokens=400)
        judged = [b for b in sent(server, "chat") if "Item:\n" in prompt_of(b)]
    asked = [r for r in records if r["verification"]["judge"] is not None]
    # the gloves distractor (in the chunk) and the "not optional" altered statement; nothing the rules decided
    assert len(judged) == len(asked) == 2
    assert {(r["format"], r["rejected"]) for r in asked} == {("mcq", "mcq_distractor_also_correct"),
                                                              ("true_false", "tf_altered_not_contradicting")}
    assert all(r["verification"]["judge"]["agrees"] is False for r in asked)


def test_judge_never_rejects_what_rules_leave_uncertain_and_always_confirms_the_rest():
    with ScriptedServer(Script()) as server:
        never = run_recipe(recipe(judge="never"), [CHUNKS[0]], server.base_url, max_tokens=400)
        assert not [b for b in sent(server, "chat") if "Item:\n" in prompt_of(b)]
    reasons = {(r["format"], r.get("rejected")) for r in never}
    assert ("mcq", "mcq_distractor_in_chunk") in reasons and ("true_false", "tf_altered_not_contradicting") in reasons
    with ScriptedServer(Script()) as server:
        always = run_recipe(recipe(judge="always"), [CHUNKS[0]], server.base_url, max_tokens=400)
    kept = [r for r in always if not r.get("rejected")]
    assert kept and all(r["verification"]["method"] == "rules+judge" for r in kept)
    assert verdicts(always) == expected("en")


def test_options_are_shuffled_by_the_seed_row_and_reproducibly():
    def options_of(records):
        return [[(o["letter"], o["text"], o["correct"]) for o in r["options"]] for r in records if r["format"] == "mcq"]

    rows = [{**CHUNKS[0], "id": f"loto-{i}"} for i in range(8)]
    with ScriptedServer(Script()) as server:
        first = run_recipe(recipe(formats=["mcq"]), rows, server.base_url, max_tokens=400)
        again = run_recipe(recipe(formats=["mcq"]), rows, server.base_url, max_tokens=400)
    assert options_of(first) == options_of(again)
    good = [r for r in first if r["options"] and r["options"][0]["text"] != "Safety glasses" and "12 months" in r["prompt"]]
    assert len({r["answer"] for r in good}) > 1  # the correct letter moves between seed rows
    for r in first:  # letters re-assigned A, B, C, D in order, the answer naming the correct ones
        assert [o["letter"] for o in r["options"]] == list("ABCD")
        assert r["verifier"]["choices"] == [o["letter"] for o in r["options"] if o["correct"]]


def test_multiple_answer_items_need_exactly_two_correct_options():
    items = {"en": {"mcq": [({"question": "Which protective equipment is required in the press area?",
                              "correct": ["Safety glasses", "cut-resistant gloves"],
                              "distractors": ["ear muffs", "a hard hat"],
                              "evidence": ["Safety glasses and cut-resistant gloves are required"]}, None),
                             ({"question": "How often are lockout audits held?", "correct": ["every 12 months"],
                               "distractors": ["every 6 months", "every 24 months", "every 3 months"],
                               "evidence": ["Audits are held every 12 months."]}, "mcq_wrong_answer_count")]}}
    with ScriptedServer(Script(items)) as server:
        records = run_recipe(recipe(formats=["mcq"], multiple_share=1.0, items_per_format=2), [CHUNKS[0]], server.base_url, max_tokens=400)
    assert [r.get("rejected") for r in records] == [None, "mcq_wrong_answer_count"]
    both = records[0]
    assert both["variant"] == "multiple" and len(both["verifier"]["choices"]) == 2
    assert rewards.score(both["verifier"], " and ".join(both["verifier"]["choices"])) == 1.0
    assert rewards.score(both["verifier"], both["verifier"]["choices"][0]) == 0.0


def test_shortfall_and_unparseable_answers_are_rejected_records():
    def short(kind, body):
        p = prompt_of(body)
        if "fill-in-the-blank" in p.split("\n", 1)[0]:
            return "not json at all"
        return Script()(kind, body)

    with ScriptedServer(short) as server:
        records = run_recipe(recipe(items_per_format=5, formats=["cloze", "short_answer"], retries=0),
                             [CHUNKS[0]], server.base_url, max_tokens=400)
    reasons = [r.get("rejected") for r in records]
    assert reasons[:5] == ["json_unparseable"] * 5 and reasons[-1] == "item_shortfall"  # every slot asked for
    assert [r["slot"] for r in records[:5]] == list(range(5)) and records[0]["error"]


def test_rewards_score_each_format_in_both_languages():
    tf_zh = {"kind": "bool", "answer": "true", "lang": "zh", "options": []}
    cases = [(tf_zh, "正确", 1.0), (tf_zh, "错误", 0.0), (tf_zh, "答案：对", 1.0), (tf_zh, "I am not sure", 0.0),
             ({"kind": "bool", "answer": "false"}, "False", 1.0), ({"kind": "bool", "answer": "false"}, "true", 0.0),
             ({"kind": "exact_span", "answer": "2小时"}, "2 小时", 1.0), ({"kind": "exact_span", "answer": "2小时"}, "3小时", 0.0),
             ({"kind": "equivalence", "answer": "300～350℃"}, "答案：300～350℃", 1.0),
             ({"kind": "equivalence", "answer": "every 12 months"}, "Every 12 months.", 1.0),
             ({"kind": "choice", "answer": "C", "choices": ["C"], "options": [{"letter": "C", "text": "20mm"}]},
              "The answer is C.", 1.0),
             ({"kind": "choice", "answer": "C", "choices": ["C"], "options": [{"letter": "C", "text": "20mm"}]}, "20mm", 1.0),
             ({"kind": "choice", "answer": "C", "choices": ["C"], "options": []}, "B", 0.0),
             ({"kind": "nonsense"}, "x", 0.0), ({"kind": "bool", "answer": "true"}, None, 0.0)]
    assert [rewards.score(v, c) for v, c, _ in cases] == [want for _, _, want in cases]


def test_synth_run_end_to_end_books_exports_and_resume(tmp_path):
    seeds = tmp_path / "chunks.jsonl"
    write_jsonl(seeds, CHUNKS)
    config = tmp_path / "quiz.yaml"
    config.write_text(yaml.safe_dump({
        "name": "quiz", "recipe": "doc-quiz", "seeds": str(seeds),
        "options": {"items_per_format": 4, "multiple_share": 0},
        "sampling": {"max_tokens": 400}, "export": {"formats": ["messages", "rl", "eval"]}}), encoding="utf-8")
    with ScriptedServer(Script()) as server:
        run = run_config(config, tmp_path / "run", base_url=server.base_url)
        again = run_config(config, tmp_path / "run", base_url=server.base_url)
    want = expected("en") + expected("zh")
    kept_n = sum(1 for *_, why in want if why is None)
    assert len(run.kept) == kept_n and len(run.rejected) == len(want) - kept_n
    assert sorted(r["reason"] for r in run.rejected) == sorted(why for *_, why in want if why)
    assert all(r["stage"] == "recipe:doc-quiz" for r in run.rejected)
    assert run.manifest["coverage"]["rows_by_format"]["true_false"] == \
        sum(1 for fmt, _, why in want if fmt == "true_false" and why is None)
    rl = [json.loads(line) for line in (tmp_path / "run" / "exports" / "rl.jsonl").read_text().splitlines()]
    ev = [json.loads(line) for line in (tmp_path / "run" / "exports" / "eval.jsonl").read_text().splitlines()]
    assert len(rl) == len(ev) == kept_n
    for row in rl:
        assert row["prompt"][0]["role"] == "user" and row["reward_model"]["style"] == "rule"
        assert rewards.score(row["verifier"], row["answer"]) == 1.0
        assert json.loads(row["extra_info"]["verifier"]) == row["verifier"]
        # verl's signature over the row's own columns: the gold scores 1, a wrong answer 0
        args = (row["data_source"], row["reward_model"]["ground_truth"], row["extra_info"])
        assert rewards.compute_score(args[0], row["answer"], *args[1:]) == 1.0
        assert rewards.compute_score(args[0], "Answer: zzz", *args[1:]) == 0.0
    completions = [[{"role": "assistant", "content": row["answer"]}] for row in rl]
    assert rewards.trl_reward([r["prompt"] for r in rl], completions, verifier=[r["verifier"] for r in rl]) == \
        [1.0] * len(rl)
    # what TRL / verl read: the JSONL loads as one Arrow table with the prompt, answer and verifier columns
    datasets = pytest.importorskip("datasets")
    for name, rows in (("rl", rl), ("eval", ev)):
        table = datasets.load_dataset("json", data_files=str(tmp_path / "run" / "exports" / f"{name}.jsonl"),
                                      split="train", cache_dir=str(tmp_path / "hf"))
        assert table.num_rows == len(rows) and {"answer", "verifier"} <= set(table.column_names)
    mcq = [e for e in ev if e["format"] == "mcq"]
    assert mcq and all(len(e["choices"]) == 4 and len(e["gold"]) == 1 for e in mcq)
    # the second run resumes the finished run: same records, nothing sent again
    assert sorted(r["id"] for r in again.kept) == sorted(r["id"] for r in run.kept)
    assert [r["options"] for r in sorted(again.kept, key=lambda r: r["id"])] == \
           [r["options"] for r in sorted(run.kept, key=lambda r: r["id"])]


@pytest.mark.parametrize("name", ["doc-quiz-en.yaml", "doc-quiz-zh.yaml"])
def test_example_configs_run_on_the_example_documents(tmp_path, name):
    def generic(kind, body):  # a model that copies the first sentence with a number, and a judge that agrees
        p = prompt_of(body)
        if "Item:\n" in p or "题目：\n" in p:
            return json.dumps({"answer": "x"})
        text = p.split("资料：\n", 1)[-1].split("Text:\n", 1)[-1]
        sentence = next((s for s in re.split(r"(?<=[。；.])\s*", text) if re.search(r"\d", s)), text[:40])
        number = re.search(r"\d+(?:\.\d+)?\s*[^\W\d_]{0,3}", sentence).group() if re.search(r"\d", sentence) else sentence[:4]
        return json.dumps({"items": [{"sentence": sentence, "answer": number, "question": "Q?", "correct": [number],
                                      "distractors": ["a", "b", "c"], "evidence": [sentence], "statement": sentence,
                                      "altered": sentence.replace(number, "9999")}]}, ensure_ascii=False)

    with ScriptedServer(generic) as server:
        run = run_config(EXAMPLES / name, tmp_path / "run", base_url=server.base_url, args=("--limit", "3"))
    assert run.manifest["rows"]["selected"] == 3 and run.manifest["rows"]["failed"] == 0
    assert run.kept or run.rejected
    assert {r["format"] for r in run.kept} | {r["record"]["format"] for r in run.rejected} == \
           set(yaml.safe_load((EXAMPLES / name).read_text())["options"]["formats"])
    for r in run.kept:
        assert Path(EXAMPLES / "docs" / "manufacturing-zh" / r["chunk"]["source"]).exists()


def test_a_resumed_run_makes_the_records_an_uninterrupted_one_makes(tmp_path):
    seeds = tmp_path / "chunks.jsonl"
    write_jsonl(seeds, CHUNKS + [{**CHUNKS[0], "id": f"loto-{i}"} for i in range(2, 6)])
    config = tmp_path / "quiz.yaml"
    config.write_text(yaml.safe_dump({"name": "quiz", "recipe": "doc-quiz", "seeds": str(seeds),
                                      "options": {"items_per_format": 4, "formats": ["mcq", "true_false"]},
                                      "sampling": {"max_tokens": 400}}), encoding="utf-8")

    def view(run):
        return sorted((r["id"], r["answer"], json.dumps(r["options"]), r["verifier"]["answer"]) for r in run.kept)

    with ScriptedServer(Script()) as server:
        run_config(config, tmp_path / "resumed", base_url=server.base_url, args=("--limit", "2"))
        resumed = run_config(config, tmp_path / "resumed", base_url=server.base_url)
        straight = run_config(config, tmp_path / "straight", base_url=server.base_url)
    assert view(resumed) == view(straight) and len(view(straight)) > 6
    assert sorted(r["reason"] for r in resumed.rejected) == sorted(r["reason"] for r in straight.rejected)


def test_multiple_share_splits_chunks_by_their_id_and_every_item_follows_its_ask():
    rows = [{**CHUNKS[0], "id": f"loto-{i}"} for i in range(20)]
    with ScriptedServer(Script()) as server:
        records = run_recipe(recipe(formats=["mcq"], multiple_share=0.5), rows, server.base_url, max_tokens=400)
        asks = [prompt_of(b) for b in sent(server, "chat")]
    multiple = [a for a in asks if "multiple-answer" in a]
    assert 0 < len(multiple) < len(asks)  # some chunks ask for two correct options, some for one
    by_chunk = {}
    for r in records:
        if r.get("rejected") != "item_shortfall":
            by_chunk.setdefault(r["chunk"]["id"], set()).add(r["variant"])
    assert all(len(v) == 1 for v in by_chunk.values())
    assert sum(v == {"multiple"} for v in by_chunk.values()) == len(multiple)


def test_near_duplicate_items_across_chunks_are_dropped_in_one_order_true_false_in_pairs(tmp_path):
    seeds = tmp_path / "chunks.jsonl"
    copy = {**CHUNKS[0], "id": "loto-copy", "source": "docs/loto-copy.html"}
    write_jsonl(seeds, [CHUNKS[0], copy])
    config = tmp_path / "quiz.yaml"
    config.write_text(yaml.safe_dump({"name": "quiz", "recipe": "doc-quiz", "seeds": str(seeds),
                                      "options": {"items_per_format": 4, "multiple_share": 0},
                                      "sampling": {"max_tokens": 400}}), encoding="utf-8")
    with ScriptedServer(Script()) as server:
        run = run_config(config, tmp_path / "run", base_url=server.base_url)
    one_chunk = sum(1 for *_, why in expected("en") if why is None)
    dups = [r for r in run.rejected if r["reason"] == "item_near_duplicate"]
    assert len(run.kept) == len(dups) == one_chunk
    assert len({r["chunk"]["id"] for r in run.kept}) == 1  # every item of one chunk, none of the other
    assert all(r["stage"] == "recipe:doc-quiz:item-dedup" and r["record"]["duplicate_of"]["similarity"] >= 0.7
               for r in dups)
    tf = [r["record"]["variant"] for r in dups if r["record"]["format"] == "true_false"]
    assert sorted(tf) == sorted(["original", "altered"] * (len(tf) // 2)) and tf


def test_a_held_out_eval_split_shares_no_chunk_with_train(tmp_path):
    import pyarrow.parquet as pq

    seeds = tmp_path / "chunks.jsonl"
    write_jsonl(seeds, [{**CHUNKS[0], "id": f"loto-{i}"} for i in range(8)])
    config = tmp_path / "quiz.yaml"
    config.write_text(yaml.safe_dump({"name": "quiz", "recipe": "doc-quiz", "seeds": str(seeds),
                                      "options": {"items_per_format": 4, "dedup_threshold": None},
                                      "sampling": {"max_tokens": 400},
                                      "export": {"formats": ["rl", "eval"], "split": {"eval": 0.4}}}), encoding="utf-8")
    with ScriptedServer(Script()) as server:
        run_config(config, tmp_path / "run", base_url=server.base_url)
    # the rl subset's parquet is verl's layout: data_source, prompt (chat), ability, reward_model, extra_info
    rl = pq.read_table(sorted((tmp_path / "run" / "subsets" / "rl").glob("train-*.parquet"))[0]).to_pylist()
    assert {"data_source", "prompt", "ability", "reward_model", "extra_info"} <= set(rl[0])
    assert all(r["reward_model"]["style"] == "rule" and r["prompt"][0]["role"] == "user" for r in rl)
    assert all(rewards.compute_score(r["data_source"], r["answer"], r["reward_model"]["ground_truth"],
                                     r["extra_info"]) == 1.0 for r in rl)
    chunks = {}
    for split in ("train", "eval"):
        files = sorted((tmp_path / "run" / "subsets" / "eval").glob(f"{split}-*.parquet"))
        rows = [r for f in files for r in pq.read_table(f).to_pylist()]
        assert rows, split
        chunks[split] = {r["chunk_id"] for r in rows}
    assert chunks["train"] and chunks["eval"] and not chunks["train"] & chunks["eval"]


# policy outputs labelled by hand: (checker spec, completion, right?) per format, en + zh; the wrong ones are
# the near misses a lenient checker would reward (a negated letter, a qualified value, two letters for one)
B = {"kind": "choice", "answer": "B", "choices": ["B"], "options": [{"letter": "A", "text": "10mm"},
                                                                   {"letter": "B", "text": "20mm"}]}
BD = {"kind": "choice", "answer": "B, D", "choices": ["B", "D"], "options": []}
FALSE = {"kind": "bool", "answer": "false", "options": []}
TWO_H = {"kind": "exact_span", "answer": "2小时", "options": []}
YEAR = {"kind": "equivalence", "answer": "every 12 months", "options": []}
LABELLED = [
    (B, "B", True), (B, "The answer is B.", True), (B, "答案是B", True), (B, "选B", True), (B, "(B)", True),
    (B, "20mm", True), (B, "<think>A is 10mm, too small</think>\nAnswer: B", True),
    (B, "Not B", False), (B, "不是B", False), (B, "A or B", False), (B, "AB", False), (B, "A", False),
    (B, "10mm", False), (B, "B, D", False),
    (BD, "B, D", True), (BD, "B、D", True), (BD, "(B) and (D)", True), (BD, "答案：D，B", True),
    (BD, "B", False), (BD, "B, C, D", False), (BD, "all of them", False),
    (FALSE, "false", True), (FALSE, "False.", True), (FALSE, "错误", True), (FALSE, "不正确", True),
    (FALSE, "<think>the text says 0 bar</think>错", True),
    (FALSE, "true", False), (FALSE, "正确", False), (FALSE, "It depends", False), (FALSE, "", False),
    (TWO_H, "2小时", True), (TWO_H, "2 小时", True), (TWO_H, "答案：2小时", True), (TWO_H, "两小时", True),
    (TWO_H, "3小时", False), (TWO_H, "2小时以上", False), (TWO_H, "不少于2小时", False), (TWO_H, "about 2 hours", False),
    (YEAR, "every 12 months", True), (YEAR, "Every 12 months.", True), (YEAR, "Answer: every 12 months", True),
    (YEAR, "every 6 months", False), (YEAR, "not every 12 months", False),
]


def test_the_reward_checker_on_labelled_policy_outputs_has_no_false_positive():
    got = [rewards.score(v, c) == 1.0 for v, c, _ in LABELLED]
    false_positives = [c for (v, c, right), g in zip(LABELLED, got) if g and not right]
    misses = [c for (v, c, right), g in zip(LABELLED, got) if right and not g]
    assert false_positives == [] and misses == []


def test_balance_formats_keeps_as_many_of_each_format_as_of_the_scarcest(tmp_path):
    seeds = tmp_path / "chunks.jsonl"
    write_jsonl(seeds, [{**CHUNKS[0], "id": f"loto-{i}"} for i in range(3)])
    config = tmp_path / "quiz.yaml"
    config.write_text(yaml.safe_dump({"name": "quiz", "recipe": "doc-quiz", "seeds": str(seeds),
                                      "options": {"items_per_format": 4, "multiple_share": 0, "dedup_threshold": None,
                                                  "balance_formats": True},
                                      "dedup": {"exact": False},  # the three chunks' items are the same text
                                      "sampling": {"max_tokens": 400}}), encoding="utf-8")
    with ScriptedServer(Script()) as server:
        run = run_config(config, tmp_path / "run", base_url=server.base_url)
    # per chunk the script's items keep cloze 1, mcq 1, true/false 2 pairs, short answer 1: 3 of each
    units = {f: sum(1 for r in run.kept if r["format"] == f and r["variant"] != "altered") for f in ITEMS["en"]}
    assert units == {"cloze": 3, "mcq": 3, "true_false": 3, "short_answer": 3}
    surplus = [r["record"] for r in run.rejected if r["reason"] == "format_surplus"]
    assert len(surplus) == 6 and all(r["format"] == "true_false" for r in surplus)  # three pairs
    assert sorted(r["variant"] for r in surplus) == ["altered"] * 3 + ["original"] * 3
