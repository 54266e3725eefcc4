"""Errors raised for motion files."""

from __future__ import annotations

import os


class MotionFileError(ValueError):
    """A motion file that cannot be read: the message names the file and the problem."""


MAX_FILE_BYTES = 512 * 1024 * 1024  # far above any mocap take (CMU's largest is ~30 MB); bounds memory


def check_size(path: str | os.PathLike[str]) -> None:
    """Refuse a file too large to be a mocap take before reading it into memory."""
    from pathlib import Path

    try:
        size = Path(path).stat().st_size
    except OSError as error:
        raise MotionFileError(f"{path}: cannot read ({error.strerror})") from error
    if size > MAX_FILE_BYTES:
        raise MotionFileError(f"{path}: {size / 2**20:.0f} MiB is larger than the {MAX_FILE_BYTES // 2**20} MiB a mocap file may be")
