"""InterGen's per-person 262-d motion feature, both ways, and its two-person placement.

Layout of one frame (InterGen, utils/utils.py ``process_motion_np``):

====================  =========================================================
``[0:66]``            22 joint positions, canonical frame (see below)
``[66:132]``          22 joint velocities, ``p[t+1] - p[t]``, same frame
``[132:258]``         21 local joint rotations (joints 1..21) as 6D: the first two
                      columns of each matrix, row-major ``[R00, R01, R10, R11, R20, R21]``
``[258:262]``         foot contacts: l_ankle, l_foot, r_ankle, r_foot
====================  =========================================================

Canonical frame: the person's lowest joint over the clip at y = 0, the pelvis at x = z = 0 on
the first frame, and the body facing +z on the first frame (from the hips: forward =
up x (r_hip - l_hip)). A clip of T frames gives T - 1 feature rows. InterGen puts the second
person in the first one's canonical frame; ``pair_to_features`` does the same. Rotations are
local, so the canonical turn does not touch them.
"""

from __future__ import annotations

import numpy as np

from .skeleton import NUM_JOINTS

FEATURE_DIM = 262
POSITIONS, VELOCITIES, ROTATIONS, CONTACTS = slice(0, 66), slice(66, 132), slice(132, 258), slice(258, 262)
CONTACT_JOINTS = (7, 10, 8, 11)
CONTACT_HEIGHTS = (0.12, 0.05, 0.12, 0.05)  # ankles, feet (metres)
NORMALIZER_FILE = "normalizer.safetensors"
CONTACT_SPEED = 0.001  # squared displacement per frame (InterGen's feet_thre)


def rotation_to_6d(rotations: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6): InterGen's order, the 3x2 block of the first two columns row by row."""
    return np.asarray(rotations)[..., :, :2].reshape((*rotations.shape[:-2], 6))


def rotation_from_6d(sixd: np.ndarray) -> np.ndarray:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt on the two stored columns."""
    block = np.asarray(sixd, dtype=np.float64).reshape((*sixd.shape[:-1], 3, 2))
    first = block[..., 0] / np.maximum(np.linalg.norm(block[..., 0], axis=-1, keepdims=True), 1e-12)
    second = block[..., 1] - np.sum(first * block[..., 1], axis=-1, keepdims=True) * first
    second = second / np.maximum(np.linalg.norm(second, axis=-1, keepdims=True), 1e-12)
    return np.stack([first, second, np.cross(first, second)], axis=-1)


def _yaw(angle: np.ndarray) -> np.ndarray:
    """Rotations about +y by ``angle`` (radians), (..., 3, 3)."""
    cosine, sine = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([cosine, zero, sine], -1), np.stack([zero, one, zero], -1), np.stack([-sine, zero, cosine], -1)], -2)


def canonical_transform(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(turn (3, 3), shift (3,)) with canonical = turn @ (p + shift), for one person's clip (T, 22, 3)."""
    floor = joints[..., 1].min()
    shift = np.array([-joints[0, 0, 0], -floor, -joints[0, 0, 2]])
    across = joints[0, 2] - joints[0, 1]  # r_hip - l_hip
    forward = np.cross([0.0, 1.0, 0.0], across)
    heading = np.arctan2(forward[0], forward[2])  # angle of forward from +z, about +y
    return _yaw(np.array(-heading)), shift


def motion_to_features(joints: np.ndarray, local_rotations: np.ndarray, turn: np.ndarray | None = None,
                       shift: np.ndarray | None = None) -> np.ndarray:
    """One person's (T, 22, 3) joints and (T, 22, 3, 3) rotations -> (T - 1, 262) InterGen features.

    ``turn``/``shift`` place the clip (canonical = turn @ (p + shift)); by default its own canonical frame.
    """
    joints = np.asarray(joints, dtype=np.float64)
    local_rotations = np.asarray(local_rotations, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 2:
        raise ValueError(f"joints must have shape (frames >= 2, 22, 3), got {joints.shape}")
    if local_rotations.shape != (*joints.shape, 3):
        raise ValueError(f"local_rotations must have shape {(*joints.shape, 3)}, got {local_rotations.shape}")
    if turn is None or shift is None:
        turn, shift = canonical_transform(joints)
    positions = (joints + shift) @ turn.T
    velocities = positions[1:] - positions[:-1]
    feet = positions[:, list(CONTACT_JOINTS)]
    moving = np.sum((feet[1:] - feet[:-1]) ** 2, axis=-1)
    contacts = (moving < CONTACT_SPEED) & (feet[:-1, :, 1] < np.array(CONTACT_HEIGHTS))
    frames = joints.shape[0] - 1
    return np.concatenate([
        positions[:-1].reshape(frames, -1), velocities.reshape(frames, -1),
        rotation_to_6d(local_rotations[:-1, 1:]).reshape(frames, -1), contacts.astype(np.float64),
    ], axis=-1)


def features_to_motion(features: np.ndarray, include_last: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joints (T, 22, 3), local rotations of joints 1..21 (T, 21, 3, 3), contacts (T', 4)) from (T', 262).

    With ``include_last`` the frame the features dropped is restored as ``p[-1] + v[-1]`` (T = T' + 1;
    its rotations repeat the last row's).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[1] != FEATURE_DIM:
        raise ValueError(f"features must have shape (frames, 262), got {features.shape}")
    frames = features.shape[0]
    joints = features[:, POSITIONS].reshape(frames, NUM_JOINTS, 3)
    rotations = rotation_from_6d(features[:, ROTATIONS].reshape(frames, NUM_JOINTS - 1, 6))
    if include_last:
        joints = np.concatenate([joints, joints[-1:] + features[-1:, VELOCITIES].reshape(1, NUM_JOINTS, 3)])
        rotations = np.concatenate([rotations, rotations[-1:]])
    return joints, rotations, features[:, CONTACTS]


def pair_to_features(joints: np.ndarray, local_rotations: np.ndarray) -> np.ndarray:
    """Two people (T, 2, 22, 3) and (T, 2, 22, 3, 3) -> (T - 1, 2, 262), both in person A's canonical frame.

    As InterGen: each person is floored on its own, person B is turned and moved by A's transform.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 4 or joints.shape[1] != 2:
        raise ValueError(f"joints must have shape (frames, 2, 22, 3), got {joints.shape}")
    turn, shift = canonical_transform(joints[:, 0])
    shift_b = shift.copy()
    shift_b[1] = -joints[:, 1, :, 1].min()
    return np.stack([
        motion_to_features(joints[:, 0], local_rotations[:, 0], turn, shift),
        motion_to_features(joints[:, 1], local_rotations[:, 1], turn, shift_b),
    ], axis=1)


class FeatureNormalizer:
    """Per-feature mean and standard deviation of the 262-d vector, shared by both people (as InterGen's
    ``global_mean.npy``/``global_std.npy``); works on numpy arrays and torch tensors."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if self.mean.shape != (FEATURE_DIM,) or self.std.shape != (FEATURE_DIM,):
            raise ValueError(f"mean and std must have shape ({FEATURE_DIM},), got {self.mean.shape} and {self.std.shape}")
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all() and (self.std > 0).all()):
            raise ValueError("mean must be finite and std finite and positive")

    @classmethod
    def fit(cls, rows: np.ndarray, min_std: float = 1e-2) -> FeatureNormalizer:
        """From feature rows (..., 262); a floor on std keeps near-constant features (contacts) tame."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, FEATURE_DIM)
        return cls(rows.mean(0), np.maximum(rows.std(0), min_std))

    def _stats(self, like):
        if isinstance(like, np.ndarray):
            return self.mean, self.std
        import torch

        return (torch.as_tensor(self.mean, dtype=like.dtype, device=like.device),
                torch.as_tensor(self.std, dtype=like.dtype, device=like.device))

    def normalize(self, features):
        mean, std = self._stats(features)
        return (features - mean) / std

    def denormalize(self, features):
        mean, std = self._stats(features)
        return features * std + mean

    def save(self, path) -> None:
        from safetensors.numpy import save_file

        save_file({"mean": self.mean, "std": self.std}, str(path))

    @classmethod
    def load(cls, path) -> FeatureNormalizer:
        from safetensors.numpy import load_file

        arrays = load_file(str(path))
        return cls(arrays["mean"], arrays["std"])

    # As a pipeline component: a directory holding ``normalizer.safetensors``.
    def save_pretrained(self, directory) -> None:
        from pathlib import Path

        Path(directory).mkdir(parents=True, exist_ok=True)
        self.save(Path(directory) / NORMALIZER_FILE)

    @classmethod
    def from_pretrained(cls, directory) -> FeatureNormalizer:
        from pathlib import Path

        path = Path(directory) / NORMALIZER_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{directory} has no {NORMALIZER_FILE}")
        return cls.load(path)
