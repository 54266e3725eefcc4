"""SVG rewards, registered in ``generators.rewards``: ranking candidates and RL training share them.

- ``svg_valid``: 1 when the SVG validates (well-formed, safe, renders, not blank), else 0: a gate.
- ``svg_compactness``: ``1 / (1 + tokens / scale)``, preferring shorter documents.
- ``svg_text_image``: the shared ``text_image`` reward (embedded scorer, or CLIP/SigLIP weights)
  on the SVG's render; an SVG that does not render scores -100, the lowest cosine.
"""

from __future__ import annotations

import functools

from generators.rewards import FunctionReward, Reward, get_reward, register_reward

from .validation import ValidationReport, validate_svg


@functools.lru_cache(maxsize=256)
def cached_report(svg: str) -> ValidationReport:
    """Validation (with the render check) of ``svg``, cached: gates and terms ask about the same text."""
    return validate_svg(svg, render=True)


@register_reward("svg_valid")
def svg_valid_reward() -> Reward:
    return FunctionReward("svg_valid", lambda samples, conditions: [float(cached_report(s).ok) for s in samples])


@register_reward("svg_compactness")
def svg_compactness_reward(scale: float = 1000.0) -> Reward:
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return FunctionReward(
        "svg_compactness",
        lambda samples, conditions: [1.0 / (1.0 + cached_report(s).stats.tokens / scale) for s in samples],
    )


@register_reward("svg_text_image")
def svg_text_image_reward(model: str | None = None, size: int = 224) -> Reward:
    from .render import RenderError, render_svg

    image_reward = get_reward("text_image", model=model)

    def score(samples, conditions):
        rendered, index = [], []
        for i, svg in enumerate(samples):
            try:
                rendered.append(render_svg(svg, size).to_pil())
                index.append(i)
            except RenderError:
                continue
        scores = [-100.0] * len(samples)
        if rendered:
            values = image_reward(rendered, [conditions[i] for i in index]).scores.tolist()
            for i, value in zip(index, values, strict=True):
                scores[i] = value
        return scores

    return FunctionReward("svg_text_image", score)
