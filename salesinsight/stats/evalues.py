"""E-values: how strong an unmeasured confounder would have to be to explain an association away.

VanderWeele and Ding (2017, *Annals of Internal Medicine* 167: 268-274) define the E-value of a
risk ratio ``RR >= 1`` as ``RR + sqrt(RR (RR - 1))`` (of ``1 / RR`` below 1): the smallest risk
ratio an unmeasured confounder would need with both the proxy and the outcome, beyond the
controls, to move the estimate to no effect. The E-value of an interval is that of its limit
nearest to no effect, and exactly 1 when the interval already covers no effect.

Other ratios are first taken to the risk-ratio scale with the paper's conversions
(:class:`Conversion`):

* rate ratios (and risk ratios) as they are;
* odds ratios: of a rare outcome (at most 15 % of the rows) as they are, of a common one
  through ``RR = sqrt(OR)``;
* hazard ratios: of an outcome rare by the end of follow-up as they are, of a common one
  through ``RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1 / HR))``;
* ratios of means of a log-scale outcome (a deal size ratio): the standardized difference
  ``d = log(ratio) / residual SD``, then ``RR = exp(0.91 d)``.

:func:`shift_e_value` gives the same figure for a *measured* control: the E-value of the change
of the estimate when that control is left out (McGowan and Greevy 2020, "observed covariate
E-values"), the yardstick to hold an E-value against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesinsight.exceptions import InvalidValueError

__all__ = [
    "COMMON_OUTCOME",
    "SCALES",
    "Conversion",
    "EValues",
    "e_value",
    "e_values",
    "shift_e_value",
]

COMMON_OUTCOME = 0.15
"""Share of rows with the outcome above which an odds or hazard ratio is converted (the paper's
rule: a rare outcome's odds and hazard ratios approximate its risk ratio)."""

SCALES = ("risk_ratio", "rate_ratio", "odds_ratio", "hazard_ratio", "mean_ratio")
"""The ratios :class:`Conversion` takes to the risk-ratio scale."""

# exp(0.91 d): the paper's approximation of a risk ratio from a standardized mean difference.
_D_FACTOR = 0.91


@dataclass(frozen=True)
class Conversion:
    """How a ratio of one kind is taken to the risk-ratio scale before its E-value.

    Attributes
    ----------
    scale : str
        One of :data:`SCALES`.
    outcome_share : float or None
        For odds and hazard ratios, the share of rows with the outcome (by the end of follow-up).
    residual_sd : float or None
        For ratios of means, the residual standard deviation of the log outcome.

    Examples
    --------
    >>> odds = Conversion("odds_ratio", outcome_share=0.4)
    >>> float(odds.risk_ratio(4.0)), odds.common
    (2.0, True)
    >>> float(Conversion("odds_ratio", outcome_share=0.05).risk_ratio(4.0))
    4.0
    """

    scale: str
    outcome_share: float | None = None
    residual_sd: float | None = None

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise InvalidValueError(
                f"Unknown ratio scale {self.scale!r}; expected one of {', '.join(SCALES)}."
            )
        if self.scale in ("odds_ratio", "hazard_ratio") and not (
            self.outcome_share is not None and 0 <= self.outcome_share <= 1
        ):
            raise InvalidValueError(
                f"An {self.scale.replace('_', ' ')} needs `outcome_share`, the share of rows with "
                f"the outcome between 0 and 1; got {self.outcome_share!r}."
            )
        if self.scale == "mean_ratio" and not (
            self.residual_sd is not None and self.residual_sd > 0
        ):
            raise InvalidValueError(
                "A ratio of means needs `residual_sd`, the positive residual standard deviation "
                f"of the log outcome; got {self.residual_sd!r}."
            )

    @property
    def common(self) -> bool:
        """Whether the outcome is common (more than 15 % of rows), so the ratio is converted."""
        return self.outcome_share is not None and self.outcome_share > COMMON_OUTCOME

    def risk_ratio(self, ratio: float | np.ndarray) -> np.ndarray:
        """The risk ratio (approximately) equivalent to `ratio`."""
        value = np.asarray(ratio, dtype=float)
        if self.scale == "mean_ratio":
            return np.exp(_D_FACTOR * np.log(value) / float(self.residual_sd or np.nan))
        if not self.common or self.scale in ("risk_ratio", "rate_ratio"):
            return value
        if self.scale == "odds_ratio":
            return np.sqrt(value)
        root = np.sqrt(value)
        return (1 - 0.5**root) / (1 - 0.5 ** (1 / root))

    def words(self) -> str:
        """The conversion in words, for a note."""
        if self.scale in ("risk_ratio", "rate_ratio"):
            return f"the {self.scale.replace('_', ' ')} taken as a risk ratio"
        if self.scale == "mean_ratio":
            return (
                "the ratio of means taken to a risk ratio as exp(0.91 d), d = log(ratio) / "
                f"{self.residual_sd:.3g} (the residual SD of the log outcome)"
            )
        share = f"{100 * float(self.outcome_share or 0.0):.0f}% of rows with the outcome"
        if not self.common:
            return f"the {self.scale.replace('_', ' ')} taken as a risk ratio (a rare outcome: {share})"
        how = (
            "sqrt(OR)"
            if self.scale == "odds_ratio"
            else "(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))"
        )
        return f"the {self.scale.replace('_', ' ')} taken to a risk ratio as {how} (a common outcome: {share})"


@dataclass(frozen=True)
class EValues:
    """The E-values of an estimate and of its interval.

    Attributes
    ----------
    point : float
        E-value of the point estimate.
    interval : float
        E-value of the interval's limit nearest to no effect; 1 where it covers no effect.
    conversion : Conversion
        How the ratios were taken to the risk-ratio scale.
    """

    point: float
    interval: float
    conversion: Conversion


def e_value(risk_ratio: float | np.ndarray) -> np.ndarray:
    """The E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))``, of ``1 / RR`` below 1.

    Examples
    --------
    >>> e_value(3.9).round(2)  # VanderWeele and Ding (2017): RR 3.9 needs 7.26
    np.float64(7.26)
    >>> float(e_value(1.0)), float(e_value(0.5)) == float(e_value(2.0))
    (1.0, True)
    """
    rr = np.asarray(risk_ratio, dtype=float)
    if (rr <= 0).any():
        raise InvalidValueError(f"Risk ratios must be positive; got {rr[rr <= 0][:3].tolist()}.")
    rr = np.where(rr < 1, 1 / rr, rr)
    return rr + np.sqrt(rr * (rr - 1))


def e_values(estimate: float, ci_low: float, ci_high: float, conversion: Conversion) -> EValues:
    """E-values of a ratio and of the limit of its interval nearest to no effect.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The ratio and its interval, on the scale `conversion` names.
    conversion : Conversion
        How the ratio is taken to the risk-ratio scale.

    Returns
    -------
    EValues

    Examples
    --------
    VanderWeele and Ding's example, a risk ratio of 3.9 (interval 1.8 to 8.7):

    >>> found = e_values(3.9, 1.8, 8.7, Conversion("risk_ratio"))
    >>> round(found.point, 2), round(found.interval, 2)
    (7.26, 3.0)

    An interval that covers no effect has E-value 1:

    >>> e_values(1.2, 0.9, 1.6, Conversion("rate_ratio")).interval
    1.0
    """
    point, low, high = conversion.risk_ratio(np.array([estimate, ci_low, ci_high]))
    if low <= 1 <= high:
        interval = 1.0
    else:
        interval = float(e_value(low if low > 1 else high))
    return EValues(point=float(e_value(point)), interval=interval, conversion=conversion)


def shift_e_value(estimate: float, without: float, conversion: Conversion) -> float:
    """The E-value of the change of a ratio when a measured control is left out.

    The ratio of the two estimates on the risk-ratio scale is the bias that control removes;
    its E-value is the strength, on the scale of :func:`e_value`, that control shows as a
    confounder (McGowan and Greevy's observed covariate E-value, from point estimates).

    Examples
    --------
    >>> round(shift_e_value(1.2, 1.5, Conversion("risk_ratio")), 2)
    1.81
    """
    rr, rr_without = conversion.risk_ratio(np.array([estimate, without]))
    return float(e_value(rr_without / rr))
