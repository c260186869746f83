"""The README's plugin example is real code: it runs as a recipe named by module path."""

from __future__ import annotations

import json
import re

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
