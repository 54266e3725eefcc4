"""Gaussian diffusion for an x0-predicting denoiser: InterGen's cosine schedule, noising for
training, and a DDIM sampler over any subset of the training timesteps, with classifier-free
guidance and a hook per step (where trajectory guidance edits the sample).

Schedule (Nichol & Dhariwal, as InterGen uses it): ``alpha_bar(t) = cos(((t / T) + 0.008) / 1.008
* pi / 2) ** 2`` and ``beta_i = min(1 - alpha_bar(i + 1) / alpha_bar(i), 0.999)`` over T = 1000
steps, in float64. The DDIM update with eta = 0 (InterGen samples 50 steps, every 20th):
``eps = (x_t / sqrt(ab_t) - x0) / sqrt(1 / ab_t - 1)``, ``x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev) eps``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch


def cosine_betas(num_steps: int = 1000, max_beta: float = 0.999) -> torch.Tensor:
    def alpha_bar(t: float) -> float:
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    return torch.tensor([min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)],
                        dtype=torch.float64)


@dataclass
class StepState:
    """What a per-step hook sees (and may replace): the step's timestep, the noisy sample and the x0 prediction."""

    index: int  # 0 .. num_inference_steps - 1, in sampling order
    timestep: int  # in training units (0 .. 999)
    noise_level: float  # t / T in [0, 1): 1 is pure noise
    sample: torch.Tensor  # x_t
    prediction: torch.Tensor  # predicted x0


class GaussianDiffusion:
    """The noise schedule and samplers; holds no weights."""

    def __init__(self, num_train_timesteps: int = 1000):
        if num_train_timesteps < 2:
            raise ValueError(f"num_train_timesteps must be >= 2, got {num_train_timesteps}")
        self.num_train_timesteps = num_train_timesteps
        self.betas = cosine_betas(num_train_timesteps)
        self.alphas_cumprod = torch.cumprod(1 - self.betas, dim=0)

    def timesteps(self, num_inference_steps: int) -> list[int]:
        """Evenly spaced training timesteps, largest first (``ddim50`` of 1000: 980, 960, ..., 0)."""
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(f"num_inference_steps must be in 1..{self.num_train_timesteps}, got {num_inference_steps}")
        stride = self.num_train_timesteps // num_inference_steps
        return list(range(0, stride * num_inference_steps, stride))[::-1]

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """``x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise`` per batch row."""
        alpha_bar = self.alphas_cumprod.to(x0.device)[timesteps.long()].to(x0.dtype)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        return alpha_bar.sqrt().view(shape) * x0 + (1 - alpha_bar).sqrt().view(shape) * noise

    def ddim_step(self, sample: torch.Tensor, prediction: torch.Tensor, timestep: int, previous: int | None) -> torch.Tensor:
        """One deterministic DDIM step from ``timestep`` to ``previous`` (None: the end, returns x0)."""
        if previous is None:
            return prediction
        alpha_bar, alpha_bar_prev = (float(self.alphas_cumprod[t]) for t in (timestep, previous))
        eps = (sample / math.sqrt(alpha_bar) - prediction) / math.sqrt(1 / alpha_bar - 1)
        return math.sqrt(alpha_bar_prev) * prediction + math.sqrt(1 - alpha_bar_prev) * eps

    def sample(
        self,
        predict_x0: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        shape: tuple[int, ...],
        num_inference_steps: int = 50,
        generator: torch.Generator | list[torch.Generator] | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        on_step: Callable[[StepState], StepState | None] | None = None,
    ) -> torch.Tensor:
        """DDIM (eta = 0) from Gaussian noise; ``predict_x0(x_t, timesteps)`` is the (guided) denoiser.

        ``generator``: one, or one per batch row (row ``i`` then equals that row sampled alone).
        ``on_step`` may return a new ``StepState`` whose ``sample``/``prediction`` replace the step's.
        Returns the last x0 prediction, as InterGen does.
        """
        if isinstance(generator, list):
            if len(generator) != shape[0]:
                raise ValueError(f"got {len(generator)} generators for a batch of {shape[0]}")
            sample = torch.stack([torch.randn(shape[1:], generator=g, dtype=dtype) for g in generator]).to(device)
        else:
            sample = torch.randn(shape, generator=generator, dtype=dtype).to(device)
        steps = self.timesteps(num_inference_steps)
        prediction = sample
        for index, timestep in enumerate(steps):
            prediction = predict_x0(sample, torch.full((shape[0],), timestep, device=device, dtype=torch.long))
            if on_step is not None:
                state = on_step(StepState(index, timestep, timestep / self.num_train_timesteps, sample, prediction))
                if state is not None:
                    sample, prediction = state.sample, state.prediction
            sample = self.ddim_step(sample, prediction, timestep, steps[index + 1] if index + 1 < len(steps) else None)
        return prediction


def classifier_free_guidance(
    denoiser: Callable[..., torch.Tensor], text: torch.Tensor, guidance_scale: float, **kwargs
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``predict_x0`` mixing the text-conditioned and null-text (zero feature) predictions:
    ``s * cond + (1 - s) * uncond`` (InterGen's ``ClassifierFreeSampleModel``); s = 1 skips the null branch."""

    def predict_x0(sample: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        if guidance_scale == 1.0:
            return denoiser(sample, timesteps, text, **kwargs)
        doubled = {k: torch.cat([v, v]) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}  # e.g. a frame mask
        both = denoiser(torch.cat([sample, sample]), torch.cat([timesteps, timesteps]), torch.cat([text, torch.zeros_like(text)]), **doubled)
        conditional, unconditional = both.chunk(2)
        return guidance_scale * conditional + (1 - guidance_scale) * unconditional

    return predict_x0
