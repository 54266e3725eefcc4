"""Planning with a vision-language model behind an OpenAI-compatible chat endpoint.

The model sees the image and the instruction and is asked for one JSON object in the plan
schema (``editing.PLAN_SCHEMA``). Its answer is taken apart the way such answers come back: the
JSON is pulled out of prose and code fences, then common slips are repaired (category synonyms,
"colour" for "color", a target given as a bare string, unknown keys); whatever is still invalid
goes back to the model with the located errors, up to ``max_attempts`` times, and then is a
``PlanError`` naming them.
"""

from __future__ import annotations

import json
import re
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


class EndpointPlanner:
    """Plans from a VLM behind an OpenAI-compatible endpoint (``client``: ``generators.OpenAIChatClient``)."""

    def __init__(self, client, max_attempts: int = 3, max_tokens: int = 600) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.client = client
        self.max_attempts = max_attempts
        self.max_tokens = max_tokens
        self.last_notes: list[str] = []

    def plan(self, instruction: str, image: Any = None) -> EditPlan:
        from generators import image_part

        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")
        content: list[dict[str, Any]] = [{"type": "text", "text": f"Instruction: {instruction}"}]
        if image is not None:
            content.append(image_part(image))
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]
        errors: list[str] = []
        for _ in range(self.max_attempts):
            answer = self.client.complete(messages, max_tokens=self.max_tokens, temperature=0.0, top_p=1.0)
            try:
                plan, notes = repair_plan(extract_json(answer))
                errors = plan_errors(plan)
            except PlanError as err:
                plan, notes, errors = None, [], err.errors
            if not errors:
                self.last_notes = notes
                result = EditPlan.from_dict(plan)
                return result.replace(rationale=result.rationale or f"planned by {self.client.model or 'the endpoint'}")
            messages += [{"role": "assistant", "content": answer},
                         {"role": "user", "content": "That answer is not a valid plan: " + "; ".join(errors)
                          + ". Answer again with only the corrected JSON object."}]
        raise PlanError([f"after {self.max_attempts} attempts the endpoint's plan is still invalid", *errors])
