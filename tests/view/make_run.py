"""Build run directories by hand from known records, laid out as `synth run` writes them: data/
parquet shards through synth.hub.dataset (the runner's own writer), rejected.jsonl, failed.jsonl,
and a manifest whose funnel counts follow from the rows given.

Also a generator of a large synthetic run for measuring the viewer:

    python -m tests.view.make_run /tmp/big-run 1000000 [--varied]    # 1 M kept rows, 100 k rejected
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from synth.hub.dataset import ROWS_PER_SHARD


def _uniform(records: list[dict]) -> list[dict]:
    """Every record with the same keys (a missing one as None), as parquet needs."""
    keys = list(dict.fromkeys(k for r in records for k in r))
    return [{k: r.get(k) for k in keys} for r in records]


def write_run(root: Path, kept: Iterable[dict], rejected: Iterable[dict] = (), failed: Iterable[dict] = (), *,
              name: str = "test-run", recipe: str = "instruct", seed_rows: int | None = None,
              stage_order: list[str] | None = None, coverage: dict | None = None, status: str = "complete",
              extra: dict | None = None, shard_rows: int = ROWS_PER_SHARD) -> dict:
    """Write the run directory and return its manifest. `kept` may be an iterator of any length:
    it is written in shards of `shard_rows` rows like the runner's dataset writer."""
    import datasets

    root = Path(root)
    (root / "data").mkdir(parents=True, exist_ok=True)
    datasets.disable_progress_bars()
    n_kept, shard, names, seeds = 0, [], [], set()

    def flush(final: bool) -> None:
        if shard or (final and not names):
            part = root / "data" / f"train-{len(names):05d}.parquet"
            datasets.Dataset.from_list(_uniform(shard)).to_parquet(str(part))
            names.append(part.name)
            shard.clear()

    for record in kept:
        shard.append(record)
        seeds.add(record.get("seed_key"))
        n_kept += 1
        if len(shard) == shard_rows:
            flush(False)
    flush(True)
    by_stage: dict[str, Counter] = {}
    n_rejected = 0
    with open(root / "rejected.jsonl", "w", encoding="utf-8") as fh:
        for entry in rejected:
            by_stage.setdefault(entry["stage"], Counter())[entry["reason"]] += 1
            seeds.add(entry["record"].get("seed_key"))
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            n_rejected += 1
    failed = list(failed)
    with open(root / "failed.jsonl", "w", encoding="utf-8") as fh:
        for entry in failed:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    order = stage_order or [f"recipe:{recipe}", *[s for s in by_stage if s != f"recipe:{recipe}"]]
    n_records = n_kept + n_rejected
    n_seeds = seed_rows if seed_rows is not None else len(seeds - {None}) + len(failed)
    stages = [{"name": "generate", "in": n_seeds, "kept": n_records, "dropped": len(failed),
               "dropped_by_reason": {"row_failed": len(failed)} if failed else {},
               "rows_done": n_seeds - len(failed), "records_written": n_records, "seconds": 12.5}]
    left = n_records
    for stage in order:
        reasons = dict(by_stage.get(stage, {}))
        dropped = sum(reasons.values())
        stages.append({"name": stage, "in": left, "kept": left - dropped, "dropped": dropped,
                       "dropped_by_reason": reasons, "seconds": 0.25})
        left -= dropped
    assert left == n_kept, "every rejected row's stage must be in stage_order"
    now = time.time()
    manifest = {
        "name": name, "synth_version": "0.1.0", "fingerprint": "0123456789ab", "status": status,
        "started": now - 60, "first_started": now - 60, "sessions": 1,
        "recipe": {"name": recipe, "version": "1"},
        "engine": {"kind": "openai", "model": "Qwen/Qwen2.5-7B-Instruct", "base_url": "http://gpu:8000/v1",
                   "server": "vllm", "native_n": True, "json_schema": "structured_outputs"},
        "sampling": {"temperature": 0.7, "top_p": 1.0, "max_tokens": 512, "seed": 0, "stop": None},
        "versions": {"synth": "0.1.0"},
        "rows": {"seed_rows": n_seeds, "selected": n_seeds, "duplicate": 0, "done": n_seeds - len(failed),
                 "failed": len(failed)},
        "requests": {"sent": 3 * n_seeds, "retries": 1, "failed": len(failed), "cache_hits": 5,
                     "cache_misses": 3 * n_seeds, "prompt_tokens": 120 * n_seeds, "completion_tokens": 300 * n_seeds},
        "stages": stages, "finished": now,
        "outputs": {"records": n_records, "kept": n_kept, "rejected": n_rejected},
        **({"coverage": coverage} if coverage is not None else {}), **(extra or {}),
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


# -- a large synthetic run ---------------------------------------------------------------------------
NEEDLE = "独一无二的针"  # appears in one row near the end


def big_records(n: int, varied: bool = False) -> Iterator[dict]:
    """Instruction rows, Chinese and English alternating, ~0.8 KB each (`varied`: answers drawn from
    a word list with a per-row seed, so they compress like real text); row n-10 holds NEEDLE."""
    import random

    zh_q = "请解释指数基金与主动管理基金在费用、风险和长期收益上的区别，并举例说明适合哪些投资者。"
    en_q = "Explain the difference between index funds and actively managed funds in fees, risk and returns."
    zh_a = "指数基金跟踪一个市场指数，费用低、分散程度高；主动管理基金依靠基金经理选股，费用较高。"
    en_a = "Index funds track a market index at low cost; active funds rely on a manager's picks and cost more."
    zh_words = list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质")
    en_words = ("fund index cost risk return market manager stock bond yield fee tax portfolio growth value "
                "income share price trend volatility hedge asset liability equity dividend inflation rate").split()
    verdicts = ("pass", "uncertain")
    for i in range(n):
        zh = i % 2 == 0
        q = f"{zh_q if zh else en_q} (#{i})"
        if varied:
            rng = random.Random(i)
            a = "".join(rng.choices(zh_words, k=260)) if zh else " ".join(rng.choices(en_words, k=110))
        else:
            a = (zh_a if zh else en_a) * 3
        a += NEEDLE if i == n - 10 else ""
        yield {"id": f"{i:016x}", "recipe": "instruct", "recipe_version": "1", "seed_key": f"{i // 2:016x}",
               "messages": [{"role": "system", "content": "You are a careful assistant."},
                            {"role": "user", "content": q}, {"role": "assistant", "content": a}],
               "instruction": q, "response": a, "reasoning": None, "cell": f"cell-{i % 40:02d}",
               "judge": {"verdict": verdicts[i % 7 == 0], "score": (i % 10) / 10},
               "generation": {"model": "qwen", "finish_reason": "stop", "seed": i, "prompt_tokens": 40,
                              "completion_tokens": 120}}


def big_rejected(n: int) -> Iterator[dict]:
    reasons = (("filter:refusal", "refusal_phrase"), ("filter:length", "too_short"), ("dedup", "near_duplicate"))
    for i, record in enumerate(big_records(n)):
        stage, reason = reasons[i % 3]
        yield {"stage": stage, "reason": reason, "record": record}


def main(argv: list[str]) -> None:
    out, n, varied = Path(argv[0]), int(argv[1]), "--varied" in argv
    t0 = time.perf_counter()
    write_run(out, big_records(n, varied), big_rejected(n // 10), name="big", seed_rows=n,
              stage_order=["recipe:instruct", "filter:refusal", "filter:length", "dedup"])
    print(f"wrote {out}: {n:,} kept rows in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
