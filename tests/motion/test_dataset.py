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
