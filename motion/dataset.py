"""``ctrlgen motion data build``: a folder of CMU mocap becomes a captioned two-person training set.

Recorded pairs (CMU subjects 60/61 salsa, 18/19 handshake) keep their shared world. A
single-person clip is paired with another trial of the same action, placed side by side or one
behind the other, and its caption says exactly that. CMU's steady walks last 2-5 seconds; with
``stitch_takes`` consecutive training takes of one walker are also stitched into long walks
(``motion.stitch``: joined where poses match, never across splits) and paired the same way.
Windows where a joint jumps faster than 15 m/s (mocap glitches) are dropped and listed in the
manifest. Clips are cut into windows of at most
``window`` frames at 30 fps; every window is one ``.npz`` (``joints`` (T, 2, 22, 3),
``local_rotations`` (T, 2, 22, 3, 3), ``fps``) plus a line in ``index.jsonl`` with its captions,
sources and split. Writing is atomic per file and the build resumes where it stopped.

The data is CMU's: "The data used in this project was obtained from mocap.cs.cmu.edu. The
database was created with funding from NSF EIA-0196217." (written to ACKNOWLEDGEMENT.md).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators.files import atomic_write_bytes, atomic_write_json, atomic_write_text

from .errors import MotionFileError
from .retarget import CALIBRATION_SPEED, Clip, import_clip, import_pair
from .skeleton import forward_kinematics
from .stitch import fastest_joint_speed, is_steady_walk, stitch_clips

CMU_ACKNOWLEDGEMENT = (
    "The data used in this project was obtained from mocap.cs.cmu.edu. "
    "The database was created with funding from NSF EIA-0196217."
)

# CMU's own trial descriptions (cmu-mocap-index-text), as captions. Pairs: (lead, follow).
PAIR_CAPTIONS: dict[str, list[str]] = {
    "salsa": [
        "two people dance salsa together",
        "a couple dances salsa, the lead guiding the follower",
        "two dancers hold each other and dance salsa, stepping forward and back and turning",
    ],
    "18_01": ["two people walk toward each other and shake hands", "two people meet, walk together and shake hands"],
    "18_02": ["two people walk toward each other and shake hands", "two people meet, walk together and shake hands"],
}
SINGLE_ACTIONS: dict[str, str] = {
    "02_01": "walk", "02_02": "walk", "02_03": "run", "02_04": "jump", "02_05": "punch", "02_06": "lift",
    "02_07": "swordplay", "02_08": "swordplay", "02_09": "swordplay", "02_10": "wash",
    "03_01": "walk", "03_02": "walk", "03_03": "walk", "03_04": "walk", "35_01": "walk",
    "131_01": "walk", "131_02": "walk", "131_03": "hop",
    **{f"35_{n:02d}": "walk" for n in (*range(1, 17), *range(28, 35))},
    **{f"35_{n:02d}": "run" for n in range(17, 27)},
}
# the exponential-map subset's action folders (motion.expmap)
EXPMAP_ACTIONS: dict[str, str] = {
    "walking": "walk", "walking_extra": "walk", "running": "run", "jumping": "jump", "soccer": "soccer",
    "basketball": "basketball", "basketball_signal": "signal", "directing_traffic": "traffic", "washwindow": "window",
}
# the same recording in two formats: keep one
DUPLICATES = {"expmap_train_walking_1": "02_01"}
ACTION_PHRASES: dict[str, tuple[str, str]] = {  # (side by side, one behind the other)
    "walk": ("two people walk side by side", "one person walks behind the other"),
    "run": ("two people jog side by side", "one person jogs behind the other"),
    "jump": ("two people jump and balance side by side", "two people jump and balance, one behind the other"),
    "punch": ("two people punch and strike the air side by side", "two people shadow-box, one behind the other"),
    "lift": ("two people bend over, scoop something up and lift their arms side by side",
             "two people bend over and lift, one behind the other"),
    "swordplay": ("two people practise swordplay side by side", "two people practise swordplay, one behind the other"),
    "wash": ("two people mime washing themselves side by side", "two people mime washing themselves, one behind the other"),
    "hop": ("two people start walking, hop and stop side by side", "two people hop along, one behind the other"),
    "soccer": ("two people practise soccer moves side by side", "two people practise soccer moves, one behind the other"),
    "basketball": ("two people practise basketball moves side by side", "two people practise basketball moves, one behind the other"),
    "signal": ("two people make basketball signals side by side", "two people make basketball signals, one behind the other"),
    "traffic": ("two people direct traffic side by side", "two people direct traffic, one behind the other"),
    "window": ("two people mime washing a window side by side", "two people mime washing a window, one behind the other"),
}
SIDE_BY_SIDE = 1.0  # metres between the two people's pelvises
BEHIND = 1.8


Source = tuple[Path, str | None]  # a file, and the trial inside it for multi-trial files (.mat)


def trial_id(path: Path) -> str:
    """'60_01' from '60_01_scaled.bvh', '02_01' from '02_01.amc'."""
    match = re.match(r"(\d+)_(\d+)", path.stem)
    if not match:
        raise MotionFileError(f"{path}: file name does not start with a CMU trial id (SUBJECT_TRIAL)")
    return f"{int(match.group(1)):02d}_{match.group(2)}"


def source_id(source: Source) -> str:
    path, trial = source
    if trial is not None:
        return trial
    if path.suffix.lower() in (".txt", ".csv"):  # exp-map subset: <split>/<action>/<action>_<n>.txt
        return f"expmap_{path.parent.parent.name}_{path.stem}"
    return trial_id(path)


@dataclass
class Pairing:
    kind: str  # "recorded", "placed" or "stitched"
    sources: tuple[Source, Source]  # for stitched pairs: the first take of each person's chain
    captions: list[str]
    placement: str = ""  # for placed and stitched pairs: "side" or "behind"
    chains: tuple[list[Source], list[Source]] | None = None  # stitched pairs: each person's takes, in order

    @property
    def name(self) -> str:
        stem = f"{source_id(self.sources[0])}_{source_id(self.sources[1])}"
        if self.kind == "stitched":
            stem = f"stitched_{stem}"
        return stem + (f"_{self.placement}" if self.placement else "")

    @property
    def all_sources(self) -> list[Source]:
        return [*self.chains[0], *self.chains[1]] if self.chains else list(self.sources)


def steady_walk_family(trial: str) -> str | None:
    """Which walker a steady walking take belongs to (takes of one family are stitched together), or None.

    CMU subject 35's walks and the exponential-map subset's walking takes cross the room at an
    even pace; other walks start or stop (131), or cross uneven ground (03)."""
    if trial.startswith("35_"):
        return "35"
    if trial.startswith(("expmap_train_walking_", "expmap_test_walking_")):
        return "expmap_walking"
    return None


def _stitched_pairs(found: dict[str, tuple[Source, str | None]], skipped_duplicates: set[str], takes: int) -> list[Pairing]:
    """Long side-by-side and one-behind-the-other walks from chains of ``takes`` training takes
    (each take checked with ``motion.stitch.is_steady_walk``)."""
    families: dict[str, list[Source]] = {}
    for trial, (source, action) in sorted(found.items()):
        family = steady_walk_family(trial)
        if action == "walk" and family and split_of(trial) == "train" and trial not in skipped_duplicates:
            try:
                steady = is_steady_walk(import_clip(source[0], trial=source[1]))
            except MotionFileError:
                steady = False  # the build reports the unreadable file where it is used on its own
            if steady:
                families.setdefault(family, []).append(source)
    side, behind = ACTION_PHRASES["walk"]
    pairs = []
    for family_sources in families.values():
        if len(family_sources) < 2 * takes:
            continue
        chains = [family_sources[start:start + takes] for start in range(0, len(family_sources) - takes + 1, max(1, takes // 3))]
        for index, chain in enumerate(chains):
            other = chains[(index + len(chains) // 2) % len(chains)]  # a chain of other takes
            placement = "side" if index % 2 == 0 else "behind"
            pairs.append(Pairing("stitched", (chain[0], other[0]), [side if placement == "side" else behind], placement,
                                 chains=(chain, other)))
    return pairs


def _sources(folder: Path) -> dict[str, tuple[Source, str | None]]:
    """Every trial under ``folder``: id -> (source, action or None)."""
    found: dict[str, tuple[Source, str | None]] = {}
    for path in sorted(folder.rglob("*")):
        suffix = path.suffix.lower()
        if suffix in (".bvh", ".amc"):
            trial = trial_id(path)
            found.setdefault(trial, ((path, None), SINGLE_ACTIONS.get(trial)))
        elif suffix == ".txt" and path.parent.name in EXPMAP_ACTIONS and path.parent.parent.name in ("train", "test"):
            found[source_id((path, None))] = ((path, None), EXPMAP_ACTIONS[path.parent.name])
        elif suffix == ".mat" and _holds_channels(path):
            from .expmap import GPMAT_TEST_TRIALS, GPMAT_TRIALS

            for trial in (*GPMAT_TRIALS, *GPMAT_TEST_TRIALS):
                found.setdefault(trial, ((path, trial), SINGLE_ACTIONS.get(trial)))
    return found


def _holds_channels(path: Path) -> bool:
    """A GPmat channel matrix (``Y`` with ``lbls``), not one of its side files (e.g. scale/bias)."""
    from scipy.io import whosmat

    try:
        names = {name for name, *_ in whosmat(path)}
    except (OSError, ValueError):
        return False
    return {"Y", "lbls"} <= names


def plan_pairs(folder: Path, stitch_takes: int = 0) -> tuple[list[Pairing], list[str]]:
    """Which trials become which two-person samples; also the trials left out, with why.

    ``stitch_takes``: takes per stitched long walk (0: no stitched walks)."""
    found = _sources(folder)
    pairs: list[Pairing] = []
    used: set[str] = set()
    skipped: list[str] = []
    for trial, (source, _) in sorted(found.items()):
        subject, _, number = trial.partition("_")
        partner = {"60": "61", "18": "19", "20": "21", "22": "23", "33": "34"}.get(subject)
        if partner and f"{partner}_{number}" in found:
            captions = PAIR_CAPTIONS["salsa"] if subject == "60" else PAIR_CAPTIONS.get(trial, [])
            if not captions:
                skipped.append(f"{trial}: recorded pair without a caption")
                continue
            pairs.append(Pairing("recorded", (source, found[f"{partner}_{number}"][0]), captions))
            used |= {trial, f"{partner}_{number}"}
    singles: dict[str, list[Source]] = {}
    for trial, (source, action) in sorted(found.items()):
        if trial in used:
            continue
        if trial in DUPLICATES and DUPLICATES[trial] in found:
            skipped.append(f"{trial}: the same recording as {DUPLICATES[trial]}")
            continue
        if action is None:
            skipped.append(f"{trial}: no description for this trial")
            continue
        singles.setdefault(action, []).append(source)
    for action, sources in sorted(singles.items()):
        side, behind = ACTION_PHRASES[action]
        for index, source in enumerate(sources):
            other = sources[(index + 1) % len(sources)]  # another trial of the same action when there is one
            placement = "side" if index % 2 == 0 else "behind"
            pairs.append(Pairing("placed", (source, other), [side if placement == "side" else behind], placement))
    if stitch_takes > 0:
        duplicates = {trial for trial in DUPLICATES if DUPLICATES[trial] in found}
        pairs += _stitched_pairs(found, duplicates, stitch_takes)
    return pairs, skipped


def _heading(clip: Clip) -> np.ndarray:
    """Unit forward direction (x, z) of the first frame, from the hips."""
    across = clip.joints[0, 2] - clip.joints[0, 1]
    forward = np.cross([0.0, 1.0, 0.0], across)[[0, 2]]
    return forward / max(np.linalg.norm(forward), 1e-9)


def _place(lead: Clip, other: Clip, placement: str) -> tuple[np.ndarray, np.ndarray]:
    """Joints and rotations (T, 2, ...) of ``other`` turned to ``lead``'s heading and set beside or behind it."""
    frames = min(lead.num_frames, other.num_frames)
    forward_lead, forward_other = _heading(lead), _heading(other)
    angle = np.arctan2(forward_lead[0], forward_lead[1]) - np.arctan2(forward_other[0], forward_other[1])
    turn = np.array([[np.cos(angle), 0.0, np.sin(angle)], [0.0, 1.0, 0.0], [-np.sin(angle), 0.0, np.cos(angle)]])
    right = np.array([-forward_lead[1], forward_lead[0]])  # beside: to the lead's right
    offset_xz = right * SIDE_BY_SIDE if placement == "side" else -forward_lead * BEHIND
    start_lead, start_other = lead.root_positions[0], other.root_positions[0]
    rotations_other = other.local_rotations[:frames].copy()
    rotations_other[:, 0] = turn @ rotations_other[:, 0]
    root_other = (other.root_positions[:frames] - start_other) @ turn.T + start_other
    root_other[:, [0, 2]] += (start_lead - start_other)[[0, 2]] + offset_xz
    joints_other = forward_kinematics(rotations_other, root_other)
    joints = np.stack([lead.joints[:frames], joints_other], axis=1)
    rotations = np.stack([lead.local_rotations[:frames], rotations_other], axis=1)
    return joints, rotations


def _windows(frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    if frames <= window:
        return [(0, frames)]
    starts = list(range(0, frames - window + 1, stride))
    if starts[-1] + window < frames:
        starts.append(frames - window)
    return [(s, s + window) for s in starts]


GLITCH_SPEED = CALIBRATION_SPEED  # m/s: no joint of a person moves this fast between two frames


def split_of(trial: str) -> str:
    """Held out by trial, so no window of a test trial is seen in training."""
    if trial.startswith("expmap_test_"):
        return "test"
    return {"60_15": "test", "60_14": "val", "02_02": "test", "35_01": "val", "35_18": "test", "35_29": "test"}.get(trial, "train")


def build_dataset(folder: str | Path, output: str | Path, window: int = 300, stride: int = 150,
                  stitch_takes: int = 0, log=print) -> dict[str, Any]:
    """Build (or resume) the two-person set from ``folder`` into ``output``.

    ``stitch_takes``: takes per stitched long walk (``motion.stitch``); 0 leaves them out."""
    folder, output = Path(folder), Path(output)
    if not folder.is_dir():
        raise MotionFileError(f"{folder}: not a folder of mocap files")
    if stitch_takes < 0 or stitch_takes == 1:
        raise ValueError(f"stitch_takes must be 0 (no stitched walks) or at least 2, got {stitch_takes}")
    pairs, skipped = plan_pairs(folder, stitch_takes)
    if not pairs:
        raise MotionFileError(f"{folder}: no BVH/AMC/exp-map/.mat trials that can form two-person samples")
    (output / "clips").mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    rejected: list[str] = []
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        lead_trial, name = source_id(pair.sources[0]), pair.name
        spans = None
        try:
            if pair.kind == "recorded":
                clips = import_pair(pair.sources[0][0], pair.sources[1][0])
                joints = np.stack([c.joints for c in clips], axis=1)
                rotations = np.stack([c.local_rotations for c in clips], axis=1)
            elif pair.kind == "stitched":
                lead, other = (stitch_clips([import_clip(path, trial=trial) for path, trial in chain]) for chain in pair.chains)
                joints, rotations = _place(lead, other, pair.placement)
            else:
                lead, other = (import_clip(path, trial=trial) for path, trial in pair.sources)
                joints, rotations = _place(lead, other, pair.placement)
            spans = _windows(joints.shape[0], window, stride)
        except MotionFileError as error:
            failures.append(str(error))
            log(f"skipped {name}: {error}")
            continue
        for index, (start, end) in enumerate(spans):
            sample_id = f"{name}_{index:02d}"
            speed = fastest_joint_speed(joints[start:end], 30.0)
            if speed > GLITCH_SPEED:
                rejected.append(f"{sample_id}: a joint moves {speed:.0f} m/s (a glitch in the take)")
                continue
            path = output / "clips" / f"{sample_id}.npz"
            if not path.is_file():
                buffer = io.BytesIO()
                np.savez_compressed(buffer, joints=joints[start:end].astype(np.float32),
                                    local_rotations=rotations[start:end].astype(np.float32), fps=np.float32(30.0))
                atomic_write_bytes(path, buffer.getvalue())
            rows.append({
                "id": sample_id, "file": f"clips/{sample_id}.npz", "captions": pair.captions, "frames": end - start,
                "kind": pair.kind, "sources": [str(p.relative_to(folder)) + (f"#{t}" if t else "") for p, t in pair.all_sources],
                "start_frame": start, "split": split_of(lead_trial),
            })
    atomic_write_text(output / "index.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    atomic_write_text(output / "ACKNOWLEDGEMENT.md", "# Data\n\nCMU Graphics Lab Motion Capture Database.\n\n" + CMU_ACKNOWLEDGEMENT + "\n")
    summary = {
        "samples": len(rows), "frames": int(sum(r["frames"] for r in rows)),
        "splits": {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")},
        "skipped_trials": skipped, "rejected_windows": rejected, "failures": failures,
    }
    atomic_write_json(output / "manifest.json", summary)
    return summary


def read_index(output: str | Path, split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (Path(output) / "index.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]
