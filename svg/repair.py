"""``repair_svg``: turn LLM output or a damaged file into a valid, sanitized SVG.

Three passes, each recording what it changed:

1. **Extract** the SVG from chat output: ``<think>`` blocks, code fences and prose around it.
2. **Rebuild the markup** with a tolerant scanner: restore missing ``<``, quote attribute values,
   fix misspelled tag and attribute names, drop stray text and closing tags, close what was left
   open (output cut off at a token limit or never closing ``</svg>``).
3. **Sanitize the tree** (lxml, same safe parser as validation): drop scripts, handlers, external
   references, foreign elements; cut path data at its first unrecoverable error; drop
   non-finite or absurd numbers; break reference cycles and ``<use>`` bombs.

A document that already validates is returned unchanged (minimal modification).
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import math
import re

from .parsing import DEFAULT_LIMITS, SVG_NS, XLINK_NS, Limits, SVGParseError, local_name, namespace, parse_svg
from .pathdata import ARGUMENT_COUNTS, PathDataError, parse_path_data
from .validation import (
    ALLOWED_DATA_IMAGE_TYPES,
    ALLOWED_ELEMENTS,
    FORBIDDEN_ELEMENTS,
    TEXT_CONTENT_ELEMENTS,
    ValidationReport,
    parse_viewbox,
    suggest_attribute,
    validate_svg,
)

_NAME = re.compile(r"[A-Za-z_][\w:.\-]*")
_ATTRIBUTE_NAME = re.compile(r"[^\s=/>\"'<]+")
_TAG_WITHOUT_BRACKET = re.compile(r"\s*(/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*[\"'][^\"']*[\"'])+)\s*(/?)>")
_ELEMENTS_BY_LOWER = {name.lower(): name for name in ALLOWED_ELEMENTS | FORBIDDEN_ELEMENTS}
_NUMERIC_ROOT_ATTRIBUTES = ("width", "height", "x", "y")


@dataclasses.dataclass(frozen=True)
class Repair:
    code: str
    message: str


@dataclasses.dataclass
class RepairResult:
    svg: str
    repairs: list[Repair]
    report: ValidationReport

    @property
    def changed(self) -> bool:
        return bool(self.repairs)

    @property
    def ok(self) -> bool:
        return self.report.ok


# -- 1. extraction ---------------------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_FENCE = re.compile(r"```[\w+-]*\s*\n?(.*?)(```|$)", re.S)


def extract_svg(text: str) -> tuple[str | None, list[Repair]]:
    """The ``<svg …`` part of ``text`` (up to its last ``</svg>``, or to the end if cut off)."""
    repairs: list[Repair] = []
    if _THINK.search(text):
        # A <think> block may itself quote SVG; only what follows the reasoning is the answer.
        text = _THINK.sub("", text)
        repairs.append(Repair("removed-reasoning", "removed <think> reasoning"))
    fenced = [body for body, _ in _FENCE.findall(text) if "<svg" in body.lower()]
    if fenced:
        text = fenced[-1]
        repairs.append(Repair("removed-code-fence", "took the SVG out of a code fence"))
    start = text.lower().find("<svg")
    if start < 0:
        return None, repairs
    end = text.lower().rfind("</svg>")
    body = text[start : end + len("</svg>")] if end > start else text[start:]
    before = re.sub(r"<!--.*?-->|<\?.*?\?>", "", text[:start], flags=re.S)  # comments and <?xml?> are not prose
    if before.strip() or text[start + len(body) :].strip():
        repairs.append(Repair("removed-surrounding-text", "removed text around the SVG"))
    return body, repairs


# -- 2. markup rebuild -----------------------------------------------------------------------------


@dataclasses.dataclass
class _Tag:
    name: str
    attributes: list[tuple[str, str]]
    closing: bool = False
    self_closing: bool = False


class _Rebuilder:
    """Scans damaged markup left to right and writes well-formed markup."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.stack: list[str] = []
        self.repairs: list[Repair] = []
        self.root_closed = False

    def note(self, code: str, message: str) -> None:
        self.repairs.append(Repair(code, message))

    def run(self) -> str:
        s, n, i = self.text, len(self.text), 0
        while i < n and not self.root_closed:
            if s.startswith("<!--", i):
                end = s.find("-->", i + 4)
                i = n if end < 0 else end + 3  # comments carry nothing a drawing needs
            elif s.startswith("<![CDATA[", i):
                end = s.find("]]>", i)
                body = s[i + 9 : n if end < 0 else end]
                if self.stack and self.stack[-1] in TEXT_CONTENT_ELEMENTS:
                    self.out.append(html.escape(body, quote=False))
                i = n if end < 0 else end + 3
            elif s.startswith("<?", i) or s.startswith("<!", i):
                end = s.find(">", i)
                if s.startswith("<!DOCTYPE", i) or s.startswith("<!doctype", i):
                    self.note("removed-doctype", "removed a DOCTYPE declaration")
                i = n if end < 0 else end + 1
            elif s[i] == "<" and i + 1 < n and (s[i + 1] == "/" or _NAME.match(s, i + 1)):
                tag, i = self.scan_tag(i)
                self.emit(tag)
            elif s[i] == "<":
                self.note("removed-stray-characters", f"removed a stray '<' at character {i}")
                i += 1
            else:
                end = s.find("<", i)
                end = n if end < 0 else end
                chunk = s[i:end]
                bare = _TAG_WITHOUT_BRACKET.match(chunk)
                if bare and self._known_name(bare.group(2)):
                    self.note("added-missing-bracket", f"restored the '<' of <{bare.group(2)}>")
                    self.text = s = s[:i] + "<" + s[i + len(chunk) - len(chunk.lstrip()) :]
                    n = len(s)
                    continue
                self.text_chunk(chunk)
                i = end
        for name in reversed(self.stack):
            self.out.append(f"</{name}>")
        if self.stack:
            self.note("closed-open-tags", f"closed {len(self.stack)} tag(s) left open: {', '.join(reversed(self.stack))}")
        return "".join(self.out)

    def _known_name(self, name: str) -> bool:
        return name in ALLOWED_ELEMENTS or name.lower() in _ELEMENTS_BY_LOWER

    def scan_tag(self, i: int) -> tuple[_Tag, int]:
        s, n = self.text, len(self.text)
        closing = s[i + 1] == "/"
        i += 2 if closing else 1
        match = _NAME.match(s, i)
        name = match.group() if match else ""
        i = match.end() if match else i
        attributes: list[tuple[str, str]] = []
        self_closing = False
        while True:
            while i < n and s[i].isspace():
                i += 1
            if i >= n:
                self.note("completed-truncated-tag", f"completed <{name}> cut off at the end")
                break
            if s[i] == ">":
                i += 1
                break
            if s.startswith("/>", i):
                self_closing, i = True, i + 2
                break
            if s[i] == "<":
                self.note("added-missing-bracket", f"added the missing '>' of <{name}>")
                break
            if s[i] == "/":
                i += 1
                continue
            attr = _ATTRIBUTE_NAME.match(s, i)
            if not attr:
                self.note("removed-stray-characters", f"removed {s[i]!r} inside <{name}>")
                i += 1
                continue
            attr_name, i = attr.group(), attr.end()
            while i < n and s[i].isspace():
                i += 1
            if i >= n or s[i] != "=":
                self.note("removed-stray-characters", f"removed {attr_name!r}, which has no value, from <{name}>")
                continue
            i += 1
            while i < n and s[i].isspace():
                i += 1
            value, i = self.scan_value(i, name, attr_name)
            attributes.append((attr_name, value))
        return _Tag(name, attributes, closing, self_closing), i

    def scan_value(self, i: int, tag: str, attr: str) -> tuple[str, int]:
        s, n = self.text, len(self.text)
        if i < n and s[i] in "\"'":
            quote, other = s[i], "'" if s[i] == '"' else '"'
            end = s.find(quote, i + 1)
            span = s[i + 1 : end if end >= 0 else n]
            # The other quote followed by `name=` or `>` closed this value: fill="red' stroke="…"
            mismatch = re.search(rf"{other}(?=\s+[\w:-]+\s*=|\s*/?>)", span)
            if end >= 0 and "<" not in span and not mismatch:
                return span, end + 1
            if mismatch and "<" not in span[: mismatch.start()]:
                self.note("fixed-quotes", f"fixed mismatched quotes of {attr} on <{tag}>")
                return span[: mismatch.start()], i + 1 + mismatch.end()
            stop = i + 1
            while stop < n and s[stop] not in "<>" and not s.startswith("/>", stop):
                stop += 1
            self.note("fixed-quotes", f"closed the unterminated quote of {attr} on <{tag}>")
            return s[i + 1 : stop].rstrip(), stop
        stop = i
        while stop < n and not s[stop].isspace() and s[stop] not in "<>" and not s.startswith("/>", stop):
            stop += 1
        self.note("quoted-attribute", f"quoted the value of {attr} on <{tag}>")
        return s[i:stop], stop

    def fix_name(self, name: str) -> str:
        if name in ALLOWED_ELEMENTS or name in FORBIDDEN_ELEMENTS or ":" in name:
            return name
        collapsed = re.sub(r"(.)\1+", r"\1", name.lower())  # doubled letters: <gg>, <rectt>
        if name.lower() in _ELEMENTS_BY_LOWER:
            fixed = _ELEMENTS_BY_LOWER[name.lower()]
        elif collapsed in _ELEMENTS_BY_LOWER and collapsed != "a":
            fixed = _ELEMENTS_BY_LOWER[collapsed]
        else:
            close = difflib.get_close_matches(name, sorted(ALLOWED_ELEMENTS), n=1, cutoff=0.75)
            if not close:
                return name
            fixed = close[0]
        self.note("fixed-tag-name", f"renamed <{name}> to <{fixed}>")
        return fixed

    def fix_attribute(self, tag: str, name: str) -> str:
        suggestion = suggest_attribute(name)
        if suggestion is None:
            return name
        self.note("fixed-attribute-name", f"renamed attribute {name!r} to {suggestion!r} on <{tag}>")
        return suggestion

    def emit(self, tag: _Tag) -> None:
        if not tag.name:
            self.note("removed-stray-characters", "removed an empty tag")
            return
        name = self.fix_name(tag.name)
        if tag.closing:
            if name in self.stack:
                while self.stack[-1] != name:
                    unclosed = self.stack.pop()
                    self.out.append(f"</{unclosed}>")
                    self.note("closed-open-tags", f"closed <{unclosed}> before </{name}>")
                self.out.append(f"</{self.stack.pop()}>")
                self.root_closed = not self.stack
            else:
                self.note("removed-stray-closing-tag", f"removed </{tag.name}> with no open <{name}>")
            return
        if not self.stack and self.out:
            return  # content after the root element
        seen: set[str] = set()
        parts = [name]
        for attr_name, value in tag.attributes:
            fixed = self.fix_attribute(name, attr_name)
            if fixed in seen:
                self.note("removed-duplicate-attribute", f"removed a second {fixed!r} on <{name}>")
                continue
            seen.add(fixed)
            parts.append(f'{fixed}="{html.escape(html.unescape(value), quote=True)}"')
        if not self.stack and name == "svg" and "xmlns" not in seen:
            parts.insert(1, f'xmlns="{SVG_NS}"')
            self.note("added-namespace", "added the SVG namespace to <svg>")
        elif not self.stack and name == "svg" and f'xmlns="{SVG_NS}"' not in parts:
            parts = [p if not p.startswith("xmlns=") else f'xmlns="{SVG_NS}"' for p in parts]
            self.note("fixed-namespace", "replaced a misspelled SVG namespace on <svg>")
        if not self.stack and any(a.startswith("xlink:") for a in seen) and "xmlns:xlink" not in seen:
            parts.insert(1, f'xmlns:xlink="{XLINK_NS}"')
        if tag.self_closing:
            self.out.append(f"<{' '.join(parts)}/>")
            self.root_closed = not self.stack
        else:
            self.out.append(f"<{' '.join(parts)}>")
            self.stack.append(name)

    def text_chunk(self, chunk: str) -> None:
        if not chunk.strip():
            if self.stack:
                self.out.append(chunk)
            return
        if self.stack and self.stack[-1] in TEXT_CONTENT_ELEMENTS:
            self.out.append(html.escape(html.unescape(chunk), quote=False))
        else:
            self.note("removed-stray-characters", f"removed stray text {chunk.strip()[:30]!r}")


# -- 3. tree sanitizing ----------------------------------------------------------------------------


def _fix_path_data(d: str, limits: Limits) -> tuple[str, str | None]:
    """Valid path data for ``d``: unknown letters and junk characters removed, else cut at the error."""
    text, clean_end = d, 0
    for _ in range(64):
        try:
            parse_path_data(text, limits.max_path_commands)
            return text, None if text == d else "fixed invalid path data"
        except PathDataError as err:
            position, clean_end = err.position, err.clean_end
            if position >= len(text) or "more than" in str(err):
                return text[: err.clean_end].rstrip(), "cut path data at its first error"
            char = text[position]
            if char.isalpha() and char.upper() not in ARGUMENT_COUNTS:
                text = text[:position] + _guess_command(text, position) + text[position + 1 :]
            else:
                text = text[:position] + " " + text[position + 1 :]
    return text[:clean_end].rstrip(), "cut path data at its first error"


def _guess_command(d: str, position: int) -> str:
    """The command an unknown letter most likely stood for: the arity that fits the numbers that
    follow it, and among equal arities the one that usually follows the previous command."""
    following = re.match(r"[^A-Za-z]*", d[position + 1 :]).group()
    count = len(re.findall(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", following))
    previous = next((c.upper() for c in reversed(d[:position]) if c.upper() in ARGUMENT_COUNTS and c not in "eE"), "M")
    by_arity = {
        6: "C",
        7: "A",
        4: "S" if previous in "CS" else "Q",
        2: "T" if previous in "QT" else "L",
        1: "H" if previous == "V" else ("V" if previous == "H" else "H"),
    }
    for arity in (6, 7, 4, 2, 1):
        if count and count % arity == 0:
            letter = by_arity[arity]
            return letter if d[position].isupper() else letter.lower()
    return " "


def _sanitize(root, limits: Limits, allow_data_images: bool, note) -> None:
    from .validation import _CSS_DANGER, _CSS_URL, _NUMBER, NUMERIC_ATTRIBUTES

    for element in list(root.iter()):
        name = local_name(element)
        parent = element.getparent()
        if not name:
            if parent is not None:
                _drop(element)
            continue
        if name in FORBIDDEN_ELEMENTS or namespace(element) not in (None, SVG_NS):
            if parent is None:
                continue
            if name == "a":  # keep what a link wrapped, drop the link
                for child in list(element):
                    element.addprevious(child)
                note("removed-forbidden-element", "unwrapped a link <a>")
            else:
                note("removed-forbidden-element", f"removed <{name}>")
            _drop(element)
            continue
        for attribute, value in list(element.attrib.items()):
            attr = attribute.rsplit("}", 1)[-1]
            lowered = value.strip().lower()
            if attribute.startswith("{") and not attribute.startswith(f"{{{XLINK_NS}}}"):
                del element.attrib[attribute]
                note("removed-foreign-attribute", f"removed {attr} from <{name}>")
            elif attr.lower().startswith("on") or "javascript:" in lowered:
                del element.attrib[attribute]
                note("removed-script", f"removed {attr} from <{name}>")
            elif attr == "href" and not lowered.startswith("#"):
                allowed = name == "image" and allow_data_images and lowered.startswith(ALLOWED_DATA_IMAGE_TYPES)
                if not allowed:
                    del element.attrib[attribute]
                    note("removed-external-reference", f"removed an external reference from <{name}>")
            elif "url(" in lowered and any(not t.strip().startswith("#") for t in _CSS_URL.findall(value)):
                del element.attrib[attribute]
                note("removed-external-reference", f"removed {attr} with an external url() from <{name}>")
            elif attr == "style" and _CSS_DANGER.search(value):
                del element.attrib[attribute]
                note("removed-script", f"removed a dangerous style from <{name}>")
            elif attr == "d" and name == "path":
                fixed, message = _fix_path_data(value, limits)
                if message:
                    element.set(attribute, fixed)
                    note("fixed-path-data", f"{message} on <path>")
            elif attr in NUMERIC_ATTRIBUTES or attr == "transform":
                numbers = [float(t) for t in _NUMBER.findall(value)]
                if any(not (abs(v) <= limits.max_coordinate) for v in numbers):
                    del element.attrib[attribute]
                    note("removed-bad-number", f"removed {attr}={value[:30]!r} from <{name}>")
        if name == "style" and element.text and (_CSS_DANGER.search(element.text) or any(not t.strip().startswith("#") for t in _CSS_URL.findall(element.text))):
            note("removed-script", "removed a <style> with imports or external url()")
            _drop(element)
        elif name == "image" and not element.get("href") and not element.get(f"{{{XLINK_NS}}}href"):
            note("removed-external-reference", "removed an <image> with no allowed source")
            _drop(element)


def _drop(element) -> None:
    parent = element.getparent()
    if element.tail:  # keep the whitespace/text that followed the element
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _fix_references(root, limits: Limits, note) -> None:
    """Break reference cycles, then flatten nested ``<use>`` chains until expansion is bounded."""
    from lxml import etree

    href_keys = ("href", f"{{{XLINK_NS}}}href")
    for _ in range(limits.max_elements):
        report = validate_svg(etree.tostring(root), render=False, limits=limits)
        codes = {e.code for e in report.errors}
        if "reference-cycle" in codes:
            issue = next(e for e in report.errors if e.code == "reference-cycle")
            element = root.xpath(_to_lxml_xpath(issue.location), namespaces={"s": SVG_NS})[0]
            for key in href_keys:
                element.attrib.pop(key, None)
            note("broke-reference-cycle", f"removed the reference that closed a cycle at {issue.location}")
            continue
        if not codes & {"use-expansion", "use-depth"}:
            return
        ids = {e.get("id"): e for e in root.iter() if local_name(e) and e.get("id")}
        nested = []
        for use in (e for e in root.iter() if local_name(e) == "use"):
            target = next((use.get(k) for k in href_keys if use.get(k)), "").strip()[1:]
            referenced = ids.get(target)
            if referenced is not None and any(local_name(e) == "use" for e in referenced.iter()):
                nested.append(use)
        if not nested:
            return
        for use in nested:
            _drop(use)
        note("removed-use-bomb", f"removed {len(nested)} <use> element(s) that expanded past the limits")


def _to_lxml_xpath(location: str) -> str:
    return "/" + "/".join(f"s:{step}" for step in location.strip("/").split("/"))


def _content_box(root) -> str | None:
    """A viewBox around what ``root`` draws (svgelements geometry), or None when nothing is drawn."""
    import io

    from lxml import etree

    try:
        import svgelements

        box = svgelements.SVG.parse(io.BytesIO(etree.tostring(root)), reify=True).bbox()
    except Exception:  # geometry of a damaged drawing: a missing viewBox is only a warning
        return None
    if box is None:
        return None
    x0, y0, x1, y1 = box
    if not all(map(math.isfinite, box)) or x1 <= x0 or y1 <= y0:
        return None
    return f"{x0:g} {y0:g} {x1 - x0:g} {y1 - y0:g}"


def _nothing_recovered(repairs: list[Repair], render: bool, limits: Limits) -> RepairResult:
    """An empty canvas, reported as blank: nothing drawable survived."""
    empty = f'<svg xmlns="{SVG_NS}" viewBox="0 0 200 200"/>'
    return RepairResult(empty, repairs, validate_svg(empty, render=render, limits=limits))


# -- entry point -----------------------------------------------------------------------------------


def repair_svg(
    text: str | bytes,
    *,
    allow_data_images: bool = False,
    render: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> RepairResult:
    """Repair ``text`` into a valid, sanitized SVG; never raises on bad input.

    ``result.svg`` is the repaired document (the input itself when it was already valid),
    ``result.repairs`` says what changed, ``result.report`` validates the output. When nothing
    drawable can be recovered, ``result.svg`` is an empty ``<svg>`` and the report says so.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise TypeError(f"repair_svg expects SVG text (str or bytes), got {type(text).__name__}")
    report = validate_svg(text, render=render, allow_data_images=allow_data_images, limits=limits)
    if report.ok:
        return RepairResult(text, [], report)

    body, repairs = extract_svg(text[: limits.max_bytes * 2])
    if body is None:
        return _nothing_recovered([*repairs, Repair("no-svg-found", "no <svg> element in the input")], render, limits)

    rebuilder = _Rebuilder(body)
    rebuilt = rebuilder.run()
    repairs.extend(rebuilder.repairs)
    notes: list[Repair] = []
    try:
        root = parse_svg(rebuilt, limits)
    except SVGParseError as err:
        return _nothing_recovered([*repairs, Repair("unrecoverable", f"could not rebuild a document: {err.message}")], render, limits)

    def note(code: str, message: str) -> None:
        notes.append(Repair(code, message))

    _sanitize(root, limits, allow_data_images, note)
    _fix_references(root, limits, note)
    if root.get("viewBox") is not None and parse_viewbox(root.get("viewBox")) is None:
        del root.attrib["viewBox"]
        note("removed-bad-viewbox", "removed a viewBox that is not four numbers with a positive size")
    if not root.get("viewBox") and not (root.get("width") and root.get("height")):
        box = _content_box(root)
        if box is not None:
            root.set("viewBox", box)
            note("added-viewbox", "added a viewBox around the drawn content")
    if not root.get("viewBox") and root.get("width") and root.get("height"):
        try:
            width, height = (float(re.match(r"[\d.]+", root.get(k)).group()) for k in ("width", "height"))
            root.set("viewBox", f"0 0 {width:g} {height:g}")
            note("added-viewbox", "added a viewBox from width and height")
        except (AttributeError, ValueError):
            pass
    from lxml import etree

    repaired = etree.tostring(root, encoding="unicode")
    repairs.extend(notes)
    return RepairResult(repaired, repairs, validate_svg(repaired, render=render, allow_data_images=allow_data_images, limits=limits))
