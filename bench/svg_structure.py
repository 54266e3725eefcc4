"""SVG structure speed: validate + repair + canonicalize per icon beside picosvg, and render
throughput at 224 px of our sandboxed renderer beside plain cairosvg and resvg-py, in one run.

Icons come from npm packages (``npm pack``; cached under ~/.cache/ctrlgen/bench-icons) or from
``--icons DIR``; without npm it falls back to the 150 icons in tests/data/icons. Prints a table;
asserts nothing about time.

    python bench/svg_structure.py [--icons DIR] [--render-count 500]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

PACKAGES = {"lucide-static@1.62.0": "package/icons/", "bootstrap-icons@1.13.2": "package/icons/"}
CACHE = Path.home() / ".cache" / "ctrlgen" / "bench-icons"
FALLBACK = Path(__file__).resolve().parents[1] / "tests" / "data" / "icons"


def fetch_icons() -> list[str]:
    texts = []
    for spec, prefix in PACKAGES.items():
        target = CACHE / spec.replace("/", "_")
        if not target.is_dir():
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True, timeout=300)
                (archive,) = Path(tmp).glob("*.tgz")
                target.mkdir(parents=True)
                with tarfile.open(archive) as tar:
                    for member in tar.getmembers():
                        if member.isfile() and member.name.startswith(prefix) and member.name.endswith(".svg"):
                            (target / Path(member.name).name).write_bytes(tar.extractfile(member).read())
        texts += [p.read_text() for p in sorted(target.glob("*.svg"))]
    return texts


def per_icon_ms(fn, texts: list[str]) -> tuple[float, int]:
    times, failures = [], 0
    for text in texts:
        start = time.perf_counter()
        try:
            fn(text)
        except Exception:
            failures += 1
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--icons", type=Path)
    parser.add_argument("--render-count", type=int, default=500)
    args = parser.parse_args()

    if args.icons:
        texts = [p.read_text() for p in sorted(args.icons.glob("*.svg"))]
        source = str(args.icons)
    else:
        try:
            texts, source = fetch_icons(), " + ".join(PACKAGES)
        except (OSError, subprocess.SubprocessError) as err:
            print(f"npm unavailable ({err}); using the test icons")
            texts, source = [p.read_text() for p in sorted(FALLBACK.glob("*.svg"))], str(FALLBACK)

    from svg import canonicalize, render_svg, repair_svg, validate_svg

    def ours(text: str) -> None:
        repaired = repair_svg(text, render=False)  # validates first; valid input passes unchanged
        canonicalize(repaired.svg)

    rows = [
        ("validate_svg (no render)", *per_icon_ms(lambda t: validate_svg(t, render=False), texts)),
        ("repair_svg (no render)", *per_icon_ms(lambda t: repair_svg(t, render=False), texts)),
        ("canonicalize", *per_icon_ms(canonicalize, texts)),
        ("ours: validate+repair+canonicalize", *per_icon_ms(ours, texts)),
    ]
    try:
        from picosvg.svg import SVG as PicoSVG

        rows.append(("picosvg: fromstring+topicosvg (peer)", *per_icon_ms(lambda t: PicoSVG.fromstring(t).topicosvg(), texts)))
    except ImportError:
        print("picosvg not installed: pip install 'ctrlgen[bench]'")

    print(f"\nSVG structure, {len(texts)} icons from {source}")
    peer = rows[-1][1] if rows[-1][0].startswith("picosvg") else None
    print(f"{'step':<40} {'median ms/icon':>14} {'failures':>9} {'vs picosvg':>11}")
    for name, ms, failures in rows:
        ratio = f"{ms / peer:10.2f}x" if peer else "          -"
        print(f"{name:<40} {ms:14.3f} {failures:9d} {ratio}")

    sample = texts[: args.render_count]
    renders: list[tuple[str, float]] = []
    render_svg(sample[0], 224)  # start the sandbox worker outside the timing

    def throughput(fn) -> float:
        start = time.perf_counter()
        for text in sample:
            fn(text)
        return len(sample) / (time.perf_counter() - start)

    import cairosvg

    renders.append(("cairosvg.svg2png in process (peer)", throughput(lambda t: cairosvg.svg2png(bytestring=t.encode(), output_width=224, output_height=224))))
    renders.append(("ours: render_svg, sandboxed worker", throughput(lambda t: render_svg(t, 224))))
    try:
        import resvg_py

        renders.append(("resvg-py svg_to_bytes", throughput(lambda t: resvg_py.svg_to_bytes(svg_string=t, width=224, height=224))))
    except ImportError:
        print("resvg-py not installed: pip install 'ctrlgen[bench]'")
    print(f"\nrender throughput at 224 px, {len(sample)} icons")
    print(f"{'renderer':<40} {'icons/s':>10} {'vs cairosvg':>12}")
    for name, rate in renders:
        print(f"{name:<40} {rate:10.1f} {rate / renders[0][1]:11.2f}x")


if __name__ == "__main__":
    main()
