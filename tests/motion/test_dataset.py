"""``ctrlgen motion data build`` on a small folder of real CMU files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from mocap_data import MOCAP, SALSA, needs_mocap

from motion.dataset import build_dataset, plan_pairs, read_index
from motion.errors import MotionFileError


@pytest.fixture(scope="module")
def small_mocap(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mocap")
    for path in (SALSA / "60_10_scaled.bvh", SALSA / "61_10_scaled.bvh", MOCAP / "bvh11_cmu_131" / "131_03.bvh"):
        shutil.copy(path, folder / path.name)
    amc = folder / "02"
    amc.mkdir()
    for name in ("02.asf", "02_01.amc", "02_02.amc", "02_05.amc"):
        shutil.copy(MOCAP / "cyun9601_cmu_asfamc" / "02" / name, amc / name)
    return folder


@needs_mocap()
def test_plan_pairs_recorded_pairs_and_placed_singles(small_mocap):
    pairs, skipped = plan_pairs(small_mocap)
    kinds = {(p.kind, p.sources[0][0].name) for p in pairs}
    assert ("recorded", "60_10_scaled.bvh") in kinds
    walks = [p for p in pairs if p.kind == "placed" and p.sources[0][0].name in ("02_01.amc", "02_02.amc")]
    assert {p.sources[1][0].name for p in walks} == {"02_01.amc", "02_02.amc"} and {p.placement for p in walks} == {"side", "behind"}
    assert all(p.captions for p in pairs) and skipped == []


@needs_mocap()
def test_build_writes_windows_captions_and_acknowledgement_then_resumes(small_mocap, tmp_path, capsys):
    from generators.cli import main

    out = tmp_path / "data"
    assert main(["motion", "data", "build", str(small_mocap), "-o", str(out), "--window", "120", "--stride", "60"]) == 0
    rows = read_index(out)
    assert rows and {r["kind"] for r in rows} == {"recorded", "placed"}
    assert "mocap.cs.cmu.edu" in (out / "ACKNOWLEDGEMENT.md").read_text()
    assert {r["split"] for r in rows} >= {"train", "test"}  # 02_02 is held out
    for row in rows[:6]:
        with np.load(out / row["file"]) as data:
            joints, rotations = data["joints"], data["local_rotations"]
        assert joints.shape == (row["frames"], 2, 22, 3) and rotations.shape == (row["frames"], 2, 22, 3, 3)
        assert row["frames"] <= 120 and row["captions"][0].startswith(("two", "a couple", "one"))
    side = next(r for r in rows if r["id"].endswith("side_00"))
    with np.load(out / side["file"]) as data:
        joints = data["joints"]
    gap = np.linalg.norm(joints[0, 0, 0, [0, 2]] - joints[0, 1, 0, [0, 2]])
    assert gap == pytest.approx(1.0, abs=1e-6)  # placed exactly as the caption says
    first = {p.name: p.stat().st_mtime_ns for p in (out / "clips").iterdir()}
    summary = build_dataset(small_mocap, out, window=120, stride=60, log=lambda message: None)
    assert summary["samples"] == len(rows) and json.loads((out / "manifest.json").read_text())["samples"] == len(rows)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "clips").iterdir()} == first  # resumed: nothing rewritten


def test_build_refuses_an_empty_folder(tmp_path):
    with pytest.raises(MotionFileError, match=r"no BVH/AMC/exp-map/\.mat trials"):
        build_dataset(tmp_path, tmp_path / "out")


@needs_mocap()
def test_only_gpmat_channel_matrices_count_as_mocap():
    from motion.dataset import _holds_channels

    assert _holds_channels(MOCAP / "GPmat_cmu35" / "cmu35WalkJog.mat")
    assert not _holds_channels(MOCAP / "GPmat_cmu35" / "cmu35TaylorScaleBias.mat")


@pytest.fixture(scope="module")
def walking_takes(tmp_path_factory):
    """Real exponential-map walking takes: six steady training takes, one with a glitch (walking_22), one held out."""
    folder = tmp_path_factory.mktemp("walks")
    train = ["walking/walking_2.txt", "walking/walking_3.txt", "walking/walking_4.txt", "walking/walking_5.txt",
             "walking_extra/walking_27.txt", "walking_extra/walking_28.txt", "walking_extra/walking_22.txt"]
    for split, names in (("train", train), ("test", ["walking/walking_1.txt"])):
        for name in names:
            target = folder / "expmap" / split / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(MOCAP / "chaneyddtt_cmu_expmap" / split / name, target)
    return folder


@needs_mocap()
def test_plan_pairs_stitches_steady_training_walks_only(walking_takes):
    pairs, _ = plan_pairs(walking_takes, stitch_takes=3)
    stitched = [p for p in pairs if p.kind == "stitched"]
    assert len(stitched) == 4 and {p.placement for p in stitched} == {"side", "behind"}
    for pair in stitched:
        assert [len(chain) for chain in pair.chains] == [3, 3] and pair.chains[0] != pair.chains[1]
        names = {path.stem for path, _ in pair.all_sources}
        assert "walking_22" not in names  # a glitch: not steady
        assert all(path.parent.parent.name == "train" for path, _ in pair.all_sources)  # never a held-out take
        assert pair.captions[0] in ("two people walk side by side", "one person walks behind the other")
    assert not [p for p in plan_pairs(walking_takes, stitch_takes=0)[0] if p.kind == "stitched"]


@needs_mocap()
def test_build_writes_long_stitched_walks_and_rejects_glitched_windows(walking_takes, tmp_path):
    summary = build_dataset(walking_takes, tmp_path / "data", window=300, stride=150, stitch_takes=3, log=lambda message: None)
    rows = read_index(tmp_path / "data")
    stitched = [r for r in rows if r["kind"] == "stitched"]
    assert stitched and all(r["split"] == "train" and len(r["sources"]) == 6 for r in stitched)
    assert max(r["frames"] for r in stitched) > 1.5 * max(r["frames"] for r in rows if r["kind"] == "placed")
    assert summary["rejected_windows"] and all("walking_22" in line for line in summary["rejected_windows"])
    for row in rows:
        with np.load(tmp_path / "data" / row["file"]) as data:
            assert np.linalg.norm(np.diff(data["joints"], axis=0), axis=-1).max() * 30 < 15.0
    with pytest.raises(ValueError, match="stitch_takes"):
        build_dataset(walking_takes, tmp_path / "other", stitch_takes=1)
