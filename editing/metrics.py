"""Editing metrics: preservation outside the edit, target masks, plans, and CLIP direction.

* ``psnr_outside`` / ``ssim_outside``: computed only over the pixels outside ``region`` (SSIM's
  map is averaged over those pixels), infinite PSNR when they are bit-exact;
* ``mask_iou``: LISA's gIoU (mean of per-image IoU) and cIoU (cumulative intersection over
  cumulative union), an empty prediction for an empty truth counting as IoU 1;
* ``category_accuracy`` of plans against true categories;
* ``clip_directional_similarity``: cos(E(edited) - E(original), E(target text) - E(source text))
  with transformers CLIP weights the user provides (InstructPix2Pix's measure).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np


def _pair(original: Any, edited: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(original), np.asarray(edited)
    if a.shape != b.shape:
        raise ValueError(f"original and edited must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """PSNR in dB of two equal-shape arrays (inf when equal, nan when empty)."""
    if a.size == 0:
        return float("nan")
    mse = float(np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def psnr_outside(original: Any, edited: Any, region: np.ndarray) -> float:
    """PSNR over the pixels outside ``region`` (H, W) bool."""
    a, b = _pair(original, edited)
    keep = ~np.asarray(region, dtype=bool)
    return psnr(a[keep], b[keep])


def ssim_outside(original: Any, edited: Any, region: np.ndarray) -> float:
    """Mean SSIM over the pixels outside ``region`` (the SSIM map averaged there)."""
    from skimage.metrics import structural_similarity

    a, b = _pair(original, edited)
    keep = ~np.asarray(region, dtype=bool)
    if not keep.any():
        return float("nan")
    _, full = structural_similarity(a, b, channel_axis=-1 if a.ndim == 3 else None, data_range=255, full=True)
    full = full.mean(axis=-1) if full.ndim == 3 else full
    return float(full[keep].mean())


def mask_iou(predicted: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> dict[str, float]:
    """{"giou": mean per-image IoU, "ciou": cumulative intersection / cumulative union}."""
    if len(predicted) != len(truth) or not truth:
        raise ValueError(f"predicted and truth must be equal-length non-empty lists, got {len(predicted)} and {len(truth)}")
    ious, intersection, union = [], 0, 0
    for p, t in zip(predicted, truth, strict=True):
        p, t = np.asarray(p, dtype=bool), np.asarray(t, dtype=bool)
        inter, uni = int((p & t).sum()), int((p | t).sum())
        ious.append(1.0 if uni == 0 else inter / uni)
        intersection, union = intersection + inter, union + uni
    return {"giou": float(np.mean(ious)), "ciou": 1.0 if union == 0 else intersection / union}


def category_accuracy(plans: Sequence[Any], categories: Sequence[str]) -> float:
    """Share of plans whose category is the true one."""
    if len(plans) != len(categories) or not plans:
        raise ValueError("plans and categories must be equal-length non-empty lists")
    return float(np.mean([plan.category == category for plan, category in zip(plans, categories, strict=True)]))


@lru_cache(maxsize=2)
def _clip(model: str):
    from transformers import CLIPModel, CLIPProcessor

    from generators import resolve_pretrained

    directory = resolve_pretrained(model)
    return CLIPModel.from_pretrained(directory).eval(), CLIPProcessor.from_pretrained(directory)


def clip_directional_similarity(original: Any, edited: Any, source_text: str, target_text: str, model: str) -> float:
    """cos(E_image(edited) - E_image(original), E_text(target_text) - E_text(source_text)) with CLIP ``model``
    (a local directory or hub id of transformers CLIP weights)."""
    import torch

    clip, processor = _clip(str(model))
    images = [np.asarray(original)[..., :3], np.asarray(edited)[..., :3]]
    with torch.no_grad():
        pixels = processor(images=images, return_tensors="pt")["pixel_values"]
        image = clip.get_image_features(pixel_values=pixels)
        tokens = processor(text=[source_text, target_text], return_tensors="pt", padding=True, truncation=True)
        text = clip.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
    image, text = getattr(image, "pooler_output", image), getattr(text, "pooler_output", text)
    image = torch.nn.functional.normalize(image, dim=-1)
    text = torch.nn.functional.normalize(text, dim=-1)
    return float(torch.nn.functional.cosine_similarity(image[1] - image[0], text[1] - text[0], dim=0))
