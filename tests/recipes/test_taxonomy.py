"""`taxonomy`: tree loading and validation, the grid and its quotas, per-cell questions and answers,
coverage and top-ups (ScriptedServer: answers we choose), `synth taxonomy`, and the example configs
on the embedded model (structure and bookkeeping only)."""

from __future__ import annotations

import asyncio
import doctest
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.errors import ConfigError, InputError
from synth.llm import LLM
from synth.recipes.taxonomy import coverage as coverage_module
from synth.recipes.taxonomy import grid, lists
from synth.recipes.taxonomy import tree as tree_module
from synth.recipes.taxonomy.recipe import TaxonomyRecipe
from synth.recipes.taxonomy.tree import load_tree
from tests.conftest import EXAMPLES, synth_cli, write_config
from tests.recipes.helpers import run_recipe
from tests.servers import ScriptedServer

@pytest.mark.parametrize("module", [tree_module, grid, lists, coverage_module], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# -- trees -----------------------------------------------------------------------------------------
ZH_TREE = """\
domain: 金融
language: zh
personas: [刚工作的年轻人, 银行柜员]
tree:
  个人理财:
    储蓄与存款:
      - 定期存款提前支取的计息规则
      - 大额存单
  反洗钱:
    - 可疑交易报告
    - 客户身份识别: [受益所有人]
  保险: 犹豫期
"""

MD_TREE = """\
# Clinical medicine

Intro text is ignored.

## Cardiology
- Hypertension
  - Blood pressure **thresholds**
  - First-line drugs
- Heart failure

## Endocrinology
1. Diabetes
   1. HbA1c targets
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_tree_with_metadata_lists_leaves_in_order(tmp_path):
    tree = load_tree(write(tmp_path, "t.yaml", ZH_TREE))
    assert (tree.domain, tree.language, tree.personas) == ("金融", "zh", ["刚工作的年轻人", "银行柜员"])
    assert tree.leaves == [("个人理财", "储蓄与存款", "定期存款提前支取的计息规则"), ("个人理财", "储蓄与存款", "大额存单"),
                           ("反洗钱", "可疑交易报告"), ("反洗钱", "客户身份识别", "受益所有人"), ("保险", "犹豫期")]


def test_bare_yaml_mapping_is_the_tree(tmp_path):
    tree = load_tree(write(tmp_path, "t.yml", "Cardiology:\n  Hypertension: [Thresholds, Drugs]\n"))
    assert tree.domain is None and tree.leaves == [("Cardiology", "Hypertension", "Thresholds"),
                                                  ("Cardiology", "Hypertension", "Drugs")]


def test_markdown_tree_headings_and_nested_bullets(tmp_path):
    tree = load_tree(write(tmp_path, "t.md", MD_TREE))
    assert tree.domain == "Clinical medicine"
    assert tree.leaves == [("Cardiology", "Hypertension", "Blood pressure thresholds"),
                           ("Cardiology", "Hypertension", "First-line drugs"), ("Cardiology", "Heart failure"),
                           ("Endocrinology", "Diabetes", "HbA1c targets")]


def test_markdown_without_a_single_title_has_no_domain(tmp_path):
    tree = load_tree(write(tmp_path, "t.md", "## 信贷\n- 征信\n## 保险\n- 犹豫期\n"))
    assert tree.domain is None and tree.leaves == [("信贷", "征信"), ("保险", "犹豫期")]


@pytest.mark.parametrize("name,text,expected", [
    ("bad.yaml", "a:\n  - x\n b: [y]\n", r"bad.yaml:3: malformed YAML"),
    ("empty-node.yaml", "个人理财:\n  储蓄:\n  基金: [货币基金]\n", r"empty-node.yaml:2: node '个人理财 / 储蓄' is empty"),
    ("dup.yaml", "信贷:\n  - 征信\n  - LPR\n  - 征信\n",
     r"dup.yaml:4: node '信贷' has two children named '征信' \(lines 2 and 4\)"),
    ("dup-keys.yaml", "信贷: [a]\n保险: [b]\n信贷: [c]\n", r"dup-keys.yaml:3: the tree has two children named '信贷'"),
    ("blank.yaml", "信贷:\n  - 征信\n  -\n", r"blank.yaml:3: node '信贷' has an empty entry"),
    ("nested.yaml", "信贷:\n  - [a, b]\n", r"nested.yaml:2: node '信贷' has a list inside a list"),
    ("none.yaml", "# nothing\n", r"none.yaml: the tree is empty"),
    ("scalar.yaml", "just text\n", r"scalar.yaml:1: the tree must be a mapping"),
    ("empty-heading.md", "# 金融\n## 信贷\n- 征信\n## 保险\n", r"empty-heading.md:4: node '保险' is empty"),
    ("dup.md", "## 信贷\n- 征信\n- 征信\n", r"dup.md:3: node '信贷' has two children named '征信'"),
    ("blank.md", "## 信贷\n- 征信\n-\n", r"blank.md:3: the tree has a bullet without text"),
])
def test_bad_trees_fail_with_one_line_naming_file_line_and_node(tmp_path, name, text, expected):
    with pytest.raises(InputError) as exc:
        load_tree(write(tmp_path, name, text))
    assert re.search(expected, str(exc.value)), str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_and_non_utf8_trees(tmp_path):
    with pytest.raises(InputError, match="taxonomy tree not found"):
        load_tree(tmp_path / "nope.yaml")
    (tmp_path / "gbk.yaml").write_bytes("信贷: [征信]".encode("gbk"))
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_tree(tmp_path / "gbk.yaml")


def test_bad_tree_through_the_cli_is_one_line_exit_2_and_writes_nothing(tmp_path):
    write(tmp_path, "tree.yaml", "信贷:\n  - 征信\n  - 征信\n")
    cfg = write_config(tmp_path / "c.yaml", name="bad", recipe="taxonomy", seeds="tree.yaml")
    proc = synth_cli("run", str(cfg), "--base-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "has two children named '征信'" in proc.stderr
    assert not (tmp_path / "run").exists()


# -- the grid --------------------------------------------------------------------------------------
def test_grid_expands_every_dimension_with_weighted_quotas(tmp_path):
    recipe = TaxonomyRecipe({"task_types": ["qa", "case"], "difficulties": ["basic", "advanced"], "quota": 2,
                             "task_weights": {"case": 0.5}, "leaf_weights": {"个人理财/储蓄与存款": 2, "保险": 0},
                             "languages": ["zh", "en"]})
    cells = recipe.read_seeds(write(tmp_path, "t.yaml", ZH_TREE))
    # 4 leaves left (保险 weighted 0) x 2 tasks x 2 difficulties x 2 personas (from the tree) x 2 languages
    assert len(cells) == 4 * 2 * 2 * 2 * 2 and len({c["cell"] for c in cells}) == len(cells)
    quota = {(c["leaf"], c["task"]) for c in cells}
    assert {(leaf, task): q for leaf, task, q in {(c["leaf"], c["task"], c["quota"]) for c in cells}} == {
        ("定期存款提前支取的计息规则", "qa"): 4, ("定期存款提前支取的计息规则", "case"): 2, ("大额存单", "qa"): 4,
        ("大额存单", "case"): 2, ("可疑交易报告", "qa"): 2, ("可疑交易报告", "case"): 1,
        ("受益所有人", "qa"): 2, ("受益所有人", "case"): 1}
    assert len(quota) == 8 and {c["persona"] for c in cells} == {"刚工作的年轻人", "银行柜员"}
    assert all(c["domain"] == "金融" and c["round"] == 0 and c["path"][-1] == c["leaf"] for c in cells)


def test_cell_ids_are_stable_and_sampling_spreads_over_leaves(tmp_path):
    path = write(tmp_path, "t.yaml", ZH_TREE)
    full = TaxonomyRecipe({}).read_seeds(path)
    assert [c["cell"] for c in full] == [c["cell"] for c in TaxonomyRecipe({}).read_seeds(path)]
    assert len(full) == 5 * 4 * 3 * 2  # leaves x default task types x default difficulties x tree personas
    sample = TaxonomyRecipe({"cells": {"sample": 10, "seed": 3}}).read_seeds(path)
    again = TaxonomyRecipe({"cells": {"sample": 10, "seed": 3}}).read_seeds(path)
    assert len(sample) == 10 and sample == again
    per_leaf = Counter(c["leaf"] for c in sample)
    assert len(per_leaf) == 5 and set(per_leaf.values()) == {2}  # 10 cells over 5 leaves: 2 each
    other = TaxonomyRecipe({"cells": {"sample": 10, "seed": 4}}).read_seeds(path)
    assert {c["cell"] for c in other} != {c["cell"] for c in sample}


@pytest.mark.parametrize("options,message", [
    ({"task_types": ["essay"]}, "options.task_types: unknown 'essay'"),
    ({"difficulties": ["hard"]}, "options.difficulties: unknown 'hard'"),
    ({"task_types": ["qa"], "task_weights": {"case": 2}}, "options.task_weights: 'case' is not in task_types"),
    ({"personas": ["a"], "personas_file": "p.txt"}, "not both"),
    ({"quota": 0}, "options.quota"),
    ({"cells": {"sample": 0}}, "options.cells"),
])
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        TaxonomyRecipe(options)


def test_unknown_leaf_weight_and_custom_task_types(tmp_path):
    path = write(tmp_path, "t.yaml", ZH_TREE)
    with pytest.raises(ConfigError, match="'个人理财/储蓄' names no node"):
        TaxonomyRecipe({"leaf_weights": {"个人理财/储蓄": 2}}).read_seeds(path)
    cells = TaxonomyRecipe({"task_types": ["合规审查"], "task_descriptions": {"合规审查": "判断一项业务是否合规"},
                            "difficulties": ["basic"]}).read_seeds(path)
    assert {c["task"] for c in cells} == {"合规审查"}


def test_personas_from_a_file_override_the_tree(tmp_path):
    path = write(tmp_path, "t.yaml", ZH_TREE)
    write(tmp_path, "p.txt", "# who asks\n理财经理\n\n合规专员\n理财经理\n")
    cells = TaxonomyRecipe({"personas_file": str(tmp_path / "p.txt"), "task_types": ["qa"],
                            "difficulties": ["basic"]}).read_seeds(path)
    assert Counter(c["persona"] for c in cells) == {"理财经理": 5, "合规专员": 5}
    with pytest.raises(InputError, match="persona file not found"):
        TaxonomyRecipe({"personas_file": str(tmp_path / "none.txt")}).read_seeds(path)


# -- one cell against a scripted server ------------------------------------------------------------
def user_text(body: dict) -> str:
    return body["messages"][-1]["content"]


def is_probe(body: dict) -> bool:
    return user_text(body) == "Say hi."


def schema_count(body: dict) -> int:
    return body["response_format"]["json_schema"]["schema"]["properties"]["questions"]["minItems"]


def scripted(questions, answer=lambda q: f"A full answer to: {q}", personas=None):
    """questions(prompt, n) -> list; answer(question) -> text; personas: the JSON list of personas."""
    def reply(kind, body):
        text = user_text(body)
        if is_probe(body):
            return '{"a": 1}'  # the engine's JSON-schema probe: answered, so schemas are sent
        if '"personas"' in text:
            return json.dumps({"personas": personas}, ensure_ascii=False)
        if '"questions"' in text:
            return questions(text, schema_count(body))
        return answer(text)
    return reply


QUESTIONS = ["What penalty applies when a fixed deposit is withdrawn before maturity?",
             "How do banks compute the interest on a partial early withdrawal?",
             "Why would a saver choose a certificate of deposit over a savings account?",
             "Which documents does a branch ask for when closing a deposit early?",
             "Can a joint account holder withdraw a fixed deposit alone?"]
ROW = {"cell": "c1", "round": 0, "quota": 3, "domain": "Banking", "path": ["Savings", "Early withdrawal"],
       "leaf": "Early withdrawal", "task": "qa", "difficulty": "basic", "persona": None, "persona_slot": None,
       "language": "en", "avoid": []}


def questions_json(items):
    return json.dumps({"questions": items}, ensure_ascii=False)


def test_exact_quota_asked_by_schema_and_kept_when_the_model_gives_more():
    recipe = TaxonomyRecipe({"task_types": ["qa"]})
    with ScriptedServer(scripted(lambda text, n: questions_json(QUESTIONS))) as server:
        records = run_recipe(recipe, [ROW], server.base_url)
        asks = [b for b in server.requests() if not is_probe(b) and '"questions"' in user_text(b)]
        answers = [b for b in server.requests() if not is_probe(b) and '"questions"' not in user_text(b)]
    assert len(asks) == 1 and schema_count(asks[0]) == 3 == asks[0]["response_format"]["json_schema"]["schema"][
        "properties"]["questions"]["maxItems"]
    assert [r["instruction"] for r in records] == QUESTIONS[:3] and len(answers) == 3
    for i, r in enumerate(records):
        assert r["taxonomy"] == {"domain": "Banking", "path": ["Savings", "Early withdrawal"],
                                 "leaf": "Early withdrawal", "task": "qa", "difficulty": "basic", "persona": None,
                                 "language": "en"}
        assert (r["cell"], r["round"], r["question_index"]) == ("c1", 0, i) and "rejected" not in r
        assert r["messages"] == [{"role": "user", "content": QUESTIONS[i]},
                                 {"role": "assistant", "content": f"A full answer to: {QUESTIONS[i]}"}]
        assert r["response"] == r["messages"][-1]["content"] and r["generation"]["model"] == "scripted"
    assert "Knowledge point: Early withdrawal" in user_text(asks[0]) and "exactly 3 items" in user_text(asks[0])


def test_near_duplicate_questions_of_a_cell_are_dropped_before_answering():
    dup = "What penalty applies when a fixed deposit is withdrawn before maturity at a bank?"
    recipe = TaxonomyRecipe({"task_types": ["qa"], "system": "Be precise."})
    with ScriptedServer(scripted(lambda text, n: questions_json([QUESTIONS[0], dup, QUESTIONS[1]]))) as server:
        records = run_recipe(recipe, [ROW], server.base_url)
        answered = [user_text(b) for b in server.requests() if not is_probe(b) and '"questions"' not in user_text(b)]
    assert answered == [QUESTIONS[0], QUESTIONS[1]]
    assert [r.get("rejected") for r in records] == [None, "question_near_duplicate", None]
    assert records[1]["instruction"] == dup and records[1]["messages"] is None
    assert records[0]["messages"][0] == {"role": "system", "content": "Be precise."}


def test_unparseable_questions_become_one_rejected_record_after_retries():
    with ScriptedServer(scripted(lambda text, n: "Here are some questions: none")) as server:
        records = run_recipe(TaxonomyRecipe({"task_types": ["qa"]}), [ROW], server.base_url)
        asks = [b for b in server.requests() if not is_probe(b)]
    assert len(asks) == 3  # chat_json: first answer + 2 retries
    assert len(records) == 1 and records[0]["rejected"].startswith("json_unparseable: ")
    assert records[0]["cell"] == "c1" and records[0]["instruction"] is None


def test_generated_personas_are_asked_once_for_concurrent_cells(tmp_path):
    people = ["a retired teacher worried about deposit safety", "a branch teller", "an AML analyst"]
    recipe = TaxonomyRecipe({"personas": {"generate": 3}, "task_types": ["qa"], "difficulties": ["basic"],
                             "quota": 1})
    rows = recipe.read_seeds(write(tmp_path, "t.yaml", "Banking:\n  - Fixed deposits\n  - Wire transfers\n"))
    assert [r["persona_slot"] for r in rows] == [0, 1, 2, 0, 1, 2] and all(r["persona"] is None for r in rows)
    counter = iter(range(100))
    server = ScriptedServer(scripted(lambda text, n: questions_json([f"{QUESTIONS[next(counter) % 5]}"]),
                                     personas=people))

    async def go():
        async with OpenAIEngine(server.base_url, max_retries=0) as engine:
            llm = LLM(engine, None, Sampling(max_tokens=64), run_seed=0)
            return await asyncio.gather(*(recipe.run(r, llm) for r in rows))

    with server:
        results = asyncio.run(go())
        persona_asks = [b for b in server.requests() if '"personas"' in user_text(b)]
    assert len(persona_asks) == 1 and "exactly 3 items" in user_text(persona_asks[0])
    assert [recs[0]["taxonomy"]["persona"] for recs in results] == people + people


def test_answer_engine_names_a_role_whose_llm_answers():
    from synth.llm import by_role

    async def go(recipe, rows, asker, answerer):
        async with OpenAIEngine(asker.base_url, max_retries=0) as a, OpenAIEngine(answerer.base_url, max_retries=0) as b:
            llms = by_role({"default": LLM(a, None, Sampling(max_tokens=64), run_seed=0),
                            "teacher": LLM(b, None, Sampling(max_tokens=64), run_seed=0)})
            return [r for row in rows for r in await recipe.run(row, llms["default"])]

    with ScriptedServer(scripted(lambda text, n: questions_json(QUESTIONS[:2]))) as asker, \
            ScriptedServer(lambda kind, body: "Answered elsewhere, in detail.", model="answerer") as answerer:
        recipe = TaxonomyRecipe({"task_types": ["qa"], "answer_engine": "teacher"})
        assert recipe.roles() == ["teacher"] and TaxonomyRecipe({}).roles() == []
        records = asyncio.run(go(recipe, [{**ROW, "quota": 2}, {**ROW, "quota": 2}], asker, answerer))
        asked_there = [b for b in asker.requests() if not is_probe(b)]
        answered_there = [b for b in answerer.requests() if not is_probe(b)]
    assert len(asked_there) == 2 and '"questions"' in user_text(asked_there[0])
    assert [user_text(b) for b in answered_there] == QUESTIONS[:2] * 2
    assert all(r["generation"]["model"] == "answerer" and r["generation"]["question_model"] == "scripted"
               and r["response"] == "Answered elsewhere, in detail." for r in records)


def test_answer_engine_as_an_endpoint_is_refused_with_how_to_name_a_role():
    with pytest.raises(ConfigError, match=r"options\.answer_engine: .*engines: \(engines: \{teacher: .*answer_engine: teacher"):
        TaxonomyRecipe({"answer_engine": {"base_url": "http://localhost:8000/v1"}})


def test_answer_engine_role_requests_and_tokens_are_in_the_manifest_and_card(tmp_path):
    write(tmp_path, "tree.yaml", "Banking:\n  - Fixed deposits\n  - Wire transfers\n")
    def per_leaf(text, n):  # each cell its own questions: two cells never send one answer request at once
        leaf = "Fixed deposits" if "Fixed deposits" in text else "Wire transfers"
        return questions_json([f"{q} ({leaf})" for q in QUESTIONS[:n]])

    with ScriptedServer(scripted(per_leaf)) as asker, \
            ScriptedServer(lambda kind, body: "Answered elsewhere, in detail.", model="answerer") as answerer:
        options = {"task_types": ["qa"], "difficulties": ["basic"], "quota": 2, "max_rounds": 0,
                   "answer_engine": "teacher"}
        cfg = write_config(tmp_path / "c.yaml", name="t", recipe="taxonomy", seeds="tree.yaml", options=options,
                           engines={"teacher": {"base_url": answerer.base_url, "model": "answerer"}},
                           sampling={"max_tokens": 64}, dedup=None)
        proc = synth_cli("run", str(cfg), "--base-url", asker.base_url, "--out", str(tmp_path / "run"), "-q")
        asked, answered = len(asker.requests()), len(answerer.requests())  # capability probes included
        answers = [b for b in answerer.requests() if not is_probe(b)]
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    by_engine = manifest["requests_by_engine"]
    assert list(by_engine) == ["default", "teacher"]
    assert len(answers) == 2 * 2 and not any('"questions"' in user_text(b) for b in answers)
    assert by_engine["teacher"]["sent"] == answered and by_engine["default"]["sent"] == asked
    assert by_engine["teacher"]["prompt_tokens"] == 10 * answered  # ScriptedServer's usage per answer
    assert by_engine["teacher"]["completion_tokens"] == 5 * answered
    for key in ("sent", "prompt_tokens", "completion_tokens", "cache_misses"):
        assert manifest["requests"][key] == by_engine["default"][key] + by_engine["teacher"][key]
    assert manifest["requests"]["sent"] == asked + answered
    assert manifest["engines"]["teacher"]["model"] == "answerer"
    assert manifest["engines"]["teacher"]["used_by"] == ["recipe:taxonomy"]
    card = (tmp_path / "run" / "README.md").read_text(encoding="utf-8")
    assert f"| requests | {asked + answered} sent" in card
    assert f"| by engine | default: {asked} sent" in card and f"; teacher: {answered} sent" in card


# -- coverage and top-ups through `synth run` ------------------------------------------------------
TOPUP_TREE = "domain: 测试金融\nlanguage: zh\ntree:\n  信贷:\n    - 征信查询\n    - 提前还款\n    - 信用卡分期\n"
ZH_QUESTIONS = ["{leaf}的基本规定是什么？", "办理{leaf}时普通客户最容易忽视哪些风险？", "请举一个家庭理财中的例子说明{leaf}怎样影响决策。",
                "监管为什么要对{leaf}提出专门要求？", "银行在{leaf}业务里通常收取哪些费用？", "{leaf}与其他相近业务相比有什么不同？"]
REFUSAL = "抱歉，我无法回答这个问题。"


def topup_server(refused: set[str]):
    """Questions per leaf come from ZH_QUESTIONS in order (a top-up gets the next ones); answers to the
    questions in `refused` are refusals, which the refusal filter drops."""
    asked: Counter = Counter()

    def questions(text: str, n: int) -> str:
        leaf = re.search(r"知识点：(.+)", text).group(1).strip()
        start = asked[leaf]
        asked[leaf] += n
        return questions_json([q.format(leaf=leaf) for q in ZH_QUESTIONS[start:start + n]])

    def answer(question: str) -> str:
        return REFUSAL if question in refused else f"{question[:6]}：按照规定，需要结合合同条款、利率和期限具体计算。"

    return ScriptedServer(scripted(questions, answer))


def per_leaf(server, leaves) -> tuple[Counter, Counter]:
    asks, answers = Counter(), Counter()
    for body in server.requests():
        text = user_text(body)
        if is_probe(body):
            continue
        leaf = next(leaf for leaf in leaves if leaf in text)
        (asks if '"questions"' in text else answers)[leaf] += 1
    return asks, answers


def topup_run(tmp_path, server, max_rounds: int):
    write(tmp_path, "tree.yaml", TOPUP_TREE)
    cfg = write_config(tmp_path / "c.yaml", name="topup", recipe="taxonomy", seeds="tree.yaml",
                       options={"task_types": ["qa"], "difficulties": ["basic"], "quota": 2, "max_rounds": max_rounds},
                       sampling={"max_tokens": 64}, filters=["refusal"], dedup={"exact": True, "near": False},
                       export={"jsonl": True})
    out = tmp_path / f"run{max_rounds}"
    proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out, json.loads((out / "manifest.json").read_text())


def train(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]


def test_top_up_sends_requests_only_for_thin_cells_and_rerun_sends_none(tmp_path):
    leaves = ["征信查询", "提前还款", "信用卡分期"]
    refused = {q.format(leaf="提前还款") for q in ZH_QUESTIONS} | {ZH_QUESTIONS[1].format(leaf="信用卡分期")}
    with topup_server(refused) as server:
        out, manifest = topup_run(tmp_path, server, max_rounds=1)
        asks, answers = per_leaf(server, leaves)
        # round 0: one ask and 2 answers per cell; round 1: only the thin cells, for their shortfall
        assert asks == {"征信查询": 1, "提前还款": 2, "信用卡分期": 2}
        assert answers == {"征信查询": 2, "提前还款": 4, "信用卡分期": 3}
        topup = [b for b in server.requests() if "信用卡分期" in user_text(b) and '"questions"' in user_text(b)][-1]
        assert schema_count(topup) == 1 and "正好 1 个" in user_text(topup)
        assert ZH_QUESTIONS[0].format(leaf="信用卡分期") in user_text(topup)  # the kept question: not again
        sent_before = len(server.requests())
        _, again = topup_run(tmp_path, server, max_rounds=1)
        assert len([b for b in server.requests()[sent_before:] if not is_probe(b)]) == 0
    assert again["coverage"] == manifest["coverage"]
    rows = train(out)
    coverage = manifest["coverage"]
    assert coverage["rows_by_leaf"] == {f"信贷 / {leaf}": sum(r["taxonomy"]["leaf"] == leaf for r in rows)
                                        for leaf in leaves} == {"信贷 / 征信查询": 2, "信贷 / 提前还款": 0, "信贷 / 信用卡分期": 2}
    assert coverage["rows"] == len(rows) == 4 and coverage["quota"] == 6 and coverage["cells"] == 3
    assert coverage["rows_by_task"] == {"qa": len(rows)} and coverage["top_up_rows"] == 2
    assert len(coverage["thin_cells"]) == 1 and "提前还款" in coverage["thin_cells"][0]
    assert coverage["thin_cells"][0].endswith(": 0/2") and coverage["thin_leaves"] == ["信贷 / 提前还款: 0/2"]
    assert sorted(r["round"] for r in rows if r["taxonomy"]["leaf"] == "信用卡分期") == [0, 1]
    assert max(Counter(r["cell"] for r in rows).values()) <= 2  # no cell above its quota
    assert manifest["rows"]["follow_up"] == 2
    assert manifest["stages"][2]["name"] == "filter:refusal" and manifest["stages"][2]["dropped"] == 5
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "thin_cells (1)" in card and "| 信贷 / 征信查询 | 2 |" in card


@pytest.mark.parametrize("max_rounds", [0, 2])
def test_max_rounds_bounds_the_top_ups(tmp_path, max_rounds):
    leaves = ["征信查询", "提前还款", "信用卡分期"]
    with topup_server({q.format(leaf="提前还款") for q in ZH_QUESTIONS}) as server:
        _, manifest = topup_run(tmp_path, server, max_rounds=max_rounds)
        asks, _ = per_leaf(server, leaves)
    assert asks == {"征信查询": 1, "提前还款": 1 + max_rounds, "信用卡分期": 1}
    assert manifest["coverage"]["top_up_rows"] == max_rounds


# -- `synth taxonomy` ------------------------------------------------------------------------------
def tree_server(fail_points_of: str | None = None):
    def reply(kind, body):
        text = user_text(body)
        if is_probe(body):
            return '{"a": 1}'
        n = int(re.search(r"正好 (\d+) 个", text).group(1))
        if '"personas"' in text:
            return json.dumps({"personas": [f"人物{i}：第{i}类客户" for i in range(n)]}, ensure_ascii=False)
        where = re.search(r"当前位置：(.+)", text)
        parent = where.group(1).split(" > ")[-1].strip() if where else "金融"
        if fail_points_of and parent == fail_points_of:
            return "不是 JSON"
        return json.dumps({"items": [f"{parent}-{i}" for i in range(n)]}, ensure_ascii=False)
    return ScriptedServer(reply)


def test_synth_taxonomy_writes_a_tree_the_recipe_loads(tmp_path):
    out = tmp_path / "tree.yaml"
    with tree_server() as server:
        proc = synth_cli("taxonomy", "金融", "--out", str(out), "--topics", "3", "--subtopics", "2", "--points", "4",
                         "--personas", "5", "--base-url", server.base_url, "-q")
        asked = [b for b in server.requests() if not is_probe(b)]
    assert proc.returncode == 0, proc.stderr
    assert len(asked) == 1 + 3 + 3 * 2 + 1
    assert "3 topics, 6 subtopics, 24 knowledge points, 5 personas" in proc.stdout
    tree = load_tree(out)
    assert tree.domain == "金融" and tree.language == "zh" and len(tree.personas) == 5
    assert len(tree.leaves) == 24 and tree.leaves[0] == ("金融-0", "金融-0-0", "金融-0-0-0")
    cells = TaxonomyRecipe({"task_types": ["qa"], "difficulties": ["basic"]}).read_seeds(out)
    assert len(cells) == 24 * 5 and {c["persona"] for c in cells} == set(tree.personas)
    again = synth_cli("taxonomy", "金融", "--out", str(out), "--base-url", server.base_url)
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert load_tree(out).leaves == tree.leaves


def test_synth_taxonomy_leaves_out_a_branch_that_never_parses(tmp_path):
    out = tmp_path / "tree.yaml"
    with tree_server(fail_points_of="金融-1-0") as server:
        proc = synth_cli("taxonomy", "金融", "--out", str(out), "--topics", "2", "--subtopics", "2", "--points", "2",
                         "--personas", "0", "--base-url", server.base_url, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "warning: left out 金融-1 / 金融-1-0" in proc.stderr
    tree = load_tree(out)
    assert len(tree.leaves) == 6 and not any(leaf[1] == "金融-1-0" for leaf in tree.leaves)
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["personas"] == []


def test_synth_taxonomy_two_levels_and_english(tmp_path):
    out = tmp_path / "tree.yaml"

    def reply(kind, body):
        text = user_text(body)
        if is_probe(body):
            return '{"a": 1}'
        n = int(re.search(r"exactly (\d+) items", text).group(1))
        where = re.search(r"Current position: (.+)", text)
        parent = where.group(1).split(" > ")[-1].strip() if where else "root"
        return json.dumps({"items": [f"{parent} {i}" for i in range(n)]})

    with ScriptedServer(reply) as server:
        proc = synth_cli("taxonomy", "clinical medicine", "--out", str(out), "--topics", "2", "--subtopics", "0",
                         "--points", "3", "--personas", "0", "--base-url", server.base_url, "-q")
        asked = [user_text(b) for b in server.requests() if not is_probe(b)]
    assert proc.returncode == 0, proc.stderr
    assert len(asked) == 1 + 2 and all("knowledge points" in t for t in asked[1:])
    tree = load_tree(out)
    assert tree.language == "en" and tree.leaves == [("root 0", f"root 0 {i}") for i in range(3)] + \
        [("root 1", f"root 1 {i}") for i in range(3)]


def test_synth_taxonomy_on_the_embedded_model_writes_a_loadable_tree(tmp_path, llm_server):
    out = tmp_path / "tree.yaml"
    proc = synth_cli("taxonomy", "金融", "--out", str(out), "--topics", "1", "--subtopics", "1", "--points", "2",
                     "--personas", "1", "--max-tokens", "48", "--base-url", llm_server, "-q")
    assert proc.returncode == 0, proc.stderr
    tree = load_tree(out)
    counts = re.search(r"(\d+) topics, (\d+) subtopics, (\d+) knowledge points, (\d+) personas", proc.stdout)
    assert counts and int(counts.group(3)) == len(tree.leaves) > 0 and int(counts.group(4)) == len(tree.personas)
    assert out.read_text(encoding="utf-8").startswith("# Drafted by `synth taxonomy` with smollm2")


# -- the examples on the embedded model ------------------------------------------------------------
def records(out: Path) -> list[dict]:
    return [json.loads(line) for shard in sorted((out / "records").rglob("*.jsonl"))
            for line in shard.read_text(encoding="utf-8").splitlines()]


def test_finance_example_unfiltered_coverage_matches_the_data(tmp_path, llm_server):
    """The zh example without its filters (the toy model's answers would fail them all): coverage is
    recounted from train.jsonl, and no cell holds more rows than its quota."""
    cfg = yaml.safe_load((EXAMPLES / "taxonomy-finance-zh.yaml").read_text(encoding="utf-8"))
    cfg.update(seeds=str(EXAMPLES / cfg["seeds"]), filters=[], export={"jsonl": True})
    cfg["options"]["question_max_tokens"] = 64
    cfg["sampling"]["max_tokens"] = 32
    path = write_config(tmp_path / "c.yaml", **cfg)
    out = tmp_path / "fin"
    proc = synth_cli("run", str(path), "--base-url", llm_server, "--limit", "2", "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    seeds = TaxonomyRecipe(cfg["options"]).read_seeds(EXAMPLES / "seeds/zh/finance-tree.yaml")[:2]
    quota = {c["cell"]: c["quota"] for c in seeds}
    rows = train(out)
    assert rows, "the unfiltered run keeps the toy model's answers"
    coverage = manifest["coverage"]
    assert coverage["cells"] == 2 and coverage["quota"] == sum(quota.values()) and coverage["rows"] == len(rows)
    expected = {" / ".join(c["path"]): 0 for c in seeds}
    for r in rows:
        expected[" / ".join(r["taxonomy"]["path"])] += 1
    assert coverage["rows_by_leaf"] == expected
    assert sum(coverage["rows_by_task"].values()) == len(rows)
    thin = {cid for cid in quota if sum(r["cell"] == cid for r in rows) < quota[cid]}
    assert {t.split(":")[0] for t in coverage["thin_cells"]} == thin
    for cid, n in Counter(r["cell"] for r in rows).items():
        assert n <= quota[cid]
    for r in records(out):
        assert r["recipe"] == "taxonomy" and r["cell"] in quota and r["round"] in (0, 1)
        assert set(r["taxonomy"]) == {"domain", "path", "leaf", "task", "difficulty", "persona", "language"}
        assert r["taxonomy"]["language"] == "zh" and r["taxonomy"]["persona"]
        if not r.get("rejected"):
            assert r["messages"][-1]["content"] == r["response"] and r["messages"][-2]["content"] == r["instruction"]
            assert r["generation"]["model"] and r["generation"]["question_seed"] is not None


def test_medical_example_runs_from_the_markdown_tree(tmp_path, llm_server):
    out = tmp_path / "med"
    proc = synth_cli("run", str(EXAMPLES / "taxonomy-medical-en.yaml"), "--base-url", llm_server, "--limit", "1",
                     "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"]["failed"] == 0 and manifest["coverage"]["cells"] == 1
    assert "## Coverage" in (out / "README.md").read_text(encoding="utf-8")
    rows = records(out)
    assert rows and all(r["taxonomy"]["domain"] == "Clinical medicine" and r["taxonomy"]["language"] == "en"
                        and r["taxonomy"]["path"][0] == "Cardiology" for r in rows)
