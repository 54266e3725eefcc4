"""Output dataclasses shared by every pipeline.

Pipelines return a dataclass subclassing :class:`BaseOutput` with their results best first.
Fields can be read as attributes (``out.images``) or by name (``out["images"]``), and
``to_tuple()`` gives them in declaration order, as diffusers' outputs do.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class BaseOutput:
    """Base of every pipeline output. Subclasses must be dataclasses."""

    def __getitem__(self, name: str) -> Any:
        if not isinstance(name, str):
            raise TypeError(f"index an output by field name (str), got {type(name).__name__}")
        if name not in self.keys():
            raise KeyError(f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self.keys())}")
        return getattr(self, name)

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.keys())

    def __len__(self) -> int:
        return len(self.keys())
