"""Where the real CMU mocap lives (../shared/data/mocap beside the repository), and small fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

MOCAP = Path(__file__).resolve().parents[3] / "shared" / "data" / "mocap"


def mocap_files(*patterns: str) -> list[Path]:
    if not MOCAP.is_dir():
        return []
    return sorted(path for pattern in patterns for path in MOCAP.rglob(pattern))


def needs_mocap():
    return pytest.mark.skipif(not MOCAP.is_dir(), reason=f"CMU mocap not found at {MOCAP}")


SALSA = MOCAP / "beemsoft_webxr_cmu_salsa_60_61"


def facing_pair(gap: float) -> np.ndarray:
    """Two SMPL mean bodies in rest pose facing each other, chests ``gap`` metres apart between
    pelvis lines (frames=1): A at the origin facing +z, B turned to face -z."""
    from motion.skeleton import SMPL_REST_JOINTS

    a = SMPL_REST_JOINTS - SMPL_REST_JOINTS[0]
    b = a * [-1.0, 1.0, -1.0] + [0.0, 0.0, gap]  # half turn about y
    return np.stack([a, b])[None]
