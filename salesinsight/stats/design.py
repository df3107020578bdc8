"""Design matrices and tidy coefficient tables, shared by the regression and survival models.

``association`` (:mod:`salesinsight.stats.association`) and ``time_to_close``
(:mod:`salesinsight.stats.survival`) encode predictors and controls the same way
(:func:`build_design`) and report their coefficients in the same tidy layout
(:func:`tidy_coefficients`). :func:`bh_adjust` serves every caller that tests many claims at once.

Design matrices are built column-major, with their cross-product (:func:`gram_matrix`) computed
once and kept: rank checks (:func:`clearly_full_rank`) and the check that the columns are
independent read that ``k x k`` matrix instead of the ``n x k`` design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats as sps
from scipy.linalg.blas import dsyrk

from salesinsight.exceptions import AnalysisError, InvalidValueError
from salesinsight.stats.checks import MIN_LEVEL_ROWS, Caveats

__all__ = [
    "OTHER_LEVEL",
    "RATIO_COLUMNS",
    "TIDY_COLUMNS",
    "Design",
    "bh_adjust",
    "bh_levels",
    "build_design",
    "clearly_full_rank",
    "gram_matrix",
    "tidy_coefficients",
]

TIDY_COLUMNS = ["term", "estimate", "std_err", "ci_low", "ci_high", "p_value", "n"]
RATIO_COLUMNS = ["ratio", "ratio_ci_low", "ratio_ci_high"]

# Levels of a categorical column seen in fewer than MIN_LEVEL_ROWS rows are pooled into this one.
OTHER_LEVEL = "(other)"


@dataclass(frozen=True)
class Design:
    """A model matrix: one float column per term, plus which terms belong to the predictor.

    ``gram`` is the cross-product ``X'X`` of the columns, computed once while they are checked
    for independence (from the columns less their means, the intercept left as it is, which
    keeps it accurate when a column's mean dwarfs its spread) and kept for rank checks.
    """

    exog: pd.DataFrame
    predictor_terms: list[str]
    control_terms: list[str]
    gram: np.ndarray


def _is_boolean(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if values.dtype == object:
        return bool(values.map(lambda v: isinstance(v, bool | np.bool_)).all())
    return False


def _varies(column: np.ndarray) -> bool:
    """Whether `column` takes more than one value, missing values aside."""
    present = column[~np.isnan(column)]
    return bool(len(present)) and bool(present.min() != present.max())


def _encode(
    values: pd.Series, name: str, caveats: Caveats, *, drop_constant: bool
) -> dict[str, np.ndarray]:
    """Encode one column as float terms: numbers as is, booleans 0/1, categories as dummies."""
    if _is_boolean(values):
        encoded = {name: values.astype(bool).to_numpy(dtype=float)}
    elif pd.api.types.is_numeric_dtype(values.dtype):
        encoded = {name: values.to_numpy(dtype=float, na_value=np.nan)}
    else:
        encoded = _dummies(values, name, caveats)
    if drop_constant:
        constant = [term for term, column in encoded.items() if not _varies(column)]
        for term in constant:
            del encoded[term]
        if constant and not encoded:
            caveats.add(f"Control `{name}` is constant in these rows and was left out.")
    return encoded


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes of the values as text (-1 where missing), and the text of each code."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = [str(level) for level in values.cat.categories]
        # Categories that read the same as text are one level, as they are after astype(str).
        if len(set(levels)) == len(levels):
            return values.cat.codes.to_numpy(), levels
    codes, uniques = pd.factorize(values.astype(str))
    return codes, [str(level) for level in uniques]


def _dummies(values: pd.Series, name: str, caveats: Caveats) -> dict[str, np.ndarray]:
    """One 0/1 column per level but the most common (the reference); rare levels pooled."""
    codes, levels = _codes(values)
    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    rare = [code for code, count in enumerate(counts) if 0 < count < MIN_LEVEL_ROWS]
    # A single rare level would only be renamed by pooling, so it keeps its own dummy.
    if len(rare) >= 2:
        if OTHER_LEVEL not in levels:
            levels.append(OTHER_LEVEL)
        recode = np.arange(len(levels))
        recode[rare] = levels.index(OTHER_LEVEL)
        codes = np.where(codes >= 0, recode[codes], -1)
        caveats.add(
            f"{len(rare)} rare level(s) of `{name}` (fewer than {MIN_LEVEL_ROWS} rows each) "
            f"pooled into `{OTHER_LEVEL}`."
        )
        counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    seen = {levels[code]: code for code in np.flatnonzero(counts)}
    # The most common level is the reference, so each dummy compares with the typical deal.
    reference = sorted(level for level, code in seen.items() if counts[code] == counts.max())[0]
    others = sorted(level for level in seen if level != reference)
    if others:
        caveats.add(f"`{name}` compared with its most common level `{reference}`.")
    return {f"{name}[{level}]": (codes == seen[level]).astype(float) for level in others}


_BLOCK_ROWS = 8192


def gram_matrix(
    values: np.ndarray, *, weights: np.ndarray | None = None, center: np.ndarray | None = None
) -> np.ndarray:
    """``X' diag(weights) X`` of ``X = values - center``, a block of rows at a time.

    BLAS ``syrk`` fills one triangle (half the work of a matrix product); blocks of rows keep
    the weighted or centred copy small instead of one the size of `values`.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(3, 2)
    >>> bool(np.array_equal(gram_matrix(x), x.T @ x))
    True
    >>> w = np.array([1.0, 2.0, 0.5])
    >>> bool(np.allclose(gram_matrix(x, weights=w, center=x.mean(axis=0)),
    ...                  (x - x.mean(axis=0)).T @ (w[:, None] * (x - x.mean(axis=0)))))
    True
    """
    k = values.shape[1]
    upper = np.zeros((k, k), order="F")
    if not values.size:
        return upper
    root = None if weights is None else np.sqrt(weights)
    for start in range(0, len(values), _BLOCK_ROWS):
        block = values[start : start + _BLOCK_ROWS]
        if center is not None:
            block = block - center
        if root is not None:
            block = block * root[start : start + _BLOCK_ROWS, None]
        upper = dsyrk(1.0, np.asfortranarray(block), beta=1.0, c=upper, trans=1, overwrite_c=1)
    return np.triu(upper) + np.triu(upper, 1).T


def clearly_full_rank(gram: np.ndarray) -> bool:
    """Whether the matrix with cross-product `gram` has full column rank beyond doubt.

    Its smallest singular value is then above 1e-4 of the largest, far above any rank tolerance
    (``matrix_rank`` counts values above about ``1e-10`` of the largest for a million rows)
    and above the rounding of the cross-product, so a QR or SVD of the matrix itself would
    find full rank too. Nearly singular designs answer False and get the full check.

    Examples
    --------
    >>> x = np.column_stack([np.ones(4), [1.0, 2.0, 3.0, 5.0]])
    >>> clearly_full_rank(x.T @ x), clearly_full_rank(np.ones((2, 2)))
    (True, False)
    """
    if not gram.size or not np.isfinite(gram).all():
        return False
    eigenvalues = np.linalg.eigvalsh(gram)
    return bool(eigenvalues[0] > 1e-8 * eigenvalues[-1] > 0)


def _independent(gram: np.ndarray, order: Sequence[int]) -> list[int]:
    """Greedily keep the columns, in `order`, that are not linear combinations of the columns
    kept before, judged on the cross-product of unit-scaled columns."""
    scale = np.sqrt(np.diag(gram))
    scale[scale == 0] = 1.0
    scaled = gram / np.outer(scale, scale)
    kept: list[int] = []
    for j in order:
        residual = scaled[j, j]
        if kept:
            cross = scaled[kept, j]
            residual -= cross @ np.linalg.solve(scaled[np.ix_(kept, kept)], cross)
        if residual > 1e-9:
            kept.append(j)
    return kept


def _encoded_columns(
    frame: pd.DataFrame,
    predictor: str | None,
    controls: Sequence[str],
    caveats: Caveats,
    intercept: bool,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every term's column (intercept, predictor, controls), and the predictor's terms."""
    columns: dict[str, np.ndarray] = {}
    predictor_terms: list[str] = []
    if intercept:
        columns["Intercept"] = np.ones(len(frame))
    if predictor is not None:
        encoded = _encode(frame[predictor], predictor, caveats, drop_constant=False)
        if not any(_varies(column) for column in encoded.values()):
            value = frame[predictor].iloc[0] if len(frame) else "nothing"
            # numpy scalars print as `np.False_`; the message shows the plain Python value.
            value = value.item() if isinstance(value, np.generic) else value
            raise AnalysisError(
                f"Predictor `{predictor}` takes a single value ({value!r}) in the "
                f"{len(frame)} rows analysed, so its effect cannot be estimated. "
                "Choose a predictor that varies, or check the filters applied before."
            )
        predictor_terms = list(encoded)
        columns.update(encoded)
    for control in controls:
        columns.update(_encode(frame[control], control, caveats, drop_constant=True))
    return columns, predictor_terms


def _cross_product(values: np.ndarray, intercept: bool) -> np.ndarray:
    """``X'X``, from the columns less their means (the intercept, first, left as it is)."""
    shift = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
    if intercept:
        shift[0] = 0.0
    shifted_gram = gram_matrix(values, center=shift)
    n = len(values)
    # Z'1 = n (mean - shift): n in the intercept's column, zero in the centred ones.
    sums = np.zeros(values.shape[1])
    if intercept:
        sums[0] = n
    cross = np.outer(sums, shift)
    return shifted_gram + cross + cross.T + n * np.outer(shift, shift)


def _kept_terms(
    gram: np.ndarray,
    names: list[str],
    predictor: str | None,
    predictor_terms: list[str],
    controls: Sequence[str],
    caveats: Caveats,
) -> list[str]:
    """The control terms kept, in order: those collinear with earlier terms are left out with a
    remark, and a predictor the other terms determine raises :class:`AnalysisError`."""
    # The predictor goes last, so it is the one found redundant if the controls already span it.
    first = [j for j, c in enumerate(names) if c not in predictor_terms]
    kept = _independent(gram, first + [names.index(t) for t in predictor_terms])
    if any(names.index(term) not in kept for term in predictor_terms):
        raise AnalysisError(
            f"Predictor `{predictor}` is fully determined by the "
            + (f"controls ({', '.join(controls)})" if controls else "intercept")
            + " in these rows, so its own effect cannot be separated. Drop the control that "
            "duplicates it."
        )
    left_out = [c for j, c in enumerate(names) if j not in kept]
    if left_out:
        caveats.add(
            f"Term(s) {', '.join(f'`{c}`' for c in left_out)} left out: collinear with the "
            "other terms."
        )
    return [c for c in names if c not in left_out + predictor_terms + ["Intercept"]]


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
    >>> design.gram[0].tolist()
    [20.0, 10.0, 6.0]
    """
    columns, predictor_terms = _encoded_columns(frame, predictor, controls, caveats, intercept)
    names = list(columns)
    # Column-major, so that each term is one contiguous column and BLAS reads it without a copy.
    values = np.empty((len(frame), len(names)), order="F")
    for j, column in enumerate(columns.values()):
        values[:, j] = column
    gram = _cross_product(values, intercept)
    control_terms = _kept_terms(gram, names, predictor, predictor_terms, controls, caveats)
    final = (["Intercept"] if intercept else []) + predictor_terms + control_terms
    index = [names.index(c) for c in final]
    if index != list(range(len(names))):
        values = np.asfortranarray(values[:, index])
        gram = gram[np.ix_(index, index)]
    return Design(
        exog=pd.DataFrame(values, index=frame.index, columns=final, copy=False),
        predictor_terms=predictor_terms,
        control_terms=control_terms,
        gram=gram,
    )


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


def bh_levels(
    p_values: Sequence[float] | np.ndarray, adjusted: Sequence[float] | np.ndarray, alpha: float
) -> np.ndarray:
    """The level of each test's interval that matches its Benjamini-Hochberg adjustment.

    ``alpha * p / q`` for an adjusted p-value ``q`` above 0, else ``alpha * k / m`` for the test
    ranked ``k`` of ``m``: an interval at that level excludes no effect exactly when ``q <
    alpha``.

    Examples
    --------
    >>> bh_levels([0.01, 0.04, 0.0], [0.015, 0.04, 0.0], 0.05).round(4).tolist()
    [0.0333, 0.05, 0.0167]
    """
    p = np.asarray(p_values, dtype=float)
    q = np.asarray(adjusted, dtype=float)
    rank = sps.rankdata(p, method="ordinal")
    return np.where(q > 0, alpha * p / np.where(q > 0, q, 1.0), alpha * rank / len(p))
