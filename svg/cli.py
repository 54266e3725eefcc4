"""``ctrlgen svg check|repair|render``: registered through the ``ctrlgen.cli`` entry-point group."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generators.errors import UsageError

MAX_INPUT_BYTES = 64 * 1024 * 1024  # far above any SVG we accept; bounds what we read into memory


def register(subparsers) -> None:
    parser = subparsers.add_parser("svg", help="check, repair and render SVG files")
    commands = parser.add_subparsers(dest="svg_command", metavar="COMMAND", required=True)

    check = commands.add_parser("check", help="validate an SVG (exit 0 valid, 1 invalid)")
    check.add_argument("file", metavar="FILE", help="SVG file, or - for standard input")
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")
    check.add_argument("--no-render", action="store_true", help="skip the render (blank) check")
    check.set_defaults(func=_check)

    repair = commands.add_parser("repair", help="repair and sanitize an SVG (or LLM output holding one)")
    repair.add_argument("file", metavar="FILE", help="input file, or - for standard input")
    repair.add_argument("-o", "--output", metavar="OUT", help="where to write the repaired SVG (default: stdout)")
    repair.add_argument("--json", action="store_true", help="print repairs and report as one JSON object")
    repair.set_defaults(func=_repair)

    generate = commands.add_parser("generate", help="generate SVGs from a prompt (best first)")
    generate.add_argument("prompt", metavar="PROMPT")
    generate.add_argument("-o", "--output", required=True, metavar="DIR")
    generate.add_argument("--n", type=int, default=4, metavar="N", help="candidates to sample (default 4)")
    generate.add_argument("--seed", type=int, default=0, metavar="S")
    generate.add_argument("--model", default=None, metavar="embedded|PATH|HUB_ID", help="model, or with --endpoint the served model's name")
    generate.add_argument("--endpoint", default=None, metavar="URL", help="an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    generate.add_argument("--prompt-format", choices=("direct", "cot"), default=None)
    generate.add_argument("--max-new-tokens", type=int, default=None, metavar="N")
    generate.set_defaults(func=_generate)

    data = commands.add_parser("data", help="build the captioned icon dataset from npm icon sets")
    data_commands = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    build = data_commands.add_parser("build", help="npm pack the icon sets, canonicalize, caption, split (resumable)")
    build.add_argument("-o", "--output", required=True, metavar="DIR")
    build.add_argument("--sources", default=None, metavar="A,B", help="comma-separated source ids (default: all)")
    build.add_argument("--cache", default=None, metavar="DIR", help="where npm tarballs are kept (default ~/.cache/ctrlgen/npm)")
    build.add_argument("--workers", type=int, default=None, metavar="N")
    build.add_argument("--limit", type=int, default=None, metavar="N", help="at most N icons per source")
    build.set_defaults(func=_data_build)

    evaluate = commands.add_parser("eval", help="quality report of a model on held-out prompts, beside baselines")
    evaluate.add_argument("prompts", metavar="PROMPTS", help="one caption per line, or a CSV file with a desc column")
    evaluate.add_argument("-o", "--output", required=True, metavar="DIR")
    evaluate.add_argument("--model", default="embedded", metavar="embedded|PATH|HUB_ID")
    evaluate.add_argument("--n", type=int, default=4, metavar="N", help="candidates per prompt (best-of-N, default 4)")
    evaluate.add_argument("--limit", type=int, default=None, metavar="N", help="use the first N prompts")
    evaluate.add_argument("--seed", type=int, default=0, metavar="S")
    evaluate.add_argument("--data", default=None, metavar="DIR", help="a built dataset: adds the nearest-training-icon baseline")
    evaluate.add_argument("--untrained-limit", type=int, default=64, metavar="N",
                          help="prompts for the untrained-model baseline (0 to skip; it writes to the token cap)")
    evaluate.set_defaults(func=_eval)

    render = commands.add_parser("render", help="render an SVG to PNG in the sandboxed renderer")
    render.add_argument("file", metavar="FILE", help="SVG file, or - for standard input")
    render.add_argument("-o", "--output", required=True, metavar="OUT.png")
    render.add_argument("--size", type=int, default=256, metavar="N", help="width and height in pixels (default 256)")
    render.set_defaults(func=_render)


def read_input(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"FILE {name!r} does not exist or is not a file")
        with path.open("rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"FILE {name!r} is larger than {MAX_INPUT_BYTES // 2**20} MiB")
    return data.decode("utf-8", "replace")


def _check(args: argparse.Namespace) -> int:
    from .validation import validate_svg

    report = validate_svg(read_input(args.file), render=not args.no_render)
    if args.json:
        print(json.dumps({"file": args.file, **report.to_dict()}))
    else:
        print(f"{args.file}: {'valid' if report.ok else 'invalid'}")
        for issue in report.errors + report.warnings:
            print(f"  {issue}")
    return 0 if report.ok else 1


def _repair(args: argparse.Namespace) -> int:
    from generators.files import atomic_write_text

    from .repair import repair_svg

    result = repair_svg(read_input(args.file))
    if args.output:
        atomic_write_text(args.output, result.svg)
    payload = {
        "file": args.file,
        "ok": result.ok,
        "repairs": [{"code": r.code, "message": r.message} for r in result.repairs],
        "report": result.report.to_dict(),
    }
    if args.json:
        print(json.dumps(payload if args.output else {**payload, "svg": result.svg}))
    elif not args.output:
        sys.stdout.write(result.svg + "\n")
    else:
        print(f"{args.output}: {'valid' if result.ok else 'still invalid'} after {len(result.repairs)} repair(s)")
    return 0 if result.ok else 1


def _render(args: argparse.Namespace) -> int:
    import io

    from generators.files import atomic_write_bytes

    from .render import RenderError, render_svg

    if not 1 <= args.size <= 4096:
        raise UsageError(f"--size must be in 1..4096, got {args.size}")
    try:
        rendered = render_svg(read_input(args.file), args.size)
    except RenderError as err:
        print(f"ctrlgen svg render: {args.file}: {err}", file=sys.stderr)
        return 1
    buffer = io.BytesIO()
    rendered.to_pil(background=None).save(buffer, format="PNG")
    atomic_write_bytes(args.output, buffer.getvalue())
    return 0


def _data_build(args: argparse.Namespace) -> int:
    from .dataset import build_dataset
    from .icon_sources import SOURCES

    sources = [x.strip() for x in args.sources.split(",") if x.strip()] if args.sources else None
    known = {s.slug for s in SOURCES}
    if sources is not None and (not sources or set(sources) - known):
        raise UsageError(f"--sources must name sources from {','.join(sorted(known))}, got {args.sources!r}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be a positive integer, got {args.limit}")
    manifest = build_dataset(args.output, sources, args.cache, args.workers, args.limit)
    return 1 if manifest["unavailable"] else 0


def _eval(args: argparse.Namespace) -> int:
    from .evaluation import run_evaluation

    if args.n < 1:
        raise UsageError(f"--n must be a positive integer, got {args.n}")
    if not Path(args.prompts).is_file():
        raise UsageError(f"PROMPTS {args.prompts!r} does not exist or is not a file")
    results = run_evaluation(
        args.prompts, args.output, model=args.model, num_samples=args.n, limit=args.limit, seed=args.seed,
        data=args.data, untrained_limit=args.untrained_limit,
    )
    return 0 if results else 1


def _generate(args: argparse.Namespace) -> int:
    import io

    import torch

    from generators.files import atomic_write_bytes, atomic_write_json, atomic_write_text

    from .pipeline import SVGPipeline

    if args.n < 1:
        raise UsageError(f"--n must be a positive integer, got {args.n}")
    if args.endpoint:
        pipe = SVGPipeline.from_pretrained(args.endpoint, model_name=args.model)
    else:
        pipe = SVGPipeline.from_pretrained(args.model or "embedded")
    out = pipe(
        args.prompt,
        num_samples=args.n,
        generator=torch.Generator().manual_seed(args.seed),
        prompt_format=args.prompt_format,
        max_new_tokens=args.max_new_tokens,
    )
    directory = Path(args.output)
    for index, (svg_text, image) in enumerate(zip(out.svgs, out.images, strict=True)):
        atomic_write_text(directory / f"{index}.svg", svg_text)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        atomic_write_bytes(directory / f"{index}.png", buffer.getvalue())
    report = {
        "prompt": args.prompt,
        "seed": args.seed,
        "model": args.model or "embedded",
        "endpoint": args.endpoint,
        "num_samples": args.n,
        "returned": len(out.svgs),
        "scores": out.scores,
        "candidates": [{k: v for k, v in r.items() if k != "raw_text"} for r in out.reports],
        "rejected": [{k: v for k, v in r.items() if k != "raw_text"} for r in out.rejected],
    }
    atomic_write_json(directory / "report.json", report)
    print(f"{len(out.svgs)} of {args.n} candidates valid -> {directory}")
    return 0 if out.svgs else 1
