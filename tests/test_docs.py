"""The CLI reference is generated from --help and must be current."""

from synth.cli.docs import render
from tests.conftest import REPO


def test_cli_reference_is_current():
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: run python -m synth.cli.docs > docs/cli.md"
