"""Training recipes end to end on tiny models: tokenizer, curriculum SFT (with resume), GRPO (with resume).

The models are tiny and train for a few steps: these check that the real code paths run,
checkpoint and resume, not what quality they reach (that is bench/svg_quality.py's job).
"""

from __future__ import annotations

import json
import re
import string

import pytest
import torch
from icon_data import build_fixture_dataset
from tiny_models import char_tokenizer

from svg.dataset import read_split
from svg.train import embedded, grpo, sft
from svg.train.data import IGNORE_INDEX, describe_svg, encode_example
from svg.train.tokenizer import train_svg_tokenizer

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-data")
    build_fixture_dataset(root / "data", root / "cache")
    return root / "data"


@pytest.fixture(scope="module")
def embedded_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("embedded-run")
    embedded.main([
        "--data", str(data), "-o", str(out / "run"), "--size", "tiny", "--vocab-size", "600", "--max-length", "1024",
        "--max-steps", "2", "--batch-size", "2", "--lr", "1e-3", "--save-steps", "2", "--logging-steps", "1",
        "--export", str(out / "pipeline"), "--max-new-tokens", "24",
    ])
    return out


def test_tokenizer_is_number_aware(data):
    records = read_split(data, "train")
    tokenizer = train_svg_tokenizer([t for r in records for t in (r.caption, r.svg)], vocab_size=600)
    pieces = tokenizer.tokenize("M158 188C175 188")
    assert pieces[0] == "M" and not any(re.search(r"[A-Za-z]\d|\d[A-Za-z]", p) for p in pieces)
    assert tokenizer.decode(tokenizer("M158 188C175 188")["input_ids"]) == "M158 188C175 188"
    assert len(tokenizer.tokenize(" 100")) == 1  # a frequent coordinate is one token
    chat = tokenizer.apply_chat_template(
        [{"role": "system", "content": "... <think></think> ..."}, {"role": "user", "content": "Draw: a heart"}],
        add_generation_prompt=True, tokenize=False,
    )
    assert chat == "<|cot|><|user|>Draw: a heart<|assistant|>"


def test_describe_svg_names_shapes_and_colours():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200"><path d="M120 10L190 10L190 80Z" fill="#ff0000"/><path d="M10 10L30 30Z" fill="#000000"/></svg>'
    assert describe_svg(svg, ["red"]) == "<think>2 shapes: medium shape top right; small shape top left. colours: red.</think>"


def test_embedded_recipe_runs_every_stage_and_exports_a_pipeline(embedded_run):
    from svg import SVGPipeline

    curriculum = json.loads((embedded_run / "run" / "curriculum.json").read_text())
    assert [s["stage"] for s in curriculum] == ["mono", "colour", "cot"]
    assert all(s["steps"] == 2 and s["examples"] > 0 for s in curriculum)
    pipe = SVGPipeline.from_pretrained(embedded_run / "pipeline")
    pipe.set_progress_bar_config(disable=True)
    out = pipe("a heart", num_samples=2, generator=torch.Generator().manual_seed(0))
    # Two steps of training: most candidates are rejected, and rejected ones are resampled (twice at most).
    assert len(out.svgs) <= 2 and 2 <= len(out.texts) <= 6 and len(out.svgs) + len(out.rejected) <= len(out.texts)


def test_sft_resumes_from_its_last_checkpoint(data, embedded_run, tmp_path):
    model = str(embedded_run / "run" / "initial")
    common = ["--model", model, "--data", str(data), "-o", str(tmp_path), "--stages", "mono", "--batch-size", "2", "--save-steps", "2"]
    sft.main([*common, "--max-steps", "2"])
    assert (tmp_path / "mono" / "checkpoint-2").is_dir()
    # As after a kill before the stage finished: no marker, no final model.
    (tmp_path / "mono" / sft.DONE_MARKER).unlink()
    summary = sft.main([*common, "--max-steps", "4"])[0]
    assert summary["resumed_from"].endswith("checkpoint-2") and summary["steps"] == 4
    assert sft.main([*common, "--max-steps", "4"])[0]["steps"] == 4  # finished stages are skipped


def test_sft_fine_tunes_a_chat_model_in_hub_layout(data, tmp_path):
    """A tiny random Qwen2 with a ChatML template, saved like a hub checkpoint: the path a real
    3B-7B model takes (tested here without weights)."""
    from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

    tokenizer = char_tokenizer(string.printable)
    tokenizer.chat_template = CHATML
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(tmp_path / "hub-model")
    tokenizer.save_pretrained(tmp_path / "hub-model")

    example = encode_example(tokenizer, "a heart", "<svg/>", "direct")
    masked = example["labels"].count(IGNORE_INDEX)
    assert masked > 100  # the system prompt and the user turn are prompt, not target
    assert tokenizer.decode([t for t in example["labels"] if t != IGNORE_INDEX]) == "<svg/><|im_end|>\n"

    sft.main(["--model", str(tmp_path / "hub-model"), "--data", str(data), "-o", str(tmp_path / "run"), "--stages", "mono,cot",
              "--max-steps", "1", "--batch-size", "1", "--max-length", "4096", "--limit", "4"])
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "final").config.model_type == "qwen2"


def test_group_advantages_are_relative_within_groups():
    rewards = torch.tensor([1.0, 3.0, -1.0, -1.0])
    advantages = grpo.group_advantages(rewards, 2)
    assert advantages[0] < 0 < advantages[1] and advantages[2:].abs().max() == 0


def test_grpo_runs_checkpoints_and_resumes(data, embedded_run, tmp_path):
    common = ["--model", str(embedded_run / "run" / "final"), "--data", str(data), "-o", str(tmp_path),
              "--prompts", "2", "--group-size", "2", "--max-new-tokens", "16", "--save-steps", "1", "--lr", "1e-4"]
    grpo.main([*common, "--steps", "2"])
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(0 <= r["valid_rate"] <= 1 for r in rows)
    assert json.loads((tmp_path / "checkpoint" / "state.json").read_text())["step"] == 2
    grpo.main([*common, "--steps", "3"])
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert (tmp_path / "final" / "config.json").is_file()


def test_grpo_rejects_groups_of_one(data):
    with pytest.raises(SystemExit):
        grpo.parse_args(["--model", "x", "--data", str(data), "-o", "y", "--group-size", "1"])


def test_eval_cli_reports_model_and_baselines(data, embedded_run, tmp_path):
    import subprocess
    import sys

    from svg.evaluation import read_prompts

    prompts = tmp_path / "prompts.csv"
    prompts.write_text("id,desc\n1,a heart\n2,arrow left\n3,\"a red circle, filled\"\n")
    assert read_prompts(prompts) == ["a heart", "arrow left", "a red circle, filled"]
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "svg", "eval", str(prompts), "-o", str(tmp_path / "eval"),
         "--model", str(embedded_run / "pipeline"), "--n", "2", "--data", str(data), "--untrained-limit", "2"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    methods = list(report["results"])
    assert len(methods) == 3 and methods[1] == "nearest training icon"
    retrieval = report["results"]["nearest training icon"]
    assert retrieval["valid_rate"] == 1.0 and retrieval["prompts"] == 3 and retrieval["pool"] == 3
    assert report["results"][methods[2]]["prompts"] == 2
    for metrics in report["results"].values():
        assert 0 <= metrics["r_precision_top1"] <= metrics["r_precision_top3"] <= 1
    assert "| nearest training icon |" in (tmp_path / "eval" / "report.md").read_text()
