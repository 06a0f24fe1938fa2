"""Simulated experiments judged by the readout's own code (`stats.compare`), for
`rollout_simulate`: the false-positive rate with no true effect (judged once, and judged
every day for 30 days), and the power at a true lift."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stats import ArmData, compare, sample_size_per_arm


@dataclass(frozen=True)
class Scenario:
    baseline: float
    lift: float
    per_arm: int  # conversations per arm by the end
    days: int = 30


def _detected(rng: np.random.Generator, s: Scenario, planned_total: int, every_day: bool) -> bool:
    per_day = np.full(s.days, s.per_arm // s.days)
    per_day[: s.per_arm - per_day.sum()] += 1
    ai = rng.binomial(per_day, s.baseline + s.lift)
    control = rng.binomial(per_day, s.baseline)
    looks = range(1, s.days + 1) if every_day else [s.days]
    for day in looks:
        n = int(per_day[:day].sum())
        result = compare(
            ArmData.from_proportion(int(ai[:day].sum()), n),
            ArmData.from_proportion(int(control[:day].sum()), n),
            planned_total=planned_total,
        )
        if result is not None and result.significant:
            return True
    return False


def detection_rate(
    scenario: Scenario, *, runs: int, every_day: bool, seed: int, planned_total: int
) -> float:
    rng = np.random.default_rng(seed)
    hits = sum(_detected(rng, scenario, planned_total, every_day) for _ in range(runs))
    return hits / runs


def planned_total_for(baseline: float, effect: float) -> int:
    """What the phase would plan for: the always-valid test's size for `effect` at 50/50."""
    return sample_size_per_arm(baseline=baseline, effect=effect, control_share=0.5).total
