"""A strict lexer for SVG path data (the ``d`` attribute), following the SVG 1.1 grammar.

Renderers silently stop drawing at the first error in ``d``; we report the error's position so
validation can say where a path breaks and repair can cut it there.
"""

from __future__ import annotations

import math
import re

ARGUMENT_COUNTS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7, "Z": 0}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SEPARATORS = " \t\r\n\f,"


class PathDataError(ValueError):
    def __init__(self, message: str, position: int, commands: list[tuple[str, list[float]]], clean_end: int = 0) -> None:
        super().__init__(f"{message} at character {position}")
        self.position = position
        self.commands = commands  # what parsed cleanly before the error
        self.clean_end = clean_end  # d[:clean_end] holds exactly those commands


def parse_path_data(d: str, max_commands: int | None = None) -> list[tuple[str, list[float]]]:
    """Split ``d`` into ``(command letter, arguments)`` pairs, one per drawn segment.

    Implicit repeats are expanded (``L1 2 3 4`` gives two ``L``; extra pairs after ``M`` become
    ``L``). Raises :class:`PathDataError` with the position of the first error.
    """
    commands: list[tuple[str, list[float]]] = []
    i, n = 0, len(d)
    command: str | None = None
    clean_end = 0

    def skip(i: int) -> int:
        while i < n and d[i] in _SEPARATORS:
            i += 1
        return i

    i = skip(i)
    if i == n:
        return commands
    while i < n:
        char = d[i]
        if char.upper() in ARGUMENT_COUNTS and char not in "eE":
            if command is None and char not in "Mm":
                raise PathDataError(f"path data must start with M or m, not {char!r}", i, commands, clean_end)
            command = char
            i = skip(i + 1)
            if command in "Zz":
                commands.append((command, []))
                clean_end = i
                continue
        elif command is None:
            raise PathDataError(f"path data must start with M or m, not {char!r}", i, commands, clean_end)
        elif command in "Zz":
            raise PathDataError(f"numbers after {command!r} need a command letter", i, commands, clean_end)
        arity = ARGUMENT_COUNTS[command.upper()]
        args: list[float] = []
        for k in range(arity):
            if command in "Aa" and k in (3, 4):  # arc flags: a single 0 or 1, separators optional
                if i < n and d[i] in "01":
                    args.append(float(d[i]))
                    i = skip(i + 1)
                    continue
                raise PathDataError(f"arc flag must be 0 or 1 in {command!r}", i, commands, clean_end)
            match = _NUMBER.match(d, i)
            if not match:
                what = repr(d[i]) if i < n else "end of data"
                raise PathDataError(f"expected a number for {command!r}, found {what}", i, commands, clean_end)
            value = float(match.group())
            if not math.isfinite(value):
                raise PathDataError(f"number {match.group()!r} is not finite", i, commands, clean_end)
            args.append(value)
            i = skip(match.end())
        commands.append((command, args))
        clean_end = i
        if max_commands is not None and len(commands) > max_commands:
            raise PathDataError(f"more than {max_commands} path commands", i, commands, clean_end)
        if command in "Mm":
            command = "L" if command == "M" else "l"  # extra coordinate pairs after a moveto are linetos
    return commands
