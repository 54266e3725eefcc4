"""The prior's training recipe end to end on a small real dataset: it learns, checkpoints and resumes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from mocap_data import MOCAP, SALSA, needs_mocap

from motion import LeadFollowPipeline
from motion.dataset import build_dataset
from motion.features import FeatureNormalizer
from motion.models import InterDenoiser
from motion.train import package, prior
from motion.train.data import MotionPairs


@pytest.fixture(scope="module")
def motion_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mocap")
    for path in (SALSA / "60_10_scaled.bvh", SALSA / "61_10_scaled.bvh", MOCAP / "bvh11_cmu_131" / "131_01.bvh", MOCAP / "bvh11_cmu_131" / "131_02.bvh"):
        shutil.copy(path, folder / path.name)
    out = tmp_path_factory.mktemp("data")
    build_dataset(folder, out, window=60, stride=60, log=lambda message: None)
    return out


@needs_mocap()
def test_windows_are_normalised_padded_and_swappable(motion_data):
    normalizer = prior.fit_normalizer(motion_data)
    dataset = MotionPairs(motion_data, "train", frames=80, normalizer=normalizer)
    item = dataset[0]
    assert item["motion"].shape == (80, 524) and item["mask"].dtype == torch.bool
    real = item["motion"][item["mask"]]
    assert real.shape[0] == 59 and torch.isfinite(real).all()  # 60-pose windows give 59 feature rows
    assert item["motion"][~item["mask"]].abs().sum() == 0
    assert isinstance(item["caption"], str) and item["caption"]
    stacked = np.concatenate([dataset[i]["motion"][dataset[i]["mask"]].numpy() for i in range(len(dataset))])
    assert abs(stacked.mean()) < 0.5  # roughly centred by the fitted statistics


@needs_mocap()
def test_training_runs_checkpoints_and_resumes(motion_data, tmp_path):
    run = tmp_path / "run"
    common = ["--data", str(motion_data), "-o", str(run), "--size", "tiny", "--frames", "40", "--batch-size", "4", "--save-steps", "3"]
    first = prior.main([*common, "--steps", "3"])
    assert first["step"] == 3 and np.isfinite(first["loss"])
    assert json.loads((run / "checkpoint" / "state.json").read_text())["step"] == 3
    resumed = prior.main([*common, "--steps", "5"])
    assert resumed["step"] == 5
    model = InterDenoiser.from_pretrained(run / "final" / "denoiser")
    assert model.config["latent_dim"] == 64 and model.config["text_dim"] == 384
    FeatureNormalizer.load(run / "final" / "normalizer.safetensors")
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [3, 5]

    # the run packages into a pipeline that from_pretrained loads and samples
    (tmp_path / "notes.md").write_text("## Measured\n\nnothing yet")
    package.main([str(run), "-o", str(tmp_path / "pipe"), "--steps", "3", "--guidance-scale", "2", "--pace-window", "0.1", "0.7", "--max-len", "1000",
                  "--card-notes", str(tmp_path / "notes.md")])
    card = (tmp_path / "pipe" / "MODEL_CARD.md").read_text()
    assert "| 5 |" in card and "mocap.cs.cmu.edu" in card and card.rstrip().endswith("nothing yet")
    pipe = LeadFollowPipeline.from_pretrained(tmp_path / "pipe")
    assert pipe.config["num_inference_steps"] == 3 and pipe.config["guidance_scale"] == 2.0
    assert list(pipe.config["pace_controller"]["window"]) == [0.1, 0.7] and pipe.denoiser.config["max_len"] == 1000
    torch.testing.assert_close(pipe.denoiser.sequence_pos_encoder.pe, model.sequence_pos_encoder.pe[:1000])
    pipe.set_progress_bar_config(disable=True)
    out = pipe("two people dance", leader_trajectory=[[0, 0], [1, 0]], num_frames=20, generator=torch.Generator().manual_seed(0))
    assert out.motions.shape == (1, 2, 20, 22, 3) and torch.isfinite(out.motions).all()


@needs_mocap()
def test_the_loss_falls_when_the_prior_fits_one_batch(motion_data):
    normalizer = prior.fit_normalizer(motion_data)
    dataset = MotionPairs(motion_data, "train", frames=30, normalizer=normalizer)
    batch = torch.utils.data.default_collate([dataset[i] for i in range(4)])
    torch.manual_seed(0)
    model = InterDenoiser(**prior.MODEL_SIZES["tiny"], text_dim=8)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    diffusion = prior.GaussianDiffusion()
    text = torch.randn(4, 8)
    losses = []
    for step in range(60):
        terms = prior.prior_loss(model, diffusion, normalizer, batch["motion"], batch["mask"], text, torch.Generator().manual_seed(step % 4))
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        losses.append(float(terms["simple"]))
    assert np.mean(losses[-8:]) < 0.6 * np.mean(losses[:8])


@needs_mocap()
def test_length_grouped_batches_cover_every_window_once_and_trim_padding(motion_data):
    from motion.train.data import LengthGroupedBatches, trim_padding, window_rows

    dataset = MotionPairs(motion_data, "train", frames=80, normalizer=prior.fit_normalizer(motion_data))
    sampler = LengthGroupedBatches(dataset, batch_size=2, seed=0)
    first, second = list(sampler), list(sampler)
    assert sorted(i for b in first for i in b) == list(range(len(dataset)))
    assert first != second or len(first) == 1  # a new order each epoch
    lengths = [window_rows(dataset, i) for i in range(len(dataset))]
    for batch in first:  # neighbours in length: no window shares a batch with one it would have to wait for
        others = [lengths[i] for i in range(len(dataset)) if i not in batch]
        assert not any(min(lengths[i] for i in batch) < other < max(lengths[i] for i in batch) for other in others)
    collated = trim_padding([dataset[i] for i in first[0]])
    assert collated["motion"].shape[1] == collated["mask"].shape[1] == max(lengths[i] for i in first[0])


def _write_interhuman(built, folder):
    """The built CMU windows in InterGen's InterHuman layout (z-up, 62 joint slots, 6D rotations)."""
    from motion.dataset import read_index
    from motion.features import rotation_to_6d
    from motion.train.data import INTERHUMAN_TO_Y_UP, load_window

    rows = read_index(built, "train")
    for person in ("person1", "person2"):
        (folder / "motions_processed" / person).mkdir(parents=True)
    (folder / "annots").mkdir()
    for row in rows:
        joints, rotations = load_window(built, row)
        for index, person in enumerate(("person1", "person2")):
            raw = np.zeros((joints.shape[0], 62 * 3 + 21 * 6 + 12))
            raw[:, : 22 * 3] = (joints[:, index] @ INTERHUMAN_TO_Y_UP).reshape(len(joints), -1)  # y-up back to z-up
            raw[:, 62 * 3 : 62 * 3 + 21 * 6] = rotation_to_6d(rotations[:, index, 1:]).reshape(len(joints), -1)
            np.save(folder / "motions_processed" / person / f"{row['id']}.npy", raw.astype(np.float32))
        (folder / "annots" / f"{row['id']}.txt").write_text("\n".join(row["captions"]) + "\n")
    (folder / "train.txt").write_text("\n".join(r["id"] for r in rows[1:]) + "\n")
    (folder / "ignore_list.txt").write_text(rows[0]["id"] + "\n")
    return rows


@needs_mocap()
def test_interhuman_layout_reads_as_the_same_motion_and_trains(motion_data, tmp_path):
    from motion.train.data import is_interhuman, load_window, read_rows

    folder = tmp_path / "interhuman"
    rows = _write_interhuman(motion_data, folder)
    assert is_interhuman(folder) and not is_interhuman(motion_data)
    loaded = read_rows(folder, "train")
    assert [r["id"] for r in loaded] == [r["id"] for r in rows[1:]]  # the ignore list is honoured
    for ours, theirs in zip(rows[1:], loaded, strict=True):
        joints, rotations = load_window(motion_data, ours)
        joints_ih, rotations_ih = load_window(folder, theirs)
        np.testing.assert_allclose(joints_ih, joints, atol=1e-5)
        np.testing.assert_allclose(rotations_ih[:, :, 1:], rotations[:, :, 1:], atol=1e-5)
        assert theirs["captions"] == ours["captions"]
    last = prior.main(["--data", str(folder), "-o", str(tmp_path / "run"), "--size", "tiny", "--frames", "40", "--batch-size", "2",
                       "--steps", "2", "--save-steps", "2"])
    assert last["step"] == 2 and np.isfinite(last["loss"])
    # InterGen's own statistics win over fitting when they sit next to the data
    np.save(folder / "global_mean.npy", np.full(262, 0.5, np.float32))
    np.save(folder / "global_std.npy", np.full(262, 2.0, np.float32))
    assert prior.fit_normalizer(folder).mean[0] == 0.5
