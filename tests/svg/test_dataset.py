"""The icon dataset builder on npm tarballs in the real layouts (built offline from fixture icons)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from icon_data import build_fixture_dataset, write_lucide_tarball

from svg.dataset import build_dataset, colour_name, family_of, read_split
from svg.validation import validate_svg


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("icons")
    manifest = build_fixture_dataset(root / "data", root / "cache")
    return root, manifest


def test_build_writes_splits_licences_and_checksums(built):
    root, manifest = built
    data = root / "data"
    lucide = manifest["packages"]["lucide-static@1.62.0"]
    assert lucide["icons"] == 61  # 60 fixtures + the duplicate, before deduplication
    assert lucide["skipped"] == 1 and "zz-corrupt" in lucide["skip_examples"][0]
    assert lucide["sha256"] == hashlib.sha256((root / "cache" / "lucide-static-1.62.0.tgz").read_bytes()).hexdigest()
    assert manifest["duplicates_removed"] >= 1
    assert sum(manifest["counts"].values()) == 60 + 30
    licences = (data / "LICENSES.md").read_text()
    assert "lucide-static@1.62.0" in licences and "ISC" in licences and "Microsoft" in licences


def test_records_are_canonical_captioned_and_split_by_family(built):
    root, _ = built
    families: dict[str, str] = {}
    rows = []
    for split in ("train", "val", "test"):
        for line in (root / "data" / f"{split}.jsonl").read_text().splitlines():
            row = json.loads(line)
            rows.append(row)
            assert families.setdefault(row["family"], split) == split, "a name family crosses splits"
    assert len({hashlib.sha256(r["svg"].encode()).hexdigest() for r in rows}) == len(rows)
    for row in rows:
        assert row["svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200">')
        assert validate_svg(row["svg"], render=False).ok
        assert row["caption"].startswith(row["name"])
        assert {"id", "source", "licence", "caption", "svg", "stats"} <= set(row)
    fluent = [r for r in rows if r["source"].startswith("@iconify-json/fluent")]
    assert all(r["colours"] and "colours " in r["caption"] for r in fluent)
    assert any("; smileys" in r["caption"] for r in fluent)
    lucide = [r for r in rows if r["id"].startswith("lucide/")]
    assert all(not r["colours"] for r in lucide) and any(": tag-" in r["caption"] for r in lucide)
    assert len(read_split(root / "data", "train")) == sum(r["split"] == "train" for r in rows)


def test_rebuild_resumes_finished_sources(built):
    root, manifest = built
    before = (root / "data" / "train.jsonl").read_bytes()
    messages = []
    again = build_dataset(root / "data", ["lucide", "fluent"], root / "cache", workers=1, log=messages.append)
    assert any("already built" in m for m in messages) and again["counts"] == manifest["counts"]
    assert (root / "data" / "train.jsonl").read_bytes() == before


def test_unreachable_registry_is_reported_and_skipped(tmp_path):
    write_lucide_tarball(tmp_path / "cache")
    env = {**os.environ, "npm_config_registry": "http://127.0.0.1:9/", "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "2000"}
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "svg", "data", "build", "-o", str(tmp_path / "out"),
         "--sources", "lucide,feather", "--cache", str(tmp_path / "cache"), "--workers", "1"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 1, result.stderr
    assert "feather: skipped" in result.stdout and "lucide: 61 icons, 1 skipped" in result.stdout
    assert "ECONNREFUSED" in result.stdout or "127.0.0.1" in result.stdout
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert list(manifest["unavailable"]) == ["feather-icons@4.29.2"]
    assert manifest["counts"]["train"] + manifest["counts"]["val"] + manifest["counts"]["test"] == 60


def test_cli_rejects_unknown_sources(tmp_path):
    result = subprocess.run([sys.executable, "-m", "generators.cli", "svg", "data", "build", "-o", str(tmp_path / "x"), "--sources", "nope"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--sources" in result.stderr and not (tmp_path / "x").exists()


def test_colour_names_and_families():
    assert [colour_name(c) for c in ("#ff0000", "#00a6ed", "#ffb02e", "#212121", "#f8f8f8", "#6d4534", "#00d26a")] == [
        "red", "blue", "orange", "black", "white", "brown", "green",
    ]
    assert family_of("arrow-left-circle") == "arrow" == family_of("arrow")
