"""Experiment statistics for the rollout readout: pure functions, no database.

Always-valid inference. Managers look at the readout every day; a fixed-horizon test read
daily over a month declares a false winner far more often than its nominal 5%. Every
interval and verdict here is therefore a *confidence sequence*: a 95% interval that covers
the true difference at every look simultaneously, however often and whenever one looks.
The method is the mixture sequential probability ratio test with a normal mixing
distribution (Robbins 1970; Johari, Koomen, Pekelis & Walsh, "Always valid inference",
Operations Research 2022), used with a plug-in variance as the asymptotic confidence
sequence of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas ("Time-uniform central limit
theory and asymptotic confidence sequences", Annals of Statistics 2024). For an estimated
difference with variance v and mixing variance tau^2 the sequence is

    difference +- sqrt(v * (v + tau^2) / tau^2 * (2 log(1/alpha) + log((v + tau^2) / v)))

where tau^2 / v = k * n / n_planned grows with the sample (rho fixed in the paper's terms)
and k = -2 log(alpha) + log(1 - 2 log(alpha)) makes the interval narrowest at the planned
sample size. The price of looking at will: at the planned size the interval is about 1.55
times as wide as a fixed-horizon one, so a test needs about 1.9 times the conversations
(`sample_size_per_arm` says both).

Fixed-horizon pieces (power, sample size, normal quantiles) come from statsmodels and scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05
POWER = 0.80
MIN_PER_ARM = 20  # fewer conversations in an arm: no interval yet
METHOD = (
    "always-valid 95% confidence sequence (mixture sequential probability ratio test, "
    "normal mixture; Johari et al. 2022, Waudby-Smith et al. 2024): the stated error rate "
    "holds however often the readout is looked at"
)


@dataclass(frozen=True)
class ArmData:
    """One arm's outcome for one metric: count, mean and sample variance."""

    n: int
    mean: float
    variance: float

    @classmethod
    def from_proportion(cls, successes: int, n: int) -> ArmData:
        """A rate. The variance is taken at (s + 1) / (n + 2), so an arm with no (or only)
        successes yet does not claim zero uncertainty."""
        if n <= 0:
            return cls(n=0, mean=0.0, variance=0.0)
        smoothed = (successes + 1) / (n + 2)
        return cls(n=n, mean=successes / n, variance=smoothed * (1 - smoothed))

    @classmethod
    def from_sums(cls, n: int, total: float, total_squares: float) -> ArmData:
        """A mean of values (CSAT scores, minutes) from their count, sum and sum of squares."""
        if n <= 0:
            return cls(n=0, mean=0.0, variance=0.0)
        mean = total / n
        variance = (total_squares - n * mean * mean) / (n - 1) if n > 1 else 0.0
        return cls(n=n, mean=mean, variance=max(variance, 0.0))


@dataclass(frozen=True)
class Comparison:
    """AI-first minus control, with its always-valid interval."""

    difference: float
    low: float
    high: float
    ai: ArmData
    control: ArmData

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def mixing_ratio(alpha: float = ALPHA) -> float:
    """k = tau^2 / v at the planned sample size that makes the interval narrowest there."""
    return -2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))


def boundary(ratio: float, alpha: float = ALPHA) -> float:
    """The half-width in standard errors when tau^2 / v = `ratio`."""
    return math.sqrt((1 + ratio) / ratio * (2 * math.log(1 / alpha) + math.log(1 + ratio)))


def compare(
    ai: ArmData, control: ArmData, *, planned_total: int, alpha: float = ALPHA
) -> Comparison | None:
    """The difference of means (AI-first minus control) and its always-valid interval, or
    None while an arm has fewer than MIN_PER_ARM conversations. `planned_total` is the
    number of conversations (both arms) the phase plans for (`sample_size_per_arm`)."""
    if ai.n < MIN_PER_ARM or control.n < MIN_PER_ARM:
        return None
    difference = ai.mean - control.mean
    v = ai.variance / ai.n + control.variance / control.n
    if v <= 0:
        return Comparison(difference, difference, difference, ai, control)
    ratio = mixing_ratio(alpha) * (ai.n + control.n) / max(planned_total, 1)
    half = boundary(ratio, alpha) * math.sqrt(v)
    return Comparison(difference, difference - half, difference + half, ai, control)


@dataclass(frozen=True)
class SampleSize:
    """Conversations needed per arm to detect `effect` with `power` (control share aside)."""

    baseline: float
    effect: float
    fixed_ai: int  # a fixed-horizon test looked at once
    fixed_control: int
    ai: int  # the always-valid test the readout uses
    control: int

    @property
    def total(self) -> int:
        return self.ai + self.control


def sequential_inflation(alpha: float = ALPHA, power: float = POWER) -> float:
    """How many times the fixed-horizon sample the always-valid test needs for the same
    power (the interval is wider by the ratio of the critical values)."""
    from scipy.stats import norm  # scipy and statsmodels when first used (~80 MB)

    z_power = norm.ppf(power)
    fixed = norm.ppf(1 - alpha / 2) + z_power
    sequential = boundary(mixing_ratio(alpha), alpha) + z_power
    return (sequential / fixed) ** 2


def sample_size_per_arm(
    *,
    baseline: float,
    effect: float,
    control_share: float = 0.5,
    alpha: float = ALPHA,
    power: float = POWER,
) -> SampleSize:
    """Conversations per arm to detect a change of `effect` (a fraction: 0.03 is 3 points)
    in a rate from `baseline`, two-sided, with `control_share` of customers held back.

    The fixed-horizon size is statsmodels' normal power analysis on Cohen's h; the
    always-valid size multiplies it by `sequential_inflation`."""
    if not 0 < baseline < 1:
        raise ValueError("The baseline rate must be between 0 and 1 (exclusive).")
    if not 0 < effect < 1 or not 0 < baseline + effect < 1:
        raise ValueError("The effect must keep the rate between 0 and 1.")
    if not 0 < control_share < 1:
        raise ValueError("The control share must be between 0% and 100% (exclusive).")
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(proportion_effectsize(baseline + effect, baseline))
    ratio = control_share / (1 - control_share)  # control per AI-first conversation
    ai = NormalIndPower().solve_power(
        effect_size=h, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    fixed_ai = math.ceil(ai)
    fixed_control = math.ceil(ai * ratio)
    inflation = sequential_inflation(alpha, power)
    return SampleSize(
        baseline=baseline,
        effect=effect,
        fixed_ai=fixed_ai,
        fixed_control=fixed_control,
        ai=math.ceil(ai * inflation),
        control=math.ceil(ai * ratio * inflation),
    )


def power_at(
    *, n_ai: int, n_control: int, baseline: float, effect: float, alpha: float = ALPHA
) -> float:
    """The always-valid test's power to detect `effect` with these many conversations,
    judged at that size when it is the planned one (normal approximation)."""
    if n_ai < 1 or n_control < 1:
        return 0.0
    v = baseline * (1 - baseline) / n_control + (baseline + effect) * (1 - baseline - effect) / n_ai
    z = abs(effect) / math.sqrt(v)
    from scipy.stats import norm

    return float(norm.cdf(z - boundary(mixing_ratio(alpha), alpha)))
