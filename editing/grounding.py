"""Open-vocabulary instances from text: CLIPSeg through transformers, when the user has weights.

The embedded segmenter knows colours and simple shapes; "the dog" or "the cup on the left" need
a model that reads the noun. ``TextSegmenter.from_pretrained(path_or_hub_id)`` loads a CLIPSeg
checkpoint (for example CIDAS/clipseg-rd64-refined, safetensors); ``instances(image, noun)``
thresholds its heat map for the noun, splits it into connected regions and returns them as
``Instance`` objects with the same attributes as the embedded segmenter's, so the spatial
reasoner ranks and counts them the same way (two dogs stay two).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .instances import Instance, instance_from_mask

CONFIG_NAME = "text_segmenter.json"


class TextSegmenter:
    """CLIPSeg (``CLIPSegForImageSegmentation`` + ``CLIPSegProcessor``) as an instance proposer for nouns."""

    def __init__(self, model: Any, processor: Any, threshold: float = 0.4, min_area_fraction: float = 0.002) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        self.model = model.eval()
        self.processor = processor
        self.threshold = float(threshold)
        self.min_area_fraction = float(min_area_fraction)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], **settings: Any) -> TextSegmenter:
        try:
            from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor
        except ImportError as err:  # pragma: no cover - part of the editing extra through ctrlgen[text]
            raise ImportError("text grounding needs transformers: pip install 'ctrlgen[editing]'") from err
        from generators import resolve_pretrained

        directory = Path(resolve_pretrained(str(name_or_path)))
        saved = json.loads((directory / CONFIG_NAME).read_text()) if (directory / CONFIG_NAME).is_file() else {}
        model = CLIPSegForImageSegmentation.from_pretrained(directory, use_safetensors=True)
        return cls(model, CLIPSegProcessor.from_pretrained(directory), **{**saved, **settings})

    def save_pretrained(self, directory: str | os.PathLike[str]) -> None:
        directory = Path(directory)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.processor.save_pretrained(directory)
        (directory / CONFIG_NAME).write_text(json.dumps({"threshold": self.threshold, "min_area_fraction": self.min_area_fraction}) + "\n")

    def heatmap(self, image: np.ndarray, text: str) -> np.ndarray:
        """(H, W) float32 in [0, 1]: how much each pixel shows ``text``."""
        import torch
        from PIL import Image

        inputs = self.processor(text=[text], images=[Image.fromarray(image)], return_tensors="pt", padding=True)
        with torch.no_grad():
            logits = self.model(**inputs).logits
        logits = logits.reshape(1, 1, *logits.shape[-2:]).float()
        resized = torch.nn.functional.interpolate(logits, size=image.shape[:2], mode="bilinear", align_corners=False)
        return torch.sigmoid(resized)[0, 0].numpy()

    def instances(self, image: np.ndarray, text: str) -> list[Instance]:
        """Connected regions where the heat map for ``text`` passes the threshold, largest first."""
        from scipy import ndimage

        mask = self.heatmap(image, text) >= self.threshold
        labels, count = ndimage.label(mask)
        min_area = max(16, int(self.min_area_fraction * mask.size))
        regions = [labels == label for label in range(1, count + 1)]
        found = [instance_from_mask(region, image) for region in regions if region.sum() >= min_area]
        return sorted(found, key=lambda inst: -inst.area)
