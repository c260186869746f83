"""Typed, strict configuration of the dedup and decontamination stages (also used by `synth run`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from synth.dedup.params import choose_params


class DedupConfig(BaseModel, extra="forbid"):
    """Exact + MinHash near-duplicate removal.

    ``threshold`` is the Jaccard similarity of two rows' shingle sets (word n-grams, CJK character
    n-grams, after normalisation) above which they count as duplicates. (b, r) default to the curve
    that proposes >= 99 % of pairs at the threshold (32 x 4 for 0.6 with 128 permutations); every
    proposed pair is verified on its signature.
    """

    exact: bool = Field(True, description="drop rows whose normalised text is identical")
    # The one default for near-duplicate removal, used by runs (`dedup:`), `synth dedup` and the card:
    # off, because it drops rows that differ (how many depends on the threshold) and must be asked for.
    near: bool = Field(False, description="drop MinHash near-duplicates (off unless asked for)")
    threshold: float = Field(0.6, gt=0.0, le=1.0, description="Jaccard at which two rows are duplicates")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations")
    ngram: int = Field(3, ge=1, le=20, description="word n-gram size for spaced text")
    cjk_ngram: int = Field(3, ge=1, le=20, description="character n-gram size for Chinese/Japanese/Korean text")
    bands: int | None = Field(None, ge=1, description="LSH bands b (default: chosen from threshold)")
    rows: int | None = Field(None, ge=1, description="LSH rows per band r (default: chosen from threshold)")
    seed: int = Field(1, ge=0, description="MinHash seed (datasketch's default is 1)")
    fields: list[str] | None = Field(None, description="text fields to compare; default: see row_text")
    id_field: str = Field("id", description="column whose value names a row in reports (else its position)")
    keep: Literal["first", "longest"] = Field("first", description="which row of a cluster survives")
    index: str | None = Field(None, description="directory of a persisted index (or redis://host:port/name)")
    workers: int | None = Field(None, ge=1, description="processes for signatures (default: all cores)")

    @model_validator(mode="after")
    def _check_near_settings(self) -> "DedupConfig":
        # a threshold given while near is off would be silently ignored: say so instead (an index's
        # MinHash parameters may still be named, to match it)
        only_near = {"threshold"} if self.index else {"threshold", "bands", "rows", "num_perm", "ngram", "cjk_ngram",
                                                      "seed"}
        given = sorted(only_near & self.model_fields_set)
        if given and not self.near:
            raise ValueError(f"{', '.join(given)} only shape near-duplicate search, which is off: set near: true "
                             "(--near for `synth dedup`) or remove them")
        return self

    @model_validator(mode="after")
    def _check_bands(self) -> "DedupConfig":
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they follow from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands x rows = {self.bands} x {self.rows} = {self.bands * self.rows} exceeds num_perm "
                f"{self.num_perm}: lower them or raise num_perm"
            )
        return self

    @property
    def params(self) -> tuple[int, int]:
        """(bands, rows) actually used."""
        if self.bands is not None:
            return self.bands, self.rows  # type: ignore[return-value]
        return choose_params(self.threshold, self.num_perm)

    def index_tag(self) -> str:
        """What an index depends on: rows indexed under another tag cannot be compared."""
        b, r = self.params
        ng = f"{self.ngram}ng" if self.cjk_ngram == self.ngram else f"{self.ngram}ng{self.cjk_ngram}cjk"
        return f"{ng}_{self.num_perm}p_{b}b_{r}r_s{self.seed}"

    def __str__(self) -> str:  # e.g. 3ng_128p_32b_4r_s1_t0.6
        return f"{self.index_tag()}_t{self.threshold:g}"


class DecontamConfig(BaseModel, extra="forbid"):
    """Drop rows sharing a word n-gram with a benchmark (GPT-3 appendix C / lm-eval-harness style).

    ``ngram`` 13 is the lm-eval-harness default; 8 suits short math problems (s1 / open-r1).
    CJK text counts each character as a word.
    """

    benchmarks: list[str] = Field(..., min_length=1, description="benchmark files as FILE or FILE:FIELD")
    ngram: int = Field(13, ge=3, le=50, description="n-gram size in words")
    fields: list[str] | None = Field(None, description="row fields to check; default: see row_text")
    id_field: str = Field("id", description="column naming a row in reports")
