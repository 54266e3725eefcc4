"""Motion metrics on motions whose answers are known, and the ``ctrlgen motion check`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mocap_data import SALSA, facing_pair, needs_mocap

from motion import metrics
from motion.export import save_npz
from motion.skeleton import SMPL_REST_JOINTS


def standing(frames: int = 30) -> np.ndarray:
    body = SMPL_REST_JOINTS - [0.0, SMPL_REST_JOINTS[:, 1].min(), 0.0]
    return np.repeat(body[None], frames, axis=0)


def test_a_still_body_has_no_skating_jerk_or_drift():
    person = standing()
    assert metrics.foot_skating(person)["foot_skating_ratio"] == 0.0
    assert metrics.jerk(person) == pytest.approx(0.0, abs=1e-9)
    assert metrics.bone_length_drift(person) == pytest.approx(0.0, abs=1e-12)
    ground = metrics.ground_contact(person)
    assert ground["ground_float_m"] == pytest.approx(0.0, abs=1e-9) and ground["ground_penetration_m"] == 0.0


def test_a_body_sliding_on_the_floor_skates_and_a_walk_in_the_air_does_not():
    sliding = standing() + np.arange(30)[:, None, None] * [0.05, 0.0, 0.0]  # 5 cm per frame along the floor
    assert metrics.foot_skating(sliding)["foot_skating_ratio"] == 1.0
    assert metrics.foot_skating(sliding)["foot_skating_speed_mps"] == pytest.approx(1.5, rel=1e-6)
    flying = sliding + np.array([0.0, 0.5, 0.0])
    assert metrics.foot_skating(flying)["foot_skating_ratio"] == 0.0


def test_sinking_and_floating_are_measured():
    person = standing()
    person[10:20] -= [0.0, 0.04, 0.0]
    ground = metrics.ground_contact(person)
    assert ground["ground_penetration_m"] == pytest.approx(0.04, abs=1e-9)
    assert ground["ground_penetration_frames"] == pytest.approx(10 / 30)
    assert metrics.ground_contact(standing() + np.array([0.0, 0.1, 0.0]))["ground_float_m"] == pytest.approx(0.1)


def test_jerk_of_a_cubic_path_is_its_third_derivative():
    t = np.arange(60) / 30.0
    person = standing(60) + (t**3)[:, None, None] * [1.0, 0.0, 0.0]
    assert metrics.jerk(person, fps=30.0) == pytest.approx(6.0, rel=1e-6)


def test_stretched_bones_show_as_drift():
    person = standing()
    person[5:, 20] += [0.05, 0.0, 0.0]  # left forearm 5 cm longer from frame 5
    assert metrics.bone_length_drift(person) > 0.1


def test_trajectory_error_at_controlled_frames():
    people = np.stack([standing(), standing()])  # two sequences
    target = np.zeros((2, 30, 2))
    target[..., 0] = people[..., 0, 0]
    target[..., 1] = people[..., 0, 2]
    target[1, 10, 0] += 0.6  # one controlled frame 60 cm off
    controlled = np.zeros((2, 30), bool)
    controlled[:, ::5] = True
    result = metrics.trajectory_error(people, target, controlled)
    assert result["trajectory_error_max_m"] == pytest.approx(0.6)
    assert result["trajectory_fail_rate"] == 0.5
    assert result["trajectory_error_mean_m"] == pytest.approx(0.6 / 12)
    with pytest.raises(ValueError, match="target"):
        metrics.trajectory_error(people, target[:, :10])


def test_collision_report_of_known_overlap_and_gap():
    close_pair, apart_pair = facing_pair(0.15), facing_pair(0.8)
    close = metrics.collision_report(close_pair[:, 0], close_pair[:, 1])
    apart = metrics.collision_report(apart_pair[:, 0], apart_pair[:, 1])
    assert close["colliding_frame_rate"] == 1.0 and close["penetration_max_m"] > 0.05
    assert apart["colliding_frame_rate"] == 0.0 and apart["penetration_max_m"] == 0.0


def test_nan_joints_are_refused():
    person = standing()
    person[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.jerk(person)


def test_motion_check_cli_prints_one_json_object(tmp_path, capsys):
    from generators.cli import main

    joints = np.repeat(facing_pair(0.15), 10, axis=0)
    path = save_npz(tmp_path / "motion.npz", joints)
    assert main(["motion", "check", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["colliding_frame_rate"] == 1.0 and report["frames"] == 10
    assert set(report["person_a"]) >= {"foot_skating_ratio", "ground_float_m", "jerk_mps3", "bone_length_drift"}
    assert main(["motion", "check", str(path)]) == 0
    assert "colliding frames 100.0%" in capsys.readouterr().out


def test_motion_check_cli_names_a_bad_file(tmp_path, capsys):
    from generators.cli import main

    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip")
    assert main(["motion", "check", str(bad), "--json"]) == 2
    assert "broken.npz" in capsys.readouterr().err


@needs_mocap()
def test_real_salsa_partners_touch_but_never_pass_through_each_other():
    from motion.retarget import import_pair

    lead, follow = import_pair(SALSA / "60_04_scaled.bvh", SALSA / "61_04_scaled.bvh")
    report = metrics.motion_report(np.stack([lead.joints, follow.joints], axis=1))
    # salsa holds: hands on the partner's back and in the partner's hands, so capsules touch often
    assert 0.1 < report["colliding_frame_rate"] < 0.9
    assert report["penetration_max_m"] < 0.2  # contact, not one body inside the other
    assert report["person_a"]["bone_length_drift"] < 1e-6


def test_nan_trajectory_targets_are_refused():
    target = np.zeros((30, 2))
    target[4, 1] = np.nan
    with pytest.raises(ValueError, match="target holds NaN"):
        metrics.trajectory_error(standing(), target)
