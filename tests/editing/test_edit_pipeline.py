"""EditPipeline on generated scenes: the right object, exact pixels outside the band, every category."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from pipeline_contract import PipelineContractTests

from editing import EditOutput, EditPipeline, compose, segment
from editing.composite import edit_weights

BACKGROUND = (245, 238, 220)


def scene():
    return compose((320, 240), BACKGROUND, [
        ("circle", "red", (60, 80), 22), ("circle", "red", (250, 80), 40), ("square", "blue", (160, 180), 34),
        ("star", "yellow", (160, 60), 30), ("triangle", "green", (270, 190), 30),
    ])


class TestEditPipelineContract(PipelineContractTests):
    pipeline_class = EditPipeline
    output_class = EditOutput
    main_input = "image"

    def get_dummy_components(self):
        return {}  # the embedded path is classical; the seeded part is the svg icon for "a house"

    def get_dummy_inputs(self, seed: int = 0):
        return {"image": scene().image, "instruction": "replace the blue square with a house",
                "generator": torch.Generator().manual_seed(seed)}

    def samples(self, output):
        return [np.asarray(image) for image in output.images]


@pytest.fixture(scope="module")
def pipe():
    pipe = EditPipeline.from_pretrained("embedded")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def outside_band(out, index=0, dilation=2, feather=3):
    return edit_weights(out.masks[index], dilation, feather) == 0


def test_remove_takes_the_named_instance_and_restores_the_background(pipe):
    s = scene()
    out = pipe(s.image, "remove the smaller red circle on the left")
    small = s.objects[0]
    result = np.asarray(out.images[0])
    assert out.plans[0].target_found and out.reports[0]["outside_band_exact"]
    assert out.masks[0][small.mask].all() and not out.masks[0][s.objects[1].mask].any()
    np.testing.assert_array_equal(result[small.mask], s.clean_plate()[small.mask])  # PSNR infinite in the hole
    keep = outside_band(out)
    np.testing.assert_array_equal(result[keep], s.image[keep])
    assert "fill (flat)" in out.reports[0]["method"]


def test_instances_stay_separate_and_all_means_all(pipe):
    s = scene()
    out = pipe(s.image, "make all red circles blue")
    result = np.asarray(out.images[0])
    for obj in s.objects[:2]:
        assert np.abs(result[obj.mask].astype(int).mean(0) - (40, 90, 220)).max() < 3  # our blue
    for obj in s.objects[2:]:
        np.testing.assert_array_equal(result[obj.mask], s.image[obj.mask])
    one = pipe(s.image, "make the larger red circle blue")
    assert one.masks[0][s.objects[1].mask].all() and not one.masks[0][s.objects[0].mask].any()


@pytest.mark.parametrize(
    ("instruction", "index"),
    [("paint the leftmost circle black", 0), ("paint the circle opposite the small red circle black", 1),
     ("paint the star above the square black", 3), ("paint the second circle from the left black", 1)],
)
def test_spatial_reasoning_picks_the_target(pipe, instruction, index):
    s = scene()
    out = pipe(s.image, instruction)
    assert out.masks[0][s.objects[index].mask].all(), out.reports[0]["reasoning"]
    others = [obj for i, obj in enumerate(s.objects) if i != index]
    assert not any(out.masks[0][obj.mask].any() for obj in others)


def test_move_pastes_the_same_pixels(pipe):
    s = scene()
    star = s.objects[3]
    out = pipe(s.image, "move the star right by 10%")
    result = np.asarray(out.images[0])
    ys, xs = np.nonzero(star.mask)
    np.testing.assert_array_equal(result[ys, xs + 32], s.image[ys, xs])  # 10% of 320 px
    assert out.reports[0]["outside_band_exact"]


def test_resize_scales_the_area(pipe):
    s = scene()
    out = pipe(s.image, "make the blue square twice as big")
    grown = [inst for inst in segment(np.asarray(out.images[0])) if inst.color_name == "blue"]
    assert len(grown) == 1 and 3.5 < grown[0].area / s.objects[2].mask.sum() < 4.5


def test_background_global_replace_and_add(pipe):
    s = scene()
    out = pipe(s.image, "make the background pale blue")
    result = np.asarray(out.images[0])
    objects = np.any([obj.mask for obj in s.objects], axis=0)
    np.testing.assert_array_equal(result[objects], s.image[objects])
    assert (result[0, 0] == (150, 200, 240)).all()  # our light blue
    gray = np.asarray(pipe(s.image, "make the image black and white").images[0]).astype(int)
    assert np.abs(gray[..., 0] - gray[..., 1]).max() <= 2
    replaced = pipe(s.image, "replace the green triangle with a purple star")
    shapes = {(inst.shape, inst.color_name) for inst in segment(np.asarray(replaced.images[0]))}
    assert ("star", "purple") in shapes and ("triangle", "green") not in shapes
    added = pipe(s.image, "add a pink hexagon in the top left")
    new = [inst for inst in segment(np.asarray(added.images[0])) if inst.color_name == "pink"]
    assert len(new) == 1 and new[0].shape == "hexagon" and new[0].centroid[0] < 160 and new[0].centroid[1] < 120


def test_a_target_that_is_not_there_leaves_the_image_alone(pipe, tmp_path):
    s = scene()
    out = pipe(s.image, "remove the purple hexagon", output_dir=tmp_path)
    assert out.plans[0].target_found is False and not out.masks[0].any()
    np.testing.assert_array_equal(np.asarray(out.images[0]), s.image)
    assert "unchanged" in out.reports[0]["message"]
    assert json.loads((tmp_path / "plan.json").read_text())["target_found"] is False
    assert {p.name for p in tmp_path.iterdir()} == {"edited.png", "mask.png", "plan.json", "report.json"}


def test_a_user_mask_overrides_the_reasoner(pipe):
    s = scene()
    mask = s.objects[4].mask  # the triangle, whatever the instruction says
    out = pipe(s.image, "remove the star", mask=mask)
    assert out.masks[0][mask].all() and not out.masks[0][s.objects[3].mask].any()
    assert out.reports[0]["reasoning"] == ["user mask"]


def test_bad_input_is_named(pipe, tmp_path, monkeypatch):
    s = scene()
    with pytest.raises(ValueError, match="image: no such file"):
        pipe(tmp_path / "missing.png", "remove the star")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read"):
        pipe(str(tmp_path / "broken.png"), "remove the star")
    with pytest.raises(ValueError, match="uint8"):
        pipe(s.image.astype(np.float32), "remove the star")
    with pytest.raises(ValueError, match="instruction"):
        pipe(s.image, " ")
    with pytest.raises(ValueError, match="mask must be the image's size"):
        pipe(s.image, "remove the star", mask=np.ones((10, 10), dtype=bool))
    import editing.pipeline

    monkeypatch.setattr(editing.pipeline, "MAX_PIXELS", 1000)
    with pytest.raises(ValueError, match="the limit is 1,000 pixels"):
        pipe(s.image, "remove the star")


def test_cli_and_batch(tmp_path):
    from PIL import Image

    from generators import run_batch
    from generators.cli import main

    s = scene()
    Image.fromarray(s.image).save(tmp_path / "scene.png")
    assert main(["edit", str(tmp_path / "scene.png"), "remove the yellow star", "-o", str(tmp_path / "cli")]) == 0
    edited = np.asarray(Image.open(tmp_path / "cli" / "edited.png"))
    assert edited.shape == s.image.shape and (np.asarray(Image.open(tmp_path / "cli" / "mask.png")) > 0).sum() > 0
    lines = [{"task": "edit", "prompt": "remove the yellow star", "image": str(tmp_path / "scene.png"), "id": "star"},
             {"task": "edit", "prompt": "remove the star", "image": str(tmp_path / "scene.png"), "id": "bad", "options": {"strength": 1}}]
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = run_batch(manifest, tmp_path / "out", workers=1, progress=False)
    assert (summary.succeeded, summary.failed) == (1, 1)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "star" / "edited.png")), edited)


def test_sessions_chain_turns_reuse_the_last_object_and_undo(pipe):
    from editing import EditSession

    s = scene()
    session = EditSession(pipe, s.image)
    with pytest.raises(ValueError, match="refers to the previous edit's object"):
        session.edit("move it left")
    session.edit("make the yellow star red")
    moved = session.edit("move it down by 10%")  # "it": the star, now red
    star = s.objects[3]
    ys, xs = np.nonzero(star.mask)
    now = session.image
    assert (now[ys + 24, xs] == (220, 40, 40)).all()  # 10% of 240 px, in our red
    assert moved.reports[0]["reasoning"] == ["the previous edit's object"]
    assert session.history == ["make the yellow star red", "move it down by 10%"]
    np.testing.assert_array_equal(session.undo(), session.turns[0].image)
    session.undo()
    np.testing.assert_array_equal(session.image, s.image)
    with pytest.raises(ValueError, match="nothing to undo"):
        session.undo()


def test_a_flat_design_saved_as_jpeg_is_still_read_as_shapes(pipe):
    import io

    from PIL import Image

    s = scene()
    buffer = io.BytesIO()
    Image.fromarray(s.image).save(buffer, format="JPEG", quality=85)
    lossy = np.asarray(Image.open(buffer).convert("RGB"))
    found = {(inst.shape, inst.color_name) for inst in segment(lossy)}
    assert {("circle", "red"), ("square", "blue"), ("star", "yellow"), ("triangle", "green")} <= found
    out = pipe(lossy, "remove the yellow star")
    star = s.objects[3].mask
    assert out.masks[0][star].mean() > 0.97 and out.reports[0]["outside_band_exact"]
    keep = outside_band(out)
    np.testing.assert_array_equal(np.asarray(out.images[0])[keep], lossy[keep])
