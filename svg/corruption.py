"""Corrupt valid SVG the ways LLMs and people break it, to test repair and to train on.

Each corruption keeps the drawing recoverable in principle; ``truncate`` cuts the trailing
markup (a generation stopped before closing its tags), not the drawing itself.
"""

from __future__ import annotations

import random
import re

CORRUPTIONS = (
    "truncate",
    "drop-closing-tag",
    "misspell-tag",
    "drop-open-bracket",
    "unquote-attribute",
    "mismatch-quote",
    "bad-path-command",
    "bad-number",
    "stray-characters",
    "wrong-attribute-name",
    "llm-wrapping",
)

_TAG = re.compile(r"<([A-Za-z][\w:-]*)\b[^<>]*?/?>")
_ATTRIBUTE = re.compile(r'\s([\w:-]+)="([^"<>]*)"')
_PATH_COMMAND = re.compile(r'(?<=d=")[^"]*')


def corrupt_svg(text: str, kind: str, rng: random.Random) -> str:
    """``text`` with one corruption of ``kind`` (see ``CORRUPTIONS``) drawn from ``rng``."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"kind must be one of {CORRUPTIONS}, got {kind!r}")
    return _CORRUPTORS[kind](text, rng)


def _truncate(text: str, rng: random.Random) -> str:
    last_drawing = max((m.end() for m in _TAG.finditer(text) if m.group(1) not in ("svg", "g", "defs")), default=len(text))
    cut = rng.randint(last_drawing, len(text) - 1) if last_drawing < len(text) else len(text) - 1
    return text[:cut]


def _drop_closing_tag(text: str, rng: random.Random) -> str:
    closings = list(re.finditer(r"</[\w:-]+>", text))
    if not closings:
        return _truncate(text, rng)
    match = rng.choice(closings)
    return text[: match.start()] + text[match.end() :]


def _misspell_tag(text: str, rng: random.Random) -> str:
    tags = [m for m in _TAG.finditer(text) if m.group(1) != "svg"]
    if not tags:
        return _drop_closing_tag(text, rng)
    match = rng.choice(tags)
    name = match.group(1)
    position = rng.randrange(len(name))
    edit = rng.choice(["double", "drop", "case"]) if len(name) > 2 else "double"
    if edit == "double":
        wrong = name[: position + 1] + name[position] + name[position + 1 :]
    elif edit == "drop":
        wrong = name[:position] + name[position + 1 :]
    else:
        wrong = name.capitalize() if name[0].islower() else name.lower()
    start = match.start(1)
    return text[:start] + wrong + text[match.end(1) :]


def _drop_open_bracket(text: str, rng: random.Random) -> str:
    tags = [m for m in _TAG.finditer(text) if m.group(1) != "svg" and " " in m.group(0)]
    if not tags:
        return _unquote(text, rng)
    match = rng.choice(tags)
    return text[: match.start()] + " " + text[match.start() + 1 :]


def _unquote(text: str, rng: random.Random) -> str:
    attributes = [m for m in _ATTRIBUTE.finditer(text) if m.group(2) and not re.search(r"\s", m.group(2))]
    if not attributes:
        return _mismatch_quote(text, rng)
    match = rng.choice(attributes)
    return text[: match.start(2) - 1] + match.group(2) + text[match.end(2) + 1 :]


def _mismatch_quote(text: str, rng: random.Random) -> str:
    attributes = list(_ATTRIBUTE.finditer(text))
    if not attributes:
        return _truncate(text, rng)
    match = rng.choice(attributes)
    return text[: match.end(2)] + "'" + text[match.end(2) + 1 :]


def _bad_path_command(text: str, rng: random.Random) -> str:
    letters = [(m.start() + i) for m in _PATH_COMMAND.finditer(text) for i, c in enumerate(m.group()) if c in "LlCcQqHhVvSsTt"]
    if not letters:
        return _bad_number(text, rng)
    position = rng.choice(letters)
    replacement = rng.choice("KkXxJjPpUu").upper() if text[position].isupper() else rng.choice("kxjpu")
    return text[:position] + replacement + text[position + 1 :]


def _bad_number(text: str, rng: random.Random) -> str:
    ends = [p.start() + m.end() for p in _PATH_COMMAND.finditer(text) for m in re.finditer(r"\d+(?:\.\d+)?", p.group())]
    if not ends:
        return _stray(text, rng)
    end = rng.choice(ends)
    junk = rng.choice(["..", "e", "#", "px"])
    return text[:end] + junk + text[end:]


def _stray(text: str, rng: random.Random) -> str:
    gaps = [m.end() for m in re.finditer(r">", text)][:-1]
    if not gaps:
        return text + rng.choice(["}", ";;", "\\n"])
    position = rng.choice(gaps)
    return text[:position] + rng.choice(["}", ";", "\\", "`", "%%", "…"]) + text[position:]


def _wrong_attribute_name(text: str, rng: random.Random) -> str:
    known = {"fill": ["fil", "fll", "Fill"], "stroke-width": ["strokeWidth", "stroke_width", "stroke-widht"],
             "stroke": ["strok", "stroek"], "stroke-linecap": ["strokeLinecap", "stroke_linecap"],
             "fill-rule": ["fillRule", "fill_rule"], "stroke-linejoin": ["strokeLinejoin"], "opacity": ["opacty"]}
    attributes = [m for m in _ATTRIBUTE.finditer(text) if m.group(1) in known]
    if not attributes:
        return _misspell_tag(text, rng)
    match = rng.choice(attributes)
    return text[: match.start(1)] + rng.choice(known[match.group(1)]) + text[match.end(1) :]


def _llm_wrapping(text: str, rng: random.Random) -> str:
    style = rng.choice(["fence", "prose", "think", "all"])
    if style == "fence":
        return f"```svg\n{text}\n```"
    if style == "prose":
        return f"Here is the SVG you asked for:\n{text}\nLet me know if you want changes."
    if style == "think":
        return f"<think>The icon needs a simple shape.</think>\n{text}"
    return f"<think>Plan: draw it.</think>\nSure!\n```xml\n{text}\n```\nDone."


_CORRUPTORS = {
    "truncate": _truncate,
    "drop-closing-tag": _drop_closing_tag,
    "misspell-tag": _misspell_tag,
    "drop-open-bracket": _drop_open_bracket,
    "unquote-attribute": _unquote,
    "mismatch-quote": _mismatch_quote,
    "bad-path-command": _bad_path_command,
    "bad-number": _bad_number,
    "stray-characters": _stray,
    "wrong-attribute-name": _wrong_attribute_name,
    "llm-wrapping": _llm_wrapping,
}
