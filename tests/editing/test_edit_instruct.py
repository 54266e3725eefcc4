"""Global edits from an instruction through diffusers: tiny random InstructPix2Pix and FLUX.1 Kontext
saved like checkpoints and loaded offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import tiny_flux_kontext_pipeline, tiny_instruct_pix2pix_pipeline

from editing import EditPipeline, InstructionEditor, compose

BUILDERS = {"instruct-pix2pix": tiny_instruct_pix2pix_pipeline, "flux-kontext": tiny_flux_kontext_pipeline}


def scene():
    return compose((72, 56), (245, 238, 220), [("circle", "red", (20, 28), 12), ("square", "blue", (52, 28), 12)])


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def checkpoint(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(request.param)
    BUILDERS[request.param]().save_pretrained(directory, safe_serialization=True)
    return directory


def test_the_whole_image_is_edited_at_its_own_size(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    editor = InstructionEditor.from_pretrained(checkpoint, resolution=32, num_inference_steps=2)
    image = scene().image
    out = editor.edit(image, "make it look like winter", generator=torch.Generator().manual_seed(0))
    assert out.shape == image.shape and out.dtype == np.uint8 and (out != image).any()
    np.testing.assert_array_equal(out, editor.edit(image, "make it look like winter", generator=torch.Generator().manual_seed(0)))
    editor.save_pretrained(tmp_path / "saved")
    loaded = InstructionEditor.from_pretrained(tmp_path / "saved")
    assert loaded.settings == editor.settings and type(loaded.pipeline) is type(editor.pipeline)
    with pytest.raises(ValueError, match="instruction must be a non-empty string"):
        editor.edit(image, "")
    with pytest.raises(ValueError, match="resolution must be a positive multiple"):
        InstructionEditor(editor.pipeline, resolution=30)


def test_the_pipeline_sends_only_non_tonal_global_edits_to_the_editor(tmp_path):
    tiny_instruct_pix2pix_pipeline().save_pretrained(tmp_path / "p2p", safe_serialization=True)
    editor = InstructionEditor.from_pretrained(tmp_path / "p2p", resolution=32, num_inference_steps=2)
    image = scene().image
    bare = EditPipeline()
    bare.set_progress_bar_config(disable=True)
    unchanged = bare(image, "make it look like winter")  # the grammar reads a restyle
    assert unchanged.plans[0].category == "global" and "no instruction_editor" in unchanged.reports[0]["method"]
    np.testing.assert_array_equal(np.asarray(unchanged.images[0]), image)
    pipe = EditPipeline(instruction_editor=editor)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(image, "make it look like winter", generator=torch.Generator().manual_seed(0))
    assert out.reports[0]["method"] == "instruction edit (diffusion)"
    expected = editor.edit(image, "make it look like winter", generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(np.asarray(out.images[0]), expected)
    tonal = pipe(image, "make it brighter")  # a tone operation stays exact and embedded
    assert tonal.reports[0]["method"] == "adjust (brighten)"
    pipe.save_pretrained(tmp_path / "pipe")
    assert isinstance(EditPipeline.from_pretrained(tmp_path / "pipe").instruction_editor, InstructionEditor)
    with pytest.raises(TypeError, match="instruction_editor must be"):
        EditPipeline(instruction_editor="timbrooks/instruct-pix2pix")
