"""The SVG tab: text to SVG with structure validation, repair and best-of-N ranking."""

from __future__ import annotations

from .common import unavailable_tab

DESCRIPTION = (
    "Write a prompt, pick the number of samples and a seed; every candidate is validated, repaired, "
    "rendered and ranked, and each comes with its score, validation report and an SVG download."
)


def build_demo(pipe=None):
    return unavailable_tab("SVG from text", DESCRIPTION, pipe)
