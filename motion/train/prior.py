"""Train the two-person motion prior (InterGen's denoiser and diffusion) on a built motion dataset.

    python -m motion.train.prior --data DATA -o RUN --size small --steps 20000
    accelerate launch -m motion.train.prior --data DATA -o RUN --size intergen --text-encoder openai/clip-vit-large-patch14-336

``DATA`` comes from ``ctrlgen motion data build``, or is InterHuman in InterGen's layout
(``motions_processed/person1|person2/*.npy``, ``annots/*.txt``, ``train.txt``; InterGen's
``global_mean.npy``/``global_std.npy`` are used when they sit next to it or one folder up). The run writes ``RUN/normalizer.safetensors``,
``RUN/checkpoint/`` (model, optimizer, ``state.json``) every ``--save-steps`` and ``RUN/final``
(``denoiser/`` and ``normalizer.safetensors``);
the same command resumes from the last checkpoint. The loss is InterGen's: the x0 error in
normalised feature space for every timestep, plus joint-velocity and foot-contact errors in metres
for t <= 700 (its ``T_BAR``), with the text dropped (zero feature) for 10% of samples so
classifier-free guidance works.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from generators.files import atomic_write_json

from ..diffusion import GaussianDiffusion
from ..features import CONTACTS, FEATURE_DIM, POSITIONS, FeatureNormalizer
from ..models import InterDenoiser
from .data import LengthGroupedBatches, MotionPairs, fit_normalizer, trim_padding

MODEL_SIZES = {
    "tiny": {"latent_dim": 64, "ff_size": 128, "num_layers": 2, "num_heads": 4},
    "embedded": {"latent_dim": 128, "ff_size": 256, "num_layers": 4, "num_heads": 4},
    "small": {"latent_dim": 256, "ff_size": 512, "num_layers": 4, "num_heads": 8},
    "intergen": {"latent_dim": 1024, "ff_size": 2048, "num_layers": 8, "num_heads": 8},
}
T_BAR = 700
NULL_TEXT_PROBABILITY = 0.1
LOSS_WEIGHTS = {"simple": 1.0, "velocity": 30.0, "foot_contact": 30.0}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m motion.train.prior", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a dataset from `ctrlgen motion data build`, or InterHuman in InterGen's layout")
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--size", choices=sorted(MODEL_SIZES), default="small")
    parser.add_argument("--text-encoder", default="minilm", help="minilm (offline), or a CLIP model dir / hub id")
    parser.add_argument("--frames", type=int, default=120, help="frames per training window (30 fps)")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--weight-decay", type=float, default=2e-5)
    parser.add_argument("--warmup-steps", type=int, default=500)
    parser.add_argument("--save-steps", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=None, help="use at most N training samples (smoke tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.frames < 2 or args.steps < 1 or args.batch_size < 1:
        parser.error("--frames must be >= 2 and --steps, --batch-size >= 1")
    return args


def text_features(encoder_name: str, captions: list[str]) -> tuple[dict[str, int], torch.Tensor]:
    """Pooled features of every caption, computed once: (caption -> row, (n, dim))."""
    from generators.text_encoders import load_text_encoder

    encoder = load_text_encoder(encoder_name)
    return {caption: i for i, caption in enumerate(captions)}, encoder.encode(captions).pooled.float().cpu()


def prior_loss(model, diffusion: GaussianDiffusion, normalizer: FeatureNormalizer, motion: torch.Tensor, mask: torch.Tensor,
               text: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """InterGen's training terms for one batch of normalised (B, T, 524) motion."""
    batch = motion.shape[0]
    timesteps = torch.randint(0, diffusion.num_train_timesteps, (batch,), generator=generator).to(motion.device)
    noise = torch.randn(motion.shape, generator=generator).to(motion.device)
    noisy = diffusion.add_noise(motion, noise, timesteps)
    prediction = model(noisy, timesteps, text, mask)
    weight = mask[..., None].float()
    simple = ((prediction - motion) ** 2 * weight).sum() / (weight.sum() * motion.shape[-1]).clamp_min(1)

    late = (timesteps <= T_BAR).float()  # the geometric terms only where the sample is legible

    def per_person(x):
        return normalizer.denormalize(x.reshape(batch, -1, 2, FEATURE_DIM))

    predicted, target = per_person(prediction), per_person(motion)
    joints_p = predicted[..., POSITIONS].reshape(batch, -1, 2, 22, 3)
    joints_t = target[..., POSITIONS].reshape(batch, -1, 2, 22, 3)
    pairs = (mask[:, 1:] & mask[:, :-1]).float() * late[:, None]  # (B, T-1): consecutive real frames, late steps
    velocity_error = (((joints_p[:, 1:] - joints_p[:, :-1]) - (joints_t[:, 1:] - joints_t[:, :-1])) ** 2).sum(-1).mean((-1, -2))
    velocity = (velocity_error * pairs).sum() / pairs.sum().clamp_min(1)
    # feet that the data says are planted should not move in the prediction
    contact = (target[:, :-1, :, CONTACTS] > 0.5).float() * pairs[..., None, None]  # (B, T-1, 2, 4)
    feet = joints_p[:, 1:, :, [7, 10, 8, 11]] - joints_p[:, :-1, :, [7, 10, 8, 11]]
    foot = ((feet**2).sum(-1) * contact).sum() / contact.sum().clamp_min(1)
    total = LOSS_WEIGHTS["simple"] * simple + LOSS_WEIGHTS["velocity"] * velocity + LOSS_WEIGHTS["foot_contact"] * foot
    return {"loss": total, "simple": simple.detach(), "velocity": velocity.detach(), "foot_contact": foot.detach()}


def main(argv: Sequence[str] | None = None) -> dict:
    from accelerate import Accelerator

    args = parse_args(argv)
    accelerator = Accelerator()
    torch.manual_seed(args.seed + accelerator.process_index)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    checkpoint = output / "checkpoint"
    state_file = checkpoint / "state.json"

    normalizer_file = output / "normalizer.safetensors"
    if not normalizer_file.is_file():
        if accelerator.is_main_process:
            fit_normalizer(args.data, limit=args.limit).save(normalizer_file)
        accelerator.wait_for_everyone()
    normalizer = FeatureNormalizer.load(normalizer_file)
    dataset = MotionPairs(args.data, "train", args.frames, normalizer, seed=args.seed, limit=args.limit)
    index, features = text_features(args.text_encoder, dataset.captions())

    resumed = state_file.is_file()
    if resumed:
        model = InterDenoiser.from_pretrained(checkpoint / "model")
    else:
        model = InterDenoiser(**MODEL_SIZES[args.size], text_dim=features.shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(args.warmup_steps, 1)))
    batches = LengthGroupedBatches(dataset, args.batch_size, seed=args.seed, drop_last=len(dataset) > args.batch_size)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, collate_fn=trim_padding)
    model, optimizer, loader, schedule = accelerator.prepare(model, optimizer, loader, schedule)
    start_step = 0
    if resumed:
        start_step = json.loads(state_file.read_text())["step"]
        optimizer_file = checkpoint / f"optimizer-{accelerator.process_index}.pt"
        if optimizer_file.is_file():
            saved = torch.load(optimizer_file, map_location=accelerator.device, weights_only=True)
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])

    diffusion = GaussianDiffusion()
    log_path = output / "log.jsonl"
    started = time.perf_counter()
    step, last = start_step, {}
    model.train()
    while step < args.steps:
        dataset.epoch = batches.epoch = step  # new crops, swaps and batches every pass, reproducible from the step
        for batch in loader:
            if step >= args.steps:
                break
            text = features[[index[c] for c in batch["caption"]]].to(accelerator.device)
            keep = (torch.rand(text.shape[0]) >= NULL_TEXT_PROBABILITY).float().to(text.device)[:, None]
            terms = prior_loss(model, diffusion, normalizer, batch["motion"], batch["mask"], text * keep)
            optimizer.zero_grad()
            accelerator.backward(terms["loss"])
            accelerator.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            schedule.step()
            step += 1
            last = {"step": step, **{k: round(float(v.detach()), 5) for k, v in terms.items()}, "seconds": round(time.perf_counter() - started, 1)}
            if accelerator.is_main_process and (step % 50 == 0 or step == args.steps):
                with log_path.open("a") as handle:
                    handle.write(json.dumps(last) + "\n")
            if step % args.save_steps == 0 or step == args.steps:
                _save(accelerator, model, optimizer, schedule, checkpoint, step)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        final = output / "final"
        accelerator.unwrap_model(model).save_pretrained(final / "denoiser")
        normalizer.save(final / "normalizer.safetensors")
        (final / "training.json").write_text(json.dumps({**vars(args), "last": last}, indent=1) + "\n")
    return last


def _save(accelerator, model, optimizer, schedule, checkpoint: Path, step: int) -> None:
    """Model and optimizer first, the step marker last: a kill mid-save resumes from the one before."""
    accelerator.wait_for_everyone()
    checkpoint.mkdir(parents=True, exist_ok=True)
    torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()}, checkpoint / f"optimizer-{accelerator.process_index}.pt")
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(checkpoint / "model")
        atomic_write_json(checkpoint / "state.json", {"step": step})
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    main()
