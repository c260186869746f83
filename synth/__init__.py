"""synth: build verified synthetic training data for language models.

The library API; the command line (`synth run`, `synth dedup`, ...) is built on the same pieces.
"""

__version__ = "0.1.0"
# The name on PyPI (`pip install synth-datagen`): `synth` there is an unrelated project. The import package
# and the command stay `synth`; read the installed version with importlib.metadata.version(__distribution__).
__distribution__ = "synth-datagen"

from synth.config import RunConfig, load_config
from synth.engines.base import Capabilities, Completion, Engine, Sampling
from synth.errors import (ConfigError, EngineError, EngineUnavailable, InputError, PluginError, RecipeError,
                          RequestFailed, RequestRejected, SynthError)
from synth.filter import Filter
from synth.llm import LLM
from synth.recipe import Recipe, RecipeOptions

__all__ = [
    "LLM", "Capabilities", "Completion", "ConfigError", "Engine", "EngineError", "EngineUnavailable", "Filter",
    "InputError", "PluginError", "Recipe", "RecipeError", "RecipeOptions", "RequestFailed", "RequestRejected",
    "RunConfig", "Sampling", "SynthError", "load_config", "__version__",
]
