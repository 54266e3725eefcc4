"""Motion files: ``motion.npz``, one BVH per person, and the preview, all written atomically.

``motion.npz`` holds ``joints`` (frames, 2, 22, 3) float32 in metres and ``fps``; with rotations
it also holds SMPL parameters (``smpl_poses`` (frames, 2, 72) axis-angle for SMPL's 24 joints,
hands at rest; ``smpl_trans`` (frames, 2, 3); ``smpl_betas`` (2, 10) zeros, the mean body), which
``smplx.SMPL`` turns straight into meshes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generators.files import atomic_write_bytes

from .bvh import write_bvh
from .errors import MotionFileError
from .preview import save_preview
from .skeleton import NUM_JOINTS, SMPL_REST_JOINTS, inverse_kinematics

PERSON_NAMES = ("a", "b")


@dataclass
class MotionFile:
    joints: np.ndarray  # (frames, people, 22, 3)
    fps: float
    smpl_poses: np.ndarray | None = None  # (frames, people, 72)
    smpl_trans: np.ndarray | None = None  # (frames, people, 3)
    smpl_betas: np.ndarray | None = None  # (people, 10)


def smpl_parameters(local_rotations: np.ndarray, root_positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SMPL (poses (..., 72), trans (..., 3)) for the mean body from local rotations (..., 22, 3, 3)."""
    from scipy.spatial.transform import Rotation

    shape = local_rotations.shape[:-3]
    axis_angle = Rotation.from_matrix(local_rotations.reshape(-1, 3, 3)).as_rotvec().reshape((*shape, NUM_JOINTS * 3))
    poses = np.concatenate([axis_angle, np.zeros((*shape, 6))], axis=-1)  # SMPL's two hand joints at rest
    return poses, root_positions - SMPL_REST_JOINTS[0]  # SMPL puts the rest pelvis at J0 when trans = 0


def save_npz(path: str | Path, joints: np.ndarray, fps: float = 30.0, local_rotations: np.ndarray | None = None,
             root_positions: np.ndarray | None = None) -> Path:
    """Write ``motion.npz``: joints (frames, people, 22, 3), fps, and SMPL parameters when rotations are given."""
    joints = np.asarray(joints, dtype=np.float32)
    if joints.ndim != 4 or joints.shape[2:] != (NUM_JOINTS, 3):
        raise ValueError(f"joints must have shape (frames, people, 22, 3), got {joints.shape}")
    if not np.isfinite(joints).all():
        raise ValueError("joints hold NaN or infinite values")
    arrays = {"joints": joints, "fps": np.float32(fps)}
    if local_rotations is not None:
        root = joints[:, :, 0].astype(np.float64) if root_positions is None else np.asarray(root_positions)
        poses, trans = smpl_parameters(np.asarray(local_rotations, dtype=np.float64), root)
        arrays.update(smpl_poses=poses.astype(np.float32), smpl_trans=trans.astype(np.float32),
                      smpl_betas=np.zeros((joints.shape[1], 10), np.float32))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic_write_bytes(path, buffer.getvalue())


def load_npz(path: str | Path) -> MotionFile:
    """Read a ``motion.npz``; (frames, 22, 3) single-person and (1, frames, 2, 22, 3) batch files are accepted."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as error:
        raise MotionFileError(f"{path}: not a readable .npz file ({error})") from error
    if "joints" not in arrays:
        raise MotionFileError(f"{path}: no 'joints' array (found {sorted(arrays)})")
    joints = arrays["joints"].astype(np.float64)
    if joints.ndim == 5 and joints.shape[0] == 1:
        joints = joints[0]
    if joints.ndim == 3:
        joints = joints[:, None]
    if joints.ndim != 4 or joints.shape[2:] != (NUM_JOINTS, 3):
        raise MotionFileError(f"{path}: 'joints' must have shape (frames, people, 22, 3), got {arrays['joints'].shape}")
    if not np.isfinite(joints).all():
        raise MotionFileError(f"{path}: 'joints' holds NaN or infinite values")
    fps = float(arrays.get("fps", 30.0))
    if not fps > 0:
        raise MotionFileError(f"{path}: fps must be positive, got {fps}")
    return MotionFile(joints, fps, arrays.get("smpl_poses"), arrays.get("smpl_trans"), arrays.get("smpl_betas"))


def export_motion(directory: str | Path, joints: np.ndarray, fps: float = 30.0, local_rotations: np.ndarray | None = None,
                  preview: bool = True) -> dict[str, Path]:
    """Write ``motion.npz``, ``person_a.bvh``, ``person_b.bvh`` and ``preview.gif`` for ``joints`` (frames, 2, 22, 3)
    (or one person: (frames, 1, 22, 3) writes ``person_a.bvh`` only).

    Without ``local_rotations`` (frames, 2, 22, 3, 3) they are solved from the joints; the BVH rig
    has the SMPL mean body's bone lengths.
    """
    directory = Path(directory)
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 4 or joints.shape[1] not in (1, 2) or joints.shape[2:] != (NUM_JOINTS, 3):
        raise ValueError(f"joints must have shape (frames, 2, 22, 3), got {joints.shape}")
    if not np.isfinite(joints).all():
        raise ValueError("joints hold NaN or infinite values")
    directory.mkdir(parents=True, exist_ok=True)
    rotations = inverse_kinematics(joints) if local_rotations is None else np.asarray(local_rotations, dtype=np.float64)
    roots = joints[:, :, 0]
    files = {"npz": save_npz(directory / "motion.npz", joints, fps, rotations, roots)}
    for person, name in enumerate(PERSON_NAMES[: joints.shape[1]]):
        files[f"bvh_{name}"] = write_bvh(directory / f"person_{name}.bvh", rotations[:, person], roots[:, person], fps)
    if preview:
        files["preview"] = save_preview(directory / "preview.gif", joints, fps)
    return files
