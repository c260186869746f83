

def test_shared_system_prompt_does_not_make_conversations_duplicates():
    from synth.dedup import DedupConfig, dedup_rows

    system = {"role": "system", "content": " ".join(f"rule{i} applies to every answer you give" for i in range(40))}
    rows = [{"id": i, "messages": [system, {"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for i, (q, a) in enumerate([("What is an index fund?", "A fund that tracks a market index."),
                                        ("Name a symptom of dehydration.", "Dizziness, often with thirst."),
                                        ("What is an index fund?", "A fund that tracks a market index.")])]
    result = dedup_rows(rows, DedupConfig(near=True, threshold=0.6))
    assert [r["id"] for r in result.kept] == [0, 1]
    assert [(d["id"], d["duplicate_of"], d["reason"]) for d in result.dropped] == [(2, 0, "exact_duplicate")]
