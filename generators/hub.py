"""Resolve model names to local directories: ``"embedded"``, a local directory, or a hub id.

Only safetensors weights are ever loaded; pickled checkpoints (``.bin``, ``.pt``, ``.ckpt``,
``.pkl``) are refused because unpickling runs arbitrary code. Hub downloads go through
``huggingface_hub`` and therefore respect ``HF_HUB_OFFLINE`` and the usual cache variables.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

EMBEDDED = "embedded"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Files a ctrlgen/transformers/diffusers checkpoint needs; pickles are never fetched.
HUB_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.md", "*.jinja", "*.tiktoken"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


class ModelNotFoundError(OSError):
    """A model name could not be resolved to local files."""


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds only pickled weights, which ctrlgen refuses to load."""


def is_hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def looks_like_hub_id(name: str) -> bool:
    return bool(_HUB_ID.match(name)) and not name.startswith((".", "/", "~"))


def resolve_pretrained(
    name_or_path: str | os.PathLike[str],
    *,
    embedded_dir: str | os.PathLike[str] | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """Return a local directory holding the checkpoint named by ``name_or_path``.

    Args:
        name_or_path: ``"embedded"``, an existing local directory, or a hub id ``"org/name"``.
        embedded_dir: where the calling package keeps its embedded weights.
        revision: hub branch, tag or commit.
        cache_dir: hub cache directory (defaults to huggingface_hub's).
        local_files_only: never touch the network; defaults to ``HF_HUB_OFFLINE``.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"name_or_path must be 'embedded', a local directory or a hub id, got {type(name_or_path).__name__}"
        )
    name = os.fspath(name_or_path)
    if not name:
        raise ValueError("name_or_path must be 'embedded', a local directory or a hub id, got an empty string")

    if name == EMBEDDED:
        if embedded_dir is None or not Path(embedded_dir).is_dir():
            raise ModelNotFoundError("this pipeline ships no embedded weights; pass a local directory or a hub id")
        return Path(embedded_dir)

    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"name_or_path {name!r} is a file; expected a directory holding a saved pipeline or model")
    if not looks_like_hub_id(name):
        raise ModelNotFoundError(f"name_or_path {name!r} is neither 'embedded', an existing directory, nor a hub id (org/name)")
    return _download_from_hub(name, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only)


def _download_from_hub(repo_id: str, *, revision, cache_dir, local_files_only) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    offline = is_hub_offline() if local_files_only is None else local_files_only
    try:
        local = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=offline,
            allow_patterns=HUB_ALLOW_PATTERNS,
        )
    except LocalEntryNotFoundError as err:
        how = "HF_HUB_OFFLINE is set" if offline else "the hub could not be reached"
        raise ModelNotFoundError(
            f"hub model {repo_id!r} is not in the local cache and {how}; download it where the hub is reachable "
            f"(`hf download {repo_id}`) or pass a local directory"
        ) from err
    except RepositoryNotFoundError as err:
        raise ModelNotFoundError(f"hub model {repo_id!r} does not exist or is private") from err
    return Path(local)


def find_safetensors(directory: str | os.PathLike[str]) -> list[Path]:
    """Safetensors files directly in ``directory``; refuses a checkpoint that has only pickles."""
    directory = Path(directory)
    weights = sorted(directory.glob("*.safetensors"))
    if not weights:
        pickles = sorted(p.name for p in directory.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise UnsafeCheckpointError(
                f"{directory} holds only pickled weights ({', '.join(pickles)}); ctrlgen loads safetensors only. "
                "Convert them once with safetensors.torch.save_file in an environment you trust."
            )
        raise ModelNotFoundError(f"{directory} holds no *.safetensors weights")
    return weights
