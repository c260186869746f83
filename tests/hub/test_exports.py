"""Exports load in today's trainers (TRL's own data code), the OpenRLHF PRM shape, and `synth export`."""

from __future__ import annotations

import importlib.util
import json

import pytest

from synth.recipes._records import STEP_TAG, to_dpo, to_openrlhf_prm
from tests.conftest import synth_cli

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tokenizer(texts: list[str]):
    """A real transformers fast tokenizer (word level, built offline) with a ChatML chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for t in texts for w in t.split()} - {STEP_TAG, "+", "-"})
    vocab = {"[UNK]": 0, STEP_TAG: 1, "+": 2, "-": 3, **{w: i + 4 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[UNK]")
    fast.chat_template = CHATML
    return fast


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


STEPS_EN = {"problem": "Tom has 3 boxes of 4 pencils and gives away 5. How many are left?",
            "steps": [{"text": "3 x 4 = 12 pencils.", "label": 1}, {"text": "12 - 5 = 8 pencils.", "label": -1},
                      {"text": "The answer is 8.", "label": -1}]}
STEPS_ZH = {"problem": "小明有12个苹果，给了小红5个。还剩几个？", "correct": True,
            "steps": [{"text": "12 - 5 = 7", "label": None}, {"text": "答案是 7", "label": None}]}


@pytest.mark.parametrize("record, tags, labels", [(STEPS_EN, 2, ["+", "-"]), (STEPS_ZH, 2, ["+", "+"])])
def test_openrlhf_prm_puts_one_tag_per_label(record, tags, labels):
    """OpenRLHF puts label i on the i-th step tag: one tag per label, cut after the first wrong step."""
    row = to_openrlhf_prm(record)
    assert row["input"].startswith(record["problem"]) and row["input"].count(STEP_TAG) == tags
    assert row["label"] == labels
    assert row["input"].rstrip().endswith(STEP_TAG)


def test_openrlhf_prm_skips_text_that_already_holds_the_tag_and_unlabelled_wrong_solutions():
    assert to_openrlhf_prm({**STEPS_EN, "problem": f"what is {STEP_TAG}?"}) is None
    assert to_openrlhf_prm({**STEPS_ZH, "correct": False}) is None


TRAINERS_ABSENT = importlib.util.find_spec("trl") is None


@pytest.mark.trainers
@pytest.mark.skipif(TRAINERS_ABSENT, reason="TRL is not installed: the trainer checks need the `trainers` extra "
                    "(pip install -e '.[trainers]', CPU torch first: README, Development)")
def test_sft_and_dpo_rows_go_through_trl_data_utils(maths_run):
    """TRL 1.16's own helpers (what SFTTrainer / DPOTrainer run on a dataset) accept the exported rows."""
    from datasets import load_dataset
    from trl.data_utils import apply_chat_template, is_conversational, maybe_extract_prompt

    sft = load_dataset(str(maths_run), "messages", split="train")
    dpo = [to_dpo({"correct": True, "messages": [{"role": "user", "content": p},
                                                 {"role": "assistant", "content": "答案是 7"}],
                   "rejected_solutions": [{"solution": "答案是 8"}]}) for p in ("12 - 5 = ?", "What is 12 - 5?")]
    tok = tokenizer([m["content"] for row in sft for m in row["messages"]] + ["答案是 7", "答案是 8"])
    for row in sft:
        assert is_conversational(row)
        text = apply_chat_template(row, tok)["text"]
        assert text.count("<|im_start|>") == len(row["messages"]) and row["messages"][-1]["content"] in text
    for row in dpo:
        assert is_conversational(row)
        out = apply_chat_template(maybe_extract_prompt(row), tok)
        assert out["prompt"].endswith("<|im_start|>assistant\n") and out["chosen"].startswith("答案是 7")
        assert out["rejected"].startswith("答案是 8")


def test_synth_export_writes_any_format_after_the_fact(maths_run, tmp_path):
    out = tmp_path / "prm.jsonl"
    proc = synth_cli("export", str(maths_run), "--format", "openrlhf_prm", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = read_jsonl(out)
    assert sorted(map(json.dumps, rows)) == sorted(map(json.dumps, read_jsonl(maths_run / "exports" / "openrlhf_prm.jsonl")))
    proc = synth_cli("export", str(maths_run), "--format", "sharegpt", "--out", str(tmp_path / "chat.jsonl"),
                     "--split", "test")
    assert proc.returncode == 0, proc.stderr
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["chat"]["file_name"] == "chat.jsonl" and info["chat"]["formatting"] == "sharegpt"
    assert len(read_jsonl(tmp_path / "chat.jsonl")) == json.loads((maths_run / "manifest.json").read_text())[
        "dataset"]["subsets"]["messages"]["splits"]["test"]["rows"]


@pytest.mark.parametrize("args, message", [(["--format", "nope", "--out", "x.jsonl"], "--format 'nope': recipe"),
                                           (["--format", "dpo", "--out", "x.csv"], "name a .jsonl or .parquet"),
                                           (["--format", "dpo", "--out", "x.jsonl", "--split", "dev"], "--split 'dev'")])
def test_synth_export_bad_arguments_are_one_line(maths_run, tmp_path, args, message):
    proc = synth_cli("export", str(maths_run), *args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("x.*"))
