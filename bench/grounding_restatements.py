"""What the grounding checks cost on answers that are supported by construction: sentences of real documents
restated verbatim or with a modal synonym (应当→应, SHALL→must), checked against their own chunk.

    .venv/bin/python bench/grounding_restatements.py [--mirrors /work/.mirror] [--json OUT]

Documents: Chinese laws and NIST SP 800-63 sections from the same snapshots as bench/external (SOURCES.md),
none of the documents the grounding items were written on: 个人信息保护法, 产品质量法, 消费者权益保护法,
食品安全法, 广告法, 保险法; SP 800-63B sections 6-7, SP 800-63C sections 4-5. Each document is cut into
chunks of about 1,500 characters at line ends; every sentence or ；-clause of 15-200 characters outside
tables and headings is an answer quoting itself. A restatement that does not pass is a supported answer
the judge must see; one that fails is one no judge can save. Each rule's firing rate is counted on its
own, whatever the verdict's order would report first.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench" / "external"))

DOCS = [
    ("laws", "falv/flk.npc/中华人民共和国个人信息保护法_20210820.txt"),
    ("laws", "falv/flk.npc/中华人民共和国产品质量法_20181229.txt"),
    ("laws", "falv/flk.npc/中华人民共和国消费者权益保护法_20131025.txt"),
    ("laws", "falv/flk.npc/中华人民共和国食品安全法_20250912.txt"),
    ("laws", "falv/flk.npc/中华人民共和国广告法_20210429.txt"),
    ("laws", "falv/flk.npc/中华人民共和国保险法_20150424.txt"),
    ("nist", "sp800-63b/sec6_lifecycle.md"),
    ("nist", "sp800-63b/sec7_session.md"),
    ("nist", "sp800-63c/sec4_fal.md"),
    ("nist", "sp800-63c/sec5_federation.md"),
]
_PIECE = re.compile(r"(?<=[。！？；])|(?<=[.;])\s+(?=[A-Z])")
_SYNONYMS = [("应当", "应"), ("SHALL NOT", "must not"), ("SHALL", "must"), ("SHOULD", "should")]


def chunks(text: str, size: int = 1500) -> list[str]:
    out, cur = [], ""
    for line in text.split("\n"):
        if cur and len(cur) + len(line) > size:
            out.append(cur)
            cur = ""
        cur += line + "\n"
    return out + ([cur] if cur.strip() else [])


def answers(chunk: str) -> list[tuple[str, str, str]]:
    """(kind, answer, its quote) for each sentence of the chunk's running text: verbatim, and with a modal
    synonym (quoting the sentence as written)."""
    out = []
    for line in chunk.split("\n"):
        if not line.strip() or "|" in line or line.lstrip().startswith(("#", "<", "!", "[")):
            continue
        for piece in _PIECE.split(line):
            piece = piece.strip()
            if not 15 <= len(piece) <= 200:
                continue
            out.append(("verbatim", piece, piece))
            for a, b in _SYNONYMS:
                if a in piece:
                    out.append(("synonym", piece.replace(a, b, 1), piece))
                    break
    return out


def measure(docs: list[tuple[str, str]], mirrors: Path) -> dict:
    from build import Sources

    from synth.grounding import check_answer
    from synth.grounding.agents import agent_swaps
    from synth.grounding.clauses import clause_problems
    from synth.grounding.substitution import polarity_flips, substitutions
    from synth.grounding.tables import misplaced_figures

    sources = Sources(mirrors)
    status: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    rules: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    examples: dict[str, list[str]] = collections.defaultdict(list)
    for key, path in docs:
        lang = "zh" if key == "laws" else "en"
        for chunk in chunks(sources.text(key, path)):
            for kind, answer, quote in answers(chunk):
                group = f"{lang}:{kind}"
                v = check_answer(answer, [quote], chunk)
                status[group][v.status] += 1
                status[group]["n"] += 1
                clauses = clause_problems(answer, chunk)
                fired = {"substitution": substitutions(answer, chunk), "polarity": polarity_flips(answer, chunk),
                         "clause_number": clauses["unbound"], "clause_condition": clauses["negation"],
                         "agent": agent_swaps(answer, chunk), "table_row": misplaced_figures(answer, chunk)}
                for rule, hits in fired.items():
                    if hits:
                        rules[group][rule] += 1
                        if len(examples[rule]) < 5:
                            examples[rule].append(f"{answer[:60]} {hits[:1]}")
                if v.status != "pass" and len(examples[f"not pass: {v.reason}"]) < 3:
                    examples[f"not pass: {v.reason}"].append(answer[:60])
    return {"status": {k: dict(v) for k, v in sorted(status.items())},
            "rules": {k: dict(v) for k, v in sorted(rules.items())}, "examples": dict(examples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"), help="where the snapshots are")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    r = measure(DOCS, args.mirrors)
    print(f"{'group':<14} {'answers':>7} {'pass':>6} {'unc.':>6} {'fail':>6}   new rules firing (any verdict)")
    for group, c in r["status"].items():
        n = c["n"]
        fired = ", ".join(f"{k} {v}" for k, v in sorted(r["rules"].get(group, {}).items())) or "none"
        print(f"{group:<14} {n:>7} {c.get('pass', 0) / n:>6.1%} {c.get('uncertain', 0) / n:>6.1%} "
              f"{c.get('fail', 0) / n:>6.1%}   {fired}")
    print()
    for what, shown in r["examples"].items():
        print(f"{what}:")
        for line in shown:
            print("   ", line)
    if args.json:
        args.json.write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
