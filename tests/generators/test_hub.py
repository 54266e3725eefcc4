"""Resolving model names: embedded, local directories, hub ids through the real HF cache layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny_pipeline import TinyDenoiser

from generators import ModelMixin, ModelNotFoundError, UnsafeCheckpointError, resolve_pretrained
from generators.hub import find_safetensors, looks_like_hub_id


def fake_hub_cache(cache: Path, repo_id: str, files: dict[str, bytes], commit: str = "a" * 40) -> Path:
    """The layout huggingface_hub writes after a download: refs/main -> snapshots/<commit>/files."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)
    return snapshot


def test_local_directory_and_embedded(tmp_path):
    assert resolve_pretrained(tmp_path) == tmp_path
    assert resolve_pretrained("embedded", embedded_dir=tmp_path) == tmp_path
    with pytest.raises(ModelNotFoundError, match="ships no embedded weights"):
        resolve_pretrained("embedded")


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("./no/such/dir", ModelNotFoundError, "neither 'embedded', an existing directory, nor a hub id"),
        ("", ValueError, "got an empty string"),
        (42, TypeError, "got int"),
    ],
)
def test_bad_names(name, error, message):
    with pytest.raises(error, match=message):
        resolve_pretrained(name)


def test_a_file_is_not_a_checkpoint(tmp_path):
    (tmp_path / "weights.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="is a file; expected a directory"):
        resolve_pretrained(tmp_path / "weights.safetensors")


def test_hub_id_offline_and_not_cached_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="not in the local cache and HF_HUB_OFFLINE is set"):
        resolve_pretrained("ctrlgen/absent-model", cache_dir=tmp_path)


def test_hub_id_loads_from_the_cache_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved = TinyDenoiser(sample_dim=4, text_dim=3, hidden_dim=5).save_pretrained(tmp_path / "src")
    files = {p.name: p.read_bytes() for p in saved.iterdir()}
    snapshot = fake_hub_cache(tmp_path / "cache", "ctrlgen/tiny-denoiser", files)
    assert resolve_pretrained("ctrlgen/tiny-denoiser", cache_dir=tmp_path / "cache") == snapshot
    model = TinyDenoiser.from_pretrained("ctrlgen/tiny-denoiser", cache_dir=tmp_path / "cache")
    for a, b in zip(model.state_dict().values(), TinyDenoiser.from_pretrained(saved).state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_pickled_weights_are_refused(tmp_path):
    torch.save({"w": torch.zeros(1)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(UnsafeCheckpointError, match="holds only pickled weights"):
        find_safetensors(tmp_path)


def test_model_mixin_round_trip_and_strict_loading(tmp_path):
    model = TinyDenoiser(sample_dim=4, text_dim=3, hidden_dim=5)
    model.save_pretrained(tmp_path / "m")
    loaded = TinyDenoiser.from_pretrained(tmp_path / "m", dtype=torch.float64)
    assert loaded.config == model.config and loaded.dtype == torch.float64
    other = TinyDenoiser(sample_dim=4, text_dim=3, hidden_dim=6)
    other.save_pretrained(tmp_path / "other")
    (tmp_path / "m" / "model.safetensors").write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    with pytest.raises(RuntimeError, match="size mismatch"):
        TinyDenoiser.from_pretrained(tmp_path / "m")

    class Unrelated(ModelMixin):
        def __init__(self, width: int = 1):
            super().__init__()
            self.register_config(width=width)

    with pytest.raises(ValueError, match="holds a TinyDenoiser, not a Unrelated"):
        Unrelated.from_pretrained(tmp_path / "m")


def test_hub_id_pattern():
    assert looks_like_hub_id("openai/clip-vit-large-patch14")
    assert not looks_like_hub_id("./local/dir") and not looks_like_hub_id("/abs/path") and not looks_like_hub_id("noslash")
