"""Turn a prior training run into a ``LeadFollowPipeline`` directory (what ``from_pretrained`` loads).

    python -m motion.train.package RUN -o DIR [--steps 20] [--guidance-scale 2.5]

Takes ``RUN/final`` when training finished, else the last checkpoint, and records the sampling
defaults (DDIM steps, classifier-free guidance) chosen for the model in ``pipeline.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from ..features import FeatureNormalizer
from ..models import InterDenoiser
from ..pipeline import LeadFollowPipeline


def package_run(run: str | Path, output: str | Path, num_inference_steps: int = 50, guidance_scale: float = 3.5) -> Path:
    run = Path(run)
    final, checkpoint = run / "final", run / "checkpoint"
    if (final / "denoiser").is_dir():
        denoiser_dir, training = final / "denoiser", json.loads((final / "training.json").read_text())
    elif (checkpoint / "state.json").is_file():
        denoiser_dir, training = checkpoint / "model", {}
    else:
        raise FileNotFoundError(f"{run} holds neither final/denoiser nor a checkpoint; train with python -m motion.train.prior")
    pipe = LeadFollowPipeline(
        denoiser=InterDenoiser.from_pretrained(denoiser_dir).eval(),
        normalizer=FeatureNormalizer.load(run / "normalizer.safetensors"),
        text_encoder=training.get("text_encoder", "minilm"),
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
    )
    return pipe.save_pretrained(output)


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m motion.train.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a directory written by python -m motion.train.prior")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--steps", type=int, default=50, help="default DDIM steps of the pipeline")
    parser.add_argument("--guidance-scale", type=float, default=3.5, help="default classifier-free guidance scale")
    args = parser.parse_args(argv)
    path = package_run(args.run, args.output, args.steps, args.guidance_scale)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
