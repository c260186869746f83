"""The README's plugin example is real code; CI runs its commands verbatim, and the vLLM and trainer tests;
every measured figure in it is a cited row of bench/RESULTS.md."""

from __future__ import annotations

import json
import re
import subprocess

from tests.conftest import REPO, synth_cli, write_config, write_jsonl


def test_readme_plugin_recipe_runs(tmp_path, llm_server):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(# my_pkg/recipe.py\n.*?)```", readme, re.S).group(1)
    (tmp_path / "my_pkg").mkdir()
    (tmp_path / "my_pkg" / "__init__.py").write_text("")
    (tmp_path / "my_pkg" / "recipe.py").write_text(code)
    write_jsonl(tmp_path / "docs.jsonl", [{"text": "The river floods every spring."}])
    cfg = write_config(tmp_path / "c.yaml", name="plug", recipe="my_pkg.recipe:Summarise", seeds="docs.jsonl",
                       sampling={"max_tokens": 16}, dedup=None)
    proc = synth_cli("run", str(cfg), "--base-url", llm_server, "-q", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "runs" / "plug" / "manifest.json").read_text())
    assert manifest["recipe"]["name"] == "summarise" and manifest["outputs"]["records"] == 1


def test_ci_runs_the_readme_commands_verbatim():
    """CI installs exactly as the README says: the two quickstart commands are the same text."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quickstart, re.S)[:2]
    assert len(commands) == 2 and "pip install" in commands[0] and "pytest" in commands[1]
    for command in commands:
        assert command in ci.splitlines(), f"README command not run verbatim by .ci/run: {command}"
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in commands[0] and "--no-cache-dir" in commands[0]


# A measured figure: a number (or range) with a unit of time, size, rate or ratio. Inline code and code
# blocks are left out (`10.5%`, `torch==2.13.0`); settings without such a unit (5–60 s, 99 %) are not figures.
FIGURE = re.compile(r"(?<![\w./-])(\d[\d,]*(?:\.\d+)?)(?:\s?[–-]\s?(\d[\d,]*(?:\.\d+)?))?\s?"
                    r"(?:×|x\b|ms\b|MB\b|GB\b|bytes\b|minutes?\b|seconds?\b|docs/s|requests/s|tokens/s|pairs/s)")
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def _blocks(text: str) -> list[tuple[str, str]]:
    """(block, its caption) for the paragraphs and table rows of the README's prose, code blocks and
    inline code removed; a table row's caption is the paragraph just before its table."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "``", text)
    blocks, caption = [], ""
    for para in re.split(r"\n\s*\n", text):
        lines = para.splitlines()
        rest = "\n".join(line for line in lines if not line.startswith("|"))
        if rest.strip():
            blocks.append((rest, ""))
            caption = rest
        blocks.extend((line, caption) for line in lines if line.startswith("|"))
    return blocks


def _ratio_in(number: str, results: str) -> bool:
    """`number` is a ratio in RESULTS.md: followed by x/× (alone or ending a range), or a table cell of its own."""
    n = re.escape(number)
    return bool(re.search(rf"(?<![\w.]){n}\s?[×x](?!\w)|(?<![\w.]){n}\s?[–-]\s?[\d.]+\s?[×x]|[\d.]+\s?[–-]\s?{n}\s?[×x]"
                          rf"|\|\s*\**{n}\**\s*\|", results))


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_readme_figure_is_a_cited_row_of_bench_results():
    """No figure drifts from its measurement: each number of each measured figure in the README appears in
    bench/RESULTS.md (which has the machine and the command), and the paragraph or table row holding it
    links the RESULTS.md section it comes from."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    results = (REPO / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    recorded = {n.replace(",", "") for n in NUMBER.findall(results)}
    anchors = {_slug(line[3:]) for line in results.splitlines() if line.startswith("## ")}
    figures, missing, uncited = 0, [], []
    for block, caption in _blocks(readme):
        found = list(FIGURE.finditer(block))
        if not found:
            continue
        cited = re.findall(r"bench/RESULTS\.md#([\w-]+)", block) or re.findall(r"bench/RESULTS\.md#([\w-]+)", caption)
        if not cited:
            uncited.append(block[:120])
        assert set(cited) <= anchors, f"links to no RESULTS.md section: {set(cited) - anchors}"
        for m in found:
            figures += 1
            ratio = m.group(0).rstrip().endswith(("×", "x"))
            missing += [f"{m.group(0)!r} in: {block[:100]}" for n in m.groups()
                        if n and not (_ratio_in(n, results) if ratio else n.replace(",", "") in recorded)]
    assert figures >= 20, figures
    assert not missing, "README figures not in bench/RESULTS.md:\n" + "\n".join(missing)
    assert not uncited, "README figures without their bench/RESULTS.md section:\n" + "\n".join(uncited)


def test_the_answer_table_is_called_what_it_is():
    """The hand-labelled answer table is what the tests require: its pass rate is not an accuracy."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"\b(\d+)/\1\b", readme), "a full pass of a test table reads as an accuracy"
    [block] = [b for b, _ in _blocks(readme) if "answer_table" in b or "hand-labelled" in b]
    assert "regression table" in block and "not an accuracy" in block


def test_ci_runs_the_vllm_and_trainer_tests_and_fails_with_them():
    """"Tested against vLLM" holds on every landing: .ci/run sets up vLLM for CPU and runs `pytest -m vllm`
    (and the trainer checks), and a failure there fails CI like a failure of the main suite."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/vllm-cpu-setup.sh && .venv-vllm/bin/python -m pytest -m vllm\nvllm_rc=$?" in ci
    assert "pytest -m trainers\n)\ntrainers_rc=$?" in ci
    verdict = ci[ci.index('for code in "$rc"'):]
    for codes, expected in [((0, 0, 0), 0), ((0, 0, 1), 1), ((0, 2, 0), 2), ((1, 0, 0), 1)]:
        env = "rc={} trainers_rc={} vllm_rc={}\n".format(*codes)
        proc = subprocess.run(["bash", "-c", env + verdict], capture_output=True, text=True)
        assert proc.returncode == expected, (codes, proc.stderr)
