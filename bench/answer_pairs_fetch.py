r"""Collect labelled (gold, prediction, equal?) answer pairs from public sources into bench/answer-pairs/.

    .venv/bin/python bench/answer_pairs_fetch.py                      # download the pinned files from GitHub
    .venv/bin/python bench/answer_pairs_fetch.py --mirror-root DIR    # or read them from local git mirrors
                                                                      # (DIR/<owner>+<name>/repo, bare git dirs)

Every file is read at a pinned commit; nothing is tuned or hand-edited here except the label reviews
listed in ``REVIEWED`` (each with the reason) and the assertions left out because they test a format
policy rather than equivalence (``DROPPED``). One JSONL file per source, rows
``{"id", "source", "kind", "gold", "pred", "equal", "label_from", "note"?}``; see
bench/answer-pairs/SOURCES.md for the licences and how each label was derived. Deterministic: the
same commits give the same rows. The repositories listed in ../shared/holdout-sources.md are not used.

``kind`` is one of ``several`` (several answers), ``equation`` (``var = value`` or an equation as the
gold), ``solution_gold`` (a whole solution as the gold), ``option`` (option letter and/or option text),
``prose_<lang>`` (a worded answer in a language), ``plain``.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

OUT = Path(__file__).resolve().parent / "answer-pairs"

# repo -> (commit, licence)
REPOS = {
    "openai/grade-school-math": ("3101c7d5072418e28b9008a6636bde82a006892c", "MIT"),
    "microsoft/ToRA": ("213c1c995038c73fab10343814df7a42f990f026", "MIT"),
    "QwenLM/Qwen2.5-Math": ("a45202bd16f1ec06f433442dc1152d0074773465", "MIT (evaluation/LICENSE)"),
    "OpenBMB/OlympiadBench": ("ba5b26a7e2849940b598a9159c1190daa2b9175f", "MIT"),
    "google-research/url-nlp": ("452a21ad3dae5668c06ceeac21ff073e1e40f9be", "CC BY 4.0 (mgsm/LICENSE)"),
    "willccbb/verifiers": ("39f0675a858fb803f4d910466580cb87f60892fb", "MIT"),
    "huggingface/trl": ("f2cd57710ae345ea6428ae95363267fcf38a3dc8", "Apache-2.0"),
    "NovaSky-AI/SkyRL": ("a9564572eb8e91076be43c1bd5e4615e3de17265", "Apache-2.0"),
    "allenai/open-instruct": ("e6c3044aa6201c8bfa4573c1b03142af599e730d", "Apache-2.0"),
}


class Reader:
    def __init__(self, mirror_root: Path | None):
        self.mirror_root = mirror_root

    def text(self, repo: str, path: str) -> str:
        commit = REPOS[repo][0]
        if self.mirror_root is not None:
            git_dir = self.mirror_root / repo.replace("/", "+") / "repo"
            return subprocess.run(["git", "-C", str(git_dir), "show", f"{commit}:{path}"], check=True,
                                  capture_output=True).stdout.decode("utf-8")
        url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode("utf-8")

    def jsonl(self, repo: str, path: str) -> list[dict]:
        return [json.loads(line) for line in io.StringIO(self.text(repo, path)) if line.strip()]


# --- kinds -------------------------------------------------------------------------------------

_LETTER = re.compile(r"\(?[A-J]\)?[.:)]?")


def _top_level_commas(text: str) -> int:
    depth, count, i = 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and text[i + 1 : i + 2] in ("{", "}"):
            depth += 1 if text[i + 1] == "{" else -1
            i += 2
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0 and not re.match(r",\d{3}(?!\d)", text[i:]):  # 1,000 is one number
            count += 1
        i += 1
    return count


def kind_of(gold: str) -> str:
    """The kind of a short gold answer, from its shape alone."""
    g = gold.strip().strip("$").strip()
    if _LETTER.fullmatch(g) or re.match(r"[A-J][.:)]\s*\S", g):
        return "option"
    if _top_level_commas(g) >= 1 or re.search(r"\\text\{\s*(?:and|or)\s*\}|\\quad", g):
        return "several"
    if "=" in g:
        return "equation"
    return "plain"


# --- sources -----------------------------------------------------------------------------------


def gsm8k_solutions(r: Reader) -> list[dict]:
    """OpenAI's released GSM8K model solutions, each marked is_correct; the gold is the whole reference solution."""
    rows = r.jsonl("openai/grade-school-math", "grade_school_math/data/example_model_solutions.jsonl")
    out = []
    for i, row in enumerate(rows[:60]):
        for model in ("175b_verification", "6b_finetuning"):
            out.append({"id": f"gsm8k-solutions-{i}-{model}", "kind": "solution_gold", "gold": row["ground_truth"],
                        "pred": row[model]["solution"], "equal": bool(row[model]["is_correct"]),
                        "label_from": f"is_correct of {model}"})
    return out


def tora_gsm8k(r: Reader) -> list[dict]:
    """ToRA-Code-34B's GSM8K outputs (program, its output, a sentence); equal = ToRA's pred == gt numerically."""
    rows = r.jsonl("microsoft/ToRA",
                   "src/outputs/llm-agents/tora-code-34b-v1.0/gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl")
    right, wrong = [], []
    for row in rows:
        pred = row["pred"][0]
        try:
            ok = abs(float(str(pred).replace(",", "")) - float(row["gt"])) < 1e-4
        except ValueError:
            ok = False
        item = {"id": f"tora-gsm8k-{row['idx']}", "kind": "plain", "gold": str(row["gt"]), "pred": row["code"][0],
                "equal": ok, "label_from": "ToRA's extracted pred == gt (as its evaluate.py scores GSM8K)"}
        (right if ok else wrong).append(item)
    return wrong[:30] + right[:30]


def qwen_math_cot(r: Reader) -> list[dict]:
    """Qwen2.5-Math-Instruct's sampled MATH solutions (8 per problem) with the score of Qwen's grader."""
    rows = r.jsonl("QwenLM/Qwen2.5-Math", "evaluation/data/eval_rm_maj_example/math_cot_100.jsonl")
    out = []
    for row in rows:
        seen = set()
        for j, (response, pred, score) in enumerate(zip(row["code"], row["pred"], row["score"])):
            if (pred, score) in seen:
                continue
            seen.add((pred, score))
            out.append({"id": f"qwen-math-cot-{row['idx']}-{j}", "kind": kind_of(row["gt"]), "gold": row["gt"],
                        "pred": response, "equal": bool(score), "label_from": "score (Qwen2.5-Math grader)"})
    return out


def olympiad_judge(r: Reader) -> list[dict]:
    """OlympiadBench's own judge examples: GT, answers, equal (some with a stated numeric precision)."""
    data = json.loads(r.text("OpenBMB/OlympiadBench", "eval/scoring_examples.json"))
    out = []
    for i, theme in enumerate(data):
        for j, ans in enumerate(theme["Ans"]):
            row = {"id": f"olympiad-judge-{i}-{j}", "kind": kind_of(theme["GT"]), "gold": theme["GT"],
                   "pred": ans["answer"], "equal": bool(ans["equal"]), "label_from": "equal (OlympiadBench)"}
            if "precision" in ans:
                row["note"] = f"labelled under a relative precision of {ans['precision']}"
            out.append(row)
    return out


def _split_answers(text: str) -> list[str]:
    """Top-level comma items of a final answer (brackets and $...$ respected)."""
    items, depth, start, dollar = [], 0, 0, False
    for i, ch in enumerate(text):
        if ch == "$":
            dollar = not dollar
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [s.strip().strip("$").strip() for s in items if s.strip().strip("$").strip()]


def olympiad_multi(r: Reader) -> list[dict]:
    """OlympiadBench problems with several answers (``is_multiple_answer``), via Qwen2.5-Math's copy.

    Answers in words ("…, where $b$ is an arbitrary integer") are not several answers and are skipped.
    Derived pairs (the transforms are the only text written here): the answers in reverse order,
    each in its own box, joined by "and" (equal: OlympiadBench scores multiple answers as a set);
    the first answer alone (different: partial); the next problem's answers (different).
    """
    rows = r.jsonl("QwenLM/Qwen2.5-Math", "evaluation/data/olympiadbench/test.jsonl")
    multi = []
    for row in rows:
        if not row.get("is_multiple_answer"):
            continue
        items = _split_answers(",".join(row["final_answer"]))
        prose = any(re.search(r"[A-Za-z]{4,}", re.sub(r"\$[^$]*\$|\\[A-Za-z]+", "", s)) for s in row["final_answer"])
        if 2 <= len(items) <= 6 and all(len(s) < 60 for s in items) and not prose:
            multi.append((row["id"], items))
    out = []
    for n, (pid, items) in enumerate(multi[:30]):
        gold = ", ".join(items)
        boxes = " and ".join(rf"\boxed{{{s}}}" for s in reversed(items))
        other = multi[(n + 1) % len(multi)][1]
        out.append({"id": f"olympiad-multi-{pid}-all", "kind": "several", "gold": gold,
                    "pred": f"The answers are {boxes}.", "equal": True, "label_from": "derived: same answers, reordered"})
        out.append({"id": f"olympiad-multi-{pid}-first", "kind": "several", "gold": gold,
                    "pred": rf"The answer is \boxed{{{items[0]}}}.", "equal": False,
                    "label_from": "derived: one of several answers"})
        if sorted(other) != sorted(items):
            out.append({"id": f"olympiad-multi-{pid}-other", "kind": "several", "gold": gold,
                        "pred": " and ".join(rf"\boxed{{{s}}}" for s in other), "equal": False,
                        "label_from": "derived: another problem's answers"})
    return out


def olympiad_equations(r: Reader) -> list[dict]:
    """OlympiadBench problems whose one final answer is ``name = value`` (``k=1``, ``f(x)=2 x``).

    Derived pairs: the value alone, boxed (equal: OlympiadBench's judge counts ``x=1`` and ``1`` equal,
    see its scoring_examples.json); the same name set to the next such problem's value (different).
    """
    rows = r.jsonl("QwenLM/Qwen2.5-Math", "evaluation/data/olympiadbench/test.jsonl")
    eqs = []
    for row in rows:
        if row.get("is_multiple_answer") or len(row["final_answer"]) != 1:
            continue
        answer = row["final_answer"][0].strip().strip("$").strip()
        m = re.fullmatch(r"([A-Za-z](?:_\{?\w+\}?)?(?:\([a-z]\))?)\s*=\s*([^=,]+)", answer)
        if m and len(answer) < 60:
            eqs.append((row["id"], answer, m.group(1), m.group(2).strip()))
    out = []
    for n, (pid, answer, name, value) in enumerate(eqs[:20]):
        other = next(v for _, _, _, v in eqs[n + 1 :] + eqs[:n] if v.replace(" ", "") != value.replace(" ", ""))
        out.append({"id": f"olympiad-eq-{pid}-value", "kind": "equation", "gold": answer,
                    "pred": rf"\boxed{{{value}}}", "equal": True, "label_from": "derived: the value alone"})
        out.append({"id": f"olympiad-eq-{pid}-other", "kind": "equation", "gold": answer,
                    "pred": rf"\boxed{{{name} = {other}}}", "equal": False,
                    "label_from": "derived: another problem's value"})
    return out


def mgsm_exemplars(r: Reader) -> list[dict]:
    """MGSM's human-translated chain-of-thought exemplars: each worded solution vs its own number and the next one's."""
    source = r.text("google-research/url-nlp", "mgsm/exemplars.py")
    tree = ast.parse(source)
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("EXEMPLAR_NUMBER_ANSWERS", "MGSM_EXEMPLARS"):
                values[name] = ast.literal_eval(node.value)
    answers = values["EXEMPLAR_NUMBER_ANSWERS"]
    out = []
    for lang in ("en", "fr", "de", "es", "zh", "ru", "ja"):
        exemplars = values["MGSM_EXEMPLARS"][lang]
        for k in sorted(exemplars, key=int):
            i = int(k) - 1
            text = exemplars[k]["a"]
            out.append({"id": f"mgsm-{lang}-{k}", "kind": f"prose_{lang}", "gold": str(answers[i]), "pred": text,
                        "equal": True, "label_from": "EXEMPLAR_NUMBER_ANSWERS"})
            other = next(a for a in answers[i + 1 :] + answers[:i] if a != answers[i])
            out.append({"id": f"mgsm-{lang}-{k}-other", "kind": f"prose_{lang}", "gold": str(other), "pred": text,
                        "equal": False, "label_from": "derived: another exemplar's number"})
    return out


def _options_pairs(prefix: str, options: dict[str, str], correct: str, n: int) -> list[dict]:
    """gold option (letter + text) vs letters, and gold letter vs options written out."""
    letters = sorted(options)
    wrong = letters[(letters.index(correct) + 1) % len(letters)]
    full, other = options[correct], options[wrong]
    return [
        {"id": f"{prefix}-{n}-text-letter", "kind": "option", "gold": full, "pred": correct, "equal": True},
        {"id": f"{prefix}-{n}-text-wrongletter", "kind": "option", "gold": full, "pred": wrong, "equal": False},
        {"id": f"{prefix}-{n}-letter-text", "kind": "option", "gold": correct, "pred": full, "equal": True},
        {"id": f"{prefix}-{n}-letter-wrongtext", "kind": "option", "gold": correct, "pred": other, "equal": False},
    ]


def options(r: Reader) -> list[dict]:
    """Multiple-choice answer keys as the datasets store them (AQuA ``A)21``, SAT ``A) $f(-6)=0$``, gaokao ``C. …``)."""
    out = []
    for n, row in enumerate(r.jsonl("QwenLM/Qwen2.5-Math", "evaluation/data/aqua/test.jsonl")[:10]):
        opts = {o[0]: o for o in row["options"]}
        out += _options_pairs("aqua", opts, row["correct"], n)
    for n, row in enumerate(r.jsonl("QwenLM/Qwen2.5-Math", "evaluation/data/sat_math/test.jsonl")[:10]):
        parts = re.split(r"\s(?=[A-D]\)\s)", " " + row["options"])
        opts = {p.strip()[0]: p.strip() for p in parts if p.strip()}
        out += _options_pairs("sat", opts, row["Answer"], n)
    gaokao = [row for row in r.jsonl("QwenLM/Qwen2.5-Math", "evaluation/data/gaokao2024_mix/test.jsonl")
              if row.get("choice_answer") and re.match(r"[A-D]\.\s*\S", row["answer"])]
    for n, row in enumerate(gaokao):
        letter = row["choice_answer"]
        wrong = "ABCD"[("ABCD".index(letter) + 1) % 4]
        out += [
            {"id": f"gaokao-{n}-text-letter", "kind": "option", "gold": row["answer"], "pred": letter, "equal": True},
            {"id": f"gaokao-{n}-text-wrongletter", "kind": "option", "gold": row["answer"], "pred": wrong,
             "equal": False},
            {"id": f"gaokao-{n}-letter-text", "kind": "option", "gold": letter, "pred": row["answer"], "equal": True},
        ]
    for row in out:
        row["label_from"] = "the dataset's answer key (letter and option text)"
    return out


def verifiers_math(r: Reader) -> list[dict]:
    """GPT-4.1-mini / GPT-5-nano answers to math problems in verifiers' math_python environment, with the reward."""
    paths = [
        "environments/math_python/outputs/evals/math-python--gpt-4.1-mini/578769a7/results.jsonl",
        "environments/math_python/outputs/evals/math-python--gpt-4.1-mini/dbaac595/results.jsonl",
        "environments/math_python/outputs/evals/math-python--gpt-5-nano/cb7a1799/results.jsonl",
    ]
    out = []
    for path in paths:
        run = path.split("/")[-2]
        for row in r.jsonl("willccbb/verifiers", path):
            final = next((m["content"] for m in reversed(row["completion"])
                          if m.get("role") == "assistant" and m.get("content")), "")
            if not final:
                continue
            out.append({"id": f"verifiers-{run}-{row['id']}", "kind": kind_of(str(row["answer"])),
                        "gold": str(row["answer"]), "pred": final, "equal": float(row["reward"]) > 0,
                        "label_from": "reward (verifiers math rubric)"})
    return out


def _check_literals(r: Reader, repo: str, path: str, pairs: list[tuple]) -> None:
    text = r.text(repo, path)
    for pair in pairs:
        for s in pair[:2]:
            if s not in text and json.dumps(s)[1:-1] not in text and s.replace("\\", "\\\\") not in text:
                raise SystemExit(f"{repo}:{path}: literal not found at the pinned commit: {s!r}")


def test_suites(r: Reader) -> list[dict]:
    """Assertions of equivalence in reward-function test suites (format-policy assertions left out, see DROPPED)."""
    out = []
    # SkyRL skyrl-gym: parametrize lists (output, ground_truth, expected).
    for path in ("skyrl-gym/tests/test_aime.py", "skyrl-gym/tests/test_gsm8k.py"):
        tree = ast.parse(r.text("NovaSky-AI/SkyRL", path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize":
                for k, (output, gold, expected) in enumerate(ast.literal_eval(node.args[1])):
                    if (output, gold) in DROPPED:
                        continue
                    out.append({"id": f"skyrl-{Path(path).stem}-{k}", "kind": kind_of(gold), "gold": gold,
                                "pred": output, "equal": expected > 0, "label_from": f"expected reward in {path}"})
    # TRL tests/test_rewards.py: (completion, solution, reward) of accuracy_reward / reasoning_accuracy_reward.
    trl = [
        (r"\boxed{\frac{63}{400}}", r"\frac{63}{400}", True),
        (r"\boxed{\frac{63}{400}}", "63/400", True),
        (r"\boxed{\frac{64}{400}}", r"\frac{63}{400}", False),
        (r"\boxed{3}", "6", False),
        (r"\boxed{\frac{1}{3}}", r"\frac{1}{3}", True),
        (r"<think> Reasoning content </think> \boxed{\frac{63}{400}}", r"\frac{63}{400}", True),
        (r"Reasoning content </think> \boxed{\frac{63}{400}}", r"\frac{63}{400}", True),
        (r"<think> Reasoning content </think> \boxed{\frac{64}{400}}", r"\frac{63}{400}", False),
        (r"<think> My answer is \boxed{42} </think> Some other text.", r"\boxed{42}", False),
        (r"<think> The answer is \boxed{42} </think> Here's a wrong answer: \boxed{43}.", r"\boxed{42}", False),
        (r"<think> Incomplete reasoning without closing tag", r"\frac{63}{400}", False),
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{3}", False),
    ]
    _check_literals(r, "huggingface/trl", "tests/test_rewards.py", trl)
    for k, (pred, gold, equal) in enumerate(trl):
        out.append({"id": f"trl-{k}", "kind": kind_of(gold), "gold": gold, "pred": pred, "equal": equal,
                    "label_from": "asserted reward in tests/test_rewards.py"})
    # open-instruct: GSM8KVerifier signed-number cases.
    oi = [
        ("Therefore the answer is -3", "-3", True),
        ("Therefore the answer is +7", "+7", True),
        ("Final answer: -3.5", "-3.5", True),
        ("Therefore the answer is 3", "-3", False),
    ]
    _check_literals(r, "allenai/open-instruct", "open_instruct/test_ground_truth_utils.py", oi)
    for k, (pred, gold, equal) in enumerate(oi):
        out.append({"id": f"open-instruct-{k}", "kind": "plain", "gold": gold, "pred": pred, "equal": equal,
                    "label_from": "expected score in open_instruct/test_ground_truth_utils.py"})
    return out


# Assertions about a format policy, not equivalence (strict string match, required "####", EOS tokens).
DROPPED = {
    ("Answer: \\boxed{0.5}", "\\frac{1}{2}"),  # SkyRL aime: string match by design; 0.5 = 1/2
    ("Answer: \\boxed{\\text{forty-two}}", "42"),  # SkyRL aime: spelled-out number, a policy
    ("<|im_start|>Answer: \\boxed{42}im_end|>", "42"),  # SkyRL aime: malformed EOS token policy
    ("Answer: \\boxed{42}|eot_id|>", "42"),
    ("The answer is 42", "42"),  # SkyRL gsm8k: requires "####"
}

# Labels changed after review (every pair where a checker and the source disagreed was read): id -> (label, why).
REVIEWED: dict[str, tuple[bool, str]] = {
    "qwen-math-cot-72-7": (True, "the response's boxed 10000 is the gold 10{,}000 (70,000 / 7); the grader "
                                 "that scored it does not read {,} as a thousands separator"),
}

SOURCES = {
    "gsm8k_solutions": ("openai/grade-school-math", gsm8k_solutions),
    "tora_gsm8k": ("microsoft/ToRA", tora_gsm8k),
    "qwen_math_cot": ("QwenLM/Qwen2.5-Math", qwen_math_cot),
    "olympiad_judge": ("OpenBMB/OlympiadBench", olympiad_judge),
    "olympiad_multi": ("QwenLM/Qwen2.5-Math", olympiad_multi),
    "olympiad_equations": ("QwenLM/Qwen2.5-Math", olympiad_equations),
    "mgsm_exemplars": ("google-research/url-nlp", mgsm_exemplars),
    "options": ("QwenLM/Qwen2.5-Math", options),
    "verifiers_math": ("willccbb/verifiers", verifiers_math),
    "test_suites": ("NovaSky-AI/SkyRL, huggingface/trl, allenai/open-instruct", test_suites),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirror-root", type=Path, help="read <owner>+<name>/repo git dirs here instead of GitHub")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    reader = Reader(args.mirror_root)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, (repo, build) in SOURCES.items():
        rows = build(reader)
        with open(args.out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                row = {"id": row["id"], "source": repo, **{k: v for k, v in row.items() if k != "id"}}
                if row["id"] in REVIEWED:
                    new, reason = REVIEWED[row["id"]]
                    row["note"] = f"label reviewed: source said {row['equal']}; {reason}"
                    row["equal"] = new
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        total += len(rows)
        print(f"{name:16} {len(rows):4} pairs  ({repo})", file=sys.stderr)
    print(f"{'total':16} {total:4} pairs", file=sys.stderr)


if __name__ == "__main__":
    main()
