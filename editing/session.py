"""Multi-turn editing: each instruction edits the last result, ``undo`` steps back, and "it"/"them"
refer to what the previous turn edited (its target where it now is, e.g. after a move)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .pipeline import EditOutput, EditPipeline, load_image

PRONOUN = re.compile(r"^(?:the same(?: one| ones)?|it|them|this|that|these|those|this one|that one)$")


@dataclass(frozen=True)
class Turn:
    instruction: str
    output: EditOutput
    image: np.ndarray  # the result of this turn
    target: np.ndarray | None  # where the edited object is after this turn


class EditSession:
    """``session = EditSession(pipe, image)``; ``session.edit("make the red circle blue")``;
    ``session.edit("move it left")``; ``session.undo()``; ``session.image`` is the current result."""

    def __init__(self, pipe: EditPipeline, image: Any) -> None:
        self.pipe = pipe
        self.original = load_image(image)
        self.turns: list[Turn] = []

    @property
    def image(self) -> np.ndarray:
        return self.turns[-1].image if self.turns else self.original

    @property
    def history(self) -> list[str]:
        return [turn.instruction for turn in self.turns]

    def edit(self, instruction: str, **kwargs: Any) -> EditOutput:
        """One turn on the current image; keyword arguments go to the pipeline (``mask``, ``generator``, ...)."""
        plan = kwargs.pop("plan", None) or self.pipe.planner.plan(instruction, self.image)
        mask = kwargs.pop("mask", None)
        reused = mask is None and plan.target is not None and bool(PRONOUN.match(plan.target.description.strip().lower()))
        if reused:
            mask = self.turns[-1].target if self.turns else None
            if mask is None or not mask.any():
                raise ValueError(f"'{plan.target.description}' refers to the previous edit's object, and there is none")
        output = self.pipe(self.image, instruction, plan=plan, mask=mask, **kwargs)
        if reused:
            for report in output.reports:
                report["reasoning"] = ["the previous edit's object"]
        self.turns.append(Turn(instruction, output, np.asarray(output.images[0]), output.targets[0]))
        return output

    def undo(self) -> np.ndarray:
        """Drop the last turn; returns the image it restores."""
        if not self.turns:
            raise ValueError("nothing to undo")
        self.turns.pop()
        return self.image
