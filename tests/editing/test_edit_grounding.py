"""Text grounding for nouns the embedded segmenter does not know: tiny random CLIPSeg, OWLv2 and SAM saved like checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import save_tiny_clipseg, save_tiny_owlv2, save_tiny_sam

from editing import DetectionSegmenter, EditPipeline, TextSegmenter, compose
from editing.grounding import box_iou, non_maximum_suppression


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_clipseg(tmp_path_factory.mktemp("clipseg"))


def scene():
    return compose((96, 80), (245, 238, 220), [("circle", "red", (25, 40), 14), ("square", "blue", (70, 40), 14)])


def thresholds(checkpoint, noun):
    """(below every pixel, above every pixel) of the random model's heat map for ``noun`` on the scene."""
    heat = TextSegmenter.from_pretrained(checkpoint).heatmap(scene().image, noun)
    return float(heat.min()) / 2, float(heat.max() + (1 - heat.max()) / 2)


def test_heatmaps_become_instances(checkpoint):
    segmenter = TextSegmenter.from_pretrained(checkpoint)
    image = scene().image
    heat = segmenter.heatmap(image, "dog")
    assert heat.shape == image.shape[:2] and 0.0 < heat.min() <= heat.max() < 1.0
    low, high = thresholds(checkpoint, "dog")
    everything = TextSegmenter.from_pretrained(checkpoint, threshold=low).instances(image, "dog")
    assert len(everything) == 1 and everything[0].area == image.shape[0] * image.shape[1]
    assert TextSegmenter.from_pretrained(checkpoint, threshold=high).instances(image, "dog") == []
    with pytest.raises(ValueError, match="threshold"):
        TextSegmenter(segmenter.model, segmenter.processor, threshold=1.5)


def test_the_pipeline_grounds_unknown_nouns_and_round_trips(checkpoint, tmp_path):
    s = scene()
    low, high = thresholds(checkpoint, "dog")
    blind = EditPipeline(text_segmenter=TextSegmenter.from_pretrained(checkpoint, threshold=high))
    blind.set_progress_bar_config(disable=True)
    out = blind(s.image, "remove the dog")
    assert out.plans[0].target_found is False and "recognised as a 'dog'" in out.reports[0]["reasoning"][-1]
    seeing = EditPipeline(text_segmenter=TextSegmenter.from_pretrained(checkpoint, threshold=low))
    seeing.set_progress_bar_config(disable=True)
    out = seeing(s.image, "recolor the dog green")
    assert out.plans[0].target_found and out.masks[0].all()  # the random model's "dog" is the whole image
    assert "1 dog(s)" in out.reports[0]["reasoning"]
    shapes = seeing(s.image, "remove the red circle")  # known shapes still come from the embedded segmenter
    assert shapes.masks[0][s.objects[0].mask].all() and not shapes.masks[0][s.objects[1].mask].any()
    seeing.save_pretrained(tmp_path / "pipe")
    loaded = EditPipeline.from_pretrained(tmp_path / "pipe")
    assert isinstance(loaded.text_segmenter, TextSegmenter) and loaded.text_segmenter.threshold == low
    with pytest.raises(TypeError, match="text_segmenter must be"):
        EditPipeline(text_segmenter="clipseg")


@pytest.fixture(scope="module")
def detection_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("detection")
    return save_tiny_owlv2(root / "owlv2"), save_tiny_sam(root / "sam")


def test_non_maximum_suppression_keeps_the_best_of_each_overlapping_group():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 5]], dtype=float)
    scores = np.array([0.5, 0.9, 0.3, 0.8])
    # box 1 beats box 0 (IoU 0.68); box 3 overlaps box 1 by IoU 0.35 only, so it stays
    assert non_maximum_suppression(boxes, scores, iou=0.5) == [1, 3, 2]
    assert non_maximum_suppression(boxes, scores, iou=0.3) == [1, 2]
    np.testing.assert_allclose(box_iou(boxes[0], boxes[[0, 2, 3]]), [1.0, 0.0, 0.5])


def test_detector_boxes_become_sam_masks_inside_them(detection_checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    detector, sam = detection_checkpoints
    image = scene().image
    boxes_only = DetectionSegmenter.from_pretrained(detector, threshold=0.0, nms_iou=0.3)
    boxes, scores = boxes_only.boxes(image, "dog")
    assert 1 <= len(boxes) <= 16 and (np.diff(scores) <= 0).all()
    assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= image.shape[1]).all() and (boxes[:, [1, 3]] <= image.shape[0]).all()
    assert all((box_iou(box, np.delete(boxes, i, axis=0)) <= 0.3).all() for i, box in enumerate(boxes))
    rectangles = boxes_only.masks(image, boxes)
    for rectangle, (x0, y0, x1, y1) in zip(rectangles, boxes, strict=True):  # without SAM an instance is its box
        ys, xs = np.nonzero(rectangle)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (np.floor(x0), np.floor(y0), np.ceil(x1), np.ceil(y1))
        assert rectangle.sum() == (xs.max() + 1 - xs.min()) * (ys.max() + 1 - ys.min())
    with_sam = DetectionSegmenter.from_pretrained(detector, sam=sam, threshold=0.0, nms_iou=0.3)
    masks = with_sam.masks(image, boxes)
    assert masks.shape == rectangles.shape and not (masks & ~rectangles).any()
    found = with_sam.instances(image, "dog")
    assert found and all(inst.mask.shape == image.shape[:2] for inst in found)
    with_sam.save_pretrained(tmp_path / "saved")
    again = DetectionSegmenter.from_pretrained(tmp_path / "saved")
    assert again.sam is not None and (again.threshold, again.nms_iou) == (0.0, 0.3)
    assert [inst.bbox for inst in again.instances(image, "dog")] == [inst.bbox for inst in found]
    with pytest.raises(ValueError, match="nms_iou"):
        DetectionSegmenter(with_sam.detector, with_sam.detector_processor, nms_iou=0.0)
    with pytest.raises(ValueError, match="sam and sam_processor go together"):
        DetectionSegmenter(with_sam.detector, with_sam.detector_processor, sam=with_sam.sam)


def test_the_pipeline_edits_a_detected_noun_and_keeps_shapes_embedded(detection_checkpoints, tmp_path):
    detector, sam = detection_checkpoints
    s = scene()
    segmenter = DetectionSegmenter.from_pretrained(detector, sam=sam, threshold=0.0, nms_iou=0.3)
    pipe = EditPipeline(text_segmenter=segmenter)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(s.image, "recolor the largest dog green")
    dogs = segmenter.instances(s.image, "dog")
    largest = max(dogs, key=lambda inst: inst.area)
    assert out.plans[0].target_found and f"{len(dogs)} dog(s)" in " ".join(out.reports[0]["reasoning"])
    assert np.array_equal(out.masks[0], largest.mask)
    shapes = pipe(s.image, "remove the red circle")
    assert shapes.masks[0][s.objects[0].mask].all() and not shapes.masks[0][s.objects[1].mask].any()
    pipe.save_pretrained(tmp_path / "pipe")
    assert isinstance(EditPipeline.from_pretrained(tmp_path / "pipe").text_segmenter, DetectionSegmenter)
