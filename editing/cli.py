"""``ctrlgen edit IMAGE INSTRUCTION -o DIR``: registered through the ``ctrlgen.cli`` entry-point group."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("edit", help="mask-free image edit from an instruction (plan, target, exact composite)")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("instruction", metavar="INSTRUCTION")
    parser.add_argument("-o", "--output", required=True, metavar="DIR")
    parser.add_argument("--backend", default="embedded", metavar="NAME", help="'embedded' (default), or a saved pipeline directory")
    parser.add_argument("--planner", default=None, metavar="NAME",
                        help="who plans: 'embedded', the URL of an OpenAI-compatible endpoint, or a transformers "
                             "vision-language model (local directory or hub id); default: the backend's")
    parser.add_argument("--seed", type=int, default=0, metavar="S")
    parser.add_argument("--mask", default=None, metavar="MASK.png", help="edit this region (white) instead of the one the reasoner finds")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.set_defaults(func=_edit)


def _edit(args) -> int:
    import torch

    from .pipeline import EditPipeline

    overrides = {}
    if args.planner is not None:
        if args.planner == "embedded" or args.planner.startswith(("http://", "https://")):
            overrides = {"planner": args.planner, "vlm_planner": None}
        else:
            from .vlm import VLMPlanner

            overrides = {"planner": "vlm", "vlm_planner": VLMPlanner.from_pretrained(args.planner)}
    pipe = EditPipeline.from_pretrained(args.backend, **overrides)
    out = pipe(args.image, args.instruction, mask=args.mask, generator=torch.Generator().manual_seed(args.seed), output_dir=args.output)
    report, plan = out.reports[0], out.plans[0]
    if args.json:
        print(json.dumps(report))
    elif report["target_found"]:
        print(f"{plan.category} {plan.target.description if plan.target else 'the image'}: {report['edited_pixels']} pixels edited "
              f"({report['method']}) -> {args.output}")
    else:
        print(f"{report['message']} -> {args.output}")
    return 0
