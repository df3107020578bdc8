"""Score the book's claims against the data: every claim, proxy and outcome, naive and controlled.

:func:`evaluate_claims` runs the test each claim of :data:`~salesinsight.claims.registry.CLAIMS`
names (``association`` for deal size, win rate and price, ``time_to_close`` for speed, a
pseudo-Poisson rate model on :func:`account_years` for what a relationship yields per year), once
without controls and once with them, adjusts for the number of tests with Benjamini-Hochberg and
gives each row a verdict. A claim the data cannot test gets a row that says what is missing.

The verdict rule. With ``m`` tested rows, row ``i`` with p-value ``p_i`` and BH-adjusted p-value
``q_i`` gets the Wald interval at level ``1 - alpha * p_i / q_i`` (``1 - alpha * rank_i / m``
before BH's monotone step; never narrower than that, never wider than needed), computed with the
row's own reference distribution (normal, or Student t for least squares). That interval excludes
no effect exactly when ``q_i < alpha``. A row is *supported* when the interval lies wholly on the
side the claim predicts, *contradicted* when it lies wholly on the other side, and *inconclusive*
otherwise. ``ci_low`` and ``ci_high`` in the scorecard are these adjusted intervals.

Each row with an estimate then carries its sensitivity to unmeasured confounding and, where it
supports a claim, its stability over the years (:mod:`salesinsight.claims.robustness`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from salesinsight.claims.fits import (
    Fit,
    fit_association,
    fit_cox,
    fit_lost_on_price,
    fit_price,
    fit_quote,
    fit_rate,
)
from salesinsight.claims.narrative import listed
from salesinsight.claims.panel import account_years
from salesinsight.claims.registry import (
    CLAIMS,
    CONTROL_WORDS,
    FIELD_HINTS,
    OUTCOMES,
    PROXIES,
    Claim,
    Outcome,
    Proxy,
)
from salesinsight.claims.robustness import Refit, add_robustness
from salesinsight.claims.scorecard import TABLE_COLUMNS, Scorecard
from salesinsight.claims.stages import STAGE_COLUMNS, stage_note, stage_rows
from salesinsight.exceptions import (
    InvalidValueError,
    SalesInsightError,
    StatisticalWarning,
)
from salesinsight.schemas import LEAD_SOURCE_GROUPS
from salesinsight.stats.checks import require_columns
from salesinsight.stats.design import bh_levels

__all__ = ["AUTO_CONTROLS", "evaluate_claims"]

# Account size and creation year as trust_features derives them (its CONTROL_COLUMNS), the others
# as the export carries them.
AUTO_CONTROLS = ("log_employees", "product", "industry", "segment", "created_year")
#: The account size control of an export with annual revenue and no head count.
SIZE_STAND_IN = "log_annual_revenue"
REACTIVE_SOURCES = ("inbound", "existing_customer")
SOURCE_FLAGS = ("is_referral", "rep_initiated")
# A deal is proactive when the rep initiated it or it brings a product new to the account.
PROACTIVE_PARTS = ["rep_initiated", "is_new_product_for_account"]
# Columns each outcome reads, besides the proxy (deal-level) or the panel's own columns.
OUTCOME_NEEDS = {
    "amount": ("amount", "status"),
    "won": ("won",),
    "time_to_close": ("duration_days", "closed"),
    "time_to_win": ("duration_days", "closed", "won"),
    "price_realisation": ("list_price", "amount", "status"),
    "quote_realisation": ("first_amount", "amount", "status"),
    "lost_on_price": ("lost_on_price", "status"),
    "proactive_deal": ("proactive_deal", "relationship_days"),
    "proactive_opportunities": ("proactive_deal",),
    "opportunities": (),
    "won_revenue": ("amount",),
}
PANEL_OUTCOMES = ("proactive_opportunities", "opportunities", "won_revenue")
# Outcomes read from a stage history: left out of the scorecard when none was given.
HISTORY_OUTCOMES = ("quote_realisation",)
# Panel columns standing for the deal-level proxies, and for the deal-level controls.
PANEL_PROXIES = {
    "prior_won_deals": "prior_won_deals",
    "relationship_days": "relationship_years",
    "is_repeat_customer": "is_repeat_customer",
}
PANEL_CONTROLS = {"log_employees": "log_employees", "industry": "industry", "segment": "segment"}
# Columns the deal-level fits may read besides the proxy, the controls, the cluster and the
# columns their outcome needs (a won flag from `status`, durations from `duration_days`).
FIT_COLUMNS = ("status", "won", "closed", "duration_days")


def _missing(data: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Columns absent from `data` or without a single value."""
    return [c for c in columns if c not in data.columns or data[c].notna().sum() == 0]


def _is_true(values: pd.Series) -> pd.Series:
    return values.astype("boolean").fillna(False).astype(bool)


def _resolve_controls(data: pd.DataFrame, controls: Any) -> tuple[tuple[str, ...], list[str]]:
    if controls is None:
        return (), []
    if isinstance(controls, str) and controls == "auto":
        missing = _missing(data, AUTO_CONTROLS)
        if "log_employees" in missing and not _missing(data, [SIZE_STAND_IN]):
            # No head count: annual revenue stands in for account size.
            missing.remove("log_employees")
            swapped = [SIZE_STAND_IN if c == "log_employees" else c for c in AUTO_CONTROLS]
            return tuple(c for c in swapped if c not in missing), missing
        return tuple(c for c in AUTO_CONTROLS if c not in missing), missing
    names = (controls,) if isinstance(controls, str) else tuple(controls)
    bad = [c for c in names if not isinstance(c, str)]
    if bad:
        raise InvalidValueError(
            f'`controls` must be "auto", None or column names; got {bad!r}. Pass e.g. '
            '`controls=["log_employees", "segment"]`.'
        )
    require_columns(data, names, argument="controls")
    return names, []


def _prepared(data: pd.DataFrame) -> pd.DataFrame:
    """A working copy: proxies rescaled to their units, period as a category."""
    # Copy-on-write: the working frame gains columns without copying or touching the caller's.
    work = data.copy(deep=False)
    if "created_year" in work.columns:
        # Years as categories: trust accumulates with calendar time, so the period is adjusted
        # for level by level rather than as a straight trend.
        work["created_year"] = work["created_year"].astype("Int64").astype(str)
    if "lead_source_group" in work.columns:
        group = work["lead_source_group"].astype(str).where(work["lead_source_group"].notna())
        if not group.isin(LEAD_SOURCE_GROUPS[:-1]).any():
            # An export without lead sources maps every deal to "unknown": the flags derived
            # from it would read False everywhere, which is not the same as knowing.
            unknown = [c for c in ("lead_source_group", *SOURCE_FLAGS) if c in work.columns]
            work[unknown] = pd.NA
    present = [c for c in PROACTIVE_PARTS if not _missing(work, [c])]
    if present:
        proactive = work[present[0]].astype("boolean")
        for column in present[1:]:
            proactive = proactive | work[column].astype("boolean")
        work["proactive_deal"] = proactive.astype("Float64").astype(float)
    for proxy in PROXIES.values():
        if proxy.per != 1.0 and proxy.column in work.columns:
            values = pd.to_numeric(work[proxy.column], errors="coerce").astype(float)
            work[proxy.scaled] = values / proxy.per
    # Clusters and categorical controls as categories: every fit factorises them and takes row
    # subsets of them, which is cheaper on integer codes than on text.
    for column in ("account_id", "owner", *AUTO_CONTROLS):
        if column in work.columns and isinstance(work[column].dtype, pd.StringDtype):
            work[column] = work[column].astype("category")
    return work


def _snapshot(work: pd.DataFrame) -> pd.Timestamp | None:
    """The `as_of` the features were computed at: where open deals' durations end."""
    if _missing(work, ["created_at", "duration_days", "closed"]):
        return None
    created = pd.to_datetime(work["created_at"])
    still_open = work["closed"].astype("boolean").eq(False).fillna(False).astype(bool)
    ends = created[still_open] + pd.to_timedelta(work.loc[still_open, "duration_days"], unit="D")
    latest = [created.max(), ends.max()]
    if "closed_at" in work.columns:
        latest.append(pd.to_datetime(work["closed_at"]).max())
    return max(t for t in latest if pd.notna(t))


def _cluster_for(work: pd.DataFrame, claim: Claim) -> tuple[str | None, str]:
    cluster = "owner" if claim.id == "K6" else "account_id"
    if _missing(work, [cluster]):
        return None, f"No `{cluster}` values: errors are not clustered."
    return cluster, ""


def _population(work: pd.DataFrame, claim: Claim) -> tuple[pd.DataFrame, str]:
    if claim.id == "K3":
        new = _is_true(work["is_new_product_for_account"])
        how = (
            ""
            if "product" in work.columns
            else " Without a product column, these are the cross-sell deals (by deal type)."
        )
        return work.loc[new], (
            f"Deals of a product new to the account: {int(new.sum())} of {len(work)}.{how}"
        )
    if claim.id == "K5":
        proactive = _is_true(work["rep_initiated"])
        reactive = work["lead_source_group"].astype(str).isin(REACTIVE_SOURCES)
        rows = proactive | reactive
        return work.loc[rows], (
            f"Rep-initiated (outbound) deals against reactive ones (lead source "
            f"{' or '.join(REACTIVE_SOURCES)}): {int(rows.sum())} of {len(work)} deals; other "
            "sources left out."
        )
    if claim.id == "K4":
        later = pd.to_numeric(work["relationship_days"], errors="coerce") > 0
        return work.loc[later], (
            f"Deals of accounts with earlier deals: {int(later.sum())} of {len(work)}. "
            f"{_proactive_note(work)}"
        )
    return work, ""


def _proactive_note(work: pd.DataFrame) -> str:
    lacking = _missing(work, PROACTIVE_PARTS)
    if lacking == ["is_new_product_for_account"]:
        return "Without products, only rep-initiated deals count as proactive."
    if lacking == ["rep_initiated"]:
        return (
            "Without lead sources, only deals of a product new to the account count as proactive."
        )
    return ""


def _untestable(note: str) -> dict[str, Any]:
    return {"n": pd.NA, "note": note, "fit": None}


def _needs_text(missing: Sequence[str]) -> str:
    """Name the missing columns, grouped by the field of an export that would provide them."""
    groups: dict[str, list[str]] = {}
    for column in missing:
        groups.setdefault(FIELD_HINTS.get(column, ""), []).append(f"`{column}`")
    parts = [listed(columns) + (f" ({hint})" if hint else "") for hint, columns in groups.items()]
    return f"Not testable: the data lack {listed(parts)}."


def _run(fit: Callable[[], Fit]) -> dict[str, Any]:
    """Fit once; the library's errors become a not-testable row, its warnings part of the note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fit()
        except SalesInsightError as error:
            return _untestable(f"Not testable: {error}")
    note = result.note
    flagged = False
    for item in caught:
        if issubclass(
            item.category, DeprecationWarning | PendingDeprecationWarning | FutureWarning
        ):
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
            continue
        flagged = True
        text = str(item.message).strip()
        if text not in note:
            note = f"{note} {text}".strip()
    values = (result.estimate, result.std_err, result.p_value)
    if not np.isfinite(values).all():
        return _untestable(f"Not testable: the model gave no finite estimate. {note}")
    return {"n": result.n, "note": note, "fit": result, "caveat": flagged}


class _Tables:
    """The account-year panel and the current claim's deals, each built once for its tests."""

    def __init__(self, work: pd.DataFrame) -> None:
        self.work = work
        self._panel: pd.DataFrame | None = None
        self._deals: tuple[str, pd.DataFrame, str] | None = None

    def panel(self) -> pd.DataFrame:
        if self._panel is None:
            table = account_years(self.work, as_of=_snapshot(self.work))
            table["year"] = table["year"].astype(str)
            # Every rate model clusters by account: factorising codes is cheaper than text.
            table["account_id"] = table["account_id"].astype("category")
            self._panel = table
        return self._panel

    def population(self, claim: Claim) -> tuple[pd.DataFrame, str]:
        # Only the latest claim's subset is kept: claims come one after another.
        if self._deals is None or self._deals[0] != claim.id:
            self._deals = (claim.id, *_population(self.work, claim))
        return self._deals[1], self._deals[2]


def _evaluate_test(
    work: pd.DataFrame,
    tables: _Tables,
    claim: Claim,
    proxy: Proxy,
    outcome: Outcome,
    controls: tuple[str, ...],
    alpha: float,
) -> dict[str, Any]:
    needed = list(claim.needs) + list(OUTCOME_NEEDS[outcome.name])
    if outcome.name not in PANEL_OUTCOMES:
        needed.append(proxy.column)
    missing = _missing(work, list(dict.fromkeys(needed)))
    if missing:
        return _untestable(_needs_text(missing))
    cluster, cluster_note = _cluster_for(work, claim)
    options: dict[str, Any] = {"controls": controls, "cluster": cluster, "alpha": alpha}
    prefix = cluster_note
    if outcome.name in PANEL_OUTCOMES:
        table = tables.panel()
        names = {c: "year" if c == "created_year" else PANEL_CONTROLS.get(c) for c in controls}
        options["controls"] = tuple(n for n in names.values() if n in table.columns)
        dropped = [f"`{c}`" for c, n in names.items() if n not in table.columns]
        if dropped:
            prefix += f" {listed(dropped)} not known per account-year, so left out."
        if outcome.name == "proactive_opportunities":
            prefix += f" {_proactive_note(work)}"
        term = PANEL_PROXIES[proxy.column]

        def rate(rows: pd.DataFrame) -> Fit:
            return fit_rate(rows, outcome=outcome.name, proxy=term, **options)

        row = _run(lambda: rate(table))
        row["refit"] = Refit(table, "year", rate)
    else:
        frame, population = tables.population(claim)
        prefix = f"{population} {prefix}"
        values = frame[proxy.column].dropna()
        if proxy.is_flag and values.nunique() < 2:
            which = (
                f"`{proxy.column}` is {bool(values.iloc[0])} for all {len(values)} deals analysed"
                if len(values)
                else f"no deal analysed has a value of `{proxy.column}`"
            )
            return _untestable(
                f"Not testable: {which}, so there is nothing to compare. {prefix.strip()}"
            )
        term = proxy.scaled
        if proxy.per != 1.0:
            prefix += f" `{proxy.column}` entered per {proxy.unit} as `{term}`."
        fitter = _fitter(outcome.name, term, options)
        row = _run(lambda: fitter(frame))
        used = [term, *controls, *([cluster] if cluster else []), *OUTCOME_NEEDS[outcome.name]]
        row["refit"] = _refit(frame, fitter, used)
    parts = [row["note"], prefix.strip()] if row["fit"] is None else [prefix.strip(), row["note"]]
    row["note"] = " ".join(p for p in parts if p)
    return row


def _fitter(outcome: str, term: str, options: dict[str, Any]) -> Callable[[pd.DataFrame], Fit]:
    """The fit of a deal-level row, as a function of the deals it is fitted on."""
    fitters: dict[str, Callable[[pd.DataFrame], Fit]] = {
        "amount": lambda f: fit_association(f, outcome="amount", proxy=term, **options),
        "won": lambda f: fit_association(f, outcome="won", proxy=term, **options),
        "proactive_deal": lambda f: fit_association(
            f, outcome="proactive_deal", proxy=term, **options
        ),
        "time_to_close": lambda f: fit_cox(f, event="closed", proxy=term, **options),
        "time_to_win": lambda f: fit_cox(f, event="won", proxy=term, **options),
        "price_realisation": lambda f: fit_price(f, proxy=term, **options),
        "quote_realisation": lambda f: fit_quote(f, proxy=term, **options),
        "lost_on_price": lambda f: fit_lost_on_price(f, proxy=term, **options),
    }
    return fitters[outcome]


def _refit(
    frame: pd.DataFrame, fitter: Callable[[pd.DataFrame], Fit], used: list[str]
) -> Refit | None:
    """How to re-estimate a deal-level row per created year (None without years), reading only
    the columns its fit reads."""
    if _missing(frame, ["created_year"]):
        return None
    columns = [c for c in dict.fromkeys([*used, *FIT_COLUMNS, "created_year"]) if c in frame]
    return Refit(frame, "created_year", fitter, columns)


def _select_claims(claims: Any) -> list[Claim]:
    if claims is None:
        return list(CLAIMS)
    by_id = {c.id: c for c in CLAIMS}
    chosen = []
    for item in [claims] if isinstance(claims, str | Claim) else list(claims):
        if isinstance(item, Claim):
            unknown = [p for p in item.proxies if p not in PROXIES]
            unknown += [o for o in item.outcomes if o not in OUTCOMES]
            if unknown:
                raise InvalidValueError(
                    f"Claim {item.id} names {', '.join(map(repr, unknown))}, which the scorecard "
                    f"cannot test; proxies must be among {', '.join(PROXIES)} and outcomes "
                    f"among {', '.join(OUTCOMES)}."
                )
            chosen.append(item)
        elif isinstance(item, str) and item.upper() in by_id:
            chosen.append(by_id[item.upper()])
        else:
            raise InvalidValueError(
                f"Unknown claim {item!r}; expected ids among {', '.join(by_id)} (or Claim "
                "objects). Pass e.g. `claims=['K1', 'K2']`, or None for all."
            )
    return list(dict.fromkeys(chosen))


def _adjust(rows: list[dict[str, Any]], alpha: float) -> None:
    """Add BH-adjusted p-values, adjusted intervals and verdicts to the tested rows, in place."""
    tested = [r for r in rows if r["fit"] is not None]
    for r in rows:
        r.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan)
        r.update(p_adjusted=np.nan, verdict="not testable")
    if not tested:
        return
    p = np.array([r["fit"].p_value for r in tested])
    adjusted = multipletests(p, alpha=alpha, method="fdr_bh")[1]
    levels = bh_levels(p, adjusted, alpha)
    for r, p_i, q_i, level in zip(tested, p, adjusted, levels, strict=True):
        fit: Fit = r["fit"]
        half = fit.critical(float(level)) * fit.std_err
        low, high = np.exp(fit.estimate - half), np.exp(fit.estimate + half)
        direction = r["direction"]
        if low > 1:
            verdict = "supported" if direction > 0 else "contradicted"
        elif high < 1:
            verdict = "contradicted" if direction > 0 else "supported"
        else:
            verdict = "inconclusive"
        r.update(
            estimate=float(np.exp(fit.estimate)),
            ci_low=float(low),
            ci_high=float(high),
            p_value=float(p_i),
            p_adjusted=float(q_i),
            verdict=verdict,
        )


def _effect(proxy: Proxy, outcome: Outcome) -> str:
    return outcome.effect if proxy.is_flag else f"{outcome.effect} per {proxy.unit}"


def evaluate_claims(
    data: pd.DataFrame,
    *,
    claims: str | Claim | Sequence[str | Claim] | None = None,
    controls: str | Sequence[str] | None = "auto",
    alpha: float = 0.05,
    stage_history: pd.DataFrame | None = None,
) -> Scorecard:
    """Test each claim of the book on the data and score it, naive and controlled.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`salesinsight.trust_features` (one row per deal with proxies and
        outcomes). Any export works: what it lacks makes rows ``not testable``, not errors.
    claims : str, Claim or sequence of them, optional
        Claim ids (``"K1"`` ... ``"K8"``) or :class:`~salesinsight.claims.registry.Claim`
        objects; default all of :data:`~salesinsight.claims.registry.CLAIMS`.
    controls : "auto", sequence of str or None, default "auto"
        ``"auto"`` adjusts for whichever of ``log_employees`` (account size), ``product``,
        ``industry``, ``segment`` and ``created_year`` (as categories) the data have; a sequence
        names the columns; None scores the naive rows only. ``log_employees`` and
        ``created_year`` are the controls :func:`~salesinsight.features.trust_features` derives
        (its ``CONTROL_COLUMNS``): data without them lack those controls. Account-year rows use
        the account's size, industry and segment and the calendar year.
    alpha : float, default 0.05
        False discovery rate: rows are judged on Benjamini-Hochberg adjusted intervals at this
        level (see the module's documentation for the exact rule).
    stage_history : DataFrame, optional
        ``Export.stage_history``: K2 is then also scored stage by stage
        (:mod:`salesinsight.claims.stages`), in ``Scorecard.stages``, the K2 rows' notes and the
        narrative.

    Returns
    -------
    Scorecard
        ``table`` with one row per claim, proxy, outcome and adjustment; ``verdicts()``,
        ``narrative()``, ``plot()``, ``to_markdown()``, and ``select(claim_ids)`` for some claims.

    Raises
    ------
    InvalidValueError
        `data` is not a DataFrame, `alpha` is not between 0 and 1, or an unknown claim is asked.
    ColumnNotFoundError
        A column named in an explicit `controls` list is absent.

    Warns
    -----
    StatisticalWarning
        Once, when some rows carry caveats (small samples, separation, convergence); the
        caveats themselves are in those rows' ``note``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> repeat = rng.random(n) < 0.5
    >>> data = pd.DataFrame({
    ...     "account_id": [f"A{i % 80}" for i in range(n)],
    ...     "status": "won",
    ...     "amount": np.exp(9 + 0.4 * repeat + rng.normal(0, 0.5, n)),
    ...     "is_repeat_customer": repeat,
    ... })
    >>> card = evaluate_claims(data, claims="K1", controls=None)
    >>> card.table.loc[0, ["proxy", "effect", "verdict"]].tolist()
    ['is_repeat_customer', 'deal size ratio', 'supported']
    >>> card.table.loc[0, ["estimate", "ci_low", "ci_high"]].astype(float).round(2).tolist()
    [1.56, 1.41, 1.72]

    A proxy the data lack makes a row that says so instead of an error:

    >>> card.table.loc[1, ["proxy", "verdict", "note"]].tolist()
    ['prior_won_deals', 'not testable', 'Not testable: the data lack `prior_won_deals`.']
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(
            f"Expected a pandas DataFrame, got {type(data).__name__}. Pass the output of "
            "`trust_features`."
        )
    if not isinstance(alpha, float | int) or not 0 < alpha < 1:
        raise InvalidValueError(f"`alpha` must lie between 0 and 1, got {alpha!r}.")
    chosen = _select_claims(claims)
    used, missing_controls = _resolve_controls(data, controls)
    adjustments: list[tuple[str, tuple[str, ...]]] = [("naive", ())]
    if controls is not None:
        adjustments.append(("controlled", used))
    control_note = f"Controls: {', '.join(used) or 'none available'}" + (
        f"; missing: {', '.join(missing_controls)}." if missing_controls else "."
    )
    work = _prepared(data)
    rows = _score_rows(work, chosen, adjustments, control_note, alpha)
    stages = pd.DataFrame(columns=STAGE_COLUMNS)
    k2 = next((c for c in chosen if c.id == "K2"), None)
    if stage_history is not None and k2 is not None and "deal_id" in work.columns:
        proxies = [PROXIES[name] for name in k2.proxies]
        stages = stage_rows(
            work, stage_history, proxies, used if controls is not None else (), alpha
        )
        for row in rows:
            judged = row["adjustment"] == ("controlled" if controls is not None else "naive")
            if row["claim_id"] == "K2" and judged and row["verdict"] != "not testable":
                said = stage_note(stages, row["proxy"])
                row["note"] = f"{row['note']} {said}".strip()
    flagged = sum(bool(r.get("caveat")) for r in rows)
    if flagged:
        warnings.warn(
            f"{flagged} of {len(rows)} scorecard rows carry statistical caveats (small samples, "
            "separation or convergence); their `note` says which.",
            StatisticalWarning,
            stacklevel=2,
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["n"] = table["n"].astype("Int64")
    table["sign_stable"] = table["sign_stable"].astype("boolean")
    return Scorecard(
        table=table,
        alpha=float(alpha),
        controls=used,
        missing_controls=tuple(missing_controls),
        control_words=listed([CONTROL_WORDS.get(c, c) for c in used]),
        stages=stages,
    )


def _score_rows(
    work: pd.DataFrame,
    chosen: Sequence[Claim],
    adjustments: Sequence[tuple[str, tuple[str, ...]]],
    control_note: str,
    alpha: float,
) -> list[dict[str, Any]]:
    """One row per claim, proxy, outcome and adjustment, adjusted for all of them at once."""
    tables = _Tables(work)
    rows: list[dict[str, Any]] = []
    for claim in chosen:
        for proxy_name in claim.proxies:
            proxy = PROXIES[proxy_name]
            for outcome_name in claim.outcomes:
                if outcome_name in HISTORY_OUTCOMES and "first_amount" not in work.columns:
                    # Tested only with a stage history (trust_features(..., stage_history=)).
                    continue
                outcome = OUTCOMES[outcome_name]
                for adjustment, names in adjustments:
                    if adjustment == "controlled" and not names:
                        row = _untestable(f"Not testable with controls: {control_note}")
                    else:
                        row = _evaluate_test(work, tables, claim, proxy, outcome, names, alpha)
                        if adjustment == "controlled" and row["fit"] is None:
                            row["note"] = f"{row['note']} {control_note}"
                        elif adjustment == "controlled":
                            row["note"] = f"{control_note} {row['note']}"
                    row.update(
                        claim_id=claim.id,
                        claim=claim.claim,
                        proxy=proxy.column,
                        outcome=outcome.name,
                        adjustment=adjustment,
                        effect=_effect(proxy, outcome),
                        direction=claim.direction * outcome.direction,
                    )
                    rows.append(row)
    _adjust(rows, alpha)
    add_robustness(rows, alpha)
    return rows
