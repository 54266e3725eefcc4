"""The pipeline base class every ctrlgen generator builds on.

A pipeline owns named *components* (torch models, text encoders, tokenizers, schedulers) and
plain *config* values. ``save_pretrained(dir)`` writes ``pipeline.json`` plus one subfolder per
component (each saved by its own ``save_pretrained``); ``from_pretrained`` reverses that, loading
safetensors only. Subclasses implement ``__call__`` with numbered steps, draw every random number
through the ``generator`` argument, report progress with ``self.progress_bar`` and call
``callback_on_step_end`` once per step, following the diffusers conventions.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from torch import nn

from .hub import ModelNotFoundError, resolve_pretrained

PIPELINE_CONFIG_NAME = "pipeline.json"
# A saved pipeline.json may name classes from these libraries, or any ctrlgen ModelMixin subclass.
LOADABLE_LIBRARIES = frozenset({"generators", "svg", "motion", "editing", "transformers", "diffusers", "tokenizers"})

GeneratorArg = torch.Generator | Sequence[torch.Generator] | None
StepCallback = Callable[["Pipeline", int, Any, dict[str, Any]], dict[str, Any]]


class Pipeline:
    """Base class: component registry, save/load, device placement, progress, randomness, callbacks."""

    #: Directory of the weights shipped inside the package, used for ``from_pretrained("embedded")``.
    embedded_dir: ClassVar[Path | None] = None
    #: Components that may be ``None``.
    _optional_components: ClassVar[tuple[str, ...]] = ()
    #: Names a ``callback_on_step_end`` may ask for and replace.
    _callback_tensor_inputs: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._component_names: list[str] = []
        self.config: dict[str, Any] = {}
        self._progress_bar_config: dict[str, Any] = {}

    # -- components and config -------------------------------------------------------------

    def register_components(self, **components: Any) -> None:
        for name, component in components.items():
            if component is None and name not in self._optional_components:
                raise ValueError(f"{type(self).__name__} needs a {name!r} component, got None")
            setattr(self, name, component)
            if name not in self._component_names:
                self._component_names.append(name)

    def register_to_config(self, **values: Any) -> None:
        try:
            json.dumps(values)
        except TypeError as err:
            raise TypeError(f"pipeline config values must be JSON-serialisable: {err}") from None
        self.config.update(values)

    @property
    def components(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._component_names}

    def _modules(self) -> Iterable[nn.Module]:
        return (c for c in self.components.values() if isinstance(c, nn.Module))

    @property
    def device(self) -> torch.device:
        for module in self._modules():
            for param in module.parameters():
                return param.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        for module in self._modules():
            for param in module.parameters():
                return param.dtype
        return torch.float32

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> Self:
        """Move every torch component; returns ``self`` so calls chain."""
        if dtype is not None and not isinstance(dtype, torch.dtype):
            raise TypeError(f"dtype must be a torch.dtype, got {dtype!r}")
        if device is not None:
            device = torch.device(device)
        for module in self._modules():
            module.to(device=device, dtype=dtype)
        return self

    # -- save / load -----------------------------------------------------------------------

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        """Write ``pipeline.json`` and one subfolder per component; ``from_pretrained`` restores it."""
        from . import __version__

        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        entries: dict[str, list[str] | None] = {}
        for name, component in self.components.items():
            if component is None:
                entries[name] = None
                continue
            if not hasattr(component, "save_pretrained"):
                raise TypeError(f"component {name!r} ({type(component).__name__}) has no save_pretrained")
            component.save_pretrained(directory / name)
            entries[name] = [_library_path(component), type(component).__name__]
        config = {
            "_class_name": type(self).__name__,
            "_module": type(self).__module__,
            "_ctrlgen_version": __version__,
            "config": self.config,
            "components": entries,
        }
        (directory / PIPELINE_CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        return directory

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str] = "embedded",
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        **overrides: Any,
    ) -> Self:
        """Load a pipeline from ``"embedded"``, a directory written by ``save_pretrained``, or a hub id.

        Keyword ``overrides`` replace a saved component or config value by name.
        """
        directory = resolve_pretrained(
            name_or_path,
            embedded_dir=cls.embedded_dir,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
        )
        config_path = directory / PIPELINE_CONFIG_NAME
        if not config_path.is_file():
            raise ModelNotFoundError(f"{directory} has no {PIPELINE_CONFIG_NAME}; expected a directory written by save_pretrained")
        saved = json.loads(config_path.read_text())
        if saved.get("_class_name") != cls.__name__:
            raise ValueError(f"{directory} holds a {saved.get('_class_name')}, not a {cls.__name__}")

        accepted = inspect.signature(cls.__init__).parameters
        unknown = sorted(set(overrides) - set(accepted))
        if unknown:
            raise TypeError(f"{cls.__name__}.from_pretrained got unknown keyword arguments: {', '.join(unknown)}")

        kwargs: dict[str, Any] = {k: v for k, v in saved.get("config", {}).items() if k in accepted}
        for name, entry in saved.get("components", {}).items():
            if name in overrides:
                continue
            kwargs[name] = None if entry is None else _load_component(directory / name, *entry)
        kwargs.update(overrides)
        pipe = cls(**kwargs)
        if device is not None or dtype is not None:
            pipe.to(device, dtype)
        return pipe

    # -- progress, randomness, callbacks --------------------------------------------------

    def set_progress_bar_config(self, **kwargs: Any) -> None:
        """Options for the tqdm bar (``disable=True`` turns it off)."""
        self._progress_bar_config = dict(kwargs)

    def progress_bar(self, iterable: Iterable[Any] | None = None, total: int | None = None):
        from tqdm.auto import tqdm

        if iterable is None and total is None:
            raise ValueError("progress_bar needs an iterable or a total")
        return tqdm(iterable, total=total, **self._progress_bar_config)

    @staticmethod
    def check_generator(generator: GeneratorArg, batch_size: int) -> None:
        """A generator is one ``torch.Generator`` or a list with one per sample."""
        if generator is None or isinstance(generator, torch.Generator):
            return
        if isinstance(generator, Sequence) and all(isinstance(g, torch.Generator) for g in generator):
            if len(generator) != batch_size:
                raise ValueError(f"generator is a list of {len(generator)} generators; expected one per sample ({batch_size})")
            return
        raise TypeError(f"generator must be a torch.Generator or a list of them, got {type(generator).__name__}")

    def check_callback(self, callback: StepCallback | None, tensor_inputs: Sequence[str]) -> None:
        if callback is not None and not callable(callback):
            raise TypeError(f"callback_on_step_end must be callable, got {type(callback).__name__}")
        unknown = [name for name in tensor_inputs if name not in self._callback_tensor_inputs]
        if unknown:
            raise ValueError(
                f"callback_on_step_end_tensor_inputs has {unknown}; {type(self).__name__} offers "
                f"{list(self._callback_tensor_inputs)}"
            )

    def run_step_callback(
        self,
        callback: StepCallback | None,
        step: int,
        timestep: Any,
        tensors: dict[str, Any],
    ) -> dict[str, Any]:
        """Call ``callback(pipe, step, timestep, tensors)``; returns the (possibly replaced) tensors."""
        if callback is None:
            return tensors
        returned = callback(self, step, timestep, dict(tensors))
        if returned is None:
            return tensors
        if not isinstance(returned, dict):
            raise TypeError(f"callback_on_step_end must return a dict, got {type(returned).__name__}")
        return {**tensors, **{k: v for k, v in returned.items() if k in tensors}}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={type(c).__name__}" for name, c in self.components.items())
        return f"{type(self).__name__}({parts})"


def randn_tensor(
    shape: Sequence[int],
    generator: GeneratorArg = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Standard normal noise; with a list of generators, sample ``i`` is drawn by generator ``i``.

    Drawing per sample makes a batch equal to the same samples drawn one by one. Noise is drawn
    on the generator's device and then moved, so a CPU generator gives the same numbers anywhere.
    """
    shape = tuple(shape)
    device = torch.device(device) if device is not None else torch.device("cpu")
    if isinstance(generator, Sequence):
        if len(generator) != shape[0]:
            raise ValueError(f"got {len(generator)} generators for a batch of {shape[0]}")
        draws = [torch.randn((1, *shape[1:]), generator=g, device=g.device, dtype=dtype) for g in generator]
        return torch.cat(draws).to(device)
    gen_device = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=gen_device, dtype=dtype).to(device)


def _is_loadable(component_class: Any, module_path: str) -> bool:
    from .modeling import ModelMixin

    if not isinstance(component_class, type):
        return False
    return module_path.split(".")[0] in LOADABLE_LIBRARIES or issubclass(component_class, ModelMixin)


def _library_path(component: Any) -> str:
    module = type(component).__module__
    if not _is_loadable(type(component), module):
        raise TypeError(
            f"cannot save a {type(component).__name__} from {module!r}: components must be ctrlgen ModelMixin "
            "models or transformers/diffusers/tokenizers classes"
        )
    # transformers/diffusers/tokenizers export their classes at top level; others by full module path.
    top = module.split(".")[0]
    return top if top in {"transformers", "diffusers", "tokenizers"} else module


def _load_component(directory: Path, module_path: str, class_name: str) -> Any:
    name = f"{module_path}.{class_name}"
    if module_path.split(".")[0] not in LOADABLE_LIBRARIES and module_path not in sys.modules:
        # A file never makes us import a module; user models must be imported before loading.
        raise ValueError(f"{directory}: refusing to load {name}: import {module_path} first if you trust it")
    try:
        component_class = getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError) as err:
        raise ImportError(f"{directory}: cannot import {name} ({err})") from err
    if not _is_loadable(component_class, module_path):
        raise ValueError(f"{directory}: refusing to load {name}: not a ctrlgen model or a transformers/diffusers/tokenizers class")
    if issubclass(component_class, nn.Module) and module_path in {"transformers", "diffusers"}:
        return component_class.from_pretrained(directory, use_safetensors=True)
    return component_class.from_pretrained(directory)
