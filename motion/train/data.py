"""Two-person training windows as InterGen features: from ``ctrlgen motion data build``, or from
InterHuman in InterGen's own layout (``motions_processed/person1|person2``, ``annots``, split files).

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

# InterHuman (InterGen's dataset) is z-up; InterGen turns it y-up with this matrix (utils.process_motion_np).
INTERHUMAN_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
INTERHUMAN_MIN_FRAMES = 16  # InterGen skips shorter clips
INTERHUMAN_ROTATIONS = slice(62 * 3, 62 * 3 + 21 * 6)  # 62 joint positions first, then joints 1..21 as 6D


def is_interhuman(directory: str | Path) -> bool:
    """InterGen's data layout: ``motions_processed/person1|person2/*.npy``, ``annots/*.txt``, ``train.txt``..."""
    return (Path(directory) / "motions_processed" / "person1").is_dir()


def read_interhuman_index(directory: Path, split: str) -> list[dict]:
    """Rows like ``ctrlgen motion data build``'s for the InterHuman clips of a split (minus ``ignore_list.txt``)."""
    listed = directory / f"{split}.txt"
    if not listed.is_file():
        raise ValueError(f"{directory} is in InterGen's layout but has no {split}.txt")
    ignored = set((directory / "ignore_list.txt").read_text().split()) if (directory / "ignore_list.txt").is_file() else set()
    rows = []
    for name in listed.read_text().split():
        first, second = (directory / "motions_processed" / person / f"{name}.npy" for person in ("person1", "person2"))
        text = directory / "annots" / f"{name}.txt"
        if name in ignored or not (first.is_file() and second.is_file() and text.is_file()):
            continue
        frames = min(np.load(first, mmap_mode="r").shape[0], np.load(second, mmap_mode="r").shape[0])
        captions = [line.strip() for line in text.read_text().splitlines() if line.strip()]
        if frames >= INTERHUMAN_MIN_FRAMES and captions:
            rows.append({"id": name, "file": name, "captions": captions, "frames": int(frames), "interhuman": True})
    return rows


def _interhuman_person(path: Path, frames: int) -> tuple[np.ndarray, np.ndarray]:
    from ..features import rotation_from_6d

    motion = np.load(path).astype(np.float64)[:frames]
    joints = motion[:, : 22 * 3].reshape(frames, 22, 3) @ INTERHUMAN_TO_Y_UP.T
    rotations = np.tile(np.eye(3), (frames, 22, 1, 1))  # the root's is not stored; features never use it
    rotations[:, 1:] = rotation_from_6d(motion[:, INTERHUMAN_ROTATIONS].reshape(frames, 21, 6))
    return joints, rotations


def load_window(directory: Path, row: dict) -> tuple[np.ndarray, np.ndarray]:
    """(joints (T, 2, 22, 3), local rotations (T, 2, 22, 3, 3)) of a row from either layout."""
    if row.get("interhuman"):
        people = [_interhuman_person(directory / "motions_processed" / person / f"{row['file']}.npy", row["frames"])
                  for person in ("person1", "person2")]
        return np.stack([people[0][0], people[1][0]], 1), np.stack([people[0][1], people[1][1]], 1)
    with np.load(directory / row["file"]) as data:
        return data["joints"].astype(np.float64), data["local_rotations"].astype(np.float64)


def read_rows(directory: Path, split: str) -> list[dict]:
    return read_interhuman_index(directory, split) if is_interhuman(directory) else read_index(directory, split)


class MotionPairs(torch.utils.data.Dataset):
    def __init__(self, data: str | Path, split: str, frames: int, normalizer: FeatureNormalizer | None = None, seed: int = 0,
                 limit: int | None = None):
        self.directory = Path(data)
        self.rows = read_rows(self.directory, split)[:limit]
        if not self.rows:
            raise ValueError(f"{data} has no '{split}' samples; build it with `ctrlgen motion data build` (or use InterGen's layout)")
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
    """Feature statistics over every training window, both people pooled.

    In InterGen's layout, its own ``global_mean.npy``/``global_std.npy`` (next to the data or one
    folder up) are used when present, so InterGen checkpoints see the statistics they were trained with.
    """
    directory = Path(data)
    for folder in (directory, directory.parent):
        if is_interhuman(directory) and (folder / "global_mean.npy").is_file() and (folder / "global_std.npy").is_file():
            return FeatureNormalizer(np.load(folder / "global_mean.npy"), np.load(folder / "global_std.npy"))
    rows = []
    for row in read_rows(directory, split)[:limit]:
        joints, rotations = load_window(directory, row)
        rows.append(pair_to_features(joints, rotations).reshape(-1, FEATURE_DIM))
    return FeatureNormalizer.fit(np.concatenate(rows))
