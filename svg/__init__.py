"""SVG with guaranteed structure: safe parsing, validation, sandboxed rendering (SVGen-style).

The text-to-SVG pipeline, repair and canonical form land in the following steps of the SVG issues.
"""

from .parsing import Limits, SVGParseError, parse_svg
from .render import RenderedSVG, RenderError, render_svg
from .validation import SVGIssue, SVGStats, ValidationReport, validate_svg

__all__ = [
    "Limits",
    "RenderError",
    "RenderedSVG",
    "SVGIssue",
    "SVGParseError",
    "SVGStats",
    "ValidationReport",
    "parse_svg",
    "render_svg",
    "validate_svg",
]
