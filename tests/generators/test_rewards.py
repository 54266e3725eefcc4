"""Rewards: function rewards, gated composites, best-of-N ranking and the registry."""

from __future__ import annotations

import math

import pytest
import torch

from generators import (
    CompositeReward,
    FunctionReward,
    Gate,
    best_of_n,
    get_reward,
    list_rewards,
    register_reward,
)


def length_reward():
    return FunctionReward("length", lambda samples, conditions: [len(s) for s in samples])


def test_function_reward_checks_counts():
    with pytest.raises(ValueError, match="returned 1 scores for 2 samples"):
        FunctionReward("bad", lambda s, c: [1.0])(["a", "b"])
    with pytest.raises(ValueError, match="conditions has 1 entries for 2 samples"):
        length_reward()(["a", "b"], conditions=["x"])


def test_composite_gates_before_scoring():
    seen = []

    def expensive(samples, conditions):
        seen.extend(samples)
        return [1.0] * len(samples)

    valid = FunctionReward("valid", lambda samples, conditions: [float(not s.startswith("bad")) for s in samples])
    composite = CompositeReward(
        {"length": (length_reward(), 0.5), "expensive": (FunctionReward("expensive", expensive), 2.0)},
        gates=[valid, Gate(FunctionReward("short", lambda s, c: [10 - len(x) for x in s]), threshold=0)],
    )
    out = composite(["ok", "bad one", "toolongtoolong", "fine"])
    assert out.scores[0].item() == pytest.approx(0.5 * 2 + 2.0)
    assert out.scores[1].item() == -math.inf and out.scores[2].item() == -math.inf
    assert seen == ["ok", "fine"], "gated-out samples were scored"
    assert out.info["passed"].tolist() == [True, False, False, True]
    assert out.info["gates"]["valid"].tolist() == [True, False, True, True]
    assert math.isnan(out.info["terms"]["length"][1].item())


def test_composite_argument_checks():
    with pytest.raises(ValueError, match="at least one term or gate"):
        CompositeReward({})
    with pytest.raises(TypeError, match=r"terms\['x'\] must be a \(reward, weight\) pair"):
        CompositeReward({"x": length_reward()})


def test_best_of_n_ranks_with_stable_ties_and_nan_last():
    reward = FunctionReward("given", lambda samples, conditions: [s[1] for s in samples])
    samples = [("a", 1.0), ("b", float("nan")), ("c", 3.0), ("d", 1.0)]
    ranked = best_of_n(samples, reward)
    assert [s[0] for s in ranked.samples] == ["c", "a", "d", "b"] and ranked.indices == [2, 0, 3, 1]
    assert [s[0] for s in best_of_n(samples, reward, k=2).samples] == ["c", "a"]
    with pytest.raises(ValueError, match="at least one sample"):
        best_of_n([], reward)
    with pytest.raises(ValueError, match="k must be a positive int"):
        best_of_n(samples, reward, k=0)


def test_registry_and_generic_rewards():
    assert {"finite", "compactness"} <= set(list_rewards())
    finite = get_reward("finite")
    assert finite([torch.ones(3), torch.tensor([1.0, float("nan")])]).scores.tolist() == [1.0, 0.0]
    compact = get_reward("compactness", scale=10)
    assert compact(["", "x" * 10]).scores.tolist() == [1.0, 0.5]
    with pytest.raises(KeyError, match="no reward named 'nope'"):
        get_reward("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_reward("finite", lambda: length_reward())
