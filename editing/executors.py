"""The embedded executor: classical edits that run on a laptop with no download.

Each edit returns the edited image and the region it changed; the pipeline composites that region
back onto the input (``editing.composite``), so nothing outside the band moves.

* remove: the hole is filled from the ring around it - one colour when the ring is flat, a
  fitted plane when it is a gradient, OpenCV's Telea inpainting otherwise;
* recolor: a CIELAB shift that moves the region's mean colour to the new one and keeps its
  shading (the lightness and chroma variation around the mean);
* move / resize: the object is cut, its hole filled, and it is pasted shifted (whole pixels, no
  resampling) or scaled about its centre;
* background: everything but the subjects becomes the new colour;
* global and adjustments: tone and colour operations;
* replace / add: a shape drawn in place, or an icon from the ``svg`` package's embedded generator.
"""

from __future__ import annotations

import numpy as np

from .composite import dilate
from .instances import basic_rgb, to_lab
from .scenes import SHAPES, draw_shape

FLAT_RING_STD = 2.0  # a ring whose colour varies less than this (per channel) is flat
PLANE_RING_RMS = 3.0  # a ring a plane fits this well is a gradient


def _from_lab(lab: np.ndarray) -> np.ndarray:
    import warnings

    from skimage.color import lab2rgb

    with warnings.catch_warnings():  # colours shifted out of the sRGB gamut are clipped, as intended
        warnings.simplefilter("ignore", UserWarning)
        rgb = lab2rgb(lab.reshape(-1, 1, 3)).reshape(lab.shape)
    return np.rint(rgb * 255).clip(0, 255).astype(np.uint8)


def _rgb(color: str) -> np.ndarray:
    return np.array(basic_rgb(color), dtype=np.uint8)


def fill_hole(image: np.ndarray, hole: np.ndarray, ring_width: int = 6) -> tuple[np.ndarray, str]:
    """``image`` with ``hole`` filled from its surroundings; returns the method used."""
    import cv2

    out = image.copy()
    if not hole.any():
        return out, "none"
    ring = dilate(hole, ring_width) & ~hole
    if not ring.any():
        return out, "none"
    colors = image[ring].astype(np.float64)
    median = np.median(colors, axis=0)
    near = np.linalg.norm(colors - median, axis=1) < 25  # the background, not a neighbouring object
    colors = colors[near] if near.sum() >= 8 else colors
    if colors.std(axis=0).max() < FLAT_RING_STD:
        out[hole] = np.rint(np.median(colors, axis=0)).astype(np.uint8)
        return out, "flat"
    ys, xs = np.nonzero(ring)
    ys, xs = (ys[near], xs[near]) if near.sum() >= 8 else (ys, xs)
    design = np.stack([np.ones_like(xs), xs, ys], axis=1).astype(np.float64)
    coefficients, *_ = np.linalg.lstsq(design, colors, rcond=None)
    if np.sqrt(np.mean((design @ coefficients - colors) ** 2)) < PLANE_RING_RMS:
        hy, hx = np.nonzero(hole)
        fill = np.stack([np.ones_like(hx), hx, hy], axis=1).astype(np.float64) @ coefficients
        out[hole] = np.rint(fill).clip(0, 255).astype(np.uint8)
        return out, "gradient"
    bgr = cv2.inpaint(image[..., ::-1].copy(), hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    out[hole] = bgr[..., ::-1][hole]
    return out, "telea"


def adjust(image: np.ndarray, adjustment: str, mask: np.ndarray | None = None) -> np.ndarray:
    """A tone or colour operation on the whole image, or on ``mask``."""
    pixels = image if mask is None else image[mask]
    if adjustment == "invert":
        result = 255 - pixels
    else:
        lab = to_lab(pixels)
        lightness, chroma = lab[..., :1], lab[..., 1:]
        if adjustment == "brighten":
            lightness = lightness + 0.35 * (100 - lightness)
        elif adjustment == "darken":
            lightness = lightness * 0.7
        elif adjustment in ("more contrast", "less contrast"):
            mean = lightness.mean()
            lightness = mean + (lightness - mean) * (1.35 if adjustment == "more contrast" else 0.7)
        elif adjustment == "saturate":
            chroma = chroma * 1.4
        elif adjustment == "desaturate":
            chroma = chroma * 0.5
        elif adjustment == "grayscale":
            chroma = chroma * 0.0
        elif adjustment in ("warm", "cool"):
            chroma = chroma + (np.array([4.0, 14.0]) if adjustment == "warm" else np.array([-2.0, -14.0]))
        else:
            raise ValueError(f"unknown adjustment {adjustment!r}")
        result = _from_lab(np.concatenate([lightness.clip(0, 100), chroma], axis=-1))
    if mask is None:
        return result
    out = image.copy()
    out[mask] = result
    return out


def recolor(image: np.ndarray, mask: np.ndarray, color: str) -> np.ndarray:
    """The region's colour moved to ``color`` in CIELAB, its shading kept."""
    lab = to_lab(image[mask])
    target = to_lab(_rgb(color).astype(np.float64))
    out = image.copy()
    out[mask] = _from_lab(lab + (target - lab.mean(axis=0)))
    return out


def _paste(out: np.ndarray, pixels: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Write ``pixels`` at (ys, xs), dropping what falls outside; returns the mask written."""
    height, width = out.shape[:2]
    inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
    out[ys[inside], xs[inside]] = pixels[inside]
    written = np.zeros((height, width), dtype=bool)
    written[ys[inside], xs[inside]] = True
    return written


def move(image: np.ndarray, mask: np.ndarray, shift: tuple[int, int],
         hole: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
    """The object under ``mask`` moved by ``shift`` = (dx, dy) whole pixels (``hole``: what to fill,
    default ``mask``); returns (image, changed region, fill method, the object's new mask)."""
    hole = mask if hole is None else hole
    out, method = fill_hole(image, hole)
    ys, xs = np.nonzero(mask)
    written = _paste(out, image[ys, xs], ys + shift[1], xs + shift[0])
    return out, hole | written, method, written


def resize(image: np.ndarray, mask: np.ndarray, scale: float,
           hole: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
    """The object under ``mask`` scaled by ``scale`` about its centroid (``hole``: what to fill, default
    ``mask``); returns (image, changed region, fill method, the object's new mask).

    Flat-colour objects are scaled by nearest neighbour, so they keep their exact colours."""
    import cv2

    hole = mask if hole is None else hole
    out, method = fill_hole(image, hole)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    patch, patch_mask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1].astype(np.float32)
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    flat = len(np.unique(patch[mask[y0:y1, x0:x1]].reshape(-1, 3), axis=0)) <= 16
    interpolation = cv2.INTER_NEAREST if flat else cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(patch, size, interpolation=interpolation)
    scaled_mask = cv2.resize(patch_mask, size, interpolation=cv2.INTER_NEAREST if flat else cv2.INTER_LINEAR) >= 0.5
    cy, cx = ys.mean(), xs.mean()
    top, left = round(cy - (cy - y0) * scale), round(cx - (cx - x0) * scale)
    py, px = np.nonzero(scaled_mask)
    written = _paste(out, scaled[py, px], py + top, px + left)
    return out, hole | written, method, written


def replace_background(image: np.ndarray, subjects: np.ndarray, color: str) -> tuple[np.ndarray, np.ndarray]:
    out = image.copy()
    background = ~subjects
    out[background] = _rgb(color)
    return out, background


def is_shape(asset: str | None) -> bool:
    """Whether ``asset`` ("a yellow star") names one of the shapes drawn exactly."""
    return bool(asset) and any(word.rstrip("s") in SHAPES for word in asset.lower().split())


def draw_asset(image: np.ndarray, asset: str, center: tuple[float, float], radius: float, color: str | None,
               generator=None) -> tuple[np.ndarray, np.ndarray, str]:
    """``asset`` ("yellow star", "a heart") drawn at ``center``; returns (image, drawn mask, how it was made)."""
    words = asset.lower().replace("colour", "color").split()
    shape = next((word.rstrip("s") for word in reversed(words) if word.rstrip("s") in SHAPES), None)
    out = image.copy()
    height, width = image.shape[:2]
    if shape is not None:
        mask = draw_shape((width, height), shape, center, radius)
        out[mask] = _rgb(color or "gray")
        return out, mask, f"drawn {shape}"
    return _svg_asset(out, asset, center, radius, generator)


def _svg_asset(out: np.ndarray, asset: str, center, radius, generator) -> tuple[np.ndarray, np.ndarray, str]:
    from generators import worker_pipeline

    try:
        from svg import render_svg
    except ImportError as err:  # pragma: no cover - the svg extra is part of the editing install
        raise ImportError("drawing an icon for replace/add needs the svg generator: pip install 'ctrlgen[svg]'") from err
    pipe = worker_pipeline("svg.pipeline:SVGPipeline", "embedded")  # loaded once per process
    result = pipe(asset, num_samples=1, generator=generator)
    side = max(8, round(float(2 * radius)))
    rgba = render_svg(result.svgs[0], size=side).rgba
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    top, left = round(float(center[1]) - side / 2), round(float(center[0]) - side / 2)
    height, width = out.shape[:2]
    ys, xs = np.mgrid[0:side, 0:side]
    ys, xs = ys + top, xs + left
    inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width) & (alpha[..., 0] > 0)
    region = np.zeros((height, width), dtype=bool)
    region[ys[inside], xs[inside]] = True
    blend = alpha[inside] * rgba[..., :3][inside] + (1 - alpha[inside]) * out[ys[inside], xs[inside]]
    out[ys[inside], xs[inside]] = np.rint(blend).astype(np.uint8)
    return out, region, "svg icon"
