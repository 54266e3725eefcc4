"""Kinematics of the SMPL-22 body and InterGen's 262-d feature, both ways."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motion import features
from motion.skeleton import (
    JOINT_NAMES,
    PARENTS,
    SMPL_REST_JOINTS,
    bone_lengths,
    forward_kinematics,
    inverse_kinematics,
    rest_offsets,
)


def random_motion(frames: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rotations = Rotation.from_rotvec(rng.normal(scale=0.4, size=(frames * 22, 3))).as_matrix().reshape(frames, 22, 3, 3)
    root = np.cumsum(rng.normal(scale=0.02, size=(frames, 3)), axis=0) + np.array([0.0, 0.9, 0.0])
    return forward_kinematics(rotations, root), rotations, root


def test_joint_order_and_tree_match_the_contract():
    assert JOINT_NAMES[:4] == ("pelvis", "l_hip", "r_hip", "spine1") and JOINT_NAMES[-1] == "r_wrist"
    assert len(PARENTS) == 22 and PARENTS[15] == 12 and PARENTS[20] == 18
    # SMPL's frame: left on +x, facing +z, head above pelvis
    assert SMPL_REST_JOINTS[1, 0] > 0 > SMPL_REST_JOINTS[2, 0]
    assert SMPL_REST_JOINTS[10, 2] > SMPL_REST_JOINTS[7, 2]
    assert SMPL_REST_JOINTS[15, 1] - SMPL_REST_JOINTS[10, 1] == pytest.approx(1.5, abs=0.05)


def test_inverse_kinematics_recovers_what_forward_kinematics_drew():
    joints, _, root = random_motion()
    solved = inverse_kinematics(joints)
    assert np.abs(forward_kinematics(solved, root) - joints).max() < 1e-9
    assert np.allclose(bone_lengths(joints), np.linalg.norm(rest_offsets()[1:], axis=-1))


def test_sixd_round_trip_and_intergen_order():
    _, rotations, _ = random_motion()
    sixd = features.rotation_to_6d(rotations)
    assert np.allclose(sixd[..., [0, 2, 4]], rotations[..., :, 0]) and np.allclose(sixd[..., [1, 3, 5]], rotations[..., :, 1])
    assert np.abs(features.rotation_from_6d(sixd) - rotations).max() < 1e-9


def test_features_layout_and_round_trip():
    joints, rotations, _ = random_motion(frames=20)
    joints = joints + np.array([3.0, 0.0, -2.0])
    rows = features.motion_to_features(joints, rotations)
    assert rows.shape == (19, 262)
    back, local, contacts = features.features_to_motion(rows)
    assert back.shape == (20, 22, 3) and local.shape == (20, 21, 3, 3) and contacts.shape == (19, 4)
    # canonical frame: floor at 0, pelvis over the origin on frame 0, facing +z
    assert back[..., 1].min() == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(back[0, 0, [0, 2]], 0.0)
    across = back[0, 2] - back[0, 1]
    forward = np.cross([0.0, 1.0, 0.0], across)
    assert forward[0] == pytest.approx(0.0, abs=1e-9) and forward[2] > 0
    # same motion up to one rigid yaw and shift; rotations untouched
    turn, shift = features.canonical_transform(joints)
    assert np.abs((joints + shift) @ turn.T - back).max() < 1e-9
    assert np.abs(local[:-1] - rotations[:-1, 1:]).max() < 1e-9


def test_contacts_follow_intergen_thresholds():
    joints, rotations, _ = random_motion(frames=5)
    joints = np.repeat(joints[:1], 5, axis=0)  # still
    joints[..., 1] -= joints[..., 1].min()
    rows = features.motion_to_features(joints, np.repeat(rotations[:1], 5, axis=0))
    heights = joints[0, [7, 10, 8, 11], 1]
    expected = heights < np.array([0.12, 0.05, 0.12, 0.05])
    assert (rows[:, 258:] == expected).all()


def test_pair_puts_person_b_in_person_a_frame():
    a, rot_a, _ = random_motion(seed=1)
    b, rot_b, _ = random_motion(seed=2)
    b = b + np.array([1.0, 0.0, 0.5])
    rows = features.pair_to_features(np.stack([a, b], 1), np.stack([rot_a, rot_b], 1))
    assert rows.shape == (11, 2, 262)
    turn, shift = features.canonical_transform(a)
    expected_b = (b + np.array([shift[0], -b[..., 1].min(), shift[2]])) @ turn.T
    assert np.abs(rows[:, 1, :66].reshape(11, 22, 3) - expected_b[:-1]).max() < 1e-9


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="262"):
        features.features_to_motion(np.zeros((5, 261)))
    with pytest.raises(ValueError, match="frames >= 2"):
        features.motion_to_features(np.zeros((1, 22, 3)), np.zeros((1, 22, 3, 3)))
