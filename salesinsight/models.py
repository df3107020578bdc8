"""Machinery shared by the statistics: column checks, design matrices, caveats and tidy tables.

``association`` (:mod:`salesinsight.stats`) and ``time_to_close`` (:mod:`salesinsight.survival`)
encode predictors and controls the same way, collect their caveats the same way and report their
coefficients in the same tidy layout, so they share this module, as ``correlations``
(:mod:`salesinsight.correlation`) shares its argument checks. :func:`bh_adjust` serves every
caller that tests many claims at once.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesinsight.exceptions import (
    AnalysisError,
    ColumnNotFoundError,
    ConvergenceWarning,
    InvalidValueError,
    StatisticalWarning,
)

__all__ = [
    "MIN_CLUSTERS",
    "RATIO_COLUMNS",
    "TIDY_COLUMNS",
    "Caveats",
    "Design",
    "as_names",
    "bh_adjust",
    "build_design",
    "closest_columns",
    "require_columns",
    "tidy_coefficients",
]

TIDY_COLUMNS = ["term", "estimate", "std_err", "ci_low", "ci_high", "p_value", "n"]
RATIO_COLUMNS = ["ratio", "ratio_ci_low", "ratio_ci_high"]

# Below this many clusters, cluster-robust errors and cluster bootstraps are rough.
MIN_CLUSTERS = 20

# A level of a categorical column seen in fewer rows than this is pooled into OTHER_LEVEL: a dummy
# for a handful of rows costs a parameter, estimates nothing and can separate a logit perfectly.
MIN_LEVEL_ROWS = 10
OTHER_LEVEL = "(other)"


def closest_columns(name: str, columns: Iterable[object], *, n: int = 3) -> list[str]:
    """Return up to `n` column names that look like `name`, best match first.

    Examples
    --------
    >>> closest_columns("amout", ["amount", "account", "stage"])
    ['amount', 'account']
    """
    names = [str(c) for c in columns]
    lowered = {c.lower(): c for c in names}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def as_names(value: str | Sequence[str] | None, argument: str) -> tuple[str, ...]:
    """Column names passed as one name, a sequence of names or None, as a tuple.

    Examples
    --------
    >>> as_names("segment", "controls"), as_names(["segment", "product"], "controls")
    (('segment',), ('segment', 'product'))
    """
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    names = tuple(value)
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise InvalidValueError(
            f"`{argument}` must be column names, got {bad!r}. Pass a list of strings."
        )
    return names


def require_columns(data: pd.DataFrame, columns: Iterable[str], *, argument: str) -> None:
    """Raise :class:`ColumnNotFoundError` naming the closest columns if any of `columns` is absent.

    Examples
    --------
    >>> frame = pd.DataFrame({"amount": [1.0], "status": ["won"]})
    >>> require_columns(frame, ["amount"], argument="outcome")
    >>> require_columns(frame, ["amout"], argument="outcome")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.ColumnNotFoundError: Column `amout` (from `outcome`) not found ...
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(
            f"Expected a pandas DataFrame, got {type(data).__name__}. "
            "Pass the deals table, e.g. the output of `trust_features`."
        )
    for column in columns:
        if column in data.columns:
            continue
        close = closest_columns(column, data.columns)
        hint = (
            f"Closest: {', '.join(f'`{c}`' for c in close)}."
            if close
            else f"Available: {', '.join(f'`{c}`' for c in list(data.columns)[:12])}"
            + (", ..." if data.shape[1] > 12 else "")
            + "."
        )
        raise ColumnNotFoundError(
            f"Column `{column}` (from `{argument}`) not found in the data. {hint} "
            "Pass an existing column name."
        )


@dataclass
class Caveats:
    """Statistical caveats of one result: each is warned about and kept for the result's note."""

    lines: list[str] = field(default_factory=list)
    issued: set[type[StatisticalWarning]] = field(default_factory=set)

    def add(self, text: str) -> None:
        """Record a plain remark for the note (no warning)."""
        self.lines.append(text)

    def warn(self, category: type[StatisticalWarning], text: str) -> None:
        """Record `text` for the note and issue it as a warning of `category`."""
        self.lines.append(text)
        self.issued.add(category)
        warnings.warn(text, category, stacklevel=4)

    @property
    def note(self) -> str:
        return " ".join(self.lines)

    @contextmanager
    def translating_fit_warnings(self, what: str) -> Iterator[None]:
        """Turn statsmodels' convergence warnings raised inside the block into ours.

        Numerical overflow warnings inside a fit are dropped: they accompany the separation and
        convergence problems that are reported in words instead.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                yield
        for item in caught:
            name = item.category.__name__
            if name in {"ConvergenceWarning", "HessianInversionWarning"}:
                if ConvergenceWarning not in self.issued:
                    self.warn(
                        ConvergenceWarning,
                        f"The {what} did not converge; its estimates and standard errors are "
                        "unreliable.",
                    )
            elif name == "PerfectSeparationWarning":
                continue
            elif issubclass(item.category, RuntimeWarning):
                continue
            else:
                warnings.warn_explicit(
                    item.message, item.category, item.filename, item.lineno, source=item.source
                )


@dataclass(frozen=True)
class Design:
    """A model matrix: one float column per term, plus which terms belong to the predictor."""

    exog: pd.DataFrame
    predictor_terms: list[str]
    control_terms: list[str]


def _is_boolean(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if values.dtype == object:
        return bool(values.map(lambda v: isinstance(v, bool | np.bool_)).all())
    return False


def _encode(values: pd.Series, name: str, caveats: Caveats, *, drop_constant: bool) -> pd.DataFrame:
    """Encode one column as float terms: numbers as is, booleans 0/1, categories as dummies."""
    if _is_boolean(values):
        encoded = pd.DataFrame({name: values.astype(bool).astype(float)}, index=values.index)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        encoded = pd.DataFrame({name: values.astype(float)}, index=values.index)
    else:
        labels = values.astype(str)
        counts = labels.value_counts()
        rare = counts[counts < MIN_LEVEL_ROWS].index
        # A single rare level would only be renamed by pooling, so it keeps its own dummy.
        if len(rare) >= 2:
            labels = labels.where(~labels.isin(rare), OTHER_LEVEL)
            caveats.add(
                f"{len(rare)} rare level(s) of `{name}` (fewer than {MIN_LEVEL_ROWS} rows each) "
                f"pooled into `{OTHER_LEVEL}`."
            )
            counts = labels.value_counts()
        # The most common level is the reference, so each dummy compares with the typical deal.
        reference = sorted(counts[counts == counts.max()].index)[0]
        levels = sorted(lv for lv in counts.index if lv != reference)
        encoded = pd.DataFrame(
            {f"{name}[{lv}]": (labels == lv).astype(float) for lv in levels}, index=values.index
        )
        if levels:
            caveats.add(f"`{name}` compared with its most common level `{reference}`.")
    if drop_constant:
        constant = [c for c in encoded.columns if encoded[c].nunique() <= 1]
        if constant:
            encoded = encoded.drop(columns=constant)
            if encoded.shape[1] == 0:
                caveats.add(f"Control `{name}` is constant in these rows and was left out.")
    return encoded


def _independent_columns(exog: pd.DataFrame) -> list[str]:
    """Greedily keep the columns that are not linear combinations of the columns kept before.

    Works on the cross-product of unit-scaled columns, so the cost beyond one pass over the rows
    depends only on the number of terms.
    """
    values = exog.to_numpy(dtype=float)
    scale = np.sqrt((values**2).sum(axis=0))
    scale[scale == 0] = 1.0
    gram = (values / scale).T @ (values / scale)
    kept: list[int] = []
    for j in range(values.shape[1]):
        residual = gram[j, j]
        if kept:
            cross = gram[kept, j]
            residual -= cross @ np.linalg.solve(gram[np.ix_(kept, kept)], cross)
        if residual > 1e-9:
            kept.append(j)
    return [str(exog.columns[k]) for k in kept]


def build_design(
    frame: pd.DataFrame,
    *,
    predictor: str | None,
    controls: Sequence[str],
    caveats: Caveats,
    intercept: bool,
) -> Design:
    """Build the model matrix of `predictor` and `controls` over the rows of `frame`.

    Booleans become 0/1, numbers stay as they are, text and categories become dummies against
    their most common level (rare levels pooled). Controls that are constant or collinear with
    earlier terms are left out with a remark; a predictor that is constant or fully explained by
    the controls raises :class:`AnalysisError`.

    Examples
    --------
    >>> frame = pd.DataFrame({"repeat": [True, False] * 10, "segment": ["smb"] * 14 + ["ent"] * 6})
    >>> design = build_design(
    ...     frame, predictor="repeat", controls=["segment"], caveats=Caveats(), intercept=True
    ... )
    >>> list(design.exog.columns)
    ['Intercept', 'repeat', 'segment[ent]']
    """
    parts = []
    predictor_terms: list[str] = []
    if intercept:
        parts.append(pd.DataFrame({"Intercept": np.ones(len(frame))}, index=frame.index))
    if predictor is not None:
        encoded = _encode(frame[predictor], predictor, caveats, drop_constant=False)
        if encoded.shape[1] == 0 or all(encoded[c].nunique() <= 1 for c in encoded.columns):
            value = frame[predictor].iloc[0] if len(frame) else "nothing"
            # numpy scalars print as `np.False_`; the message shows the plain Python value.
            value = value.item() if isinstance(value, np.generic) else value
            raise AnalysisError(
                f"Predictor `{predictor}` takes a single value ({value!r}) in the "
                f"{len(frame)} rows analysed, so its effect cannot be estimated. "
                "Choose a predictor that varies, or check the filters applied before."
            )
        predictor_terms = list(encoded.columns)
        parts.append(encoded)
    for control in controls:
        parts.append(_encode(frame[control], control, caveats, drop_constant=True))
    exog = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    # The predictor goes last, so it is the one found redundant if the controls already span it.
    order = [c for c in exog.columns if c not in predictor_terms] + predictor_terms
    kept = _independent_columns(exog[order]) if exog.shape[1] else []
    if any(term not in kept for term in predictor_terms):
        raise AnalysisError(
            f"Predictor `{predictor}` is fully determined by the "
            + (f"controls ({', '.join(controls)})" if controls else "intercept")
            + " in these rows, so its own effect cannot be separated. Drop the control that "
            "duplicates it."
        )
    left_out = [c for c in exog.columns if c not in kept]
    if left_out:
        caveats.add(
            f"Term(s) {', '.join(f'`{c}`' for c in left_out)} left out: collinear with the "
            "other terms."
        )
    control_terms = [c for c in kept if c not in predictor_terms and c != "Intercept"]
    exog = exog[(["Intercept"] if intercept else []) + predictor_terms + control_terms]
    return Design(exog=exog, predictor_terms=predictor_terms, control_terms=control_terms)


def tidy_coefficients(
    params: Sequence[float] | np.ndarray,
    std_err: Sequence[float] | np.ndarray,
    conf_int: np.ndarray,
    p_values: Sequence[float] | np.ndarray,
    *,
    terms: Sequence[str],
    order: Sequence[str],
    n: int,
    ratio: bool,
) -> pd.DataFrame:
    """Arrange fitted coefficients as the tidy table, rows in `order` (a subset of `terms`).

    Examples
    --------
    >>> tidy_coefficients(
    ...     [0.1, 0.5], [0.05, 0.1], np.array([[0.0, 0.2], [0.3, 0.7]]), [0.04, 0.001],
    ...     terms=["Intercept", "x"], order=["x", "Intercept"], n=50, ratio=True,
    ... )[["term", "estimate", "ci_low", "ratio", "ratio_ci_low", "n"]].round(3)
            term  estimate  ci_low  ratio  ratio_ci_low   n
    0          x       0.5     0.3  1.649          1.35  50
    1  Intercept       0.1     0.0  1.105          1.00  50
    """
    table = pd.DataFrame(
        {
            "term": list(terms),
            "estimate": np.asarray(params, dtype=float),
            "std_err": np.asarray(std_err, dtype=float),
            "ci_low": np.asarray(conf_int, dtype=float)[:, 0],
            "ci_high": np.asarray(conf_int, dtype=float)[:, 1],
            "p_value": np.asarray(p_values, dtype=float),
        }
    )
    table["n"] = int(n)
    table = table.set_index("term").loc[list(order)].reset_index()
    if ratio:
        with np.errstate(over="ignore"):
            table["ratio"] = np.exp(table["estimate"])
            table["ratio_ci_low"] = np.exp(table["ci_low"])
            table["ratio_ci_high"] = np.exp(table["ci_high"])
    else:
        for column in RATIO_COLUMNS:
            table[column] = np.nan
    return table[TIDY_COLUMNS + RATIO_COLUMNS]


def bh_adjust(p_values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), missing values kept missing.

    Parameters
    ----------
    p_values : array-like of float
        Unadjusted p-values; NaN entries are ignored and returned as NaN.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order: ``min(1, min_{j >= i} m p_(j) / j)``.

    Examples
    --------
    >>> bh_adjust([0.01, 0.04, 0.03, np.nan, 0.2])
    array([0.04      , 0.05333333, 0.05333333,        nan, 0.2       ])
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    if not valid.any():
        return out
    if ((p[valid] < 0) | (p[valid] > 1)).any():
        raise InvalidValueError(
            "p-values must lie between 0 and 1; received values outside that range. "
            "Pass unadjusted p-values."
        )
    pv = p[valid]
    m = pv.size
    order = np.argsort(pv)
    scaled = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[valid] = result
    return out
