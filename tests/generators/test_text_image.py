"""The text-image reward: the embedded scorer, a scorer directory, and transformers CLIP weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_models import save_tiny_clip_model

from generators.rewards import get_reward, list_rewards
from generators.text_image import CLIPTextImageReward, EmbeddedTextImageReward, TextImageScorer, to_pixels


def _images():
    red = Image.new("RGB", (40, 40), (255, 0, 0))
    transparent = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    return [red, np.zeros((30, 30, 3), dtype=np.uint8), transparent]


def test_to_pixels_composites_on_white_and_resizes():
    pixels = to_pixels(_images(), 16)
    assert pixels.shape == (3, 3, 16, 16) and pixels.dtype == torch.float32
    assert torch.allclose(pixels[0, 0], torch.ones(16, 16)) and pixels[0, 1].max() == 0  # red
    assert pixels[1].max() == 0 and torch.allclose(pixels[2], torch.ones(3, 16, 16))  # black; transparent -> white
    with pytest.raises(TypeError, match=r"samples\[0\]"):
        to_pixels(["not an image"], 16)


def test_scorer_directory_round_trip_and_reward(tmp_path):
    torch.manual_seed(0)
    scorer = TextImageScorer(embed_dim=16, image_size=32, channels=(8, 16))
    scorer.save_pretrained(tmp_path / "scorer")
    reward = get_reward("text_image", model=str(tmp_path / "scorer"))
    assert isinstance(reward, EmbeddedTextImageReward)
    assert torch.equal(reward.scorer.logit_scale, scorer.logit_scale)
    out = reward(_images(), ["a red square", "a black square", "nothing"])
    assert out.scores.shape == (3,) and out.scores.abs().max() <= 100 + 1e-4
    again = reward(_images()[:1], ["a red square"])
    assert torch.allclose(again.scores[0], out.scores[0], atol=1e-4)  # one image alone scores as in a batch
    with pytest.raises(ValueError, match="conditions"):
        reward(_images(), None)


def test_embedded_scorer_is_the_default_text_image_reward(monkeypatch):
    monkeypatch.delenv("CTRLGEN_TEXT_IMAGE_MODEL", raising=False)
    assert "text_image" in list_rewards()
    reward = get_reward("text_image")
    assert isinstance(reward, EmbeddedTextImageReward) and reward.scorer.num_parameters() < 10 * 2**20 / 4
    heart = Image.new("RGB", (64, 64), "white")
    scores = reward([heart, heart], ["a red heart", "a red heart"]).scores
    assert torch.allclose(scores[0], scores[1])


def test_clip_weights_replace_the_embedded_scorer(tmp_path, monkeypatch):
    save_tiny_clip_model(tmp_path / "clip")
    monkeypatch.setenv("CTRLGEN_TEXT_IMAGE_MODEL", str(tmp_path / "clip"))
    reward = get_reward("text_image")
    assert isinstance(reward, CLIPTextImageReward)
    out = reward(_images(), ["a red square", "a black square", "nothing"])
    assert out.scores.shape == (3,) and torch.isfinite(out.scores).all() and out.info["model"] == str(tmp_path / "clip")
