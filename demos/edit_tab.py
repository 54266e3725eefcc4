"""The Edit tab: mask-free image editing from a complex instruction."""

from __future__ import annotations

from .common import unavailable_tab

DESCRIPTION = (
    "Upload an image and give an instruction such as 'remove the smaller red circle on the left'; the plan, "
    "its rationale and the target mask are shown, and everything outside the edit stays bit-exact."
)


def build_demo(pipe=None):
    return unavailable_tab("Mask-free editing", DESCRIPTION, pipe)
