"""Edit plans, their schema, the embedded planner and the generated scenes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from editing import (
    EditPlan,
    EmbeddedPlanner,
    PlanError,
    Relation,
    TargetQuery,
    compose,
    plan_errors,
    random_scene,
)


@pytest.fixture(scope="module")
def planner():
    return EmbeddedPlanner()


def test_plans_round_trip_through_json():
    anchor = TargetQuery("the blue square", noun="square", color="blue")
    plan = EditPlan("move", TargetQuery("the star left of the blue square", noun="star", relation=Relation("left of", anchor)),
                    prompt="star", rationale="because", offset=(0.0, -0.1), spatial_relation="left of the blue square")
    again = EditPlan.from_json(plan.to_json())
    assert again == plan
    assert json.loads(plan.to_json())["target"]["relation"]["anchor"]["color"] == "blue"


@pytest.mark.parametrize(
    ("plan", "located"),
    [
        ({"category": "paint", "target": None, "prompt": "", "rationale": ""}, "$.category"),
        ({"category": "remove", "target": None, "prompt": "", "rationale": ""}, "$.target: a remove edit needs a target"),
        ({"category": "remove", "target": {"description": "x", "size": "huge"}, "prompt": "", "rationale": ""}, "$.target.size"),
        ({"category": "recolor", "target": {"description": "x", "color": "reddish"}, "prompt": "", "rationale": "", "color": "blue"},
         "$.target.color: 'reddish' is not a colour"),
        ({"category": "recolor", "target": {"description": "x"}, "prompt": "", "rationale": ""}, "$.color: a recolor edit needs"),
        ({"category": "move", "target": {"description": "x"}, "prompt": "", "rationale": "", "offset": [1]}, "$.offset"),
        ({"category": "remove", "target": {"description": "x", "relation": {"kind": "near", "anchor": {"description": "y"}}},
          "prompt": "", "rationale": ""}, "$.target.relation.kind"),
        ({"category": "remove", "target": {"description": "x"}, "prompt": "", "rationale": "", "mood": "happy"}, "$: Additional"),
        ([1, 2], "$: expected a JSON object"),
    ],
)
def test_invalid_plans_get_located_errors(plan, located):
    errors = plan_errors(plan)
    assert errors and any(error.startswith(located) for error in errors), errors
    with pytest.raises(PlanError, match="invalid edit plan"):
        EditPlan.from_dict(plan) if isinstance(plan, dict) else EditPlan.from_json(json.dumps(plan))
    with pytest.raises(PlanError, match="not JSON"):
        EditPlan.from_json("{category: remove")


@pytest.mark.parametrize(
    ("instruction", "category", "target", "extra"),
    [
        ("remove the smaller red circle on the left", "remove",
         {"noun": "circle", "color": "red", "size": "smaller", "position": "left"}, {}),
        ("Please delete both red circles.", "remove", {"noun": "circle", "color": "red", "quantity": 2}, {}),
        ("make all blue squares green", "recolor", {"noun": "square", "color": "blue", "quantity": "all"}, {"color": "green"}),
        ("erase the second circle from the left", "remove", {"noun": "circle", "position": "left", "ordinal": 2}, {}),
        ("remove the last circle from the left", "remove", {"noun": "circle", "position": "right", "ordinal": 1}, {}),
        ("paint the leftmost diamond orange", "recolor", {"noun": "diamond", "position": "left"}, {"color": "orange"}),
        ("change the colour of the big star to purple", "recolor", {"noun": "star", "size": "larger"}, {"color": "purple"}),
        ("make the light blue square dark green", "recolor", {"noun": "square", "color": "lightblue"}, {"color": "darkgreen"}),
        ("move the star left of the square up a little", "move", {"noun": "star"}, {"offset": (0.0, -0.1)}),
        ("shift the red circle to the right by 10%", "move", {"noun": "circle", "color": "red"}, {"offset": (0.1, 0.0)}),
        ("make the largest triangle smaller", "resize", {"noun": "triangle", "size": "largest"}, {"scale": 0.6667}),
        ("make the rightmost shape twice as big", "resize", {"noun": None, "position": "right"}, {"scale": 2.0}),
        ("turn the green hexagon into a star", "replace", {"noun": "hexagon", "color": "green"}, {"asset": "a star"}),
        ("add a yellow star in the top right", "add", {"noun": "star", "color": "yellow", "position": "top right"}, {"asset": "yellow star"}),
        ("make the background pale blue", "background", None, {"color": "lightblue"}),
        ("increase the contrast", "global", None, {"adjustment": "more contrast"}),
        ("make the image black and white", "global", None, {"adjustment": "grayscale"}),
        ("make it look like winter", "global", None, {"adjustment": None, "prompt": "winter"}),
        ("turn the photo into a watercolor painting", "global", None, {"adjustment": None, "prompt": "a watercolor painting"}),
        ("brighten the yellow star", "recolor", {"noun": "star", "color": "yellow"}, {"adjustment": "brighten"}),
        ("remove the dog", "remove", {"noun": "dog"}, {}),
    ],
)
def test_the_grammar_reads_instructions(planner, instruction, category, target, extra):
    plan = planner.plan(instruction)
    assert plan.category == category
    if target is None:
        assert plan.target is None
    else:
        for key, value in target.items():
            assert getattr(plan.target, key) == value, (key, plan.target)
    for key, value in extra.items():
        assert getattr(plan, key) == value
    assert plan.rationale and instruction.split()[0].lower() in plan.rationale.lower()
    assert EditPlan.from_json(plan.to_json()) == plan


def test_relations_and_mirror(planner):
    plan = planner.plan("replace the one opposite the blue square with a heart")
    assert plan.category == "replace" and plan.asset == "a heart"
    assert plan.target.noun is None and plan.target.relation.kind == "opposite"
    assert (plan.target.relation.anchor.noun, plan.target.relation.anchor.color) == ("square", "blue")
    assert plan.spatial_relation == "opposite the blue square"
    plan = planner.plan("get rid of the star above the circle")
    assert plan.target.relation == Relation("above", TargetQuery("the circle", noun="circle"))


def test_unfamiliar_wording_goes_through_the_encoder(planner):
    plan = planner.plan("obliterate the blue triangle")
    assert plan.category == "remove" and plan.target.noun == "triangle"
    assert "obliterate" in plan.rationale and "similarity" in plan.rationale
    with pytest.raises(PlanError, match="does not read as an edit"):
        planner.plan("qwerty zxcv")
    with pytest.raises(PlanError, match="MiniLM fallback is off"):
        EmbeddedPlanner(text_encoder=None).plan("obliterate the blue triangle")
    with pytest.raises(ValueError, match="instruction must be a non-empty string"):
        planner.plan("  ")


def test_scenes_keep_exact_masks():
    scene = compose((200, 100), (250, 250, 250), [("circle", "red", (50, 50), 30), ("square", "blue", (150, 50), 30)])
    assert scene.image.shape == (100, 200, 3)
    red, blue = scene.objects
    assert (scene.image[red.mask] == (220, 40, 40)).all() and (scene.image[blue.mask] == (40, 90, 220)).all()
    assert abs(red.mask.sum() - np.pi * 30**2) < 0.03 * np.pi * 30**2
    assert not (red.mask & blue.mask).any()
    outside = ~(red.mask | blue.mask)
    assert (scene.image[outside] == scene.clean_plate()[outside]).all()
    a, b = random_scene(np.random.default_rng(3), count=6), random_scene(np.random.default_rng(3), count=6)
    assert (a.image == b.image).all() and len(a.objects) == 6
    with pytest.raises(ValueError, match="color must be one of"):
        compose((10, 10), (0, 0, 0), [("circle", "mauve", (5, 5), 3)])
