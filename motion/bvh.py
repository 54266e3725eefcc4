"""BVH files: read any rig into joint positions, write SMPL-22 motion on an SMPL rig.

Reading keeps the file's own skeleton (names, tree, offsets, channels); forward kinematics runs
over all frames at once. Positions channels give a joint's local position (they replace its
offset, as Blender reads them). Writing uses ZXY Euler channels, the order CMU's BVH use, and
writes the file atomically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generators.files import atomic_write_text

from .errors import MotionFileError, check_size
from .skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, rest_offsets

_ROTATION_AXES = {"Xrotation": "X", "Yrotation": "Y", "Zrotation": "Z"}
_POSITION_AXES = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


@dataclass
class BVHMotion:
    """A BVH file's skeleton and frames. ``values`` holds every channel of every frame, in file order.

    End sites are listed as joints named ``<parent>_End`` with no channels.
    """

    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # (joints, 3)
    channels: list[list[str]]
    frame_time: float
    values: np.ndarray  # (frames, channels)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        return self.values.shape[0]

    def joint_positions(self) -> np.ndarray:
        """(frames, joints, 3) world positions of every joint and end site (``<parent>_End``), in file units."""
        from scipy.spatial.transform import Rotation

        frames = self.num_frames
        world = np.zeros((frames, len(self.names), 3, 3))
        positions = np.zeros((frames, len(self.names), 3))
        column = 0
        for joint, channels in enumerate(self.channels):
            values = self.values[:, column : column + len(channels)]
            column += len(channels)
            local_position = np.broadcast_to(self.offsets[joint], (frames, 3)).copy()
            axes = ""
            angles = []
            for index, channel in enumerate(channels):
                if channel in _POSITION_AXES:
                    if not any(c in _POSITION_AXES for c in channels[:index]):
                        local_position[:] = 0.0  # position channels replace the offset
                    local_position[:, _POSITION_AXES[channel]] = values[:, index]
                else:
                    axes += _ROTATION_AXES[channel]
                    angles.append(values[:, index])
            rotation = Rotation.from_euler(axes, np.stack(angles, -1), degrees=True).as_matrix() if axes else np.eye(3)
            parent = self.parents[joint]
            if parent < 0:
                world[:, joint] = rotation
                positions[:, joint] = local_position
            else:
                world[:, joint] = world[:, parent] @ rotation
                positions[:, joint] = positions[:, parent] + np.einsum("fij,fj->fi", world[:, parent], local_position)
        return positions


def _error(path: Path, message: str) -> MotionFileError:
    return MotionFileError(f"{path}: {message}")


def read_bvh(path: str | Path) -> BVHMotion:
    """Parse a BVH file. Raises ``MotionFileError`` naming the file and the problem."""
    path = Path(path)
    check_size(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise _error(path, f"cannot read ({error.strerror})") from error
    header, separator, motion = text.partition("MOTION")
    if not separator:
        raise _error(path, "no MOTION section")
    tokens = header.split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise _error(path, "does not start with HIERARCHY")

    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []  # open joints and end sites
    position = 1
    pending: int | None = None  # joint whose '{' comes next
    declared: set[int] = set()  # joints with a CHANNELS line

    def take(count: int) -> list[str]:
        nonlocal position
        if position + count > len(tokens):
            raise _error(path, "hierarchy ends early")
        items = tokens[position : position + count]
        position += count
        return items

    while position < len(tokens):
        token = take(1)[0]
        if token in ("ROOT", "JOINT"):
            if token == "ROOT" and names:
                raise _error(path, "more than one ROOT (one skeleton per file is supported)")
            name = take(1)[0]
            names.append(name)
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            pending = len(names) - 1
        elif token == "End":
            take(1)  # "Site": kept as a joint without channels, named after its parent
            parent = stack[-1] if stack else -1
            names.append(f"{names[parent]}_End" if parent >= 0 else "End")
            parents.append(parent)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            pending = len(names) - 1
        elif token == "{":
            if pending is None:
                raise _error(path, "unexpected '{'")
            stack.append(pending)
            pending = None
        elif token == "}":
            if not stack:
                raise _error(path, "unbalanced '}'")
            stack.pop()
        elif token == "OFFSET":
            values = take(3)
            if stack:
                offsets[stack[-1]] = [_number(path, v, "OFFSET") for v in values]
        elif token == "CHANNELS":
            if not stack or names[stack[-1]].endswith("_End"):
                raise _error(path, "CHANNELS outside a joint")
            count = int(_number(path, take(1)[0], "CHANNELS count"))
            names_of_channels = take(count)
            unknown = [c for c in names_of_channels if c not in _ROTATION_AXES and c not in _POSITION_AXES]
            if unknown:
                raise _error(path, f"joint {names[stack[-1]]!r} has unknown channel(s) {unknown}")
            channels[stack[-1]] = names_of_channels
            declared.add(stack[-1])
        else:
            raise _error(path, f"unexpected token {token!r} in HIERARCHY")
    if stack:
        raise _error(path, "hierarchy is not closed (missing '}')")
    if not names:
        raise _error(path, "no joints")
    missing = [name for j, name in enumerate(names) if j not in declared and not name.endswith("_End")]
    if missing:
        raise _error(path, f"joint(s) {missing} have no CHANNELS line")

    lines = [line for line in motion.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].strip().startswith("Frames:") or not lines[1].strip().startswith("Frame Time:"):
        raise _error(path, "MOTION section needs 'Frames:' and 'Frame Time:' lines")
    declared = int(_number(path, lines[0].split(":", 1)[1], "Frames"))
    frame_time = _number(path, lines[1].split(":", 1)[1], "Frame Time")
    if not (frame_time > 0 and math.isfinite(frame_time)):
        raise _error(path, f"Frame Time must be positive, got {frame_time}")
    width = sum(len(c) for c in channels)
    rows = lines[2:]
    if len(rows) < declared:
        raise _error(path, f"truncated: {declared} frames declared, {len(rows)} present")
    try:
        values = np.array([row.split() for row in rows[:declared]], dtype=np.float64)
    except ValueError as error:
        raise _error(path, f"frame values: {error}") from error
    if declared == 0 or values.ndim != 2 or values.shape[1] != width:
        counts = sorted({len(row.split()) for row in rows[:declared]})
        raise _error(path, f"each frame needs {width} values (one per channel), found {counts}")
    if not np.isfinite(values).all():
        frame = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise _error(path, f"frame {frame} holds NaN or infinite values")
    return BVHMotion(names, parents, np.array(offsets), channels, frame_time, values)


def _number(path: Path, text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise _error(path, f"{what}: {text.strip()!r} is not a number") from error


def write_bvh(
    path: str | Path,
    local_rotations: np.ndarray,
    root_positions: np.ndarray,
    fps: float = 30.0,
    offsets: np.ndarray | None = None,
) -> Path:
    """Write one person's motion on an SMPL-22 rig (metres, y up) that Blender and game tools import.

    ``local_rotations`` (frames, 22, 3, 3) and ``root_positions`` (frames, 3) are what
    ``motion.skeleton.inverse_kinematics`` and the pelvis path give; ``offsets`` default to the SMPL
    mean body. Leaf joints get an End Site one bone-length on, so their bones show in viewers.
    """
    from scipy.spatial.transform import Rotation

    local_rotations = np.asarray(local_rotations, dtype=np.float64)
    root_positions = np.asarray(root_positions, dtype=np.float64)
    if local_rotations.ndim != 4 or local_rotations.shape[1:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"local_rotations must have shape (frames, 22, 3, 3), got {local_rotations.shape}")
    if root_positions.shape != (local_rotations.shape[0], 3):
        raise ValueError(f"root_positions must have shape ({local_rotations.shape[0]}, 3), got {root_positions.shape}")
    if not (np.isfinite(local_rotations).all() and np.isfinite(root_positions).all()):
        raise ValueError("local_rotations and root_positions must be finite")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    offsets = rest_offsets() if offsets is None else np.asarray(offsets, dtype=np.float64)

    children = [[c for c in range(NUM_JOINTS) if PARENTS[c] == j] for j in range(NUM_JOINTS)]
    lines = ["HIERARCHY"]

    def emit(joint: int, depth: int) -> None:
        pad = "\t" * depth
        offset = np.zeros(3) if joint == 0 else offsets[joint]
        lines.append(f"{pad}{'ROOT' if joint == 0 else 'JOINT'} {JOINT_NAMES[joint]}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        if joint == 0:
            lines.append(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}\tCHANNELS 3 Zrotation Xrotation Yrotation")
        for child in children[joint]:
            emit(child, depth + 1)
        if not children[joint]:
            tip = offset / max(np.linalg.norm(offset), 1e-9) * 0.08  # a short end bone along the last one
            lines.append(f"{pad}\tEnd Site")
            lines.append(f"{pad}\t{{\n{pad}\t\tOFFSET {tip[0]:.6f} {tip[1]:.6f} {tip[2]:.6f}\n{pad}\t}}")
        lines.append(pad + "}")

    emit(0, 0)
    frames = local_rotations.shape[0]
    euler = Rotation.from_matrix(local_rotations.reshape(-1, 3, 3)).as_euler("ZXY", degrees=True).reshape(frames, NUM_JOINTS, 3)
    order = _depth_first(children)  # the hierarchy's joint order, which the channel columns follow
    table = np.concatenate([root_positions, euler[:, order].reshape(frames, -1)], axis=1)
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {1.0 / fps:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in table]
    return atomic_write_text(path, "\n".join(lines) + "\n")


def _depth_first(children: list[list[int]]) -> list[int]:
    order, stack = [], [0]
    while stack:
        joint = stack.pop()
        order.append(joint)
        stack.extend(reversed(children[joint]))
    return order
