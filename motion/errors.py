"""Errors raised for motion files."""

from __future__ import annotations


class MotionFileError(ValueError):
    """A motion file that cannot be read: the message names the file and the problem."""
