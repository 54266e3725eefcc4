"""npm tarballs in the real package layouts, built offline from the fixture icons in tests/data/icons."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "data" / "icons"
CORRUPT_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M 1 1 L'


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(f"package/{name}")
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_lucide_tarball(cache: Path) -> Path:
    """lucide-static's layout: icons/*.svg and tags.json; plus one duplicate and one corrupt icon."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / "lucide-static-1.62.0.tgz"
    files = sorted(ICONS.glob("lucide-*.svg"))
    tags = {f.stem.removeprefix("lucide-"): ["tag-" + f.stem.split("-")[1]] for f in files}
    with tarfile.open(path, "w:gz") as archive:
        for file in files:
            _add(archive, f"icons/{file.stem.removeprefix('lucide-')}.svg", file.read_bytes())
        _add(archive, "icons/zz-duplicate.svg", files[0].read_bytes())
        _add(archive, "icons/zz-corrupt.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0 L 5 5"><g><</svg')
        _add(archive, "tags.json", json.dumps(tags).encode())
        _add(archive, "package.json", b'{"name": "lucide-static", "version": "1.62.0"}')
    return path


def write_fluent_tarball(cache: Path) -> Path:
    """@iconify-json/fluent-emoji-flat's layout: icons.json of bodies, metadata.json of categories."""
    from lxml import etree

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / "iconify-json-fluent-emoji-flat-1.2.6.tgz"
    icons = {}
    for file in sorted(ICONS.glob("fluent-*.svg")):
        root = etree.fromstring(file.read_bytes())
        body = "".join(etree.tostring(child, encoding="unicode") for child in root)
        icons[file.stem.removeprefix("fluent-")] = {"body": body.replace(' xmlns="http://www.w3.org/2000/svg"', "")}
    first = sorted(icons)[0]
    data = {"prefix": "fluent-emoji-flat", "icons": icons, "width": 32, "height": 32}
    with tarfile.open(path, "w:gz") as archive:
        _add(archive, "icons.json", json.dumps(data).encode())
        _add(archive, "metadata.json", json.dumps({"categories": {"Smileys": [first]}}).encode())
        _add(archive, "package.json", b'{"name": "@iconify-json/fluent-emoji-flat"}')
    return path


def build_fixture_dataset(directory: Path, cache: Path) -> dict:
    from svg.dataset import build_dataset

    write_lucide_tarball(cache)
    write_fluent_tarball(cache)
    return build_dataset(directory, ["lucide", "fluent"], cache, workers=1, log=lambda message: None)
