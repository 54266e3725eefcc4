"""SVG with guaranteed structure: safe parsing, validation, repair, canonical form,
sandboxed rendering (SVGen-style).

The text-to-SVG pipeline lands in the next step of the SVG issues.
"""

from .canonical import canonicalize
from .corruption import CORRUPTIONS, corrupt_svg
from .parsing import Limits, SVGParseError, parse_svg
from .render import RenderedSVG, RenderError, pixel_iou, render_svg
from .repair import Repair, RepairResult, extract_svg, repair_svg
from .validation import SVGIssue, SVGStats, ValidationReport, validate_svg

__all__ = [
    "CORRUPTIONS",
    "Limits",
    "RenderError",
    "RenderedSVG",
    "Repair",
    "RepairResult",
    "SVGIssue",
    "SVGParseError",
    "SVGStats",
    "ValidationReport",
    "canonicalize",
    "corrupt_svg",
    "extract_svg",
    "parse_svg",
    "pixel_iou",
    "render_svg",
    "repair_svg",
    "validate_svg",
]
