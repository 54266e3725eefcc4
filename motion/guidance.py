"""Training-free guidance of the two-person prior (Leader and Follower, arXiv 2502.11563).

Both guides act on the predicted clean motion x0 inside the DDIM loop, in metres (the pipeline
denormalises, calls them, and writes their displacements back into x0 and x_t).

**Pace Controller** (leader): only in the middle of denoising, while the noise level t/T lies in
``window`` (the paper's 0.3T..0.7T: early steps are too noisy to steer, late ones should be left
to the prior to restore foot contact and balance). It finds the ground-plane displacement of the
leader's whole body per frame that minimises the pelvis trajectory MSE plus a penalty on the
displacement's acceleration (solved exactly; the penalty keeps the shift to the path's course, see
``PaceController.displacement``), and the pipeline writes the moved leader into
x0 and into x_t (``x_t += sqrt(alpha_bar_t) (x0_new - x0)``: the noise estimate is kept, so the
leader's root in x_t is overwritten with the noised target). A model whose prior cannot hold a
path on its own through the late steps (the small embedded one) widens the window down to 0.

**Kinematic Synchronization Adapter** (follower): checks the interaction domain with the
capsule body (``motion.capsules``) and, only where the bodies collide, optimises a displacement
of the follower (a ground-plane step of the whole body per frame plus a per-joint part) with

    L = w_joint * sum_j max(0, joint_delta - |p_a(j) - p_b(j)|)^2    j: same-index joints (the paper's hinge)
      + w_joint * sum_c max(0, delta - gap_c)^2                      c: each follower capsule
      + w_orthogonal * (|shift| cos(shift, leader velocity))^2
      + w_distance * max(0, |root_a - root_b| - d_0 - max_separation_gain)^2
      + w_smooth * |shift[t+1] - shift[t]|^2 + w_bone * (bone length change)^2

over the colliding frames (smoothness and bones over all), and the whole-body step is then
low-pass filtered in time (a Gaussian of ``body_smoothing`` frames): a step that changes from one
frame to the next slides the follower's planted feet, and its gradient-descent solution does
(only colliding frames push it). The filter trades a little clearance on brief collisions for feet
that stay put; the embedded model's card gives both figures with and without it. ``gap_c`` is the surface gap from
follower capsule c to the nearest leader capsule, so a hand against a torso counts too; the
same-index hinge gives a clear way out where capsule axes cross. One term per joint and per
capsule keeps the curvature bounded, so plain gradient descent is stable (the whole-body step,
which every term pushes, is capped per iteration); the cosine is weighted by the shift's length
because a bare cosine is singular at zero. The orthogonal term keeps the follower from escaping
along the leader's direction of travel (sidestepping keeps the interaction varied); the distance
term is the paper's relative-distance constraint (the follower stays engaged).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .capsules import capsule_contacts, capsule_radii, capsule_segments, elbow_rotations, segment_distances
from .skeleton import PARENTS

MAX_BODY_STEP = 0.05  # metres per optimisation step for the follower's whole-body step


def _check_window(window: tuple[float, float], name: str) -> None:
    low, high = window
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"{name}.window must satisfy 0 <= low <= high <= 1 (noise levels t/T), got {window}")


def _low_pass(values: torch.Tensor, sigma: float) -> torch.Tensor:
    """``values`` (B, T, ...) smoothed along T by a Gaussian of ``sigma`` frames (edges held)."""
    if sigma <= 0 or values.shape[1] < 2:
        return values
    radius = int(3 * sigma)
    taps = torch.arange(-radius, radius + 1, dtype=values.dtype, device=values.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    batch, frames, *rest = values.shape
    rows = values.reshape(batch, frames, -1).transpose(1, 2).reshape(-1, 1, frames)  # (B * channels, 1, T)
    rows = torch.nn.functional.pad(rows, (radius, radius), mode="replicate")
    smoothed = torch.nn.functional.conv1d(rows, (kernel / kernel.sum())[None, None])
    return smoothed.reshape(batch, -1, frames).transpose(1, 2).reshape(batch, frames, *rest)


@dataclass(frozen=True)
class PaceController:
    """Keeps the leader's pelvis on the target path. See the module docstring."""

    window: tuple[float, float] = (0.3, 0.7)  # noise levels t/T at which it acts
    smoothness_weight: float = 400.0  # on the shift's second difference per frame; 0: the exact per-frame MSE

    def __post_init__(self) -> None:
        _check_window(self.window, "PaceController")
        if not self.smoothness_weight >= 0:
            raise ValueError(f"PaceController.smoothness_weight must be >= 0, got {self.smoothness_weight}")

    def active(self, noise_level: float) -> bool:
        return self.window[0] <= noise_level <= self.window[1]

    def displacement(self, pelvis: torch.Tensor, target: torch.Tensor, controlled: torch.Tensor) -> torch.Tensor:
        """Ground-plane shift (B, T, 2) of the leader per frame; ``pelvis``/``target`` (B, T, 2) x/z, ``controlled`` (B, T) bool.

        The minimiser of ``sum_controlled |pelvis + shift - target|^2 + smoothness_weight * |D2 shift|^2``,
        solved exactly (the objective is quadratic; gradient descent would need thousands of steps
        once the smoothness term is on). The smoothness term makes the solve a low-pass filter of the
        path error with its half-gain period at ``2 pi smoothness_weight^(1/4)`` frames (about 28, or
        0.9 s at 30 fps, for the default): the path's course is imposed while the prior keeps its own
        faster sway. A shift that follows every frame's pelvis jitter also writes that jitter, negated,
        into every joint and into the velocity channels, and a prior pushed that far off its data
        falls apart in the following steps.
        """
        frames = pelvis.shape[1]
        dtype = torch.float64  # the banded system is stiff for large weights
        weight = controlled.to(dtype)
        system = torch.diag_embed(weight + 1e-9)  # the tiny ridge pins frames that nothing constrains
        if frames > 2 and self.smoothness_weight > 0:
            second = torch.zeros(frames - 2, frames, dtype=dtype, device=pelvis.device)
            rows = torch.arange(frames - 2, device=pelvis.device)
            second[rows, rows], second[rows, rows + 1], second[rows, rows + 2] = 1.0, -2.0, 1.0
            system = system + self.smoothness_weight * (second.T @ second)
        miss = (target - pelvis).to(dtype) * weight[..., None]
        shift = torch.linalg.solve(system, miss)
        return shift.to(pelvis.dtype)


@dataclass(frozen=True)
class KinematicSynchronizationAdapter:
    """Moves the follower's joints out of the leader's body where they collide. See the module docstring."""

    window: tuple[float, float] = (0.0, 0.7)  # noise levels t/T at which it acts
    optimisation_steps: int = 10
    learning_rate: float = 0.05  # gradient descent; stable below about 2 / (8 * (joint + bone + smoothness weights))
    delta: float = 0.04  # clearance (m) demanded between the two bodies' capsules on colliding frames
    joint_delta: float = 0.3  # distance (m) demanded between same-index joints on colliding frames (the paper's delta)
    joint_weight: float = 1.0
    orthogonal_weight: float = 0.1
    distance_weight: float = 1.0
    max_separation_gain: float = 0.3  # m the follower may move away from the leader before the distance term pulls back
    smoothness_weight: float = 0.2
    bone_weight: float = 1.0
    body_smoothing: float = 3.0  # frames (Gaussian sigma) the whole-body step is smoothed over; 0: off

    def __post_init__(self) -> None:
        _check_window(self.window, "KinematicSynchronizationAdapter")
        if self.optimisation_steps < 1 or self.learning_rate <= 0 or self.delta < 0 or self.joint_delta < 0:
            raise ValueError("KinematicSynchronizationAdapter needs optimisation_steps >= 1, learning_rate > 0, delta >= 0 and joint_delta >= 0")
        weights = (self.joint_weight, self.orthogonal_weight, self.distance_weight, self.smoothness_weight, self.bone_weight)
        if min(weights) < 0 or self.max_separation_gain < 0 or self.body_smoothing < 0:
            raise ValueError("KinematicSynchronizationAdapter weights, max_separation_gain and body_smoothing must be >= 0")

    def active(self, noise_level: float) -> bool:
        return self.window[0] <= noise_level <= self.window[1]

    def colliding(self, leader: torch.Tensor, follower: torch.Tensor, hands: str = "forearm") -> torch.Tensor:
        """(B, T) frames where the capsule bodies overlap (the interaction-domain check).

        ``hands``: see ``motion.capsules.capsule_segments``; "forearm" inside the denoising loop
        (smooth, so a batch equals its samples drawn alone), "skinned" on the final motion (as reported).
        """
        with torch.no_grad():
            return capsule_contacts(leader, follower, hands=hands).depth > 0

    def displacement(self, leader: torch.Tensor, follower: torch.Tensor, colliding: torch.Tensor, hands: str = "forearm") -> torch.Tensor:
        """Per-joint shift (B, T, 22, 3) of the follower; ``leader``/``follower`` (B, T, 22, 3) metres."""
        leader, follower = leader.detach(), follower.detach()
        frames = colliding.nonzero(as_tuple=True)
        lead_velocity = torch.zeros_like(leader[..., 0, [0, 2]])
        lead_velocity[:, :-1] = leader[:, 1:, 0, [0, 2]] - leader[:, :-1, 0, [0, 2]]
        speed = lead_velocity[frames].norm(dim=-1, keepdim=True)
        direction = torch.where(speed > 1e-4, lead_velocity[frames] / speed.clamp_min(1e-4), torch.zeros_like(speed))
        start_distance = (follower[..., 0, [0, 2]] - leader[..., 0, [0, 2]]).norm(dim=-1)
        bones = (follower[..., 1:, :] - follower[..., list(PARENTS[1:]), :]).norm(dim=-1)
        # Plain gradient descent rather than Adam: Adam's per-element normalisation turns rounding-level
        # gradients into full steps, so a sample would depend on what else is in its batch.
        # The shift is a ground-plane step of the whole body per frame plus a per-joint part: the body
        # term gathers the gradient of every joint, so a follower standing in the leader steps aside
        # instead of bending out of the way joint by joint.
        body = torch.zeros_like(follower[..., :1, :], requires_grad=True)
        joints = torch.zeros_like(follower, requires_grad=True)
        ground = follower.new_tensor([1.0, 0.0, 1.0])
        # The leader's capsules stay put and the follower's hands keep their turn during the optimisation
        lead_start, lead_end = capsule_segments(leader[frames], hands)
        turns = elbow_rotations(follower[frames]) if hands == "skinned" else None
        radii = capsule_radii(dtype=follower.dtype, device=follower.device)
        with torch.enable_grad():
            for _ in range(self.optimisation_steps):
                shift = body * ground + joints
                moved = follower + shift
                start, end = capsule_segments(moved[frames], hands, turns)
                gaps = segment_distances(lead_start, lead_end, start, end) - (radii[:, None] + radii[None, :])
                nearest = gaps.amin(dim=-2)  # each follower capsule to the leader
                loss = self.joint_weight * (torch.relu(self.delta - nearest) ** 2).sum()
                apart = (leader[frames] - moved[frames]).norm(dim=-1)
                loss = loss + self.joint_weight * (torch.relu(self.joint_delta - apart) ** 2).sum()
                body_shift = shift[frames][..., [0, 2]].mean(-2)
                along = (body_shift * direction).sum(-1)  # = |shift| cos(shift, leader velocity): smooth at zero shift
                loss = loss + self.orthogonal_weight * (along**2).sum()
                distance = (moved[..., 0, [0, 2]] - leader[..., 0, [0, 2]]).norm(dim=-1)
                loss = loss + self.distance_weight * (torch.relu(distance - start_distance - self.max_separation_gain) ** 2).sum()
                loss = loss + self.smoothness_weight * ((shift[:, 1:] - shift[:, :-1]) ** 2).sum()
                new_bones = (moved[..., 1:, :] - moved[..., list(PARENTS[1:]), :]).norm(dim=-1)
                loss = loss + self.bone_weight * ((new_bones - bones) ** 2).sum()
                body_gradient, joint_gradient = torch.autograd.grad(loss, (body, joints))
                # every follower capsule pushes the body: cap its step (per frame) so the sum stays stable
                step = self.learning_rate * body_gradient
                step = step * (MAX_BODY_STEP / step.norm(dim=-1, keepdim=True).clamp_min(MAX_BODY_STEP))
                body = (body - step).detach().requires_grad_(True)
                joints = (joints - self.learning_rate * joint_gradient).detach().requires_grad_(True)
        body = _low_pass(body.detach(), self.body_smoothing)
        shift = (body * ground + joints).detach()
        return torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
