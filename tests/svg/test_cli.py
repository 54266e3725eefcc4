"""ctrlgen svg check|repair|render, as the architecture contract states them."""

from __future__ import annotations

import json
import subprocess
import sys

from hostile import INK, svg
from PIL import Image

BROKEN = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="5" height="5"'


def ctrlgen(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generators.cli", *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_check_exit_codes_and_json(tmp_path):
    good, bad = tmp_path / "good.svg", tmp_path / "bad.svg"
    good.write_text(svg(INK))
    bad.write_text(BROKEN)
    assert ctrlgen("svg", "check", str(good)).returncode == 0
    result = ctrlgen("svg", "check", str(bad), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"][0]["code"] == "not-xml"
    assert ctrlgen("svg", "check", "-", stdin=svg(INK)).returncode == 0


def test_repair_then_check_then_render(tmp_path):
    bad = tmp_path / "bad.svg"
    bad.write_text(BROKEN)
    fixed, png = tmp_path / "fixed.svg", tmp_path / "fixed.png"
    assert ctrlgen("svg", "repair", str(bad), "-o", str(fixed)).returncode == 0
    assert ctrlgen("svg", "check", str(fixed)).returncode == 0
    assert ctrlgen("svg", "render", str(fixed), "-o", str(png), "--size", "64").returncode == 0
    image = Image.open(png)
    assert image.size == (64, 64) and image.mode == "RGBA"
    assert png.stat().st_mode & 0o004, "outputs keep the usual umask permissions"


def test_repair_json_and_stdout(tmp_path):
    bad = tmp_path / "bad.svg"
    bad.write_text(BROKEN)
    result = ctrlgen("svg", "repair", str(bad), "--json")
    payload = json.loads(result.stdout)
    assert payload["ok"] and payload["svg"].startswith("<svg") and payload["repairs"]
    plain = ctrlgen("svg", "repair", str(bad))
    assert plain.stdout.strip() == payload["svg"]


def test_missing_file_is_a_usage_error(tmp_path):
    result = ctrlgen("svg", "check", str(tmp_path / "absent.svg"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = ctrlgen("svg", "render", str(tmp_path / "absent.svg"), "-o", str(tmp_path / "x.png"), "--size", "0")
    assert result.returncode == 2
