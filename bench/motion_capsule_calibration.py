"""How the capsule body's free sizes were chosen: against exact mesh verdicts on real pairs.

    python bench/motion_capsule_calibration.py [--frames-per-pair 40]

Mesh verdicts (the shipped open body, motion.body) on the recorded CMU pairs are the reference.
Half the pairs (every other one) choose the hand reach, the hand radius and scale factors for the
trunk, upper-arm and forearm capsules (PHC's SMPL radii otherwise); the other half checks the
choice. Prints the best settings on the calibration half and their agreement on both halves,
beside the shipped settings. Asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
from pathlib import Path

import numpy as np
import torch

TRUNK, UPPER, FORE, HANDS = ("spine1", "spine2", "spine3", "neck"), ("l_elbow", "r_elbow"), ("l_wrist", "r_wrist"), ("l_hand", "r_hand")
# the shipped radii divided back to PHC's for the scaled groups
PHC = {"spine1": 0.0942, "spine2": 0.0769, "spine3": 0.0755, "neck": 0.1002, "l_elbow": 0.0517, "r_elbow": 0.0517,
       "l_wrist": 0.0405, "r_wrist": 0.0405}


def recorded_pairs():
    spec = importlib.util.spec_from_file_location("motion_collision", Path(__file__).with_name("motion_collision.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.recorded_pairs()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames-per-pair", type=int, default=40)
    args = parser.parse_args()

    from motion import capsules
    from motion.body import load_body
    from motion.mesh import mesh_contact

    body = load_body()
    halves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"calibration": [], "check": []}
    for number, (_, joints, _) in enumerate(recorded_pairs()):
        chosen = np.linspace(0, joints.shape[0] - 1, args.frames_per_pair).astype(int)
        a, b = body.pose(joints[chosen, 0]), body.pose(joints[chosen, 1])
        verdicts = np.array([mesh_contact(x, y, body.faces).colliding for x, y in zip(a, b, strict=True)])
        halves["calibration" if number % 2 == 0 else "check"].append((joints[chosen], verdicts))

    shipped = list(capsules.CAPSULES)
    shipped_offsets = capsules.HAND_OFFSETS
    base_offsets = np.array(shipped_offsets) / capsules.HAND_REACH

    def agreement(half: str, reach: float, hand: float, trunk: float, upper: float, fore: float) -> float:
        factor = {**dict.fromkeys(TRUNK, trunk), **dict.fromkeys(UPPER, upper), **dict.fromkeys(FORE, fore)}
        capsules.CAPSULES = tuple(
            (name, start, end, hand if name in HANDS else PHC[name] * factor[name] if name in factor else radius)
            for name, start, end, radius in shipped
        )
        capsules.HAND_OFFSETS = tuple(map(tuple, base_offsets * reach))
        joints = torch.tensor(np.concatenate([j for j, _ in halves[half]]))
        verdicts = np.concatenate([v for _, v in halves[half]])
        with torch.no_grad():
            capsule = capsules.capsule_contacts(joints[:, 0], joints[:, 1]).colliding().numpy()
        return float((capsule == verdicts).mean())

    grid = itertools.product((1.0, 1.1, 1.2), (0.025, 0.03, 0.035), (1.0, 1.1, 1.2), (0.9, 1.0, 1.1), (0.9, 1.0, 1.1))
    scored = sorted(((agreement("calibration", *settings), settings) for settings in grid), reverse=True)
    print("| settings (reach, hand radius, trunk, upper arm, forearm) | calibration half | check half |")
    print("|---|---:|---:|")
    for score, settings in scored[:5]:
        print(f"| {settings} | {score:.1%} | {agreement('check', *settings):.1%} |")
    shipped_settings = (capsules.HAND_REACH, 0.025, 1.2, 0.9, 0.9)
    print(f"| shipped {shipped_settings} | {agreement('calibration', *shipped_settings):.1%} | {agreement('check', *shipped_settings):.1%} |")
    capsules.CAPSULES, capsules.HAND_OFFSETS = tuple(shipped), shipped_offsets


if __name__ == "__main__":
    main()
