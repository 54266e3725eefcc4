"""Train the embedded SVG model from scratch: tokenizer, a small Llama-style LM, the curriculum.

    python -m svg.train.embedded --data DATA -o runs/embedded [--max-steps 3000 600 400]

1. trains the number-aware BPE tokenizer on the training split (captions and SVGs);
2. builds a small ``LlamaConfig`` model (sized to train in <= 90 min on a 2-core CPU);
3. runs ``svg.train.sft`` over the curriculum, resumable;
4. ``--export DIR`` saves an ``SVGPipeline`` (model + tokenizer + sampling defaults) there, the
   layout ``SVGPipeline.from_pretrained`` reads (``svg/embedded`` in this repository).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from ..dataset import read_split
from . import sft
from .tokenizer import train_svg_tokenizer

MODEL_SIZES = {
    # name: (hidden, layers, heads, intermediate)
    "tiny": (64, 2, 4, 128),  # smoke tests
    "small": (192, 4, 6, 512),  # the embedded model: ~2.5M parameters, near compute-optimal for a CPU hour
}


def build_initial_model(data: str, directory: Path, size: str, vocab_size: int, max_positions: int, seed: int, limit: int | None) -> Path:
    """Tokenizer + randomly initialised LM saved to ``directory`` (skipped when already there)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if (directory / "config.json").is_file():
        return directory
    records = read_split(data, "train", limit=limit)
    texts = [text for r in records for text in (r.caption, r.svg)]
    tokenizer = train_svg_tokenizer(texts, vocab_size=vocab_size)
    tokenizer.model_max_length = max_positions
    hidden, layers, heads, intermediate = MODEL_SIZES[size]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        intermediate_size=intermediate,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def export_pipeline(model_dir: str | Path, export_dir: str | Path, max_new_tokens: int, temperature: float, top_p: float) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..pipeline import SVGPipeline

    pipe = SVGPipeline(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        tokenizer=AutoTokenizer.from_pretrained(model_dir),
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
    )
    pipe.save_pretrained(export_dir)
    return Path(export_dir)


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m svg.train.embedded", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--size", choices=sorted(MODEL_SIZES), default="small")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--export", default=None, metavar="DIR", help="save the trained SVGPipeline here")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--top-p", type=float, default=0.95)
    args, sft_args = parser.parse_known_args(argv)
    output = Path(args.output_dir)
    limit = None
    if "--limit" in sft_args:
        limit = int(sft_args[sft_args.index("--limit") + 1])
    initial = build_initial_model(args.data, output / "initial", args.size, args.vocab_size, max(1024, args.max_length), 0, limit)
    sft.main(["--model", str(initial), "--data", args.data, "-o", str(output), "--max-length", str(args.max_length), *sft_args])
    (output / "embedded.json").write_text(json.dumps(vars(args), indent=1))
    if args.export:
        export_pipeline(output / "final", args.export, args.max_new_tokens, args.temperature, args.top_p)
    return output / "final"


if __name__ == "__main__":
    main()
