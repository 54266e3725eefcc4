"""Collision checks on real two-person mocap (CMU salsa pairs), in one run:

* the capsule body (torch): time per frame over a 10k-frame batch (target <= 0.2 ms);
* the exact mesh check (motion.mesh.mesh_contact: box pruning, then contains and depth): time per
  frame (target <= 150 ms);
* the peer: plain trimesh ``contains`` of every vertex against the other mesh, same frames;
* how often the capsule and mesh verdicts (collision yes/no) agree.

    python bench/motion_collision.py [--smpl SMPL_NEUTRAL.pkl] [--mesh-frames 60]

Meshes come from ``--smpl`` (or $CTRLGEN_SMPL_MODEL); without one, from a synthetic model file
in the SMPL format (spheres at the SMPL joints) so the timing path still runs; the table says which.
Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
MOCAP = REPO.parent / "shared" / "data" / "mocap" / "beemsoft_webxr_cmu_salsa_60_61"


def salsa_pairs(limit: int) -> list[np.ndarray]:
    from motion.retarget import import_pair

    pairs = []
    for lead in sorted(MOCAP.glob("60_*_scaled*.bvh"))[:limit]:
        trial = lead.name[3:5]
        follow = sorted(MOCAP.glob(f"61_{trial}_scaled*.bvh"))
        if follow:
            clips = import_pair(lead, follow[0])
            pairs.append((np.stack([c.joints for c in clips], 1), np.stack([c.local_rotations for c in clips], 1)))
    return pairs


def time_capsules(joints: np.ndarray, frames: int = 10_000, repeats: int = 5) -> float:
    from motion.capsules import capsule_contacts

    batch = torch.tensor(np.resize(joints, (frames, *joints.shape[1:])), dtype=torch.float32)
    capsule_contacts(batch[:100, 0], batch[:100, 1])  # warm up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with torch.no_grad():
            capsule_contacts(batch[:, 0], batch[:, 1])
        best = min(best, time.perf_counter() - started)
    return best / frames * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smpl", default=os.environ.get("CTRLGEN_SMPL_MODEL"))
    parser.add_argument("--mesh-frames", type=int, default=60, help="frames for the mesh checks (spread over the clips)")
    parser.add_argument("--pairs", type=int, default=14)
    args = parser.parse_args()

    from motion.capsules import capsule_contacts
    from motion.export import smpl_parameters
    from motion.mesh import SMPLBody, mesh_contact, plain_contains_contact, write_synthetic_smpl

    pairs = salsa_pairs(args.pairs)
    joints = np.concatenate([j for j, _ in pairs])
    rotations = np.concatenate([r for _, r in pairs])
    print(f"{len(pairs)} salsa pairs, {joints.shape[0]} frames at 30 fps")

    capsule_ms = time_capsules(joints)
    with torch.no_grad():
        capsule_verdict = capsule_contacts(torch.tensor(joints[:, 0], dtype=torch.float32),
                                           torch.tensor(joints[:, 1], dtype=torch.float32)).colliding().numpy()

    if args.smpl:
        body, body_name = SMPLBody(args.smpl), f"SMPL ({Path(args.smpl).name})"
    else:
        body = SMPLBody(write_synthetic_smpl(Path(tempfile.mkdtemp()) / "SMPL_NEUTRAL.pkl"))
        body_name = "synthetic SMPL-format spheres (no SMPL file given)"
    chosen = np.linspace(0, joints.shape[0] - 1, args.mesh_frames).astype(int)
    people = []
    for person in range(2):
        poses, trans = smpl_parameters(rotations[chosen, person], joints[chosen, person, 0])
        people.append(body.vertices(poses, trans))
    mesh_contact(people[0][0], people[1][0], body.faces)  # warm up the ray backend

    started = time.perf_counter()
    contacts = [mesh_contact(a, b, body.faces) for a, b in zip(*people, strict=True)]
    mesh_ms = (time.perf_counter() - started) / len(chosen) * 1000
    started = time.perf_counter()
    plain = [plain_contains_contact(a, b, body.faces) for a, b in zip(*people, strict=True)]
    plain_ms = (time.perf_counter() - started) / len(chosen) * 1000
    mesh_verdict = np.array([c.colliding for c in contacts])
    agree = float((mesh_verdict == capsule_verdict[chosen]).mean())
    same = all(abs(c.inside_fraction - p) < 1e-12 for c, p in zip(contacts, plain, strict=True))

    print(f"\nmesh body: {body_name}; {len(chosen)} frames for the mesh checks\n")
    print("| check | ms / frame | target | peer ratio |")
    print("|---|---:|---:|---:|")
    print(f"| capsules (torch, 10k-frame batch) | {capsule_ms:.4f} | <= 0.2 | |")
    print(f"| exact mesh (pruned contains + depth) | {mesh_ms:.1f} | <= 150 | {plain_ms / mesh_ms:.2f}x faster |")
    print(f"| peer: trimesh contains, all vertices | {plain_ms:.1f} | | 1.00 |")
    print(f"\nmesh verdicts equal to the plain contains verdicts: {same}")
    print(f"capsule vs mesh verdict agreement: {agree:.1%} of {len(chosen)} frames "
          f"(capsule colliding {capsule_verdict[chosen].mean():.1%}, mesh colliding {mesh_verdict.mean():.1%})")


if __name__ == "__main__":
    main()
