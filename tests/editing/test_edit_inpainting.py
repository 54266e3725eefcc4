"""Diffusion inpainting backends: a tiny random SD inpainting pipeline saved and loaded like a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pipeline_contract import PipelineContractTests
from tiny_models import tiny_flux_fill_pipeline, tiny_sd_inpaint_pipeline, tiny_sdxl_inpaint_pipeline

from editing import DiffusionInpainter, EditOutput, EditPipeline, EditPlan, compose
from editing.inpainting import crop_box, snap_size


def scene():
    return compose((96, 80), (245, 238, 220), [("circle", "red", (25, 40), 14), ("square", "blue", (70, 40), 14)])


@pytest.fixture(scope="module")
def inpainter(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sd-inpaint")
    tiny_sd_inpaint_pipeline().save_pretrained(directory, safe_serialization=True)
    return DiffusionInpainter.from_pretrained(directory, resolution=32, num_inference_steps=2)


def test_sizes_snap_to_the_backend_and_come_back():
    assert snap_size(300, 200, 512, 8) == (512, 344)
    assert snap_size(20, 10, 512, 16) == (512, 256)
    mask = np.zeros((50, 60), dtype=bool)
    mask[10:20, 30:40] = True
    assert crop_box(mask, 5) == (25, 5, 45, 25)
    assert crop_box(mask, 100) == (0, 0, 60, 50)


@pytest.mark.parametrize("build", [tiny_sd_inpaint_pipeline, tiny_sdxl_inpaint_pipeline, tiny_flux_fill_pipeline], ids=["sd", "sdxl", "flux-fill"])
def test_only_the_hole_changes(build, tmp_path):
    build().save_pretrained(tmp_path / "checkpoint", safe_serialization=True)
    inpainter = DiffusionInpainter.from_pretrained(tmp_path / "checkpoint", resolution=32, num_inference_steps=2)
    assert type(inpainter.pipeline).__name__ == type(build()).__name__
    image = scene().image
    hole = np.zeros(image.shape[:2], dtype=bool)
    hole[30:50, 15:35] = True
    out = inpainter.inpaint(image, hole, "grass", generator=torch.Generator().manual_seed(0))
    assert out.shape == image.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[~hole], image[~hole])
    assert (out[hole] != image[hole]).any()
    again = inpainter.inpaint(image, hole, "grass", generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(out, again)


def test_round_trip_and_refusals(inpainter, tmp_path):
    inpainter.save_pretrained(tmp_path / "saved")
    loaded = DiffusionInpainter.from_pretrained(tmp_path / "saved")
    assert loaded.settings == inpainter.settings and (tmp_path / "saved" / "inpainter.json").is_file()
    with pytest.raises(ValueError, match="not a diffusers inpainting pipeline"):
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
        DiffusionInpainter.from_pretrained(tmp_path / "other")
    with pytest.raises(ValueError, match="multiple of 8"):
        DiffusionInpainter(inpainter.pipeline, resolution=30)
    with pytest.raises(TypeError, match="pipeline must be one of"):
        DiffusionInpainter(object())


class TestEditPipelineWithDiffusionContract(PipelineContractTests):
    pipeline_class = EditPipeline
    output_class = EditOutput
    main_input = "image"

    def get_dummy_components(self):
        pipe = tiny_sd_inpaint_pipeline()
        pipe.set_progress_bar_config(disable=True)
        return {"inpainter": DiffusionInpainter(pipe, resolution=32, num_inference_steps=2)}

    def get_dummy_inputs(self, seed: int = 0):
        return {"image": scene().image, "instruction": "replace the blue square with a tree",
                "generator": torch.Generator().manual_seed(seed)}

    def samples(self, output):
        return [np.asarray(image) for image in output.images]


def test_the_pipeline_sends_textured_holes_and_free_assets_to_the_inpainter(inpainter):
    pipe = EditPipeline(inpainter=inpainter)
    pipe.set_progress_bar_config(disable=True)
    s = scene()
    out = pipe(s.image, "replace the blue square with a tree", generator=torch.Generator().manual_seed(0))
    assert out.reports[0]["method"] == "diffusion" and out.reports[0]["outside_band_exact"]
    flat = pipe(s.image, "remove the red circle")  # a flat ring is filled exactly, not by the model
    assert flat.reports[0]["method"] == "fill (flat)"
    shape = pipe(s.image, "replace the red circle with a green star")  # simple shapes are drawn
    assert "drawn star" in shape.reports[0]["method"]
    with pytest.raises(TypeError, match="inpainter must be"):
        EditPipeline(inpainter="sd")


def test_a_scene_background_is_painted_around_the_subjects(inpainter):
    pipe = EditPipeline(inpainter=inpainter)
    pipe.set_progress_bar_config(disable=True)
    s = scene()
    subjects = s.objects[0].mask | s.objects[1].mask
    out = pipe(s.image, "put them on a beach", plan=EditPlan("background", None, prompt="a sandy beach", rationale="test"),
               generator=torch.Generator().manual_seed(0))
    edited = np.asarray(out.images[0])
    assert out.reports[0]["method"] == "diffusion background"
    np.testing.assert_array_equal(edited[subjects], s.image[subjects])
    assert (edited[~subjects] != s.image[~subjects]).any()
    white = pipe(s.image, "make the background white")  # a colour is still a flat fill
    assert white.reports[0]["method"] == "flat background"
