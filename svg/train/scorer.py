"""Train the embedded text–image scorer (``generators.text_image.TextImageScorer``) on rendered icons.

    python -m svg.train.scorer --data DATA -o runs/scorer [--export generators/embedded/text_image]

Icons of the training split are rendered at the scorer's size (cached in ``OUTPUT/renders-*.npy``),
captions are embedded once with the frozen MiniLM encoder, and the image tower and text head are
trained with the symmetric contrastive (InfoNCE) loss. Each step shows every icon with either its
full caption or its name alone, the two kinds of prompt users write. The report holds 100-way
text-to-icon retrieval R@1 and R@5 on the validation and test splits.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import math
import multiprocessing
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from generators.text_image import TextImageScorer

from ..dataset import IconRecord, read_split


def _render_chunk(job: tuple[list[str], int]) -> np.ndarray:
    from ..render import render_svg

    svgs, size = job
    out = np.full((len(svgs), size, size, 3), 255, dtype=np.uint8)
    for index, svg in enumerate(svgs):
        with contextlib.suppress(Exception):  # a failed render stays white; the data were validated
            out[index] = np.asarray(render_svg(svg, size).to_pil())
    return out


def cached_array(cache: Path, rows: int, compute) -> np.ndarray:
    """``compute()`` once, saved atomically to ``cache`` (.npy); reused while it has ``rows`` rows."""
    if cache.is_file():
        cached = np.load(cache)
        if cached.shape[0] == rows:
            return cached
    array = compute()
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache.with_suffix(".tmp.npy"), array)
    cache.with_suffix(".tmp.npy").replace(cache)
    return array


def render_icons(svgs: Sequence[str], size: int, cache: Path, workers: int = 2) -> np.ndarray:
    """(n, size, size, 3) uint8 renders on white, cached in ``cache``."""

    def render() -> np.ndarray:
        chunks = [(list(svgs[i : i + 256]), size) for i in range(0, len(svgs), 256)]
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            return np.concatenate(list(pool.map(_render_chunk, chunks)))

    return cached_array(cache, len(svgs), render)


def text_features(texts: Sequence[str], encoder) -> torch.Tensor:
    return torch.cat([encoder.encode(list(texts[i : i + 256])).pooled.float() for i in range(0, len(texts), 256)])


def cached_features(texts: Sequence[str], encoder, cache: Path) -> torch.Tensor:
    """MiniLM features of ``texts``, cached in ``cache`` (the encoder is frozen)."""
    return torch.from_numpy(cached_array(cache, len(texts), lambda: text_features(texts, encoder).numpy()))


def retrieval_at(scorer: TextImageScorer, pixels: torch.Tensor, features: torch.Tensor, ways: int = 100, seed: int = 0) -> dict[str, float]:
    """Text-to-icon retrieval in disjoint groups of ``ways`` (shuffled with ``seed``): R@1, R@5."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(pixels), generator=generator)
    hits1 = hits5 = total = 0
    scorer.eval()
    with torch.no_grad():
        for start in range(0, len(order) - ways + 1, ways):
            index = order[start : start + ways]
            image = scorer.encode_image(pixels[index].float() / 255)
            text = scorer.encode_text_features(features[index])
            similarity = text @ image.T  # texts x images
            rank = (similarity > similarity.diagonal()[:, None]).sum(-1)
            hits1 += int((rank < 1).sum())
            hits5 += int((rank < 5).sum())
            total += ways
    return {"r@1": hits1 / max(total, 1), "r@5": hits5 / max(total, 1), "queries": total, "ways": ways}


def _as_pixels(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # uint8, converted per batch


def _shift(batch: torch.Tensor, generator: torch.Generator, pixels: int = 4) -> torch.Tensor:
    """Random translation by up to ``pixels`` (white fill): icons sit anywhere in their box."""
    dx, dy = (int(v) for v in torch.randint(-pixels, pixels + 1, (2,), generator=generator))
    shifted = torch.ones_like(batch)
    h, w = batch.shape[-2:]
    shifted[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = batch[..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return shifted


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m svg.train.scorer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--embed-dim", type=int, default=128)
    parser.add_argument("--channels", type=int, nargs="+", default=[32, 64, 128, 192])
    parser.add_argument("--limit", type=int, default=None, help="at most N icons per split (smoke tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export", default=None, metavar="DIR", help="save the trained scorer and its report here")
    parser.add_argument("--init", default=None, metavar="DIR", help="continue from a saved scorer (a second training phase)")
    args = parser.parse_args(argv)

    from generators.text_encoders import load_text_encoder

    torch.manual_seed(args.seed)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    encoder = load_text_encoder("minilm")
    splits: dict[str, list[IconRecord]] = {s: read_split(args.data, s, limit=args.limit) for s in ("train", "val", "test")}
    images = {s: _as_pixels(render_icons([r.svg for r in rs], args.image_size, output / f"renders-{s}-{args.image_size}-{len(rs)}.npy")) for s, rs in splits.items()}
    captions = {s: cached_features([r.caption for r in rs], encoder, output / f"captions-{s}-{len(rs)}.npy") for s, rs in splits.items()}
    names = cached_features([r.name for r in splits["train"]], encoder, output / f"names-train-{len(splits['train'])}.npy")

    if args.init:
        scorer = TextImageScorer.from_pretrained(args.init)
        previous = json.loads((Path(args.init).parent / "report.json").read_text()) if (Path(args.init).parent / "report.json").is_file() else {}
    else:
        scorer = TextImageScorer(embed_dim=args.embed_dim, image_size=args.image_size, channels=args.channels)
        previous = {}
    optimizer = torch.optim.AdamW(scorer.parameters(), lr=args.lr, weight_decay=0.05)
    n = len(splits["train"])
    steps_per_epoch = max(1, n // args.batch_size)
    total = steps_per_epoch * args.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    generator = torch.Generator().manual_seed(args.seed)
    history = []
    started = time.perf_counter()
    for epoch in range(args.epochs):
        scorer.train()
        order = torch.randperm(n, generator=generator)
        losses = []
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size : (step + 1) * args.batch_size]
            pixels = _shift(images["train"][index].float() / 255, generator)
            use_name = torch.rand(len(index), generator=generator) < 0.4
            features = torch.where(use_name[:, None], names[index], captions["train"][index])
            logits = scorer(pixels, features)
            target = torch.arange(len(index))
            loss = (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
        val = retrieval_at(scorer, images["val"], captions["val"])
        history.append({"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4), "val_r@1": round(val["r@1"], 4), "val_r@5": round(val["r@5"], 4)})
        print(json.dumps(history[-1]), flush=True)

    report = {
        "train_icons": n,
        "epochs": args.epochs,
        "seconds": round(time.perf_counter() - started, 1),
        "parameters": scorer.num_parameters(),
        "val": retrieval_at(scorer, images["val"], captions["val"]),
        "test": retrieval_at(scorer, images["test"], captions["test"]),
        "history": history,
        "config": vars(args),
    }
    if previous:
        # A second phase: the report covers both, the first phase's history first.
        report["phases"] = [{k: previous[k] for k in ("epochs", "seconds", "config")}, {"epochs": args.epochs, "seconds": report["seconds"], "config": vars(args)}]
        report["history"] = previous.get("history", []) + [{**h, "epoch": h["epoch"] + previous["epochs"]} for h in history]
        report["epochs"] = previous["epochs"] + args.epochs
        report["seconds"] = round(previous["seconds"] + report["seconds"], 1)
    print(json.dumps({k: report[k] for k in ("val", "test", "seconds")}))
    scorer.save_pretrained(output / "scorer")
    (output / "report.json").write_text(json.dumps(report, indent=1))
    if args.export:
        scorer.save_pretrained(args.export)
        (Path(args.export) / "report.json").write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
