"""The capsule body: exact segment distances, known overlaps and gaps, gradients that push apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mocap_data import facing_pair

from motion.capsules import CAPSULE_NAMES, capsule_contacts, segment_distances
from motion.skeleton import SMPL_REST_JOINTS


def brute_force_distance(p1, q1, p2, q2, samples=2001):
    s = np.linspace(0, 1, samples)[:, None]
    a = p1 + s * (q1 - p1)
    b = p2 + s * (q2 - p2)
    # distance from each point of one segment to the other segment, exactly, both ways
    def to_segment(points, p, q):
        d = q - p
        t = np.clip(((points - p) @ d) / max(d @ d, 1e-18), 0, 1)
        return np.linalg.norm(points - (p + t[:, None] * d), axis=-1).min()
    return min(to_segment(a, p2, q2), to_segment(b, p1, q1))


def test_segment_distance_matches_brute_force_including_degenerate_and_parallel_cases():
    rng = np.random.default_rng(0)
    cases = [rng.normal(size=(4, 3)) for _ in range(40)]
    cases.append(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float))  # parallel
    cases.append(np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0], [1, 1, 0]], float))  # first is a point
    cases.append(np.array([[0, 0, 0], [1, 0, 0], [0.5, 1, 0], [0.5, 1, 0]], float))  # second is a point
    cases.append(np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], float))  # collinear, apart
    for p1, q1, p2, q2 in cases:
        ours = segment_distances(*(torch.tensor(v, dtype=torch.float64)[None] for v in (p1, q1, p2, q2)))[0, 0]
        assert float(ours) == pytest.approx(brute_force_distance(p1, q1, p2, q2), abs=2e-3)


def test_bodies_pressed_together_collide_and_bodies_apart_do_not():
    touching = torch.tensor(facing_pair(0.15), dtype=torch.float32)
    apart = torch.tensor(facing_pair(0.8), dtype=torch.float32)
    near = capsule_contacts(touching[:, 0], touching[:, 1])
    far = capsule_contacts(apart[:, 0], apart[:, 1])
    assert bool(near.colliding()[0]) and float(near.depth[0]) > 0.05
    assert not bool(far.colliding()[0]) and float(far.clearance[0]) > 0.2
    assert near.closest_capsules(0)[0] in CAPSULE_NAMES


def test_a_hand_reaching_into_the_chest_is_found_at_the_right_bones():
    pair = facing_pair(1.0)[0].copy()
    chest_b = pair[1, 9]
    pair[0, 21] = chest_b + np.array([0.0, 0.0, 0.02])  # A's right wrist just inside B's upper chest
    pair[0, 19] = chest_b + np.array([0.0, 0.0, -0.25])
    joints = torch.tensor(pair[None], dtype=torch.float32)
    contacts = capsule_contacts(joints[:, 0], joints[:, 1])
    assert bool(contacts.colliding()[0])
    bone_a, bone_b = contacts.closest_capsules(0)
    assert bone_a in ("r_wrist", "r_hand", "r_elbow") and bone_b in ("spine3", "neck", "spine2", "l_collar", "r_collar")


def test_penetration_gradient_pushes_the_people_apart():
    joints = torch.tensor(facing_pair(0.15), dtype=torch.float32).repeat(3, 1, 1, 1)
    offset = torch.zeros(3, 1, 3, requires_grad=True)
    for _ in range(60):
        contacts = capsule_contacts(joints[:, 0], joints[:, 1] + offset)
        loss = contacts.depth.sum()
        if float(loss.detach()) == 0.0:
            break
        (grad,) = torch.autograd.grad(loss, offset)
        with torch.no_grad():
            offset -= 0.05 * grad / grad.norm().clamp_min(1e-9)
    assert float(capsule_contacts(joints[:, 0], joints[:, 1] + offset.detach()).depth.max()) == 0.0
    assert float(offset.detach()[0, 0, 2]) > 0  # B moved away along +z, the way it faces away from A


def test_batches_of_sequences_and_bad_shapes():
    joints = torch.tensor(facing_pair(0.8), dtype=torch.float32).repeat(5, 1, 1, 1)
    batch = torch.stack([joints, joints])  # (2, 5, 2, 22, 3)
    contacts = capsule_contacts(batch[:, :, 0], batch[:, :, 1])
    assert contacts.depth.shape == (2, 5) and contacts.capsule_pair.shape == (2, 5, 2)
    with pytest.raises(ValueError, match="22, 3"):
        capsule_contacts(joints[:, 0, :21], joints[:, 1, :21])


def test_forearm_hands_are_smooth_and_along_the_forearm():
    from motion.capsules import HAND_OFFSETS, capsule_segments

    joints = torch.tensor(SMPL_REST_JOINTS, dtype=torch.float64, requires_grad=True)
    _, ends = capsule_segments(joints, hands="forearm")
    index = CAPSULE_NAMES.index("l_hand")
    forearm = joints[20] - joints[18]
    expected = joints[20] + forearm / forearm.norm() * float(np.linalg.norm(HAND_OFFSETS[0]))
    torch.testing.assert_close(ends[index], expected, rtol=0, atol=1e-5)
    ends[index].sum().backward()
    assert joints.grad[18].abs().sum() > 0  # the elbow moves the hand too
    with pytest.raises(ValueError, match="hands must be one of"):
        capsule_segments(joints, hands="mittens")
