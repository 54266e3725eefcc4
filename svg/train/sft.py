"""Curriculum fine-tuning of any transformers causal LM on canonical SVG (the SVGen recipe).

    python -m svg.train.sft --model Qwen/Qwen2.5-Coder-7B-Instruct --data DATA -o runs/qwen
    accelerate launch -m svg.train.sft --model ./local-model --data DATA -o runs/x   # several GPUs

Stages run in order (``--stages mono,colour,cot``); each writes ``OUTPUT/<stage>/`` with Trainer
checkpoints and, when done, ``OUTPUT/<stage>/final`` (model + tokenizer). Running the same
command again resumes: finished stages are skipped and an unfinished one continues from its last
checkpoint. ``OUTPUT/final`` holds the last stage's model.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from ..dataset import read_split
from .data import STAGES, SVGExamples, collate

DONE_MARKER = "DONE.json"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m svg.train.sft", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a transformers causal LM: local directory or hub id")
    parser.add_argument("--data", required=True, help="a dataset directory from `ctrlgen svg data build`")
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, from {','.join(STAGES)}")
    parser.add_argument("--max-steps", type=int, nargs="+", default=None, metavar="N",
                        help="optimizer steps per stage (one value for all, or one per stage); default: --epochs")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--warmup-ratio", type=float, default=0.03)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--max-length", type=int, default=1024, help="examples longer than this are dropped")
    parser.add_argument("--limit", type=int, default=None, help="use at most N training icons (smoke tests)")
    parser.add_argument("--save-steps", type=int, default=200)
    parser.add_argument("--logging-steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision (GPUs that support it)")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="trade compute for memory (large models)")
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if not stages or unknown:
        parser.error(f"--stages must name stages from {STAGES}, got {args.stages!r}")
    args.stages = stages
    if args.max_steps is not None and len(args.max_steps) not in (1, len(stages)):
        parser.error(f"--max-steps takes one value or one per stage ({len(stages)}), got {len(args.max_steps)}")
    return args


def _steps_for(args: argparse.Namespace, index: int) -> int:
    if args.max_steps is None:
        return -1
    return args.max_steps[0] if len(args.max_steps) == 1 else args.max_steps[index]


def train_stage(args: argparse.Namespace, stage: str, index: int, model_path: str, records, stage_dir: Path) -> dict:
    """One curriculum stage with transformers' Trainer (accelerate handles devices and processes)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path)
    dataset = SVGExamples(tokenizer, records, stage, args.max_length, seed=args.seed + index)
    if len(dataset) == 0:
        raise ValueError(f"stage {stage!r} has no examples of at most {args.max_length} tokens; raise --max-length")
    training_args = TrainingArguments(
        output_dir=str(stage_dir),
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        learning_rate=args.lr,
        lr_scheduler_type="cosine",
        warmup_steps=args.warmup_ratio,  # a float below 1 is a ratio of the total steps
        weight_decay=args.weight_decay,
        num_train_epochs=args.epochs,
        max_steps=_steps_for(args, index),
        save_steps=args.save_steps,
        save_total_limit=2,
        logging_steps=args.logging_steps,
        report_to=[],
        seed=args.seed,
        bf16=args.bf16,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        train_sampling_strategy="group_by_length",  # less padding: a large saving on CPUs
        remove_unused_columns=False,
        disable_tqdm=True,
        **({"activation_checkpointing": True} if args.gradient_checkpointing else {}),
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        data_collator=functools.partial(collate, pad_token_id=tokenizer.pad_token_id),
    )
    last = get_last_checkpoint(str(stage_dir)) if stage_dir.is_dir() else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    final = stage_dir / "final"
    if trainer.is_world_process_zero():
        trainer.save_model(str(final))
        tokenizer.save_pretrained(str(final))
        losses = [{"step": e["step"], "loss": e["loss"]} for e in trainer.state.log_history if "loss" in e]
        summary = {
            "stage": stage,
            "examples": len(dataset),
            "dropped_longer_than_max_length": dataset.dropped,
            "steps": trainer.state.global_step,
            "train_loss": result.training_loss,
            "seconds": round(time.perf_counter() - started, 1),
            "resumed_from": last,
            "losses": losses,
        }
        (stage_dir / DONE_MARKER).write_text(json.dumps(summary, indent=1))
        return summary
    return {}


def main(argv: Sequence[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    records = read_split(args.data, "train", limit=args.limit)
    model_path = args.model
    summaries = []
    for index, stage in enumerate(args.stages):
        stage_dir = output / stage
        marker = stage_dir / DONE_MARKER
        if marker.is_file():
            summaries.append(json.loads(marker.read_text()))
            print(f"stage {stage}: done earlier, skipped")
        else:
            summary = train_stage(args, stage, index, model_path, records, stage_dir)
            summaries.append(summary)
            if summary:
                print(f"stage {stage}: {summary['steps']} steps, loss {summary['train_loss']:.4f}, {summary['seconds']} s")
        model_path = str(stage_dir / "final")
    from accelerate import PartialState

    final = output / "final"
    if PartialState().is_main_process and Path(model_path).is_dir():
        if final.exists():
            shutil.rmtree(final)
        shutil.copytree(model_path, final)
        (output / "curriculum.json").write_text(json.dumps(summaries, indent=1))
    return summaries


if __name__ == "__main__":
    main()
