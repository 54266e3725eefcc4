"""The ctrlgen command: start-up cost, help, version, error style."""

from __future__ import annotations

import subprocess
import sys

from generators import __version__
from generators.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], capture_output=True, text=True, timeout=120)


def test_version_and_help():
    assert run("--version").stdout.strip() == f"ctrlgen {__version__}"
    help_text = run("--help").stdout
    assert "batch" in help_text and "demo" in help_text


def test_start_path_imports_no_heavy_library():
    code = (
        "import sys, generators, generators.cli; generators.cli.build_parser(); "
        "heavy = [m for m in ('torch', 'transformers', 'gradio', 'diffusers', 'distributed') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_missing_command_is_a_usage_error():
    result = run()
    assert result.returncode == 2 and "usage: ctrlgen" in result.stderr


def test_main_returns_exit_codes(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "absent.jsonl"), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ctrlgen batch: error: manifest") and err.count("\n") == 1


def test_public_api_is_exported():
    import generators

    for name in generators.__all__:
        assert getattr(generators, name) is not None
    assert "run_batch" in dir(generators)
