"""The spatial reasoner: which instance(s) a ``TargetQuery`` means, and why.

Filters run in a fixed order a person can follow in the explanation: shape, colour, relation to
an anchor, then ranking by size and position (with ordinals), then the count. Instances stay
separate, so "both red circles" is two masks and "the smaller red circle" is one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .instances import Instance, basic_rgb, color_name
from .plan import TargetQuery
from .scenes import SHAPES

KNOWN_SHAPES = frozenset(SHAPES)


@dataclass(frozen=True)
class Resolution:
    indices: tuple[int, ...]  # into the instance list; empty when nothing matches
    steps: tuple[str, ...]  # how the candidates narrowed, for the report

    @property
    def found(self) -> bool:
        return bool(self.indices)


def query_color_name(color: str) -> str:
    """A query colour ("crimson", "lightblue", "#ff0000") as the basic name instances carry."""
    return color_name(basic_rgb(color))


def _axis_key(position: str, inst: Instance, size: tuple[int, int]) -> float:
    """Smaller is more "``position``" (leftmost first for "left")."""
    x, y = inst.centroid
    width, height = size
    return {"left": x, "right": -x, "top": y, "bottom": -y, "centre": np.hypot(x - width / 2, y - height / 2),
            "top left": x + y, "top right": -x + y, "bottom left": x - y, "bottom right": -x - y}[position]


def _in_region(position: str, inst: Instance, size: tuple[int, int]) -> bool:
    x, y = inst.centroid
    width, height = size
    horizontal = {"left": x < width / 2, "right": x >= width / 2}
    vertical = {"top": y < height / 2, "bottom": y >= height / 2}
    if position == "centre":
        return abs(x - width / 2) < width / 4 and abs(y - height / 2) < height / 4
    parts = position.split()
    return all(horizontal.get(part, vertical.get(part, True)) for part in parts)


def _relation_holds(kind: str, inst: Instance, anchor: Instance) -> bool:
    (x, y), (ax, ay) = inst.centroid, anchor.centroid
    dx, dy = x - ax, y - ay
    return {"left of": dx < 0 and abs(dx) >= abs(dy) * 0.5, "right of": dx > 0 and abs(dx) >= abs(dy) * 0.5,
            "above": dy < 0 and abs(dy) >= abs(dx) * 0.5, "below": dy > 0 and abs(dy) >= abs(dx) * 0.5,
            "next to": True, "opposite": True}[kind]


def nouns(query: TargetQuery | None) -> set[str]:
    """Every noun a query names, its relation's anchors included."""
    if query is None:
        return set()
    found = {query.noun} if query.noun else set()
    return found | (nouns(query.relation.anchor) if query.relation is not None else set())


def resolve(query: TargetQuery, instances: list[Instance], size: tuple[int, int]) -> Resolution:
    """The instances ``query`` means in an image of ``size`` (width, height)."""
    steps = [f"{len(instances)} instances"]
    candidates = list(range(len(instances)))
    if query.noun is not None:
        candidates = [i for i in candidates if instances[i].shape == query.noun]
        if not candidates and query.noun not in KNOWN_SHAPES:
            return Resolution((), (*steps, f"nothing here is recognised as a {query.noun!r} (the embedded segmenter knows "
                                           "colours and simple shapes; a text segmenter reads other nouns)"))
        steps.append(f"{len(candidates)} {query.noun}(s)")
    if query.color is not None:
        wanted = query_color_name(query.color)
        candidates = [i for i in candidates if instances[i].color_name == wanted]
        steps.append(f"{len(candidates)} {wanted}")
    if query.relation is not None and candidates:
        anchor = resolve(query.relation.anchor, instances, size)
        if not anchor.found:
            return Resolution((), (*steps, f"the anchor '{query.relation.anchor.description}' is not there"))
        a = instances[anchor.indices[0]]
        candidates = [i for i in candidates if i != anchor.indices[0]]
        if query.relation.kind == "opposite":  # the mirror image of the anchor across the vertical centre line
            mirror = (size[0] - a.centroid[0], a.centroid[1])
            distance = {i: np.hypot(instances[i].centroid[0] - mirror[0], instances[i].centroid[1] - mirror[1]) for i in candidates}
        else:
            candidates = [i for i in candidates if _relation_holds(query.relation.kind, instances[i], a)]
            distance = {i: np.hypot(instances[i].centroid[0] - a.centroid[0], instances[i].centroid[1] - a.centroid[1]) for i in candidates}
        candidates = sorted(candidates, key=distance.__getitem__)
        if query.quantity == "one":
            candidates = candidates[:1]
        steps.append(f"{len(candidates)} {query.relation.kind} the anchor at {tuple(round(v) for v in a.centroid)}")
    larger = query.size in ("larger", "largest")
    by_area = {i: instances[i].area for i in candidates}
    if query.quantity == "all" or isinstance(query.quantity, int):
        if query.size is not None and len(candidates) > 1:  # "all small circles": the smaller cluster of log areas
            ordered = sorted(candidates, key=by_area.__getitem__, reverse=larger)
            gaps = np.abs(np.diff(np.log([by_area[i] for i in ordered])))
            candidates = ordered[: int(gaps.argmax()) + 1]
            steps.append(f"{len(candidates)} in the {query.size} group")
        if query.position is not None:
            candidates = [i for i in candidates if _in_region(query.position, instances[i], size)]
            steps.append(f"{len(candidates)} in the {query.position}")
    elif query.size is not None and query.position is not None and query.ordinal is None:
        # "the smaller red circle on the left": the smaller of those on the left
        region = [i for i in candidates if _in_region(query.position, instances[i], size)] or candidates
        candidates = sorted(region, key=by_area.__getitem__, reverse=larger)[:1]
        steps.append(f"{len(region)} in the {query.position}, the {query.size} taken")
    elif query.position is not None:
        ordered = sorted(candidates, key=lambda i: _axis_key(query.position, instances[i], size))
        rank = (query.ordinal or 1) - 1
        candidates = ordered[rank : rank + 1]
        steps.append(f"number {rank + 1} from the {query.position}" + ("" if candidates else ": there are fewer"))
    elif query.size is not None:
        candidates = sorted(candidates, key=by_area.__getitem__, reverse=larger)[:1]
        steps.append(f"the {query.size} taken")
    if isinstance(query.quantity, int):
        if len(candidates) < query.quantity:
            steps.append(f"asked for {query.quantity}, found {len(candidates)}")
        candidates = candidates[: query.quantity]
    elif query.quantity == "one" and len(candidates) > 1:
        candidates = sorted(candidates, key=lambda i: -instances[i].area)[:1]
        steps.append("several match; the largest is taken (name a position or size to choose another)")
    return Resolution(tuple(candidates), tuple(steps))
