"""Planning with a transformers vision-language model: a tiny random LLaVA-architecture model
saved like a hub checkpoint, loaded through the Auto classes offline.

One copy is taught (a few hundred optimiser steps on the planner's own chat inputs) to answer
one instruction with a valid plan, so the whole path is exercised for real: chat template, image
tokens, greedy generation, decoding, repair, validation, and the edit that follows.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import tiny_vlm

from editing import EditPipeline, EditPlan, PlanError, VLMPlanner, compose
from editing.vlm import SYSTEM_PROMPT

INSTRUCTION = "get rid of the red circle"
# a sloppy answer, as models give them: prose around it, "colour", a category synonym
ANSWER = ('Here is the plan: {"category": "delete", "target": {"description": "the red circle", "colour": "red", '
          '"noun": "circle"}, "prompt": "empty background", "rationale": "the instruction removes the circle"}')


def scene() -> np.ndarray:
    return compose((160, 120), (245, 238, 220), [("circle", "red", (40, 60), 20), ("square", "blue", (120, 60), 20)]).image


def teach(planner: VLMPlanner, image: np.ndarray, answer: str, steps: int = 400) -> None:
    """Fine-tune ``planner.model`` until it answers the first turn for INSTRUCTION with ``answer``."""
    messages = planner.first_messages(INSTRUCTION)
    prompt_length = planner.chat_inputs(messages, image)["input_ids"].shape[1]
    inputs = planner.chat_inputs(messages, image, answer=answer)
    labels = inputs["input_ids"].clone()
    labels[:, :prompt_length] = -100
    model = planner.model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = model(**inputs, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if loss.item() < 5e-3:
            break
    model.eval()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """(random, taught) planner directories saved with save_pretrained."""
    root = tmp_path_factory.mktemp("vlm")
    model, processor = tiny_vlm([SYSTEM_PROMPT, ANSWER, f"Instruction: {INSTRUCTION}", "system user assistant"])
    planner = VLMPlanner(model, processor, max_attempts=2, max_new_tokens=120)
    planner.save_pretrained(root / "random")
    teach(planner, scene(), ANSWER)
    planner.save_pretrained(root / "taught")
    return root / "random", root / "taught"


def test_a_taught_model_plans_through_the_auto_classes_offline(checkpoints, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    planner = VLMPlanner.from_pretrained(checkpoints[1])
    assert (planner.max_attempts, planner.max_new_tokens) == (2, 120)  # settings saved beside the weights
    plan = planner.plan(INSTRUCTION, scene())
    assert isinstance(plan, EditPlan)
    assert plan.category == "remove" and plan.target.color == "red" and plan.target.noun == "circle"
    assert any("delete" in note for note in planner.last_notes) and any("colour" in note for note in planner.last_notes)
    assert len(planner.last_answers) == 1


def test_the_pipeline_edits_with_a_vlm_plan_and_saves_the_planner(checkpoints, tmp_path):
    pipe = EditPipeline(vlm_planner=VLMPlanner.from_pretrained(checkpoints[1]))
    assert pipe.config["planner"] == "vlm"
    pipe.set_progress_bar_config(disable=True)
    image = scene()
    out = pipe(image, INSTRUCTION)
    assert out.plans[0].category == "remove" and out.plans[0].target_found
    edited, mask = np.asarray(out.images[0]), np.asarray(out.masks[0])
    assert mask[60, 40] and not mask[60, 120]
    assert (edited[60, 40] == image[5, 5]).all()  # the circle's centre is background now
    assert (edited[~mask] == image[~mask]).all()
    pipe.save_pretrained(tmp_path / "pipe")
    again = EditPipeline.from_pretrained(tmp_path / "pipe")
    assert isinstance(again.vlm_planner, VLMPlanner) and again.config["planner"] == "vlm"
    again.set_progress_bar_config(disable=True)
    assert (np.asarray(again(image, INSTRUCTION).images[0]) == edited).all()


def test_an_untaught_model_is_re_asked_then_a_clear_error(checkpoints):
    planner = VLMPlanner.from_pretrained(checkpoints[0])
    with pytest.raises(PlanError, match="after 2 attempts") as caught:
        planner.plan(INSTRUCTION, scene())
    assert len(planner.last_answers) == 2 and caught.value.errors


def test_bad_planner_arguments_are_named(checkpoints):
    planner = VLMPlanner.from_pretrained(checkpoints[0])
    with pytest.raises(ValueError, match="max_new_tokens"):
        VLMPlanner(planner.model, planner.processor, max_new_tokens=0)
    with pytest.raises(ValueError, match="planner='vlm' and a vlm_planner go together"):
        EditPipeline(planner="embedded", vlm_planner=planner)
    with pytest.raises(ValueError, match="planner='vlm' and a vlm_planner go together"):
        EditPipeline(planner="vlm")
    with pytest.raises(TypeError, match="vlm_planner must be an editing"):
        EditPipeline(vlm_planner="Qwen/Qwen2-VL-2B-Instruct")
    with pytest.raises(ValueError, match="instruction must be a non-empty string"):
        planner.plan("  ")


def test_the_cli_plans_with_a_vlm_directory(checkpoints, tmp_path, capsys):
    import json

    from PIL import Image

    from generators.cli import main

    Image.fromarray(scene()).save(tmp_path / "scene.png")
    assert main(["edit", str(tmp_path / "scene.png"), INSTRUCTION, "-o", str(tmp_path / "out"), "--planner", str(checkpoints[1]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["plan"]["category"] == "remove" and report["target_found"] and report["edited_pixels"] > 0
    assert json.loads((tmp_path / "out" / "plan.json").read_text())["category"] == "remove"
