"""The ``svg`` batch task: one manifest line -> ``0.svg, 0.png, …`` best first.

Options are SVGPipeline keyword arguments plus ``model`` (default ``"embedded"``). Pipelines are
loaded once per worker process and reused across jobs.
"""

from __future__ import annotations

import io
from pathlib import Path

from generators import BatchTask, Job, split_options, worker_pipeline

CALL_OPTIONS = frozenset({"num_samples", "prompt_format", "max_new_tokens", "temperature", "top_p", "image_size"})


def run_svg_job(job: Job, out_dir: Path) -> dict:
    import torch

    model, options = split_options(job, CALL_OPTIONS)
    pipe = worker_pipeline("svg.pipeline:SVGPipeline", model)
    out = pipe(job.prompt, generator=torch.Generator().manual_seed(job.seed), **options)
    for index, (svg_text, image) in enumerate(zip(out.svgs, out.images, strict=True)):
        (out_dir / f"{index}.svg").write_text(svg_text)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        (out_dir / f"{index}.png").write_bytes(buffer.getvalue())
    if not out.svgs:
        raise RuntimeError(f"none of the {len(out.texts)} candidates could be made a valid, non-blank SVG")
    return {"scores": out.scores, "returned": len(out.svgs), "rejected": len(out.rejected), "model": model}


SVG_TASK = BatchTask("svg", run_svg_job, description="text to SVG; options: SVGPipeline arguments and model")
