"""``canonicalize``: the SVGen canonical form used for training and as the default output.

``<svg xmlns=… viewBox="0 0 200 200">`` holding a flat list of ``<path>`` elements whose data
uses only absolute ``M L C Z`` with integer coordinates, and hex colours. Shapes, transforms,
``<use>`` and arcs are resolved with svgelements' geometry (arcs become cubic Béziers); the
source viewBox is fitted into 0..200 the way a renderer would (``xMidYMid meet``).
"""

from __future__ import annotations

import io
import math

from .parsing import SVG_NS, parse_svg

CANONICAL_SIZE = 200


def _import_svgelements():
    try:
        import svgelements
    except ImportError as err:
        raise ImportError("canonicalize needs svgelements: pip install 'ctrlgen[svg]'") from err
    return svgelements


def _hex(color) -> str | None:
    if color is None or color.value is None or color.alpha == 0:
        return None
    return f"#{color.red:02x}{color.green:02x}{color.blue:02x}"


def _gradient_colour(element, document):
    """A gradient fill flattened to the average colour of its stops."""
    se = _import_svgelements()
    reference = str(element.values.get("fill", ""))
    if not reference.startswith("url(#"):
        return None
    gradient = document.get_element_by_id(reference[5:].rstrip(")").strip("'\""))
    stops = [s for s in (gradient.select() if gradient is not None else []) if getattr(s, "values", {}).get("tag") == "stop"]
    colours = [se.Color(s.values.get("stop-color", "black")) for s in stops]
    if not colours:
        return None
    average = [round(sum(getattr(c, channel) for c in colours) / len(colours)) for channel in ("red", "green", "blue")]
    return se.Color(f"#{average[0]:02x}{average[1]:02x}{average[2]:02x}")


def _path_data(path, se, decimals: int) -> str:
    """Absolute M/L/C/Z with integer coordinates; arcs and quadratics become cubics."""
    def _point(point) -> str:
        return f"{_number(point.x, decimals)} {_number(point.y, decimals)}"

    parts: list[str] = []
    for segment in _with_arcs_as_cubics(path, se):
        if isinstance(segment, se.Move):
            parts.append(f"M{_point(segment.end)}")
        elif isinstance(segment, se.Close):
            parts.append("Z")
        elif isinstance(segment, se.Line):
            parts.append(f"L{_point(segment.end)}")
        elif isinstance(segment, se.CubicBezier):
            parts.append(f"C{_point(segment.control1)} {_point(segment.control2)} {_point(segment.end)}")
        elif isinstance(segment, se.QuadraticBezier):
            # Degree elevation: the same curve, exactly, as a cubic.
            start, control, end = segment.start, segment.control, segment.end
            c1 = start + (control - start) * (2 / 3)
            c2 = end + (control - end) * (2 / 3)
            parts.append(f"C{_point(c1)} {_point(c2)} {_point(end)}")
    # Drop a trailing lone move and collapse repeats a renderer would not draw anyway.
    while parts and parts[-1].startswith("M"):
        parts.pop()
    return "".join(parts)


def _with_arcs_as_cubics(path, se):
    # One cubic per quarter turn: fewer, longer curves keep integer rounding from adding wobble.
    for segment in path:
        if isinstance(segment, se.Arc):
            yield from segment.as_cubic_curves(arc_required=max(1, math.ceil(abs(segment.sweep) / (math.pi / 2) - 1e-9)))
        else:
            yield segment


def _number(value: float, decimals: int) -> str:
    rounded = round(value, decimals) if decimals else round(value)
    text = f"{rounded:.{decimals}f}" if decimals else str(rounded)
    return "0" if text in ("-0", "-0.0", "-0.00") else text


def canonicalize(svg: str | bytes, *, decimals: int = 0) -> str:
    """The SVGen canonical form of ``svg`` (which must parse safely; see ``repair_svg``).

    ``decimals=0`` gives the integer coordinates of the SVGen form; thin details of small icons
    then move by up to half a pixel at 200 px. ``decimals=1`` keeps them within 0.05 px.

    Text elements, images and filters have no path form and are dropped; clip paths and masks
    are not applied. Raises :class:`svg.SVGParseError` for documents that do not parse safely.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 3:
        raise ValueError(f"decimals must be an int in 0..3, got {decimals!r}")
    se = _import_svgelements()
    root = parse_svg(svg)  # safety first: svgelements' own XML reading is not hardened
    from lxml import etree

    data = etree.tostring(root)
    document = se.SVG.parse(io.BytesIO(data), reify=True)
    box = document.viewbox
    if box is not None and box.width and box.height:
        x, y, width, height = box.x, box.y, box.width, box.height
    else:
        x, y, width, height = 0.0, 0.0, float(document.width or CANONICAL_SIZE), float(document.height or CANONICAL_SIZE)
    scale = CANONICAL_SIZE / max(width, height)
    fit = se.Matrix(
        f"translate({(CANONICAL_SIZE - width * scale) / 2 - x * scale}, {(CANONICAL_SIZE - height * scale) / 2 - y * scale}) "
        f"scale({scale})"
    )
    # The viewport transform svgelements applied for width/height (if any) is replaced by ours.
    viewport = document.viewbox_transform if hasattr(document, "viewbox_transform") else ""
    undo = ~se.Matrix(viewport) if viewport else se.Matrix()

    paths: list[str] = []
    for element in document.elements():
        if not isinstance(element, se.Shape) or isinstance(element, se.Text):
            continue
        if element.values.get("visibility") == "hidden" or element.values.get("display") == "none":
            continue
        path = se.Path(element) * undo * fit
        path.reify()
        d = _path_data(path, se, decimals)
        if not d:
            continue
        fill = _hex(element.fill) or _hex(_gradient_colour(element, document))
        stroke = _hex(element.stroke)
        attributes = [f'd="{d}"', f'fill="{fill or "none"}"']
        fill_opacity = element.fill.opacity if fill and element.fill is not None and element.fill.value is not None else 1.0
        if fill and fill_opacity < 0.999:
            attributes.append(f'fill-opacity="{fill_opacity:.3g}"')
        if fill and str(element.values.get("fill-rule", "")).strip() == "evenodd":
            attributes.append('fill-rule="evenodd"')
        width_value = getattr(element, "implicit_stroke_width", None) or element.stroke_width or 0
        stroke_width = float(width_value) * scale * math.sqrt(abs(undo.determinant)) if stroke else 0
        if stroke and stroke_width > 0:
            attributes.append(f'stroke="{stroke}"')
            attributes.append(f'stroke-width="{stroke_width:.3g}"')
            for name in ("stroke-linecap", "stroke-linejoin"):
                value = element.values.get(name)
                if value and value not in ("butt", "miter"):
                    attributes.append(f'{name}="{value}"')
            if element.stroke.opacity < 0.999:
                attributes.append(f'stroke-opacity="{element.stroke.opacity:.3g}"')
        elif not fill:
            continue  # neither filled nor stroked: draws nothing
        paths.append(f"<path {' '.join(attributes)}/>")
    return f'<svg xmlns="{SVG_NS}" viewBox="0 0 {CANONICAL_SIZE} {CANONICAL_SIZE}">{"".join(paths)}</svg>'
