"""Generated flat-design scenes with exact ground truth, for tests, the benchmark and the demo.

A scene is a flat background with non-overlapping shapes (circle, square, triangle, star, hexagon,
diamond) in named colours and a few sizes. Each object keeps its exact mask, so a benchmark can
score target masks (gIoU/cIoU) and, since the background is known under every object, removals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SHAPES = ("circle", "square", "triangle", "star", "hexagon", "diamond")
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40), "orange": (245, 140, 20), "yellow": (245, 205, 30), "green": (40, 160, 70),
    "blue": (40, 90, 220), "purple": (130, 60, 180), "pink": (240, 120, 180), "brown": (130, 80, 40),
    "black": (25, 25, 25),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (250, 250, 250), "light grey": (225, 225, 228), "cream": (245, 238, 220), "pale blue": (215, 232, 245),
}


@dataclass(frozen=True, eq=False)
class SceneObject:
    shape: str
    color: str
    rgb: tuple[int, int, int]
    center: tuple[float, float]  # x, y in pixels (y down)
    radius: float  # half the bounding size, pixels
    mask: np.ndarray = field(repr=False)  # (H, W) bool


@dataclass(frozen=True, eq=False)
class Scene:
    image: np.ndarray  # (H, W, 3) uint8
    background: tuple[int, int, int]
    objects: tuple[SceneObject, ...]

    def clean_plate(self) -> np.ndarray:
        """The background alone: what a perfect removal of every object would leave."""
        return np.broadcast_to(np.array(self.background, dtype=np.uint8), self.image.shape).copy()


def shape_polygon(shape: str, center: tuple[float, float], radius: float) -> list[tuple[float, float]] | None:
    """Vertices of ``shape`` (None for a circle, drawn as an ellipse)."""
    x, y = center
    if shape == "circle":
        return None
    if shape == "square":
        r = radius * 0.9
        return [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    if shape == "diamond":
        return [(x, y - radius), (x + radius * 0.75, y), (x, y + radius), (x - radius * 0.75, y)]
    if shape == "triangle":
        angles = np.radians([-90, 30, 150])
        return [(x + radius * np.cos(a), y + radius * np.sin(a) + radius * 0.15) for a in angles]
    if shape == "hexagon":
        angles = np.radians(np.arange(6) * 60)
        return [(x + radius * np.cos(a), y + radius * np.sin(a)) for a in angles]
    if shape == "star":
        angles = np.radians(-90 + np.arange(10) * 36)
        radii = np.where(np.arange(10) % 2 == 0, radius, radius * 0.45)
        return [(x + r * np.cos(a), y + r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]
    raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")


def draw_shape(size: tuple[int, int], shape: str, center: tuple[float, float], radius: float) -> np.ndarray:
    """(H, W) bool mask of one shape; ``size`` is (width, height)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    polygon = shape_polygon(shape, center, radius)
    if polygon is None:
        draw.ellipse([center[0] - radius, center[1] - radius, center[0] + radius, center[1] + radius], fill=255)
    else:
        draw.polygon(polygon, fill=255)
    return np.asarray(canvas) > 0


def compose(size: tuple[int, int], background: tuple[int, int, int], objects: list[tuple[str, str, tuple[float, float], float]]) -> Scene:
    """A scene from (shape, colour name, centre, radius) tuples, drawn in order."""
    width, height = size
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = background
    placed = []
    for shape, color, center, radius in objects:
        if color not in PALETTE:
            raise ValueError(f"color must be one of {sorted(PALETTE)}, got {color!r}")
        mask = draw_shape(size, shape, center, radius)
        image[mask] = PALETTE[color]
        placed.append(SceneObject(shape, color, PALETTE[color], (float(center[0]), float(center[1])), float(radius), mask))
    # later objects cover earlier ones: keep each mask to what is visible
    visible = []
    covered = np.zeros((height, width), dtype=bool)
    for obj in reversed(placed):
        visible.append(SceneObject(obj.shape, obj.color, obj.rgb, obj.center, obj.radius, obj.mask & ~covered))
        covered |= obj.mask
    return Scene(image=image, background=tuple(background), objects=tuple(reversed(visible)))


def random_scene(rng: np.random.Generator, count: int = 5, size: tuple[int, int] = (512, 512),
                 radii: tuple[float, ...] = (28.0, 42.0, 60.0), max_tries: int = 2000) -> Scene:
    """``count`` random shapes that do not touch (a gap of 8 px), on a random flat background."""
    width, height = size
    objects: list[tuple[str, str, tuple[float, float], float]] = []
    for _ in range(max_tries):
        if len(objects) == count:
            break
        radius = float(rng.choice(radii))
        center = (float(rng.uniform(radius + 8, width - radius - 8)), float(rng.uniform(radius + 8, height - radius - 8)))
        if all(np.hypot(center[0] - c[0], center[1] - c[1]) > radius + r + 8 for _, _, c, r in objects):
            objects.append((str(rng.choice(SHAPES)), str(rng.choice(list(PALETTE))), center, radius))
    if len(objects) < count:
        raise ValueError(f"could not place {count} shapes of radii {radii} on {size} without overlap")
    background = BACKGROUNDS[str(rng.choice(list(BACKGROUNDS)))]
    return compose(size, background, objects)
