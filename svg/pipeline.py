"""``SVGPipeline``: text to SVG with any causal LM, every candidate repaired, validated and ranked.

Backends: a transformers causal LM (``model`` + ``tokenizer``) sampled by our seeded loop, or an
OpenAI-compatible chat endpoint (``client``, see ``generators.endpoint``). Whatever comes back is extracted, repaired and
validated; candidates that cannot be made valid and non-blank are reported, never returned.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import time
from pathlib import Path
from typing import Any

import torch

from generators import BaseOutput, CompositeReward, Pipeline, best_of_n, get_reward

from . import rewards as _rewards  # noqa: F401  (registers the svg rewards)
from .decoding import sample
from .prompts import PROMPT_FORMATS, build_messages, encode_messages

EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded"
RESAMPLE_ROUNDS = 2  # extra sampling rounds for candidates that repair cannot make valid


@functools.lru_cache(maxsize=64)
def _repaired(text: str):
    from .repair import repair_svg

    return repair_svg(text)


def _derived_generators(generator, count: int) -> list[torch.Generator] | None:
    """Fresh generators for resampling, seeded from the caller's: reruns stay reproducible."""
    if generator is None:
        return None
    sources = generator if isinstance(generator, list) else [generator]
    return [torch.Generator().manual_seed(int(torch.randint(0, 2**63 - 1, (1,), generator=sources[i % len(sources)]))) for i in range(count)]


@dataclasses.dataclass
class SVGPipelineOutput(BaseOutput):
    svgs: list[str]  # valid, sanitized, non-blank; best first
    images: list[Any]  # PIL images of ``svgs``
    scores: list[float]
    reports: list[dict[str, Any]]  # per returned SVG: validation report, repairs, raw text
    rejected: list[dict[str, Any]]  # candidates that could not be made valid, with their reports
    texts: list[str]  # raw model outputs in generation order


class SVGPipeline(Pipeline):
    embedded_dir = EMBEDDED_DIR
    _optional_components = ("model", "tokenizer", "client", "library")
    _callback_tensor_inputs = ("tokens",)

    def __init__(
        self,
        model=None,
        tokenizer=None,
        client=None,
        library=None,
        prompt_format: str = "direct",
        max_new_tokens: int = 1024,
        temperature: float = 0.8,
        top_p: float = 0.95,
        image_size: int = 256,
    ) -> None:
        super().__init__()
        if (model is None) != (tokenizer is None):
            raise ValueError("SVGPipeline needs both model and tokenizer (a transformers causal LM and its tokenizer)")
        if (model is None) == (client is None):
            raise ValueError("SVGPipeline needs either model= and tokenizer=, or client= (an OpenAI-compatible endpoint)")
        self.register_components(model=model, tokenizer=tokenizer, client=client, library=library)
        self.register_to_config(
            prompt_format=prompt_format,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            image_size=image_size,
        )

    @classmethod
    def from_pretrained(cls, name_or_path="embedded", **kwargs):
        """``"embedded"``, a saved directory, a hub id, or an OpenAI-compatible endpoint URL
        (``http://127.0.0.1:8000/v1``; pass ``model_name=`` to pick one of its models)."""
        if isinstance(name_or_path, str) and name_or_path.startswith(("http://", "https://")):
            from generators.endpoint import OpenAIChatClient

            client = OpenAIChatClient(name_or_path, model=kwargs.pop("model_name", None))
            return cls(client=client, **kwargs)
        if "model_name" in kwargs:
            raise TypeError("model_name= only applies to endpoint URLs")
        return super().from_pretrained(name_or_path, **kwargs)

    def default_reward(self) -> CompositeReward:
        """Validity gate, then the text-image score (embedded scorer unless CLIP weights are
        configured), then a small preference for shorter documents."""
        terms = {"text_image": (get_reward("svg_text_image"), 1.0), "compactness": (get_reward("svg_compactness"), 1.0)}
        return CompositeReward(terms, gates=[get_reward("svg_valid")], name="svg_default")

    def check_inputs(self, prompt, num_samples, prompt_format, max_new_tokens, temperature, top_p, image_size) -> None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise TypeError("prompt must be a non-empty str")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
        if not isinstance(temperature, int | float) or temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}")
        if not isinstance(top_p, int | float) or not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
        if not isinstance(image_size, int) or not 1 <= image_size <= 4096:
            raise ValueError(f"image_size must be an int in 1..4096, got {image_size!r}")

    def encode_prompt(self, messages: list[dict[str, str]]) -> torch.Tensor:
        return encode_messages(self.tokenizer, messages).to(self.device)

    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        num_samples: int = 1,
        generator: torch.Generator | list[torch.Generator] | None = None,
        prompt_format: str | None = None,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        image_size: int | None = None,
        examples: list[tuple[str, str]] | None = None,
        num_examples: int = 0,
        reward=None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs: tuple[str, ...] = ("tokens",),
    ) -> SVGPipelineOutput:
        """Generate ``num_samples`` candidates for ``prompt`` and return the valid ones, best first.

        Args:
            prompt: what to draw.
            num_samples: candidates to sample (best-of-N).
            generator: one ``torch.Generator`` or one per sample; controls all sampling.
            prompt_format: ``"direct"`` or ``"cot"`` (reason in ``<think>``, then the SVG).
            max_new_tokens, temperature, top_p: sampling; default to the pipeline's config.
            image_size: size of the returned renders.
            examples: (caption, svg) pairs shown to the model as earlier answers (few-shot).
            num_examples: also show the this many closest icons of the pipeline's ``library``
                (retrieval-augmented prompting).
            reward: a ``generators.rewards`` reward to rank with (default: validity gate, then
                text-image score when registered, then compactness).
        """
        config = self.config
        prompt_format = prompt_format or config["prompt_format"]
        max_new_tokens = max_new_tokens or config["max_new_tokens"]
        temperature = config["temperature"] if temperature is None else temperature
        top_p = config["top_p"] if top_p is None else top_p
        image_size = image_size or config["image_size"]

        # 1. Check inputs
        self.check_inputs(prompt, num_samples, prompt_format, max_new_tokens, temperature, top_p, image_size)
        self.check_generator(generator, num_samples)
        self.check_callback(callback_on_step_end, callback_on_step_end_tensor_inputs)

        if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 0:
            raise ValueError(f"num_examples must be a non-negative int, got {num_examples!r}")
        if num_examples and self.library is None:
            raise ValueError("num_examples needs an icon library: pass library=IconLibrary.from_directory(...)")

        # 2. Build the prompt, with retrieved examples
        shots = list(examples or ())
        if num_examples:
            shots += [(caption, svg_text) for caption, svg_text, _ in reversed(self.library.nearest(prompt, num_examples))]
        messages = build_messages(prompt, prompt_format, shots)
        started = time.perf_counter()
        if self.client is not None:
            texts = self._sample_endpoint(messages, num_samples, generator, max_new_tokens, temperature, top_p, callback_on_step_end)
            return self.postprocess(prompt, texts, [len(t) for t in texts], time.perf_counter() - started, image_size, reward)
        prompt_ids = self.encode_prompt(messages)
        limit = getattr(self.model.config, "max_position_embeddings", None) or getattr(self.model.config, "n_positions", None)
        if limit is not None and prompt_ids.shape[-1] + max_new_tokens > limit:
            raise ValueError(
                f"the prompt is {prompt_ids.shape[-1]} tokens and max_new_tokens is {max_new_tokens}, but the model "
                f"reads at most {limit}; lower max_new_tokens or num_examples"
            )

        # 3. Sample candidates
        bar = self.progress_bar(total=max_new_tokens)

        steps = itertools.count()  # numbered across resampling rounds

        def on_step(_: int, tokens: torch.Tensor) -> None:
            bar.update(1)
            step = next(steps)
            self.run_step_callback(callback_on_step_end, step, step, {"tokens": tokens} if callback_on_step_end_tensor_inputs else {})

        token_lists = sample(self.model, self.tokenizer, prompt_ids, num_samples, generator, max_new_tokens, temperature, top_p, on_step=on_step)
        # 4. Resample candidates that cannot be made valid (bounded): N asked for, N returned
        for _ in range(RESAMPLE_ROUNDS):
            texts = [self.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in token_lists]
            missing = num_samples - sum(_repaired(text).ok for text in texts)
            if missing <= 0:
                break
            retry = _derived_generators(generator, missing)
            token_lists += sample(self.model, self.tokenizer, prompt_ids, missing, retry, max_new_tokens, temperature, top_p, on_step=on_step)
        bar.close()
        texts = [self.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in token_lists]
        seconds = time.perf_counter() - started
        return self.postprocess(prompt, texts, [len(t) for t in token_lists], seconds, image_size, reward, keep=num_samples)

    def _sample_endpoint(self, messages, num_samples, generator, max_new_tokens, temperature, top_p, callback) -> list[str]:
        """One streamed completion per sample, each seeded from its generator."""
        generators = generator if isinstance(generator, list) else [generator] * num_samples
        texts = []
        for index in self.progress_bar(range(num_samples)):
            seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generators[index]))
            text = self.client.complete(messages, max_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed,
                                        stop=("</svg>",))
            if self.client.last_finish_reason == "stop" and "<svg" in text and not text.rstrip().endswith("</svg>"):
                text += "</svg>"  # servers drop the stop string; the SVG needs its closing tag back
            texts.append(text)
            self.run_step_callback(callback, index, index, {"tokens": torch.tensor(list(text.encode()[-64:]))})
        return texts

    def postprocess(
        self, prompt: str, texts: list[str], token_counts: list[int], seconds: float, image_size: int, reward=None, keep: int | None = None
    ) -> SVGPipelineOutput:
        """Repair and validate raw outputs, rank the valid ones, render the best ``keep``."""
        from .render import render_svg

        # 5. Repair and validate every candidate
        repaired = [_repaired(text) for text in texts]
        candidates = [
            {
                "svg": result.svg,
                "valid": result.ok,
                "report": result.report.to_dict(),
                "repairs": [dataclasses.asdict(r) for r in result.repairs],
                "raw_text": text,
                "tokens": count,
            }
            for text, result, count in zip(texts, repaired, token_counts, strict=True)
        ]
        kept = [c for c in candidates if c["valid"]]
        rejected = [c for c in candidates if not c["valid"]]

        # 6. Rank the valid candidates
        svgs, scores, reports = [], [], []
        if kept:
            ranked = best_of_n([c["svg"] for c in kept], reward or self.default_reward(), [prompt] * len(kept))
            for index, score in list(zip(ranked.indices, ranked.scores.tolist(), strict=True))[:keep]:
                svgs.append(kept[index]["svg"])
                scores.append(float(score))
                reports.append({**kept[index], "seconds": round(seconds / len(texts), 4)})

        # 7. Render what is returned
        images = [render_svg(s, image_size).to_pil() for s in svgs]
        return SVGPipelineOutput(svgs=svgs, images=images, scores=scores, reports=reports, rejected=rejected, texts=texts)
