"""repair_svg: LLM output and damaged files become valid, sanitized SVG that draws the same."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hostile import INK, hostile_documents, svg

from svg import repair_svg, validate_svg
from svg.corruption import CORRUPTIONS, corrupt_svg
from svg.render import pixel_iou, render_svg

ICONS = sorted((Path(__file__).resolve().parents[1] / "data" / "icons").glob("*.svg"))
CIRCLE = svg('<circle cx="50" cy="50" r="40" fill="#f00"/>')


def test_valid_real_icons_pass_through_unchanged():
    assert len(ICONS) == 150
    for path in ICONS:
        text = path.read_text()
        result = repair_svg(text, render=False)
        assert result.svg == text and not result.changed, path.name


@pytest.mark.parametrize(
    ("damaged", "codes"),
    [
        (f"Sure! Here it is:\n```svg\n{CIRCLE}\n```\nEnjoy.", {"removed-code-fence"}),
        (f"<think>maybe <svg>?</svg></think>{CIRCLE}", {"removed-reasoning"}),
        (CIRCLE[:-6] + "<path d=\"M10 10 L90 90 L", {"completed-truncated-tag", "closed-open-tags", "fixed-path-data"}),
        (CIRCLE.replace('r="40"', "r=40"), {"quoted-attribute"}),
        (CIRCLE.replace('r="40"', "r=\"40'"), {"fixed-quotes"}),
        (CIRCLE.replace("<circle", "<circel"), {"fixed-tag-name"}),
        (CIRCLE.replace("<circle", " circle"), {"added-missing-bracket"}),
        (CIRCLE.replace("fill=", "fil="), {"fixed-attribute-name"}),
        (svg('<path d="M10 10 K90 10 L90 90 Z" fill="#000"/>'), {"fixed-path-data"}),
        (CIRCLE.replace(' xmlns="http://www.w3.org/2000/svg"', ""), {"added-namespace"}),
        (svg(f"<script>x()</script>{INK}", 'viewBox="0 0 100 100" onload="x()"'), {"removed-forbidden-element", "removed-script"}),
        (svg(f"<g>{INK}</g></g></g>"), set()),  # stray closing tags after the root are ignored
    ],
)
def test_damage_is_repaired_into_valid_svg(damaged, codes):
    result = repair_svg(damaged)
    assert result.ok, result.report.errors
    assert codes <= {r.code for r in result.repairs}, result.repairs
    assert not render_svg(result.svg, 32).is_blank


def test_nothing_to_recover_gives_an_empty_svg_and_says_so():
    result = repair_svg("I cannot draw that, sorry.")
    assert [r.code for r in result.repairs] == ["no-svg-found"]
    assert not result.ok and result.report.codes == ["blank"]
    assert validate_svg(result.svg, render=False).ok


@pytest.mark.timeout(300)
def test_hostile_documents_are_neutralised(tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("SECRET")
    for name, (document, _) in hostile_documents(str(canary), 9).items():
        result = repair_svg(document)
        assert validate_svg(result.svg, render=False).ok or not result.ok, name
        assert "SECRET" not in result.svg and "127.0.0.1" not in result.svg, name
        assert "<script" not in result.svg and "onload" not in result.svg, name


@pytest.mark.timeout(600)
def test_corrupted_real_icons_round_trip():
    """Every third real icon under every corruption type: all outputs valid, >= 95% draw the same."""
    rng = random.Random(0)
    total = valid = same = 0
    for path in ICONS[::3]:
        original = path.read_text()
        reference = render_svg(original, 200).rgba
        for kind in CORRUPTIONS:
            result = repair_svg(corrupt_svg(original, kind, rng))
            total += 1
            valid += result.ok
            same += result.ok and pixel_iou(reference, render_svg(result.svg, 200).rgba) >= 0.99
    assert valid == total
    assert same / total >= 0.95, f"{same}/{total} repairs render identically"


def test_corrupt_svg_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kind must be one of"):
        corrupt_svg(CIRCLE, "explode", random.Random(0))
