"""Real mocap onto the SMPL 22-joint body: rig tables, import, resampling to 30 fps, ground.

A rig table says where each SMPL joint sits on the source skeleton: a source joint, or a point a
fraction of the way along a chain of source joints (spines and collarbones differ most between
rigs). Those points give bone directions; inverse kinematics onto the SMPL mean body then gives
rotations and positions with SMPL's bone lengths, so bone lengths never drift. The clip is
resampled to 30 fps, its pelvis path scaled by leg length, a leading calibration pose (CMU's
T-pose frame) dropped, and lowered so its lowest joint touches y = 0 (InterGen's floor convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import MotionFileError
from .skeleton import JOINT_INDEX, JOINT_NAMES, SMPL_REST_JOINTS, leg_scale, retarget_to_rest_skeleton

FPS = 30.0

Along = tuple[tuple[str, ...], float]  # a point this fraction of the way along a chain of joints
Placement = str | Along


def _spine_fractions() -> dict[str, float]:
    path = [JOINT_INDEX[n] for n in ("pelvis", "spine1", "spine2", "spine3", "neck")]
    steps = np.linalg.norm(np.diff(SMPL_REST_JOINTS[path], axis=0), axis=1)
    cumulative = np.cumsum(steps) / steps.sum()
    return {"spine1": float(cumulative[0]), "spine2": float(cumulative[1]), "spine3": float(cumulative[2])}


SPINE = _spine_fractions()
# SMPL's collar joint sits this far out from the neck towards the shoulder
COLLAR = float(SMPL_REST_JOINTS[JOINT_INDEX["l_collar"], 0] / SMPL_REST_JOINTS[JOINT_INDEX["l_shoulder"], 0])


def _table(pelvis, legs, spine_chain, neck, head, collar_start, arms) -> dict[str, Placement]:
    """One rig's table; ``legs``/``arms``/``collar_start`` map side ('l'/'r') to source names."""
    table: dict[str, Placement] = {"pelvis": pelvis, "neck": neck, "head": head}
    for name, fraction in SPINE.items():
        table[name] = (spine_chain, fraction)
    for side in "lr":
        hip, knee, ankle, toe = legs[side]
        shoulder, elbow, wrist = arms[side]
        table.update({f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle, f"{side}_foot": toe})
        table.update({f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist})
        table[f"{side}_collar"] = ((collar_start[side], shoulder), COLLAR)
    return table


RIGS: dict[str, dict[str, Placement]] = {
    # our own export (motion.bvh.write_bvh): the SMPL joints themselves
    "smpl": {name: name for name in JOINT_NAMES},
    # cgspeed's MotionBuilder-friendly CMU BVH (31 joints)
    "cmu_motionbuilder": _table(
        "Hips",
        {"l": ("LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase"), "r": ("RightUpLeg", "RightLeg", "RightFoot", "RightToeBase")},
        ("Hips", "Spine", "Spine1", "Neck"), "Neck", "Head",
        {"l": "LeftShoulder", "r": "RightShoulder"},
        {"l": ("LeftArm", "LeftForeArm", "LeftHand"), "r": ("RightArm", "RightForeArm", "RightHand")},
    ),
    # the older cgspeed CMU BVH naming (31 joints: LeftHip ... Chest2, lowerneck)
    "cmu_bvh": _table(
        "Hips",
        {"l": ("LeftHip", "LeftKnee", "LeftAnkle", "LeftToe"), "r": ("RightHip", "RightKnee", "RightAnkle", "RightToe")},
        ("Hips", "Chest", "Chest2", "lowerneck"), "lowerneck", "Head",
        {"l": "LeftCollar", "r": "RightCollar"},
        {"l": ("LeftShoulder", "LeftElbow", "LeftWrist"), "r": ("RightShoulder", "RightElbow", "RightWrist")},
    ),
    # cgspeed's DAZ-friendly CMU BVH (43 joints, fingers and eyes; the toe is the foot's end site)
    "cmu_daz": _table(
        "hip",
        {"l": ("lThigh", "lShin", "lFoot", "lFoot_End"), "r": ("rThigh", "rShin", "rFoot", "rFoot_End")},
        ("hip", "abdomen", "chest", "neck"), "neck", "head",
        {"l": "lCollar", "r": "rCollar"},
        {"l": ("lShldr", "lForeArm", "lHand"), "r": ("rShldr", "rForeArm", "rHand")},
    ),
    # the CMU exponential-map CSV's 38-node tree (motion.expmap)
    "cmu_expmap": _table(
        "root",
        {"l": ("lhip", "lknee", "lankle", "ltoe"), "r": ("rhip", "rknee", "rankle", "rtoe")},
        ("root", "lowerback_end", "upperback_end", "neck_base"), "neck_base", "head_base",
        {"l": "lclavicle", "r": "rclavicle"},
        {"l": ("lshoulder", "lelbow", "lwrist"), "r": ("rshoulder", "relbow", "rwrist")},
    ),
    # BioMotionToolbox point lights, with the points motion.point_lights adds
    "point_lights": _table(
        "pelvis",
        {"l": ("l_hip", "l_knee", "l_ankle", "l_toe"), "r": ("r_hip", "r_knee", "r_ankle", "r_toe")},
        ("pelvis", "neck_base"), "neck_base", "head",
        {"l": "neck_base", "r": "neck_base"},
        {"l": ("l_shoulder", "l_elbow", "l_wrist"), "r": ("r_shoulder", "r_elbow", "r_wrist")},
    ),
    # Acclaim ASF/AMC as CMU recorded it: joints are bone ends
    "cmu_asf": _table(
        "root",
        {"l": ("lhipjoint", "lfemur", "ltibia", "lfoot"), "r": ("rhipjoint", "rfemur", "rtibia", "rfoot")},
        ("root", "lowerback", "upperback", "thorax"), "thorax", "upperneck",
        {"l": "thorax", "r": "thorax"},
        {"l": ("lclavicle", "lhumerus", "lradius"), "r": ("rclavicle", "rhumerus", "rradius")},
    ),
}


def _names_in(placement: Placement) -> tuple[str, ...]:
    return (placement,) if isinstance(placement, str) else placement[0]


def detect_rig(names: list[str]) -> str:
    """The rig table whose joints all appear in ``names``; ``ValueError`` listing what is missing."""
    available = set(names)
    missing_by_rig = {}
    for rig, table in RIGS.items():
        missing = sorted({n for p in table.values() for n in _names_in(p)} - available)
        if not missing:
            return rig
        missing_by_rig[rig] = missing
    closest = min(missing_by_rig, key=lambda r: len(missing_by_rig[r]))
    raise ValueError(
        f"unknown rig: no table matches joints {sorted(available)[:12]}...; closest is {closest!r}, "
        f"which lacks {missing_by_rig[closest]}. Pass rig=<a table> mapping SMPL joint names to source joints"
    )


def _along(points: np.ndarray, fraction: float) -> np.ndarray:
    """Per frame, the point ``fraction`` of the way along the polyline ``points`` (frames, n, 3)."""
    steps = np.linalg.norm(np.diff(points, axis=1), axis=-1)  # (frames, n-1)
    total = steps.sum(-1, keepdims=True)
    goal = fraction * total
    before = np.concatenate([np.zeros_like(total), np.cumsum(steps, axis=-1)[:, :-1]], axis=-1)
    segment = np.clip((goal >= before).sum(-1) - 1, 0, steps.shape[1] - 1)
    rows = np.arange(points.shape[0])
    within = (goal[:, 0] - before[rows, segment]) / np.maximum(steps[rows, segment], 1e-12)
    start, end = points[rows, segment], points[rows, segment + 1]
    return start + np.clip(within, 0.0, 1.0)[:, None] * (end - start)


def smpl_joints_from_rig(names: list[str], positions: np.ndarray, rig: str | dict[str, Placement] | None = None) -> np.ndarray:
    """(frames, 22, 3) SMPL joint locations on the source skeleton (source proportions)."""
    table = RIGS[rig] if isinstance(rig, str) else rig if rig is not None else RIGS[detect_rig(names)]
    index = {name: i for i, name in enumerate(names)}
    missing = sorted({n for p in table.values() for n in _names_in(p)} - set(index))
    if missing:
        raise ValueError(f"rig table names joints that are not in the file: {missing}")
    absent = [n for n in JOINT_NAMES if n not in table]
    if absent:
        raise ValueError(f"rig table must place every SMPL joint; missing {absent}")
    out = np.zeros((positions.shape[0], len(JOINT_NAMES), 3))
    for joint, name in enumerate(JOINT_NAMES):
        placement = table[name]
        if isinstance(placement, str):
            out[:, joint] = positions[:, index[placement]]
        else:
            chain, fraction = placement
            out[:, joint] = _along(positions[:, [index[n] for n in chain]], fraction)
    return out


def resample(values: np.ndarray, fps: float, target_fps: float = FPS) -> np.ndarray:
    """Linear resampling along the first axis from ``fps`` to ``target_fps``."""
    count = values.shape[0]
    if count < 2 or abs(fps - target_fps) < 1e-3:  # a BVH frame time of 0.033333 is 30 fps
        return values
    duration = (count - 1) / fps
    times = np.arange(int(np.floor(duration * target_fps + 1e-3)) + 1) / target_fps
    source = times * fps
    low = np.clip(np.floor(source).astype(int), 0, count - 1)
    high = np.clip(low + 1, 0, count - 1)
    weight = (source - low).reshape((-1,) + (1,) * (values.ndim - 1))
    return values[low] * (1 - weight) + values[high] * weight


@dataclass
class Clip:
    """One person's motion on the SMPL mean body at 30 fps (metres, y up, lowest joint at y = 0)."""

    joints: np.ndarray  # (frames, 22, 3)
    local_rotations: np.ndarray  # (frames, 22, 3, 3)
    root_positions: np.ndarray  # (frames, 3), the pelvis
    fps: float
    source: str
    rig: str

    @property
    def num_frames(self) -> int:
        return self.joints.shape[0]


def _locate(names: list[str], positions: np.ndarray, fps: float, rig, target_fps: float) -> tuple[str, np.ndarray]:
    rig_name = rig if isinstance(rig, str) else "custom" if rig is not None else detect_rig(names)
    located = smpl_joints_from_rig(names, positions, rig if rig is not None else rig_name)
    return rig_name, resample(located, fps, target_fps)


def _onto_smpl(located: np.ndarray, root_scale: float, fps: float, source: str, rig: str) -> Clip:
    joints, rotations, root = retarget_to_rest_skeleton(located, root_scale=root_scale)
    return Clip(joints, rotations, root, fps, source, rig)


CALIBRATION_SPEED = 15.0  # m/s; faster between the first frames is a jump out of a calibration pose


def _take_start(joints: np.ndarray, fps: float) -> int:
    """Frames to drop at the start: a calibration pose (CMU's T-pose frame) the take jumps out of."""
    start = 0
    while start + 2 < len(joints) and np.linalg.norm(joints[start + 1] - joints[start], axis=-1).max() * fps > CALIBRATION_SPEED:
        start += 1
    return start


def _trim(clips: list[Clip], start: int) -> list[Clip]:
    for clip in clips:
        clip.joints, clip.local_rotations, clip.root_positions = clip.joints[start:], clip.local_rotations[start:], clip.root_positions[start:]
    return clips


def _lower(clips: list[Clip]) -> list[Clip]:
    """Shift every clip by one amount so the lowest joint of any of them is at y = 0."""
    lowest = min(float(clip.joints[..., 1].min()) for clip in clips)
    for clip in clips:
        clip.joints = clip.joints - [0.0, lowest, 0.0]
        clip.root_positions = clip.root_positions - [0.0, lowest, 0.0]
    return clips


def retarget(names: list[str], positions: np.ndarray, fps: float, *, source: str = "",
             rig: str | dict[str, Placement] | None = None, target_fps: float = FPS) -> Clip:
    """Move one person's source joint positions (frames, joints, 3), y up, onto the SMPL body."""
    rig_name, located = _locate(names, positions, fps, rig, target_fps)
    clip = _onto_smpl(located, leg_scale(located), target_fps, source, rig_name)
    return _lower(_trim([clip], _take_start(clip.joints, target_fps)))[0]


def retarget_pair(sources: list[tuple[list[str], np.ndarray, float, str]], *, rig: str | dict[str, Placement] | None = None,
                  target_fps: float = FPS) -> list[Clip]:
    """Two (or more) people recorded in one world: one pelvis scale and one floor for all of them,
    so their distances and contacts survive the move onto the SMPL body.

    ``sources``: (names, positions, fps, source) per person; clips are cut to the shortest.
    """
    located = [(*_locate(names, positions, fps, rig, target_fps), source) for names, positions, fps, source in sources]
    frames = min(points.shape[0] for _, points, _ in located)
    scale = float(np.mean([leg_scale(points) for _, points, _ in located]))
    clips = [_onto_smpl(points[:frames], scale, target_fps, source, rig_name) for rig_name, points, source in located]
    return _lower(_trim(clips, max(_take_start(clip.joints, target_fps) for clip in clips)))


def read_source(path: str | Path, *, skeleton: str | Path | None = None, trial: str | None = None) -> tuple[list[str], np.ndarray, float]:
    """(joint names, positions (frames, joints, 3), fps) of one person's mocap file:

    * ``.bvh``;
    * ``.amc`` with its ASF (``skeleton``, or the subject's ``.asf`` beside it);
    * a CMU exponential-map CSV (``.txt``/``.csv``, 117 comma-separated values per line);
    * a BioMotionToolbox point-light file (``.data3d.txt``, 13 markers; see ``motion.point_lights``);
    * GPmat's ``.mat`` channel matrix: pass ``trial`` (e.g. ``"35_01"``), ASF as for AMC.
    """
    from .asf_amc import read_amc
    from .bvh import read_bvh
    from .expmap import read_expmap, read_gpmat
    from .point_lights import read_point_lights

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        motion = read_bvh(path)
        names, positions, fps = motion.names, motion.joint_positions(), motion.fps
    elif suffix == ".amc":
        motion = read_amc(path, Path(skeleton) if skeleton is not None else _asf_beside(path))
        names, positions, fps = motion.names, motion.joint_positions(), motion.fps
    elif path.name.lower().endswith(".data3d.txt"):
        names, positions, fps = read_point_lights(path)
    elif suffix in (".txt", ".csv"):
        names, positions, fps = read_expmap(path)
    elif suffix == ".mat":
        trials = read_gpmat(path, Path(skeleton) if skeleton is not None else _asf_beside(path))
        if trial not in trials:
            raise MotionFileError(f"{path}: pass trial= one of {sorted(trials)}")
        names, positions, fps = trials[trial]
    else:
        raise MotionFileError(f"{path}: unsupported motion file type {suffix!r} (expected .bvh, .amc, .txt/.csv exp-map or .mat)")
    if positions.shape[0] < 2:
        raise MotionFileError(f"{path}: needs at least 2 frames, has {positions.shape[0]}")
    return names, positions, fps


def import_clip(path: str | Path, *, rig: str | dict[str, Placement] | None = None, skeleton: str | Path | None = None,
                trial: str | None = None) -> Clip:
    """One person's mocap file (see ``read_source``) on the SMPL-22 body at 30 fps."""
    names, positions, fps = read_source(path, skeleton=skeleton, trial=trial)
    try:
        return retarget(names, positions, fps, source=f"{path}:{trial}" if trial else str(path), rig=rig)
    except ValueError as error:
        raise MotionFileError(f"{path}: {error}") from error


def import_pair(path_a: str | Path, path_b: str | Path, *, rig: str | dict[str, Placement] | None = None) -> list[Clip]:
    """Two people recorded together (e.g. CMU 60_xx lead with 61_xx follow), sharing scale and floor."""
    sources = [(*read_source(path), str(path)) for path in (path_a, path_b)]
    try:
        return retarget_pair(sources, rig=rig)
    except ValueError as error:
        raise MotionFileError(f"{path_a} + {path_b}: {error}") from error


def _asf_beside(path: Path) -> Path:
    subject = path.stem.split("_")[0]
    for candidate in (path.with_name(f"{subject}.asf"), *sorted(path.parent.glob("*.asf"))):
        if candidate.is_file():
            return candidate
    raise MotionFileError(f"{path}: no ASF skeleton beside it (expected {subject}.asf); pass skeleton=")
