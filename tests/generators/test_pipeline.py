"""The pipeline base class, through a tiny real pipeline, plus the contract's own self-test."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from pipeline_contract import PipelineContractTests, check_batch_matches_single, check_seed_determinism
from tiny_pipeline import TinyDenoisePipeline, TinyDenoiser, TinyOutput, get_dummy_components

from generators import ModelNotFoundError, randn_tensor
from generators.pipeline import Pipeline


class TestTinyPipelineContract(PipelineContractTests):
    pipeline_class = TinyDenoisePipeline
    output_class = TinyOutput

    def get_dummy_components(self):
        return get_dummy_components(Path(tempfile.mkdtemp(prefix="ctrlgen-tiny-")))

    def get_dummy_inputs(self, seed=0):
        return {"prompt": "a red heart", "num_inference_steps": 3, "generator": torch.Generator().manual_seed(seed)}

    def samples(self, output):
        return [s.numpy() for s in output.samples]


class _IgnoresGenerator(TinyDenoisePipeline):
    """Broken on purpose: draws from the global RNG."""

    def __call__(self, prompt, num_samples=1, generator=None, **kwargs):
        return super().__call__(prompt, num_samples=num_samples, generator=None, **kwargs)


class _OneGeneratorForAll(TinyDenoisePipeline):
    """Broken on purpose: uses only the first generator of a list for the whole batch."""

    def __call__(self, prompt, num_samples=1, generator=None, **kwargs):
        if isinstance(generator, list):
            generator = generator[0]
        return super().__call__(prompt, num_samples=num_samples, generator=generator, **kwargs)


def _quiet(pipe):
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_the_contract_catches_a_pipeline_that_ignores_its_generator(tmp_path):
    pipe = _quiet(_IgnoresGenerator(**get_dummy_components(tmp_path)))
    run = lambda seed: pipe("a red heart", generator=torch.Generator().manual_seed(seed))  # noqa: E731
    with pytest.raises(AssertionError, match="same seed, different output"):
        check_seed_determinism(run, lambda out: [s.numpy() for s in out.samples])


def test_the_contract_catches_a_batch_that_differs_from_single_draws(tmp_path):
    pipe = _quiet(_OneGeneratorForAll(**get_dummy_components(tmp_path)))
    gens = lambda seeds: [torch.Generator().manual_seed(s) for s in seeds]  # noqa: E731
    with pytest.raises(AssertionError, match="batched samples differ"):
        check_batch_matches_single(
            lambda seeds: pipe("a red heart", num_samples=len(seeds), generator=gens(seeds)),
            lambda seed: pipe("a red heart", num_samples=1, generator=gens([seed])),
            lambda out: [s.numpy() for s in out.samples],
        )


def test_saved_layout_is_safetensors_and_json_only(tmp_path):
    pipe = TinyDenoisePipeline(**get_dummy_components(tmp_path))
    saved = pipe.save_pretrained(tmp_path / "saved")
    config = json.loads((saved / "pipeline.json").read_text())
    assert config["_class_name"] == "TinyDenoisePipeline" and config["config"] == {"sigma": 1.0}
    assert config["components"]["text_model"] == ["transformers", "BertModel"]
    assert config["components"]["denoiser"][1] == "TinyDenoiser"
    suffixes = {p.suffix for p in saved.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".safetensors", ".txt"}, suffixes


def test_from_pretrained_overrides_and_errors(tmp_path):
    pipe = TinyDenoisePipeline(**get_dummy_components(tmp_path))
    saved = pipe.save_pretrained(tmp_path / "saved")
    other = TinyDenoiser(sample_dim=8, text_dim=16, hidden_dim=32)
    loaded = TinyDenoisePipeline.from_pretrained(saved, denoiser=other, sigma=0.5)
    assert loaded.denoiser is other and loaded.config["sigma"] == 0.5
    with pytest.raises(TypeError, match="unknown keyword arguments: sigmaa"):
        TinyDenoisePipeline.from_pretrained(saved, sigmaa=1.0)
    with pytest.raises(ModelNotFoundError, match="ships no embedded weights"):
        TinyDenoisePipeline.from_pretrained("embedded")
    with pytest.raises(ModelNotFoundError, match=r"no pipeline\.json"):
        TinyDenoisePipeline.from_pretrained(tmp_path)


def test_a_tampered_pipeline_json_cannot_import_arbitrary_code(tmp_path):
    saved = TinyDenoisePipeline(**get_dummy_components(tmp_path)).save_pretrained(tmp_path / "saved")
    config = json.loads((saved / "pipeline.json").read_text())
    for module, name, message in [
        ("os", "system", "refusing to load os.system: not a ctrlgen model"),
        ("antigravity", "Anything", "refusing to load antigravity.Anything: import antigravity first"),
        ("generators.batch", "run_batch", "refusing to load generators.batch.run_batch: not a ctrlgen model"),
    ]:
        config["components"]["denoiser"] = [module, name]
        (saved / "pipeline.json").write_text(json.dumps(config))
        with pytest.raises(ValueError, match=message):
            TinyDenoisePipeline.from_pretrained(saved)
    assert "antigravity" not in sys.modules


def test_wrong_class_is_named(tmp_path):
    saved = TinyDenoisePipeline(**get_dummy_components(tmp_path)).save_pretrained(tmp_path / "saved")
    with pytest.raises(ValueError, match="holds a TinyDenoisePipeline, not a _IgnoresGenerator"):
        _IgnoresGenerator.from_pretrained(saved)


def test_to_moves_every_torch_component(tmp_path):
    pipe = TinyDenoisePipeline(**get_dummy_components(tmp_path)).to(dtype=torch.float64)
    assert pipe.dtype == torch.float64 and pipe.device == torch.device("cpu")
    assert next(pipe.text_model.parameters()).dtype == torch.float64
    out = _quiet(pipe)("a red heart", generator=torch.Generator().manual_seed(0))
    assert out.samples.dtype == torch.float64
    with pytest.raises(TypeError, match=r"dtype must be a torch\.dtype"):
        pipe.to(dtype="float16")


def test_callback_can_replace_the_sample(tmp_path):
    pipe = _quiet(TinyDenoisePipeline(**get_dummy_components(tmp_path)))

    def zero(p, step, t, tensors):
        return {"sample": torch.zeros_like(tensors["sample"])}

    out = pipe("a red heart", num_inference_steps=2, generator=torch.Generator().manual_seed(0), callback_on_step_end=zero)
    plain = pipe("a red heart", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(out.samples, plain.samples)


def test_randn_tensor_per_sample_generators_match_single_draws():
    batch = randn_tensor((3, 5), [torch.Generator().manual_seed(s) for s in range(3)])
    for s in range(3):
        np.testing.assert_array_equal(batch[s : s + 1].numpy(), randn_tensor((1, 5), torch.Generator().manual_seed(s)).numpy())
    with pytest.raises(ValueError, match="got 2 generators for a batch of 3"):
        randn_tensor((3, 5), [torch.Generator(), torch.Generator()])


def test_check_generator_messages():
    Pipeline.check_generator(None, 2)
    Pipeline.check_generator(torch.Generator(), 2)
    with pytest.raises(ValueError, match="one per sample"):
        Pipeline.check_generator([torch.Generator()], 2)
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        Pipeline.check_generator(0, 2)
