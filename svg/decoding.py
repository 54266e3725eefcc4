"""Token sampling for any transformers causal LM, reproducible from ``torch.Generator`` objects.

transformers' ``generate`` cannot take a ``torch.Generator``; this loop can, so one seed gives
one output and sample ``i`` of a batch drawn with ``generator[i]`` equals that sample drawn alone.
It stops a row at end-of-sequence or once ``</svg>`` appears, and caps new tokens.

Speed matters here: for the embedded model the forward pass is a few milliseconds, so sampling
itself must not cost as much again. Each step draws one uniform number per row and inverts the
row's cumulative distribution (no ``torch.multinomial`` per row), finds the top-p nucleus inside
a short top-k list whenever that list already holds the nucleus (no full sort of the vocabulary),
and drops finished rows from the batch and the KV cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

STOP_TEXT = "</svg>"
SHORTLIST = 64  # tokens searched for the top-p nucleus before falling back to a full sort


def _nucleus(probs: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities, token ids) of the smallest set holding ``top_p`` of the mass, per row.

    Exactly the nucleus a full descending sort gives; rows are padded with zero probabilities.
    """
    if top_p >= 1.0:
        return probs, torch.arange(probs.shape[-1], device=probs.device).expand_as(probs)
    shortlist = min(SHORTLIST, probs.shape[-1])
    sorted_probs, order = probs.topk(shortlist, dim=-1)
    if not bool((sorted_probs.sum(-1) >= top_p).all()):
        sorted_probs, order = probs.sort(dim=-1, descending=True)
    keep = sorted_probs.cumsum(-1) - sorted_probs < top_p  # always keeps the most likely token
    return sorted_probs * keep, order


def _draw(probs: torch.Tensor, token_ids: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draw: row ``i`` takes the token where its cumulative mass first exceeds ``uniforms[i]``."""
    cdf = probs.cumsum(-1)
    threshold = (uniforms.to(cdf.dtype) * cdf[:, -1]).unsqueeze(-1)
    index = torch.searchsorted(cdf, threshold, right=True).clamp_(max=probs.shape[-1] - 1)
    return token_ids.gather(-1, index).squeeze(-1)


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
    """New token ids for ``num_samples`` continuations of ``prompt_ids`` (shape (1, length)).

    ``on_step(step, tokens)`` sees the ``num_samples`` tokens chosen at each step; rows already
    finished hold the end-of-sequence id (or 0 when the tokenizer has none).
    """
    device = prompt_ids.device
    generators = list(generator) if isinstance(generator, Sequence) else None
    eos = tokenizer.eos_token_id
    filler = eos if eos is not None else 0
    tokens: list[list[int]] = [[] for _ in range(num_samples)]
    rows = list(range(num_samples))  # sample index of each row still in the batch
    current = prompt_ids.repeat(num_samples, 1)
    # One unpadded prompt for every row, so no attention mask is needed: the model's causal
    # attention over its cache is exact, and skipping the mask saves building one per step.
    past = None
    for step in range(max_new_tokens):
        out = model(input_ids=current, past_key_values=past, use_cache=True, logits_to_keep=1)
        past = out.past_key_values
        logits = out.logits[:, -1, :].float()
        if temperature <= 0:
            chosen = logits.argmax(-1).cpu()
        else:
            probs, token_ids = _nucleus(torch.softmax(logits / temperature, dim=-1), top_p)
            if generators is not None:
                uniforms = torch.cat([torch.rand(1, generator=generators[row]) for row in rows])
            else:
                # one generator for the batch: a draw for every sample each step, so the stream
                # does not depend on which rows have finished
                uniforms = torch.rand(num_samples, generator=generator)[rows]
            chosen = _draw(probs.cpu(), token_ids.cpu(), uniforms)
        finished = []
        for position, row in enumerate(rows):
            token = int(chosen[position])
            if token == eos:
                finished.append(position)
                continue
            tokens[row].append(token)
            if stop_text in tokenizer.decode(tokens[row][-16:]):
                finished.append(position)
        if on_step is not None:
            step_tokens = torch.full((num_samples,), filler, dtype=torch.long)
            step_tokens[rows] = chosen
            on_step(step, step_tokens)
        if finished:
            kept = [position for position in range(len(rows)) if position not in finished]
            if not kept:
                break
            rows = [rows[position] for position in kept]
            chosen = chosen[kept]
            past.batch_select_indices(torch.tensor(kept, device=device))
        current = chosen.to(device).unsqueeze(-1)
    return tokens
