"""The ``edit`` batch task: one manifest line (``image`` + instruction as ``prompt``) -> ``edited.png``, ``mask.png``, ``plan.json``.

Options are EditPipeline keyword arguments (``mask`` as a path) plus ``model`` (default
``"embedded"``). Pipelines are loaded once per worker process and reused across jobs.
"""

from __future__ import annotations

from pathlib import Path

from generators import BatchTask, Job, split_options, worker_pipeline

CALL_OPTIONS = frozenset({"mask", "num_samples"})


def run_edit_job(job: Job, out_dir: Path) -> dict:
    import torch

    model, options = split_options(job, CALL_OPTIONS)
    pipe = worker_pipeline("editing.pipeline:EditPipeline", model)
    out = pipe(job.image, job.prompt, generator=torch.Generator().manual_seed(job.seed), output_dir=out_dir, **options)
    return {"model": model, "plans": [plan.to_dict() for plan in out.plans],
            "reports": [{k: v for k, v in report.items() if k != "instances"} for report in out.reports]}


EDIT_TASK = BatchTask("edit", run_edit_job, needs_image=True, description="image + instruction to an edited image; options: EditPipeline arguments and model")
