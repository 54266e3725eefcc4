"""Reward-based RL for an SVG LM: GRPO (group-relative policy optimisation) in a compact loop.

    python -m svg.train.grpo --model runs/embedded/final --data DATA -o runs/grpo --steps 200
    accelerate launch -m svg.train.grpo ...   # several GPUs: each process samples its own prompts

Per step: ``--prompts`` training captions, ``--group-size`` completions each (sampled by the same
seeded loop the pipeline uses). Rewards come from ``generators.rewards``, the functions that also
rank the pipeline's candidates: the ``svg_valid`` gate (well-formed, safe, renders, not blank) on
the SVG extracted from the raw output *without* repair, then ``svg_text_image`` (text-image
score) and ``svg_compactness`` (path/length efficiency). A gated sample gets ``--invalid-reward``.
Advantages are rewards standardised within each prompt's group; the loss is the policy gradient
of those advantages plus ``--kl`` times a KL estimate against the frozen starting model.

Why not TRL's ``GRPOTrainer``: it installs under our constraints only with ``datasets`` and
``pyarrow`` added, and samples with ``generate()``, which cannot reuse our seeded,
stop-at-``</svg>`` sampler; the loop below is short enough to read in one sitting.

Checkpoints (``OUTPUT/checkpoint/``: model, optimizer and step) are written every
``--save-steps``; the same command resumes from them after a kill. ``OUTPUT/final`` is the result.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from generators.files import atomic_write_json
from generators.rewards import CompositeReward, get_reward

from .. import rewards as _svg_rewards  # noqa: F401  (registers the svg rewards)
from ..dataset import read_split
from ..decoding import sample
from ..prompts import build_messages, encode_messages
from ..repair import extract_svg


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m svg.train.grpo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a transformers causal LM: local directory or hub id")
    parser.add_argument("--data", required=True, help="a dataset directory from `ctrlgen svg data build`")
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--prompts", type=int, default=4, help="prompts per step (per process)")
    parser.add_argument("--group-size", type=int, default=4, help="completions per prompt")
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--kl", type=float, default=0.04, help="weight of the KL penalty to the starting model (0: none)")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--text-image-weight", type=float, default=1.0)
    parser.add_argument("--compactness-weight", type=float, default=1.0)
    parser.add_argument("--invalid-reward", type=float, default=-1.0)
    parser.add_argument("--text-image-model", default=None, help="CLIP/SigLIP weights for the text-image reward")
    parser.add_argument("--save-steps", type=int, default=50)
    parser.add_argument("--limit", type=int, default=None, help="use at most N training captions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("steps", "prompts", "group_size", "max_new_tokens", "save_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.group_size < 2:
        parser.error("--group-size must be >= 2 (advantages are relative within a group)")
    return args


def build_reward(args: argparse.Namespace) -> CompositeReward:
    terms = {
        "text_image": (get_reward("svg_text_image", model=args.text_image_model), args.text_image_weight / 100),
        "compactness": (get_reward("svg_compactness"), args.compactness_weight),
    }
    return CompositeReward(terms, gates=[get_reward("svg_valid")], name="svg_grpo")


def group_advantages(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Rewards standardised within each group of ``group_size`` (zero where a group is uniform)."""
    grouped = rewards.view(-1, group_size)
    centred = grouped - grouped.mean(-1, keepdim=True)
    return (centred / (grouped.std(-1, keepdim=True) + 1e-4)).flatten()


def sequence_logprobs(model, prompt_ids: torch.Tensor, completions: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probabilities of ``completions`` after ``prompt_ids`` and their mask."""
    width = max(len(c) for c in completions)
    batch = torch.full((len(completions), prompt_ids.shape[-1] + width), pad_id, dtype=torch.long, device=prompt_ids.device)
    mask = torch.zeros((len(completions), width), device=prompt_ids.device)
    batch[:, : prompt_ids.shape[-1]] = prompt_ids
    for row, tokens in enumerate(completions):
        if tokens:
            batch[row, prompt_ids.shape[-1] : prompt_ids.shape[-1] + len(tokens)] = torch.tensor(tokens, device=prompt_ids.device)
            mask[row, : len(tokens)] = 1
    attention = torch.ones_like(batch)
    attention[:, prompt_ids.shape[-1] :] = mask.long()
    logits = model(input_ids=batch, attention_mask=attention).logits[:, prompt_ids.shape[-1] - 1 : -1].float()
    targets = batch[:, prompt_ids.shape[-1] :]
    logprobs = torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return logprobs, mask


def main(argv: Sequence[str] | None = None) -> dict:
    from accelerate import Accelerator
    from transformers import AutoModelForCausalLM, AutoTokenizer

    args = parse_args(argv)
    accelerator = Accelerator()
    output = Path(args.output_dir)
    checkpoint = output / "checkpoint"
    state_file = checkpoint / "state.json"
    resumed = state_file.is_file()
    source = str(checkpoint / "model") if resumed else args.model

    tokenizer = AutoTokenizer.from_pretrained(source)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model = AutoModelForCausalLM.from_pretrained(source)
    # A second load of the starting weights is the frozen reference (even when resuming).
    reference = AutoModelForCausalLM.from_pretrained(args.model).eval().requires_grad_(False) if args.kl > 0 else None
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    model, optimizer = accelerator.prepare(model, optimizer)
    if reference is not None:
        reference.to(accelerator.device)
    start_step = 0
    if resumed:
        state = json.loads(state_file.read_text())
        start_step = state["step"]
        optimizer_file = checkpoint / f"optimizer-{accelerator.process_index}.pt"
        if optimizer_file.is_file():
            optimizer.load_state_dict(torch.load(optimizer_file, map_location=accelerator.device, weights_only=True))

    captions = [r.caption if random.Random(i).random() < 0.6 else r.name for i, r in enumerate(read_split(args.data, "train", limit=args.limit))]
    reward = build_reward(args)
    log_path = output / "log.jsonl"
    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    last: dict = {}
    for step in range(start_step, args.steps):
        # Prompts and sampling seeds depend only on (seed, step, process): a resumed run repeats nothing.
        rng = random.Random(args.seed * 1_000_003 + step * 101 + accelerator.process_index)
        prompts = rng.sample(captions, min(args.prompts, len(captions)))
        unwrapped = accelerator.unwrap_model(model)
        losses, all_rewards, valid = [], [], 0
        optimizer.zero_grad()
        for prompt in prompts:
            prompt_ids = encode_messages(tokenizer, build_messages(prompt)).to(accelerator.device)
            generators = [torch.Generator().manual_seed(rng.randrange(2**31)) for _ in range(args.group_size)]
            unwrapped.eval()
            with torch.no_grad():
                completions = sample(unwrapped, tokenizer, prompt_ids, args.group_size, generators, args.max_new_tokens, args.temperature)
            completions = [c if c else [pad_id] for c in completions]
            texts = [tokenizer.decode(c, skip_special_tokens=True) for c in completions]
            svgs = [extract_svg(t)[0] or "" for t in texts]
            scored = reward(svgs, [prompt] * len(svgs)).scores
            passed = torch.isfinite(scored)
            valid += int(passed.sum())
            rewards = torch.where(passed, scored, torch.full_like(scored, args.invalid_reward))
            all_rewards += rewards.tolist()
            advantages = group_advantages(rewards, args.group_size).to(accelerator.device)
            if advantages.abs().sum() == 0 and args.kl == 0:
                continue  # nothing to learn from a uniform group
            unwrapped.train()
            logprobs, mask = sequence_logprobs(model, prompt_ids, completions, pad_id)
            per_token = -advantages[:, None] * logprobs
            if reference is not None:
                with torch.no_grad():
                    reference_logprobs, _ = sequence_logprobs(reference, prompt_ids, completions, pad_id)
                delta = reference_logprobs - logprobs
                per_token = per_token + args.kl * (delta.exp() - delta - 1)  # k3 estimator, >= 0
            loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1)).mean() / len(prompts)
            accelerator.backward(loss)
            losses.append(float(loss.detach()))
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        last = {
            "step": step + 1,
            "loss": round(sum(losses), 5),
            "reward_mean": round(sum(all_rewards) / max(len(all_rewards), 1), 4),
            "valid_rate": round(valid / max(len(all_rewards), 1), 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
        if accelerator.is_main_process:
            with log_path.open("a") as handle:
                handle.write(json.dumps(last) + "\n")
        if (step + 1) % args.save_steps == 0 or step + 1 == args.steps:
            _save(accelerator, model, tokenizer, optimizer, checkpoint, step + 1)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        final = output / "final"
        accelerator.unwrap_model(model).save_pretrained(final)
        tokenizer.save_pretrained(final)
    return last


def _save(accelerator, model, tokenizer, optimizer, checkpoint: Path, step: int) -> None:
    """Model, tokenizer and optimizer first, the step marker last: a kill mid-save resumes earlier."""
    accelerator.wait_for_everyone()
    checkpoint.mkdir(parents=True, exist_ok=True)
    torch.save(optimizer.state_dict(), checkpoint / f"optimizer-{accelerator.process_index}.pt")
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(checkpoint / "model")
        tokenizer.save_pretrained(checkpoint / "model")
        atomic_write_json(checkpoint / "state.json", {"step": step})
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    main()
