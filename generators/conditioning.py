"""Typed conditions shared by the generators.

Every condition is a frozen dataclass with a ``null()`` constructor: the explicit "no condition"
that classifier-free guidance pairs with the real one (the audiocraft convention). Arrays are
copied and made read-only on construction, so a condition cannot change after it was validated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Self

import numpy as np


def _frozen_array(value: Any, name: str, dtype: Any) -> np.ndarray:
    try:
        array = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like of numbers, got {type(value).__name__}") from err
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True)
class TextCondition:
    """A text prompt; ``text=None`` is the null condition."""

    text: str | None

    def __post_init__(self) -> None:
        if self.text is not None and not isinstance(self.text, str):
            raise TypeError(f"text must be a str or None, got {type(self.text).__name__}")

    @classmethod
    def null(cls) -> Self:
        return cls(text=None)

    @property
    def is_null(self) -> bool:
        return self.text is None


@dataclasses.dataclass(frozen=True, eq=False)
class TrajectoryCondition:
    """A ground-plane path: ``points`` (N, 2) as (x, z) metres, optional ``times`` in [0, 1].

    ``times`` gives the fraction of the clip at which each waypoint is reached; without it the
    waypoints are spread over the clip by arc length (constant speed). ``points=None`` is null.
    """

    points: np.ndarray | None
    times: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.points is None:
            if self.times is not None:
                raise ValueError("times given for a null trajectory (points=None)")
            return
        points = _frozen_array(self.points, "points", np.float64)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must have shape (N, 2) as (x, z) waypoints, got {points.shape}")
        if len(points) < 2:
            raise ValueError(f"points needs at least 2 waypoints, got {len(points)}")
        if not np.isfinite(points).all():
            raise ValueError("points holds NaN or infinite values")
        object.__setattr__(self, "points", points)
        if self.times is not None:
            times = _frozen_array(self.times, "times", np.float64)
            if times.shape != (len(points),):
                raise ValueError(f"times must have one entry per waypoint ({len(points)}), got shape {times.shape}")
            if not np.isfinite(times).all() or times.min() < 0 or times.max() > 1 or np.any(np.diff(times) <= 0):
                raise ValueError("times must be strictly increasing fractions of the clip in [0, 1]")
            object.__setattr__(self, "times", times)

    @classmethod
    def null(cls) -> Self:
        return cls(points=None)

    @property
    def is_null(self) -> bool:
        return self.points is None

    @property
    def length(self) -> float:
        """Path length in metres."""
        if self.points is None:
            return 0.0
        return float(np.linalg.norm(np.diff(self.points, axis=0), axis=1).sum())

    def resample(self, num_frames: int) -> np.ndarray:
        """The path at ``num_frames`` evenly spaced instants, shape (num_frames, 2).

        With ``times`` the path holds still before the first and after the last timed waypoint.
        """
        if self.points is None:
            raise ValueError("cannot resample a null trajectory")
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
        query = np.linspace(0.0, 1.0, num_frames)
        if self.times is not None:
            return _interp_path(query, self.times, self.points)
        segment = np.linalg.norm(np.diff(self.points, axis=0), axis=1)
        cumulative = np.concatenate([[0.0], np.cumsum(segment)])
        if cumulative[-1] == 0:
            return np.repeat(self.points[:1], num_frames, axis=0)
        # Repeated waypoints add no length; keep the first of each so the knots increase strictly.
        knots, first = np.unique(cumulative / cumulative[-1], return_index=True)
        return _interp_path(query, knots, self.points[first])


def _interp_path(query: np.ndarray, knots: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.stack([np.interp(query, knots, points[:, 0]), np.interp(query, knots, points[:, 1])], axis=1)


@dataclasses.dataclass(frozen=True, eq=False)
class RegionCondition:
    """An image region: a boolean ``mask`` (H, W) and/or a ``bbox`` (x0, y0, x1, y1) in pixels."""

    mask: np.ndarray | None = None
    bbox: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        if self.mask is not None:
            mask = np.asarray(self.mask)
            if mask.ndim != 2:
                raise ValueError(f"mask must be 2-D (H, W), got shape {mask.shape}")
            if mask.dtype != bool:
                if not np.isin(mask, (0, 1, 255)).all():
                    raise ValueError("mask must be boolean or hold only 0/1/255")
                mask = mask > 0
            mask = mask.copy()
            mask.setflags(write=False)
            object.__setattr__(self, "mask", mask)
        if self.bbox is not None:
            if len(self.bbox) != 4:
                raise ValueError(f"bbox must be (x0, y0, x1, y1), got {self.bbox!r}")
            x0, y0, x1, y1 = (int(v) for v in self.bbox)
            if x1 <= x0 or y1 <= y0:
                raise ValueError(f"bbox must have x1 > x0 and y1 > y0, got {self.bbox!r}")
            object.__setattr__(self, "bbox", (x0, y0, x1, y1))

    @classmethod
    def null(cls) -> Self:
        return cls()

    @property
    def is_null(self) -> bool:
        return self.mask is None and self.bbox is None


@dataclasses.dataclass(frozen=True, eq=False)
class ReferenceImageCondition:
    """A reference image as uint8 RGB (H, W, 3); ``image=None`` is null."""

    image: np.ndarray | None

    def __post_init__(self) -> None:
        if self.image is None:
            return
        image = np.asarray(self.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be uint8 RGB of shape (H, W, 3), got {image.dtype} {image.shape}")
        image = image.copy()
        image.setflags(write=False)
        object.__setattr__(self, "image", image)

    @classmethod
    def null(cls) -> Self:
        return cls(image=None)

    @property
    def is_null(self) -> bool:
        return self.image is None


def as_text_conditions(prompt: str | Sequence[str], *, name: str = "prompt") -> list[TextCondition]:
    """Validate a prompt argument (one string or a list of them) into text conditions."""
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, Sequence) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise TypeError(f"{name} must be a non-empty str or a non-empty list of str")
    return [TextCondition(p) for p in prompts]
