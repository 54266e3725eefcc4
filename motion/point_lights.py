"""BioMotionToolbox point-light files (``*.data3d.txt``): 13 markers per frame, three text rows
(x, y, z) of 13 values each, y up, 120 fps; CMU 60_06 in the shared mocap is one.

Marker order: head; left shoulder, elbow, wrist; right shoulder, elbow, wrist; left hip, knee,
ankle; right hip, knee, ankle. Units are the toolbox's (CMU ASF units, 0.45 inch).

Point lights carry no pelvis, spine, collarbones or toes; the reader adds the points SMPL-22 needs
and says how: the pelvis is the middle of the hips, the neck the middle of the shoulders (the
spine runs straight between them), and each toe sits a foot's length ahead of its ankle along the
hips' forward direction, a little lower, since the file has no toe marker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MotionFileError, check_size
from .expmap import ASF_UNIT

MARKERS = (
    "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
    "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle",
)
DERIVED = ("pelvis", "neck_base", "l_toe", "r_toe")
TOE_AHEAD, TOE_BELOW = 0.125, 0.05  # metres: SMPL's ankle-to-toe-base offset, forward and down
POINT_LIGHT_FPS = 120.0


def read_point_lights(path: str | Path) -> tuple[list[str], np.ndarray, float]:
    """(names, positions (frames, 17, 3) in metres, fps): the 13 markers and the 4 derived points."""
    path = Path(path)
    check_size(path)
    try:
        values = np.loadtxt(path, ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as error:
        raise MotionFileError(f"{path}: not a point-light text file ({error})") from error
    if values.shape[1] != len(MARKERS) or values.shape[0] % 3:
        raise MotionFileError(f"{path}: needs rows of {len(MARKERS)} values, three rows (x, y, z) per frame; "
                              f"found {values.shape[0]} rows of {values.shape[1]}")
    if not np.isfinite(values).all():
        raise MotionFileError(f"{path}: holds NaN or infinite values")
    markers = values.reshape(-1, 3, len(MARKERS)).transpose(0, 2, 1) * ASF_UNIT  # (frames, 13, 3)
    point = {name: markers[:, index] for index, name in enumerate(MARKERS)}
    across = point["r_hip"] - point["l_hip"]
    forward = np.cross([0.0, 1.0, 0.0], across)
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)
    derived = [
        (point["l_hip"] + point["r_hip"]) / 2,
        (point["l_shoulder"] + point["r_shoulder"]) / 2,
        point["l_ankle"] + TOE_AHEAD * forward - [0.0, TOE_BELOW, 0.0],
        point["r_ankle"] + TOE_AHEAD * forward - [0.0, TOE_BELOW, 0.0],
    ]
    return [*MARKERS, *DERIVED], np.concatenate([markers, np.stack(derived, axis=1)], axis=1), POINT_LIGHT_FPS
