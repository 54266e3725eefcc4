"""Motion quality metrics for two-person motion (metres, y up, floor at y = 0).

Definitions follow the papers they are compared with: trajectory error at controlled frames
(OmniControl/GMD: mean and max distance, share of sequences off by more than 50 cm), foot
skating (GMD: share of ground-contact frames in which a foot slides more than 2.5 cm), and
penetration between the two bodies (capsules here; mesh vertex checks in ``motion.mesh``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .capsules import CAPSULE_NAMES, capsule_contacts
from .skeleton import bone_lengths

FOOT_JOINTS = (7, 8, 10, 11)  # ankles and feet
CONTACT_HEIGHT = 0.05  # a foot joint this low is on the ground (GMD)
SKATE_DISTANCE = 0.025  # sliding further than this in one frame (at 30 fps) is skating (GMD)
TRAJECTORY_FAIL = 0.5  # a sequence is off when its worst controlled frame misses by more than this


def _joints(joints) -> np.ndarray:
    array = np.asarray(joints.detach().cpu() if isinstance(joints, torch.Tensor) else joints, dtype=np.float64)
    if array.ndim < 3 or array.shape[-2:] != (22, 3):
        raise ValueError(f"joints must have shape (..., frames, 22, 3), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("joints hold NaN or infinite values")
    return array


def trajectory_error(joints, target, controlled=None) -> dict[str, float]:
    """Pelvis-path error on the ground plane.

    ``joints`` (sequences, frames, 22, 3) or (frames, 22, 3); ``target`` (…, frames, 2) x/z;
    ``controlled`` (…, frames) bool marks the frames under control (default: all).
    """
    joints = _joints(joints)
    target = np.asarray(target, dtype=np.float64)
    if joints.ndim == 3:
        joints, target = joints[None], target[None]
        controlled = None if controlled is None else np.asarray(controlled)[None]
    if target.shape != (*joints.shape[:2], 2):
        raise ValueError(f"target must have shape {(*joints.shape[:2], 2)}, got {target.shape}")
    if not np.isfinite(target).all():
        raise ValueError("target holds NaN or infinite values")
    controlled = np.ones(joints.shape[:2], bool) if controlled is None else np.asarray(controlled, bool)
    errors = np.linalg.norm(joints[..., 0, [0, 2]] - target, axis=-1)
    per_sequence_max = np.array([e[m].max() if m.any() else 0.0 for e, m in zip(errors, controlled, strict=True)])
    return {
        "trajectory_error_mean_m": float(errors[controlled].mean()) if controlled.any() else 0.0,
        "trajectory_error_max_m": float(per_sequence_max.max()),
        "trajectory_fail_rate": float((per_sequence_max > TRAJECTORY_FAIL).mean()),
    }


def foot_skating(joints, fps: float = 30.0) -> dict[str, float]:
    """Share of foot-contact frames with a slide over 2.5 cm (scaled to 30 fps), and mean slide speed."""
    joints = _joints(joints)
    feet = joints[..., list(FOOT_JOINTS), :]
    slide = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=-3), axis=-1) * (fps / 30.0)  # per 30-fps frame
    contact = (feet[..., 1:, :, 1] < CONTACT_HEIGHT) & (feet[..., :-1, :, 1] < CONTACT_HEIGHT)
    if not contact.any():
        return {"foot_skating_ratio": 0.0, "foot_skating_speed_mps": 0.0}
    return {
        "foot_skating_ratio": float((slide[contact] > SKATE_DISTANCE).mean()),
        "foot_skating_speed_mps": float(slide[contact].mean() * 30.0),
    }


def ground_contact(joints) -> dict[str, float]:
    """How the lowest joint sits on the floor: median float above it, deepest dip below it."""
    joints = _joints(joints)
    lowest = joints[..., 1].min(-1)  # per frame
    return {
        "ground_float_m": float(np.median(lowest.clip(min=0))),
        "ground_penetration_m": float((-lowest).clip(min=0).max()),
        "ground_penetration_frames": float((lowest < -0.01).mean()),
    }


def jerk(joints, fps: float = 30.0) -> float:
    """Mean magnitude of the third time derivative of joint positions (m/s^3)."""
    joints = _joints(joints)
    if joints.shape[-3] < 4:
        return 0.0
    third = np.diff(joints, n=3, axis=-3) * fps**3
    return float(np.linalg.norm(third, axis=-1).mean())


def bone_length_drift(joints) -> float:
    """Largest relative deviation of any bone's length from its mean over the clip."""
    lengths = bone_lengths(_joints(joints))
    mean = lengths.mean(axis=-2, keepdims=True)
    return float((np.abs(lengths - mean) / np.maximum(mean, 1e-9)).max())


def collision_report(joints_a, joints_b, tolerance: float = 0.0) -> dict[str, Any]:
    """Capsule-body penetration between two people, (frames, 22, 3) each."""
    a = torch.as_tensor(_joints(joints_a), dtype=torch.float32)
    b = torch.as_tensor(_joints(joints_b), dtype=torch.float32)
    with torch.no_grad():
        contacts = capsule_contacts(a, b)
    depth = contacts.depth.numpy()
    colliding = depth > tolerance
    worst = int(depth.argmax())
    pair = contacts.capsule_pair.reshape(-1, 2)[worst].tolist()
    return {
        "colliding_frame_rate": float(colliding.mean()),
        "penetration_max_m": float(depth.max()),
        "penetration_mean_m": float(depth[colliding].mean()) if colliding.any() else 0.0,
        "deepest_frame": worst,
        "deepest_capsules": [CAPSULE_NAMES[pair[0]], CAPSULE_NAMES[pair[1]]],
        "min_clearance_m": float(contacts.clearance.min()),
    }


def motion_report(joints, fps: float = 30.0) -> dict[str, Any]:
    """Every trajectory-free metric of a two-person motion ``joints`` (frames, 2, 22, 3)."""
    joints = _joints(joints)
    if joints.ndim != 4 or joints.shape[1] != 2:
        raise ValueError(f"joints must have shape (frames, 2, 22, 3), got {joints.shape}")
    people = {"a": joints[:, 0], "b": joints[:, 1]}
    report: dict[str, Any] = {"frames": int(joints.shape[0]), "fps": float(fps)}
    report.update(collision_report(people["a"], people["b"]))
    for name, person in people.items():
        report[f"person_{name}"] = {
            **foot_skating(person, fps), **ground_contact(person),
            "jerk_mps3": jerk(person, fps), "bone_length_drift": bone_length_drift(person),
        }
    return report
