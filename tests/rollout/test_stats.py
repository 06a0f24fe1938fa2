"""The readout's statistics against values computed independently: the sample size against
the closed-form normal-approximation formula, the confidence sequence against a numerical
inversion of the mixture likelihood ratio it comes from, and its error rate under daily
looks by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.stats import norm

from supportops.rollout import stats


def test_fixed_horizon_sample_size_matches_the_arcsine_formula():
    # Two proportions 0.50 vs 0.53, two-sided 5%, 80% power, equal arms: with Cohen's h the
    # size per arm is 2 * ((z_0.975 + z_0.8) / h)^2 (Cohen 1988, ch. 6).
    h = 2 * math.asin(math.sqrt(0.53)) - 2 * math.asin(math.sqrt(0.50))
    expected = 2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2
    size = stats.sample_size_per_arm(baseline=0.50, effect=0.03, control_share=0.5)
    assert size.fixed_ai == math.ceil(expected) == size.fixed_control
    assert 4350 < expected < 4370  # the textbook ~4,360 per arm for 3 points at 50%
    # Unequal arms: 20% control needs more in total, fewer AI-first than control * 4.
    skewed = stats.sample_size_per_arm(baseline=0.50, effect=0.03, control_share=0.2)
    assert skewed.fixed_control == math.ceil(expected / 2 * (1 + 0.25))
    assert skewed.total > size.total


def test_the_always_valid_size_is_the_fixed_one_times_the_critical_value_ratio():
    k = -2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))
    c = math.sqrt((1 + k) / k * (2 * math.log(20) + math.log(1 + k)))
    ratio = ((c + norm.ppf(0.8)) / (norm.ppf(0.975) + norm.ppf(0.8))) ** 2
    assert stats.sequential_inflation() == pytest.approx(ratio)
    h = 2 * math.asin(math.sqrt(0.53)) - 2 * math.asin(math.sqrt(0.50))
    fixed = 2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2
    size = stats.sample_size_per_arm(baseline=0.5, effect=0.03)
    assert size.ai == pytest.approx(math.ceil(fixed * ratio), abs=1)
    assert 1.8 < ratio < 2.0


def test_the_interval_is_where_the_mixture_likelihood_ratio_stays_below_one_over_alpha():
    """Invert the mSPRT statistic numerically: the likelihood ratio of the estimate under a
    normal mixture of alternatives against the null value theta0, integrated with scipy."""
    ai = stats.ArmData(n=900, mean=0.62, variance=0.62 * 0.38)
    control = stats.ArmData(n=300, mean=0.55, variance=0.55 * 0.45)
    comparison = stats.compare(ai, control, planned_total=2000)
    v = ai.variance / ai.n + control.variance / control.n
    tau2 = stats.mixing_ratio() * 1200 / 2000 * v
    estimate = ai.mean - control.mean

    def likelihood_ratio(theta0: float) -> float:
        def integrand(theta: float) -> float:
            return norm.pdf(estimate, theta, math.sqrt(v)) * norm.pdf(
                theta, theta0, math.sqrt(tau2)
            )

        spread = 12 * math.sqrt(tau2)
        mixed, _ = integrate.quad(integrand, theta0 - spread, theta0 + spread, points=[estimate])
        return mixed / norm.pdf(estimate, theta0, math.sqrt(v))

    def edge(theta0: float) -> float:
        return likelihood_ratio(theta0) - 1 / 0.05

    low = optimize.brentq(edge, estimate - 1, estimate)
    high = optimize.brentq(edge, estimate, estimate + 1)
    assert comparison.low == pytest.approx(low, abs=1e-6)
    assert comparison.high == pytest.approx(high, abs=1e-6)
    assert comparison.significant == (low > 0 or high < 0)


def test_daily_looks_at_no_effect_rarely_declare_a_winner():
    rng = np.random.default_rng(2024)
    false, runs = 0, 400
    for _ in range(runs):
        daily = rng.binomial(100, 0.6, size=(30, 2))
        found = False
        for day in range(1, 31):
            s = daily[:day].sum(axis=0)
            n = 100 * day
            c = stats.compare(
                stats.ArmData.from_proportion(int(s[0]), n),
                stats.ArmData.from_proportion(int(s[1]), n),
                planned_total=6000,
            )
            if c is not None and c.significant:
                found = True
                break
        false += found
    assert false / runs <= 0.06


def test_too_few_conversations_give_no_interval_and_bad_inputs_are_refused():
    assert (
        stats.compare(
            stats.ArmData.from_proportion(5, 10),
            stats.ArmData.from_proportion(5, 10),
            planned_total=100,
        )
        is None
    )
    with pytest.raises(ValueError):
        stats.sample_size_per_arm(baseline=0.99, effect=0.03)
    with pytest.raises(ValueError):
        stats.sample_size_per_arm(baseline=0.5, effect=0.03, control_share=0)
