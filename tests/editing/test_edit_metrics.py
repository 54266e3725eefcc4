"""editing.metrics: preservation outside the edit, masks, plans and the CLIP direction."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import save_tiny_clip_model

from editing import EditPlan, TargetQuery
from editing.metrics import (
    category_accuracy,
    clip_directional_similarity,
    mask_iou,
    psnr_outside,
    ssim_outside,
)


def test_preservation_counts_only_pixels_outside_the_region():
    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    region = np.zeros((64, 64), dtype=bool)
    region[10:30, 10:30] = True
    edited = original.copy()
    edited[region] = 0  # a change inside the region only
    assert psnr_outside(original, edited, region) == float("inf")
    assert ssim_outside(original, edited, region) > 0.9  # windows at the border see the change a little
    edited[50, 50] = original[50, 50] ^ 255  # one pixel outside
    assert 30 < psnr_outside(original, edited, region) < 80
    with pytest.raises(ValueError, match="same shape"):
        psnr_outside(original, edited[:10], region)


def test_lisa_giou_and_ciou():
    a = np.zeros((10, 10), dtype=bool)
    a[:5] = True
    b = np.zeros((10, 10), dtype=bool)
    b[:, :5] = True
    empty = np.zeros((10, 10), dtype=bool)
    scores = mask_iou([a, a, empty], [a, b, empty])
    assert scores["giou"] == pytest.approx((1 + 25 / 75 + 1) / 3)
    assert scores["ciou"] == pytest.approx((50 + 25) / (50 + 75))


def test_category_accuracy():
    plans = [EditPlan("remove", TargetQuery("x"), "", ""), EditPlan("global", None, "brighten", "", adjustment="brighten")]
    assert category_accuracy(plans, ["remove", "recolor"]) == 0.5


def test_clip_direction_with_local_weights(tmp_path):
    model = save_tiny_clip_model(tmp_path / "clip")
    rng = np.random.default_rng(0)
    before, after = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8), rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    score = clip_directional_similarity(before, after, "a red circle", "a blue circle", str(model))
    assert -1.0 <= score <= 1.0
    assert score == clip_directional_similarity(before, after, "a red circle", "a blue circle", str(model))
