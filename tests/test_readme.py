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
