"""Open-vocabulary instances from text through transformers, when the user has weights.

The embedded segmenter knows colours and simple shapes; "the dog" or "the cup on the left" need
a model that reads the noun. Two proposers, both returning ``Instance`` objects with the same
attributes as the embedded segmenter's, so the spatial reasoner ranks and counts them the same
way (two dogs stay two):

* ``TextSegmenter``: CLIPSeg (for example CIDAS/clipseg-rd64-refined). Its heat map for the noun
  is thresholded and split into connected regions.
* ``DetectionSegmenter``: an open-vocabulary detector (OWLv2, OWL-ViT or Grounding DINO, e.g.
  google/owlv2-base-patch16-ensemble) finds one box per object, and SAM (e.g. facebook/sam-vit-base)
  turns each box into a mask. Touching objects stay apart, which a heat map cannot do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .instances import Instance, instance_from_mask

CONFIG_NAME = "text_segmenter.json"
DETECTION_CONFIG_NAME = "detection_segmenter.json"


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


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (x0, y0, x1, y1) box with each of ``boxes`` (n, 4)."""
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    overlap = np.prod(np.clip(high - low, 0, None), axis=1)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return overlap / np.maximum(np.prod(box[2:] - box[:2]) + areas - overlap, 1e-9)


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices of the boxes kept, best score first: each drops the later ones overlapping it by more than ``iou``."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    while order:
        best, order = order[0], order[1:]
        kept.append(int(best))
        if order:
            order = [i for i, overlap in zip(order, box_iou(boxes[best], boxes[order]), strict=True) if overlap <= iou]
    return kept


class DetectionSegmenter:
    """Boxes from an open-vocabulary detector (``AutoModelForZeroShotObjectDetection``), masks from SAM.

    Without SAM each instance is its box. ``threshold``: the detector's score threshold;
    ``nms_iou``: boxes overlapping a better one by more than this are duplicates; at most
    ``max_instances`` boxes are kept, best first. A SAM mask is clipped to its box.
    """

    def __init__(self, detector: Any, detector_processor: Any, sam: Any = None, sam_processor: Any = None,
                 threshold: float = 0.1, nms_iou: float = 0.5, max_instances: int = 20, min_area_fraction: float = 0.0005) -> None:
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1), got {threshold}")
        if not 0.0 < nms_iou <= 1.0:
            raise ValueError(f"nms_iou must be in (0, 1], got {nms_iou}")
        if isinstance(max_instances, bool) or not isinstance(max_instances, int) or max_instances < 1:
            raise ValueError(f"max_instances must be a positive int, got {max_instances!r}")
        if (sam is None) != (sam_processor is None):
            raise ValueError("sam and sam_processor go together: pass both or neither")
        self.detector, self.detector_processor = detector.eval(), detector_processor
        self.sam, self.sam_processor = (sam.eval() if sam is not None else None), sam_processor
        self.threshold, self.nms_iou = float(threshold), float(nms_iou)
        self.max_instances, self.min_area_fraction = max_instances, float(min_area_fraction)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], sam: str | os.PathLike[str] | None = None,
                        **settings: Any) -> DetectionSegmenter:
        """A detector checkpoint (local directory or hub id) and optionally a SAM one, or a directory
        written by ``save_pretrained`` (``detector/``, ``sam/`` and the settings)."""
        try:
            from transformers import (
                AutoModelForZeroShotObjectDetection,
                AutoProcessor,
                SamModel,
                SamProcessor,
            )
        except ImportError as err:  # pragma: no cover - part of the editing extra
            raise ImportError("detection grounding needs transformers: pip install 'ctrlgen[editing]'") from err
        from generators import resolve_pretrained

        directory = Path(resolve_pretrained(str(name_or_path)))
        saved: dict[str, Any] = {}
        detector_dir, sam_dir = directory, None if sam is None else Path(resolve_pretrained(str(sam)))
        if (directory / DETECTION_CONFIG_NAME).is_file():
            saved = json.loads((directory / DETECTION_CONFIG_NAME).read_text())
            detector_dir = directory / "detector"
            if sam is None and (directory / "sam").is_dir():
                sam_dir = directory / "sam"
        detector = AutoModelForZeroShotObjectDetection.from_pretrained(detector_dir, use_safetensors=True)
        sam_model = sam_processor = None
        if sam_dir is not None:
            sam_model, sam_processor = SamModel.from_pretrained(sam_dir, use_safetensors=True), SamProcessor.from_pretrained(sam_dir)
        return cls(detector, AutoProcessor.from_pretrained(detector_dir), sam_model, sam_processor, **{**saved, **settings})

    def save_pretrained(self, directory: str | os.PathLike[str]) -> None:
        directory = Path(directory)
        self.detector.save_pretrained(directory / "detector", safe_serialization=True)
        self.detector_processor.save_pretrained(directory / "detector")
        if self.sam is not None:
            self.sam.save_pretrained(directory / "sam", safe_serialization=True)
            self.sam_processor.save_pretrained(directory / "sam")
        settings = {"threshold": self.threshold, "nms_iou": self.nms_iou, "max_instances": self.max_instances,
                    "min_area_fraction": self.min_area_fraction}
        (directory / DETECTION_CONFIG_NAME).write_text(json.dumps(settings) + "\n")

    def boxes(self, image: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(boxes (n, 4) x0, y0, x1, y1 in pixels, scores (n,)) for ``text``, after suppression, best first."""
        import torch
        from PIL import Image

        height, width = image.shape[:2]
        inputs = self.detector_processor(text=[[text]], images=[Image.fromarray(image)], return_tensors="pt")
        with torch.no_grad():
            outputs = self.detector(**inputs)
        # OWLv2 pads the image to a square at the bottom right, and its boxes are fractions of that square
        pads = type(self.detector_processor.image_processor).__name__.startswith("Owlv2")
        size = (max(height, width),) * 2 if pads else (height, width)
        found = self.detector_processor.post_process_grounded_object_detection(
            outputs, threshold=self.threshold, target_sizes=[size], text_labels=[[text]])[0]
        boxes = found["boxes"].float().numpy().reshape(-1, 4)
        scores = found["scores"].float().numpy().reshape(-1)
        boxes = np.clip(boxes, 0, [width, height, width, height])
        real = np.all(boxes[:, 2:] - boxes[:, :2] >= 2, axis=1)  # at least 2 px wide and high inside the image
        boxes, scores = boxes[real], scores[real]
        kept = non_maximum_suppression(boxes, scores, self.nms_iou)[: self.max_instances]
        return boxes[kept], scores[kept]

    def masks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(n, H, W) bool: SAM's best mask for each box (by its predicted IoU), clipped to the box;
        without SAM the boxes themselves."""
        height, width = image.shape[:2]
        rows, columns = np.arange(height)[:, None], np.arange(width)[None, :]
        inside = np.stack([(rows >= np.floor(y0)) & (rows < np.ceil(y1)) & (columns >= np.floor(x0)) & (columns < np.ceil(x1))
                           for x0, y0, x1, y1 in boxes]) if len(boxes) else np.zeros((0, height, width), dtype=bool)
        if self.sam is None or not len(boxes):
            return inside
        import torch
        from PIL import Image

        inputs = self.sam_processor(images=[Image.fromarray(image)], input_boxes=[boxes.tolist()], return_tensors="pt")
        with torch.no_grad():
            outputs = self.sam(**inputs, multimask_output=True)
        masks = self.sam_processor.image_processor.post_process_masks(
            outputs.pred_masks, inputs["original_sizes"], inputs["reshaped_input_sizes"])[0].numpy()  # (n, k, H, W)
        best = outputs.iou_scores[0].argmax(-1).numpy()
        return masks[np.arange(len(boxes)), best] & inside

    def instances(self, image: np.ndarray, text: str) -> list[Instance]:
        """One instance per detected ``text`` object, best detection first."""
        boxes, _ = self.boxes(image, text)
        min_area = max(4, int(self.min_area_fraction * image.shape[0] * image.shape[1]))
        return [instance_from_mask(mask, image) for mask in self.masks(image, boxes) if mask.sum() >= min_area]
