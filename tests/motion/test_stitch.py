"""Stitching short real walking takes into long walks (motion.stitch)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from mocap_data import MOCAP, needs_mocap

from motion.metrics import bone_length_drift, foot_skating
from motion.retarget import import_clip
from motion.stitch import best_transition, is_steady_walk, stitch_clips

WALKS = MOCAP / "chaneyddtt_cmu_expmap" / "train"


@pytest.fixture(scope="module")
def takes():
    names = ("walking/walking_2.txt", "walking/walking_3.txt", "walking_extra/walking_27.txt")
    return [import_clip(WALKS / name) for name in names]


def _cut(clip, start, stop):
    return dataclasses.replace(clip, joints=clip.joints[start:stop], local_rotations=clip.local_rotations[start:stop],
                               root_positions=clip.root_positions[start:stop])


def _fastest_joint(joints, fps=30.0):
    return np.linalg.norm(np.diff(joints, axis=0), axis=-1).max() * fps


def _travel(clip):
    return np.linalg.norm(clip.root_positions[-1, [0, 2]] - clip.root_positions[0, [0, 2]])


@needs_mocap()
def test_stitched_walk_is_continuous_and_keeps_walking(takes):
    walk = stitch_clips(takes)
    assert max(t.num_frames for t in takes) < walk.num_frames < sum(t.num_frames for t in takes)
    assert _fastest_joint(walk.joints) <= 6.0  # no jump at a seam
    assert bone_length_drift(walk.joints) < 1e-9  # on the SMPL mean skeleton in every frame
    assert walk.joints[..., 1].min() == pytest.approx(0.0, abs=1e-9)
    assert _travel(walk) > 1.5 * max(_travel(t) for t in takes)  # the walk goes on, it does not turn back
    skating = [foot_skating(t.joints)["foot_skating_ratio"] for t in takes]
    assert foot_skating(walk.joints)["foot_skating_ratio"] <= max(skating) + 0.03  # seams do not slide
    assert np.allclose(walk.joints[: 30], takes[0].joints[: 30])  # the first take plays as recorded


@needs_mocap()
def test_best_transition_finds_the_same_pose_in_an_overlapping_take(takes):
    whole = takes[0]
    first, second = _cut(whole, 0, 90), _cut(whole, 50, whole.num_frames)
    leave, enter, distance = best_transition(first, second, search_frames=40)
    assert leave - enter == 50 and distance < 1e-6
    joined = stitch_clips([first, second], search_frames=40)
    assert joined.num_frames == whole.num_frames and np.allclose(joined.joints, whole.joints, atol=1e-6)


@needs_mocap()
def test_steady_walks_only(takes):
    assert all(is_steady_walk(t) for t in takes)
    standing = _cut(takes[0], 0, 1)
    standing = dataclasses.replace(standing, joints=np.repeat(standing.joints, 60, 0),
                                   root_positions=np.repeat(standing.root_positions, 60, 0),
                                   local_rotations=np.repeat(standing.local_rotations, 60, 0))
    assert not is_steady_walk(standing)
    glitch = dataclasses.replace(takes[0], joints=takes[0].joints.copy())
    glitch.joints[40, 20] += [0.5, 0.0, 0.0]  # a wrist marker swap for one frame
    assert not is_steady_walk(glitch)
    assert not is_steady_walk(import_clip(MOCAP / "chaneyddtt_cmu_expmap" / "train" / "walking_extra" / "walking_22.txt"))


@needs_mocap()
def test_stitch_rejects_bad_input(takes):
    with pytest.raises(ValueError, match="at least one clip"):
        stitch_clips([])
    with pytest.raises(ValueError, match="frame rates"):
        stitch_clips([takes[0], dataclasses.replace(takes[1], fps=60.0)])
    with pytest.raises(ValueError, match="too short"):
        stitch_clips([takes[0], _cut(takes[1], 0, 2)])
