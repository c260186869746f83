"""Stages after generation, one per module: the base that keeps the books (base), a filter
(filter), the recipe's own rejects (recipe_rejects), dedup and decontamination (dedup), and running
them over a stream (streaming)."""

from synth.stages.base import Stage, StageReport, run_stages, run_stages_async
from synth.stages.dedup import DedupStage
from synth.stages.filter import FilterStage
from synth.stages.recipe_rejects import RecipeRejectStage
from synth.stages.streaming import can_stream, run_stages_spooled

__all__ = ["DedupStage", "FilterStage", "RecipeRejectStage", "Stage", "StageReport", "can_stream", "run_stages",
           "run_stages_async", "run_stages_spooled"]
