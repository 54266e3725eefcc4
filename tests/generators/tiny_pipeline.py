"""A tiny but real pipeline over the base class: a transformers text model conditions a small
denoiser, sampled with a few Euler steps. It exercises save/load of both our own models and
transformers components, and is what the pipeline contract's own tests run on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from generators import BaseOutput, ModelMixin, Pipeline, randn_tensor


class TinyDenoiser(ModelMixin):
    def __init__(self, sample_dim: int = 8, text_dim: int = 16, hidden_dim: int = 32) -> None:
        super().__init__()
        self.register_config(sample_dim=sample_dim, text_dim=text_dim, hidden_dim=hidden_dim)
        self.net = nn.Sequential(nn.Linear(sample_dim + text_dim + 1, hidden_dim), nn.SiLU(), nn.Linear(hidden_dim, sample_dim))

    def forward(self, sample: torch.Tensor, t: float, text: torch.Tensor) -> torch.Tensor:
        time = torch.full((sample.shape[0], 1), float(t), dtype=sample.dtype, device=sample.device)
        return self.net(torch.cat([sample, text.expand(sample.shape[0], -1), time], dim=-1))


@dataclasses.dataclass
class TinyOutput(BaseOutput):
    samples: torch.Tensor  # (num_samples, sample_dim), best first
    scores: torch.Tensor


class TinyDenoisePipeline(Pipeline):
    _callback_tensor_inputs = ("sample", "velocity")

    def __init__(self, denoiser: TinyDenoiser, text_model, tokenizer, sigma: float = 1.0) -> None:
        super().__init__()
        self.register_components(denoiser=denoiser, text_model=text_model, tokenizer=tokenizer)
        self.register_to_config(sigma=sigma)

    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        num_samples: int = 1,
        num_inference_steps: int = 4,
        generator: torch.Generator | list[torch.Generator] | None = None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs: tuple[str, ...] = ("sample",),
    ) -> TinyOutput:
        # 1. Check inputs
        if not isinstance(prompt, str) or not prompt:
            raise TypeError("prompt must be a non-empty str")
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        self.check_generator(generator, num_samples)
        self.check_callback(callback_on_step_end, callback_on_step_end_tensor_inputs)

        # 2. Encode the prompt
        tokens = self.tokenizer([prompt], return_tensors="pt").to(self.device)
        text = self.text_model(**tokens).last_hidden_state.mean(1)

        # 3. Draw the starting noise
        sample = randn_tensor((num_samples, self.denoiser.config["sample_dim"]), generator, self.device, self.dtype)
        sample = sample * self.config["sigma"]

        # 4. Integrate from t=1 to t=0
        for step, t in enumerate(self.progress_bar(torch.linspace(1, 0, num_inference_steps + 1)[:-1].tolist())):
            velocity = self.denoiser(sample, t, text)
            sample = sample - velocity / num_inference_steps
            tensors = {"sample": sample, "velocity": velocity}
            wanted = {k: tensors[k] for k in callback_on_step_end_tensor_inputs}
            sample = self.run_step_callback(callback_on_step_end, step, t, wanted).get("sample", sample)

        # 5. Rank best first (smallest norm scores highest)
        scores = -sample.norm(dim=-1)
        order = torch.argsort(scores, descending=True, stable=True)
        return TinyOutput(samples=sample[order], scores=scores[order])


def build_tokenizer(directory: Path):
    from transformers import BertTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "red", "heart", "blue", "cloud", "with", "rain", "two", "people"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(words) + "\n")
    return BertTokenizerFast(vocab_file=str(directory / "vocab.txt"))


def get_dummy_components(tmp_dir: Path) -> dict:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=14, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    return {
        "denoiser": TinyDenoiser(sample_dim=8, text_dim=16, hidden_dim=32).eval(),
        "text_model": BertModel(config).eval(),
        "tokenizer": build_tokenizer(tmp_dir / "vocab"),
    }
