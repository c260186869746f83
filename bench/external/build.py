"""Materialise the external benchmark sets from public repositories at pinned commits.

The labels (filters_labels.jsonl) and the grounding items (grounding_items.jsonl, the held-out
grounding_heldout.jsonl and the sealed grounding_sealed.jsonl, grounding_sealed2.jsonl, grounding_sealed3.jsonl and grounding_sealed4.jsonl: hand-written answers, quotes as spans of
the chunk) are committed; the third-party text they point at is not. This script
reads that text from local snapshots of the source repositories (git directories; see SOURCES.md for
how to get them) and writes

    bench/external/data/filters_rows.jsonl     labelled chat rows (question, answer, label, kind)
    bench/external/data/grounding_items.jsonl  (chunk, answer, quotes, label, kind)
    bench/external/data/grounding_heldout.jsonl  the held-out grounding set (issue 22), same format
    bench/external/data/grounding_sealed.jsonl   the sealed grounding test set (issue 22), same format
    bench/external/data/grounding_sealed2.jsonl  a second sealed grounding test set on other documents, same format
    bench/external/data/grounding_sealed3.jsonl  a third sealed grounding test set (tax guidance, Chinese and English), same format
    bench/external/data/grounding_sealed4.jsonl  a fourth sealed grounding test set (Chinese waste and medical-device
                                                 regulations, US HIPAA rules), same format


    .venv/bin/python bench/external/build.py [--mirrors /work/.mirror]

Derived rows are built from real ones by a rule written in the label (`derive`): `cut` stops an answer
at about that share of its length on a word boundary (English) or a character (Chinese), as a
max_tokens stop would, and never right after a sentence end; `question_after` answers a translation
request with its own source text, left untranslated.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "data"

SOURCES = {  # key -> (owner/name, commit)
    "alpaca_eval": ("tatsu-lab/alpaca_eval", "cd543a149df89434d8a54582c0151c0b945c3d20"),
    "alpaca": ("tatsu-lab/stanford_alpaca", "5e69c50054c48cd3b919c46d13bb2d92a62f4498"),  # refs/pull/152/head
    "hh": ("anthropics/hh-rlhf", "354e5c3cb8960630860dd5774a6ac2a58313bf4d"),
    "belle": ("LianjiaTech/BELLE", "645084d36454cdeb4e7f1ce9b2f3426bac39f1f9"),
    "cla": ("ymcui/Chinese-LLaMA-Alpaca", "090475fbebcca06af2ae52c5227fe1617e22072a"),
    "laws": ("DiamonWoo/Laosheng.top", "960d764c2764edb3314e225cd500a5144b8d56c4"),
    "nist": ("usnistgov/800-63-3", "ce8ada6277a2948308d85b16a4c568874f7d5abb"),
    # held-out grounding set (grounding_heldout.jsonl)
    "tidb": ("pingcap/docs-cn", "ae9ab0fd89873986fabc4c8873d77d46ba76f066"),
    "cnlc": ("tzjyxb/blogdown", "26020d7207f40bbbc204ddba053f236d47c54c94"),
    "rfc": ("sidgwick/read-rfc", "ba987b4a2710e38f08485852fc703c2c683045e3"),
    "treasury": ("US-Department-of-the-Treasury/home.treasury.gov", "0bac2ea18e2cb11c1e1df78ce60a990a26e70183"),
    "rustbook": ("rust-lang/book", "917544888a55e4da7109bdba8c88c893c0da70f4"),
    # sealed grounding test set (grounding_sealed.jsonl)
    "rocketmq": ("apache/rocketmq", "8fc57f1468d182eea11c01e089c0250d647dc5f3"),
    "datax": ("alibaba/DataX", "60ea07b73086785849f9b9bec9c27308b6ffec55"),
    "peps": ("python/peps", "ba4deeb7969588d937da609008d05bb83a47b1ab"),
    "etcd": ("etcd-io/website", "824597935df6e95992ef61c07e3222f4f796ca6c"),
    "p3c": ("alibaba/p3c", "6c59c8c36ecd8722c712d5685b8c3822c1c8b030"),
    "uscode": ("codexstanford/markdonw-chunck-of-the-usa-code", "66d0b20a5e0521c0ffa33fe40368e4148bff046b"),
    # second sealed grounding test set (grounding_sealed2.jsonl)
    "dolphinscheduler": ("apache/dolphinscheduler", "7e0095dca198bfc50c59bbc10b3be5617d7b3229"),
    "redisdoc": ("redis/redis-doc", "1044224477fceacc5af56a636b0a7495d19e533c"),
    "elasticjob": ("apache/shardingsphere-elasticjob", "89f70b70e11f527b10b1c55838cfa7ac070128f0"),
    # third sealed grounding test set (grounding_sealed3.jsonl)
    "irspubs": ("aoncevay/agent-mt", "6229777f0bbca062d194dd95da8c91b58ac13731"),
    # fourth sealed grounding test set (grounding_sealed4.jsonl)
    "cee": ("Fungwingwaa/cee", "22aa4af5cfe21916fbedfb1ef865a72bef1625a6"),
    "nmpadocs": ("RASAAS/docmcp-knowledge", "c8d150616668cb5b6e19d1c6cfecb079d579521c"),
    "hipaa": ("aptible/www.aptible.com", "7115acc547332fa98a8f58ec0ab2a659878af2ce"),
}
DOCS = {  # grounding documents: key -> (source, path)
    "zh-labour-contract": ("laws", "falv/flk.npc/中华人民共和国劳动合同法_20121228.txt"),
    "zh-enterprise-income-tax": ("laws", "falv/flk.npc/中华人民共和国企业所得税法_20181229.txt"),
    "zh-stamp-tax": ("laws", "falv/flk.npc/中华人民共和国印花税法_20210610.txt"),
    "zh-individual-income-tax": ("laws", "falv/flk.npc/中华人民共和国个人所得税法_20180831.txt"),
    "zh-physicians": ("laws", "falv/flk.npc/中华人民共和国医师法_20210820.txt"),
    "en-nist-63b-sec4": ("nist", "sp800-63b/sec4_aal.md"),
    "en-nist-63b-sec5": ("nist", "sp800-63b/sec5_authenticators.md"),
    # held-out set
    "zh-tidb-limitations": ("tidb", "tidb-limitations.md"),
    "zh-tidb-requirements": ("tidb", "hardware-and-software-requirements.md"),
    "zh-liver-cancer-staging": ("cnlc", "content/post/2021-07-26-child-pugh-bclc-and-cnlc/index.md"),
    "en-rfc6749-oauth2": ("rfc", "rfc6749.txt"),
    "en-treasury-fy2024-budget": ("treasury", "content/news/press-releases/2024-10-18-jy2657.md"),
    "en-treasury-borrowing-2018q2": ("treasury", "content/news/press-releases/2018-04-30-sm0375.md"),
    "en-rust-book-data-types": ("rustbook", "src/ch03-02-data-types.md"),
    # sealed set
    "zh-rocketmq-best-practice": ("rocketmq", "docs/cn/best_practice.md"),
    "zh-datax-mysqlreader": ("datax", "mysqlreader/doc/mysqlreader.md"),
    "en-pep8-style-guide": ("peps", "peps/pep-0008.rst"),
    "en-etcd-limits": ("etcd", "content/en/docs/v3.5/dev-guide/limit.md"),
    "en-etcd-hardware": ("etcd", "content/en/docs/v3.5/op-guide/hardware.md"),
    "en-etcd-tuning": ("etcd", "content/en/docs/v3.5/tuning.md"),
    "zh-p3c-mysql-tables": ("p3c", "p3c-gitbook/MySQL数据库/建表规约.md"),
    "zh-p3c-mysql-indexes": ("p3c", "p3c-gitbook/MySQL数据库/索引规约.md"),
    "en-uscode-flsa-minimum-wage": ("uscode", "chuncks/title-29/chunck-185.md"),
    "en-uscode-flsa-maximum-hours": ("uscode", "chuncks/title-29/chunck-191.md"),
    # second sealed set
    "zh-dolphinscheduler-hardware": ("dolphinscheduler", "docs/docs/zh/about/hardware.md"),
    "zh-dolphinscheduler-load-balance": ("dolphinscheduler", "docs/docs/zh/architecture/load-balance.md"),
    "zh-dolphinscheduler-configuration": ("dolphinscheduler", "docs/docs/zh/architecture/configuration.md"),
    "en-redis-eviction": ("redisdoc", "docs/reference/eviction/index.md"),
    "en-redis-persistence": ("redisdoc", "docs/management/persistence.md"),
    "zh-elasticjob-job-properties": ("elasticjob", "docs/content/user-manual/configuration/props.cn.md"),
    "zh-elasticjob-failover": ("elasticjob", "docs/content/features/failover.cn.md"),
    "zh-elasticjob-misfire": ("elasticjob", "docs/content/features/misfire.cn.md"),
    # third sealed grounding test set (grounding_sealed3.jsonl)
    "zh-irs-p596-eic": ("irspubs", "data/irs_to_process/article/p596zhs.md"),
    "zh-irs-p17-income-tax": ("irspubs", "data/irs_to_process/article/p17zhs.md"),
    "en-irs-p596-eic": ("irspubs", "data/irs_to_process/article/p596en.md"),
    "en-irs-p17-income-tax": ("irspubs", "data/irs_to_process/article/p17en.md"),
    # fourth sealed grounding test set (grounding_sealed4.jsonl)
    "zh-hazardous-waste-licence": ("cee", "docs/posts/P2/wxfwjyxkzglbf.md"),
    "zh-medical-waste-regulation": ("cee", "docs/posts/P2/ylfwgltl.md"),
    "zh-medical-device-regulation": ("nmpadocs", "nmpa/guidance/prc-state-council-order-739.zh.md"),
    "en-hipaa-civil-penalty": ("hipaa", "source/hipaa/regulations/160-404-amount-of-civil-penalty.md"),
    "en-hipaa-breach-notice": ("hipaa", "source/hipaa/regulations/164-404-notification-individuals.md"),
    "en-hipaa-right-of-access": ("hipaa", "source/hipaa/regulations/164-524-access-of-individuals.md"),
}


class Sources:
    def __init__(self, mirrors: Path) -> None:
        self.mirrors = mirrors

    def show(self, key: str, path: str) -> bytes:
        repo, commit = SOURCES[key]
        git_dir = self.mirrors / repo.replace("/", "+") / "repo"
        if not git_dir.exists():
            sys.exit(f"error: no snapshot of {repo} at {git_dir}: fetch github:{repo} first (see SOURCES.md)")
        done = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"], capture_output=True)
        if done.returncode:
            sys.exit(f"error: {repo}@{commit[:10]}:{path}: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def text(self, key: str, path: str) -> str:
        data = self.show(key, path)
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8-sig").replace("\r\n", "\n")


# -- chat rows ---------------------------------------------------------------------------------------------
class Rows:
    """Question/answer of a source row, by its id (`ae:<model>:<i>`, `alpaca:<i>`, `hh:<i>`, `belle:<i>`,
    `cla:<path>:<n>:<column>`)."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    @lru_cache(maxsize=None)
    def _json(self, key: str, path: str):
        text = self.sources.text(key, path)
        return [json.loads(line) for line in text.splitlines() if line.strip()] if path.endswith(
            (".jsonl", ".jsonl.gz")) or key == "belle" else json.loads(text)

    @lru_cache(maxsize=None)
    def _cla_table(self, path: str) -> dict[tuple[str, str], tuple[str, str]]:
        rows, header = {}, None
        for line in self.sources.text("cla", path).splitlines():
            if line.startswith("| #"):
                header = [c.strip() for c in line.strip().strip("|").split("|")]
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header and re.match(r"^\|\s*\d+\s*\|", line) and len(cells) == len(header):
                for col in range(2, len(cells)):
                    rows[(cells[0], header[col])] = tuple(c.replace("<br/>", "\n").replace("<br>", "\n")
                                                          for c in (cells[1], cells[col]))
        return rows

    def get(self, row_id: str) -> tuple[str, str]:
        kind, _, rest = row_id.partition(":")
        if kind == "ae":
            model, _, i = rest.rpartition(":")
            r = self._json("alpaca_eval", f"results/{model}/model_outputs.json")[int(i)]
            return r["instruction"], r["output"]
        if kind == "alpaca":
            r = self._json("alpaca", "data/alpaca_5000.json")[int(rest)]
            return (r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")), r["output"]
        if kind == "belle":
            r = self._json("belle", "eval/eval_set.json")[int(rest)]
            return r["question"], r["std_answer"]
        if kind == "hh":
            r = self._json("hh", "harmless-base/test.jsonl.gz")[int(rest)]
            parts = re.split(r"\n\n(Human|Assistant): ", r["chosen"])
            turns = list(zip(parts[1::2], parts[2::2]))
            return turns[0][1], turns[1][1]
        if kind == "cla":
            path, n, column = rest.rsplit(":", 2)
            return self._cla_table(path)[(n, column)]
        raise ValueError(f"unknown row id {row_id!r}")


def cut(answer: str, share: float) -> str:
    """`answer` stopped at about `share` of its length, as max_tokens stops a generation: on a word
    boundary in spaced text, anywhere in CJK text, and never right after a sentence end."""
    at = int(len(answer) * share)
    cjk = re.search(r"[\u4e00-\u9fff]", answer[max(0, at - 20):at + 20]) is not None
    text = answer[:at] if cjk else answer[:at].rsplit(None, 1)[0]
    while text and (text[-1] in ".!?。！？" or text[-1].isspace() or text[-1] in "\"'”’)）"):
        text = text[:-1] if cjk else text.rsplit(None, 1)[0]
    return text.rstrip()


def build_filters(rows: Rows) -> list[dict]:
    out = []
    for line in (HERE / "filters_labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        derive = label.get("derive")
        question, answer = rows.get(derive["from"] if derive else label["id"])
        if derive and "cut" in derive:
            answer = cut(answer, derive["cut"])
        elif derive and derive.get("answer") == "question_after":
            answer = question.split(derive["sep"], 1)[1].strip().strip("\"“”")
        record = {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
        out.append({**{k: v for k, v in label.items() if k != "derive"}, "derived": bool(derive), "record": record})
    return out


# -- grounding items -----------------------------------------------------------------------------------------
def chunk_text(sources: Sources, doc: str, first: int, last: int) -> str:
    key, path = DOCS[doc]
    lines = sources.text(key, path).split("\n")
    if not 1 <= first <= last <= len(lines):
        sys.exit(f"error: {doc}: lines {first}-{last} outside the document's {len(lines)} lines")
    return "\n".join(lines[first - 1:last]).strip()


def quote_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def check_quotes(item: dict, chunk: str) -> list[str]:
    """Why the item's quote spans are not verbatim spans of its chunk (empty when they are): every span
    lies inside the chunk, is non-empty and neither starts nor ends on whitespace, and, where the item
    carries `quote_sha1` (the held-out and sealed sets: a short hash of each quote, so that the committed file holds
    no third-party text), the text at the span is the text the labeller quoted."""
    problems = []
    spans = item.get("quote_spans") or []
    if not spans:
        problems.append("no quote spans")
    for a, b in spans:
        if not 0 <= a < b <= len(chunk):
            problems.append(f"span {a}-{b} outside the chunk ({len(chunk)} characters)")
        elif chunk[a:b] != chunk[a:b].strip():
            problems.append(f"span {a}-{b} starts or ends on whitespace")
    hashes = item.get("quote_sha1")
    if hashes is not None:
        if len(hashes) != len(spans):
            problems.append(f"{len(hashes)} quote hashes for {len(spans)} spans")
        for (a, b), h in zip(spans, hashes):
            if quote_sha1(chunk[a:b]) != h:
                problems.append(f"span {a}-{b} is not the quoted text ({chunk[a:b][:40]!r}...)")
    return problems


def build_grounding(sources: Sources, items_file: str = "grounding_items.jsonl") -> list[dict]:
    out, bad = [], []
    for line in (HERE / items_file).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        chunk = chunk_text(sources, item["doc"], *item["lines"])
        bad += [f"{item['id']}: {p}" for p in check_quotes(item, chunk)]
        quotes = [chunk[a:b] for a, b in item.pop("quote_spans")]
        item.pop("quote_sha1", None)
        out.append({**item, "chunk": chunk, "evidence": quotes})
    if bad:
        sys.exit(f"error: {items_file}: quotes that are not verbatim spans of their chunk:\n  " + "\n  ".join(bad))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                        help="folder of repository snapshots, one <owner>+<name>/repo git directory each")
    args = parser.parse_args()
    sources = Sources(args.mirrors)
    OUT.mkdir(exist_ok=True)
    for name, rows in (("filters_rows.jsonl", build_filters(Rows(sources))),
                       ("grounding_items.jsonl", build_grounding(sources)),
                       ("grounding_heldout.jsonl", build_grounding(sources, "grounding_heldout.jsonl")),
                       ("grounding_sealed.jsonl", build_grounding(sources, "grounding_sealed.jsonl")),
                       ("grounding_sealed2.jsonl", build_grounding(sources, "grounding_sealed2.jsonl")),
                       ("grounding_sealed3.jsonl", build_grounding(sources, "grounding_sealed3.jsonl")),
                       ("grounding_sealed4.jsonl", build_grounding(sources, "grounding_sealed4.jsonl"))):
        with open(OUT / name, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{OUT / name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
