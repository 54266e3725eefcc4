"""Two-person training windows from ``ctrlgen motion data build`` as InterGen features.

Each item: a random crop of ``frames + 1`` poses of a sample (fewer when the sample is shorter;
the rest is padding and ``mask`` is False there), the two people swapped with probability 1/2
(InterGen's exchangeability augmentation), turned into (frames, 2 * 262) normalised features in
person A's canonical frame, and one of the sample's captions.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..dataset import read_index
from ..features import FEATURE_DIM, FeatureNormalizer, pair_to_features


def load_window(directory: Path, row: dict) -> tuple[np.ndarray, np.ndarray]:
    with np.load(directory / row["file"]) as data:
        return data["joints"].astype(np.float64), data["local_rotations"].astype(np.float64)


class MotionPairs(torch.utils.data.Dataset):
    def __init__(self, data: str | Path, split: str, frames: int, normalizer: FeatureNormalizer | None = None, seed: int = 0,
                 limit: int | None = None):
        self.directory = Path(data)
        self.rows = read_index(self.directory, split)[:limit]
        if not self.rows:
            raise ValueError(f"{data} has no '{split}' samples; build it with `ctrlgen motion data build`")
        self.frames = frames
        self.normalizer = normalizer
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.rows)

    def captions(self) -> list[str]:
        return sorted({caption for row in self.rows for caption in row["captions"]})

    def __getitem__(self, index: int) -> dict:
        rng = random.Random(hash((self.seed, self.epoch, index)))
        row = self.rows[index]
        joints, rotations = load_window(self.directory, row)
        start = rng.randrange(0, max(1, joints.shape[0] - self.frames))
        joints, rotations = joints[start : start + self.frames + 1], rotations[start : start + self.frames + 1]
        if rng.random() < 0.5:
            joints, rotations = joints[:, ::-1], rotations[:, ::-1]
        features = pair_to_features(np.ascontiguousarray(joints), np.ascontiguousarray(rotations))  # (T, 2, 262)
        if self.normalizer is not None:
            features = self.normalizer.normalize(features.astype(np.float32))
        length = features.shape[0]
        padded = np.zeros((self.frames, 2 * FEATURE_DIM), dtype=np.float32)
        padded[:length] = features.reshape(length, -1)
        mask = np.zeros(self.frames, dtype=bool)
        mask[:length] = True
        return {"motion": torch.from_numpy(padded), "mask": torch.from_numpy(mask), "caption": rng.choice(row["captions"])}


def fit_normalizer(data: str | Path, split: str = "train", limit: int | None = None) -> FeatureNormalizer:
    """Feature statistics over every training window, both people pooled."""
    directory = Path(data)
    rows = []
    for row in read_index(directory, split)[:limit]:
        joints, rotations = load_window(directory, row)
        rows.append(pair_to_features(joints, rotations).reshape(-1, FEATURE_DIM))
    return FeatureNormalizer.fit(np.concatenate(rows))
