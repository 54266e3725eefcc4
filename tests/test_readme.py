"""The README's example of the shared core runs as written."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_core_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    (core,) = [b for b in blocks if "load_text_encoder" in b]
    namespace: dict = {}
    exec(compile(core, "README.md", "exec"), namespace)
    assert namespace["ranked"].indices == [2, 0, 1]
    assert namespace["emb"].pooled.shape == (2, 384)
    assert namespace["path"].shape == (120, 2)


def test_motion_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    (example,) = [b for b in blocks if "LeadFollowPipeline" in b]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    out = namespace["out"]
    assert tuple(out.motions.shape) == (1, 2, 120, 22, 3) and out.leaders == ["a"]
    assert out.reports[0]["leader_path"]["trajectory_error_mean_m"] < 0.1
    assert (tmp_path / "walk" / "person_a.bvh").is_file()


def test_editing_example_runs():
    import numpy as np

    blocks = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    (example,) = [b for b in blocks if "EditPipeline" in b]
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    out, scene, session = namespace["out"], namespace["scene"], namespace["session"]
    plan = out.plans[0]
    assert (plan.category, plan.target.noun, plan.target.color, plan.target.size, plan.target.position) == (
        "remove", "circle", "red", "smaller", "left")
    assert out.reports[0]["reasoning"] == ["4 instances", "2 circle(s)", "2 red", "1 in the left, the smaller taken"]
    assert out.masks[0][scene.objects[0].mask].all() and not out.masks[0][scene.objects[1].mask].any()
    assert session.history == ["make all red circles blue"]
    assert not np.array_equal(session.image, scene.image)
