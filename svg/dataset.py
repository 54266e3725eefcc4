"""``ctrlgen svg data build``: captioned icons in canonical form from npm icon sets.

For each source in :data:`svg.icon_sources.SOURCES`: ``npm pack NAME@VERSION`` (tarballs are
cached and their sha256 and npm integrity recorded), read the icons, canonicalize them (the
part-1 canonicalizer), caption them from name, tags, category and, for colour sets, the named
colours of their fills. Icons are deduplicated by the hash of their canonical form and split
train/val/test by name family ("arrow-left" and "arrow-right-circle" share the family "arrow"),
so near-duplicates never cross splits.

A build is resumable: each finished source is written to ``parts/<slug>.jsonl`` (atomically) and
skipped when the build runs again. An unreachable registry, a missing package or an icon that
does not parse is reported with a count and skipped.
"""

from __future__ import annotations

import colorsys
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from generators.files import atomic_write_json, atomic_write_text

from .icon_sources import LABEL_PACKAGES, SOURCES, IconSource, RawIcon, get_source

SPLITS = ("train", "val", "test")
SPLIT_PERCENT = {"train": 90, "val": 5, "test": 5}
NPM_TIMEOUT_S = 600
CHUNK = 64
DEFAULT_CACHE = Path.home() / ".cache" / "ctrlgen" / "npm"


class PackageUnavailable(RuntimeError):
    """``npm pack`` could not fetch a package (registry unreachable, unknown name or version)."""


def fetch_package(spec: str, cache_dir: Path) -> tuple[Path, dict[str, str]]:
    """The tarball of ``spec`` (``NAME@VERSION``) in ``cache_dir`` and its checksums; packs it once."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    name, _, version = spec.rpartition("@")
    tarball = cache_dir / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    integrity = ""
    if not tarball.is_file():
        if shutil.which("npm") is None:
            raise PackageUnavailable(f"{spec}: npm is not installed (install Node.js, or pass --cache with the tarballs)")
        with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
            try:
                done = subprocess.run(
                    ["npm", "pack", spec, "--json", "--pack-destination", scratch],
                    capture_output=True, text=True, timeout=NPM_TIMEOUT_S, cwd=scratch,
                )
            except subprocess.TimeoutExpired as err:
                raise PackageUnavailable(f"{spec}: npm pack took over {NPM_TIMEOUT_S} s") from err
            packed = list(Path(scratch).glob("*.tgz"))
            if done.returncode != 0 or len(packed) != 1:
                lines = [line for line in done.stderr.splitlines() if line.strip() and "complete log" not in line]
                reason = " ".join(lines[:2]) if lines else "no tarball written"
                raise PackageUnavailable(f"{spec}: npm pack failed: {reason}")
            try:
                integrity = json.loads(done.stdout)[0].get("integrity", "")
            except (ValueError, IndexError, AttributeError):
                integrity = ""
            os.replace(packed[0], tarball)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    return tarball, {"sha256": digest, **({"integrity": integrity} if integrity else {})}


# -- captions ---------------------------------------------------------------------------------

_COLOUR_NAMES = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray")
_FILL = re.compile(r'(?:fill|stroke)="#([0-9a-f]{6})"')


def colour_name(hex_colour: str) -> str:
    """A basic colour word for ``#rrggbb`` (hue buckets in HSV)."""
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, saturation, brightness = colorsys.rgb_to_hsv(r, g, b)
    hue *= 360
    if brightness < 0.18:
        return "black"
    if saturation < 0.15:
        return "white" if brightness > 0.85 else "gray"
    if hue < 15 or hue >= 345:
        return "red" if brightness > 0.45 or saturation > 0.6 else "brown"
    if hue < 45:
        return "orange" if brightness > 0.7 else "brown"
    if hue < 70:
        return "yellow"
    if hue < 170:
        return "green"
    if hue < 255:
        return "blue"
    if hue < 290:
        return "purple"
    return "pink"


def named_colours(canonical: str, limit: int = 3) -> list[str]:
    """The most used colour words of a canonical SVG, weighted by path-data length (an area proxy)."""
    weights: Counter[str] = Counter()
    for match in re.finditer(r'<path d="([^"]*)"([^>]*)>', canonical):
        for colour in _FILL.findall(match.group(2)):
            weights[colour_name(colour)] += len(match.group(1))
    return [name for name, _ in weights.most_common(limit)]


def family_of(name: str) -> str:
    return re.split(r"[-_ ]", name.lower(), maxsplit=1)[0] or name


def make_caption(words: str, tags: Sequence[str], category: str, colours: Sequence[str]) -> str:
    extra = [t for t in dict.fromkeys(str(t).strip().lower() for t in tags) if t and t not in words][:4]
    caption = words + (f": {', '.join(extra)}" if extra else "")
    if category:
        caption += f"; {category.lower()}"
    if colours:
        caption += f"; colours {', '.join(colours)}"
    return caption


def split_of(family: str) -> str:
    bucket = int(hashlib.sha256(family.encode()).hexdigest(), 16) % 100
    if bucket < SPLIT_PERCENT["train"]:
        return "train"
    return "val" if bucket < SPLIT_PERCENT["train"] + SPLIT_PERCENT["val"] else "test"


# -- records ----------------------------------------------------------------------------------


def _canonical_record(item: tuple[str, str]) -> dict[str, Any] | str:
    """Canonical SVG and stats for one icon, or the reason it was skipped (runs in a worker)."""
    from .canonical import canonicalize
    from .validation import validate_svg

    name, text = item
    try:
        canonical = canonicalize(text)
    except Exception as err:  # one broken icon is skipped, never the whole set
        return f"{name}: {type(err).__name__}: {str(err)[:120]}"
    report = validate_svg(canonical, render=False)
    if not report.ok or report.stats.paths == 0:
        codes = sorted({issue.code for issue in report.errors}) or ["no-paths"]
        return f"{name}: canonical form is invalid ({', '.join(codes)})"
    stats = report.stats
    return {"svg": canonical, "stats": {"paths": stats.paths, "commands": stats.commands, "chars": len(canonical), "colors": len(stats.colors)}}


def _map(function: Callable, items: list, workers: int) -> Iterable:
    if workers <= 1:
        return map(function, items)
    context = multiprocessing.get_context("spawn")
    executor = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context)
    return _closing_map(executor, function, items)


def _closing_map(executor, function, items):
    with executor:
        yield from executor.map(function, items, chunksize=CHUNK)


def build_source(source: IconSource, archives: dict[str, tarfile.TarFile], workers: int, limit: int | None = None) -> tuple[list[dict], list[str]]:
    """Records and skip reasons for one source."""
    raw: list[RawIcon] = []
    for icon in source.read(archives):
        raw.append(icon)
        if limit is not None and len(raw) >= limit:
            break
    records, skipped = [], []
    for icon, result in zip(raw, _map(_canonical_record, [(i.name, i.svg) for i in raw], workers), strict=True):
        if isinstance(result, str):
            skipped.append(result)
            continue
        words = icon.name.replace("-", " ").replace("_", " ")
        colours = named_colours(result["svg"]) if source.colour else []
        family = family_of(icon.name)
        records.append({
            "id": f"{source.slug}/{icon.name}",
            "source": source.spec,
            "licence": source.licence,
            "name": words,
            "tags": list(icon.tags),
            "category": icon.category,
            "colours": colours,
            "caption": make_caption(words, icon.tags, icon.category, colours),
            "family": family,
            "colour": source.colour,
            **result,
        })
    return records, skipped


def build_dataset(
    output_dir: str | os.PathLike[str],
    sources: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    limit: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build (or resume) the dataset in ``output_dir``; returns the manifest also written there."""
    output = Path(output_dir)
    parts = output / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE
    chosen = [get_source(slug) for slug in (sources or [s.slug for s in SOURCES])]
    workers = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))
    versions = {**{s.package: s.version for s in SOURCES}, **LABEL_PACKAGES}

    manifest_path = output / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    packages: dict[str, Any] = manifest.get("packages", {})
    unavailable: dict[str, str] = {}
    for source in chosen:
        part = parts / f"{source.slug}.jsonl"
        if part.is_file() and source.spec in packages:
            log(f"{source.slug}: already built ({packages[source.spec]['icons']} icons)")
            continue
        with contextlib.ExitStack() as stack:
            archives = {}
            try:
                for package in (source.package, *source.needs):
                    tarball, checksums = fetch_package(f"{package}@{versions[package]}", cache)
                    archives[package] = stack.enter_context(tarfile.open(tarball, "r:gz"))
                    if package == source.package:
                        packed = checksums
                records, skipped = build_source(source, archives, workers, limit)
            except PackageUnavailable as err:
                unavailable[source.spec] = str(err)
                log(f"{source.slug}: skipped: {err}")
                continue
            except (KeyError, ValueError, OSError, tarfile.TarError) as err:
                unavailable[source.spec] = f"{source.spec}: unreadable package: {err}"
                log(f"{source.slug}: skipped: unreadable package: {err}")
                continue
        atomic_write_text(part, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        packages[source.spec] = {
            "slug": source.slug, "licence": source.licence, "attribution": source.attribution,
            "icons": len(records), "skipped": len(skipped), "skip_examples": skipped[:5], **packed,
        }
        log(f"{source.slug}: {len(records)} icons, {len(skipped)} skipped")
        atomic_write_json(manifest_path, {**manifest, "packages": packages})

    return _finish(output, [s for s in SOURCES if s.spec in packages], packages, unavailable, log)


def _finish(output: Path, built: list[IconSource], packages: dict, unavailable: dict[str, str], log) -> dict[str, Any]:
    """Deduplicate across sources, write the splits, the licences file and the manifest."""
    seen: set[str] = set()
    splits: dict[str, list[str]] = {name: [] for name in SPLITS}
    duplicates = 0
    for source in built:
        part = output / "parts" / f"{source.slug}.jsonl"
        for line in part.read_text().splitlines():
            record = json.loads(line)
            key = hashlib.sha256(record["svg"].encode()).hexdigest()
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            record["split"] = split_of(record["family"])
            splits[record["split"]].append(json.dumps(record, ensure_ascii=False))
    for name, lines in splits.items():
        atomic_write_text(output / f"{name}.jsonl", "".join(line + "\n" for line in lines))
    atomic_write_text(output / "LICENSES.md", licences_text(built, packages))
    manifest = {
        "packages": packages,
        "unavailable": unavailable,
        "duplicates_removed": duplicates,
        "counts": {name: len(lines) for name, lines in splits.items()},
    }
    atomic_write_json(output / "manifest.json", manifest)
    log(f"done: {manifest['counts']} ({duplicates} duplicates removed, {len(unavailable)} packages unavailable)")
    return manifest


def licences_text(built: Sequence[IconSource], packages: dict[str, Any]) -> str:
    lines = [
        "# Licences and attribution of the icon data",
        "",
        "Icons were converted to the SVGen canonical form (rescaled, shapes turned into paths, coordinates",
        "rounded); captions were written from the packages' names, tags and categories.",
        "",
        "| package | licence | attribution | icons | sha256 of the npm tarball |",
        "|---|---|---|---|---|",
    ]
    for source in built:
        info = packages[source.spec]
        lines.append(f"| {source.spec} | {source.licence} | {source.attribution} | {info['icons']} | `{info['sha256']}` |")
    lines += ["", "Brand logos are left out of every set (trademarks). CC-BY-4.0 artwork requires this attribution to be kept."]
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class IconRecord:
    """One line of a split file, for training and evaluation code."""

    id: str
    caption: str
    svg: str
    name: str
    colours: tuple[str, ...]
    colour: bool


def read_split(directory: str | os.PathLike[str], split: str, limit: int | None = None) -> list[IconRecord]:
    """Records of ``train``/``val``/``test`` from a built dataset directory."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = Path(directory) / f"{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; build the data with `ctrlgen svg data build -o {directory}`")
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            records.append(IconRecord(row["id"], row["caption"], row["svg"], row["name"], tuple(row.get("colours", ())), bool(row.get("colour"))))
            if limit is not None and len(records) >= limit:
                break
    return records
