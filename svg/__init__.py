"""SVG with guaranteed structure: safe parsing, validation, repair, canonical form,
sandboxed rendering (SVGen-style).

``SVGPipeline`` samples any transformers causal LM; every SVG it returns is valid and non-blank.
"""


from generators.lazy import lazy_getattr

from .canonical import canonicalize
from .corruption import CORRUPTIONS, corrupt_svg
from .parsing import Limits, SVGParseError, parse_svg
from .render import RenderedSVG, RenderError, pixel_iou, render_svg
from .repair import Repair, RepairResult, extract_svg, repair_svg
from .validation import SVGIssue, SVGStats, ValidationReport, validate_svg

__all__ = [
    "CORRUPTIONS",
    "IconLibrary",
    "IconRecord",
    "Limits",
    "RenderError",
    "RenderedSVG",
    "Repair",
    "RepairResult",
    "SVGIssue",
    "SVGParseError",
    "SVGPipeline",
    "SVGPipelineOutput",
    "SVGStats",
    "ValidationReport",
    "build_dataset",
    "canonicalize",
    "corrupt_svg",
    "extract_svg",
    "parse_svg",
    "pixel_iou",
    "read_split",
    "render_svg",
    "repair_svg",
    "validate_svg",
]

_LAZY = {  # torch loads only when asked for
    "SVGPipeline": "pipeline",
    "SVGPipelineOutput": "pipeline",
    "IconLibrary": "library",
    "build_dataset": "dataset",
    "read_split": "dataset",
    "IconRecord": "dataset",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
