"""Text–image scoring: the embedded contrastive scorer and a transformers CLIP/SigLIP scorer.

``TextImageScorer`` is a small CLIP-style model: the offline MiniLM sentence encoder (frozen) with a
trained projection head, and a small convolutional image tower, trained contrastively on rendered
icons (``svg.train.scorer``). Its weights ship in ``generators/embedded/text_image``.

Both scorers give ``100 * cosine`` between text and image embeddings (the CLIP-score scale) and are
registered as the ``"text_image"`` reward: the embedded scorer by default, CLIP/SigLIP when
``get_reward("text_image", model=PATH_OR_HUB_ID)`` or ``CTRLGEN_TEXT_IMAGE_MODEL`` names such weights.
Rewards take images (PIL images, HxWx3 uint8 arrays, or objects with ``to_pil()``) and prompts.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .modeling import ModelMixin
from .rewards import RewardOutput, register_reward

EMBEDDED_SCORER_DIR = Path(__file__).resolve().parent / "embedded" / "text_image"
MODEL_ENV = "CTRLGEN_TEXT_IMAGE_MODEL"


def _conv_block(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, stride=2, padding=1),
        nn.GroupNorm(8, channels_out),
        nn.GELU(),
        nn.Conv2d(channels_out, channels_out, 3, padding=1),
        nn.GroupNorm(8, channels_out),
        nn.GELU(),
    )


class TextImageScorer(ModelMixin):
    """CLIP-style scorer over frozen MiniLM text features and a small CNN image tower."""

    def __init__(
        self,
        text_dim: int = 384,
        embed_dim: int = 128,
        image_size: int = 64,
        channels: Sequence[int] = (32, 64, 128, 192),
        text_encoder: str = "minilm",
    ) -> None:
        super().__init__()
        self.register_config(text_dim=text_dim, embed_dim=embed_dim, image_size=image_size, channels=list(channels), text_encoder=text_encoder)
        blocks, previous = [], 3
        for width in channels:
            blocks.append(_conv_block(previous, width))
            previous = width
        self.image_tower = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(previous, embed_dim))
        self.text_head = nn.Sequential(nn.Linear(text_dim, 2 * embed_dim), nn.GELU(), nn.Linear(2 * embed_dim, embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Unit embeddings of images ``(batch, 3, size, size)`` with values in [0, 1] on white."""
        return nn.functional.normalize(self.image_tower(pixels * 2 - 1), dim=-1)

    def encode_text_features(self, features: torch.Tensor) -> torch.Tensor:
        """Unit embeddings from MiniLM sentence features ``(batch, text_dim)``."""
        return nn.functional.normalize(self.text_head(features), dim=-1)

    def forward(self, pixels: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        """Contrastive logits ``(images, texts)``."""
        scale = self.logit_scale.exp().clamp(max=100)
        return scale * self.encode_image(pixels) @ self.encode_text_features(text_features).T


def to_pixels(images: Sequence[Any], size: int) -> torch.Tensor:
    """Images as a (batch, 3, size, size) float tensor in [0, 1], composited on white."""
    from PIL import Image

    batch = []
    for index, image in enumerate(images):
        if hasattr(image, "to_pil"):
            image = image.to_pil()
        if isinstance(image, np.ndarray):
            image = Image.fromarray(np.ascontiguousarray(image))
        if not isinstance(image, Image.Image):
            raise TypeError(f"samples[{index}] must be a PIL image, an HxWxC uint8 array or have to_pil(), got {type(image).__name__}")
        rgba = image.convert("RGBA").resize((size, size), Image.Resampling.BILINEAR)
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        array = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.float32) / 255.0
        batch.append(torch.from_numpy(array).permute(2, 0, 1))
    return torch.stack(batch)


def _prompts(samples: Sequence[Any], conditions: Sequence[Any] | None) -> list[str]:
    if conditions is None or len(conditions) != len(samples):
        raise ValueError("a text-image reward needs conditions: one prompt (str or TextCondition) per sample")
    texts = []
    for index, condition in enumerate(conditions):
        text = getattr(condition, "text", condition)
        if not isinstance(text, str):
            raise TypeError(f"conditions[{index}] must be a str or a TextCondition, got {type(condition).__name__}")
        texts.append(text)
    return texts


class EmbeddedTextImageReward:
    """The ``text_image`` reward on the embedded scorer: ``100 * cos(text, image)``."""

    name = "text_image"

    def __init__(self, scorer: TextImageScorer, text_encoder=None) -> None:
        from .text_encoders import load_text_encoder

        self.scorer = scorer.eval()
        self.text_encoder = text_encoder or load_text_encoder(scorer.config["text_encoder"])

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        return self.scorer.encode_text_features(self.text_encoder.encode(list(texts)).pooled.float())

    @torch.no_grad()
    def embed_images(self, images: Sequence[Any]) -> torch.Tensor:
        return self.scorer.encode_image(to_pixels(images, self.scorer.config["image_size"]))

    def __call__(self, samples: Sequence[Any], conditions: Sequence[Any] | None = None) -> RewardOutput:
        texts = _prompts(samples, conditions)
        if not samples:
            return RewardOutput(scores=torch.zeros(0))
        scores = 100 * (self.embed_images(samples) * self.embed_texts(texts)).sum(-1)
        return RewardOutput(scores=scores.float(), info={"model": "embedded"})


class CLIPTextImageReward:
    """The ``text_image`` reward on transformers CLIP or SigLIP weights (local dir or hub id)."""

    name = "text_image"

    def __init__(self, model, processor, source: str = "") -> None:
        self.model = model.eval()
        self.processor = processor
        self.source = source

    @classmethod
    def from_pretrained(cls, name_or_path: str) -> CLIPTextImageReward:
        from transformers import AutoModel, AutoProcessor

        from .hub import resolve_pretrained

        directory = resolve_pretrained(str(name_or_path))
        return cls(AutoModel.from_pretrained(directory), AutoProcessor.from_pretrained(directory), str(name_or_path))

    @torch.no_grad()
    def __call__(self, samples: Sequence[Any], conditions: Sequence[Any] | None = None) -> RewardOutput:
        texts = _prompts(samples, conditions)
        if not samples:
            return RewardOutput(scores=torch.zeros(0))
        images = [(to_pixels([s], 224)[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8) for s in samples]
        inputs = self.processor(text=texts, images=images, return_tensors="pt", padding="max_length", truncation=True)
        image = self.model.get_image_features(pixel_values=inputs["pixel_values"])
        text_inputs = {k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
        text = self.model.get_text_features(**text_inputs)
        image = getattr(image, "pooler_output", image)
        text = getattr(text, "pooler_output", text)
        scores = 100 * (nn.functional.normalize(image, dim=-1) * nn.functional.normalize(text, dim=-1)).sum(-1)
        return RewardOutput(scores=scores.float(), info={"model": self.source})


@functools.lru_cache(maxsize=4)
def _load_reward(model: str | None):
    if model is None:
        if not (EMBEDDED_SCORER_DIR / "model.safetensors").is_file():
            raise FileNotFoundError(f"the embedded text-image scorer is missing from {EMBEDDED_SCORER_DIR}; reinstall ctrlgen")
        return EmbeddedTextImageReward(TextImageScorer.from_pretrained(EMBEDDED_SCORER_DIR))
    config = Path(model) / "config.json"
    if config.is_file() and "model_type" not in json.loads(config.read_text()):
        return EmbeddedTextImageReward(TextImageScorer.from_pretrained(model))  # saved by TextImageScorer, not transformers
    return CLIPTextImageReward.from_pretrained(model)


@register_reward("text_image")
def text_image_reward(model: str | os.PathLike[str] | None = None):
    """``100 * cos(text, image)``: the embedded scorer, or CLIP/SigLIP weights named by ``model``
    (or the ``CTRLGEN_TEXT_IMAGE_MODEL`` environment variable); a scorer directory saved by
    ``TextImageScorer.save_pretrained`` also works."""
    chosen = model if model is not None else os.environ.get(MODEL_ENV) or None
    return _load_reward(str(chosen) if chosen is not None else None)
