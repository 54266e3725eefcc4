"""Two derived CMU formats: exponential-map CSV and GPmat's channel matrix.

* Exponential-map CSV (the CMU motion-prediction subset of Li et al., 2018): one line per frame
  of 117 values, the root position then 38 joints' exponential maps (axis-angle), on subject
  02's ASF skeleton as a 38-node tree (bone starts and tips). The first line is a rest pose and
  is skipped; 120 fps. Rotations compose as row vectors: ``R_world[i] = R[i] @ R_world[parent]``,
  ``p[i] = offset[i] @ R_world[parent] + p[parent]``. The offsets are subject 02's bone vectors
  (ASF units, 0.45 inch); the published skeleton table drops three of them (thorax and the two
  wrists), restored here from ``02.asf`` so the upper body sits where the AMC puts it.
* GPmat's ``cmu35WalkJog.mat`` (SheffieldML/GPmat): ``Y`` holds AMC channel values of CMU
  subject 35's trials, every 4th frame (30 fps), columns in skeleton order (root, then the
  ASF's bones with dofs in bonedata order, each bone's dofs in ASF order); ``lbls`` one-hot
  marks the trial.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .asf_amc import INCH, ASFSkeleton, asf_positions, read_asf
from .errors import MotionFileError, check_size

EXPMAP_PARENTS = (
    -1, 0, 1, 2, 3, 4, 5, 0, 7, 8, 9, 10, 11, 0, 13, 14, 15, 16, 17, 18, 15, 20, 21, 22, 23, 24, 25, 23, 27, 15, 29, 30,
    31, 32, 33, 34, 32, 36,
)
EXPMAP_NAMES = (
    "root", "lhipjoint", "lhip", "lknee", "lankle", "ltoe", "ltoe_tip", "rhipjoint", "rhip", "rknee", "rankle", "rtoe",
    "rtoe_tip", "spine_root", "lowerback_end", "upperback_end", "neck_base", "mid_neck", "head_base", "head_top",
    "lclavicle", "lshoulder", "lelbow", "lwrist", "lhand", "lfingers", "lfingers_tip", "lthumb", "lthumb_tip",
    "rclavicle", "rshoulder", "relbow", "rwrist", "rhand", "rfingers", "rfingers_tip", "rthumb", "rthumb_tip",
)
_THORAX = 2.06807 * np.array([0.000729686, 0.999992, 0.00388603])
_L_WRIST = 1.67777 * np.array([1.0, 0.0, 0.0])
_R_WRIST = 1.68216 * np.array([-1.0, 0.0, 0.0])
EXPMAP_OFFSETS = np.array([
    [0, 0, 0], [0, 0, 0], [1.65674, -1.80282, 0.62477], [2.59720, -7.13576, 0], [2.49236, -6.84770, 0],
    [0.19704, -0.54136, 2.14581], [0, 0, 1.11249], [0, 0, 0], [-1.61070, -1.80282, 0.62476], [-2.59502, -7.12977, 0],
    [-2.46780, -6.78024, 0], [-0.23024, -0.63258, 2.13368], [0, 0, 1.11569], [0, 0, 0], [0.01961, 2.05450, -0.14112],
    [0.01021, 2.06436, -0.05921], _THORAX, [0.00713, 1.56711, 0.14968], [0.03429, 1.56041, -0.10006],
    [0.01305, 1.62560, -0.05265], _THORAX, [3.54205, 0.90436, -0.17364], [4.86513, 0, 0], [3.35554, 0, 0], _L_WRIST,
    [0.66117, 0, 0], [0.53306, 0, 0], _L_WRIST, [0.54120, 0, 0.54120], _THORAX, [-3.49802, 0.75994, -0.32616],
    [-5.02649, 0, 0], [-3.36431, 0, 0], _R_WRIST, [-0.73041, 0, 0], [-0.58887, 0, 0], _R_WRIST, [-0.59786, 0, 0.59786],
], dtype=np.float64)
ASF_UNIT = INCH / 0.45  # metres per ASF length unit (CMU's 'length 0.45')


def read_expmap(path: str | Path) -> tuple[list[str], np.ndarray, float]:
    """(joint names, positions (frames, 38, 3) in metres, fps) of a CMU exponential-map CSV."""
    from scipy.spatial.transform import Rotation

    path = Path(path)
    check_size(path)
    try:
        values = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as error:
        raise MotionFileError(f"{path}: not a numeric CSV ({error})") from error
    if values.ndim != 2 or values.shape[1] != 3 + 3 * len(EXPMAP_NAMES):
        raise MotionFileError(f"{path}: each line needs {3 + 3 * len(EXPMAP_NAMES)} values (root position + 38 exp maps), "
                              f"found {values.shape[1] if values.ndim == 2 else 'ragged lines'}")
    values = values[1:]  # line 1 is a rest pose, not a frame
    if values.shape[0] < 2:
        raise MotionFileError(f"{path}: needs at least 2 frames after the rest-pose line")
    if not np.isfinite(values).all():
        raise MotionFileError(f"{path}: holds NaN or infinite values")
    frames = values.shape[0]
    local = Rotation.from_rotvec(values[:, 3:].reshape(-1, 3)).as_matrix().reshape(frames, len(EXPMAP_NAMES), 3, 3)
    world = np.zeros_like(local)
    positions = np.zeros((frames, len(EXPMAP_NAMES), 3))
    for joint, parent in enumerate(EXPMAP_PARENTS):
        if parent < 0:
            world[:, joint] = local[:, joint]
            positions[:, joint] = values[:, :3] + EXPMAP_OFFSETS[joint]
        else:
            world[:, joint] = local[:, joint] @ world[:, parent]
            positions[:, joint] = np.einsum("j,fjk->fk", EXPMAP_OFFSETS[joint], world[:, parent]) + positions[:, parent]
    return list(EXPMAP_NAMES), positions * ASF_UNIT, 120.0


GPMAT_TRIALS = tuple(f"35_{n:02d}" for n in (*range(1, 18), *range(19, 27), 28, *range(30, 35)))
GPMAT_TEST_TRIALS = ("35_18", "35_29")


def _channel_layout(skeleton: ASFSkeleton) -> list[tuple[str, int]]:
    """(bone, dof count) in GPmat's column order: root, then bones with dofs in the ASF's bonedata order."""
    layout = [("root", len(skeleton.root_order))]
    return layout + [(name, len(bone.dofs)) for name, bone in skeleton.bones.items() if bone.dofs]


def read_gpmat(path: str | Path, skeleton: str | Path | ASFSkeleton) -> dict[str, tuple[list[str], np.ndarray, float]]:
    """Every trial in a GPmat CMU .mat (``Y``/``lbls`` and ``Ytest``/``lblstest``) as
    {trial id: (joint names, positions (frames, joints, 3) in metres, fps 30)}."""
    from scipy.io import loadmat

    path = Path(path)
    if not isinstance(skeleton, ASFSkeleton):
        skeleton = read_asf(skeleton)
    check_size(path)
    try:
        data = loadmat(path)
    except (OSError, ValueError, NotImplementedError) as error:
        raise MotionFileError(f"{path}: not a readable .mat file ({error})") from error
    layout = _channel_layout(skeleton)
    width = sum(count for _, count in layout)
    trials: dict[str, tuple[list[str], np.ndarray, float]] = {}
    for values_key, labels_key, names in (("Y", "lbls", GPMAT_TRIALS), ("Ytest", "lblstest", GPMAT_TEST_TRIALS)):
        if values_key not in data:
            continue
        values, labels = np.asarray(data[values_key], dtype=np.float64), np.asarray(data.get(labels_key))
        if values.ndim != 2 or values.shape[1] != width:
            raise MotionFileError(f"{path}: {values_key} must have {width} columns for {skeleton.names[0]}..., found {values.shape}")
        if labels.ndim != 2 or labels.shape != (values.shape[0], len(names)):
            raise MotionFileError(f"{path}: {labels_key} must be one-hot ({values.shape[0]}, {len(names)}), found {labels.shape}")
        if not np.isfinite(values).all():
            raise MotionFileError(f"{path}: {values_key} holds NaN or infinite values")
        for column, trial in enumerate(names):
            rows = values[labels[:, column] > 0]
            frames = []
            for row in rows:
                frame, start = {}, 0
                for bone, count in layout:
                    frame[bone] = row[start : start + count]
                    start += count
                frames.append(frame)
            if len(frames) >= 2:
                trials[trial] = (skeleton.names, asf_positions(skeleton, frames), 30.0)
    if not trials:
        raise MotionFileError(f"{path}: no Y/lbls trials found")
    return trials
