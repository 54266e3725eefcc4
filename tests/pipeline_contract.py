"""The contract every ctrlgen pipeline is tested against (the diffusers PipelineTesterMixin idea).

A test class inherits :class:`PipelineContractTests` and provides ``pipeline_class``,
``get_dummy_components()`` (tiny random models built from configs in code),
``get_dummy_inputs(seed)`` and ``samples(output)`` (one comparable numpy array per sample).
The checks are plain functions too, so their own tests can show each one fails on a broken pipeline.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import numpy as np
import pytest
import torch

from generators import BaseOutput, Pipeline

SHARED_CALL_ARGUMENTS = ("num_samples", "generator", "callback_on_step_end", "callback_on_step_end_tensor_inputs")


def check_call_signature(pipeline_class: type[Pipeline], main_input: str) -> None:
    params = inspect.signature(pipeline_class.__call__).parameters
    names = list(params)
    assert names[1] == main_input, f"{pipeline_class.__name__}.__call__ should take {main_input!r} first, takes {names[1]!r}"
    missing = [n for n in SHARED_CALL_ARGUMENTS if n not in params]
    assert not missing, f"{pipeline_class.__name__}.__call__ lacks the shared arguments {missing}"
    assert params["generator"].default is None and params["num_samples"].default == 1


def check_output(output: Any, output_class: type[BaseOutput]) -> None:
    assert isinstance(output, output_class), f"expected a {output_class.__name__}, got {type(output).__name__}"
    assert dataclasses.is_dataclass(output) and isinstance(output, BaseOutput)


def _as_bytes(arrays: list[np.ndarray]) -> list[bytes]:
    return [np.ascontiguousarray(a).tobytes() + str(a.shape).encode() for a in arrays]


def check_seed_determinism(run, samples) -> None:
    """``run(seed)`` twice with one seed gives identical samples; another seed gives others."""
    first, second, other = samples(run(0)), samples(run(0)), samples(run(1))
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b, err_msg="same seed, different output")
    assert _as_bytes(first) != _as_bytes(other), "different seeds gave identical output"


def check_batch_matches_single(run_many, run_one, samples, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """A batch drawn with one generator per sample equals the samples drawn one at a time.

    Outputs are ranked best first, so samples are matched as multisets; batched matrix products
    may round differently, hence the tolerance.
    """
    batch = samples(run_many([0, 1]))
    unmatched = samples(run_one(0)) + samples(run_one(1))
    assert len(batch) == len(unmatched), f"batch gave {len(batch)} samples, single draws {len(unmatched)}"
    for sample in batch:
        match = next(
            (i for i, other in enumerate(unmatched) if other.shape == sample.shape and np.allclose(sample, other, rtol=rtol, atol=atol)),
            None,
        )
        assert match is not None, "batched samples differ from the same samples drawn singly"
        unmatched.pop(match)


class PipelineContractTests:
    pipeline_class: type[Pipeline]
    output_class: type[BaseOutput]
    main_input = "prompt"
    #: absolute tolerance of "batch equals single"; raise it only with a reason and in the output's units
    batch_atol = 1e-5

    def get_dummy_components(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_dummy_inputs(self, seed: int = 0) -> dict[str, Any]:
        raise NotImplementedError

    def samples(self, output: BaseOutput) -> list[np.ndarray]:
        raise NotImplementedError

    def get_pipeline(self) -> Pipeline:
        pipe = self.pipeline_class(**self.get_dummy_components())
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def _run(self, pipe: Pipeline, seed: int, **overrides: Any) -> BaseOutput:
        return pipe(**{**self.get_dummy_inputs(seed), **overrides})

    def test_call_signature(self):
        check_call_signature(self.pipeline_class, self.main_input)

    def test_output_dataclass(self):
        check_output(self._run(self.get_pipeline(), 0), self.output_class)

    def test_seed_determinism(self):
        pipe = self.get_pipeline()
        check_seed_determinism(lambda seed: self._run(pipe, seed), self.samples)

    def test_batch_matches_single(self):
        pipe = self.get_pipeline()

        def run_many(seeds):
            gens = [torch.Generator().manual_seed(s) for s in seeds]
            return self._run(pipe, 0, num_samples=len(seeds), generator=gens)

        def run_one(seed):
            return self._run(pipe, 0, num_samples=1, generator=[torch.Generator().manual_seed(seed)])

        check_batch_matches_single(run_many, run_one, self.samples, atol=self.batch_atol)

    def test_save_load_round_trip(self, tmp_path):
        pipe = self.get_pipeline()
        expected = self.samples(self._run(pipe, 0))
        pipe.save_pretrained(tmp_path / "saved")
        loaded = self.pipeline_class.from_pretrained(tmp_path / "saved")
        loaded.set_progress_bar_config(disable=True)
        assert type(loaded) is self.pipeline_class
        for a, b in zip(expected, self.samples(self._run(loaded, 0)), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    def test_progress_bar_can_be_disabled(self, capsys):
        pipe = self.get_pipeline()
        pipe.set_progress_bar_config(disable=False)
        self._run(pipe, 0)
        assert capsys.readouterr().err, "no progress bar was shown while enabled"
        pipe.set_progress_bar_config(disable=True)
        self._run(pipe, 0)
        assert not capsys.readouterr().err, "progress bar shown although disabled"

    def test_callback_on_step_end(self):
        pipe = self.get_pipeline()
        calls = []
        names = list(pipe._callback_tensor_inputs[:1])

        def callback(p, step, timestep, tensors):
            assert p is pipe and set(tensors) == set(names)
            calls.append(step)
            return tensors

        self._run(pipe, 0, callback_on_step_end=callback, callback_on_step_end_tensor_inputs=names)
        assert calls and calls == sorted(calls), f"callback steps {calls}"

    def test_bad_arguments_raise_clear_errors(self):
        pipe = self.get_pipeline()
        with pytest.raises(ValueError, match="num_samples"):
            self._run(pipe, 0, num_samples=0)
        with pytest.raises(TypeError, match="generator"):
            self._run(pipe, 0, generator="not a generator")
        with pytest.raises(ValueError, match="callback_on_step_end_tensor_inputs"):
            self._run(pipe, 0, callback_on_step_end_tensor_inputs=["no_such_tensor"])
