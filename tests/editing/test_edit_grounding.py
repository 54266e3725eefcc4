"""Text grounding for nouns the embedded segmenter does not know: a tiny random CLIPSeg saved like a checkpoint."""

from __future__ import annotations

import pytest
from tiny_models import save_tiny_clipseg

from editing import EditPipeline, TextSegmenter, compose


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
