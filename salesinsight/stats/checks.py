"""What every estimate checks before it fits: columns, clusters, sample sizes, and its caveats.

``association``, ``time_to_close``, ``correlations`` and the claims' rate model check their input
the same way and collect their caveats the same way (:class:`Caveats`), so they share this
module. The thresholds below are the one place where "too little data" is defined.

Thresholds
----------
MIN_ROWS = 10
    Fewer rows than this and no model is fitted: an effect, its interval and a handful of
    controls cannot be estimated from fewer, and a verdict from them would be noise.
MIN_EVENTS = 5
    Fewer events (won deals and lost ones, closes, counts) than this and no model of them is
    fitted: with four or fewer, a single deal decides the estimate.
EVENTS_PER_TERM = 10
    Below ten events of the rarer outcome per term, logit and Cox coefficients are biased away
    from no effect and their intervals too narrow (Peduzzi et al. 1996, Vittinghoff and
    McCulloch 2007); the estimate is given with a :class:`SmallSampleWarning`.
MIN_CLUSTERS = 20
    Cluster-robust errors are consistent as the clusters grow in number; below about twenty
    they are too small even with the t reference (Cameron and Miller 2015), and a bootstrap
    over so few accounts is rough. The estimate is given with a :class:`SmallSampleWarning`.
MIN_LEVEL_ROWS = 10
    A level of a categorical control seen in fewer rows is pooled: a dummy for a handful of rows
    costs a parameter, estimates nothing and can separate a logit perfectly.
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
    SmallSampleWarning,
    StatisticalWarning,
)

__all__ = [
    "EVENTS_PER_TERM",
    "MIN_CLUSTERS",
    "MIN_EVENTS",
    "MIN_LEVEL_ROWS",
    "MIN_ROWS",
    "Caveats",
    "as_names",
    "closest_columns",
    "cluster_codes",
    "require_cluster",
    "require_columns",
]

MIN_ROWS = 10
MIN_EVENTS = 5
EVENTS_PER_TERM = 10
MIN_CLUSTERS = 20
MIN_LEVEL_ROWS = 10


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


def require_cluster(data: pd.DataFrame, cluster: str | None) -> None:
    """Raise :class:`ColumnNotFoundError` if the `cluster` column is absent (None asks none).

    Examples
    --------
    >>> require_cluster(pd.DataFrame({"account_id": ["a"]}), "account_id")
    >>> require_cluster(pd.DataFrame({"account_id": ["a"]}), "acount")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.ColumnNotFoundError: Column `acount` (from `cluster`) ... Or pass `cluster=None`.
    """
    if cluster is None:
        return
    try:
        require_columns(data, [cluster], argument="cluster")
    except ColumnNotFoundError as error:
        raise ColumnNotFoundError(f"{error} Or pass `cluster=None`.") from None


def cluster_codes(
    values: pd.Series, caveats: Caveats, *, rows: str, errors: str, instead: str
) -> np.ndarray:
    """Cluster codes 0, 1, ... of `values` (no missing values), after checking their number.

    One cluster raises :class:`AnalysisError`: its scores sum to zero, so the sandwich has zero
    width, which is no interval. Fewer than :data:`MIN_CLUSTERS` warn (and note) that the
    clustered errors are approximate.

    Parameters
    ----------
    values : Series
        The cluster of each row the model uses; its name names the clusters in messages.
    caveats : Caveats
        Where the warning about few clusters is recorded.
    rows : str
        What a row is, for the messages (``"rows"``, ``"deals"``, ...).
    errors : str
        The errors at stake, e.g. ``"cluster-robust errors"``.
    instead : str
        The sentence suggesting what to do with a single cluster.

    Returns
    -------
    numpy.ndarray of int32
        32-bit codes: statsmodels finds the clusters of these by sorting, several times faster
        than the hashing numpy uses for 64-bit ones; the clusters are the same.

    Examples
    --------
    >>> accounts = pd.Series(np.repeat([f"A{i}" for i in range(25)], 2), name="account_id")
    >>> codes = cluster_codes(
    ...     accounts, Caveats(), rows="rows", errors="cluster-robust errors",
    ...     instead="Pass `cluster=None`.",
    ... )
    >>> codes[:4].tolist(), int(codes.max()) + 1
    ([0, 0, 1, 1], 25)
    """
    codes = pd.factorize(values)[0].astype(np.int32)
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    if n_clusters < 2:
        raise AnalysisError(
            f"All {len(codes)} {rows} belong to one `{values.name}` group, so clustered errors "
            f"cannot be computed. {instead}"
        )
    if n_clusters < MIN_CLUSTERS:
        caveats.warn(
            SmallSampleWarning,
            f"Only {n_clusters} clusters of `{values.name}`: {errors} are unreliable below "
            f"about {MIN_CLUSTERS}; read the intervals as approximate.",
        )
    return codes


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
        """Every remark and warning, in the order they were recorded."""
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
