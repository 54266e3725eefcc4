"""``validate_svg``: a located, machine-readable report on an SVG document. Never raises.

Errors make a document unacceptable (``report.ok`` is False); warnings note what a sanitizer
would drop but renderers ignore. Every issue carries a code, a message, and where it is
(an xpath and a line number).
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import numpy as np

from .parsing import DEFAULT_LIMITS, SVG_NS, XLINK_NS, Limits, SVGParseError, local_name, namespace, parse_svg
from .pathdata import PathDataError, parse_path_data

# Static SVG 1.1/2 content we accept. Animation, scripting, foreign content and links are out.
ALLOWED_ELEMENTS = frozenset(
    ["svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath", "title", "desc", "metadata", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "pattern", "marker", "style", "image", "switch", "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset", "feDropShadow"]
)
FORBIDDEN_ELEMENTS = frozenset(
    ["script", "foreignObject", "animate", "animateMotion", "animateTransform", "animateColor", "set", "mpath", "discard", "a", "iframe", "audio", "video", "object", "embed", "handler", "listener", "canvas"]
)
ALLOWED_DATA_IMAGE_TYPES = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp")
# Attributes whose values are numbers or lists of numbers.
NUMERIC_ATTRIBUTES = frozenset(
    ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "width", "height", "points", "viewBox", "stroke-width", "stroke-miterlimit", "stroke-dashoffset", "font-size", "offset", "opacity", "fill-opacity", "stroke-opacity", "stdDeviation", "dx", "dy"]
)
KNOWN_ATTRIBUTES = frozenset(
    ["id", "class", "style", "transform", "d", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "width", "height", "points", "viewBox", "preserveAspectRatio", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity", "color", "clip-path", "clip-rule", "mask", "filter", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "href", "xlink:href", "xmlns", "xmlns:xlink", "version", "patternUnits", "patternContentUnits", "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits", "markerWidth", "markerHeight", "refX", "refY", "orient", "markerUnits", "marker-start", "marker-mid", "marker-end", "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "letter-spacing", "display", "visibility", "overflow", "vector-effect", "paint-order", "shape-rendering", "mix-blend-mode", "isolation", "stdDeviation", "in", "in2", "result", "mode", "operator", "values", "type", "flood-color", "flood-opacity", "dx", "dy", "k1", "k2", "k3", "k4", "radius", "color-interpolation-filters", "filterUnits", "primitiveUnits", "xml:space", "lang", "xml:lang", "tableValues", "slope", "intercept", "amplitude", "exponent", "startOffset", "textLength", "lengthAdjust"]
)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf(?:inity)?)", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.IGNORECASE)
_CSS_DANGER = re.compile(r"@import|expression\s*\(|javascript:|behavior\s*:|-moz-binding", re.IGNORECASE)
_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)")
TEXT_CONTENT_ELEMENTS = frozenset({"text", "tspan", "textPath", "title", "desc", "style", "metadata"})


@dataclasses.dataclass(frozen=True)
class SVGIssue:
    code: str
    message: str
    location: str | None = None  # xpath of the element, e.g. /svg/g[1]/path[2]
    line: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        places = [p for p in (self.location, f"line {self.line}" if self.line else None) if p]
        where = f" ({', '.join(places)})" if places else ""
        return f"{self.severity} {self.code}{where}: {self.message}"


@dataclasses.dataclass
class SVGStats:
    bytes: int = 0
    elements: int = 0
    paths: int = 0
    commands: int = 0
    tokens: int = 0  # tags + attributes + numbers: a length measure independent of any tokenizer
    colors: list[str] = dataclasses.field(default_factory=list)
    viewbox: tuple[float, float, float, float] | None = None
    bbox: tuple[float, float, float, float] | None = None  # visible content (x0, y0, x1, y1), viewBox units
    ink_fraction: float | None = None


@dataclasses.dataclass
class ValidationReport:
    errors: list[SVGIssue]
    warnings: list[SVGIssue]
    stats: SVGStats

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def codes(self) -> list[str]:
        return sorted({issue.code for issue in self.errors})

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": [dataclasses.asdict(e) for e in self.errors],
            "warnings": [dataclasses.asdict(w) for w in self.warnings],
            "stats": dataclasses.asdict(self.stats),
        }


def parse_viewbox(value: str) -> tuple[float, float, float, float] | None:
    """(x, y, width, height) of a viewBox value, or None unless it is four finite numbers with a positive size."""
    numbers = [float(t) for t in _NUMBER.findall(value)]
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers) or numbers[2] <= 0 or numbers[3] <= 0:
        return None
    return numbers[0], numbers[1], numbers[2], numbers[3]


def suggest_attribute(name: str) -> str | None:
    """The known attribute an unknown ``name`` most likely meant, or None if it is known or unlike any."""
    import difflib

    if name in KNOWN_ATTRIBUTES or name.startswith(("data-", "aria-", "xmlns")) or ":" in name:
        return None
    kebab = re.sub(r"(?<=[a-z])([A-Z])", lambda m: "-" + m.group(1).lower(), name).replace("_", "-").lower()
    if kebab in KNOWN_ATTRIBUTES:
        return kebab
    lowered = {a.lower(): a for a in KNOWN_ATTRIBUTES}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(kebab, sorted(KNOWN_ATTRIBUTES), n=1, cutoff=0.8)
    return close[0] if close else None


class _Checker:
    def __init__(self, limits: Limits, allow_data_images: bool) -> None:
        self.limits = limits
        self.allow_data_images = allow_data_images
        self.errors: list[SVGIssue] = []
        self.warnings: list[SVGIssue] = []
        self.stats = SVGStats()

    def error(self, code: str, message: str, element=None) -> None:
        self.errors.append(self._issue(code, message, element, "error"))

    def warn(self, code: str, message: str, element=None) -> None:
        self.warnings.append(self._issue(code, message, element, "warning"))

    @staticmethod
    def _issue(code: str, message: str, element, severity: str) -> SVGIssue:
        if element is None:
            return SVGIssue(code, message, severity=severity)
        return SVGIssue(code, message, _xpath(element), element.sourceline, severity)

    # -- per element ------------------------------------------------------------------------

    def check_tree(self, root) -> None:
        colors: set[str] = set()
        for element in root.iter():
            name = local_name(element)
            if not name:
                continue  # comments, processing instructions
            self.stats.elements += 1
            self.stats.tokens += 1
            ns = namespace(element)
            if name in FORBIDDEN_ELEMENTS:
                self.error("forbidden-element", f"<{name}> is not allowed (scripting, animation, links or foreign content)", element)
            elif ns not in (None, "http://www.w3.org/2000/svg"):
                self.warn("foreign-element", f"<{name}> from namespace {ns} is ignored by renderers", element)
            elif name not in ALLOWED_ELEMENTS:
                self.error("unknown-element", f"<{name}> is not an SVG element (misspelled?)", element)
            if name == "path":
                self.stats.paths += 1
            for attribute, value in element.attrib.items():
                self.stats.tokens += 1
                self.check_attribute(element, name, attribute, value, colors)
            if name == "style" and element.text:
                self.check_css(element, element.text)
            if name not in TEXT_CONTENT_ELEMENTS and ((element.text or "").strip() or any((c.tail or "").strip() for c in element)):
                self.error("stray-text", f"text directly inside <{name}> is not drawn (a tag missing its '<'?)", element)
        self.stats.colors = sorted(colors)

    def check_attribute(self, element, name: str, attribute: str, value: str, colors: set[str]) -> None:
        attr = attribute.rsplit("}", 1)[-1]
        lowered = value.strip().lower()
        if attr.lower().startswith("on"):
            self.error("event-handler", f"event handler attribute {attr!r} is not allowed", element)
            return
        if not attribute.startswith("{"):
            suggestion = suggest_attribute(attribute)
            if suggestion is not None:
                self.error("misspelled-attribute", f"attribute {attribute!r} looks like a misspelling of {suggestion!r}", element)
        if attr == "href":
            if attribute.startswith("{") and not attribute.startswith(f"{{{XLINK_NS}}}"):
                self.warn("foreign-attribute", f"href in an unknown namespace: {attribute}", element)
            self.check_reference(element, name, value)
            return
        if "javascript:" in lowered:
            self.error("javascript-uri", f"{attr} holds a javascript: URI", element)
            return
        if attr == "style" or "url(" in lowered:
            self.check_css(element, value)
        if attr in ("fill", "stroke", "stop-color", "flood-color", "color"):
            colors.update(c.lower() for c in _COLOR.findall(value))
        if attr == "d" and name == "path":
            self.check_path(element, value)
        elif attr in NUMERIC_ATTRIBUTES or attr == "transform":
            self.check_numbers(element, attr, value)
        if attr == "viewBox" and element.getparent() is None:
            self.check_viewbox(element, value)

    def check_reference(self, element, name: str, value: str) -> None:
        target = value.strip()
        if target.startswith("#"):
            return
        lowered = target.lower()
        if lowered.startswith("javascript:"):
            self.error("javascript-uri", "href holds a javascript: URI", element)
        elif lowered.startswith("data:"):
            if not (name == "image" and self.allow_data_images and lowered.startswith(ALLOWED_DATA_IMAGE_TYPES)):
                self.error("data-uri", "inline data: references are not allowed here", element)
        else:
            self.error("external-reference", f"reference to an external resource {target[:80]!r}", element)

    def check_css(self, element, css: str) -> None:
        if _CSS_DANGER.search(css):
            self.error("forbidden-css", "CSS with @import, expression(), behaviors or javascript: is not allowed", element)
        for target in _CSS_URL.findall(css):
            if not target.strip().startswith("#"):
                self.error("external-reference", f"CSS url() to an external resource {target[:80]!r}", element)

    def check_numbers(self, element, attr: str, value: str) -> None:
        for token in _NUMBER.findall(value):
            self.stats.tokens += 1
            number = float(token)
            if not math.isfinite(number):
                self.error("bad-number", f"{attr} holds a non-finite number {token!r}", element)
                return
            if abs(number) > self.limits.max_coordinate:
                self.error("bad-number", f"{attr} holds {token}, beyond ±{self.limits.max_coordinate:g}", element)
                return

    def check_path(self, element, d: str) -> None:
        try:
            commands = parse_path_data(d, self.limits.max_path_commands)
        except PathDataError as err:
            code = "too-many-commands" if "more than" in str(err) else "bad-path"
            self.error(code, f"path data: {err}", element)
            commands = err.commands
        self.stats.commands += len(commands)
        for _, args in commands:
            self.stats.tokens += 1 + len(args)
            if any(abs(a) > self.limits.max_coordinate for a in args):
                self.error("bad-number", f"path coordinate beyond ±{self.limits.max_coordinate:g}", element)
                return

    def check_viewbox(self, element, value: str) -> None:
        box = parse_viewbox(value)
        if box is None:
            self.error("bad-viewbox", f"viewBox must be four numbers with positive width and height, got {value!r}", element)
            return
        self.stats.viewbox = box

    # -- references -------------------------------------------------------------------------

    def check_references(self, root) -> None:
        """``<use>``, gradient and pattern references: cycles, depth, and expansion size."""
        # lxml hands out one Python proxy per node only while a proxy is alive; holding them all
        # keeps id(element) stable for the memo tables below.
        alive = list(root.iter())
        ids = {}
        for element in alive:
            if local_name(element) and element.get("id"):
                ids.setdefault(element.get("id"), element)
        href_keys = ("href", f"{{{XLINK_NS}}}href")

        def target_of(element):
            for key in href_keys:
                value = element.get(key)
                if value and value.strip().startswith("#"):
                    return value.strip()[1:]
            return None

        cost: dict[int, int] = {}  # elements drawn when an element is rendered, uses expanded
        depth_of: dict[int, int] = {}
        visiting: set[int] = set()

        def expand(element, depth: int) -> tuple[int, int]:
            key = id(element)
            if key in cost:
                return cost[key], depth_of[key]
            if key in visiting:
                raise _Cycle(element)
            visiting.add(key)
            total, deepest = 1, 0
            name = local_name(element)
            if name == "use" or name in ("linearGradient", "radialGradient", "pattern"):
                target_id = target_of(element)
                if target_id is not None:
                    target = ids.get(target_id)
                    if target is None:
                        self.warn("missing-reference", f"reference to undefined id #{target_id}", element)
                    else:
                        sub_total, sub_depth = expand(target, depth + 1)
                        total += sub_total
                        deepest = sub_depth + 1
            for child in element:
                if local_name(child):
                    sub_total, sub_depth = expand(child, depth)
                    total += sub_total
                    deepest = max(deepest, sub_depth)
                if total > self.limits.max_use_expansion * 10:
                    break  # far past the limit already; stop counting
            visiting.discard(key)
            cost[key], depth_of[key] = total, deepest
            return total, deepest

        try:
            total, deepest = expand(root, 0)
        except _Cycle as cycle:
            self.error("reference-cycle", "references form a cycle (a <use> or gradient refers back to itself)", cycle.element)
            return
        if deepest > self.limits.max_use_depth:
            self.error("use-depth", f"references nest {deepest} deep; the limit is {self.limits.max_use_depth}", root)
        if total > self.limits.max_use_expansion:
            self.error("use-expansion", f"expanding <use> references draws over {self.limits.max_use_expansion} elements", root)


class _Cycle(Exception):
    def __init__(self, element) -> None:
        self.element = element


def _xpath(element) -> str:
    parts = []
    while element is not None:
        name = local_name(element)
        parent = element.getparent()
        if parent is None:
            parts.append(name)
        else:
            same = [c for c in parent if local_name(c) == name]
            parts.append(f"{name}[{same.index(element) + 1}]")
        element = parent
    return "/" + "/".join(reversed(parts))


def validate_svg(
    text: str | bytes,
    *,
    render: bool = True,
    allow_data_images: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> ValidationReport:
    """Check ``text`` for well-formedness, safety, sane numbers and paths, references, and a
    non-blank render (with ``render=True``, in the sandboxed renderer). Never raises.
    """
    checker = _Checker(limits, allow_data_images)
    try:
        checker.stats.bytes = len(text.encode("utf-8") if isinstance(text, str) else text)
        root = parse_svg(text, limits)
    except SVGParseError as err:
        checker.errors.append(SVGIssue(err.code, err.message, None, err.line))
        return ValidationReport(checker.errors, checker.warnings, checker.stats)
    except Exception as err:  # never raise: an unexpected parser failure is still a report
        checker.errors.append(SVGIssue("not-xml", f"{type(err).__name__}: {err}"))
        return ValidationReport(checker.errors, checker.warnings, checker.stats)

    if namespace(root) != SVG_NS:
        checker.error("missing-namespace", f'<svg> lacks xmlns="{SVG_NS}"; standalone files do not render without it', root)
    checker.check_tree(root)
    checker.check_references(root)
    if checker.stats.viewbox is None and not (root.get("width") and root.get("height")):
        checker.warn("no-viewbox", "no viewBox (and no width/height): the drawing has no defined extent", root)
    if render and not checker.errors:
        _check_render(checker, text, root)
    return ValidationReport(checker.errors, checker.warnings, checker.stats)


def _check_render(checker: _Checker, text: str | bytes, root) -> None:
    from .render import RenderError, ink_fraction, render_svg

    try:
        rendered = render_svg(text, 64)
    except RenderError as err:
        checker.error(f"render-{err.code}", f"rendering failed: {err}", root)
        return
    checker.stats.ink_fraction = round(ink_fraction(rendered.rgba), 5)
    if rendered.is_blank:
        checker.error("blank", "the drawing renders blank (nothing visible inside the viewBox)", root)
        return
    box = checker.stats.viewbox
    rows, cols = np.nonzero(rendered.rgba[..., 3] > 0)
    if box is not None and rows.size:
        # Visible content's extent, mapped from render pixels back to viewBox units.
        sx, sy = box[2] / rendered.rgba.shape[1], box[3] / rendered.rgba.shape[0]
        checker.stats.bbox = (
            round(box[0] + cols.min() * sx, 2),
            round(box[1] + rows.min() * sy, 2),
            round(box[0] + (cols.max() + 1) * sx, 2),
            round(box[1] + (rows.max() + 1) * sy, 2),
        )
