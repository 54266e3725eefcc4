"""``ctrlgen svg eval``: the quality report of an SVG generator on held-out captions.

For each method (a pipeline, and in the same run the baselines: the nearest training icon by
caption, and the same model architecture untrained) and each prompt, the best returned SVG is
scored: valid rate, non-blank rate, text-image score, R-precision (rank of the true prompt among
32 held-out prompts by text-image score: top-1 and top-3), diversity, tokens and seconds.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

POOL = 32


def read_prompts(path: str | Path) -> list[str]:
    """One caption per line, or a CSV file with a ``desc`` column."""
    text = Path(path).read_text(encoding="utf-8")
    first = text.splitlines()[0] if text.strip() else ""
    if "desc" in [c.strip() for c in first.split(",")]:
        return [row["desc"].strip() for row in csv.DictReader(io.StringIO(text)) if row.get("desc", "").strip()]
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclasses.dataclass
class Sample:
    prompt: str
    svgs: list[str]  # returned SVGs, best first (empty when nothing valid came back)
    tokens: list[int]  # generated tokens per candidate (0 for retrieval)
    seconds: float  # wall time for the prompt


def run_method(generate: Callable[[str, int], Sample], prompts: Sequence[str], seed: int = 0, log: Callable[[str], None] | None = None) -> list[Sample]:
    samples = []
    for index, prompt in enumerate(prompts):
        samples.append(generate(prompt, seed + index))
        if log is not None and (index + 1) % 25 == 0:
            log(f"  {index + 1}/{len(prompts)}")
    return samples


def pipeline_method(pipe, num_samples: int) -> Callable[[str, int], Sample]:
    def generate(prompt: str, seed: int) -> Sample:
        started = time.perf_counter()
        out = pipe(prompt, num_samples=num_samples, generator=torch.Generator().manual_seed(seed))
        seconds = time.perf_counter() - started
        tokens = [r.get("tokens", 0) for r in out.reports] + [r.get("tokens", 0) for r in out.rejected]
        return Sample(prompt, list(out.svgs), tokens, seconds)

    return generate


def retrieval_method(captions: Sequence[str], svgs: Sequence[str]) -> Callable[[str, int], Sample]:
    """The training icon whose caption is nearest to the prompt (MiniLM cosine)."""
    from generators.text_encoders import load_text_encoder

    encoder = load_text_encoder("minilm")
    bank = torch.cat([encoder.encode(list(captions[i : i + 256])).pooled for i in range(0, len(captions), 256)])

    def generate(prompt: str, seed: int) -> Sample:
        started = time.perf_counter()
        query = encoder.encode([prompt]).pooled
        best = int((bank @ query.T).flatten().argmax())
        return Sample(prompt, [svgs[best]], [0], time.perf_counter() - started)

    return generate


def score_samples(samples: Sequence[Sample], image_reward, seed: int = 0) -> dict[str, Any]:
    """The metrics of one method; ``image_reward`` is a ``text_image`` reward."""
    from .render import render_svg
    from .validation import validate_svg

    n = len(samples)
    valid = blank = non_blank = 0
    images: list[Any] = []
    for s in samples:
        if not s.svgs:
            images.append(None)
            continue
        report = validate_svg(s.svgs[0], render=True)
        codes = {issue.code for issue in report.errors}
        valid += report.ok
        blank += "blank" in codes
        non_blank += "blank" not in codes and not any(code.startswith("render-") for code in codes)
        images.append(render_svg(s.svgs[0], 224).to_pil() if "blank" not in codes and report.ok else None)
    prompts = [s.prompt for s in samples]
    drawn = [i for i, image in enumerate(images) if image is not None]
    with torch.no_grad():
        image_embeddings = image_reward.embed_images([images[i] for i in drawn]) if drawn else torch.zeros(0, 1)
        text_embeddings = image_reward.embed_texts(prompts)
    similarity = torch.full((n, n), -1.0)  # images x texts; a missing image matches nothing
    if drawn:
        similarity[drawn] = image_embeddings @ text_embeddings.T
    # Pools of 32 held-out prompts: a fixed shuffle, then consecutive chunks (the last one wraps).
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    top1 = top3 = 0
    for position, index in enumerate(order):
        if images[index] is None:
            continue  # nothing drawn: never a hit
        chunk = position // POOL
        pool = [order[(chunk * POOL + k) % n] for k in range(min(POOL, n))]
        scores = similarity[index, pool]
        rank = int((scores > similarity[index, index]).sum())
        top1 += rank < 1
        top3 += rank < 3
    diversity = float("nan")
    if len(drawn) > 1:
        cosine = image_embeddings @ image_embeddings.T
        diversity = float((1 - cosine).sum() / (len(drawn) * (len(drawn) - 1)))
    tokens = [t for s in samples for t in s.tokens]
    seconds = [s.seconds for s in samples]
    return {
        "prompts": n,
        "valid_rate": valid / n,
        "non_blank_rate": non_blank / n,
        "blank": blank,
        "text_image_score": float(100 * similarity.diagonal()[drawn].mean()) if drawn else float("nan"),
        "r_precision_top1": top1 / n,
        "r_precision_top3": top3 / n,
        "pool": min(POOL, n),
        "diversity": diversity,
        "tokens_per_sample": statistics.mean(tokens) if tokens else 0.0,
        "seconds_per_prompt_median": statistics.median(seconds),
        "seconds_per_prompt_mean": statistics.mean(seconds),
    }


def markdown_table(results: dict[str, dict[str, Any]]) -> str:
    columns = [
        ("prompts", "prompts", "{:d}"), ("valid", "valid_rate", "{:.1%}"), ("non-blank", "non_blank_rate", "{:.1%}"),
        ("text-image", "text_image_score", "{:.2f}"), ("R-prec top-1/32", "r_precision_top1", "{:.3f}"),
        ("R-prec top-3/32", "r_precision_top3", "{:.3f}"), ("diversity", "diversity", "{:.3f}"),
        ("tokens/sample", "tokens_per_sample", "{:.0f}"), ("s/prompt (median)", "seconds_per_prompt_median", "{:.2f}"),
    ]
    lines = ["| method | " + " | ".join(c[0] for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for method, metrics in results.items():
        lines.append(f"| {method} | " + " | ".join(fmt.format(metrics[key]) for _, key, fmt in columns) + " |")
    return "\n".join(lines)


def untrained_copy(pipe, seed: int = 0):
    """The pipeline with its model re-initialised from the same config (the untrained baseline)."""
    from transformers import AutoModelForCausalLM

    from .pipeline import SVGPipeline

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(pipe.model.config)
    return SVGPipeline(model=model, tokenizer=pipe.tokenizer, **{k: v for k, v in pipe.config.items() if k in ("prompt_format", "max_new_tokens", "temperature", "top_p", "image_size")})


def run_evaluation(
    prompts_file: str | Path,
    output_dir: str | Path,
    model: str = "embedded",
    num_samples: int = 4,
    limit: int | None = None,
    seed: int = 0,
    data: str | Path | None = None,
    untrained_limit: int = 64,
    text_image_model: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Evaluate ``model`` and the baselines on the prompts; writes ``report.json``, ``report.md``
    and the best SVG per prompt and method (``<method>/<index>.svg``) to ``output_dir``."""
    from generators.files import atomic_write_json, atomic_write_text
    from generators.rewards import get_reward

    from .dataset import read_split
    from .pipeline import SVGPipeline

    prompts = read_prompts(prompts_file)[:limit]
    if not prompts:
        raise ValueError(f"{prompts_file} holds no prompts")
    output = Path(output_dir)
    pipe = SVGPipeline.from_pretrained(model)
    pipe.set_progress_bar_config(disable=True)
    methods: dict[str, tuple[Callable[[str, int], Sample], list[str]]] = {f"{model} (best of {num_samples})": (pipeline_method(pipe, num_samples), prompts)}
    if data is not None:
        train = read_split(data, "train")
        methods["nearest training icon"] = (retrieval_method([r.caption for r in train], [r.svg for r in train]), prompts)
    if untrained_limit and pipe.model is not None:
        untrained = untrained_copy(pipe, seed)
        untrained.set_progress_bar_config(disable=True)
        methods[f"untrained (best of {num_samples})"] = (pipeline_method(untrained, num_samples), prompts[:untrained_limit])

    image_reward = get_reward("text_image", model=text_image_model)
    if not hasattr(image_reward, "embed_images"):
        raise ValueError("the evaluation needs the embedded text-image scorer or a scorer directory")
    results = {}
    for name, (generate, method_prompts) in methods.items():
        log(f"{name}: {len(method_prompts)} prompts")
        samples = run_method(generate, method_prompts, seed, log)
        results[name] = score_samples(samples, image_reward, seed)
        folder = output / name.split(" ")[0].strip("()")
        for index, sample in enumerate(samples):
            if sample.svgs:
                atomic_write_text(folder / f"{index}.svg", sample.svgs[0])
    table = markdown_table(results)
    atomic_write_json(output / "report.json", {"prompts_file": str(prompts_file), "num_samples": num_samples, "seed": seed, "results": results})
    atomic_write_text(output / "report.md", table + "\n")
    log(table)
    return results
