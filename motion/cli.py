"""``ctrlgen motion generate|check|import|data build``: registered through the ``ctrlgen.cli`` entry-point group."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("motion", help="generate, check and convert two-person motion")
    commands = parser.add_subparsers(dest="motion_command", metavar="COMMAND", required=True)

    generate = commands.add_parser("generate", help="two people from text, the leader on a path (Lead-Follow guidance)")
    generate.add_argument("prompt", metavar="PROMPT")
    generate.add_argument("-o", "--output", required=True, metavar="DIR")
    generate.add_argument("--leader-trajectory", default=None, metavar="FILE.json",
                          help='JSON list of [x, z] waypoints in metres (or {"points": [...], "times": [...]}), or that JSON inline')
    generate.add_argument("--follower-trajectory", default=None, metavar="FILE.json", help="the follower's path, same format")
    generate.add_argument("--leader", choices=("random", "a", "b"), default="random", help="which person leads (default random)")
    generate.add_argument("--frames", type=int, default=120, metavar="N", help="frames at 30 fps (default 120)")
    generate.add_argument("--seed", type=int, default=0, metavar="S")
    generate.add_argument("--steps", type=int, default=None, metavar="N", help="DDIM steps (default: the model's)")
    generate.add_argument("--guidance-scale", type=float, default=None, metavar="S", help="classifier-free guidance (default: the model's)")
    generate.add_argument("--model", default="embedded", metavar="DIR", help="'embedded', a saved pipeline directory or a hub id")
    generate.add_argument("--no-pace-controller", action="store_true", help="ablation: do not steer the leader onto the path")
    generate.add_argument("--no-adapter", action="store_true", help="ablation: do not adapt the follower on collisions")
    generate.add_argument("--no-preview", action="store_true", help="skip the animated preview")
    generate.set_defaults(func=_generate)

    check = commands.add_parser("check", help="collision, penetration, foot and ground report of a motion.npz")
    check.add_argument("file", metavar="FILE.npz")
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")
    check.add_argument("--mesh", action="store_true", help="add exact mesh penetration with the shipped open body")
    check.add_argument("--smpl", default=None, metavar="SMPL_NEUTRAL.pkl",
                       help="add exact mesh penetration with SMPL meshes (needs smpl_poses in the file)")
    check.add_argument("--stride", type=int, default=1, metavar="N", help="mesh-check every Nth frame (default 1)")
    check.set_defaults(func=_check)

    convert = commands.add_parser("import", help="retarget mocap (BVH, or AMC with its ASF) onto SMPL-22 and export it")
    convert.add_argument("files", nargs="+", metavar="FILE", help="one file per person (two for a pair recorded together)")
    convert.add_argument("-o", "--output", required=True, metavar="DIR")
    convert.add_argument("--no-preview", action="store_true", help="skip the animated preview")
    convert.set_defaults(func=_import)

    data = commands.add_parser("data", help="build a captioned two-person training set from mocap")
    data_commands = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    build = data_commands.add_parser("build", help="retarget, pair, caption and window a folder of CMU BVH/AMC files (resumable)")
    build.add_argument("folder", metavar="FOLDER")
    build.add_argument("-o", "--output", required=True, metavar="DIR")
    build.add_argument("--window", type=int, default=300, metavar="N", help="frames per sample at 30 fps (default 300)")
    build.add_argument("--stride", type=int, default=150, metavar="N", help="frames between window starts (default 150)")
    build.add_argument("--stitch-takes", type=int, default=0, metavar="N",
                       help="also stitch N steady walking takes into each long walk (default 0: none)")
    build.set_defaults(func=_data_build)


def read_trajectory(value: str, name: str):
    """A trajectory argument: a JSON file, or the JSON itself, holding [[x, z], ...] or {"points": ..., "times": ...}."""
    from generators.conditioning import TrajectoryCondition

    text = value if value.lstrip().startswith(("[", "{")) else None
    if text is None:
        path = Path(value)
        if not path.is_file():
            raise ValueError(f"{name}: no such file {value!r} (expected a JSON file of [x, z] waypoints)")
        text = path.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{name}: not JSON ({err})") from None
    if isinstance(data, dict):
        if "points" not in data:
            raise ValueError(f'{name}: a JSON object needs "points" (and optionally "times")')
        return TrajectoryCondition(data["points"], data.get("times"))
    return data


def _generate(args: argparse.Namespace) -> int:
    import torch

    from generators.files import atomic_write_json

    from .pipeline import LeadFollowPipeline

    trajectories = {name: None if value is None else read_trajectory(value, f"--{name.replace('_', '-')}")
                    for name, value in (("leader_trajectory", args.leader_trajectory), ("follower_trajectory", args.follower_trajectory))}
    pipe = LeadFollowPipeline.from_pretrained(args.model)
    out = pipe(args.prompt, **trajectories, leader=args.leader, num_frames=args.frames, num_inference_steps=args.steps,
               guidance_scale=args.guidance_scale, generator=torch.Generator().manual_seed(args.seed),
               use_pace_controller=not args.no_pace_controller, use_adapter=not args.no_adapter,
               output_dir=args.output, preview=not args.no_preview)
    report = {"prompt": args.prompt, "seed": args.seed, "model": args.model, **out.reports[0]}
    atomic_write_json(Path(args.output) / "report.json", report)
    leader = out.leaders[0]
    line = f"{args.frames} frames, person {leader} leads"
    if "leader_path" in report:
        line += f" (path error mean {report['leader_path']['trajectory_error_mean_m'] * 100:.1f} cm)"
    print(line + f", colliding frames {report['colliding_frame_rate']:.1%} -> {args.output}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .export import load_npz
    from .metrics import motion_report

    motion = load_npz(args.file)
    if motion.joints.shape[1] != 2:
        raise ValueError(f"{args.file}: holds {motion.joints.shape[1]} people; motion check needs two")
    report = motion_report(motion.joints, motion.fps)
    if args.smpl or args.mesh:
        from .mesh import mesh_report

        if args.stride < 1:
            raise ValueError(f"--stride must be >= 1, got {args.stride}")
        report["mesh"] = mesh_report(motion, args.smpl, stride=args.stride)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['frames']} frames at {report['fps']:g} fps")
        print(f"colliding frames {report['colliding_frame_rate']:.1%}, deepest {report['penetration_max_m'] * 100:.1f} cm "
              f"({' / '.join(report['deepest_capsules'])} at frame {report['deepest_frame']})")
        for person in ("a", "b"):
            p = report[f"person_{person}"]
            print(f"person {person}: skating {p['foot_skating_ratio']:.1%}, float {p['ground_float_m'] * 100:.1f} cm, "
                  f"dip {p['ground_penetration_m'] * 100:.1f} cm, jerk {p['jerk_mps3']:.0f} m/s^3, bone drift {p['bone_length_drift']:.2%}")
    return 0


def _import(args: argparse.Namespace) -> int:
    import numpy as np

    from .export import export_motion
    from .retarget import import_clip, import_pair

    if len(args.files) > 2:
        raise ValueError(f"motion import takes one or two files, got {len(args.files)}")
    clips = import_pair(*args.files) if len(args.files) == 2 else [import_clip(args.files[0])]
    joints = np.stack([c.joints for c in clips], axis=1)
    rotations = np.stack([c.local_rotations for c in clips], axis=1)
    files = export_motion(Path(args.output), joints, clips[0].fps, rotations, preview=not args.no_preview)
    print(f"{joints.shape[0]} frames at {clips[0].fps:g} fps ({clips[0].rig} rig) -> " + ", ".join(p.name for p in files.values()))
    return 0


def _data_build(args: argparse.Namespace) -> int:
    from .dataset import build_dataset

    if args.window < 2 or args.stride < 1:
        raise ValueError(f"--window must be >= 2 and --stride >= 1, got {args.window} and {args.stride}")
    summary = build_dataset(args.folder, args.output, window=args.window, stride=args.stride, stitch_takes=args.stitch_takes)
    print(f"{summary['samples']} samples ({summary['frames']} frames): " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items())
          + f"; {len(summary['skipped_trials'])} trials without a caption, {len(summary['rejected_windows'])} windows with a glitch,"
          f" {len(summary['failures'])} unreadable")
    return 1 if summary["failures"] else 0
