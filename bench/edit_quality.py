"""Mask-free editing on generated flat-design scenes, in one run.

    python bench/edit_quality.py [--cases-per-skill 25] [--size 512] [--seed 0]

Scenes are flat backgrounds with shapes in named colours (``editing.scenes``), each built for one
skill so its instruction has exactly one right answer: colour, left-right, relative size, mirror
("the one opposite ..."), relations ("left of ..."), ordinals, multiples ("all ...") and counting
("both ...", "the three ..."), plus instructions naming something absent. Verbs vary over remove,
recolor, move and resize, each in several phrasings. For every case it measures:

* plan category accuracy (the embedded planner against the case's category);
* target mask gIoU and cIoU (LISA's definitions: mean of per-case IoU; cumulative intersection
  over cumulative union) of the reasoner's target against the true objects;
* wrong-object edits: a case where the target differs from the true objects, or an object that is
  not a target changed (other than by being covered by the moved or grown target);
* outside the band: whether every pixel outside the feathered edit band equals the input (PSNR
  over those pixels, "inf" when bit-exact) and whether the edit shifted anything;
* removal: PSNR inside the hole against the true background;
* the median time of an edit at ``--size``, beside the peer: OpenCV's Telea inpainting alone,
  given the true mask (no planning, no segmentation), on the removal cases.

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SHAPES = ("circle", "square", "triangle", "star", "hexagon", "diamond")
COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black")
BACKGROUND = (245, 238, 220)
VERBS = {  # several phrasings per category, some only the MiniLM fallback knows ("obliterate", "tint")
    "remove": ("remove {t}", "delete {t}", "erase {t}", "get rid of {t}", "please take out {t}", "obliterate {t}"),
    "recolor": ("make {t} {c}", "paint {t} {c}", "change the colour of {t} to {c}", "turn {t} {c}", "recolour {t} {c}", "tint {t} {c}"),
    "move": ("move {t} up a little", "shift {t} to the left", "move {t} down by 10%", "slide {t} right", "push {t} up"),
    "resize": ("make {t} bigger", "enlarge {t}", "make {t} smaller", "shrink {t}", "make {t} twice as big", "scale {t} by 1.5"),
}
PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars", "hexagon": "hexagons", "diamond": "diamonds"}


class Layout:
    """Objects placed without touching; ``add`` returns the index or None when there is no room."""

    def __init__(self, rng: np.random.Generator, size: int):
        self.rng, self.size, self.objects = rng, size, []

    def free(self, center, radius) -> bool:
        margin = radius + 10
        inside = margin <= center[0] <= self.size - margin and margin <= center[1] <= self.size - margin
        return inside and all(np.hypot(center[0] - c[0], center[1] - c[1]) > radius + r + 12 for _, _, c, r in self.objects)

    def add(self, shape, color, center=None, radius=None, tries=400):
        for _ in range(tries):
            r = radius or float(self.rng.choice([30.0, 40.0, 50.0]))
            c = center or (float(self.rng.uniform(r + 10, self.size - r - 10)), float(self.rng.uniform(r + 10, self.size - r - 10)))
            if self.free(c, r):
                self.objects.append((shape, color, c, r))
                return len(self.objects) - 1
            if center is not None:
                return None
        return None

    def distractors(self, count, avoid):
        for _ in range(count):
            for _ in range(50):
                shape, color = str(self.rng.choice(SHAPES)), str(self.rng.choice(COLORS))
                if (shape, color) not in avoid:
                    self.add(shape, color)
                    break


def make_case(skill: str, rng: np.random.Generator, size: int):
    """(instruction, category, target indices, layout objects) or None to retry."""
    layout = Layout(rng, size)
    shape, color = str(rng.choice(SHAPES)), str(rng.choice(COLORS))
    other = str(rng.choice([c for c in COLORS if c != color]))
    category = str(rng.choice(list(VERBS)))
    targets: list[int] = []
    if skill == "colour":
        targets = [layout.add(shape, color)]
        for c in rng.choice([c for c in COLORS if c != color], 2, replace=False):
            layout.add(shape, str(c))
        layout.distractors(2, {(shape, color)})
        phrase = f"the {color} {shape}"
    elif skill == "left-right":
        a, b = layout.add(shape, color), layout.add(shape, color)
        if a is None or b is None or abs(layout.objects[a][2][0] - layout.objects[b][2][0]) < 60:
            return None
        side = str(rng.choice(["left", "right"]))
        xs = {i: layout.objects[i][2][0] for i in (a, b)}
        targets = [min(xs, key=xs.get) if side == "left" else max(xs, key=xs.get)]
        layout.distractors(3, {(shape, color)})
        phrase = f"the {color} {shape} on the {side}" if rng.random() < 0.5 else f"the {side}most {color} {shape}"
    elif skill == "relative size":
        a, b = layout.add(shape, color, radius=28.0), layout.add(shape, color, radius=56.0)
        if a is None or b is None:
            return None
        word = str(rng.choice(["smaller", "larger", "smallest", "biggest"]))
        targets = [a if word in ("smaller", "smallest") else b]
        layout.distractors(3, {(shape, color)})
        phrase = f"the {word} {color} {shape}"
    elif skill == "mirror":
        anchor_shape = str(rng.choice([s for s in SHAPES if s != shape]))
        x, y = float(rng.uniform(70, size / 2 - 70)), float(rng.uniform(70, size - 70))
        if rng.random() < 0.5:
            x = size - x
        anchor = layout.add(anchor_shape, other, center=(x, y), radius=36.0)
        target = layout.add(shape, color, center=(size - x + float(rng.uniform(-15, 15)), y + float(rng.uniform(-15, 15))), radius=36.0)
        decoy = layout.add(shape, color)
        if anchor is None or target is None or decoy is None:
            return None
        mirror = np.array([size - x, y])
        if np.linalg.norm(np.array(layout.objects[decoy][2]) - mirror) < 120:
            return None
        targets = [target]
        layout.distractors(2, {(shape, color), (anchor_shape, other)})
        phrase = f"the {shape} opposite the {other} {anchor_shape}"
    elif skill == "relation":
        anchor_shape = str(rng.choice([s for s in SHAPES if s != shape]))
        relation, (dx, dy) = [("left of", (-1, 0)), ("right of", (1, 0)), ("above", (0, -1)), ("below", (0, 1))][int(rng.integers(4))]
        ax, ay = float(rng.uniform(150, size - 150)), float(rng.uniform(150, size - 150))
        anchor = layout.add(anchor_shape, other, center=(ax, ay), radius=36.0)
        target = layout.add(shape, color, center=(ax + dx * 100, ay + dy * 100), radius=34.0)
        decoy = layout.add(shape, color, center=(ax - dx * 110 + dy * 20, ay - dy * 110 + dx * 20), radius=34.0)
        if anchor is None or target is None or decoy is None:
            return None
        targets = [target]
        layout.distractors(2, {(shape, color), (anchor_shape, other)})
        phrase = f"the {shape} {relation} the {other} {anchor_shape}"
    elif skill == "ordinal":
        placed = [layout.add(shape, color) for _ in range(3)]
        if None in placed:
            return None
        xs = sorted(placed, key=lambda i: layout.objects[i][2][0])
        if min(np.diff([layout.objects[i][2][0] for i in xs])) < 40:
            return None
        rank = int(rng.integers(3))
        side = str(rng.choice(["left", "right"]))
        targets = [xs[rank] if side == "left" else xs[::-1][rank]]
        layout.distractors(2, {(shape, color)})
        phrase = f"the {['first', 'second', 'third'][rank]} {color} {shape} from the {side}"
    elif skill == "multiple":
        count = int(rng.integers(2, 5))
        targets = [layout.add(shape, color) for _ in range(count)]
        if None in targets:
            return None
        layout.distractors(3, {(shape, color)})
        phrase = f"all {color} {PLURAL[shape]}" if rng.random() < 0.5 else f"every {color} {shape}"
        category = str(rng.choice(["remove", "recolor"]))
    elif skill == "counting":
        count = int(rng.integers(2, 4))
        targets = [layout.add(shape, color) for _ in range(count)]
        if None in targets:
            return None
        layout.distractors(3, {(shape, color)})
        phrase = f"both {color} {PLURAL[shape]}" if count == 2 else f"the three {color} {PLURAL[shape]}"
        category = str(rng.choice(["remove", "recolor"]))
    elif skill == "absent":
        layout.distractors(5, {(shape, color)})
        phrase = f"the {color} {shape}"
        category = "remove"
    else:
        raise ValueError(skill)
    if any(t is None for t in targets):
        return None
    template = str(rng.choice(VERBS[category]))
    instruction = template.format(t=phrase, c=other if other != color else "white")
    return instruction, category, targets, layout.objects


SKILLS = ("colour", "left-right", "relative size", "mirror", "relation", "ordinal", "multiple", "counting", "absent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases-per-skill", type=int, default=25)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import cv2

    from editing import EditPipeline, compose, resolve, segment
    from editing.composite import dilate, edit_weights
    from editing.metrics import psnr

    pipe = EditPipeline.from_pretrained("embedded")
    pipe.set_progress_bar_config(disable=True)
    rng = np.random.default_rng(args.seed)
    pipe(compose((64, 64), BACKGROUND, [("circle", "red", (32, 32), 10)]).image, "remove the red circle")  # warm up (loads MiniLM)
    rows: dict[str, list[dict]] = {skill: [] for skill in SKILLS}
    for skill in SKILLS:
        while len(rows[skill]) < args.cases_per_skill:
            case = make_case(skill, rng, args.size)
            if case is None:
                continue
            instruction, category, targets, objects = case
            scene = compose((args.size, args.size), BACKGROUND, objects)
            started = time.perf_counter()
            out = pipe(scene.image, instruction)
            seconds = time.perf_counter() - started
            plan, result, report = out.plans[0], np.asarray(out.images[0]), out.reports[0]
            truth = np.zeros(scene.image.shape[:2], dtype=bool)
            for index in targets:
                truth |= scene.objects[index].mask
            predicted = np.zeros_like(truth)
            if plan.target is not None:
                instances = segment(scene.image)
                for index in resolve(plan.target, instances, (args.size, args.size)).indices:
                    predicted |= instances[index].mask
            # wrong: another object than the target was chosen, or an object that is not a target changed
            # other than by being covered by the moved or grown target
            target_colors = {scene.objects[i].rgb for i in targets}
            wrong = bool((predicted & ~truth).any() or (truth & ~predicted).any())
            for i, obj in enumerate(scene.objects):
                if i in targets:
                    continue
                changed = (result[obj.mask] != scene.image[obj.mask]).any(axis=-1)
                covered = np.isin(result[obj.mask][changed].view([("", np.uint8)] * 3), np.array(list(target_colors), dtype=np.uint8).view([("", np.uint8)] * 3))
                allowed = category in ("move", "resize") and covered.all()
                wrong |= bool(changed.any() and not allowed)
            untouched = edit_weights(out.masks[0], pipe.config["dilation"], pipe.config["feather"]) == 0
            row = {"category_ok": plan.category == category, "wrong": wrong, "seconds": seconds,
                   "inter": int((truth & predicted).sum()), "union": int((truth | predicted).sum()),
                   "outside_psnr": psnr(result[untouched], scene.image[untouched]), "exact": report["outside_band_exact"]}
            if skill == "absent":
                row.update(iou=1.0 if not predicted.any() else 0.0, unchanged=bool(np.array_equal(result, scene.image)))
            else:
                row["iou"] = row["inter"] / max(row["union"], 1)
            if category == "remove" and skill != "absent":
                hole = dilate(truth, pipe.config["dilation"])
                row["hole_psnr"] = psnr(result[hole], scene.clean_plate()[hole])
                started = time.perf_counter()
                telea = cv2.inpaint(scene.image[..., ::-1].copy(), hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)[..., ::-1]
                row["peer_seconds"] = time.perf_counter() - started
                row["peer_hole_psnr"] = psnr(telea[hole], scene.clean_plate()[hole])
            rows[skill].append(row)

    everything = [row for skill_rows in rows.values() for row in skill_rows]
    print(f"{len(everything)} cases, {args.size}x{args.size}, seed {args.seed}\n")
    print("| skill | cases | category accuracy | target gIoU | cIoU | wrong-object edits | outside band bit-exact | median s |")
    print("|---|---|---|---|---|---|---|---|")

    def line(name, group):
        inter, union = sum(r["inter"] for r in group), sum(r["union"] for r in group)
        ciou = inter / union if union else 1.0
        print(f"| {name} | {len(group)} | {np.mean([r['category_ok'] for r in group]):.1%} | {np.mean([r['iou'] for r in group]):.3f} | "
              f"{ciou:.3f} | {np.mean([r['wrong'] for r in group]):.1%} | {np.mean([r['exact'] for r in group]):.0%} | "
              f"{statistics.median(r['seconds'] for r in group):.3f} |")

    for skill, group in rows.items():
        line(skill, group)
    line("**all**", everything)
    absent = rows["absent"]
    print(f"\nabsent targets: image unchanged in {np.mean([r['unchanged'] for r in absent]):.0%} of {len(absent)} cases")
    outside = [r["outside_psnr"] for r in everything]
    print(f"outside the band: PSNR {'inf' if all(np.isinf(outside)) else f'min {min(outside):.1f} dB'} on every case "
          f"(bit-exact in {np.mean([np.isinf(v) for v in outside]):.0%})")

    removals = [r for r in everything if "hole_psnr" in r]
    ours = [r["hole_psnr"] for r in removals]
    peer = [r["peer_hole_psnr"] for r in removals]
    fmt = lambda values: "inf" if np.isinf(np.median(values)) else f"{np.median(values):.1f}"  # noqa: E731
    print("\n| removal (flat backgrounds) | cases | hole PSNR median (dB) | hole PSNR min (dB) | median s per edit |")
    print("|---|---|---|---|---|")
    print(f"| ctrlgen embedded (plan + segment + fill + composite) | {len(ours)} | {fmt(ours)} | {min(ours):.1f} | "
          f"{statistics.median(r['seconds'] for r in removals):.3f} |")
    print(f"| OpenCV Telea inpainting alone, true mask given | {len(peer)} | {fmt(peer)} | {min(peer):.1f} | "
          f"{statistics.median(r['peer_seconds'] for r in removals):.3f} |")

    median_all = statistics.median(r["seconds"] for r in everything)
    peer_median = statistics.median(r["peer_seconds"] for r in removals)
    giou = np.mean([r["iou"] for r in everything])
    targets = [
        ("plan category accuracy >= 95%", np.mean([r["category_ok"] for r in everything]) >= 0.95, f"{np.mean([r['category_ok'] for r in everything]):.1%}"),
        ("target mask gIoU >= 0.90", giou >= 0.90, f"{giou:.3f}"),
        ("wrong-object edits <= 2%", np.mean([r["wrong"] for r in everything]) <= 0.02, f"{np.mean([r['wrong'] for r in everything]):.1%}"),
        ("outside the band bit-exact on every case", all(np.isinf(outside)), f"{np.mean([np.isinf(v) for v in outside]):.0%} of cases"),
        ("removal hole PSNR >= 30 dB", min(ours) >= 30, f"min {min(ours):.1f} dB"),
        (f"median embedded edit of {args.size}x{args.size} <= 1 s", median_all <= 1.0, f"{median_all:.3f} s (OpenCV Telea alone {peer_median:.3f} s, {median_all / peer_median:.1f}x)"),
    ]
    print("\n| target | met | measured |\n|---|---|---|")
    for name, met, measured in targets:
        print(f"| {name} | {'yes' if met else 'NO'} | {measured} |")


if __name__ == "__main__":
    main()
