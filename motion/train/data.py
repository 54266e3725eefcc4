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


def window_rows(dataset: MotionPairs, index: int) -> int:
    """Feature rows item ``index`` holds (its crop's poses minus one)."""
    return min(int(dataset.rows[index]["frames"]), dataset.frames + 1) - 1


class LengthGroupedBatches(torch.utils.data.Sampler):
    """Batches of windows of similar length, in a new random order every epoch.

    With ``trim_padding`` as the loader's ``collate_fn`` a batch is only as long as its longest
    window, so short clips stop paying for the padding of long ones (the CMU set's windows run
    from 35 to 300 frames: about half the compute of fixed-length batches).
    """

    def __init__(self, dataset: MotionPairs, batch_size: int, seed: int = 0, drop_last: bool = False):
        self.dataset, self.batch_size, self.seed, self.drop_last = dataset, batch_size, seed, drop_last
        self.epoch = 0

    def _batches(self) -> list[list[int]]:
        rng = random.Random(hash((self.seed, self.epoch)))
        order = list(range(len(self.dataset)))
        rng.shuffle(order)  # ties in length fall in a new order every epoch
        order.sort(key=lambda i: window_rows(self.dataset, i))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        rng.shuffle(batches)
        return batches

    def __iter__(self):
        batches = self._batches()
        self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        return len(self._batches())


def trim_padding(items: list[dict]) -> dict:
    """Default collation, then the frames beyond the batch's longest window are cut off."""
    batch = torch.utils.data.default_collate(items)
    length = int(batch["mask"].sum(1).max())
    batch["motion"], batch["mask"] = batch["motion"][:, :length], batch["mask"][:, :length]
    return batch


def fit_normalizer(data: str | Path, split: str = "train", limit: int | None = None) -> FeatureNormalizer:
    """Feature statistics over every training window, both people pooled."""
    directory = Path(data)
    rows = []
    for row in read_index(directory, split)[:limit]:
        joints, rotations = load_window(directory, row)
        rows.append(pair_to_features(joints, rotations).reshape(-1, FEATURE_DIM))
    return FeatureNormalizer.fit(np.concatenate(rows))
