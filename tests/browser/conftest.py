"""Real-browser harness: Debian's Chromium driven headless by Playwright against `ctrlgen demo`.

No browser is downloaded. Outside CI the tests skip (saying why) when Chromium is absent;
with CI set they fail instead, so a CI run can never pass without driving the browser.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = os.environ.get("CTRLGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _missing_browser_reason() -> str | None:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install 'ctrlgen[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _missing_browser_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _demo_command(port: int) -> list[str]:
    """`make demo` when the tests run from the Makefile's venv (as `make test` runs them), else the CLI."""
    made_venv = REPO_ROOT / ".venv"
    if shutil.which("make") and Path(sys.prefix).resolve() == made_venv.resolve():
        return ["make", "-C", str(REPO_ROOT), "demo", "HOST=127.0.0.1", f"PORT={port}"]
    return [sys.executable, "-m", "generators.cli", "demo", "--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture
def demo_server(free_port, tmp_path):
    """The demo started as a user starts it (`make demo`), on a free loopback port."""
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        _demo_command(free_port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"},
        start_new_session=True,  # make's child too is stopped through the process group
    )
    url = f"http://127.0.0.1:{free_port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ctrlgen demo did not come up: {(tmp_path / 'demo.log').read_text()}") from None
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
