"""Training examples for the SVGen curriculum: chat-formatted, tokenized, prompt tokens masked.

Stages (SVGen §3): ``mono`` (monochrome icons, direct answers), ``colour`` (colour icons, with a
share of monochrome ones replayed so the first stage is not forgotten) and ``cot`` (every icon; half
answered as ``<think>`` reasoning about shapes, layout and colours, then the SVG, half directly).
Captions vary per example (full caption, name only, "a red heart"-style short prompts) so the
model answers both the dataset's captions and the short prompts users type.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import torch

from ..dataset import IconRecord
from ..prompts import build_messages, render_plain

STAGES = ("mono", "colour", "cot")
IGNORE_INDEX = -100
_NUMBER = re.compile(r"-?\d+")


def prompt_variant(record: IconRecord, rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.6:
        return record.caption
    if draw < 0.85 or not record.colours:
        return record.name
    return f"a {record.colours[0]} {record.name}"


def _where(x: float, y: float) -> str:
    row = "top" if y < 67 else "bottom" if y > 133 else "middle"
    column = "left" if x < 67 else "right" if x > 133 else "centre"
    return "centre" if (row, column) == ("middle", "centre") else f"{row} {column}".replace("middle ", "")


def describe_svg(svg: str, colours: Sequence[str] = ()) -> str:
    """The ``<think>`` text of the cot stage: shapes, their size and place, and the colours."""
    shapes = []
    for data in re.findall(r' d="([^"]*)"', svg):
        numbers = [int(n) for n in _NUMBER.findall(data)]
        xs, ys = numbers[0::2], numbers[1::2]
        if not xs or not ys:
            continue
        width, height = max(xs) - min(xs), max(ys) - min(ys)
        size = "large" if max(width, height) > 120 else "small" if max(width, height) < 50 else "medium"
        shapes.append(f"{size} shape {_where((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)}")
    listed = "; ".join(dict.fromkeys(shapes[:6]))
    text = f"{len(shapes)} shape{'s' if len(shapes) != 1 else ''}: {listed}"
    if colours:
        text += f". colours: {', '.join(colours)}"
    return f"<think>{text}.</think>"


def chat_text(tokenizer, messages: Sequence[dict[str, str]], add_generation_prompt: bool) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(list(messages), add_generation_prompt=add_generation_prompt, tokenize=False)
    text = render_plain(messages)
    return text if add_generation_prompt else text.removesuffix("\nassistant: ")


def encode_example(tokenizer, prompt: str, answer: str, prompt_format: str) -> dict[str, list[int]]:
    """input_ids and labels (prompt tokens set to -100) for one (prompt, answer) pair."""
    messages = build_messages(prompt, prompt_format)
    prompt_text = chat_text(tokenizer, messages, add_generation_prompt=True)
    full_text = chat_text(tokenizer, [*messages, {"role": "assistant", "content": answer}], add_generation_prompt=False)
    if not full_text.startswith(prompt_text):
        # Templates that render the assistant turn differently from the generation prompt.
        full_text = prompt_text + answer
    completion = full_text[len(prompt_text) :]
    if not getattr(tokenizer, "chat_template", None) and tokenizer.eos_token:
        completion += tokenizer.eos_token
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    return {"input_ids": prompt_ids + completion_ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + completion_ids}


def stage_records(records: Sequence[IconRecord], stage: str, seed: int = 0, replay: float = 0.3) -> list[tuple[IconRecord, str]]:
    """(record, prompt_format) pairs of one curriculum stage, shuffled."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    rng = random.Random(seed)
    mono = [r for r in records if not r.colour]
    colour = [r for r in records if r.colour]
    if stage == "mono":
        chosen = [(r, "direct") for r in mono]
    elif stage == "colour":
        chosen = [(r, "direct") for r in colour] + [(r, "direct") for r in rng.sample(mono, min(len(mono), int(replay * len(colour)) + 1))]
    else:
        # Half the icons answered directly keep the direct format (the pipeline's default) alive.
        chosen = [(r, "cot" if rng.random() < 0.5 else "direct") for r in records]
    rng.shuffle(chosen)
    return chosen


class SVGExamples(torch.utils.data.Dataset):
    """Tokenized examples of one stage; examples longer than ``max_length`` are dropped, not cut
    (a cut SVG would teach the model to stop mid-path)."""

    def __init__(self, tokenizer, records: Sequence[IconRecord], stage: str, max_length: int, seed: int = 0) -> None:
        rng = random.Random(seed + 1)
        self.examples = []
        self.dropped = 0
        for record, prompt_format in stage_records(records, stage, seed):
            answer = record.svg if prompt_format == "direct" else describe_svg(record.svg, record.colours) + "\n" + record.svg
            example = encode_example(tokenizer, prompt_variant(record, rng), answer, prompt_format)
            if len(example["input_ids"]) > max_length:
                self.dropped += 1
                continue
            self.examples.append(example)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.examples[index]


def collate(examples: Sequence[dict[str, list[int]]], pad_token_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e["input_ids"]) for e in examples)
    input_ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        input_ids[row, :n] = torch.tensor(example["input_ids"])
        labels[row, :n] = torch.tensor(example["labels"])
        attention[row, :n] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}
