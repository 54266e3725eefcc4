"""``LeadFollowPipeline``: two people from text plus a trajectory (Leader and Follower, arXiv 2502.11563).

A two-person prior (InterGen's denoiser, ``motion.models``) is sampled with DDIM and
classifier-free guidance. The leader follows the given path through the Pace Controller; the
follower is adapted to the leader by the Kinematic Synchronization Adapter wherever their bodies
collide (``motion.guidance``). Both are training-free and can be switched off for ablation.

Internally the leader is always the prior's first person, so it is generated in its own
canonical frame (start at the origin facing +z) where the target path is placed; people are
exchangeable in the prior (it was trained with random swaps), so which output slot ("a" or "b")
the leader takes is a relabelling.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generators import BaseOutput, Pipeline
from generators.pipeline import GeneratorArg, StepCallback, randn_tensor

from .diffusion import GaussianDiffusion, classifier_free_guidance
from .features import FEATURE_DIM, POSITIONS, VELOCITIES, FeatureNormalizer, features_to_motion
from .guidance import KinematicSynchronizationAdapter, PaceController
from .models import InterDenoiser
from .skeleton import retarget_to_rest_skeleton
from .trajectory import GroundPlacement, as_trajectory, per_frame_path

EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded" / "prior"
LEADER_CHOICES = ("random", "a", "b")


@dataclasses.dataclass
class MotionOutput(BaseOutput):
    motions: torch.Tensor  # (batch, 2, frames, 22, 3) metres, y up, world frame
    reports: list[dict[str, Any]]  # per sample: motion.metrics report, trajectory errors, guidance counts
    leaders: list[str]  # per sample: "a" or "b"
    fps: float
    files: list[dict[str, Path]]  # per sample, when output_dir was given: npz, bvh_a, bvh_b, preview


def _guide_settings(settings: dict | None, name: str) -> dict:
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise TypeError(f"{name} settings must be a dict of keyword arguments, got {type(settings).__name__}")
    return {key: tuple(value) if key == "window" else value for key, value in settings.items()}


class LeadFollowPipeline(Pipeline):
    embedded_dir = EMBEDDED_DIR
    _callback_tensor_inputs = ("motion", "prediction")

    def __init__(
        self,
        denoiser: InterDenoiser,
        normalizer: FeatureNormalizer,
        text_encoder: str = "minilm",
        num_inference_steps: int = 50,
        guidance_scale: float = 3.5,
        fps: float = 30.0,
        pace_controller: dict | None = None,
        adapter: dict | None = None,
    ) -> None:
        """``pace_controller``/``adapter``: this model's default guide settings (keyword arguments of
        :class:`PaceController` / :class:`KinematicSynchronizationAdapter`; None: their defaults)."""
        super().__init__()
        if not isinstance(denoiser, InterDenoiser):
            raise TypeError(f"denoiser must be a motion.models.InterDenoiser, got {type(denoiser).__name__}")
        if not isinstance(normalizer, FeatureNormalizer):
            raise TypeError(f"normalizer must be a motion.features.FeatureNormalizer, got {type(normalizer).__name__}")
        self.register_components(denoiser=denoiser, normalizer=normalizer)
        pace = dataclasses.asdict(PaceController(**_guide_settings(pace_controller, "pace_controller")))
        adapt = dataclasses.asdict(KinematicSynchronizationAdapter(**_guide_settings(adapter, "adapter")))
        self.register_to_config(text_encoder=text_encoder, num_inference_steps=num_inference_steps,
                                guidance_scale=guidance_scale, fps=fps, pace_controller=pace, adapter=adapt)
        self.diffusion = GaussianDiffusion()

    def encode_prompt(self, prompts: list[str]) -> torch.Tensor:
        """Pooled text features (n, text_dim) from the configured encoder."""
        from generators.text_encoders import load_text_encoder

        features = load_text_encoder(self.config["text_encoder"]).encode(prompts).pooled
        if features.shape[-1] != self.denoiser.config["text_dim"]:
            raise ValueError(f"text encoder {self.config['text_encoder']!r} gives {features.shape[-1]}-d features; "
                             f"the denoiser expects {self.denoiser.config['text_dim']}")
        return features.to(self.device, self.dtype)

    def check_inputs(self, prompt, num_frames, num_samples, leader, guidance_scale, num_inference_steps) -> None:
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 3:
            raise ValueError(f"num_frames must be an int >= 3, got {num_frames!r}")
        if num_frames - 1 > self.denoiser.config["max_len"]:
            raise ValueError(f"num_frames must be at most {self.denoiser.config['max_len'] + 1} for this denoiser, got {num_frames}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        if leader not in LEADER_CHOICES:
            raise ValueError(f"leader must be one of {LEADER_CHOICES}, got {leader!r}")
        if not isinstance(guidance_scale, int | float) or not np.isfinite(guidance_scale) or guidance_scale < 0:
            raise ValueError(f"guidance_scale must be a finite number >= 0, got {guidance_scale!r}")
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be a positive int, got {num_inference_steps!r}")

    def _draw_leaders(self, leader: str, num_samples: int, generator: GeneratorArg) -> list[str]:
        if leader != "random":
            return [leader] * num_samples
        if isinstance(generator, Sequence):
            coins = [int(torch.randint(0, 2, (1,), generator=g)) for g in generator]
        else:
            coins = torch.randint(0, 2, (num_samples,), generator=generator).tolist()
        return ["ab"[coin] for coin in coins]

    def _positions(self, x0: torch.Tensor) -> torch.Tensor:
        """(B, T, 2, 22, 3) joint positions in metres from normalised (B, T, 524) features."""
        features = self.normalizer.denormalize(x0.reshape(*x0.shape[:2], 2, FEATURE_DIM))
        return features[..., POSITIONS].reshape(*x0.shape[:2], 2, 22, 3)

    def _displace(self, x0: torch.Tensor, person: int, shift: torch.Tensor) -> torch.Tensor:
        """x0 with ``shift`` (B, T, 22, 3) metres added to one person's positions (and its velocities)."""
        std = torch.as_tensor(self.normalizer.std, dtype=x0.dtype, device=x0.device)
        velocity = torch.zeros_like(shift)
        velocity[:, :-1] = shift[:, 1:] - shift[:, :-1]
        offset = person * FEATURE_DIM
        x0 = x0.clone()
        x0[..., offset + POSITIONS.start : offset + POSITIONS.stop] += shift.flatten(-2) / std[POSITIONS]
        x0[..., offset + VELOCITIES.start : offset + VELOCITIES.stop] += velocity.flatten(-2) / std[VELOCITIES]
        return x0

    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        leader_trajectory=None,
        follower_trajectory=None,
        leader: str = "random",
        num_frames: int = 120,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        num_samples: int = 1,
        generator: GeneratorArg = None,
        pace_controller: PaceController | None = None,
        adapter: KinematicSynchronizationAdapter | None = None,
        use_pace_controller: bool = True,
        use_adapter: bool = True,
        output_dir: str | Path | None = None,
        preview: bool = True,
        mesh_check: str | Path | None = None,
        mesh_stride: int = 10,
        project_to_skeleton: bool = True,
        callback_on_step_end: StepCallback | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("motion",),
    ) -> MotionOutput:
        """Generate ``num_samples`` two-person motions of ``num_frames`` frames.

        Args:
            prompt: what the two people do.
            leader_trajectory: the leader's pelvis path on the ground, (N, 2) [x, z] metres: waypoints
                spread by arc length, exactly ``num_frames`` rows for a per-frame path, or a
                ``generators.TrajectoryCondition`` with timing. None: no path control.
            follower_trajectory: optionally the follower's path too (needs ``leader_trajectory``).
            leader: "a" or "b" (which output person leads), or "random" (drawn per sample).
            pace_controller, adapter: the two guides and their knobs (None: the model's defaults, in
                ``pipe.config``); ``use_pace_controller``/``use_adapter`` switch them off for ablation.
            project_to_skeleton: move each decoded person onto the SMPL mean skeleton by inverse
                kinematics (the pelvis path is kept): bone lengths are then exact in every frame and
                the npz joints equal the exported BVH; False returns the prior's joint positions as is.
            mesh_check: also check penetration on meshes for the reports (``report["mesh"]``): "open"
                (the shipped open body) or the path of an SMPL model file; every ``mesh_stride``-th frame.
            output_dir: when given, each sample is exported to ``output_dir/sample_i`` (one sample:
                ``output_dir`` itself): ``motion.npz``, ``person_a.bvh``, ``person_b.bvh`` and, with
                ``preview``, ``preview.gif``.
        """
        num_inference_steps = self.config["num_inference_steps"] if num_inference_steps is None else num_inference_steps
        guidance_scale = self.config["guidance_scale"] if guidance_scale is None else guidance_scale
        fps = float(self.config["fps"])
        started = time.perf_counter()

        # 1. Check inputs and place the paths in the leader's canonical frame
        self.check_inputs(prompt, num_frames, num_samples, leader, guidance_scale, num_inference_steps)
        self.check_generator(generator, num_samples)
        self.check_callback(callback_on_step_end, callback_on_step_end_tensor_inputs)
        for name, guide, kind in (("pace_controller", pace_controller, PaceController),
                                  ("adapter", adapter, KinematicSynchronizationAdapter)):
            if guide is not None and not isinstance(guide, kind):
                raise TypeError(f"{name} must be a {kind.__name__} or None, got {type(guide).__name__}")
        pace_controller = (pace_controller or PaceController(**_guide_settings(self.config["pace_controller"], "pace_controller"))
                           if use_pace_controller else None)
        adapter = (adapter or KinematicSynchronizationAdapter(**_guide_settings(self.config["adapter"], "adapter"))
                   if use_adapter else None)
        if isinstance(mesh_stride, bool) or not isinstance(mesh_stride, int) or mesh_stride < 1:
            raise ValueError(f"mesh_stride must be a positive int, got {mesh_stride!r}")
        if mesh_check is not None and mesh_check != "open" and not Path(mesh_check).is_file():
            raise ValueError(f"mesh_check must be 'open' or an SMPL model file, got {str(mesh_check)!r} (no such file)")
        if follower_trajectory is not None and leader_trajectory is None:
            raise ValueError("follower_trajectory needs a leader_trajectory too (the leader's path places the scene)")
        paths, placement = {}, GroundPlacement.identity()
        for name, value in (("leader_trajectory", leader_trajectory), ("follower_trajectory", follower_trajectory)):
            if value is not None:
                paths[name] = per_frame_path(as_trajectory(value, name, num_frames), name, num_frames, fps)
        if "leader_trajectory" in paths:
            placement = GroundPlacement.from_path(paths["leader_trajectory"])
        rows = num_frames - 1  # InterGen features drop the last frame; decoding restores it
        targets = {0 if name == "leader_trajectory" else 1: torch.as_tensor(placement.to_canonical(path)[:rows], dtype=self.dtype,
                                                                              device=self.device).expand(num_samples, rows, 2)
                   for name, path in paths.items()}

        # 2. Encode the prompt and draw the leaders
        text = self.encode_prompt([prompt]).expand(num_samples, -1)
        leaders = self._draw_leaders(leader, num_samples, generator)

        # 3. Prepare the noise and the guided denoiser
        sample = randn_tensor((num_samples, rows, 2 * FEATURE_DIM), generator, self.device, self.dtype)
        predict_x0 = classifier_free_guidance(self.denoiser, text, float(guidance_scale))
        timesteps = self.diffusion.timesteps(num_inference_steps)
        controlled = torch.ones(num_samples, rows, dtype=torch.bool, device=self.device)
        pace_steps, adapter_frames = 0, [[] for _ in range(num_samples)]  # per sample: colliding frames at each adapter step

        # 4. Denoise, guiding the x0 prediction at each step
        prediction = sample
        with self.progress_bar(total=len(timesteps)) as bar:
            for index, timestep in enumerate(timesteps):
                noise_level = timestep / self.diffusion.num_train_timesteps
                prediction = predict_x0(sample, torch.full((num_samples,), timestep, device=self.device, dtype=torch.long))
                guided = prediction
                if pace_controller is not None and targets and pace_controller.active(noise_level):
                    positions = self._positions(guided)
                    for person, target in targets.items():
                        ground = pace_controller.displacement(positions[:, :, person, 0, [0, 2]], target, controlled)
                        shift = torch.zeros_like(positions[:, :, person])
                        shift[..., 0], shift[..., 2] = ground[..., None, 0], ground[..., None, 1]
                        guided = self._displace(guided, person, shift)
                    pace_steps += 1
                if adapter is not None and adapter.active(noise_level):
                    positions = self._positions(guided)
                    colliding = adapter.colliding(positions[:, :, 0], positions[:, :, 1])
                    for frames, count in zip(adapter_frames, colliding.sum(1).tolist(), strict=True):
                        frames.append(int(count))
                    if colliding.any():
                        shift = adapter.displacement(positions[:, :, 0], positions[:, :, 1], colliding)
                        guided = self._displace(guided, 1, shift)
                alpha_bar = float(self.diffusion.alphas_cumprod[timestep])
                sample = sample + alpha_bar**0.5 * (guided - prediction)  # keep the noise estimate, move x0
                prediction = guided
                previous = timesteps[index + 1] if index + 1 < len(timesteps) else None
                sample = self.diffusion.ddim_step(sample, prediction, timestep, previous)
                if callback_on_step_end is not None:
                    offered = {"motion": sample, "prediction": prediction}
                    tensors = self.run_step_callback(callback_on_step_end, index, timestep,
                                                     {name: offered[name] for name in callback_on_step_end_tensor_inputs})
                    sample, prediction = tensors.get("motion", sample), tensors.get("prediction", prediction)
                bar.update()

        # 5. Decode to joints, put the leader in its slot, move to the world frame
        features = self.normalizer.denormalize(prediction.reshape(num_samples, rows, 2, FEATURE_DIM)).double().cpu().numpy()
        motions, final_frames = [], []
        for features_i, leader_i in zip(features, leaders, strict=True):
            people = [features_to_motion(features_i[:, person])[0] for person in (0, 1)]
            if project_to_skeleton:
                people = [retarget_to_rest_skeleton(person, root_scale=1.0)[0] for person in people]
            if adapter is not None and adapter.active(0.0):
                # the clean motion is the last step of the adapter's window: adapt the follower on the
                # body that is returned (after the skeleton projection, which can bring limbs closer)
                people[1], counts = self._adapt_final(adapter, people[0], people[1], project_to_skeleton)
                final_frames.append(counts)
            if leader_i == "b":
                people.reverse()
            motions.append(placement.to_world(np.stack(people)))  # (2, frames, 22, 3)
        motions_array = np.stack(motions)

        # 6. Report and export
        seconds = time.perf_counter() - started
        reports = []
        for index, (motion, leader_i, frames) in enumerate(zip(motions_array, leaders, adapter_frames, strict=True)):
            guidance = {"pace_steps": pace_steps, "adapter_steps": sum(count > 0 for count in frames),
                        "adapter_colliding_frames": frames, "seconds": round(seconds / num_samples, 3)}
            if final_frames:
                guidance["adapter_final_colliding_frames"] = final_frames[index]
            reports.append(self._report(motion, leader_i, paths, fps, guidance))
        if mesh_check is not None:
            for motion, report in zip(motions_array, reports, strict=True):
                report["mesh"] = self._mesh_report(motion, mesh_check, fps, mesh_stride)
        files = []
        if output_dir is not None:
            from .export import export_motion

            for i, motion in enumerate(motions_array):
                directory = Path(output_dir) if num_samples == 1 else Path(output_dir) / f"sample_{i}"
                files.append(export_motion(directory, motion.transpose(1, 0, 2, 3), fps, preview=preview))
        return MotionOutput(motions=torch.from_numpy(motions_array).float(), reports=reports, leaders=leaders, fps=fps, files=files)

    FINAL_ADAPTER_PASSES = 3

    @staticmethod
    def _adapt_final(adapter: KinematicSynchronizationAdapter, leader: np.ndarray, follower: np.ndarray,
                     project: bool) -> tuple[np.ndarray, list[int]]:
        """The follower (frames, 22, 3) adapted on the decoded motion, up to FINAL_ADAPTER_PASSES times
        while frames still collide; returns it and the colliding-frame count before each pass.

        One sample at a time, so the check can use the skinned hands of the reports."""
        lead = torch.as_tensor(leader, dtype=torch.float32)[None]
        counts = []
        for _ in range(LeadFollowPipeline.FINAL_ADAPTER_PASSES):
            follow = torch.as_tensor(follower, dtype=torch.float32)[None]
            colliding = adapter.colliding(lead, follow, hands="skinned")
            counts.append(int(colliding.sum()))
            if not colliding.any():
                break
            follower = (follow + adapter.displacement(lead, follow, colliding, hands="skinned"))[0].double().numpy()
            if project:
                follower = retarget_to_rest_skeleton(follower, root_scale=1.0)[0]
        return follower, counts

    @staticmethod
    def _mesh_report(motion: np.ndarray, mesh_check: str | Path, fps: float, stride: int) -> dict:
        from .export import MotionFile, smpl_parameters
        from .mesh import mesh_report
        from .skeleton import inverse_kinematics

        joints = motion.transpose(1, 0, 2, 3)  # (frames, 2, 22, 3)
        if mesh_check == "open":
            return mesh_report(MotionFile(joints, fps, None, None, None), stride=stride)
        poses, trans = smpl_parameters(inverse_kinematics(joints), joints[:, :, 0])
        return mesh_report(MotionFile(joints, fps, poses, trans, None), mesh_check, stride=stride)

    @staticmethod
    def _report(motion: np.ndarray, leader: str, paths: dict[str, np.ndarray], fps: float, guidance: dict) -> dict:
        from .metrics import motion_report, trajectory_error

        report = motion_report(motion.transpose(1, 0, 2, 3), fps)
        report["leader"] = leader
        slots = {"leader_trajectory": "ab".index(leader), "follower_trajectory": 1 - "ab".index(leader)}
        for name, path in paths.items():
            report[name.replace("_trajectory", "_path")] = trajectory_error(motion[slots[name]], path)
        report["guidance"] = guidance
        return report
