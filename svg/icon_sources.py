"""Permissively licensed icon sets on the npm registry, and readers for their package layouts.

Each source is pinned to one version and read from the tarball ``npm pack NAME@VERSION`` writes.
Non-commercial, share-alike and trademark sets are left out; inside the sets we use, brand logos
(tabler's "Brand" category, mdi's "Brand / Logo" tag, and bootstrap icons named after those
brands) are skipped too: they are trademarks whatever the licence of the drawing.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # per file inside a tarball (noto's icons.json is 25 MB)


@dataclasses.dataclass(frozen=True)
class RawIcon:
    name: str  # kebab-case name within its set
    svg: str
    tags: tuple[str, ...] = ()
    category: str = ""


@dataclasses.dataclass(frozen=True)
class IconSource:
    slug: str  # short id used in icon ids and file names
    package: str
    version: str
    licence: str  # SPDX id
    attribution: str
    colour: bool  # multi-colour artwork (emoji) rather than monochrome glyphs
    read: Callable[[dict[str, tarfile.TarFile]], Iterator[RawIcon]]
    needs: tuple[str, ...] = ()  # other packages whose tarballs ``read`` uses (labels, brand names)

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


class PackageReader:
    """Text members of an npm tarball by path below ``package/``, with a size cap per member."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self.archive = archive
        self.members = {m.name.removeprefix("package/"): m for m in archive.getmembers() if m.isfile()}

    def text(self, path: str) -> str:
        member = self.members.get(path)
        if member is None:
            raise KeyError(f"the package has no file {path!r}")
        if member.size > MAX_MEMBER_BYTES:
            raise ValueError(f"{path} is {member.size} bytes, over the {MAX_MEMBER_BYTES} byte cap")
        return self.archive.extractfile(member).read().decode("utf-8")

    def json(self, path: str):
        return json.loads(self.text(path))

    def files(self, folder: str, suffix: str = ".svg") -> Iterator[tuple[str, str]]:
        for path in sorted(self.members):
            pure = PurePosixPath(path)
            if str(pure.parent) == folder and pure.suffix == suffix:
                yield pure.stem, path


def _reader(archives: dict[str, tarfile.TarFile], package: str) -> PackageReader:
    return PackageReader(archives[package])


def _read_lucide(archives):
    package = _reader(archives, "lucide-static")
    tags = package.json("tags.json")
    for name, path in package.files("icons"):
        yield RawIcon(name, package.text(path), tuple(tags.get(name, ())))


def _tabler_meta(archives):
    return _reader(archives, "@tabler/icons").json("icons.json")


def _read_tabler(archives):
    package = _reader(archives, "@tabler/icons")
    meta = package.json("icons.json")
    for style in ("outline", "filled"):
        for name, path in package.files(f"icons/{style}"):
            info = meta.get(name, {})
            if info.get("category") == "Brand" or name.startswith("brand-"):
                continue
            label = name if style == "outline" else f"{name}-filled"
            yield RawIcon(label, package.text(path), tuple(info.get("tags", ())), str(info.get("category") or ""))


def _brand_words(archives) -> set[str]:
    words = {name.removeprefix("brand-").split("-")[0] for name, info in _tabler_meta(archives).items() if info.get("category") == "Brand"}
    return words - {"", "a", "x"}


def _read_bootstrap(archives):
    package = _reader(archives, "bootstrap-icons")
    brands = _brand_words(archives)
    for name, path in package.files("icons"):
        if name.split("-")[0] in brands:
            continue
        yield RawIcon(name, package.text(path))


def _read_mdi(archives):
    package = _reader(archives, "@mdi/svg")
    meta = {entry["name"]: entry for entry in package.json("meta.json")}
    for name, path in package.files("svg"):
        entry = meta.get(name, {})
        tags = tuple(entry.get("tags", ()))
        if entry.get("deprecated") or any("Brand" in tag for tag in tags):
            continue
        aliases = tuple(a.replace("-", " ") for a in entry.get("aliases", ())[:3])
        yield RawIcon(name, package.text(path), aliases, tags[0] if tags else "")


def _read_feather(archives):
    package = _reader(archives, "feather-icons")
    for name, path in package.files("dist/icons"):
        yield RawIcon(name, package.text(path))


def _emoji_labels(archives) -> dict[str, tuple[str, tuple[str, ...]]]:
    """hexcode (lower case, without FE0F) -> (label, tags) from emojibase-data."""
    labels = {}
    for entry in _reader(archives, "emojibase-data").json("en/data.json"):
        for item in [entry, *entry.get("skins", ())]:
            key = item["hexcode"].lower().replace("-fe0f", "")
            labels[key] = (item["label"], tuple(item.get("tags", entry.get("tags", ()))))
    return labels


def _read_twemoji(archives):
    package = _reader(archives, "@twemoji/svg")
    labels = _emoji_labels(archives)
    for stem, path in package.files("."):
        label = labels.get(stem.lower().replace("-fe0f", ""))
        if label is None:
            continue  # unlabelled sequences (rare); a caption is required
        name = re.sub(r"[^a-z0-9]+", "-", label[0].lower()).strip("-")
        yield RawIcon(name, package.text(path), label[1])


def _read_iconify(package_name: str):
    def read(archives):
        package = _reader(archives, package_name)
        data = package.json("icons.json")
        categories = {}
        if "metadata.json" in package.members:
            for category, names in package.json("metadata.json").get("categories", {}).items():
                for name in names:
                    categories[name] = category
        width, height = data.get("width", 16), data.get("height", 16)
        for name, icon in sorted(data["icons"].items()):
            w, h = icon.get("width", width), icon.get("height", height)
            text = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{icon.get("left", 0)} {icon.get("top", 0)} {w} {h}">{icon["body"]}</svg>'
            yield RawIcon(name, text, (), categories.get(name, ""))

    return read


SOURCES: tuple[IconSource, ...] = (
    IconSource("lucide", "lucide-static", "1.62.0", "ISC", "Lucide Contributors; parts (c) Cole Bemis (Feather, MIT)", False, _read_lucide),
    IconSource("tabler", "@tabler/icons", "3.51.0", "MIT", "Paweł Kuna (Tabler Icons)", False, _read_tabler),
    IconSource("bootstrap", "bootstrap-icons", "1.13.2", "MIT", "The Bootstrap Authors", False, _read_bootstrap, needs=("@tabler/icons",)),
    IconSource("mdi", "@mdi/svg", "7.4.47", "Apache-2.0", "Pictogrammers (Material Design Icons); Google (Material icons, Apache-2.0)", False, _read_mdi),
    IconSource("feather", "feather-icons", "4.29.2", "MIT", "Cole Bemis (Feather)", False, _read_feather),
    IconSource(
        "twemoji", "@twemoji/svg", "15.0.0", "CC-BY-4.0",
        "Twemoji graphics (c) Twitter, Inc and other contributors, CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); "
        "labels from emojibase-data (MIT, Miles Johnson)", True, _read_twemoji, needs=("emojibase-data",),
    ),
    IconSource("fluent", "@iconify-json/fluent-emoji-flat", "1.2.6", "MIT", "Microsoft Corporation (Fluent Emoji)", True, _read_iconify("@iconify-json/fluent-emoji-flat")),
    IconSource("noto", "@iconify-json/noto", "1.2.9", "Apache-2.0", "Google Inc (Noto Emoji)", True, _read_iconify("@iconify-json/noto")),
)

LABEL_PACKAGES = {"emojibase-data": "17.0.0"}  # read by a source, not icons themselves


def get_source(slug: str) -> IconSource:
    for source in SOURCES:
        if source.slug == slug:
            return source
    raise ValueError(f"unknown icon source {slug!r}; expected one of {[s.slug for s in SOURCES]}")
