"""Batch tasks for the runner's tests. Workers import this module by name (PYTHONPATH), as they
would a generator's task module."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from generators import BatchTask, Job


def expected_text(job_prompt: str, seed: int, repeat: int = 200) -> str:
    return f"{job_prompt}|{seed}\n" * repeat


def _echo(job: Job, out_dir: Path) -> dict:
    options = job.options
    time.sleep(float(options.get("sleep", 0)))
    if options.get("fail"):
        raise RuntimeError(f"asked to fail on {job.prompt!r}")
    if options.get("crash"):
        os._exit(3)  # a worker dying mid-job, like a segfault or the OOM killer
    (out_dir / "echo.txt").write_text(expected_text(job.prompt, job.seed, int(options.get("repeat", 200))))
    (out_dir / "nested").mkdir()
    (out_dir / "nested" / "info.json").write_text(json.dumps({"prompt": job.prompt}))
    return {"scores": [job.seed * 0.5], "length": len(job.prompt)}


def _echo_image(job: Job, out_dir: Path) -> dict:
    (out_dir / "copy.bin").write_bytes(Path(job.image).read_bytes())
    return {}


ECHO = BatchTask("echo", _echo, description="writes the prompt; options: sleep, fail, crash, repeat")
ECHO_IMAGE = BatchTask("echo-image", _echo_image, needs_image=True, description="copies the job's image")
