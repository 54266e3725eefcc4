"""Sandboxed rendering with cairosvg: hostile files cannot hang or exhaust the caller.

cairosvg 2.9.1 loops forever on some malformed path data and on nested ``<use>`` bombs, so every
render runs in a long-lived worker process with an address-space limit; a render that outlives
its time limit gets the worker killed (a fresh one starts on the next call). The worker never
reads files or URLs: only inline ``data:`` images are fetched, and only when allowed.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import select
import subprocess
import sys
import threading
import time

import numpy as np

from ._render_worker import REPLY_ERROR, REPLY_OK, REQUEST

DEFAULT_TIMEOUT = 5.0
DEFAULT_MEMORY_LIMIT = 2 * 1024**3


class RenderError(RuntimeError):
    """Rendering failed; ``code`` is ``timeout``, ``crashed`` or ``invalid``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass
class RenderedSVG:
    rgba: np.ndarray  # (size, size, 4) uint8, straight (not premultiplied) alpha

    def to_pil(self, background: tuple[int, int, int] | None = (255, 255, 255)):
        """A PIL image; composited over ``background`` (RGB) unless it is None (RGBA)."""
        from PIL import Image

        image = Image.fromarray(self.rgba, "RGBA")
        if background is None:
            return image
        canvas = Image.new("RGBA", image.size, (*background, 255))
        canvas.alpha_composite(image)
        return canvas.convert("RGB")

    @property
    def ink_fraction(self) -> float:
        return ink_fraction(self.rgba)

    @property
    def is_blank(self) -> bool:
        return is_blank(self.rgba)


def ink_fraction(rgba: np.ndarray, tolerance: int = 8) -> float:
    """Fraction of pixels that differ from the image's most common colour.

    Checked over white and over black, so white shapes on a transparent background count too.
    """
    alpha = rgba[..., 3:4].astype(np.int32)
    rgb = rgba[..., :3].astype(np.int32)
    ink = np.zeros(rgba.shape[:2], dtype=bool)
    for background in (255, 0):
        composite = (rgb * alpha + background * (255 - alpha)) // 255
        # one int per colour: a 1-D unique is ~20x faster than unique over rows, same order
        packed = (composite[..., 0] << 16) | (composite[..., 1] << 8) | composite[..., 2]
        values, counts = np.unique(packed, return_counts=True)
        top = int(values[counts.argmax()])
        dominant = np.array([top >> 16, (top >> 8) & 255, top & 255])
        ink |= (np.abs(composite - dominant) > tolerance).any(axis=-1)
    return float(ink.mean())


def is_blank(rgba: np.ndarray, min_ink: float = 0.002) -> bool:
    """Blank: fewer than ``min_ink`` of the pixels differ from the dominant colour."""
    return ink_fraction(rgba) < min_ink


# -- the worker process ---------------------------------------------------------------------------


class _Worker:
    """One ``python -m svg._render_worker`` process and its framed pipe protocol."""

    def __init__(self, memory_limit: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "svg._render_worker", str(memory_limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def render(self, data: bytes, size: int, timeout: float):
        deadline = time.monotonic() + timeout
        self.process.stdin.write(REQUEST.pack(size, len(data)) + data)
        self.process.stdin.flush()
        status = self._read(1, deadline)[0]
        if status == 0:
            rest = self._read(REPLY_OK.size - 1, deadline)
            _, width, height, stride, length = REPLY_OK.unpack(bytes([status]) + rest)
            return "ok", (width, height, stride, self._read(length, deadline))
        rest = self._read(REPLY_ERROR.size - 1, deadline)
        _, code_length, message_length = REPLY_ERROR.unpack(bytes([status]) + rest)
        code = self._read(code_length, deadline).decode()
        return "error", (code, self._read(message_length, deadline).decode("utf-8", "replace"))

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.process.stdout.fileno()
        chunks, remaining = [], n
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


class Renderer:
    """Renders SVG in a sandboxed worker process; thread-safe (one render at a time)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def render(self, svg: str | bytes, size: int = 256, timeout: float | None = None) -> RenderedSVG:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 4096:
            raise ValueError(f"size must be an int in 1..4096, got {size!r}")
        data = svg.encode("utf-8") if isinstance(svg, str) else svg
        if not isinstance(data, bytes):
            raise TypeError(f"svg must be str or bytes, got {type(svg).__name__}")
        limit = self.timeout if timeout is None else timeout
        with self._lock:
            if self._worker is None or not self._worker.alive():
                self._worker = _Worker(self.memory_limit)
            try:
                status, payload = self._worker.render(data, size, limit)
            except TimeoutError:
                self._reset()
                raise RenderError("timeout", f"rendering took longer than {limit:g} s and was stopped") from None
            except (EOFError, OSError, BrokenPipeError):
                self._reset()
                raise RenderError("crashed", "the render worker died (hostile or broken SVG)") from None
        if status == "error":
            code, message = payload
            raise RenderError(code, message)
        width, height, stride, buffer = payload
        bgra = np.frombuffer(buffer, dtype=np.uint8).reshape(height, stride)[:, : width * 4].reshape(height, width, 4)
        return RenderedSVG(rgba=_unpremultiply(bgra))

    def _reset(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    def close(self) -> None:
        with self._lock:
            self._reset()


def _unpremultiply(bgra: np.ndarray) -> np.ndarray:
    # cairo's ARGB32 is premultiplied BGRA in memory (little-endian).
    alpha = bgra[..., 3:4].astype(np.uint32)
    rgb = bgra[..., 2::-1].astype(np.uint32)
    safe = np.maximum(alpha, 1)
    straight = np.where(alpha > 0, np.minimum((rgb * 255 + safe // 2) // safe, 255), 0)
    return np.concatenate([straight, alpha], axis=-1).astype(np.uint8)


_default: Renderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> Renderer:
    global _default
    with _default_lock:
        if _default is None:
            _default = Renderer()
            atexit.register(_default.close)
        return _default


def render_svg(svg: str | bytes, size: int = 256, *, timeout: float | None = None) -> RenderedSVG:
    """Render ``svg`` to a ``size`` x ``size`` RGBA image in the sandboxed worker.

    Raises :class:`RenderError` (``timeout``, ``memory``, ``crashed``, ``invalid``) instead of
    hanging or crashing the caller.
    """
    return default_renderer().render(svg, size, timeout)


def pixel_iou(a: np.ndarray, b: np.ndarray, tolerance: int = 16) -> float:
    """IoU of two RGBA renders: drawn pixels of matching colour over pixels drawn in either.

    A pixel is drawn where it is at least half opaque (anti-aliased fringes do not count); it
    matches where every channel differs by at most ``tolerance``. Two blank images have IoU 1.
    """
    if a.shape != b.shape:
        raise ValueError(f"renders differ in shape: {a.shape} vs {b.shape}")
    drawn_a, drawn_b = a[..., 3] >= 128, b[..., 3] >= 128
    union = drawn_a | drawn_b
    if not union.any():
        return 1.0
    same = (np.abs(a.astype(np.int16) - b.astype(np.int16)) <= tolerance).all(axis=-1)
    return float((drawn_a & drawn_b & same).sum() / union.sum())
