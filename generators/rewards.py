"""Reward scoring shared by every generator: ranking candidates and RL training use the same code.

A :class:`Reward` maps samples (plus their conditions) to one score per sample, higher is better.
:class:`CompositeReward` adds weighted terms after hard *gates* (e.g. "valid SVG"): a sample that
fails a gate scores ``-inf`` and its terms are never computed. :func:`best_of_n` ranks candidates.
Generators register their own rewards by name with :func:`register_reward`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch


@dataclasses.dataclass
class RewardOutput:
    scores: torch.Tensor  # (n,) float32
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


@runtime_checkable
class Reward(Protocol):
    name: str

    def __call__(self, samples: Sequence[Any], conditions: Sequence[Any] | None = None) -> RewardOutput: ...


def _as_scores(values: Any, n: int, name: str) -> torch.Tensor:
    scores = torch.as_tensor(np.asarray(values, dtype=np.float32)).reshape(-1)
    if scores.numel() != n:
        raise ValueError(f"reward {name!r} returned {scores.numel()} scores for {n} samples")
    return scores


def _check_conditions(samples: Sequence[Any], conditions: Sequence[Any] | None) -> None:
    if conditions is not None and len(conditions) != len(samples):
        raise ValueError(f"conditions has {len(conditions)} entries for {len(samples)} samples; pass one per sample")


class FunctionReward:
    """A reward from a function ``fn(samples, conditions) -> sequence of floats``."""

    def __init__(self, name: str, fn: Callable[[Sequence[Any], Sequence[Any] | None], Any]) -> None:
        self.name = name
        self.fn = fn

    def __call__(self, samples: Sequence[Any], conditions: Sequence[Any] | None = None) -> RewardOutput:
        _check_conditions(samples, conditions)
        return RewardOutput(scores=_as_scores(self.fn(samples, conditions), len(samples), self.name))

    def __repr__(self) -> str:
        return f"FunctionReward({self.name!r})"


@dataclasses.dataclass(frozen=True)
class Gate:
    """A hard requirement: samples whose ``reward`` score is below ``threshold`` are rejected."""

    reward: Reward
    threshold: float = 0.5


class CompositeReward:
    """Weighted sum of reward terms over the samples that pass every gate.

    Args:
        terms: ``{name: (reward, weight)}``.
        gates: rewards (threshold 0.5) or :class:`Gate` objects checked in order.
    """

    def __init__(self, terms: Mapping[str, tuple[Reward, float]], gates: Sequence[Reward | Gate] = (), name: str = "composite"):
        if not terms and not gates:
            raise ValueError("CompositeReward needs at least one term or gate")
        for term_name, pair in terms.items():
            if not (isinstance(pair, tuple) and len(pair) == 2 and callable(pair[0]) and isinstance(pair[1], int | float)):
                raise TypeError(f"terms[{term_name!r}] must be a (reward, weight) pair")
        self.terms = dict(terms)
        self.gates = [g if isinstance(g, Gate) else Gate(g) for g in gates]
        self.name = name

    def __call__(self, samples: Sequence[Any], conditions: Sequence[Any] | None = None) -> RewardOutput:
        _check_conditions(samples, conditions)
        n = len(samples)
        passed = torch.ones(n, dtype=torch.bool)
        gate_info: dict[str, torch.Tensor] = {}
        for gate in self.gates:
            index = passed.nonzero().flatten().tolist()
            ok = torch.zeros(n, dtype=torch.bool)
            if index:
                out = gate.reward([samples[i] for i in index], None if conditions is None else [conditions[i] for i in index])
                ok[index] = out.scores >= gate.threshold
            gate_info[gate.reward.name] = ok
            passed &= ok

        index = passed.nonzero().flatten().tolist()
        total = torch.full((n,), -math.inf)
        total[index] = 0.0
        term_info: dict[str, torch.Tensor] = {}
        for term_name, (reward, weight) in self.terms.items():
            values = torch.full((n,), math.nan)
            if index:
                out = reward([samples[i] for i in index], None if conditions is None else [conditions[i] for i in index])
                values[index] = out.scores.float()
                total[index] += weight * values[index]
            term_info[term_name] = values
        return RewardOutput(scores=total, info={"passed": passed, "gates": gate_info, "terms": term_info})


@dataclasses.dataclass
class BestOfN:
    """Candidates ranked best first."""

    samples: list[Any]
    scores: torch.Tensor
    indices: list[int]  # position of each ranked sample among the inputs
    info: dict[str, Any]


def best_of_n(
    samples: Sequence[Any],
    reward: Reward,
    conditions: Sequence[Any] | None = None,
    k: int | None = None,
) -> BestOfN:
    """Score ``samples`` with ``reward`` and return the best ``k`` (all by default), best first.

    Ties keep input order; NaN scores rank last.
    """
    if not samples:
        raise ValueError("best_of_n needs at least one sample")
    if k is not None and (not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive int or None, got {k!r}")
    out = reward(samples, conditions)
    scores = torch.nan_to_num(out.scores.float(), nan=-math.inf)
    order = sorted(range(len(samples)), key=lambda i: (-scores[i].item(), i))[: k or len(samples)]
    return BestOfN(
        samples=[samples[i] for i in order],
        scores=out.scores[order],
        indices=order,
        info=out.info,
    )


# -- registry -------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[..., Reward]] = {}
_BUILTIN_MODULES = ("text_image",)  # register on first registry lookup (they import torch models)


def _load_builtins() -> None:
    import importlib

    for module in _BUILTIN_MODULES:
        importlib.import_module(f"{__package__}.{module}")


def register_reward(name: str, factory: Callable[..., Reward] | None = None):
    """Register ``factory(**kwargs) -> Reward`` under ``name``; usable as a decorator."""

    def decorator(f: Callable[..., Reward]) -> Callable[..., Reward]:
        if name in _REGISTRY and _REGISTRY[name] is not f:
            raise ValueError(f"a reward named {name!r} is already registered")
        _REGISTRY[name] = f
        return f

    return decorator(factory) if factory is not None else decorator


def get_reward(name: str, **kwargs: Any) -> Reward:
    _load_builtins()
    if name not in _REGISTRY:
        raise KeyError(f"no reward named {name!r}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[name](**kwargs)


def list_rewards() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


# -- generic rewards --------------------------------------------------------------------------


@register_reward("finite")
def finite_reward() -> Reward:
    """1 when a numeric sample (tensor or array) holds no NaN or infinity, else 0: a gate."""

    def score(samples, conditions):
        return [float(np.isfinite(np.asarray(torch.as_tensor(s).detach().cpu())).all()) for s in samples]

    return FunctionReward("finite", score)


@register_reward("compactness")
def compactness_reward(scale: float = 1000.0) -> Reward:
    """``1 / (1 + len(sample) / scale)``: shorter text or sequences score higher."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return FunctionReward("compactness", lambda samples, conditions: [1.0 / (1.0 + len(s) / scale) for s in samples])
