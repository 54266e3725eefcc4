"""Token sampling for any transformers causal LM, reproducible from ``torch.Generator`` objects.

transformers' ``generate`` cannot take a ``torch.Generator``; this loop can, so one seed gives
one output and sample ``i`` of a batch drawn with ``generator[i]`` equals that sample drawn alone.
It stops a row at end-of-sequence or once ``</svg>`` appears, and caps new tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

STOP_TEXT = "</svg>"


def _filter_top_p(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    if top_p >= 1.0:
        return probs
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    keep = sorted_probs.cumsum(-1) - sorted_probs < top_p  # always keeps the most likely token
    sorted_probs = sorted_probs * keep
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs)


@torch.no_grad()
def sample(
    model,
    tokenizer,
    prompt_ids: torch.Tensor,
    num_samples: int,
    generator: torch.Generator | Sequence[torch.Generator] | None,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    stop_text: str = STOP_TEXT,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
) -> list[list[int]]:
    """New token ids for ``num_samples`` continuations of ``prompt_ids`` (shape (1, length))."""
    device = prompt_ids.device
    generators = list(generator) if isinstance(generator, Sequence) else None
    eos = tokenizer.eos_token_id
    tokens: list[list[int]] = [[] for _ in range(num_samples)]
    active = [True] * num_samples
    current = prompt_ids.repeat(num_samples, 1)
    attention = torch.ones_like(current)
    past = None
    for step in range(max_new_tokens):
        out = model(input_ids=current, attention_mask=attention, past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[:, -1, :].float()
        if temperature <= 0:
            chosen = logits.argmax(-1)
        else:
            probs = _filter_top_p(torch.softmax(logits / temperature, dim=-1), top_p).cpu()
            if generators is not None:
                chosen = torch.cat([torch.multinomial(probs[i], 1, generator=generators[i]) for i in range(num_samples)])
            else:
                chosen = torch.multinomial(probs, 1, generator=generator).flatten()
        chosen = chosen.to(device)
        for i in range(num_samples):
            if not active[i]:
                continue
            token = int(chosen[i])
            if token == eos:
                active[i] = False
                continue
            tokens[i].append(token)
            if stop_text in tokenizer.decode(tokens[i][-16:]):
                active[i] = False
        if on_step is not None:
            on_step(step, chosen)
        if not any(active):
            break
        current = chosen.unsqueeze(-1)
        attention = torch.cat([attention, torch.ones_like(current)], dim=-1)
    return tokens
