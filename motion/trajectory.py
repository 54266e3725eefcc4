"""Ground-plane trajectories for the pipeline: checked, resampled per frame, and placed in the
frame the prior generates in.

The prior generates in the leader's canonical frame: pelvis at x = z = 0 on the first frame,
facing +z. A world path is moved there by the rigid ground-plane motion that takes its start to
the origin and its initial heading to +z (people walk forward); the generated motion is moved
back by the inverse, so the leader's pelvis lands on the path the user gave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from generators.conditioning import TrajectoryCondition

MAX_HUMAN_SPEED = 6.0  # m/s: faster than a jog, slower than a sprint; beyond it no mocap can follow
HEADING_DISTANCE = 0.1  # the initial heading is read where the path has moved this far (metres)


def as_trajectory(value, name: str, num_frames: int) -> TrajectoryCondition:
    """A :class:`TrajectoryCondition` from what a user passes as ``name``.

    Accepts a ``TrajectoryCondition`` (waypoints with optional timing), or an (N, 2) array-like of
    (x, z) metres: with exactly ``num_frames`` rows it is a per-frame path, otherwise waypoints
    spread over the clip by arc length.
    """
    if isinstance(value, TrajectoryCondition):
        if value.is_null:
            raise ValueError(f"{name} is a null TrajectoryCondition; pass None for no trajectory")
        return value
    try:
        points = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an (N, 2) list of [x, z] metres or a TrajectoryCondition, got {type(value).__name__}") from None
    try:
        if points.ndim == 2 and points.shape[0] == num_frames and num_frames > 2:
            return TrajectoryCondition(points, times=np.linspace(0.0, 1.0, num_frames))
        return TrajectoryCondition(points)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None


def per_frame_path(trajectory: TrajectoryCondition, name: str, num_frames: int, fps: float) -> np.ndarray:
    """(num_frames, 2) positions; a path too fast for a person to walk or run is an error."""
    path = trajectory.resample(num_frames)
    if num_frames > 1:
        speed = np.linalg.norm(np.diff(path, axis=0), axis=1).max() * fps
        if speed > MAX_HUMAN_SPEED:
            seconds = (num_frames - 1) / fps
            needed = math.ceil(trajectory.length / MAX_HUMAN_SPEED * fps) + 1
            raise ValueError(
                f"{name} asks for {speed:.1f} m/s ({trajectory.length:.1f} m in {seconds:.1f} s); people move at most "
                f"{MAX_HUMAN_SPEED:g} m/s: use a shorter path or at least {needed} frames (num_frames), spread evenly"
            )
    return path


@dataclass(frozen=True)
class GroundPlacement:
    """``world = rotation(heading) @ canonical + origin`` on the ground plane (y unchanged)."""

    origin: np.ndarray  # (2,) x, z
    heading: float  # radians about +y; 0 faces +z

    @classmethod
    def identity(cls) -> GroundPlacement:
        return cls(np.zeros(2), 0.0)

    @classmethod
    def from_path(cls, path: np.ndarray) -> GroundPlacement:
        """Start at ``path[0]``, facing where the path first moves ``HEADING_DISTANCE`` (else +z)."""
        away = np.linalg.norm(path - path[0], axis=1)
        moved = np.flatnonzero(away >= HEADING_DISTANCE)
        if not len(moved):
            return cls(path[0].copy(), 0.0)
        direction = path[moved[0]] - path[0]
        return cls(path[0].copy(), float(np.arctan2(direction[0], direction[1])))

    def _rotation(self, sign: float) -> np.ndarray:
        cosine, sine = math.cos(sign * self.heading), math.sin(sign * self.heading)
        return np.array([[cosine, sine], [-sine, cosine]])  # acts on (x, z) as a turn about +y

    def to_canonical(self, path: np.ndarray) -> np.ndarray:
        """(…, 2) world x/z -> canonical."""
        return (np.asarray(path) - self.origin) @ self._rotation(1.0)

    def to_world(self, joints: np.ndarray) -> np.ndarray:
        """(…, 3) canonical points -> world."""
        joints = np.array(joints, dtype=np.float64)
        ground = joints[..., [0, 2]] @ self._rotation(-1.0) + self.origin
        joints[..., 0], joints[..., 2] = ground[..., 0], ground[..., 1]
        return joints
