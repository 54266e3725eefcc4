"""Test-wide settings: never touch the network, never phone home."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def test_output_dir() -> Path:
    """Where tests keep artefacts worth looking at (screenshots): $CTRLGEN_TEST_OUTPUT or test-output/."""
    path = Path(os.environ.get("CTRLGEN_TEST_OUTPUT", REPO_ROOT / "test-output"))
    path.mkdir(parents=True, exist_ok=True)
    return path
