"""Save and load our own torch models as ``config.json`` plus ``model.safetensors``.

A model subclasses :class:`ModelMixin` and takes its hyper-parameters as keyword arguments;
``__init__`` must not load weights (``from_pretrained`` does that), so a model can always be
built from its config alone, as the diffusers and transformers model classes can.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any, Self

import torch
from torch import nn

from .hub import ModelNotFoundError, find_safetensors, resolve_pretrained

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class ModelMixin(nn.Module):
    """An ``nn.Module`` whose constructor arguments are its config.

    Subclasses call ``super().__init__()`` and then ``self.register_config(**kwargs)`` with the
    JSON-serialisable arguments they were built from.
    """

    config: dict[str, Any]

    def register_config(self, **kwargs: Any) -> None:
        json.dumps(kwargs)  # fail early on a config that cannot be saved
        self.config = dict(kwargs)

    @property
    def device(self) -> torch.device:
        return next(self.parameters(), torch.empty(0)).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters(), torch.empty(0)).dtype

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        from safetensors.torch import save_file

        if not hasattr(self, "config"):
            raise RuntimeError(f"{type(self).__name__} never called register_config(...) in __init__")
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"_class_name": type(self).__name__, **self.config}
        (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        # safetensors refuses tensors that share storage; contiguous clones keep tied weights saveable.
        state = {k: v.detach().contiguous().clone() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_NAME), metadata={"format": "pt"})
        return directory

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        accepted = inspect.signature(cls.__init__).parameters
        kwargs = {k: v for k, v in config.items() if not k.startswith("_")}
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
            raise ValueError(f"config for {cls.__name__} has unknown keys: {', '.join(unknown)}")
        return cls(**kwargs)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        subfolder: str | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        **resolve_kwargs: Any,
    ) -> Self:
        """Build the model from ``config.json`` and load its safetensors weights (strict)."""
        from safetensors.torch import load_file

        directory = resolve_pretrained(name_or_path, **resolve_kwargs)
        if subfolder:
            directory = directory / subfolder
        config_path = directory / CONFIG_NAME
        if not config_path.is_file():
            raise ModelNotFoundError(f"{directory} has no {CONFIG_NAME}; expected a directory written by save_pretrained")
        config = json.loads(config_path.read_text())
        saved_class = config.get("_class_name")
        if saved_class not in (None, cls.__name__):
            raise ValueError(f"{directory} holds a {saved_class}, not a {cls.__name__}")
        model = cls.from_config(config)
        state: dict[str, torch.Tensor] = {}
        for weights in find_safetensors(directory):
            state.update(load_file(str(weights)))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"weights in {directory} do not match {cls.__name__}: "
                f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
            )
        model.eval()
        return model.to(device=device, dtype=dtype) if (device or dtype) else model
