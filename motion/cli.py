"""``ctrlgen motion check|import|data build``: registered through the ``ctrlgen.cli`` entry-point group."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("motion", help="check and convert two-person motion")
    commands = parser.add_subparsers(dest="motion_command", metavar="COMMAND", required=True)

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
    build.set_defaults(func=_data_build)


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
    summary = build_dataset(args.folder, args.output, window=args.window, stride=args.stride)
    print(f"{summary['samples']} samples ({summary['frames']} frames): " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items())
          + f"; {len(summary['skipped_trials'])} trials without a caption, {len(summary['failures'])} unreadable")
    return 1 if summary["failures"] else 0
