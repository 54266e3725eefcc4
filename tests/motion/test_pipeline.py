"""LeadFollowPipeline: the shared contract, trajectory placement, both guides, bad input and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from mocap_data import facing_pair
from pipeline_contract import PipelineContractTests

from generators import TrajectoryCondition
from motion import KinematicSynchronizationAdapter, LeadFollowPipeline, MotionOutput, PaceController
from motion.capsules import capsule_contacts
from motion.features import FeatureNormalizer, pair_to_features
from motion.models import InterDenoiser
from motion.skeleton import FOOT_JOINTS, PARENTS, inverse_kinematics
from motion.trajectory import GroundPlacement

PATH = [[0.0, 0.0], [1.0, 0.2], [2.0, 1.0]]


def walking_pair(frames: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Two rest bodies a metre apart, walking +z at 1 m/s (joints and IK rotations)."""
    pair = facing_pair(1.0)[0]
    joints = np.stack([pair + np.array([0.0, 0.0, t / 30]) for t in range(frames)])
    joints[..., 1] -= joints[..., 1].min()
    return joints, inverse_kinematics(joints)


def tiny_components(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    denoiser = InterDenoiser(latent_dim=16, ff_size=32, num_layers=1, num_heads=2, text_dim=384, dropout=0.0).eval()
    torch.nn.init.normal_(denoiser.out.linear.weight, std=0.01)  # zero-initialised for training; random here (small: a body near the mean pose)
    normalizer = FeatureNormalizer.fit(pair_to_features(*walking_pair()), min_std=0.05)
    return {"denoiser": denoiser, "normalizer": normalizer, "num_inference_steps": 4, "guidance_scale": 2.0}


class TestLeadFollowPipelineContract(PipelineContractTests):
    pipeline_class = LeadFollowPipeline
    output_class = MotionOutput
    # metres: batched matrix products round differently (1e-6); the skeleton's inverse kinematics and
    # the collision passes on the decoded motion can grow that to a fraction of a millimetre
    batch_atol = 1e-3

    def get_dummy_components(self):
        return tiny_components()

    def get_dummy_inputs(self, seed: int = 0):
        return {"prompt": "two people walk side by side", "leader_trajectory": PATH, "num_frames": 16,
                "generator": torch.Generator().manual_seed(seed)}

    def samples(self, output):
        return [m.numpy() for m in output.motions]


@pytest.fixture(scope="module")
def pipe():
    pipe = LeadFollowPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_ground_placement_round_trip_and_heading():
    path = np.array([[1.0, 2.0], [1.0, 2.05], [2.0, 2.0], [3.0, 2.0]])  # heads +x once it has moved 10 cm
    placement = GroundPlacement.from_path(path)
    assert placement.heading == pytest.approx(np.pi / 2)
    canonical = placement.to_canonical(path)
    np.testing.assert_allclose(canonical[0], [0.0, 0.0], atol=1e-12)
    assert canonical[-1, 1] > 1.9  # ahead of the start is +z
    joints = np.stack([canonical[:, 0], np.ones(len(path)), canonical[:, 1]], axis=-1)
    np.testing.assert_allclose(placement.to_world(joints)[:, [0, 2]], path, atol=1e-12)


def test_pace_controller_converges_to_the_path():
    pelvis = torch.zeros(1, 20, 2)
    target = torch.stack([torch.linspace(0, 1, 20), torch.linspace(0, 2, 20)], -1)[None]
    shift = PaceController(smoothness_weight=0.0).displacement(pelvis, target, torch.ones(1, 20, dtype=torch.bool))
    torch.testing.assert_close(pelvis + shift, target, atol=1e-5, rtol=0)
    # uncontrolled frames are not pulled
    controlled = torch.zeros(1, 20, dtype=torch.bool)
    controlled[:, :10] = True
    shift = PaceController(smoothness_weight=0.0).displacement(pelvis, target, controlled)
    assert float(shift[:, 10:].abs().max()) < 1e-6


def test_pace_controller_imposes_the_course_and_leaves_the_sway():
    # a pelvis that sways every few frames around a slow drift off the path: the smooth shift removes
    # the drift (the path's course) and leaves the sway, instead of writing it negated into every joint
    frames = torch.arange(300, dtype=torch.float64)
    drift = torch.stack([0.5 * torch.sin(2 * torch.pi * frames / 300), 0.01 * frames], -1)
    sway = 0.03 * torch.sin(2 * torch.pi * frames / 4)[:, None] * torch.tensor([1.0, 0.0], dtype=torch.float64)
    target = torch.zeros(1, 300, 2, dtype=torch.float64)
    pelvis = (drift + sway)[None]
    shift = PaceController(smoothness_weight=400.0).displacement(pelvis, target, torch.ones(1, 300, dtype=torch.bool))
    residual = pelvis + shift - target
    torch.testing.assert_close(residual[0, 20:-20], sway[20:-20], atol=0.01, rtol=0)  # the sway survives, the drift is gone
    jitter = shift[0, 2:] - 2 * shift[0, 1:-1] + shift[0, :-2]
    assert float(jitter.abs().max()) < 1e-3  # the shift itself is smooth
    exact = PaceController(smoothness_weight=0.0).displacement(pelvis, target, torch.ones(1, 300, dtype=torch.bool))
    torch.testing.assert_close(pelvis + exact, target, atol=1e-6, rtol=0)


def test_adapter_pushes_an_overlapping_follower_out_and_keeps_its_bones():
    pair = torch.as_tensor(facing_pair(0.15), dtype=torch.float32)  # chests overlap
    leader, follower = pair[:, 0][None], pair[:, 1][None]
    adapter = KinematicSynchronizationAdapter(optimisation_steps=60, learning_rate=0.02)
    colliding = adapter.colliding(leader, follower)
    assert bool(colliding.all())
    moved = follower + adapter.displacement(leader, follower, colliding)
    before = float(capsule_contacts(leader, follower).depth.max())
    after = float(capsule_contacts(leader, moved).depth.max())
    assert after < 0.25 * before
    bones = (follower[..., 1:, :] - follower[..., list(PARENTS[1:]), :]).norm(dim=-1)
    new_bones = (moved[..., 1:, :] - moved[..., list(PARENTS[1:]), :]).norm(dim=-1)
    assert float((new_bones - bones).abs().max()) < 0.02
    # nothing to do when apart
    apart = torch.as_tensor(facing_pair(0.9), dtype=torch.float32)
    assert not bool(adapter.colliding(apart[:, 0][None], apart[:, 1][None]).any())


def test_adapter_smooths_its_body_step_so_planted_feet_stay_put():
    # a follower stands still; the leader steps into it for six frames of fifty
    apart, close = (torch.as_tensor(facing_pair(gap), dtype=torch.float32)[0] for gap in (0.9, 0.15))
    leader = apart[0].repeat(50, 1, 1)
    leader[20:26] = close[0] + (apart[1, 0] - close[1, 0]) * torch.tensor([0.0, 0.0, 1.0])  # the same approach, seen from A
    leader, follower = leader[None], apart[1].repeat(50, 1, 1)[None]
    feet = list(FOOT_JOINTS)
    slides, depths = {}, {}
    for sigma in (0.0, 3.0):
        adapter = KinematicSynchronizationAdapter(optimisation_steps=5, learning_rate=0.05, body_smoothing=sigma)  # as embedded
        colliding = adapter.colliding(leader, follower)
        assert colliding[0].nonzero().flatten().tolist() == list(range(20, 26))
        moved = follower + adapter.displacement(leader, follower, colliding)
        slides[sigma] = float((moved[0, 1:, feet] - moved[0, :-1, feet])[..., [0, 2]].norm(dim=-1).max())
        depths[sigma] = float(capsule_contacts(leader, moved).depth.max())
    before = float(capsule_contacts(leader, follower).depth.max())
    assert slides[3.0] < 0.75 * slides[0.0]  # the step is spread over more frames
    assert depths[3.0] < 0.5 * before  # and still takes the follower out of the leader


@pytest.mark.parametrize("leader", ["a", "b"])
def test_leader_lands_on_the_world_path(pipe, leader):
    # guided to the last step, the leader's pelvis is on the path whatever the (random) prior does
    pace = PaceController(window=(0.0, 1.0), smoothness_weight=0.0)
    out = pipe("two people walk", leader_trajectory=PATH, leader=leader, num_frames=20, pace_controller=pace, use_adapter=False,
               generator=torch.Generator().manual_seed(0))
    assert out.leaders == [leader] and out.reports[0]["leader"] == leader
    person = "ab".index(leader)
    path = TrajectoryCondition(np.array(PATH)).resample(20)
    error = np.linalg.norm(out.motions[0, person, :-1, 0, :][:, [0, 2]].numpy() - path[:-1], axis=-1)
    assert error.max() < 0.01
    assert out.reports[0]["leader_path"]["trajectory_error_mean_m"] < 0.01
    assert out.reports[0]["guidance"]["pace_steps"] == 4


def test_guides_can_be_switched_off_and_random_leaders_vary(pipe):
    out = pipe("two people dance", num_frames=12, num_samples=8, use_pace_controller=False, use_adapter=False,
               generator=torch.Generator().manual_seed(3))
    assert set(out.leaders) == {"a", "b"}
    assert all(r["guidance"]["pace_steps"] == 0 and r["guidance"]["adapter_steps"] == 0 for r in out.reports)
    assert "leader_path" not in out.reports[0]


def test_per_frame_and_timed_trajectories(pipe):
    pace = PaceController(window=(0.0, 1.0), smoothness_weight=0.0)
    per_frame = np.stack([np.linspace(0, 1, 15), np.zeros(15)], -1) ** 2  # accelerating: its own timing
    out = pipe("walk", leader_trajectory=per_frame, leader="a", num_frames=15, pace_controller=pace, use_adapter=False)
    np.testing.assert_allclose(out.motions[0, 0, :-1, 0, 0].numpy(), per_frame[:-1, 0], atol=0.01)
    timed = TrajectoryCondition([[0.0, 0.0], [1.0, 0.0]], times=[0.5, 1.0])  # waits half the clip
    out = pipe("walk", leader_trajectory=timed, leader="a", num_frames=15, pace_controller=pace, use_adapter=False)
    assert float(out.motions[0, 0, :7, 0, 0].abs().max()) < 0.01


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"leader_trajectory": [[0.0, 0.0], [np.nan, 1.0]]}, ValueError, "leader_trajectory.*NaN"),
        ({"leader_trajectory": [[0.0, 0.0]]}, ValueError, "leader_trajectory.*at least 2"),
        ({"leader_trajectory": [[0.0, 0.0], [100.0, 0.0]], "num_frames": 60}, ValueError, r"leader_trajectory asks for .* m/s"),
        ({"leader_trajectory": "north"}, TypeError, "leader_trajectory must be an"),
        ({"follower_trajectory": PATH}, ValueError, "follower_trajectory needs a leader_trajectory"),
        ({"leader": "c"}, ValueError, "leader must be one of"),
        ({"num_frames": 0}, ValueError, "num_frames"),
        ({"num_frames": 6000}, ValueError, "num_frames must be at most"),
        ({"guidance_scale": float("nan")}, ValueError, "guidance_scale"),
        ({"pace_controller": "on"}, TypeError, "pace_controller"),
        ({"prompt": 3}, TypeError, "prompt"),
    ],
)
def test_bad_input_is_named(pipe, kwargs, error, match):
    with pytest.raises(error, match=match):
        pipe(**{"prompt": "walk", "num_frames": 12, **kwargs})


def test_guide_knobs_are_checked():
    with pytest.raises(ValueError, match="window"):
        PaceController(window=(0.8, 0.2))
    with pytest.raises(ValueError, match="smoothness_weight"):
        PaceController(smoothness_weight=float("nan"))
    with pytest.raises(ValueError, match="optimisation_steps"):
        KinematicSynchronizationAdapter(optimisation_steps=0)
    with pytest.raises(ValueError, match="joint_delta"):
        KinematicSynchronizationAdapter(joint_delta=-0.1)
    with pytest.raises(ValueError, match="body_smoothing"):
        KinematicSynchronizationAdapter(body_smoothing=-1.0)


def test_exports_the_files_of_part_one(pipe, tmp_path):
    out = pipe("walk", leader_trajectory=PATH, num_frames=16, num_samples=2, output_dir=tmp_path, preview=False,
               generator=[torch.Generator().manual_seed(s) for s in (0, 1)])
    assert [sorted(p.name for p in f.values()) for f in out.files] == [["motion.npz", "person_a.bvh", "person_b.bvh"]] * 2
    with np.load(tmp_path / "sample_1" / "motion.npz") as saved:
        np.testing.assert_allclose(saved["joints"], out.motions[1].numpy().transpose(1, 0, 2, 3), atol=1e-5)


def test_cli_generate_writes_the_contract_files(tmp_path, capsys):
    from generators.cli import main

    LeadFollowPipeline(**tiny_components()).save_pretrained(tmp_path / "model")
    (tmp_path / "path.json").write_text(json.dumps(PATH))
    code = main(["motion", "generate", "two people walk side by side", "-o", str(tmp_path / "out"), "--model", str(tmp_path / "model"),
                 "--leader-trajectory", str(tmp_path / "path.json"), "--frames", "30", "--seed", "1", "--leader", "b"])
    assert code == 0, capsys.readouterr().err
    for name in ("motion.npz", "person_a.bvh", "person_b.bvh", "preview.gif", "report.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    with np.load(tmp_path / "out" / "motion.npz") as saved:
        assert saved["joints"].shape == (30, 2, 22, 3) and float(saved["fps"]) == 30.0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["leader"] == "b" and report["seed"] == 1 and "leader_path" in report
    # inline JSON and a bad file are both named
    assert main(["motion", "generate", "x", "-o", str(tmp_path / "o2"), "--model", str(tmp_path / "model"), "--frames", "10",
                 "--leader-trajectory", '{"points": [[0, 0], [0.5, 0]], "times": [0, 1]}', "--no-preview", "--no-adapter"]) == 0
    assert main(["motion", "generate", "x", "-o", str(tmp_path / "o3"), "--model", str(tmp_path / "model"),
                 "--leader-trajectory", str(tmp_path / "missing.json")]) != 0
    assert "--leader-trajectory" in capsys.readouterr().err


def test_motion_batch_jobs_write_their_files(tmp_path):
    from generators import run_batch

    LeadFollowPipeline(**tiny_components()).save_pretrained(tmp_path / "model")
    options = {"model": str(tmp_path / "model"), "leader_trajectory": PATH, "num_frames": 20, "preview": False}
    lines = [{"task": "motion", "prompt": "two people walk", "seed": seed, "id": f"walk{seed}", "options": options} for seed in (0, 1)]
    lines.append({"task": "motion", "prompt": "two people walk", "seed": 0, "id": "ablation",
                  "options": {**options, "use_pace_controller": False, "use_adapter": False}})
    lines.append({"task": "motion", "prompt": "x", "seed": 0, "id": "bad", "options": {"frames": 3}})
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = run_batch(manifest, tmp_path / "out", workers=1, progress=False)
    assert (summary.succeeded, summary.failed) == (3, 1)
    for job in ("walk0", "walk1", "ablation"):
        with np.load(tmp_path / "out" / job / "motion.npz") as saved:
            assert saved["joints"].shape == (20, 2, 22, 3)
    ablation = json.loads((tmp_path / "out" / "ablation" / "job.json").read_text())
    assert '"pace_steps": 0' in json.dumps(ablation) and '"adapter_steps": 0' in json.dumps(ablation)
    sidecar = json.loads((tmp_path / "out" / "bad" / "job.json").read_text())
    assert "unknown motion options ['frames']" in json.dumps(sidecar)


def test_reports_can_add_mesh_checks(pipe, tmp_path):
    from motion.mesh import write_synthetic_smpl

    smpl = write_synthetic_smpl(tmp_path / "SMPL_NEUTRAL.pkl")
    for body, name in (("open", "anny"), (smpl, "SMPL")):
        out = pipe("walk", num_frames=12, mesh_check=body, mesh_stride=4, generator=torch.Generator().manual_seed(0))
        mesh = out.reports[0]["mesh"]
        assert mesh["frames_checked"] == 3 and name.lower() in mesh["body"].lower()
        assert 0.0 <= mesh["colliding_frame_rate"] <= 1.0
    with pytest.raises(ValueError, match="mesh_check"):
        pipe("walk", num_frames=12, mesh_check=tmp_path / "missing.pkl")


def test_a_model_carries_its_guide_defaults(tmp_path):
    pipe = LeadFollowPipeline(**tiny_components(), pace_controller={"window": [0.0, 0.7]}, adapter={"delta": 0.05})
    pipe.save_pretrained(tmp_path / "model")
    loaded = LeadFollowPipeline.from_pretrained(tmp_path / "model")
    loaded.set_progress_bar_config(disable=True)
    assert list(loaded.config["pace_controller"]["window"]) == [0.0, 0.7] and loaded.config["adapter"]["delta"] == 0.05
    # 4 DDIM steps sit at noise levels 0.75, 0.5, 0.25 and 0: the model's window takes three, the paper's one
    out = loaded("walk", leader_trajectory=PATH, num_frames=20, use_adapter=False)
    assert out.reports[0]["guidance"]["pace_steps"] == 3
    out = loaded("walk", leader_trajectory=PATH, num_frames=20, use_adapter=False, pace_controller=PaceController())
    assert out.reports[0]["guidance"]["pace_steps"] == 1
    with pytest.raises(TypeError, match="unexpected keyword"):
        LeadFollowPipeline(**tiny_components(), pace_controller={"windows": [0.0, 0.7]})


def test_outputs_have_the_rest_skeletons_bones_unless_asked_for_raw_joints(pipe):
    from motion.skeleton import SMPL_REST_JOINTS, bone_lengths

    kwargs = {"prompt": "walk", "leader_trajectory": PATH, "num_frames": 20, "generator": torch.Generator().manual_seed(0),
              "use_adapter": False}  # the adapter's last pass moves the follower's pelvis
    projected = pipe(**kwargs).motions[0].numpy()
    np.testing.assert_allclose(bone_lengths(projected), np.broadcast_to(bone_lengths(SMPL_REST_JOINTS), (2, 20, 21)), atol=1e-6)
    raw = pipe(**{**kwargs, "generator": torch.Generator().manual_seed(0)}, project_to_skeleton=False).motions[0].numpy()
    assert np.abs(bone_lengths(raw) - bone_lengths(SMPL_REST_JOINTS)).max() > 0.01  # the random prior's bones are not
    np.testing.assert_allclose(projected[:, :, 0], raw[:, :, 0], atol=1e-9)  # the pelvis path is kept


def test_guidance_counts_are_per_sample(pipe):
    out = pipe("walk", leader_trajectory=PATH, num_frames=16, num_samples=2, generator=[torch.Generator().manual_seed(s) for s in (0, 1)])
    alone = pipe("walk", leader_trajectory=PATH, num_frames=16, generator=[torch.Generator().manual_seed(1)])
    assert out.reports[1]["guidance"]["adapter_colliding_frames"] == alone.reports[0]["guidance"]["adapter_colliding_frames"]
    assert all(len(r["guidance"]["adapter_colliding_frames"]) == 3 for r in out.reports)  # 4 steps, 3 at noise <= 0.7
