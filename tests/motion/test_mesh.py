"""SMPL meshes through smplx from our exported parameters, and the exact mesh checks."""

from __future__ import annotations

import numpy as np
import pytest
from mocap_data import facing_pair

from motion.errors import MotionFileError
from motion.export import load_npz, save_npz
from motion.mesh import SMPLBody, mesh_contact, mesh_report, plain_contains_contact, write_synthetic_smpl
from motion.skeleton import forward_kinematics, inverse_kinematics


@pytest.fixture(scope="module")
def smpl_file(tmp_path_factory):
    return write_synthetic_smpl(tmp_path_factory.mktemp("smpl") / "SMPL_NEUTRAL.pkl")


def waving_pair(gap: float, frames: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Two facing bodies whose arms swing a little: joints (frames, 2, 22, 3) and local rotations."""
    base = np.repeat(facing_pair(gap), frames, axis=0) + np.array([0.0, 1.2, 0.0])
    rotations = inverse_kinematics(base)
    from scipy.spatial.transform import Rotation

    swing = Rotation.from_rotvec(np.linspace(0, 0.6, frames)[:, None] * [0.0, 0.0, 1.0]).as_matrix()
    rotations[:, :, 16] = swing[:, None] @ rotations[:, :, 16]
    return forward_kinematics(rotations, base[:, :, 0]), rotations


def test_smplx_poses_our_exported_parameters_onto_our_joints(tmp_path, smpl_file):
    joints, rotations = waving_pair(0.8)
    motion = load_npz(save_npz(tmp_path / "motion.npz", joints, 30.0, rotations))
    body = SMPLBody(smpl_file)
    import torch

    for person in range(2):
        with torch.no_grad():
            out = body.model(
                global_orient=torch.tensor(motion.smpl_poses[:, person, :3]), body_pose=torch.tensor(motion.smpl_poses[:, person, 3:]),
                transl=torch.tensor(motion.smpl_trans[:, person]), betas=torch.zeros(joints.shape[0], 10),
            )
        assert np.abs(out.joints[:, :22].numpy() - joints[:, person]).max() < 1e-4


def test_mesh_contact_finds_the_overlap_and_clears_the_gap(smpl_file):
    body = SMPLBody(smpl_file)
    from motion.export import smpl_parameters

    for gap, expect in ((0.05, True), (1.0, False)):
        joints, rotations = waving_pair(gap, frames=1)
        people = []
        for person in range(2):
            poses, trans = smpl_parameters(rotations[:, person], joints[:, person, 0])
            people.append(body.vertices(poses, trans)[0])
        contact = mesh_contact(people[0], people[1], body.faces)
        assert contact.colliding is expect
        assert (contact.depth > 0) is expect
        plain = plain_contains_contact(people[0], people[1], body.faces)
        assert plain.inside_fraction == contact.inside_fraction and abs(plain.depth - contact.depth) < 1e-9


def test_mesh_report_from_a_motion_file(tmp_path, smpl_file):
    joints, rotations = waving_pair(0.05)
    motion = load_npz(save_npz(tmp_path / "motion.npz", joints, 30.0, rotations))
    report = mesh_report(motion, smpl_file)
    assert report["frames_checked"] == joints.shape[0] and report["colliding_frame_rate"] == 1.0
    assert 0 < report["penetrating_vertex_fraction_mean"] < 1


def test_missing_and_malformed_smpl_files_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("CTRLGEN_SMPL_MODEL", raising=False)
    with pytest.raises(MotionFileError, match="no SMPL model file"):
        SMPLBody()
    with pytest.raises(MotionFileError, match=r"nowhere\.pkl: SMPL model file not found"):
        SMPLBody(tmp_path / "nowhere.pkl")
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(b"\x80\x04 definitely not a pickle")
    with pytest.raises(MotionFileError, match=r"broken\.pkl: not a usable SMPL model file"):
        SMPLBody(broken)


def test_motion_check_with_mesh_needs_rotations(tmp_path, smpl_file, capsys):
    from generators.cli import main

    joints, rotations = waving_pair(0.05)
    with_rotations = save_npz(tmp_path / "with.npz", joints, 30.0, rotations)
    assert main(["motion", "check", str(with_rotations), "--json", "--smpl", str(smpl_file)]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["mesh"]["colliding_frame_rate"] == 1.0
    without = save_npz(tmp_path / "without.npz", joints, 30.0)
    assert main(["motion", "check", str(without), "--json", "--smpl", str(smpl_file)]) == 2
    assert "smpl_poses" in capsys.readouterr().err
