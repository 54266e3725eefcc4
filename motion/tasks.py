"""The ``motion`` batch task: one manifest line -> ``motion.npz``, ``person_a.bvh``, ``person_b.bvh``, ``preview.gif``.

Options are LeadFollowPipeline keyword arguments (trajectories as [[x, z], ...] lists) plus
``model`` (default ``"embedded"``). With ``num_samples`` > 1 each sample gets a ``sample_i``
folder. Pipelines are loaded once per worker process and reused across jobs.
"""

from __future__ import annotations

from pathlib import Path

from generators import BatchTask, Job, split_options, worker_pipeline

CALL_OPTIONS = frozenset({"leader_trajectory", "follower_trajectory", "leader", "num_frames", "num_inference_steps",
                          "guidance_scale", "num_samples", "preview", "use_pace_controller", "use_adapter"})


def run_motion_job(job: Job, out_dir: Path) -> dict:
    import torch

    model, options = split_options(job, CALL_OPTIONS)
    pipe = worker_pipeline("motion.pipeline:LeadFollowPipeline", model)
    out = pipe(job.prompt, generator=torch.Generator().manual_seed(job.seed), output_dir=out_dir, **options)
    return {"model": model, "leaders": out.leaders, "reports": out.reports}


MOTION_TASK = BatchTask("motion", run_motion_job, description="text + leader path to two-person motion; options: LeadFollowPipeline arguments and model")
