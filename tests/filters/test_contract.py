"""The filter contract: options validated up front (one line, exit 2), scores kept on records, plugins found."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from synth import plugins
from synth.errors import ConfigError, PluginError
from synth.filter import Filter, make_filter, row_shape
from synth.stages import FilterStage, run_stages
from tests.conftest import cli_in_process, synth_cli, write_config, write_jsonl


def chat(question: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


cli = cli_in_process


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize("name,options,needle", [
    ("length", {"min_unit": 3}, "filter 'length': bad options: min_unit: unknown key"),
    ("length", {"min_units": "three"}, "filter 'length': bad options: min_units: Input should be a valid integer"),
    ("judge", {"threshold": 11}, "threshold 11.0 is outside the 1-10 scale"),
    ("judge", {"scale": "1-5"}, "scale: Input should be '1-10' or 'pass-fail'"),
    ("truncation", {"text_checks": "sometimes"}, "text_checks: Input should be 'auto', 'always' or 'never'"),
    ("refusal", {"phrases": ["(unclosed"]}, "phrases: '(unclosed' is not a regular expression"),
    ("blocklist", {}, "give path (a blocklist file) or terms"),
    ("blocklist", {"path": "missing.txt"}, "missing.txt not found"),
    ("lang-match", {"exempt": "[bad"}, "exempt: not a regular expression"),
])
def test_bad_options_are_one_config_error(name, options, needle):
    with pytest.raises(ConfigError) as info:
        make_filter(name, options)
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_unknown_filter_names_the_choices():
    with pytest.raises(PluginError, match=r"unknown filter 'lenght': choose one of .*length.*truncation"):
        make_filter("lenght")


def test_run_stops_on_a_bad_filter_before_the_engine_starts(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "Say hi."}])
    # the server does not exist: had the engine been started first, the error would name it instead
    cfg = write_config(tmp_path / "run.yaml", name="bad", recipe="instruct", seeds="seeds.jsonl",
                       engine={"base_url": "http://127.0.0.1:9/v1", "model": "m"},
                       filters=["truncation", {"name": "judge", "treshold": 7}])
    proc = synth_cli("run", str(cfg))
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stderr)
    assert "filter 'judge': bad options: treshold: unknown key" in line
    assert not Path("runs").exists()


def test_synth_filter_bad_specs_are_one_line(tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", [chat("Q?", "An answer.")])
    for spec, needle in [("length:min_units", "'min_units' is not key=value"),
                         ("length:min_units=x", "min_units: Input should be a valid integer"),
                         ("nope", "unknown filter 'nope'"),
                         ("judge:{threshold: [", "options are not a YAML mapping")]:
        code, _, err = cli(capsys, "filter", "in.jsonl", "--out", "out.jsonl", "--filter", spec)
        assert code == 2 and needle in one_error_line(err), (spec, err)
    assert not Path("out.jsonl").exists() and not Path("out.rejected.jsonl").exists()


def test_scores_are_kept_with_the_same_keys_on_every_record():
    records = [chat("什么是指数基金？", "指数基金是跟踪某个市场指数的基金。"), chat("What is an ETF?", "An exchange-traded fund."),
               chat("Q", ""), {**chat("Q", "Fine answer here."), "scores": {"reward": 0.5}}]
    stages = [FilterStage(make_filter("length")), FilterStage(make_filter("lang-match", {"language": "zh"}))]
    kept, rejected, reports = run_stages(stages, records)
    every = kept + [r["record"] for r in rejected]
    # 16 Han characters + "。" = 17 units; kept first, then the rejects in stage order
    assert [r["scores"]["length"] for r in every] == [17, 0, 3, 3]
    assert {tuple(sorted(r["scores"])) for r in kept} == {("language", "length")}
    assert [r["reason"] for r in rejected] == ["length_empty", "lang_match_en_not_zh", "lang_match_en_not_zh"]
    assert kept[0]["scores"]["language"] == "zh"
    assert {r["record"]["scores"].get("reward") for r in rejected} == {None, 0.5}  # earlier scores survive
    length = reports[0].as_dict()["scores"]["length"]
    assert (length["n"], length["min"], length["max"]) == (4, 0, 17)
    assert reports[1].as_dict()["scores"]["language"]["counts"] == {"en": 2, "zh": 1}


def test_a_class_that_is_not_a_filter_is_refused(tmp_path, monkeypatch):
    """One filter contract: a plain class with a `filter` method and keyword options is not loaded."""
    (tmp_path / "plain_filter.py").write_text(textwrap.dedent('''
        class Shout:
            name = "shout"
            def __init__(self, limit=3):
                self.limit = limit
            def filter(self, record):
                return True
    '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="filter 'plain_filter:Shout' is not a synth.filter.Filter"):
        make_filter("plain_filter:Shout", {"limit": 1})


def test_a_third_party_filter_package_is_discovered_and_runs(tmp_path):
    """A package installed the way pip installs one (module + dist-info with entry points) on the path."""
    site = tmp_path / "site"
    (site / "acme_filters").mkdir(parents=True)
    (site / "acme_filters" / "__init__.py").write_text(textwrap.dedent('''
        from synth.filter import Decision, Filter, FilterOptions, option

        class NoExclamationOptions(FilterOptions):
            most: int = option(0, "exclamation marks allowed", ge=0, source="acme style guide")

        class NoExclamation(Filter):
            name = "no-exclamation"
            description = "Drop answers with too many exclamation marks."
            Options = NoExclamationOptions
            score_names = ("exclamations",)

            def filter(self, record):
                n = self.answer(record).count("!")
                return Decision(n <= self.options.most, "no_exclamation_too_many", {"exclamations": n})
    '''), encoding="utf-8")
    info = site / "acme_filters-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-filters\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[synth.filters]\nno-exclamation = acme_filters:NoExclamation\n",
                                           encoding="utf-8")
    write_jsonl(tmp_path / "in.jsonl", [chat("Q", "Fine."), chat("Q", "Wow!"), chat("Q", "Yes!!")])
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listing = synth_cli("filters", env=env)
    assert "no-exclamation" in listing.stdout and "Drop answers with too many exclamation marks." in listing.stdout
    detail = synth_cli("filters", "no-exclamation", env=env)
    assert "most (int) = 0  [acme style guide]" in detail.stdout
    proc = synth_cli("filter", "in.jsonl", "--out", "out.jsonl", "--filter", "no-exclamation:most=1", env=env)
    assert proc.returncode == 0, proc.stderr
    kept = [json.loads(line) for line in Path("out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["scores"]["exclamations"] for r in kept] == [0, 1]
    rejected = [json.loads(line) for line in Path("out.rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["stage"], r["reason"]) for r in rejected] == [("filter:no-exclamation", "no_exclamation_too_many")]


def test_filters_listing_and_detail(capsys):
    code, out, _ = cli(capsys, "filters")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == sorted(plugins.available(plugins.FILTERS))
    assert {"truncation", "template-leak", "judge", "final-answer", "blocklist", "lang-match"} <= set(names)
    code, out, _ = cli(capsys, "filters", "refusal")
    assert code == 0
    assert "max_words (int) = 80  [Evol-Instruct (sorry and fewer than 80 words)]" in out
    assert "reasons: refusal_opening, refusal_short_answer, refusal_ai_disclaimer" in out
    code, out, _ = cli(capsys, "filters", "judge")
    assert "threshold (float | None) = None" in out and "asks a model" in out


def test_row_shapes():
    assert row_shape(chat("q", "a")) == "messages"
    assert row_shape({"instruction": "i", "input": "", "output": "o"}) == "instruction/output"
    assert row_shape({"prompt": "p", "completion": "c"}) == "prompt/completion"
    assert row_shape({"question": "q", "answer": "a"}) == "question/answer"
    assert row_shape({"text": "t"}) is None


def test_filter_options_default_to_their_documented_values():
    for name in plugins.available(plugins.FILTERS):
        cls = plugins.load(plugins.FILTERS, name)
        assert issubclass(cls, Filter) and cls.description and cls.reasons, name
        for key, info in cls.Options.model_fields.items():
            assert info.description, (name, key)  # `synth filters NAME` shows every option with its meaning


def test_the_docs_example_filter_runs(tmp_path, monkeypatch):
    """docs/filters.md's "Writing a filter" code is real: loaded by module path, validated, scoring."""
    import re

    from tests.conftest import REPO

    docs = (REPO / "docs" / "filters.md").read_text(encoding="utf-8")
    code = re.search(r"## Writing a filter\n\n```python\n(.*?)```", docs, re.S).group(1)
    (tmp_path / "emoji_filter.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    flt = make_filter("emoji_filter:MaxEmoji", {"most": 1})
    kept, rejected, reports = run_stages([FilterStage(flt)], [chat("Q", "Great 🎉"), chat("Q", "🎉🎉 好 🎉")])
    assert [r["scores"]["emoji"] for r in kept] == [1] and rejected[0]["reason"] == "max_emoji_too_many"
    with pytest.raises(ConfigError, match="most: Input should be greater than or equal to 0"):
        make_filter("emoji_filter:MaxEmoji", {"most": -1})
