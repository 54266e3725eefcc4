"""The edit plan: what an instruction asks for, in a form a person can read and a program can check.

A planner (the embedded grammar, a transformers VLM or a chat endpoint) turns an instruction into
an ``EditPlan``; the spatial reasoner then finds the instance(s) its ``TargetQuery`` means. Plans
are JSON objects (``to_dict``/``from_dict``) validated against ``PLAN_SCHEMA``; a model's answer
that does not fit gets a list of located errors (``plan_errors``), as picosvg's checks do, so it
can be repaired or re-asked.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("remove", "replace", "add", "recolor", "move", "resize", "background", "global")
SIZES = ("smaller", "larger", "smallest", "largest")
POSITIONS = ("left", "right", "top", "bottom", "centre", "top left", "top right", "bottom left", "bottom right")
RELATIONS = ("left of", "right of", "above", "below", "next to", "opposite")
ADJUSTMENTS = ("brighten", "darken", "more contrast", "less contrast", "saturate", "desaturate", "grayscale", "warm",
               "cool", "invert")
NEEDS_TARGET = frozenset({"remove", "replace", "recolor", "move", "resize"})

_QUERY_PROPERTIES: dict[str, Any] = {
    "description": {"type": "string", "minLength": 1},
    "noun": {"type": ["string", "null"]},
    "color": {"type": ["string", "null"]},
    "size": {"enum": [*SIZES, None]},
    "position": {"enum": [*POSITIONS, None]},
    "ordinal": {"type": ["integer", "null"], "minimum": 1},
    "quantity": {"anyOf": [{"enum": ["one", "all"]}, {"type": "integer", "minimum": 1}]},
}

PLAN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["category", "target", "prompt", "rationale"],
    "additionalProperties": False,
    "properties": {
        "category": {"enum": list(CATEGORIES)},
        "target": {"$ref": "#/$defs/query"},
        "spatial_relation": {"type": ["string", "null"]},
        "prompt": {"type": "string"},
        "rationale": {"type": "string"},
        "color": {"type": ["string", "null"]},
        "offset": {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "scale": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "asset": {"type": ["string", "null"]},
        "adjustment": {"enum": [*ADJUSTMENTS, None]},
        "target_found": {"type": ["boolean", "null"]},
    },
    "$defs": {
        "query": {  # null where a plan has no target (background, global)
            "type": ["object", "null"],
            "required": ["description"],
            "additionalProperties": False,
            "properties": {
                **_QUERY_PROPERTIES,
                "relation": {"$ref": "#/$defs/relation"},
            },
        },
        "relation": {
            "type": ["object", "null"],
            "required": ["kind", "anchor"],
            "additionalProperties": False,
            "properties": {"kind": {"enum": list(RELATIONS)}, "anchor": {"$ref": "#/$defs/query", "type": "object"}},
        },
    },
}


class PlanError(ValueError):
    """A plan that does not fit ``PLAN_SCHEMA``; ``errors`` are located messages ("$.target.size: …")."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid edit plan: " + "; ".join(errors))


@dataclass(frozen=True)
class Relation:
    """The target stands ``kind`` the ``anchor`` ("the star left of the square"); "opposite" is the
    instance mirrored across the image's vertical centre line ("the one opposite the blue square")."""

    kind: str
    anchor: TargetQuery


@dataclass(frozen=True)
class TargetQuery:
    """What to edit, as attributes the reasoner can check on each instance; None: any.

    ``size`` and ``position`` rank the candidates ("the smaller red circle on the left": among red
    circles, the smaller one, and of those the leftmost); ``ordinal`` counts along ``position``
    ("the second circle from the left": position "left", ordinal 2); ``quantity`` is "one", "all"
    or an exact count the instruction states ("both red circles": 2).
    """

    description: str
    noun: str | None = None
    color: str | None = None
    size: str | None = None
    position: str | None = None
    ordinal: int | None = None
    quantity: str | int = "one"
    relation: Relation | None = None


@dataclass(frozen=True)
class EditPlan:
    """One edit: ``category`` of ``target`` with its parameters, a rewritten ``prompt`` (what the
    edited region should show, for generative executors) and the planner's ``rationale``.

    ``color`` is the new colour of a recolor or background edit (a CSS name or #rrggbb);
    ``offset`` the (dx, dy) of a move as fractions of the image width and height (y down);
    ``scale`` the factor of a resize; ``asset`` what a replace or add puts in; ``adjustment`` a
    tone or colour operation (``ADJUSTMENTS``) of a global edit, or of a recolor of the target;
    ``target_found`` is filled in by the reasoner (False: nothing in the image matches, and the
    image is left as is). An add edit's ``target`` describes the new object and where it goes.
    """

    category: str
    target: TargetQuery | None
    prompt: str
    rationale: str
    spatial_relation: str | None = None
    color: str | None = None
    offset: tuple[float, float] | None = None
    scale: float | None = None
    asset: str | None = None
    adjustment: str | None = None
    target_found: bool | None = None

    def __post_init__(self) -> None:
        errors = plan_errors(self.to_dict())
        if errors:
            raise PlanError(errors)

    def to_dict(self) -> dict[str, Any]:
        plan = dataclasses.asdict(self)
        if plan["offset"] is not None:
            plan["offset"] = list(plan["offset"])
        return plan

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, plan: dict[str, Any]) -> EditPlan:
        errors = plan_errors(plan)
        if errors:
            raise PlanError(errors)
        fields = dict(plan)
        fields["target"] = _query(plan["target"]) if plan.get("target") is not None else None
        if fields.get("offset") is not None:
            fields["offset"] = tuple(float(value) for value in fields["offset"])
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str) -> EditPlan:
        try:
            plan = json.loads(text)
        except json.JSONDecodeError as err:
            raise PlanError([f"$: not JSON ({err})"]) from None
        return cls.from_dict(plan)

    def replace(self, **changes: Any) -> EditPlan:
        return dataclasses.replace(self, **changes)


def _query(query: dict[str, Any]) -> TargetQuery:
    fields = dict(query)
    if fields.get("relation") is not None:
        relation = fields["relation"]
        fields["relation"] = Relation(kind=relation["kind"], anchor=_query(relation["anchor"]))
    return TargetQuery(**fields)


def _location(error: Any) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)


def _color_errors(query: dict[str, Any] | None, where: str) -> list[str]:
    if not isinstance(query, dict):
        return []
    errors = []
    if isinstance(query.get("color"), str) and not is_color(query["color"]):
        errors.append(f"{where}.color: {query['color']!r} is not a colour name or #rrggbb")
    relation = query.get("relation")
    if isinstance(relation, dict):
        errors += _color_errors(relation.get("anchor"), f"{where}.relation.anchor")
    return errors


def plan_errors(plan: Any) -> list[str]:
    """Located problems of a plan as a JSON-like dict; [] when it is a valid plan."""
    from jsonschema import Draft202012Validator

    if not isinstance(plan, dict):
        return [f"$: expected a JSON object, got {type(plan).__name__}"]
    found = sorted(Draft202012Validator(PLAN_SCHEMA).iter_errors(plan), key=lambda error: [str(part) for part in error.absolute_path])
    errors = [f"{_location(error)}: {error.message}" for error in found]
    if errors:
        return errors
    errors += _color_errors(plan.get("target"), "$.target")
    if isinstance(plan.get("color"), str) and not is_color(plan["color"]):
        errors.append(f"$.color: {plan['color']!r} is not a colour name or #rrggbb")
    category = plan["category"]
    if category in NEEDS_TARGET and plan.get("target") is None:
        errors.append(f"$.target: a {category} edit needs a target")
    if category == "recolor" and plan.get("color") is None and plan.get("adjustment") is None:
        errors.append("$.color: a recolor edit needs the new colour (or an adjustment)")
    if category == "global" and plan.get("adjustment") is None and not plan.get("prompt"):
        errors.append("$.adjustment: a global edit needs an adjustment or a prompt")
    if category in ("replace", "add") and not plan.get("asset"):
        errors.append(f"$.asset: a {category} edit needs the asset to draw")
    if category == "move" and plan.get("offset") is None:
        errors.append("$.offset: a move edit needs an offset [dx, dy]")
    if category == "resize" and plan.get("scale") is None:
        errors.append("$.scale: a resize edit needs a scale factor")
    return errors


def is_color(name: str) -> bool:
    from PIL import ImageColor

    try:
        ImageColor.getrgb(name)
    except ValueError:
        return False
    return True
