"""The capsule body: a capsule per SMPL-22 bone (plus pelvis, skull and hands), and penetration
between two people in torch.

Fast and differentiable, so guidance can step down its gradient: every frame, every bone of one
person against every bone of the other, closest points between segments in closed form. A
penetration depth is ``r_a + r_b - distance`` where positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .skeleton import JOINT_NAMES, world_rotations_from_joints

# The capsule body of the SMPL mean shape. Radii start from those PHC fitted to the SMPL mean
# mesh for its simulated humanoid (ZhengyiLuo/PHC, smpl_humanoid.xml: one capsule per body part);
# here every capsule spans its whole bone, so joints are covered too. Some were then sized so the
# capsule verdicts match exact mesh verdicts (the shipped open body, motion.body) on half of the
# recorded CMU pairs, checked on the other half (bench/motion_capsule_calibration.py): the four
# trunk capsules x1.2 (PHC's are inner fits; a trunk is wider than deep), upper arms and forearms
# x0.9, and the hands 2.5 cm thick. Each entry: (name, start joint, end joint or None for a sphere, radius).
CAPSULES: tuple[tuple[str, int, int | None, float], ...] = (
    ("pelvis", 0, None, 0.0942), ("l_hip", 0, 1, 0.0942), ("r_hip", 0, 2, 0.0942), ("spine1", 0, 3, 0.113),
    ("l_knee", 1, 4, 0.0615), ("r_knee", 2, 5, 0.0606), ("spine2", 3, 6, 0.0923), ("l_ankle", 4, 7, 0.0541),
    ("r_ankle", 5, 8, 0.0541), ("spine3", 6, 9, 0.0906), ("l_foot", 7, 10, 0.047), ("r_foot", 8, 11, 0.047),
    ("neck", 9, 12, 0.1202), ("l_collar", 9, 13, 0.0521), ("r_collar", 9, 14, 0.0511), ("head", 12, 15, 0.0436),
    ("skull", 15, None, 0.1011), ("l_shoulder", 13, 16, 0.0521), ("r_shoulder", 14, 17, 0.0511),
    ("l_elbow", 16, 18, 0.0465), ("r_elbow", 17, 19, 0.0465), ("l_wrist", 18, 20, 0.0365), ("r_wrist", 19, 21, 0.0365),
    ("l_hand", 20, -18, 0.025), ("r_hand", 21, -19, 0.025),  # negative: the hand, placed below
)
# Where each hand capsule ends relative to its wrist in the SMPL rest pose (left, right): the
# mean of the hand's vertices on the open body, turned into SMPL's rest frame and taken 20%
# further (the reach chosen with the radii above). ``tests/motion/test_body.py`` recomputes them.
HAND_REACH = 1.2
HAND_OFFSETS = ((0.1598, -0.0628, 0.0044), (-0.1596, -0.0636, 0.0019))
CAPSULE_NAMES: tuple[str, ...] = tuple(name for name, *_ in CAPSULES)


def capsule_radii(scale: float = 1.0, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """(25,) capsule radii in ``CAPSULE_NAMES`` order."""
    return torch.tensor([radius * scale for *_, radius in CAPSULES], dtype=dtype, device=device)


_STARTS = [start for _, start, _, _ in CAPSULES]
_ENDS = [start if end is None else abs(end) if end < 0 else end for _, start, end, _ in CAPSULES]
_HANDS = [index for index, (_, _, end, _) in enumerate(CAPSULES) if end is not None and end < 0]


HAND_STYLES = ("skinned", "forearm")


def elbow_rotations(joints: torch.Tensor) -> torch.Tensor:
    """World rotations (..., 22, 3, 3) with the elbows' filled in: what ``hands="skinned"`` turns the hands by."""
    with torch.no_grad():
        return world_rotations_from_joints(joints.detach(), only=(18, 19))


def capsule_segments(joints: torch.Tensor, hands: str = "skinned", rotations: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(start, end) points (..., 25, 3) of every capsule of ``joints`` (..., 22, 3).

    A hand runs from the wrist to where the hand's middle sits. ``hands="skinned"``: its rest
    offset turned by the forearm's orientation (the inverse kinematics of the whole body, as the
    skinned mesh does; held constant for gradients, which reach the hand through the wrist).
    ``hands="forearm"``: the same length straight along the forearm, a smooth function of the
    joints (the twist of a straight arm is ill-conditioned, so guidance steps use this one).
    ``rotations``: ``elbow_rotations`` computed earlier, to reuse them while the joints move a little.
    """
    if hands not in HAND_STYLES:
        raise ValueError(f"hands must be one of {HAND_STYLES}, got {hands!r}")
    starts = joints[..., _STARTS, :]
    ends = joints[..., _ENDS, :]
    if hands == "skinned":
        world = elbow_rotations(joints) if rotations is None else rotations
    for index, (wrist, elbow, offset) in zip(_HANDS, ((20, 18, HAND_OFFSETS[0]), (21, 19, HAND_OFFSETS[1])), strict=True):
        if hands == "skinned":
            tip = joints[..., wrist, :] + (world[..., elbow, :, :] @ joints.new_tensor(offset)[:, None])[..., 0]
        else:
            forearm = joints[..., wrist, :] - joints[..., elbow, :]
            reach = float(torch.tensor(offset).norm())
            tip = joints[..., wrist, :] + forearm * (reach / (forearm.norm(dim=-1, keepdim=True) + 1e-6))
        ends = torch.cat([ends[..., :index, :], tip[..., None, :], ends[..., index + 1 :, :]], dim=-2)
    return starts, ends


def segment_distances(p1: torch.Tensor, q1: torch.Tensor, p2: torch.Tensor, q2: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Distance between segments p1-q1 (..., n, 3) and p2-q2 (..., m, 3), all pairs: (..., n, m).

    Closest points on two segments (Ericson, Real-Time Collision Detection, 5.1.9), clamped to
    the segments and safe for zero-length ones.
    """
    d1 = (q1 - p1).unsqueeze(-2)  # (..., n, 1, 3)
    d2 = (q2 - p2).unsqueeze(-3)  # (..., 1, m, 3)
    r = p1.unsqueeze(-2) - p2.unsqueeze(-3)  # (..., n, m, 3)
    a = (d1 * d1).sum(-1)
    e = (d2 * d2).sum(-1)
    f = (d2 * r).sum(-1)
    c = (d1 * r).sum(-1)
    b = (d1 * d2).sum(-1)
    denominator = a * e - b * b
    # s on the first segment: unconstrained optimum when not parallel, else 0
    s = torch.where(denominator > eps, ((b * f - c * e) / denominator.clamp_min(eps)).clamp(0, 1), torch.zeros_like(denominator))
    t = (b * s + f) / e.clamp_min(eps)
    # t outside [0, 1]: clamp it and recompute s for that end
    t_clamped = t.clamp(0, 1)
    s = torch.where(t != t_clamped, ((b * t_clamped - c) / a.clamp_min(eps)).clamp(0, 1), s)
    # a point for a second segment: t = 0 and s is the projection onto the first
    s = torch.where(e > eps, s, (-c / a.clamp_min(eps)).clamp(0, 1))
    t = torch.where(e > eps, t_clamped, torch.zeros_like(t))
    s = torch.where(a > eps, s, torch.zeros_like(s))
    closest = r + d1 * s.unsqueeze(-1) - d2 * t.unsqueeze(-1)
    return (closest * closest).sum(-1).clamp_min(1e-18).sqrt()


@dataclass
class CapsuleContacts:
    """Per-frame penetration between person A and person B."""

    depth: torch.Tensor  # (..., frames) deepest capsule overlap in metres (0 when apart)
    capsule_pair: torch.Tensor  # (..., frames, 2) indices into CAPSULE_NAMES of A's and B's deepest pair
    clearance: torch.Tensor  # (..., frames) smallest surface gap (negative when they overlap)

    def colliding(self, tolerance: float = 0.0) -> torch.Tensor:
        return self.depth > tolerance

    def closest_capsules(self, frame: int) -> tuple[str, str]:
        a, b = (int(i) for i in self.capsule_pair.reshape(-1, 2)[frame])
        return CAPSULE_NAMES[a], CAPSULE_NAMES[b]


def capsule_gaps(joints_a: torch.Tensor, joints_b: torch.Tensor, radius_scale: float = 1.0, hands: str = "skinned") -> torch.Tensor:
    """Surface gap of every capsule of A to every capsule of B, (..., 25, 25), negative where they overlap."""
    radii = capsule_radii(radius_scale, joints_a.dtype, joints_a.device)
    start_a, end_a = capsule_segments(joints_a, hands)
    start_b, end_b = capsule_segments(joints_b, hands)
    return segment_distances(start_a, end_a, start_b, end_b) - (radii[:, None] + radii[None, :])


def capsule_contacts(joints_a: torch.Tensor, joints_b: torch.Tensor, radius_scale: float = 1.0, hands: str = "skinned") -> CapsuleContacts:
    """Penetration of two people's capsule bodies, every frame; ``joints_*`` (..., frames, 22, 3).

    Differentiable in both inputs. ``radius_scale`` grows (>1) or shrinks every capsule, e.g. for
    a safety margin in guidance. ``hands``: see :func:`capsule_segments`.
    """
    if joints_a.shape != joints_b.shape or joints_a.shape[-2:] != (len(JOINT_NAMES), 3):
        raise ValueError(f"joints_a and joints_b must both have shape (..., 22, 3), got {tuple(joints_a.shape)} and {tuple(joints_b.shape)}")
    flat = capsule_gaps(joints_a, joints_b, radius_scale, hands).flatten(-2)
    clearance, index = flat.min(-1)
    count = len(CAPSULE_NAMES)
    pair = torch.stack([torch.div(index, count, rounding_mode="floor"), index % count], dim=-1)
    return CapsuleContacts(depth=(-clearance).clamp_min(0), capsule_pair=pair, clearance=clearance)
