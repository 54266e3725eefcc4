"""Acclaim ASF (skeleton) and AMC (motion) files, the original CMU mocap format.

In the ASF each bone runs from its parent's end along ``direction * length``; its ``axis`` gives
the frame its AMC angles turn in: local = C @ M @ C^T, with C from ``axis`` and M from the
frame's degrees of freedom, both as extrinsic rotations in the stated order (the CMU files use
XYZ). Joint positions are bone ends; the root's is the AMC root translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import MotionFileError, check_size

INCH = 0.0254


@dataclass
class ASFBone:
    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray  # degrees
    axis_order: str
    dofs: list[str] = field(default_factory=list)


@dataclass
class ASFSkeleton:
    bones: dict[str, ASFBone]
    parents: dict[str, str]  # bone -> parent ("root" for the root's children)
    root_order: list[str]
    root_axis_order: str
    length_to_metres: float
    angles_in_degrees: bool

    @property
    def names(self) -> list[str]:
        """Joint names: the root, then bones parent before child."""
        order = ["root"]
        for name in order:
            order += [bone for bone, parent in self.parents.items() if parent == name]
        return order


def _lines(path: Path) -> list[str]:
    check_size(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise MotionFileError(f"{path}: cannot read ({error.strerror})") from error
    return [line.split("#", 1)[0].strip() for line in text.splitlines()]


def _floats(path: Path, words: list[str], what: str) -> np.ndarray:
    try:
        values = np.array([float(w) for w in words], dtype=np.float64)
    except ValueError as error:
        raise MotionFileError(f"{path}: {what}: {' '.join(words)!r} is not numbers") from error
    if not np.isfinite(values).all():
        raise MotionFileError(f"{path}: {what} holds NaN or infinite values")
    return values


def read_asf(path: str | Path) -> ASFSkeleton:
    path = Path(path)
    lines = _lines(path)
    section = None
    units = {"length": 1.0, "angle": "deg"}
    root_order: list[str] = []
    root_axis = "XYZ"
    bones: dict[str, ASFBone] = {}
    parents: dict[str, str] = {}
    current: dict | None = None
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        if line.startswith(":"):
            section = line.split()[0][1:]
            continue
        words = line.split()
        if section == "units" and len(words) >= 2:
            units[words[0]] = float(words[1]) if words[0] == "length" else words[1]
        elif section == "root":
            if words[0] == "order":
                root_order = [w.upper() for w in words[1:]]
            elif words[0] == "axis":
                root_axis = words[1].upper()
        elif section == "bonedata":
            if words[0] == "begin":
                current = {"dofs": []}
            elif words[0] == "end":
                if current is None or not {"name", "direction", "length"} <= current.keys():
                    raise MotionFileError(f"{path}: line {number}: a bone needs name, direction and length")
                bones[current["name"]] = ASFBone(
                    current["name"], current["direction"], current["length"], current.get("axis", np.zeros(3)),
                    current.get("axis_order", "XYZ"), current["dofs"],
                )
                current = None
            elif current is not None:
                if words[0] == "name":
                    current["name"] = words[1]
                elif words[0] == "direction":
                    current["direction"] = _floats(path, words[1:4], f"line {number} direction")
                elif words[0] == "length":
                    current["length"] = float(_floats(path, words[1:2], f"line {number} length")[0])
                elif words[0] == "axis":
                    current["axis"] = _floats(path, words[1:4], f"line {number} axis")
                    current["axis_order"] = words[4].upper() if len(words) > 4 else "XYZ"
                elif words[0] == "dof":
                    current["dofs"] = [w.lower() for w in words[1:]]
        elif section == "hierarchy" and words[0] not in ("begin", "end"):
            for child in words[1:]:
                parents[child] = words[0]
    if not bones:
        raise MotionFileError(f"{path}: no :bonedata bones")
    unknown = [b for b in parents if b not in bones]
    if unknown or not parents:
        raise MotionFileError(f"{path}: :hierarchy names bones that are not defined: {unknown}" if unknown else f"{path}: no :hierarchy")
    if not root_order:
        root_order = ["TX", "TY", "TZ", "RX", "RY", "RZ"]
    scale = INCH / float(units["length"])  # CMU: lengths are inches times 'length'
    return ASFSkeleton(bones, parents, root_order, root_axis, scale, str(units["angle"]).startswith("deg"))


@dataclass
class AMCMotion:
    skeleton: ASFSkeleton
    frames: list[dict[str, np.ndarray]]
    fps: float = 120.0

    @property
    def num_frames(self) -> int:
        return len(self.frames)

    @property
    def names(self) -> list[str]:
        return self.skeleton.names

    def joint_positions(self) -> np.ndarray:
        """(frames, joints, 3) bone-end positions in metres (root first), y up."""
        return asf_positions(self.skeleton, self.frames)


def read_amc(path: str | Path, skeleton: ASFSkeleton | str | Path, fps: float = 120.0) -> AMCMotion:
    """Parse an AMC file against its ASF skeleton (CMU's are sampled at 120 fps)."""
    path = Path(path)
    if not isinstance(skeleton, ASFSkeleton):
        skeleton = read_asf(skeleton)
    frames: list[dict[str, np.ndarray]] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line or line.startswith(":"):
            continue
        words = line.split()
        if len(words) == 1 and words[0].isdigit():
            frames.append({})
            continue
        if not frames:
            raise MotionFileError(f"{path}: line {number}: values before the first frame number")
        name = words[0]
        expected = len(skeleton.root_order) if name == "root" else len(skeleton.bones[name].dofs) if name in skeleton.bones else None
        if expected is None:
            raise MotionFileError(f"{path}: line {number}: bone {name!r} is not in the skeleton")
        if len(words) - 1 != expected:
            raise MotionFileError(f"{path}: line {number}: bone {name!r} needs {expected} values, found {len(words) - 1}")
        frames[-1][name] = _floats(path, words[1:], f"line {number}")
    if not frames:
        raise MotionFileError(f"{path}: no frames")
    expected = {"root"} | {name for name, bone in skeleton.bones.items() if bone.dofs}
    for number, frame in enumerate(frames, start=1):
        missing = expected - frame.keys()
        if missing:
            where = "truncated: the last frame" if number == len(frames) else f"frame {number}"
            raise MotionFileError(f"{path}: {where} lacks values for {sorted(missing)}")
    return AMCMotion(skeleton, frames, fps)


def _euler(order: str, degrees: np.ndarray, in_degrees: bool = True) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler(order.lower(), degrees, degrees=in_degrees).as_matrix()


def asf_positions(skeleton: ASFSkeleton, frames: list[dict[str, np.ndarray]]) -> np.ndarray:
    """Forward kinematics of AMC-style channel values (one dict per frame) on ``skeleton``."""
    count = len(frames)
    names = skeleton.names
    index = {name: i for i, name in enumerate(names)}
    positions = np.zeros((count, len(names), 3))
    world = np.zeros((count, len(names), 3, 3))

    root = np.stack([f.get("root", np.zeros(len(skeleton.root_order))) for f in frames])
    translation = np.zeros((count, 3))
    angles = np.zeros((count, 3))
    rotation_axes = ""
    for column, channel in enumerate(skeleton.root_order):
        if channel.startswith("T"):
            translation[:, "XYZ".index(channel[1])] = root[:, column]
        else:
            rotation_axes += channel[1]
            angles[:, len(rotation_axes) - 1] = root[:, column]
    positions[:, 0] = translation * skeleton.length_to_metres
    world[:, 0] = _euler(rotation_axes, angles[:, : len(rotation_axes)], skeleton.angles_in_degrees)

    for name in names[1:]:
        bone = skeleton.bones[name]
        parent = index[skeleton.parents[name]]
        axis = _euler(bone.axis_order, bone.axis, True)
        if bone.dofs:
            values = np.stack([f.get(name, np.zeros(len(bone.dofs))) for f in frames])
            dof_angles = np.zeros((count, 3))
            for column, dof in enumerate(bone.dofs):
                if dof in ("rx", "ry", "rz"):
                    dof_angles[:, "xyz".index(dof[1])] = values[:, column]
            motion = _euler("xyz", dof_angles, skeleton.angles_in_degrees)
            local = axis @ motion @ axis.T
        else:
            local = np.broadcast_to(axis @ axis.T, (count, 3, 3))
        # a bone's direction is given in world axes at rest: carry it through the parent's turn
        world[:, index[name]] = world[:, parent] @ local
        offset = bone.direction / max(np.linalg.norm(bone.direction), 1e-12) * bone.length * skeleton.length_to_metres
        positions[:, index[name]] = positions[:, parent] + np.einsum("fij,j->fi", world[:, index[name]], offset)
    return positions
