"""Whole-image edits from an instruction through diffusers: InstructPix2Pix and FLUX.1 Kontext.

The embedded executors know tone and colour operations ("make it brighter", "black and white").
Global edits they cannot express ("make it look like winter", "turn it into a watercolour") go
to an ``InstructionEditor`` when one is configured:
``InstructionEditor.from_pretrained(path_or_hub_id)`` loads a diffusers
StableDiffusionInstructPix2PixPipeline (e.g. timbrooks/instruct-pix2pix) or FluxKontextPipeline
(e.g. black-forest-labs/FLUX.1-Kontext-dev) from its diffusers layout (safetensors only,
``HF_HUB_OFFLINE`` respected). The image is resized so its sides are multiples of what the
backend needs at about ``resolution`` pixels, edited, and resized back to its own size.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .inpainting import load_diffusers_pipeline, snap_size

CONFIG_NAME = "instruction_editor.json"
PIPELINES = {  # class name -> (size multiple, default steps, default guidance)
    "StableDiffusionInstructPix2PixPipeline": (8, 20, 7.5),
    "FluxKontextPipeline": (16, 28, 2.5),
}


class InstructionEditor:
    """A diffusers instruction-editing pipeline behind one ``edit(image, instruction, generator)`` call.

    ``image_guidance_scale``: how closely InstructPix2Pix keeps to the input image (unused by Kontext).
    """

    def __init__(self, pipeline: Any, resolution: int = 512, num_inference_steps: int | None = None,
                 guidance_scale: float | None = None, image_guidance_scale: float = 1.5) -> None:
        kind = type(pipeline).__name__
        if kind not in PIPELINES:
            raise TypeError(f"pipeline must be one of {sorted(PIPELINES)}, got {kind}")
        multiple, steps, guidance = PIPELINES[kind]
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < multiple or resolution % multiple:
            raise ValueError(f"resolution must be a positive multiple of {multiple} for {kind}, got {resolution!r}")
        self.pipeline = pipeline
        self.multiple = multiple
        self.resolution = resolution
        self.num_inference_steps = steps if num_inference_steps is None else int(num_inference_steps)
        self.guidance_scale = guidance if guidance_scale is None else float(guidance_scale)
        self.image_guidance_scale = float(image_guidance_scale)

    @property
    def settings(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "num_inference_steps": self.num_inference_steps,
                "guidance_scale": self.guidance_scale, "image_guidance_scale": self.image_guidance_scale}

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], **settings: Any) -> InstructionEditor:
        """A directory written by ``save_pretrained``, or any supported diffusers checkpoint (dir or hub id)."""
        pipeline, saved = load_diffusers_pipeline(name_or_path, PIPELINES, CONFIG_NAME, "instruction-editing")
        return cls(pipeline, **{**saved, **settings})

    def save_pretrained(self, directory: str | os.PathLike[str]) -> None:
        directory = Path(directory)
        self.pipeline.save_pretrained(directory, safe_serialization=True)
        (directory / CONFIG_NAME).write_text(json.dumps(self.settings, indent=2) + "\n")

    def edit(self, image: np.ndarray, instruction: str, generator: Any = None) -> np.ndarray:
        """``image`` (H, W, 3) uint8 edited as ``instruction`` says, at its own size."""
        from PIL import Image

        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")
        height, width = image.shape[:2]
        size = snap_size(width, height, self.resolution, self.multiple)
        arguments: dict[str, Any] = {"prompt": instruction, "image": Image.fromarray(image).resize(size, Image.LANCZOS),
                                     "num_inference_steps": self.num_inference_steps, "guidance_scale": self.guidance_scale,
                                     "generator": generator, "output_type": "np"}
        if type(self.pipeline).__name__ == "FluxKontextPipeline":
            # keep our size: Kontext otherwise rescales to max_area (1 Mpx) and snaps to its preferred resolutions
            arguments.update(height=size[1], width=size[0], max_area=size[0] * size[1], _auto_resize=False)
        else:
            arguments["image_guidance_scale"] = self.image_guidance_scale
        edited = self.pipeline(**arguments).images[0]
        edited = Image.fromarray(np.rint(np.clip(edited, 0, 1) * 255).astype(np.uint8))
        return np.asarray(edited.resize((width, height), Image.LANCZOS))
