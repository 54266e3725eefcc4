"""Typed conditions: validation, nulls, immutability and trajectory resampling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from generators import ReferenceImageCondition, RegionCondition, TextCondition, TrajectoryCondition
from generators.conditioning import as_text_conditions


def test_every_condition_has_an_explicit_null():
    for condition_class in (TextCondition, TrajectoryCondition, RegionCondition, ReferenceImageCondition):
        null = condition_class.null()
        assert null.is_null
    assert not TextCondition("a red heart").is_null


def test_conditions_are_frozen_and_arrays_read_only():
    points = np.array([[0.0, 0.0], [1.0, 0.0]])
    trajectory = TrajectoryCondition(points)
    points[1, 0] = 99.0  # the caller's array is copied
    assert trajectory.points[1, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        trajectory.points[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        trajectory.points = None


@pytest.mark.parametrize(
    ("points", "times", "message"),
    [
        ([[0, 0]], None, "at least 2 waypoints"),
        ([[0, 0, 0], [1, 1, 1]], None, r"shape \(N, 2\)"),
        ([[0, 0], [np.nan, 1]], None, "NaN or infinite"),
        ([[0, 0], [1, 1]], [0.0, 0.0], "strictly increasing"),
        ([[0, 0], [1, 1]], [0.0, 1.5], r"in \[0, 1\]"),
        ([[0, 0], [1, 1]], [0.0], "one entry per waypoint"),
        ("abc", None, "must be array-like of numbers"),
    ],
)
def test_bad_trajectories_are_named(points, times, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TrajectoryCondition(points, times)


def test_resample_spreads_waypoints_by_arc_length():
    trajectory = TrajectoryCondition([[0, 0], [1, 0], [1, 3]])  # 4 m: 1 m then 3 m
    path = trajectory.resample(5)
    np.testing.assert_allclose(path, [[0, 0], [1, 0], [1, 1], [1, 2], [1, 3]], atol=1e-12)
    steps = np.linalg.norm(np.diff(trajectory.resample(41), axis=0), axis=1)
    np.testing.assert_allclose(steps, 0.1, atol=1e-12)  # constant speed
    assert trajectory.length == pytest.approx(4.0)


def test_resample_with_times_and_degenerate_paths():
    timed = TrajectoryCondition([[0, 0], [2, 0]], times=[0.5, 1.0])  # waits, then walks
    np.testing.assert_allclose(timed.resample(5)[:, 0], [0, 0, 0, 1, 2])
    still = TrajectoryCondition([[1, 2], [1, 2]])
    np.testing.assert_array_equal(still.resample(3), [[1, 2]] * 3)
    repeated = TrajectoryCondition([[0, 0], [0, 0], [2, 0]])
    np.testing.assert_allclose(repeated.resample(3)[:, 0], [0, 1, 2])
    with pytest.raises(ValueError, match="num_frames must be a positive int"):
        still.resample(0)
    with pytest.raises(ValueError, match="null trajectory"):
        TrajectoryCondition.null().resample(3)


def test_region_and_image_validation():
    region = RegionCondition(mask=np.array([[0, 255], [0, 0]], dtype=np.uint8))
    assert region.mask.dtype == bool and region.mask.sum() == 1
    with pytest.raises(ValueError, match="mask must be 2-D"):
        RegionCondition(mask=np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="x1 > x0"):
        RegionCondition(bbox=(5, 5, 2, 9))
    with pytest.raises(ValueError, match="uint8 RGB"):
        ReferenceImageCondition(np.zeros((4, 4), dtype=np.uint8))
    assert ReferenceImageCondition(np.zeros((4, 4, 3), dtype=np.uint8)).image.flags.writeable is False


def test_prompt_validation():
    assert [c.text for c in as_text_conditions("a")] == ["a"]
    assert len(as_text_conditions(["a", "b"])) == 2
    for bad in (None, [], [1], 3):
        with pytest.raises(TypeError, match="prompt must be a non-empty str"):
            as_text_conditions(bad)
