"""Planning with a vision-language model: behind an OpenAI-compatible chat endpoint
(``EndpointPlanner``) or loaded through transformers (``VLMPlanner``).

The model sees the image and the instruction and is asked for one JSON object in the plan
schema (``editing.PLAN_SCHEMA``). Its answer is taken apart the way such answers come back: the
JSON is pulled out of prose and code fences, then common slips are repaired (category synonyms,
"colour" for "color", a target given as a bare string, unknown keys); whatever is still invalid
goes back to the model with the located errors, up to ``max_attempts`` times, and then is a
``PlanError`` naming them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .plan import CATEGORIES, PLAN_SCHEMA, EditPlan, PlanError, plan_errors

CATEGORY_SYNONYMS = {
    "delete": "remove", "erase": "remove", "removal": "remove", "inpaint": "remove",
    "recolour": "recolor", "color": "recolor", "colour": "recolor", "change color": "recolor", "change colour": "recolor",
    "swap": "replace", "substitute": "replace", "replacement": "replace",
    "insert": "add", "addition": "add", "translate": "move", "shift": "move", "relocate": "move",
    "scale": "resize", "enlarge": "resize", "shrink": "resize", "bg": "background", "background change": "background",
    "style": "global", "tone": "global", "adjust": "global",
}
TOP_KEYS = tuple(PLAN_SCHEMA["properties"])
QUERY_KEYS = tuple(PLAN_SCHEMA["$defs"]["query"]["properties"])

SYSTEM_PROMPT = (
    "You plan image edits. Read the instruction, look at the image, and answer with one JSON object and nothing else, "
    "matching this JSON schema:\n" + json.dumps(PLAN_SCHEMA, separators=(",", ":")) + "\n"
    "category: what kind of edit. target: the object(s) to edit (null for background and global edits), with its colour, "
    "shape or noun, size rank, position, ordinal, quantity ('one', 'all' or a number) and a relation to another object. "
    "prompt: what the edited region should show afterwards. rationale: one sentence on why. color: the new colour for "
    "recolor/background. offset: [dx, dy] as fractions of the image for move. scale: the factor for resize. asset: "
    "what replace/add puts in. If the instruction names something that is not in the image, set target_found to false."
)


def extract_json(text: str) -> Any:
    """The first JSON object in a chat answer (prose and ``` fences around it are ignored)."""
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, flags=re.S)
    candidates = [fenced.group(1)] if fenced else []
    start = text.find("{")
    while start != -1:
        depth, inside, escaped = 0, False, False
        for index in range(start, len(text)):
            char = text[index]
            if inside:
                escaped = char == "\\" and not escaped
                if char == '"' and not escaped:
                    inside = False
                continue
            if char == '"':
                inside = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    candidates.append(text[start : index + 1])
                    break
        start = text.find("{", start + 1) if not candidates else -1
    for candidate in candidates:
        try:
            return json.loads(re.sub(r",\s*([}\]])", r"\1", candidate))  # trailing commas are a common slip
        except json.JSONDecodeError:
            continue
    raise PlanError(["$: the answer holds no JSON object"])


def _repair_query(query: Any, notes: list[str], where: str) -> Any:
    if isinstance(query, str):
        notes.append(f"{where}: a bare string became {{'description': ...}}")
        return {"description": query}
    if not isinstance(query, dict):
        return query
    query = dict(query)
    if "colour" in query and "color" not in query:
        query["color"] = query.pop("colour")
        notes.append(f"{where}.colour renamed to color")
    for key in [k for k in query if k not in QUERY_KEYS]:
        query.pop(key)
        notes.append(f"{where}.{key} dropped (not in the schema)")
    if isinstance(query.get("size"), str):
        size = query["size"].lower()
        query["size"] = {"small": "smaller", "big": "larger", "large": "larger", "biggest": "largest"}.get(size, size)
    if isinstance(query.get("relation"), dict):
        query["relation"] = dict(query["relation"])
        query["relation"]["anchor"] = _repair_query(query["relation"].get("anchor"), notes, f"{where}.relation.anchor")
    return query


def repair_plan(plan: Any) -> tuple[Any, list[str]]:
    """A plan dict with common slips fixed, and notes saying what was changed."""
    notes: list[str] = []
    if not isinstance(plan, dict):
        return plan, notes
    plan = dict(plan)
    if "colour" in plan and "color" not in plan:
        plan["color"] = plan.pop("colour")
        notes.append("$.colour renamed to color")
    category = plan.get("category")
    if isinstance(category, str) and category.lower().strip() not in CATEGORIES:
        fixed = CATEGORY_SYNONYMS.get(category.lower().strip())
        if fixed:
            plan["category"] = fixed
            notes.append(f"$.category {category!r} read as {fixed!r}")
    elif isinstance(category, str):
        plan["category"] = category.lower().strip()
    plan.setdefault("target", None)
    plan.setdefault("prompt", "")
    plan.setdefault("rationale", "")
    plan["target"] = _repair_query(plan["target"], notes, "$.target")
    for key in [k for k in plan if k not in TOP_KEYS]:
        plan.pop(key)
        notes.append(f"$.{key} dropped (not in the schema)")
    return plan, notes


class _JSONPlanner:
    """The ask, repair and re-ask loop shared by the VLM planners; subclasses send the chat."""

    def __init__(self, max_attempts: int) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an int >= 1, got {max_attempts!r}")
        self.max_attempts = max_attempts
        self.last_notes: list[str] = []  # repairs applied to the accepted answer
        self.last_answers: list[str] = []  # every raw answer of the last plan() call, for inspection

    def _complete(self, messages: list[dict[str, Any]], image: Any) -> str:
        """The model's answer to ``messages``; the first user message carries ``image`` (or None)."""
        raise NotImplementedError

    def _name(self) -> str:
        raise NotImplementedError

    @staticmethod
    def first_messages(instruction: str) -> list[dict[str, Any]]:
        """The chat that asks for a plan (text only; the image joins the user message when sent)."""
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": f"Instruction: {instruction}"}]

    def plan(self, instruction: str, image: Any = None) -> EditPlan:
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")
        messages = self.first_messages(instruction)
        errors: list[str] = []
        self.last_answers = []
        for _ in range(self.max_attempts):
            answer = self._complete(messages, image)
            self.last_answers.append(answer)
            try:
                plan, notes = repair_plan(extract_json(answer))
                errors = plan_errors(plan)
            except PlanError as err:
                plan, notes, errors = None, [], err.errors
            if not errors:
                self.last_notes = notes
                result = EditPlan.from_dict(plan)
                return result.replace(rationale=result.rationale or f"planned by {self._name()}")
            messages += [{"role": "assistant", "content": answer},
                         {"role": "user", "content": "That answer is not a valid plan: " + "; ".join(errors)
                          + ". Answer again with only the corrected JSON object."}]
        raise PlanError([f"after {self.max_attempts} attempts the plan of {self._name()} is still invalid", *errors])


class EndpointPlanner(_JSONPlanner):
    """Plans from a VLM behind an OpenAI-compatible endpoint (``client``: ``generators.OpenAIChatClient``)."""

    def __init__(self, client, max_attempts: int = 3, max_tokens: int = 600) -> None:
        super().__init__(max_attempts)
        self.client = client
        self.max_tokens = max_tokens

    def _name(self) -> str:
        return self.client.model or "the endpoint"

    def _complete(self, messages: list[dict[str, Any]], image: Any) -> str:
        from generators import image_part

        chat = [dict(message) for message in messages]
        if image is not None:
            chat[1]["content"] = [{"type": "text", "text": chat[1]["content"]}, image_part(image)]
        return self.client.complete(chat, max_tokens=self.max_tokens, temperature=0.0, top_p=1.0)


VLM_CONFIG_NAME = "vlm_planner.json"


class VLMPlanner(_JSONPlanner):
    """Plans with a vision-language model loaded through transformers (greedy decoding).

    Any model that ``AutoModelForImageTextToText`` and ``AutoProcessor`` load and whose processor
    has a chat template: the Qwen2-VL family, LLaVA, Idefics3, Gemma 3, PaliGemma and others. Qwen2-VL's
    processor also builds a video processor, which needs torchvision (transformers issue #48558).

    ``max_image_side``: larger images are scaled down before the processor sees them (it resizes
    again to what the model takes; this only bounds the work on huge inputs).
    """

    def __init__(self, model: Any, processor: Any, max_attempts: int = 3, max_new_tokens: int = 600,
                 max_image_side: int = 1024) -> None:
        super().__init__(max_attempts)
        if getattr(processor, "chat_template", None) is None:
            raise ValueError("processor has no chat_template; VLMPlanner needs an instruction-tuned model's processor")
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
        if isinstance(max_image_side, bool) or not isinstance(max_image_side, int) or max_image_side < 16:
            raise ValueError(f"max_image_side must be an int >= 16, got {max_image_side!r}")
        self.model = model.eval()
        self.processor = processor
        self.max_new_tokens = max_new_tokens
        self.max_image_side = max_image_side

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], torch_dtype: Any = None, **settings: Any) -> VLMPlanner:
        """A local directory or hub id holding the model and its processor (safetensors only)."""
        try:
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as err:  # pragma: no cover - part of the editing extra
            raise ImportError("a transformers VLM planner needs transformers: pip install 'ctrlgen[editing]'") from err
        from generators import resolve_pretrained

        directory = Path(resolve_pretrained(str(name_or_path)))
        saved = json.loads((directory / VLM_CONFIG_NAME).read_text()) if (directory / VLM_CONFIG_NAME).is_file() else {}
        model = AutoModelForImageTextToText.from_pretrained(directory, use_safetensors=True, dtype=torch_dtype)
        return cls(model, AutoProcessor.from_pretrained(directory), **{**saved, **settings})

    def save_pretrained(self, directory: str | os.PathLike[str]) -> None:
        directory = Path(directory)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.processor.save_pretrained(directory)
        settings = {"max_attempts": self.max_attempts, "max_new_tokens": self.max_new_tokens, "max_image_side": self.max_image_side}
        (directory / VLM_CONFIG_NAME).write_text(json.dumps(settings) + "\n")

    def _name(self) -> str:
        return getattr(self.model.config, "_name_or_path", "") or type(self.model).__name__

    def _picture(self, image: Any):
        import numpy as np
        from PIL import Image

        picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
        picture = picture.convert("RGB")
        if max(picture.size) > self.max_image_side:
            picture.thumbnail((self.max_image_side, self.max_image_side), Image.Resampling.LANCZOS)
        return picture

    def chat_inputs(self, messages: list[dict[str, Any]], image: Any = None, answer: str | None = None):
        """The processor's model inputs for ``messages`` (text contents), ``image`` in the first user
        message, ending with the assistant's turn open; with ``answer``, that turn holds it (for fine-tuning)."""
        chat = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in messages]
        images = None
        if image is not None:
            chat[1]["content"].insert(0, {"type": "image"})
            images = [self._picture(image)]
        text = self.processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        if answer is not None:
            text += answer + (self.processor.tokenizer.eos_token or "")
        return self.processor(text=[text], images=images, return_tensors="pt").to(self.model.device)

    def _complete(self, messages: list[dict[str, Any]], image: Any) -> str:
        import torch

        inputs = self.chat_inputs(messages, image)
        with torch.no_grad():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        return self.processor.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)[0]
