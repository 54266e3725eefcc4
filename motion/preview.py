"""Animated preview of two people: a front view and a top view side by side, as a GIF.

Drawn with Pillow (no display, no ffmpeg), so it works wherever the package does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from generators.files import atomic_write_bytes

from .skeleton import BONES

PERSON_COLOURS = ((37, 99, 235), (234, 88, 12))  # person A blue, person B orange
PANEL = 240


def _projector(points: np.ndarray, axes: tuple[int, int], flip_vertical: bool, margin: float = 0.25):
    """A map from world (..., 3) to pixel (..., 2) that fits ``points`` in one panel, same scale on both axes."""
    plane = points[..., list(axes)].reshape(-1, 2)
    low, high = plane.min(0) - margin, plane.max(0) + margin
    scale = (PANEL - 16) / max(float((high - low).max()), 1e-6)
    centre = (low + high) / 2

    def project(world: np.ndarray) -> np.ndarray:
        xy = (world[..., list(axes)] - centre) * scale
        if flip_vertical:
            xy[..., 1] = -xy[..., 1]
        return xy + PANEL / 2

    return project


def render_preview(joints: np.ndarray, fps: float = 30.0, max_fps: float = 15.0) -> list:
    """Frames (PIL images) of ``joints`` (frames, people, 22, 3): front view (x, y) and top view (x, z)."""
    from PIL import Image, ImageDraw

    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 4 or joints.shape[2:] != (22, 3):
        raise ValueError(f"joints must have shape (frames, people, 22, 3), got {joints.shape}")
    step = max(1, round(fps / max_fps))
    front = _projector(joints, (0, 1), flip_vertical=True)
    top = _projector(joints, (0, 2), flip_vertical=False)
    ground = front(np.array([[joints[..., 0].min() - 0.25, 0.0, 0.0], [joints[..., 0].max() + 0.25, 0.0, 0.0]]))
    images = []
    for frame in range(0, joints.shape[0], step):
        image = Image.new("RGB", (2 * PANEL, PANEL), "white")
        draw = ImageDraw.Draw(image)
        draw.line([tuple(ground[0]), tuple(ground[1])], fill=(180, 180, 180), width=1)
        draw.line([(PANEL, 0), (PANEL, PANEL)], fill=(220, 220, 220), width=1)
        draw.text((4, 4), "front", fill=(120, 120, 120))
        draw.text((PANEL + 4, 4), "top", fill=(120, 120, 120))
        for person in range(joints.shape[1]):
            colour = PERSON_COLOURS[person % len(PERSON_COLOURS)]
            for project, offset in ((front, 0), (top, PANEL)):
                pixels = project(joints[frame, person])
                pixels[:, 0] += offset
                for parent, child in BONES:
                    draw.line([tuple(pixels[parent]), tuple(pixels[child])], fill=colour, width=3)
                head = pixels[15]
                draw.ellipse([head[0] - 5, head[1] - 5, head[0] + 5, head[1] + 5], outline=colour, width=2)
        images.append(image)
    return images


def save_preview(path: str | Path, joints: np.ndarray, fps: float = 30.0, max_fps: float = 15.0) -> Path:
    """Write an animated GIF preview of ``joints`` (frames, people, 22, 3) atomically."""
    import io

    images = render_preview(joints, fps, max_fps)
    step = max(1, round(fps / max_fps))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 * step / fps), loop=0)
    return atomic_write_bytes(path, buffer.getvalue())
