"""Real CMU mocap onto SMPL-22: every file imports with stable bones and grounded feet; exports
round-trip through our reader and an independent one (bvhio); bad files fail with a clear error."""

from __future__ import annotations

import numpy as np
import pytest
from mocap_data import MOCAP, SALSA, mocap_files, needs_mocap

from motion.asf_amc import read_amc
from motion.bvh import read_bvh, write_bvh
from motion.errors import MotionFileError
from motion.export import export_motion, load_npz
from motion.retarget import detect_rig, import_clip, import_pair
from motion.skeleton import JOINT_NAMES, bone_lengths

ALL_FILES = (
    mocap_files("*.bvh", "*.amc", "*.data3d.txt")
    + [p for p in mocap_files("*.txt") if "expmap" in str(p) and "_repo" not in p.name]
)
# walking on uneven terrain: the floor is the lowest step, so most frames stand above it
RAISED_GROUND = {"03_01.amc", "03_02.amc", "03_03.amc", "03_04.amc"}
FOOT_JOINTS = [7, 8, 10, 11]


@needs_mocap()
def test_the_mocap_folder_holds_the_files_the_issue_names():
    names = {path.name for path in ALL_FILES}
    assert {"18_01.bvh", "19_01.bvh", "02_01.amc", "35_01.amc", "131_01.bvh", "walking_1.txt"} <= names
    assert len([n for n in names if n.startswith(("60_", "61_")) and n.endswith(".bvh")]) == 28
    assert len([p for p in ALL_FILES if p.suffix == ".txt"]) == 97  # 96 exp-map files and one point-light file


@needs_mocap()
@pytest.mark.parametrize("path", ALL_FILES, ids=[p.name for p in ALL_FILES])
def test_every_cmu_file_imports_with_stable_bones_and_feet_on_the_ground(path):
    clip = import_clip(path)
    assert clip.fps == 30.0 and clip.joints.shape[1:] == (22, 3)
    assert np.isfinite(clip.joints).all()
    lengths = bone_lengths(clip.joints)
    drift = np.abs(lengths - lengths.mean(0)) / lengths.mean(0)
    assert drift.max() < 0.01
    assert abs(clip.joints[..., 1].min()) < 1e-9  # the lowest joint is on the floor
    assert clip.joints[..., FOOT_JOINTS, 1].min() < 0.01  # and it is a foot
    if path.name not in RAISED_GROUND:
        lowest_foot = clip.joints[..., FOOT_JOINTS, 1].min(-1)
        assert np.median(lowest_foot) < 0.1, "a foot should be near the floor most of the time"
    standing = clip.joints[..., 15, 1] - clip.joints[..., FOOT_JOINTS, 1].min(-1)
    assert np.median(standing) > 1.0, "upright: the head is well above the feet"


@needs_mocap()
def test_gpmat_channel_matrix_matches_the_amc_it_came_from():
    from motion.expmap import GPMAT_TEST_TRIALS, GPMAT_TRIALS

    folder = MOCAP / "GPmat_cmu35"
    from_mat = import_clip(folder / "cmu35WalkJog.mat", trial="35_01")
    from_amc = import_clip(folder / "35_01.amc")
    frames = min(from_mat.num_frames, from_amc.num_frames)
    # the matrix is every 4th AMC frame (30 fps): the same poses as the AMC resampled to 30 fps
    assert np.abs(from_mat.joints[:frames] - from_amc.joints[:frames]).max() < 0.01
    for trial in (*GPMAT_TRIALS, *GPMAT_TEST_TRIALS):
        clip = import_clip(folder / "cmu35WalkJog.mat", trial=trial)
        assert bone_lengths(clip.joints).std(0).max() < 1e-9
    with pytest.raises(MotionFileError, match="trial="):
        import_clip(folder / "cmu35WalkJog.mat", trial="35_99")


@needs_mocap()
def test_expmap_csv_matches_the_amc_it_came_from():
    # walking_1 of the motion-prediction subset is CMU 02_01 (same root path, same frames)
    from_csv = import_clip(MOCAP / "chaneyddtt_cmu_expmap" / "train" / "walking" / "walking_1.txt")
    from_amc = import_clip(MOCAP / "cyun9601_cmu_asfamc" / "02" / "02_01.amc")
    assert from_csv.num_frames == from_amc.num_frames
    assert np.abs(from_csv.joints - from_amc.joints).max() < 0.02


@needs_mocap()
def test_point_lights_follow_the_bvh_of_the_same_take():
    # BioMotionToolbox's 60_06 point lights are the salsa lead of CMU 60_06
    lights = import_clip(MOCAP / "BioMotionToolbox" / "60_06.data3d.txt")
    bvh = import_clip(SALSA / "60_06_scaled.bvh")
    assert lights.rig == "point_lights" and abs(lights.num_frames - bvh.num_frames) <= 1
    step = np.linalg.norm(np.diff(lights.joints[:, 0, [0, 2]], axis=0), axis=-1).sum()  # pelvis path length
    assert step == pytest.approx(np.linalg.norm(np.diff(bvh.joints[:, 0, [0, 2]], axis=0), axis=-1).sum(), rel=0.35)


@needs_mocap()
def test_salsa_partners_share_one_world():
    lead, follow = import_pair(SALSA / "60_01_scaled.bvh", SALSA / "61_01_scaled.bvh")
    assert lead.num_frames == follow.num_frames
    distance = np.linalg.norm(lead.joints[:, 0, [0, 2]] - follow.joints[:, 0, [0, 2]], axis=-1)
    assert 0.2 < np.median(distance) < 1.5  # dancing partners, within arm's reach
    assert min(lead.joints[..., 1].min(), follow.joints[..., 1].min()) == pytest.approx(0.0, abs=1e-9)


@needs_mocap()
@pytest.mark.parametrize("name", ["BioMotionToolbox/18_01.bvh", "beemsoft_webxr_cmu_salsa_60_61/60_03_scaled.bvh",
                                  "bvh11_cmu_131/131_03.bvh", "cyun9601_cmu_asfamc/02/02_04.amc"])
def test_exported_bvh_round_trips_and_an_independent_reader_agrees(tmp_path, name):
    import bvhio

    clip = import_clip(MOCAP / name)
    clip_joints = clip.joints[:60]
    path = write_bvh(tmp_path / "person.bvh", clip.local_rotations[:60], clip.root_positions[:60], clip.fps)

    ours = read_bvh(path)
    assert ours.fps == pytest.approx(30.0)
    positions = ours.joint_positions()[:, [ours.names.index(n) for n in JOINT_NAMES]]
    assert np.abs(positions - clip_joints).max() < 0.01
    assert detect_rig(ours.names) == "smpl"
    reimported = import_clip(path)
    assert np.linalg.norm(reimported.joints - clip_joints, axis=-1).max() < 0.01

    root = bvhio.readAsHierarchy(str(path))
    for frame in (0, 29, 59):
        root.loadPose(frame, recursive=True)
        theirs = {joint.Name: np.array(joint.PositionWorld) for joint, _, _ in root.layout()}
        independent = np.stack([theirs[n] for n in JOINT_NAMES])
        assert np.abs(independent - clip_joints[frame]).max() < 0.01


@needs_mocap()
def test_motion_import_cli_writes_the_contract_files(tmp_path):
    from generators.cli import main

    out = tmp_path / "pair"
    assert main(["motion", "import", str(SALSA / "60_10_scaled.bvh"), str(SALSA / "61_10_scaled.bvh"), "-o", str(out)]) == 0
    for name in ("motion.npz", "person_a.bvh", "person_b.bvh", "preview.gif"):
        assert (out / name).stat().st_size > 0
    motion = load_npz(out / "motion.npz")
    assert motion.joints.shape[1:] == (2, 22, 3) and motion.fps == 30.0
    assert motion.smpl_poses.shape == (motion.joints.shape[0], 2, 72)


def _real_bvh_text() -> str:
    return (MOCAP / "BioMotionToolbox" / "18_01.bvh").read_text()


@needs_mocap()
@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda t: t[: t.rindex("\n", 0, len(t) - 200)], "truncated"),
        (lambda t: t.replace("CHANNELS 3 Zrotation Yrotation Xrotation", "", 1), "no CHANNELS"),
        (lambda t: t.split("MOTION")[0], "no MOTION"),
        (lambda t: t.replace("Frame Time:", "Frame Time: x"), "Frame Time"),
    ],
    ids=["truncated", "missing-channels", "no-motion", "bad-frame-time"],
)
def test_malformed_bvh_fails_naming_the_file(tmp_path, corrupt, message):
    path = tmp_path / "bad.bvh"
    path.write_text(corrupt(_real_bvh_text()))
    with pytest.raises(MotionFileError) as error:
        read_bvh(path)
    assert "bad.bvh" in str(error.value) and message in str(error.value)


@needs_mocap()
def test_nan_frames_are_refused(tmp_path):
    text = _real_bvh_text().splitlines()
    text[-1] = " ".join(["nan"] * len(text[-1].split()))
    path = tmp_path / "nan.bvh"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(MotionFileError, match="NaN"):
        read_bvh(path)


@needs_mocap()
def test_unknown_rig_names_what_is_missing(tmp_path):
    text = _real_bvh_text().replace("LeftUpLeg", "ThighL").replace("RightUpLeg", "ThighR")
    path = tmp_path / "odd_rig.bvh"
    path.write_text(text)
    with pytest.raises(MotionFileError, match=r"unknown rig.*LeftUpLeg"):
        import_clip(path)


@needs_mocap()
def test_malformed_amc_fails_naming_the_file(tmp_path):
    source = MOCAP / "cyun9601_cmu_asfamc" / "02"
    lines = (source / "02_01.amc").read_text().splitlines()
    (tmp_path / "02.asf").write_text((source / "02.asf").read_text())
    truncated = tmp_path / "02_01.amc"
    truncated.write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(MotionFileError, match=r"02_01\.amc: truncated"):
        read_amc(truncated, tmp_path / "02.asf")
    unknown = tmp_path / "02_02.amc"
    unknown.write_text("\n".join(lines[:40]).replace("lfemur", "lthigh") + "\n")
    with pytest.raises(MotionFileError, match="'lthigh' is not in the skeleton"):
        read_amc(unknown, tmp_path / "02.asf")
    (tmp_path / "lonely").mkdir()
    orphan = tmp_path / "lonely" / "07_01.amc"
    orphan.write_text("\n".join(lines[:40]) + "\n")
    with pytest.raises(MotionFileError, match="no ASF skeleton"):
        import_clip(orphan)


def test_nan_joints_never_leave_a_half_written_export(tmp_path):
    from mocap_data import facing_pair

    joints = np.repeat(facing_pair(1.0), 4, axis=0)
    joints[2, 1, 5] = np.nan
    with pytest.raises(ValueError):
        export_motion(tmp_path / "out", joints)
    assert not (tmp_path / "out").exists()


@needs_mocap()
def test_the_t_pose_frame_before_a_take_is_dropped():
    # CMU 18_01/19_01 open on a T-pose frame, then jump into the walk
    raw = read_bvh(MOCAP / "BioMotionToolbox" / "18_01.bvh")
    assert raw.num_frames == 304
    lead, follow = import_pair(MOCAP / "BioMotionToolbox" / "18_01.bvh", MOCAP / "BioMotionToolbox" / "19_01.bvh")
    for clip in (lead, follow):
        speed = np.linalg.norm(np.diff(clip.joints[:3], axis=0), axis=-1).max() * clip.fps
        assert speed < 5.0
    assert lead.num_frames == follow.num_frames == 75


def test_missing_and_oversized_files_are_refused_before_reading(tmp_path):
    with pytest.raises(MotionFileError, match=r"absent\.bvh: cannot read"):
        read_bvh(tmp_path / "absent.bvh")
    huge = tmp_path / "huge.bvh"
    with huge.open("wb") as handle:  # sparse: no disk used, no memory either
        handle.truncate(600 * 1024 * 1024)
    with pytest.raises(MotionFileError, match="larger than"):
        read_bvh(huge)
    with pytest.raises(MotionFileError, match="larger than"):
        import_clip(huge.rename(tmp_path / "huge.data3d.txt"))
