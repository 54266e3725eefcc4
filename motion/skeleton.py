"""The SMPL 22-joint body: joint order, tree, mean-shape rest pose, forward and inverse kinematics.

Conventions (see ARCHITECTURE.md): metres, y up; a body in its rest pose faces +z with its left
side on +x (SMPL's own frame). Rotations are ``(..., 3, 3)`` matrices that act on column vectors;
``local_rotations[..., j]`` turns joint ``j``'s rest offsets relative to its parent's frame, and
the pelvis entry is the body's global orientation.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "l_hip", "r_hip", "spine1", "l_knee", "r_knee", "spine2", "l_ankle", "r_ankle", "spine3", "l_foot",
    "r_foot", "neck", "l_collar", "r_collar", "head", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist",
    "r_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
JOINT_INDEX = {name: index for index, name in enumerate(JOINT_NAMES)}
# (parent, child) for every bone, in joint order of the child
BONES: tuple[tuple[int, int], ...] = tuple((PARENTS[j], j) for j in range(1, NUM_JOINTS))
# InterGen's chains (its losses and plots walk these)
KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21), (9, 13, 16, 18, 20),
)
FOOT_JOINTS = (7, 10, 8, 11)  # l_ankle, l_foot, r_ankle, r_foot: InterGen's contact order
# left/right joint pairs, for mirroring
MIRROR_PAIRS = ((1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21))

# SMPL neutral model, mean shape, zero pose: J_regressor @ v_template (metres, SMPL frame).
# Values as published in public SMPL tooling (e.g. PHC's smpl_humanoid offsets, which sum to these).
SMPL_REST_JOINTS = np.array(
    [
        [-0.001795, -0.223333, 0.028219], [0.067725, -0.314740, 0.021404], [-0.069466, -0.313855, 0.023899],
        [-0.004328, -0.114370, 0.001523], [0.102001, -0.689938, 0.016908], [-0.107756, -0.696424, 0.015049],
        [0.001159, 0.020810, 0.002615], [0.088406, -1.087899, -0.026785], [-0.091982, -1.094839, -0.027263],
        [0.002616, 0.073732, 0.028040], [0.114764, -1.143690, 0.092503], [-0.117354, -1.142983, 0.096085],
        [-0.000162, 0.287603, -0.014817], [0.081461, 0.195482, -0.006050], [-0.079143, 0.192565, -0.010575],
        [0.004990, 0.352572, 0.036532], [0.172438, 0.225951, -0.014918], [-0.175155, 0.225116, -0.019719],
        [0.432050, 0.213179, -0.042374], [-0.428897, 0.211787, -0.041119], [0.681284, 0.222165, -0.043545],
        [-0.684196, 0.219560, -0.046679],
    ]
)


def rest_offsets(rest_joints: np.ndarray = SMPL_REST_JOINTS) -> np.ndarray:
    """(22, 3) offset of every joint from its parent in the rest pose; the pelvis row is its position."""
    rest_joints = np.asarray(rest_joints, dtype=np.float64)
    offsets = rest_joints.copy()
    offsets[1:] -= rest_joints[list(PARENTS[1:])]
    return offsets


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(..., 21) length of every bone of ``joints`` (..., 22, 3)."""
    joints = np.asarray(joints)
    return np.linalg.norm(joints[..., 1:, :] - joints[..., list(PARENTS[1:]), :], axis=-1)


def forward_kinematics(local_rotations: np.ndarray, root_positions: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """Joint positions (..., 22, 3) from local rotations (..., 22, 3, 3) and pelvis positions (..., 3)."""
    offsets = rest_offsets() if offsets is None else np.asarray(offsets, dtype=np.float64)
    local_rotations = np.asarray(local_rotations, dtype=np.float64)
    world = np.empty_like(local_rotations)
    joints = np.empty(local_rotations.shape[:-1], dtype=np.float64)
    world[..., 0, :, :] = local_rotations[..., 0, :, :]
    joints[..., 0, :] = root_positions
    for joint in range(1, NUM_JOINTS):
        parent = PARENTS[joint]
        world[..., joint, :, :] = world[..., parent, :, :] @ local_rotations[..., joint, :, :]
        joints[..., joint, :] = joints[..., parent, :] + np.einsum("...ij,j->...i", world[..., parent, :, :], offsets[joint])
    return joints


def _best_rotation(source, target):
    """Rotations (..., 3, 3) that best turn the vectors ``source`` (..., n, 3) onto ``target`` (Kabsch); torch."""
    import torch

    covariance = torch.einsum("...ni,...nj->...ij", target, source)
    u, _, vh = torch.linalg.svd(covariance)
    sign = torch.sign(torch.linalg.det(u @ vh))
    flip = torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], dim=-1)  # a rotation, never a reflection
    return (u * flip[..., None, :]) @ vh


def _minimal_rotation(source, target):
    """Shortest-arc rotations (..., 3, 3) turning unit vectors ``source`` onto ``target`` (both (..., 3)); torch."""
    import torch

    cosine = (source * target).sum(-1)
    axis = torch.cross(source, target, dim=-1)
    zero = torch.zeros_like(cosine)
    k = torch.stack([
        torch.stack([zero, -axis[..., 2], axis[..., 1]], -1),
        torch.stack([axis[..., 2], zero, -axis[..., 0]], -1),
        torch.stack([-axis[..., 1], axis[..., 0], zero], -1),
    ], -2)
    eye = torch.eye(3, dtype=source.dtype, device=source.device)
    rotation = eye + k + (k @ k) / (1 + cosine).clamp_min(1e-9)[..., None, None]
    opposite = cosine < -1 + 1e-9
    if bool(opposite.any()):  # half turn about any axis normal to source
        helper = torch.where(source[..., :1].abs() < 0.9, source.new_tensor([1.0, 0.0, 0.0]), source.new_tensor([0.0, 1.0, 0.0]))
        normal = torch.nn.functional.normalize(torch.cross(source, helper, dim=-1), dim=-1)
        half_turn = 2 * normal[..., :, None] * normal[..., None, :] - eye
        rotation = torch.where(opposite[..., None, None], half_turn, rotation)
    return rotation


CHILDREN: tuple[tuple[int, ...], ...] = tuple(tuple(c for c in range(NUM_JOINTS) if PARENTS[c] == j) for j in range(NUM_JOINTS))


def _ancestors(joint: int) -> list[int]:
    chain = [joint]
    while PARENTS[chain[-1]] >= 0:
        chain.append(PARENTS[chain[-1]])
    return chain


def world_rotations_from_joints(joints, offsets=None, only: tuple[int, ...] | None = None):
    """World rotations (..., 22, 3, 3) turning the rest skeleton (``offsets``) onto ``joints``; torch in, torch out.

    Each joint's world rotation is the best fit (Kabsch) of its rest offsets to its children's
    directions; with one child the twist is undefined and the shortest arc from the parent's frame
    is taken, so bones never spin about themselves. Leaf joints (feet, head, wrists) keep their
    parent's orientation. Differentiable. With ``only``, just those joints and their ancestors
    are solved; the others are left as identity.
    """
    import torch
    import torch.nn.functional as functional

    offsets = torch.as_tensor(rest_offsets() if offsets is None else offsets, dtype=joints.dtype, device=joints.device)
    rest = functional.normalize(offsets, dim=-1)
    eye = torch.eye(3, dtype=joints.dtype, device=joints.device).expand(*joints.shape[:-2], 3, 3)
    needed = set(range(NUM_JOINTS)) if only is None else {a for j in only for a in _ancestors(j)}
    world: list = [eye] * NUM_JOINTS
    for joint in sorted(needed):
        parent_world = world[PARENTS[joint]] if joint else eye
        children = list(CHILDREN[joint])
        wanted = functional.normalize(joints[..., children, :] - joints[..., joint : joint + 1, :], dim=-1, eps=1e-9)
        if not children:
            world[joint] = parent_world
        elif len(children) == 1:
            current = (parent_world @ rest[children[0]][:, None])[..., 0]
            world[joint] = _minimal_rotation(current, wanted[..., 0, :]) @ parent_world
        else:
            world[joint] = _best_rotation(rest[children].expand(wanted.shape), wanted)
    return torch.stack(world, dim=-3)


def inverse_kinematics(joints: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """Local rotations (..., 22, 3, 3) whose forward kinematics on ``offsets`` best matches ``joints``.

    See ``world_rotations_from_joints``. Bone lengths come from ``offsets``, directions from
    ``joints``: this is how a clip of any proportions is moved onto the SMPL mean body.
    """
    import torch

    joints = torch.as_tensor(np.asarray(joints, dtype=np.float64))
    world = world_rotations_from_joints(joints, None if offsets is None else torch.as_tensor(np.asarray(offsets, dtype=np.float64)))
    parents = world[..., [max(p, 0) for p in PARENTS], :, :].clone()
    parents[..., 0, :, :] = torch.eye(3, dtype=world.dtype)
    return (parents.transpose(-1, -2) @ world).numpy()


LEG = ((0, 1), (1, 4), (4, 7))  # pelvis to ankle


def leg_scale(joints: np.ndarray, offsets: np.ndarray | None = None) -> float:
    """How much longer the legs of ``offsets`` are than those of ``joints`` (median over frames)."""
    offsets = rest_offsets() if offsets is None else np.asarray(offsets, dtype=np.float64)
    joints = np.asarray(joints, dtype=np.float64)
    source = np.median(sum(np.linalg.norm(joints[..., c, :] - joints[..., p, :], axis=-1) for p, c in LEG))
    return float(sum(np.linalg.norm(offsets[c]) for _, c in LEG) / max(float(source), 1e-9))


def retarget_to_rest_skeleton(
    joints: np.ndarray, offsets: np.ndarray | None = None, root_scale: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, local rotations, pelvis positions) of ``joints`` moved onto the skeleton of ``offsets``.

    The pelvis path is scaled by ``root_scale``, by default the ratio of the two bodies' leg
    lengths, so strides keep their footing on the new body.
    """
    offsets = rest_offsets() if offsets is None else np.asarray(offsets, dtype=np.float64)
    joints = np.asarray(joints, dtype=np.float64)
    rotations = inverse_kinematics(joints, offsets)
    scale = leg_scale(joints, offsets) if root_scale is None else root_scale
    root = joints[..., 0, :] * scale
    return forward_kinematics(rotations, root, offsets), rotations, root
