"""canonicalize: the SVGen form (flat absolute M/L/C/Z paths, 200x200, hex colours) that draws the same."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest
from hostile import svg

from svg import SVGParseError, canonicalize, validate_svg
from svg.render import pixel_iou, render_svg

ICONS = sorted((Path(__file__).resolve().parents[1] / "data" / "icons").glob("*.svg"))
CANONICAL = re.compile(r'<svg xmlns="http://www\.w3\.org/2000/svg" viewBox="0 0 200 200">(<path [^<>]*/>)*</svg>')


def iou(a: str, b: str) -> float:
    return pixel_iou(render_svg(a, 200).rgba, render_svg(b, 200).rgba, tolerance=24)


def test_real_icons_take_the_canonical_form():
    for path in ICONS:
        out = canonicalize(path.read_text())
        assert CANONICAL.fullmatch(out), path.name
        for d in re.findall(r' d="([^"]*)"', out):
            assert re.fullmatch(r"(M-?\d+ -?\d+|L-?\d+ -?\d+|C(-?\d+ -?\d+ ){2}-?\d+ -?\d+|Z)+", d), (path.name, d[:80])
        assert set(re.findall(r'(?:fill|stroke)="([^"]*)"', out)) <= {"none"} | set(re.findall(r"#[0-9a-f]{6}", out))
        assert validate_svg(out, render=False).ok, path.name


def test_real_icons_draw_the_same():
    """One decimal keeps >= 95% of icons at IoU >= 0.98; integer coordinates cost thin details."""
    fine = [iou(p.read_text(), canonicalize(p.read_text(), decimals=1)) for p in ICONS]
    assert sum(v >= 0.98 for v in fine) / len(fine) >= 0.95, sorted(fine)[:10]
    coarse = [iou(p.read_text(), canonicalize(p.read_text())) for p in ICONS[::5]]
    assert statistics.median(coarse) >= 0.9


def test_shapes_transforms_and_uses_become_paths():
    source = svg(
        '<defs><circle id="dot" r="6" fill="#16a34a"/></defs>'
        '<rect x="5" y="5" width="30" height="20" rx="4" fill="red"/>'
        '<ellipse cx="70" cy="20" rx="20" ry="10" fill="rgb(0,0,255)"/>'
        '<line x1="10" y1="90" x2="90" y2="60" stroke="#000" stroke-width="4"/>'
        '<polygon points="50,40 60,60 40,60" fill="#fa0"/>'
        '<g transform="translate(20 70) rotate(30)"><rect width="15" height="8" fill="#808"/></g>'
        '<use href="#dot" x="80" y="80"/>'
    )
    out = canonicalize(source, decimals=1)
    assert out.count("<path") == 6 and "rect" not in out and "use" not in out
    assert "#ff0000" in out and "#0000ff" in out and "#16a34a" in out
    assert iou(source, out) >= 0.98


def test_viewbox_is_fitted_like_a_renderer_fits_it():
    wide = svg('<rect x="0" y="0" width="200" height="100" fill="#123456"/>', 'viewBox="0 0 200 100"')
    out = canonicalize(wide)
    assert 'd="M0 50L200 50L200 150L0 150L0 50Z"' in out or "M0 50L200 50L200 150L0 150Z" in out, out
    assert iou(wide, out) >= 0.98


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"decimals must be an int in 0\.\.3"):
        canonicalize(svg(""), decimals=5)
    with pytest.raises(SVGParseError):
        canonicalize("<!DOCTYPE svg><svg/>")
