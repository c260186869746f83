"""Signatures equal datasketch's; datasketch's own LSH indexes them; shingles and normalisation."""

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from synth.dedup import normalize, signatures, to_minhash, tokens
from synth.dedup.shingles import iter_shingles, shingle_hash32

TEXTS = ["The quick brown fox jumps over the lazy dog", "hi", "", "今天天气很好，我们去公园散步吧",
         "mixed 中文 text with English words", "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ１２３"]


def _datasketch(text, n=3, num_perm=128, seed=1):
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32)
    for sh in iter_shingles(tokens(text), n):
        m.update(sh)
    return m


def test_bulk_signatures_equal_datasketch_per_shingle_updates():
    for num_perm, seed in ((128, 1), (64, 42)):
        sig = signatures(TEXTS, num_perm=num_perm, seed=seed, workers=1)
        for text, row in zip(TEXTS, sig):
            assert np.array_equal(row, _datasketch(text, num_perm=num_perm, seed=seed).hashvalues), text


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7), (256, 0)])
def test_permutations_are_datasketchs(num_perm, seed):
    from datasketch import MinHash

    from synth.dedup.signatures import permutations

    a, b = permutations(num_perm, seed)
    want_a, want_b = MinHash(num_perm=num_perm, seed=seed).permutations
    assert np.array_equal(a, want_a) and np.array_equal(b, want_b) and a.dtype == np.uint32


def test_same_text_same_signature_and_workers_do_not_matter():
    texts = [f"row {i} " + "alpha beta gamma delta " * (i % 7) for i in range(20000)]
    one = signatures(texts, workers=1)
    two = signatures(texts, workers=2)
    assert np.array_equal(one, two)
    assert np.array_equal(one[7], signatures([texts[7]], workers=1)[0])


def test_datasketch_lsh_indexes_our_signatures():
    sig = signatures(["a b c d e f g h i j k l", "a b c d e f g h i j k x", "q r s t u v w"], workers=1)
    lsh = MinHashLSH(num_perm=128, params=(32, 4))
    for i, s in enumerate(sig):
        lsh.insert(i, to_minhash(s))
    assert 1 in lsh.query(to_minhash(sig[0]))
    assert 2 not in lsh.query(to_minhash(sig[0]))
    assert to_minhash(sig[0]).jaccard(_datasketch("a b c d e f g h i j k l")) == 1.0


def test_normalisation_folds_traditional_and_variant_characters():
    simplified = "头发里的后来，这个程序员说：面条和软件。"
    assert tokens("頭髮裡的後來，這個程序員說：麵條和軟件。") == tokens(simplified)  # OpenCC s2tw of it
    assert tokens("頭髮裏的後來") == tokens("头发里的后来")  # a Hong Kong variant
    assert tokens("\uf914") == tokens("乐")  # a compatibility ideograph NFKC turns into a traditional one


def test_normalisation_folds_case_width_punctuation_space():
    assert normalize("Ｈｅｌｌｏ,   WORLD!!") == normalize("hello world") == "hello world"
    assert tokens("中文和English混合") == ["中", "文", "和", "english", "混", "合"]
    assert tokens("snake_case, café") == ["snake", "case", "café"]


@pytest.mark.parametrize("rows", [1, 3, 4, 5, 8])
def test_sorted_band_is_a_stable_argsort(rows):
    from synth.dedup.lsh import band_keys, sorted_band

    rng = np.random.default_rng(rows)
    sig8 = rng.integers(0, 4, size=(500, 8 * rows), dtype=np.uint8)  # few values: many equal keys
    for band in (0, 3):
        keys = band_keys(sig8, band, rows)
        order = np.argsort(keys, kind="stable")
        k, o = sorted_band(sig8, band, rows)
        assert np.array_equal(o, order) and np.array_equal(k, keys[order])


def _reference_tokens(text: str) -> list[str]:
    """The plain definition the fast paths of `tokens` must reproduce."""
    import unicodedata

    from synth.dedup.normalize import _TOKEN

    from synth.dedup.normalize import _traditional

    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold().translate(_traditional()))


def test_tokens_fast_paths_equal_the_plain_definition():
    rng = np.random.default_rng(7)
    alphabet = list("abcXYZ019 _-,.!?()\n\t") + ["\u00ad", "\u00b4", "\ue000", "\u2028", "\u0301", "\u2026"]
    alphabet += list("你好世界。，、；：“”（）《》！？") + list("ＡＢＣ１２３，．") + list("頭髮裡後說麵裏樂") + ["\uf914"] + \
        list("éèàüßÆœ") + ["e\u0301", "a\u0308", "\u3000", "\u00a0", "ｶﾞ", "ガ", "가", "〇", "々", "①", "™", "ﬁ", "\u200d"]
    texts = ["".join(rng.choice(alphabet, size=rng.integers(1, 40))) for _ in range(3000)]
    texts += ["".join(rng.choice(list("你好世界。，、\n ") + ["\u3000"], size=20)) for _ in range(300)]  # pure CJK path
    texts += ["Ｈｅｌｌｏ, 世界 is big!", "今天天气很好，我们去公园散步吧。", "Café au lait", "ｶﾀｶﾅ and 漢字"]
    for text in texts:
        assert tokens(text) == _reference_tokens(text), text
