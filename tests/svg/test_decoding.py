"""The sampler's nucleus and draws against their textbook definitions."""

from __future__ import annotations

import pytest
import torch
from svg_fixtures import make_pipeline

from svg import decoding
from svg.pipeline import build_messages


def reference_nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Top-p by a full sort: the filtered distribution over the whole vocabulary."""
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    keep = sorted_probs.cumsum(-1) - sorted_probs < top_p
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs * keep)


@pytest.mark.parametrize("sharpness", [8.0, 0.5])  # peaked: nucleus inside the shortlist; flat: full-sort fallback
@pytest.mark.parametrize("top_p", [0.5, 0.95, 1.0])
def test_nucleus_equals_the_full_sort_definition(sharpness, top_p):
    probs = torch.softmax(torch.randn(5, 3000, generator=torch.Generator().manual_seed(1)) * sharpness, dim=-1)
    kept, token_ids = decoding._nucleus(probs, top_p)
    scattered = torch.zeros_like(probs).scatter_add(-1, token_ids, kept)
    torch.testing.assert_close(scattered, reference_nucleus(probs, top_p))


def test_draw_frequencies_follow_the_probabilities():
    probs = torch.tensor([[0.5, 0.0, 0.3, 0.2]]).repeat(20000, 1)
    token_ids = torch.arange(4).expand_as(probs)
    uniforms = torch.rand(20000, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(decoding._draw(probs, token_ids, uniforms), minlength=4).float() / 20000
    assert counts[1] == 0  # a zero-probability token is never drawn
    torch.testing.assert_close(counts, probs[0], atol=0.015, rtol=0)


def test_finished_rows_leave_the_batch_without_changing_the_others():
    pipe = make_pipeline()
    model, tokenizer = pipe.model, pipe.tokenizer
    prompt_ids = pipe.encode_prompt(build_messages("a red heart", "direct", []))
    seen: list[torch.Tensor] = []
    seeds = [3, 4, 5]
    batch = decoding.sample(
        model, tokenizer, prompt_ids, 3, [torch.Generator().manual_seed(s) for s in seeds], max_new_tokens=200,
        temperature=1.5, on_step=lambda step, tokens: seen.append(tokens),
    )
    alone = [
        decoding.sample(model, tokenizer, prompt_ids, 1, [torch.Generator().manual_seed(s)], max_new_tokens=200, temperature=1.5)[0]
        for s in seeds
    ]
    assert batch == alone
    assert len({len(tokens) for tokens in batch}) > 1, "rows should finish at different steps"
    assert all(step.shape == (3,) for step in seen)
    # every sample's tokens appear in its column of the per-step tensors, in order
    for index, tokens in enumerate(batch):
        assert [int(step[index]) for step in seen[: len(tokens)]] == tokens
