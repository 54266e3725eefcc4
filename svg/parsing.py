"""Safe SVG parsing: lxml with entity resolution, DTD loading and network access off, plus caps.

Nothing here reads a file or a URL named inside the document. A DOCTYPE is refused outright:
SVG needs none, and it is where XXE and entity-expansion ("billion laughs") bombs live.
"""

from __future__ import annotations

import dataclasses

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

MAX_BYTES = 4_000_000
MAX_DEPTH = 64
MAX_ELEMENTS = 20_000


@dataclasses.dataclass(frozen=True)
class Limits:
    """Caps that bound the cost of any document we accept."""

    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_elements: int = MAX_ELEMENTS
    max_path_commands: int = 100_000
    max_use_expansion: int = 10_000  # elements a renderer would draw after expanding <use>
    max_use_depth: int = 8
    max_coordinate: float = 1e6


DEFAULT_LIMITS = Limits()


class SVGParseError(ValueError):
    """A document we will not accept; ``code`` is machine-readable, ``line`` 1-based or None."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


def _parser():
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        recover=False,
    )


def parse_svg(text: str | bytes, limits: Limits | None = None):
    """Parse ``text`` into an lxml element, or raise :class:`SVGParseError` with a code.

    Codes: ``not-text``, ``too-large``, ``empty``, ``not-xml``, ``doctype``, ``not-svg``,
    ``too-deep``, ``too-many-elements``.
    """
    from lxml import etree

    limits = limits or DEFAULT_LIMITS
    if isinstance(text, str):
        data = text.encode("utf-8")
    elif isinstance(text, bytes):
        data = text
    else:
        raise SVGParseError("not-text", f"expected SVG text (str or bytes), got {type(text).__name__}")
    if len(data) > limits.max_bytes:
        raise SVGParseError("too-large", f"document is {len(data)} bytes; the limit is {limits.max_bytes}")
    if not data.strip():
        raise SVGParseError("empty", "document is empty")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        line = err.position[0] if err.position else None
        raise SVGParseError("not-xml", f"not well-formed XML: {err.msg}", line) from None
    except ValueError as err:  # e.g. an encoding declaration lxml cannot honour
        raise SVGParseError("not-xml", f"not well-formed XML: {err}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SVGParseError("doctype", "DOCTYPE declarations are not allowed (entity and external-reference attacks)", 1)
    if root.tag != f"{{{SVG_NS}}}svg" and root.tag != "svg":
        raise SVGParseError("not-svg", f"root element is <{etree.QName(root).localname}>, not <svg>", root.sourceline)

    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if count > limits.max_elements:
            raise SVGParseError("too-many-elements", f"more than {limits.max_elements} elements", element.sourceline)
        if depth > limits.max_depth:
            raise SVGParseError("too-deep", f"elements nest deeper than {limits.max_depth}", element.sourceline)
        stack.extend((child, depth + 1) for child in element)
    return root


def local_name(element) -> str:
    """Tag without namespace; comments and processing instructions give ''."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(element) -> str | None:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return None
