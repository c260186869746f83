"""Every CLI verb against a folder of broken inputs: one line on stderr starting `error: ` that names the
broken path, exit code 2, no traceback, nothing written and nothing changed.

The sweep table (SWEEP) lists each file a verb reads or writes (a *slot*); every slot meets every kind
of broken input that applies to it (KINDS). A verb registered on the app without a slot here, or an
entry in NO_FILE_INPUTS, fails test_every_verb_is_swept: a new verb gets the sweep by adding one line.
Verbs that would start a model server meet an unreachable --base-url, so a late check shows up as the
wrong error line instead of a slow run.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import write_config, write_jsonl

NOWHERE = "http://127.0.0.1:9/v1"  # nothing listens there: a server start fails at once

KINDS = {
    "empty": "an empty file (a folder with nothing in it where a folder is read)",
    "binary": "bytes that are not text",
    "encoding": "text in Latin-1, not UTF-8",
    "ragged": "a CSV row with more fields than its header",
    "directory": "a directory where a file is read or written",
    "file": "a file where a directory is read or written",
    "unreadable": "no read permission (chmod 000)",
    "missing": "a path that does not exist",
}
APPLIES = {  # the kinds each sort of slot meets; a slot may leave some out, saying why
    "file": ("empty", "binary", "encoding", "directory", "unreadable", "missing"),
    "table": ("empty", "binary", "encoding", "ragged", "directory", "unreadable", "missing"),
    "dir": ("empty", "binary", "encoding", "file", "unreadable", "missing"),
    "out-file": ("directory",),
    "out-dir": ("file",),
}
# Latin-1 bytes of a small valid input of each type (é is 0xE9: not UTF-8)
LATIN1 = {".jsonl": '{"instruction": "Café?", "gold": "1", "pred": "1", "text": "Café"}\n',
          ".csv": "instruction\nCafé?\n", ".yaml": "name: café\nrecipe: instruct\nseeds: seeds.jsonl\n",
          ".json": '{"name": "café"}', ".txt": "Café au lait.\n"}
BINARY = b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00" + bytes(range(256))


@dataclass(frozen=True)
class Slot:
    verb: str
    what: str                          # which input or output of the verb is broken
    name: str                          # the broken path's name (its suffix decides how it is read)
    argv: Callable[[str], list[str]]   # the command line around the broken path
    sort: str = "file"                 # file | table | dir | out-file | out-dir (see APPLIES)
    inner: str = ""                    # dir slots: the file inside whose content is broken
    not_applicable: dict[str, str] = field(default_factory=dict)  # kind -> why it does not apply

    def kinds(self) -> list[str]:
        return [k for k in APPLIES[self.sort] if k not in self.not_applicable]


def run_config(**fields) -> str:
    """A run config that is fine but for `fields`; its engine is unreachable."""
    base = dict(name="sweep", recipe="instruct", seeds="seeds.jsonl", dedup=None,
                engine={"base_url": NOWHERE, "model": "m"})
    return str(write_config(Path("sweep.yaml"), **{**base, **fields}))


SWEEP = [
    Slot("run", "config", "config.yaml", lambda p: ["run", p]),
    Slot("run", "seeds", "seeds.csv", lambda p: ["run", run_config(seeds=p)], sort="table"),
    Slot("run", "decontam benchmark", "bench.csv",
         lambda p: ["run", run_config(decontam={"benchmarks": [p]})], sort="table"),
    Slot("run", "filter option file (blocklist path)", "blocked.txt",
         lambda p: ["run", run_config(filters=[{"name": "blocklist", "path": p}])],
         not_applicable={"empty": "an empty blocklist blocks nothing, which is valid"}),
    Slot("run", "recipe path option (problem-augment benchmarks)", "bench.csv",
         lambda p: ["run", run_config(recipe="problem-augment", seeds="problems.jsonl", options={"benchmarks": [p]})],
         sort="table"),
    Slot("run", "--out", "rundir", lambda p: ["run", run_config(), "--out", p], sort="out-dir"),
    Slot("dedup", "input", "rows.csv", lambda p: ["dedup", p, "--out", "out.jsonl"], sort="table"),
    Slot("dedup", "--out (file)", "out.jsonl", lambda p: ["dedup", "rows.jsonl", "--out", p], sort="out-file"),
    Slot("dedup", "--out (dataset directory)", "outdir", lambda p: ["dedup", "rows.jsonl", "--out", p],
         sort="out-dir"),
    Slot("decontam", "input", "rows.csv", lambda p: ["decontam", p, "--out", "out.jsonl", "-b", "bench.jsonl"],
         sort="table"),
    Slot("decontam", "--benchmark", "bench.csv", lambda p: ["decontam", "rows.jsonl", "--out", "out.jsonl", "-b", p],
         sort="table"),
    Slot("decontam", "--out (file)", "out.jsonl",
         lambda p: ["decontam", "rows.jsonl", "--out", p, "-b", "bench.jsonl"], sort="out-file"),
    Slot("filter", "input", "rows.csv", lambda p: ["filter", p, "--out", "out.jsonl", "-F", "length"], sort="table"),
    Slot("filter", "filter option file (blocklist path)", "blocked.txt",
         lambda p: ["filter", "rows.jsonl", "--out", "out.jsonl", "-F", f"blocklist:path={p}"],
         not_applicable={"empty": "an empty blocklist blocks nothing, which is valid"}),
    Slot("filter", "--out (file)", "out.jsonl", lambda p: ["filter", "rows.jsonl", "--out", p, "-F", "length"],
         sort="out-file"),
    Slot("filter", "--out (dataset directory)", "outdir",
         lambda p: ["filter", "rows.jsonl", "--out", p, "-F", "length"], sort="out-dir"),
    Slot("answer-check", "--file", "pairs.jsonl", lambda p: ["answer-check", "--file", p],
         not_applicable={"empty": "no rows, no output: as from an empty stdin"}),
    Slot("ingest", "document", "notes.txt", lambda p: ["ingest", p, "--out", "kb/chunks.jsonl"],
         not_applicable={"encoding": "documents in legacy encodings are decoded (charset detection), by design"}),
    Slot("ingest", "PDF document", "notes.pdf", lambda p: ["ingest", p, "--out", "kb/chunks.jsonl"],
         not_applicable={"encoding": "a PDF has no text encoding"}),
    Slot("ingest", "--out (folder)", "kb", lambda p: ["ingest", "doc.txt", "--out", p], sort="out-dir"),
    Slot("export", "run directory", "run", lambda p: ["export", p, "--format", "messages", "--out", "e.jsonl"],
         sort="dir", inner="manifest.json"),
    Slot("export", "--out", "e.jsonl", lambda p: ["export", "good-run", "--format", "messages", "--out", p],
         sort="out-file"),
    Slot("push", "run directory", "run", lambda p: ["push", p, "--repo-id", "acme/sweep"], sort="dir",
         inner="manifest.json"),
    Slot("view", "run directory", "run", lambda p: ["view", p, "--html", "page.html"], sort="dir",
         inner="manifest.json",
         not_applicable={k: "the viewer shows what it can of a damaged or running run (a manifest it cannot read "
                            "counts as none)" for k in ("binary", "encoding")}),
    Slot("view", "--html", "page.html", lambda p: ["view", "good-run", "--html", p], sort="out-file"),
    Slot("taxonomy", "--out", "tree.yaml", lambda p: ["taxonomy", "finance", "--out", p, "--force",
                                                      "--base-url", NOWHERE], sort="out-file"),
    Slot("new", "--out (package folder)", "plugin", lambda p: ["new", "recipe", "demo", "--out", p], sort="out-dir"),
    Slot("serve", "model directory", "model", lambda p: ["serve", p, "--port", "9"], sort="dir", inner="config.json",
         not_applicable={"missing": "a name that is no path is a Hub model id, which vLLM resolves"}),
]
NO_FILE_INPUTS = {
    "recipes": "lists the installed recipes; takes no arguments",
    "filters": "lists or describes installed filters; takes a filter name, not a path",
    "serve-check": "probes an endpoint URL; reads no file",
}
CASES = [pytest.param(slot, kind, id=f"{slot.verb}/{slot.what}/{kind}") for slot in SWEEP for kind in slot.kinds()]


def test_every_verb_is_swept():
    import typer.main

    from synth.cli import app

    registered = set(typer.main.get_command(app).commands)
    swept = {slot.verb for slot in SWEEP} | set(NO_FILE_INPUTS)
    assert registered - swept == set(), f"verbs without an entry in the bad-input sweep: {registered - swept}"
    assert swept - registered == set(), f"sweep entries for verbs that do not exist: {swept - registered}"


def make_broken(slot: Slot, kind: str) -> Path:
    """The broken path of `kind` for `slot`, in the current folder."""
    path = Path(slot.name if kind != "ragged" else Path(slot.name).with_suffix(".csv").name)
    if kind == "missing":
        return path
    if slot.sort in ("out-file", "out-dir"):
        path.mkdir() if kind == "directory" else path.write_text("not to be overwritten\n")
        return path
    if slot.sort == "dir":
        if kind == "file":
            path.write_text("a file, not a folder\n")
            return path
        path.mkdir()
        target = path / slot.inner
    else:
        if kind == "directory":
            path.mkdir()
            return path
        target = path
    if kind == "empty":
        if slot.sort != "dir":
            target.write_bytes(b"")
    elif kind == "binary":
        target.write_bytes(BINARY)
    elif kind == "encoding":
        target.write_bytes(LATIN1.get(target.suffix, "café\n").encode("latin-1"))
    elif kind == "ragged":
        target.write_text("instruction,question\nSay hi.,Say hi.,an extra field\n", encoding="utf-8")
    elif kind == "unreadable":
        target.write_text(LATIN1.get(target.suffix, "text\n"), encoding="utf-8")
        path.chmod(0)
    return path


def good_inputs() -> None:
    """The valid files the command lines name around the broken one."""
    write_jsonl(Path("seeds.jsonl"), [{"instruction": "Say hi."}])
    write_jsonl(Path("problems.jsonl"), [{"problem": "What is 2 + 3?", "answer": "5"}])
    write_jsonl(Path("rows.jsonl"), [{"instruction": "Name a bird.", "output": "A heron."}])
    write_jsonl(Path("bench.jsonl"), [{"question": "How many clips did Natalia sell in April and May together?"}])
    Path("doc.txt").write_text("A heron is a wading bird.\n", encoding="utf-8")


def good_run() -> None:
    """A finished run directory (for the verbs whose output slot is swept)."""
    from tests.view.make_run import write_run

    write_run(Path("good-run"), [{"id": "a1", "seed_key": "s1", "recipe": "instruct", "instruction": "Hi?",
                                  "response": "Hello.", "messages": [{"role": "user", "content": "Hi?"},
                                                                     {"role": "assistant", "content": "Hello."}]}],
              extra={"dataset": {"subsets": {}}})
    write_config(Path("good-run/config.yaml"), name="good-run", recipe="instruct", seeds="seeds.jsonl")


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root`: a folder as such, a file with its size and modification time."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder, name)
            st = p.lstat()
            out[str(p.relative_to(root))] = ("dir",) if p.is_dir() else ("file", st.st_size, st.st_mtime_ns)
    return out


def invoke(capsys, argv: list[str]) -> tuple[int, str, str]:
    """`synth ARGV` through the real entry point, in this process; an exception escaping it is a traceback."""
    from synth.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - what a user would see as a traceback
        out, err = capsys.readouterr()
        pytest.fail(f"traceback from synth {' '.join(argv)}:\n{err}\n{traceback.format_exc()}")
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def work(tmp_path_factory, monkeypatch):
    # not under tmp_path: conftest's run_books_balance would take the broken run directories for real ones
    folder = tmp_path_factory.mktemp("bad-input")
    monkeypatch.chdir(folder)
    yield folder
    for p in [folder, *folder.rglob("*")]:  # let pytest remove what was made unreadable
        try:
            p.chmod(0o700)
        except OSError:
            pass


@pytest.mark.parametrize("slot,kind", CASES)
def test_broken_input_is_one_line_exit_2_nothing_written(work, capsys, slot: Slot, kind: str):
    good_inputs()
    broken = make_broken(slot, kind)
    if kind == "unreadable" and os.access(broken, os.R_OK):
        pytest.skip("running as root: chmod 000 does not block reads here")
    argv = slot.argv(str(broken))
    if "good-run" in argv:
        good_run()
    before = snapshot(work)
    code, out, err = invoke(capsys, argv)
    lines = [line for line in err.splitlines() if line.strip()]
    shown = f"synth {' '.join(argv)} ({KINDS[kind]}) -> exit {code}\nstderr:\n{err}\nstdout:\n{out}"
    assert "Traceback" not in err, shown
    assert code == 2, shown
    assert len(lines) == 1 and lines[0].startswith("error: "), shown
    assert broken.name in lines[0], f"the error line does not name {broken.name}: {shown}"
    assert snapshot(work) == before, f"files were written or changed: {shown}"
