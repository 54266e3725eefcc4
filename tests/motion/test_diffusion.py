"""The cosine schedule, DDIM with an x0 oracle, per-row generators, hooks and classifier-free guidance."""

from __future__ import annotations

import math

import pytest
import torch

from motion.diffusion import GaussianDiffusion, StepState, classifier_free_guidance, cosine_betas
from motion.models import InterDenoiser


def test_cosine_schedule_matches_its_formula():
    betas = cosine_betas(1000)
    alpha_bar = torch.cumprod(1 - betas, 0)

    def expected(t):
        return math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2

    for t in (0, 100, 500, 900):
        assert float(alpha_bar[t]) == pytest.approx(expected(t + 1), rel=1e-9)
    assert float(betas.max()) <= 0.999 and float(betas.min()) > 0


def test_intergen_ddim50_timesteps():
    diffusion = GaussianDiffusion()
    steps = diffusion.timesteps(50)
    assert steps[0] == 980 and steps[-1] == 0 and len(steps) == 50
    with pytest.raises(ValueError, match="num_inference_steps"):
        diffusion.timesteps(0)


def test_ddim_with_a_perfect_denoiser_returns_the_data():
    diffusion = GaussianDiffusion()
    x0 = torch.randn(3, 7, 5, generator=torch.Generator().manual_seed(0))
    out = diffusion.sample(lambda sample, t: x0, x0.shape, num_inference_steps=10, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(out, x0)
    # and the noisy samples it walks through are the forward process's at each timestep
    seen = []
    diffusion.sample(lambda sample, t: x0, x0.shape, 10, torch.Generator().manual_seed(1), on_step=lambda s: seen.append(s))
    noise = (seen[0].sample - math.sqrt(diffusion.alphas_cumprod[seen[0].timestep]) * x0) / math.sqrt(1 - diffusion.alphas_cumprod[seen[0].timestep])
    for state in seen[1:]:
        t = torch.full((3,), state.timestep)
        torch.testing.assert_close(state.sample, diffusion.add_noise(x0, noise, t), atol=1e-5, rtol=1e-5)


def test_generators_per_row_and_hooks_that_edit():
    diffusion = GaussianDiffusion()

    def shrink(sample, t):
        return 0.5 * sample

    rows = diffusion.sample(shrink, (2, 4, 3), 5, [torch.Generator().manual_seed(s) for s in (7, 8)])
    alone = diffusion.sample(shrink, (1, 4, 3), 5, [torch.Generator().manual_seed(8)])
    torch.testing.assert_close(rows[1:], alone)

    def pin(state: StepState) -> StepState:
        prediction = state.prediction.clone()
        prediction[..., 0] = 1.0  # e.g. a trajectory overwritten in the prediction
        return StepState(state.index, state.timestep, state.noise_level, state.sample, prediction)

    out = diffusion.sample(shrink, (2, 4, 3), 5, torch.Generator().manual_seed(0), on_step=pin)
    torch.testing.assert_close(out[..., 0], torch.ones(2, 4))


def test_classifier_free_guidance_mixes_conditional_and_null_text():
    torch.manual_seed(0)
    model = InterDenoiser(latent_dim=16, ff_size=32, num_layers=1, num_heads=2, dropout=0.0, text_dim=8).eval()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    x, t, text = torch.randn(2, 4, 524), torch.tensor([5, 5]), torch.randn(2, 8)
    mask = torch.ones(2, 4, dtype=torch.bool)
    with torch.no_grad():
        guided = classifier_free_guidance(model, text, 3.5, mask=mask)(x, t)
        conditional, unconditional = model(x, t, text, mask), model(x, t, torch.zeros_like(text), mask)
        torch.testing.assert_close(guided, 3.5 * conditional - 2.5 * unconditional, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(classifier_free_guidance(model, text, 1.0, mask=mask)(x, t), conditional)
