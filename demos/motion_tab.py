"""The Motion tab: two-person motion from text plus a leader trajectory."""

from __future__ import annotations

from .common import unavailable_tab

DESCRIPTION = (
    "Describe an interaction and draw or type the leader's path; the follower adapts to the leader and "
    "collision checks keep the two bodies apart. Shows an animated preview, the report, and NPZ and BVH files."
)


def build_demo(pipe=None):
    return unavailable_tab("Two-person motion", DESCRIPTION, pipe)
