"""Diffusion inpainting backends through diffusers: SD 1.5/2 inpainting, SDXL inpainting, FLUX.1 Fill.

``DiffusionInpainter.from_pretrained(path_or_hub_id)`` loads any of them from a diffusers layout
(safetensors only, ``HF_HUB_OFFLINE`` respected). Only a crop around the hole is sent to the
model: the crop is grown by ``context`` pixels, resized so its sides are multiples of what the
backend needs (8 for SD, 16 for FLUX) at about ``resolution`` pixels, inpainted, resized back and
pasted into the hole alone, so nothing outside the hole moves and the image keeps its size.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

CONFIG_NAME = "inpainter.json"
PIPELINES = {  # class name -> (size multiple, default steps, default guidance)
    "StableDiffusionInpaintPipeline": (8, 30, 7.5),
    "StableDiffusionXLInpaintPipeline": (8, 30, 7.5),
    "FluxFillPipeline": (16, 28, 30.0),
}


def _import_diffusers():
    try:
        import diffusers
    except ImportError as err:  # pragma: no cover - part of the editing extra
        raise ImportError("diffusion inpainting needs diffusers: pip install 'ctrlgen[editing]'") from err
    return diffusers


def load_diffusers_pipeline(name_or_path: str | os.PathLike[str], kinds: dict, config_name: str, what: str) -> tuple[Any, dict]:
    """(the diffusers pipeline in a checkpoint, our settings saved beside it) for one of ``kinds``
    (class names), from a local diffusers layout or a hub id; safetensors only."""
    diffusers = _import_diffusers()
    from generators import resolve_pretrained

    directory = Path(resolve_pretrained(str(name_or_path)))
    saved = json.loads((directory / config_name).read_text()) if (directory / config_name).is_file() else {}
    index = json.loads((directory / "model_index.json").read_text()) if (directory / "model_index.json").is_file() else {}
    kind = index.get("_class_name", "")
    if kind not in kinds:
        raise ValueError(f"{name_or_path} is not a diffusers {what} pipeline ({sorted(kinds)}); model_index.json says {kind!r}")
    pipeline = getattr(diffusers, kind).from_pretrained(directory, use_safetensors=True)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline, saved


def snap_size(width: int, height: int, resolution: int, multiple: int) -> tuple[int, int]:
    """(w, h) with the aspect of (width, height), the longer side about ``resolution``, both multiples of ``multiple``."""
    scale = resolution / max(width, height)
    return (max(multiple, round(width * scale / multiple) * multiple), max(multiple, round(height * scale / multiple) * multiple))


def crop_box(mask: np.ndarray, context: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around ``mask`` grown by ``context`` px, clipped to the image."""
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    return (int(max(0, xs.min() - context)), int(max(0, ys.min() - context)),
            int(min(width, xs.max() + 1 + context)), int(min(height, ys.max() + 1 + context)))


class DiffusionInpainter:
    """A diffusers inpainting pipeline behind one ``inpaint(image, hole, prompt, generator)`` call."""

    def __init__(self, pipeline: Any, resolution: int = 512, context: int = 32, num_inference_steps: int | None = None,
                 guidance_scale: float | None = None, negative_prompt: str | None = "text, watermark, blurry") -> None:
        kind = type(pipeline).__name__
        if kind not in PIPELINES:
            raise TypeError(f"pipeline must be one of {sorted(PIPELINES)}, got {kind}")
        self.pipeline = pipeline
        multiple, steps, guidance = PIPELINES[kind]
        self.multiple = multiple
        self.resolution = int(resolution)
        self.context = int(context)
        self.num_inference_steps = steps if num_inference_steps is None else int(num_inference_steps)
        self.guidance_scale = guidance if guidance_scale is None else float(guidance_scale)
        self.negative_prompt = negative_prompt if kind != "FluxFillPipeline" else None
        if self.resolution % multiple or self.resolution < multiple:
            raise ValueError(f"resolution must be a positive multiple of {multiple} for {kind}, got {resolution}")

    @property
    def settings(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "context": self.context, "num_inference_steps": self.num_inference_steps,
                "guidance_scale": self.guidance_scale, "negative_prompt": self.negative_prompt}

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], **settings: Any) -> DiffusionInpainter:
        """A directory written by ``save_pretrained``, or any diffusers inpainting checkpoint (dir or hub id)."""
        pipeline, saved = load_diffusers_pipeline(name_or_path, PIPELINES, CONFIG_NAME, "inpainting")
        return cls(pipeline, **{**saved, **settings})

    def save_pretrained(self, directory: str | os.PathLike[str]) -> None:
        directory = Path(directory)
        self.pipeline.save_pretrained(directory, safe_serialization=True)
        (directory / CONFIG_NAME).write_text(json.dumps(self.settings, indent=2) + "\n")

    def inpaint(self, image: np.ndarray, hole: np.ndarray, prompt: str, generator: Any = None) -> np.ndarray:
        """``image`` (H, W, 3) uint8 with ``hole`` (H, W) bool repainted to show ``prompt``; same size, only the hole changes."""
        from PIL import Image

        if not hole.any():
            return image.copy()
        x0, y0, x1, y1 = crop_box(hole, self.context)
        crop, crop_hole = image[y0:y1, x0:x1], hole[y0:y1, x0:x1]
        size = snap_size(x1 - x0, y1 - y0, self.resolution, self.multiple)
        arguments = {"prompt": prompt, "image": Image.fromarray(crop).resize(size, Image.LANCZOS),
                     "mask_image": Image.fromarray(crop_hole.astype(np.uint8) * 255).resize(size, Image.NEAREST),
                     "height": size[1], "width": size[0], "num_inference_steps": self.num_inference_steps,
                     "guidance_scale": self.guidance_scale, "generator": generator, "output_type": "np"}
        if self.negative_prompt is not None:
            arguments["negative_prompt"] = self.negative_prompt
        painted = self.pipeline(**arguments).images[0]
        painted = np.asarray(Image.fromarray(np.rint(np.clip(painted, 0, 1) * 255).astype(np.uint8)).resize((x1 - x0, y1 - y0), Image.LANCZOS))
        out = image.copy()
        region = out[y0:y1, x0:x1]
        region[crop_hole] = painted[crop_hole]
        return out
