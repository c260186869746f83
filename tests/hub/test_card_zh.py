"""`card: {language: zh}`: the dataset card's prose in Chinese, with the same metadata and numbers as the
English card of the same run, also when pushed; an unknown language is refused in one line."""

from __future__ import annotations

import re

import yaml

from tests.conftest import synth_cli, write_config
from tests.hub.conftest import make_run
from tests.hub.test_ms_push import ms  # noqa: F401 - the stand-in ModelScope fixture


def _parts(card: str) -> tuple[dict, str]:
    _, front, body = card.split("---\n", 2)
    return yaml.safe_load(front), body


def _funnel(body: str) -> list[tuple[str, ...]]:
    return re.findall(r"^\| ([\w:-]+) \| (\d+) \| (\d+) \| (\d+) \|", body, re.M)


def test_the_chinese_card_has_the_english_cards_metadata_and_numbers(tmp_path):
    en_run = make_run(tmp_path / "en")  # both made here, by the same code, from the same scripted answers
    zh_run = make_run(tmp_path / "zh", extra={"card": {"language": "zh"}})
    en_meta, en_body = _parts((en_run / "README.md").read_text(encoding="utf-8"))
    zh_meta, zh_body = _parts((zh_run / "README.md").read_text(encoding="utf-8"))
    assert zh_meta == en_meta, "the Hub metadata does not depend on the prose language"
    for heading in ("## 子集与划分", "## 加载方式", "## 来源与出处", "## 生成过程", "## 统计", "### 去重", "## 样例", "## 字段"):
        assert heading in zh_body, heading
    assert "## Subsets and splits" not in zh_body and "Provenance" not in zh_body
    assert _funnel(zh_body) == _funnel(en_body) and _funnel(zh_body)
    assert "保留的记录" in zh_body and "划分按种子行抽取" in zh_body and "许可证：cc-by-4.0" in zh_body
    rows = re.findall(r"^\| `([\w-]+)` \| [^|]+ \| (\w+) \| (\d+) \|$", zh_body, re.M)
    assert rows == re.findall(r"^\| `([\w-]+)` \| [^|]+ \| (\w+) \| (\d+) \|$", en_body, re.M) and rows
    assert 'load_dataset("' in zh_body
    assert "card:\n  language: zh" in (zh_run / "config.yaml").read_text(encoding="utf-8")


def test_an_unknown_card_language_is_one_line(tmp_path):
    (tmp_path / "seeds.jsonl").write_text('{"instruction": "hi"}\n', encoding="utf-8")
    cfg = write_config(tmp_path / "run.yaml", name="x", recipe="instruct", seeds="seeds.jsonl", card={"language": "fr"})
    proc = synth_cli("run", str(cfg), "--dry-run")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "card.language" in proc.stderr


def test_a_pushed_chinese_card_stays_chinese(tmp_path, capsys, ms):
    from tests.conftest import cli_in_process
    from tests.hub.conftest import PROBLEMS

    zh_run = make_run(tmp_path, problems=PROBLEMS[4:], extra={"card": {"language": "zh"},
                                                             "export": {"formats": ["messages"]}})
    code, _, err = cli_in_process(capsys, "push", str(zh_run), "--to", "modelscope", "--repo-id", "acme/zh")
    assert code == 0, err
    card = ms.files("acme/zh")["README.md"].decode()
    assert "## 加载方式" in card and 'MsDataset.load("acme/zh", subset_name="messages", split="train")' in card
    assert "## 来源与出处" in card
