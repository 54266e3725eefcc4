"""Batch tasks: what one manifest line runs.

A task is a :class:`BatchTask` whose ``run(job, out_dir)`` writes the job's files into
``out_dir`` and returns a JSON-serialisable dict (scores, info) for the job's sidecar. Generator
packages publish their tasks under the ``ctrlgen.tasks`` entry-point group; users can add their
own without packaging through ``CTRLGEN_TASKS="name=module:attr,other=module:attr"`` or
:func:`register_task`. Task modules must import quickly: load models inside ``run``, once per process.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .errors import UsageError

TASK_ENTRY_POINT_GROUP = "ctrlgen.tasks"
TASKS_ENV = "CTRLGEN_TASKS"


@dataclasses.dataclass(frozen=True)
class Job:
    """One manifest line, validated. ``image`` is an absolute path or None."""

    id: str
    task: str
    prompt: str
    seed: int = 0
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    image: str | None = None
    line: int = 0

    def inputs(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "image": self.image, "seed": self.seed, "options": dict(self.options)}


@dataclasses.dataclass(frozen=True)
class BatchTask:
    name: str
    run: Callable[[Job, Path], Mapping[str, Any] | None]
    needs_image: bool = False
    description: str = ""


def split_options(job: Job, allowed: frozenset[str], default_model: str = "embedded") -> tuple[str, dict[str, Any]]:
    """``(model, pipeline keyword arguments)`` of a job: ``model`` is taken out, anything else not in
    ``allowed`` is a ValueError naming the task's options."""
    options = dict(job.options)
    model = options.pop("model", default_model)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown {job.task} options {unknown}; allowed: {sorted(allowed | {'model'})}")
    return model, options


@functools.lru_cache(maxsize=4)
def worker_pipeline(pipeline_class: str, model: str):
    """``pipeline_class`` ("package.module:Class") loaded from ``model`` once per worker process, progress bars off."""
    module_name, _, class_name = pipeline_class.partition(":")
    pipe = getattr(importlib.import_module(module_name), class_name).from_pretrained(model)
    pipe.set_progress_bar_config(disable=True)
    return pipe


_registered: dict[str, BatchTask] = {}


def register_task(task: BatchTask) -> BatchTask:
    """Make ``task`` available to manifests run from this process.

    Its ``run`` function must be importable by name (module-level) so worker processes can load it.
    """
    if not isinstance(task, BatchTask):
        raise TypeError(f"register_task expects a BatchTask, got {type(task).__name__}")
    _registered[task.name] = task
    return task


def task_specs() -> dict[str, str]:
    """Task name -> where it comes from (``module:attr`` or ``registered``)."""
    specs = {ep.name: ep.value for ep in entry_points(group=TASK_ENTRY_POINT_GROUP)}
    for item in filter(None, (s.strip() for s in os.environ.get(TASKS_ENV, "").split(","))):
        name, sep, target = item.partition("=")
        if not sep or ":" not in target:
            raise UsageError(f"{TASKS_ENV} entries must look like name=module:attr, got {item!r}")
        specs[name.strip()] = target.strip()
    specs.update({name: "registered" for name in _registered})
    return specs


def load_task(name: str) -> BatchTask:
    specs = task_specs()
    if name not in specs:
        raise UsageError(f"unknown task {name!r}; available: {', '.join(sorted(specs)) or 'none'}")
    if name in _registered:
        return _registered[name]
    module_name, _, attr = specs[name].partition(":")
    try:
        task = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise UsageError(f"task {name!r} ({specs[name]}) cannot be loaded: {err}") from err
    if not isinstance(task, BatchTask):
        raise UsageError(f"task {name!r} ({specs[name]}) is a {type(task).__name__}, not a BatchTask")
    return task
