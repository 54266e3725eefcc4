"""SVG generation quality: the embedded model beside the nearest-training-icon retrieval baseline and
the untrained model, on held-out test captions, in one run; plus the embedded text-image scorer's
100-way retrieval on the test split. Prints tables; asserts nothing.

    python bench/svg_quality.py [--data DIR] [--prompts 200] [--model embedded] [-o OUT]

The dataset is built (or resumed) with ``ctrlgen svg data build`` into ``--data`` when missing
(needs npm and the registry once; tarballs are cached).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

DEFAULT_DATA = Path.home() / ".cache" / "ctrlgen" / "svg-data"


def scorer_retrieval(data: Path, output: Path) -> dict:
    from generators.text_encoders import load_text_encoder
    from generators.text_image import EMBEDDED_SCORER_DIR, TextImageScorer
    from svg.dataset import read_split
    from svg.train.scorer import _as_pixels, render_icons, retrieval_at, text_features

    scorer = TextImageScorer.from_pretrained(EMBEDDED_SCORER_DIR)
    test = read_split(data, "test")
    pixels = _as_pixels(render_icons([r.svg for r in test], scorer.config["image_size"], output / "scorer-test-renders.npy"))
    features = text_features([r.caption for r in test], load_text_encoder("minilm"))
    return retrieval_at(scorer, pixels, features, ways=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--untrained-limit", type=int, default=64)
    parser.add_argument("-o", "--output", type=Path, default=Path("bench-output") / "svg_quality")
    args = parser.parse_args()

    from svg.dataset import build_dataset, read_split
    from svg.evaluation import run_evaluation

    if not (args.data / "test.jsonl").is_file():
        build_dataset(args.data)
    args.output.mkdir(parents=True, exist_ok=True)
    test = read_split(args.data, "test")
    chosen = random.Random(0).sample(test, min(args.prompts, len(test)))
    prompts_file = args.output / "prompts.txt"
    prompts_file.write_text("".join(r.caption.replace("\n", " ") + "\n" for r in chosen))

    retrieval = scorer_retrieval(args.data, args.output)
    print(f"text-image scorer, 100-way text-to-icon retrieval on the test split ({retrieval['queries']} queries): "
          f"R@1 {retrieval['r@1']:.3f}  R@5 {retrieval['r@5']:.3f}")
    results = run_evaluation(prompts_file, args.output, model=args.model, num_samples=args.n, data=args.data,
                             untrained_limit=args.untrained_limit, log=lambda message: None)
    from svg.evaluation import markdown_table

    print(markdown_table(results))
    (args.output / "scorer_retrieval.json").write_text(json.dumps(retrieval, indent=1))


if __name__ == "__main__":
    main()
