"""Longer walks from short takes, for training data.

CMU's walking trials cross the capture room in 2-5 seconds, so a prior trained on them has
rarely seen anyone walk for ten. ``stitch_clips`` joins takes of one action into one long
take the way motion graphs do: it leaves one take and enters the next at the pair of frames where
the two poses (and their velocities) match best, seen from each body's own heading; turns and
moves the next take so the pelvis and heading carry on from there; and eases the joint rotations
from the old pose into the new one over ``blend_frames`` frames, so the seam neither jumps nor
slides. Every frame is a recorded pose or a blend of two close ones.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from .retarget import Clip
from .skeleton import forward_kinematics

STEADY_MAX_JOINT_SPEED = 6.0  # m/s: faster is a glitch in a walking take (a swinging hand stays under 4)
STEADY_MIN_SPEED = 0.5  # m/s of pelvis travel, start to end


def fastest_joint_speed(joints: np.ndarray, fps: float) -> float:
    """Fastest any joint moves (m/s) between consecutive frames of joints (T, ..., 3); 0 for one frame."""
    if joints.shape[0] < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(joints, axis=0), axis=-1).max() * fps)


def is_steady_walk(clip: Clip) -> bool:
    """Whether a take walks on at an even pace with no glitch: fit to be stitched."""
    if clip.num_frames < 3:
        return False
    joint_speed = fastest_joint_speed(clip.joints, clip.fps)
    travel = np.linalg.norm(clip.root_positions[-1, [0, 2]] - clip.root_positions[0, [0, 2]])
    return bool(joint_speed <= STEADY_MAX_JOINT_SPEED and travel / (clip.num_frames - 1) * clip.fps >= STEADY_MIN_SPEED)


def _yaw(joints: np.ndarray) -> np.ndarray:
    """Heading angle (frames,) about +y, from the hips: 0 faces +z."""
    across = joints[:, 2] - joints[:, 1]
    forward = np.cross([0.0, 1.0, 0.0], across)
    return np.arctan2(forward[:, 0], forward[:, 2])


def _turn(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), 0.0, np.sin(angle)], [0.0, 1.0, 0.0], [-np.sin(angle), 0.0, np.cos(angle)]])


def _matching_features(clip: Clip, frames: np.ndarray) -> np.ndarray:
    """(len(frames), 132): pelvis-relative joints and their per-frame velocity, each seen facing +z."""
    joints = clip.joints
    following = np.minimum(frames + 1, clip.num_frames - 1)
    yaw = _yaw(joints[frames])
    features = []
    for frame, after, angle in zip(frames, following, yaw, strict=True):
        unturn = _turn(-angle)
        pose = (joints[frame] - joints[frame, 0] * [1.0, 0.0, 1.0]) @ unturn.T
        velocity = (joints[after] - joints[frame]) @ unturn.T
        features.append(np.concatenate([pose.ravel(), 10.0 * velocity.ravel()]))  # 10: a 3 cm step weighs like a 30 cm offset
    return np.array(features)


def best_transition(leaving: Clip, entering: Clip, search_frames: int = 45) -> tuple[int, int, float]:
    """(frame of ``leaving`` to leave after, frame of ``entering`` to continue from, feature distance).

    Searches the last ``search_frames`` frames of one take against the first ``search_frames`` of
    the next (leaving at least two frames of each)."""
    low = max(1, leaving.num_frames - search_frames)
    leave_frames = np.arange(low, leaving.num_frames - 1)
    enter_frames = np.arange(0, min(search_frames, entering.num_frames - 2))
    if len(leave_frames) == 0 or len(enter_frames) == 0:
        raise ValueError(f"takes of {leaving.num_frames} and {entering.num_frames} frames are too short to stitch")
    a, b = _matching_features(leaving, leave_frames), _matching_features(entering, enter_frames)
    distances = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(np.argmin(distances), distances.shape)
    return int(leave_frames[i]), int(enter_frames[j]), float(np.sqrt(distances[i, j]))


def stitch_clips(clips: list[Clip], blend_frames: int = 10, search_frames: int = 45) -> Clip:
    """One take of ``clips`` played one after another, joined at their best-matching frames.

    All clips must be on the SMPL mean skeleton at one frame rate (as ``import_clip`` returns them).
    """
    if len(clips) < 1:
        raise ValueError("stitch_clips needs at least one clip")
    if len({clip.fps for clip in clips}) > 1:
        raise ValueError(f"clips have different frame rates: {sorted({clip.fps for clip in clips})}")
    rotations = clips[0].local_rotations.copy()
    root = clips[0].root_positions.copy()
    for clip in clips[1:]:
        joints_so_far = forward_kinematics(rotations[-search_frames - 2:], root[-search_frames - 2:])
        tail = Clip(joints_so_far, rotations[-search_frames - 2:], root[-search_frames - 2:], clip.fps, "", "")
        leave, enter, _ = best_transition(tail, clip, search_frames)
        leave += len(rotations) - tail.num_frames
        # turn and move the new take so its entering frame stands where the old take leaves
        angle = _yaw(forward_kinematics(rotations[leave], root[leave])[None])[0] - _yaw(clip.joints[enter][None])[0]
        turn = _turn(angle)
        new_rotations = clip.local_rotations[enter:].copy()
        new_rotations[:, 0] = turn @ new_rotations[:, 0]
        new_root = (clip.root_positions[enter:] - clip.root_positions[enter] * [1.0, 0.0, 1.0]) @ turn.T
        new_root += root[leave] * [1.0, 0.0, 1.0]
        # the frame after the seam is the new take's next frame; ease the pose difference away
        offsets = Rotation.from_matrix(rotations[leave]) * Rotation.from_matrix(new_rotations[0]).inv()  # per joint
        height_offset = root[leave, 1] - new_root[0, 1]
        for step in range(min(blend_frames, len(new_rotations))):
            weight = 1.0 - step / blend_frames
            partial = Rotation.from_rotvec(offsets.as_rotvec() * weight)
            new_rotations[step] = (partial * Rotation.from_matrix(new_rotations[step])).as_matrix()
            new_root[step, 1] += height_offset * weight
        rotations = np.concatenate([rotations[: leave + 1], new_rotations[1:]])
        root = np.concatenate([root[: leave + 1], new_root[1:]])
    joints = forward_kinematics(rotations, root)
    floor = joints[..., 1].min()  # the takes' floors agree up to the eased height offsets
    return Clip(joints - [0.0, floor, 0.0], rotations, root - [0.0, floor, 0.0], clips[0].fps, " + ".join(clip.source for clip in clips), clips[0].rig)
