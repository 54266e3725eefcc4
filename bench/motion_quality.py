"""Lead-Follow guidance on the two-person prior: 50 held-out prompt + trajectory cases, one run.

    python bench/motion_quality.py [--model embedded] [--data DATA] [--cases 50] [--frames 300]

Each case pairs a held-out caption (the test split of a ``ctrlgen motion data build`` dataset, or
built-in prompts) with a leader path of our own making (straight, arcs, S-bends, turns and
loops; walking speeds for walking prompts, slower for the rest), drawn from a fixed seed. Every
configuration runs the same cases with the same seeds:

* unguided: the prior alone (the peer; its path error says where the prior walks on its own);
* pace only: the Pace Controller, no follower adapter (the adapter's ablation);
* lead-follow: Pace Controller + Kinematic Synchronization Adapter (the method).

It prints the leader's path error at the controlled frames (every frame), capsule collisions,
the same frames checked on meshes (the shipped open body, every ``--mesh-stride``-th frame),
foot skating, jerk (a guide that tears the prior's motion apart shows here first), and the median
wall time per clip, with ratios against the unguided run, then the
issue's targets. Published anchors, for scale: trajectory error 1.08 cm (TLControl, one person),
3.38 cm (OmniControl), 14.4 cm (GMD); InterGen 1.6 s per clip on a GPU, Leader-Follower +4 s.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

DEFAULT_PROMPTS = (
    "two people walk side by side", "one person walks behind the other", "two people dance salsa together",
    "two people walk toward each other and shake hands", "two people jog side by side",
)
WALKING_WORDS = ("walk", "jog", "run", "stroll")
PAPER_WINDOW = (0.3, 0.7)  # the Pace Controller's noise levels in the paper


def held_out_prompts(data: str | None) -> list[str]:
    if data is None:
        return list(DEFAULT_PROMPTS)
    from motion.dataset import read_index

    return sorted({row["captions"][0] for row in read_index(Path(data), "test")})


def make_path(kind: str, length: float, rng: np.random.Generator) -> np.ndarray:
    """Waypoints (N, 2) of a path of about ``length`` metres, starting at the origin."""
    s = np.linspace(0.0, 1.0, 25)
    if kind == "straight":
        points = np.stack([np.zeros_like(s), s * length], 1)
    elif kind == "arc":
        turn = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
        radius = length / abs(turn)
        angle = s * turn
        points = np.stack([np.sign(turn) * radius * (1 - np.cos(angle)), radius * np.sin(np.abs(angle))], 1)
    elif kind == "s-bend":
        points = np.stack([rng.uniform(0.1, 0.25) * length * np.sin(2 * np.pi * s), s * length], 1)
    elif kind == "turn":
        corner = rng.uniform(0.4, 0.6)
        side = rng.choice([-1, 1])
        points = np.stack([np.where(s < corner, 0.0, side * (s - corner)), np.minimum(s, corner)], 1) * length
    elif kind == "loop":
        radius = length / (2 * np.pi)
        angle = s * 2 * np.pi
        points = np.stack([radius * (1 - np.cos(angle)), radius * np.sin(angle)], 1)
    else:
        raise ValueError(kind)
    points = points @ np.array([[np.cos(a := rng.uniform(-np.pi, np.pi)), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return points + rng.uniform(-2, 2, size=2)


def make_cases(prompts: list[str], count: int, frames: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    kinds = ("straight", "arc", "s-bend", "turn", "loop")
    cases = []
    for index in range(count):
        prompt = prompts[index % len(prompts)]
        walking = any(word in prompt for word in WALKING_WORDS)
        speed = rng.uniform(0.8, 1.3) if walking else rng.uniform(0.15, 0.4)  # m/s
        kind = kinds[index % len(kinds)]
        cases.append({"prompt": prompt, "kind": kind, "seed": index,
                      "path": make_path(kind, speed * frames / 30.0, rng).round(4).tolist()})
    return cases


def run(pipe, cases: list[dict], frames: int, **guides) -> list[dict]:
    results = []
    for case in cases:
        started = time.perf_counter()
        out = pipe(case["prompt"], leader_trajectory=case["path"], leader="random", num_frames=frames,
                   generator=torch.Generator().manual_seed(case["seed"]), **guides)
        results.append({"seconds": time.perf_counter() - started, "report": out.reports[0], "joints": out.motions[0].numpy()})
    return results


def mesh_confirm(results: list[dict], stride: int) -> dict:
    from motion.export import MotionFile
    from motion.mesh import mesh_report

    reports = [mesh_report(MotionFile(r["joints"].transpose(1, 0, 2, 3), 30.0, None, None, None), stride=stride) for r in results]
    return {"colliding": float(np.mean([m["colliding_frame_rate"] for m in reports])),
            "depth": float(np.mean([m["penetration_max_m"] for m in reports]))}


def summarise(results: list[dict]) -> dict:
    reports = [r["report"] for r in results]
    paths = [r["leader_path"] for r in reports]
    return {
        "error_mean": float(np.mean([p["trajectory_error_mean_m"] for p in paths])),
        "error_max": float(np.max([p["trajectory_error_max_m"] for p in paths])),
        "fail": float(np.mean([p["trajectory_error_max_m"] > 0.5 for p in paths])),
        "colliding": float(np.mean([r["colliding_frame_rate"] for r in reports])),
        "depth": float(np.mean([r["penetration_max_m"] for r in reports])),
        "depth_worst": float(np.max([r["penetration_max_m"] for r in reports])),
        "skating": float(np.mean([(r["person_a"]["foot_skating_ratio"] + r["person_b"]["foot_skating_ratio"]) / 2 for r in reports])),
        "jerk": float(np.mean([(r["person_a"]["jerk_mps3"] + r["person_b"]["jerk_mps3"]) / 2 for r in reports])),
        "seconds": statistics.median(r["seconds"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--data", default=None, help="a `ctrlgen motion data build` directory: prompts from its test split")
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--mesh-stride", type=int, default=10, help="mesh-check every Nth frame (0: skip the mesh check)")
    parser.add_argument("--json", default=None, help="also write the summary here")
    args = parser.parse_args()

    from motion import LeadFollowPipeline, PaceController

    torch.manual_seed(0)
    pipe = LeadFollowPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    cases = make_cases(held_out_prompts(args.data), args.cases, args.frames)
    pipe("warm up", num_frames=args.frames, num_inference_steps=2)
    configs = {"unguided": {"use_pace_controller": False, "use_adapter": False},
               "pace only": {"use_adapter": False},
               "lead-follow": {}}
    if tuple(pipe.config["pace_controller"]["window"]) != PAPER_WINDOW:  # this model's window differs: show the paper's too
        paper = {**pipe.config["pace_controller"], "window": PAPER_WINDOW}
        configs["lead-follow, paper window"] = {"pace_controller": PaceController(**paper)}
    summary, raw = {}, {}
    for name, guides in configs.items():
        raw[name] = run(pipe, cases, args.frames, **guides)
        summary[name] = summarise(raw[name])
        if args.mesh_stride and name in ("pace only", "lead-follow"):
            summary[name]["mesh"] = mesh_confirm(raw[name], args.mesh_stride)
        print(f"{name}: done ({summary[name]['seconds']:.2f} s per clip)", flush=True)

    steps = pipe.config["num_inference_steps"]
    print(f"\n{args.cases} cases, {args.frames} frames ({args.frames / 30:.0f} s), DDIM {steps} steps, "
          f"guidance scale {pipe.config['guidance_scale']}, model {args.model}, torch threads {torch.get_num_threads()}")
    print(f"Pace Controller {pipe.config['pace_controller']}\nadapter {pipe.config['adapter']}\n")
    print("| method | leader error mean (cm) | max (cm) | off > 50 cm | colliding frames | max penetration, mean/worst (cm) "
          "| mesh colliding | mesh depth (cm) | foot skating | jerk (m/s^3) | s/clip (median) | time vs unguided |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = summary["unguided"]
    for name, s in summary.items():
        mesh = s.get("mesh")
        mesh_cells = f"{mesh['colliding']:.1%} | {mesh['depth'] * 100:.1f}" if mesh else "– | –"
        print(f"| {name} | {s['error_mean'] * 100:.1f} | {s['error_max'] * 100:.1f} | {s['fail']:.0%} | {s['colliding']:.1%} | "
              f"{s['depth'] * 100:.1f} / {s['depth_worst'] * 100:.1f} | {mesh_cells} | {s['skating']:.1%} | "
              f"{s['jerk']:.0f} ({s['jerk'] / base['jerk']:.2f}x) | {s['seconds']:.2f} | "
              f"{s['seconds'] / base['seconds']:.2f}x |")

    full, ablation = summary["lead-follow"], summary["pace only"]
    targets = [
        ("leader error mean <= 5 cm", full["error_mean"] <= 0.05, f"{full['error_mean'] * 100:.1f} cm"),
        ("0% of sequences off by > 50 cm", full["fail"] == 0, f"{full['fail']:.0%}"),
        ("colliding frames with adapter <= half without", full["colliding"] <= 0.5 * ablation["colliding"],
         f"{full['colliding']:.1%} vs {ablation['colliding']:.1%}"),
        ("max penetration with adapter <= half without", full["depth"] <= 0.5 * ablation["depth"],
         f"{full['depth'] * 100:.1f} vs {ablation['depth'] * 100:.1f} cm"),
        ("foot skating <= unguided + 10%", full["skating"] <= base["skating"] * 1.1, f"{full['skating']:.1%} vs {base['skating']:.1%}"),
        (f"median {args.frames}-frame clip with guidance <= 2 s", full["seconds"] <= 2.0, f"{full['seconds']:.2f} s (unguided {base['seconds']:.2f} s)"),
    ]
    if "mesh" in full:
        targets.insert(4, ("mesh: colliding frames and depth with adapter <= half without",
                           full["mesh"]["colliding"] <= 0.5 * ablation["mesh"]["colliding"] and full["mesh"]["depth"] <= 0.5 * ablation["mesh"]["depth"],
                           f"{full['mesh']['colliding']:.1%} / {full['mesh']['depth'] * 100:.1f} cm vs "
                           f"{ablation['mesh']['colliding']:.1%} / {ablation['mesh']['depth'] * 100:.1f} cm"))
    print("\n| target | met | measured |\n|---|---|---|")
    for name, met, measured in targets:
        print(f"| {name} | {'yes' if met else 'NO'} | {measured} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": args.cases, "frames": args.frames, "steps": steps, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
