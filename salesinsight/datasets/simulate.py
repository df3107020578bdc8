"""A simulated CRM world with known trust effects: the ground truth estimators are tested against.

Accounts of heavy-tailed size open opportunities over several years; reps own them, leave and are
replaced; deals are priced from a product catalogue, won or lost, and closed after a while or still
open at the snapshot date (``as_of``); calls, emails, meetings and tasks are logged against them.
Trust works through the proxies of ``salesinsight.features.trust`` (repeat customers, rep continuity,
referrals, rep-initiated deals, rep experience, cross-sell of new products) with the effects planted
by :class:`~salesinsight.datasets.effects.Effects`; ``effects="null"`` sets all of them to zero.

Confounding is real in every world: bigger accounts open deals more often (so they become repeat
customers sooner), buy more and dearer products and win a little more often. A naive comparison of
repeat and new customers therefore overstates what trust does; controlling for log(employees) and
product removes the bias.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesinsight.datasets import engine
from salesinsight.datasets.effects import Effects, log_realisation_shift, truth_table
from salesinsight.datasets.names import PRODUCTS, company_names, person_names
from salesinsight.exceptions import InvalidValueError
from salesinsight.features.trust import PROXY_COLUMNS
from salesinsight.schemas import DEAL_COLUMNS, OPTIONAL_DEAL_COLUMNS

__all__ = ["FX_TO_USD", "LEAD_SOURCES", "World", "simulate_world"]

# US dollars per unit of each currency, fixed for the whole world (the ``fx`` of ``read_export``).
FX_TO_USD = {"USD": 1.0, "EUR": 1.1, "GBP": 1.25}
# Lead source labels per group, as a CRM's picklist would show them.
LEAD_SOURCES = {
    "referral": ("Customer Referral", "Employee Referral"),
    "existing_customer": ("Existing Customer",),
    "partner": ("Partner",),
    "inbound": ("Web", "Phone Inquiry"),
    "event": ("Trade Show", "Webinar"),
    "outbound": ("Outbound", "Cold Call"),
}
OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
ACTIVITY_TYPES = ("call", "email", "meeting", "task")
_ACTIVITY_SHARES = (0.35, 0.4, 0.15, 0.1)
# Activities are logged over the first months of a deal; later it runs on without new entries.
_ACTIVE_DAYS = 120
_LOG_EMPLOYEES = (4.6, 1.6)  # mean and sd of log(employees)
_TENURE_YEARS = 2.5
# The simulator's own proxies ride along, named and ordered as trust_features names them.
# The optional columns a simulated world has (no loss reasons or annual revenue).
_DEAL_COLUMNS = [
    *DEAL_COLUMNS,
    *(
        c
        for c in OPTIONAL_DEAL_COLUMNS
        if c in ("product", "list_price", "industry", "employees", "segment")
    ),
    *PROXY_COLUMNS,
]


@dataclass(frozen=True, eq=False)
class World:
    """A simulated CRM: clean canonical tables plus the effects planted in them.

    Attributes
    ----------
    deals : DataFrame
        Canonical deals (``salesinsight.schemas.Deals``) with ``product, list_price, industry,
        employees, segment`` and, after them, the trust proxies the simulator used, under their
        canonical names (``prior_won_deals`` ... ``is_new_product_for_account``). ``list_price`` is
        the deal's value at list prices (unit price times quantity), so ``amount / list_price`` is
        its price realisation. ``amount`` and ``list_price`` are in US dollars; ``amount_original``
        is in the account's own ``currency`` (USD, EUR or GBP at the rates of ``FX_TO_USD``).
        ``crm`` and ``source_file`` are ``"simulated"``.
    activities : DataFrame
        Canonical activities (``salesinsight.schemas.Activities``) linked to deals.
    accounts : DataFrame
        ``account_id, account, industry, employees, segment, country, currency, entered_at``.
    reps : DataFrame
        ``rep_id, owner, seat, started_at, left_at`` (missing while still employed).
    products : DataFrame
        ``product, unit_price`` (USD).
    effects : Effects
        The planted effects.
    truth : DataFrame
        ``claim, outcome, proxy, model, scale, value, description``: one row per planted
        coefficient.
    as_of : Timestamp
        Snapshot date: no deal is created after it; deals not closed by then are open.
    """

    deals: pd.DataFrame
    activities: pd.DataFrame
    accounts: pd.DataFrame
    reps: pd.DataFrame
    products: pd.DataFrame
    effects: Effects
    truth: pd.DataFrame
    as_of: pd.Timestamp
    seed: int = field(default=0)

    def __repr__(self) -> str:
        return (
            f"World({len(self.deals)} deals, {len(self.activities)} activities, "
            f"{len(self.accounts)} accounts, {len(self.reps)} reps, as_of={self.as_of.date()}, "
            f"seed={self.seed})"
        )


def simulate_world(
    *,
    n_accounts: int = 1000,
    n_reps: int | None = None,
    start: str | pd.Timestamp = "2021-01-01",
    years: float = 4.0,
    effects: str | Effects = "planted",
    activities_per_deal: float = 8.0,
    seed: int = 0,
) -> World:
    """Simulate accounts, reps, deals and activities with planted (or null) trust effects.

    Parameters
    ----------
    n_accounts : int
        Companies that may buy; about three in four open at least one deal in four years.
    n_reps : int, optional
        Sales territories, each held by one rep at a time (reps leave after about 2.5 years on
        average and are replaced). Default: one per 40 accounts, at least three.
    start : str or Timestamp
        First day of the world.
    years : float
        Length of the world; ``as_of`` is ``start`` plus this many years.
    effects : {"planted", "null"} or Effects
        The trust effects: the defaults of :class:`Effects`, all zero, or your own.
    activities_per_deal : float
        Average number of logged activities per deal.
    seed : int
        Seed of the random generator; the same seed gives identical frames.

    Returns
    -------
    World
        Deals, activities, accounts, reps, products, the effects and their truth table, ``as_of``.

    Examples
    --------
    >>> world = simulate_world(n_accounts=60, seed=1)
    >>> world
    World(... deals, ... activities, 60 accounts, ... reps, as_of=2025-01-01, seed=1)
    >>> world.truth.loc[0, ["claim", "proxy", "model", "value"]].to_dict()
    {'claim': 'K1', 'proxy': 'is_repeat_customer', 'model': 'ols_log_amount', 'value': 0.25}
    >>> bool(simulate_world(n_accounts=60, effects="null", seed=1).truth["value"].eq(0).all())
    True
    """
    planted = _resolve_effects(effects)
    _check_sizes(n_accounts=n_accounts, n_reps=n_reps, years=years, per_deal=activities_per_deal)
    origin = _origin(start)
    n_seats = max(3, round(n_accounts / 40)) if n_reps is None else int(n_reps)
    end = int(round(years * 365.25)) * engine.DAY
    rng = np.random.default_rng(seed)

    accounts = _accounts(int(n_accounts), end, origin, rng)
    reps = _reps(n_seats, end, origin, rng)
    products = _products()
    population = _population(accounts, reps, products, origin, n_seats, rng)
    shift = log_realisation_shift(
        engine.REALISATION, planted.repeat_price_realisation, engine.REALISATION_SD
    )
    raw = engine.run_deals(population, planted, shift, end, rng)
    deals = _deal_frame(raw, accounts, reps, products, origin, end, rng)
    activities = _activity_frame(raw, deals, origin, end, activities_per_deal, rng)
    return World(
        deals=deals,
        activities=activities,
        accounts=accounts,
        reps=reps,
        products=products,
        effects=planted,
        truth=truth_table(planted),
        as_of=origin + pd.Timedelta(seconds=end),
        seed=seed,
    )


def _check_sizes(*, n_accounts: int, n_reps: int | None, years: float, per_deal: float) -> None:
    for name, value in (("n_accounts", n_accounts), ("n_reps", n_reps)):
        if value is not None and (not isinstance(value, int | np.integer) or value < 1):
            raise InvalidValueError(
                f"`{name}` must be a positive whole number; received {value!r}."
            )
    if not np.isfinite(years) or years <= 0:
        raise InvalidValueError(f"`years` must be a positive number; received {years!r}.")
    if not np.isfinite(per_deal) or per_deal < 0:
        raise InvalidValueError(
            f"`activities_per_deal` must be zero or more; received {per_deal!r}."
        )


def _origin(start: str | pd.Timestamp) -> pd.Timestamp:
    try:
        return pd.Timestamp(start).normalize()
    except (TypeError, ValueError) as error:
        raise InvalidValueError(
            f"`start` must be a date such as '2021-01-01'; received {start!r}."
        ) from error


def _products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product": pd.Series([p for p, _, _ in PRODUCTS], dtype=str),
            "unit_price": [price for _, price, _ in PRODUCTS],
        }
    )


def _population(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    products: pd.DataFrame,
    origin: pd.Timestamp,
    n_seats: int,
    rng: np.random.Generator,
) -> engine.Population:
    """What the event loop needs: sizes, entry and rep start seconds, territories, the catalogue.

    Each account is drawn a territory (seat) here.
    """
    log_employees = np.log(accounts["employees"].to_numpy())
    return engine.Population(
        size=(log_employees - _LOG_EMPLOYEES[0]) / _LOG_EMPLOYEES[1],
        entry=((accounts["entered_at"] - origin) // pd.Timedelta(seconds=1)).to_numpy(np.int64),
        seat=rng.integers(0, n_seats, len(accounts)),
        rep_seat=reps["seat"].to_numpy(),
        rep_start=((reps["started_at"] - origin) // pd.Timedelta(seconds=1)).to_numpy(np.int64),
        unit_price=products["unit_price"].to_numpy(),
        popularity=np.array([share for _, _, share in PRODUCTS]),
    )


def _resolve_effects(effects: str | Effects) -> Effects:
    if isinstance(effects, Effects):
        return effects
    if effects == "planted":
        return Effects()
    if effects == "null":
        return Effects.null()
    raise InvalidValueError(
        f"`effects` must be 'planted', 'null' or an Effects instance; received {effects!r}."
    )


def _ids(prefix: str, n: int, width: int = 6) -> pd.Series:
    width = max(width, len(str(n)))
    return prefix + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)


def _labels(codes: np.ndarray, categories: tuple[str, ...] | list[str]) -> pd.Series:
    # Through a categorical: far quicker than building strings one by one for millions of rows.
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(categories))).astype(str)


def _seconds(origin: pd.Timestamp, seconds: np.ndarray) -> np.ndarray:
    base = np.datetime64(origin.to_datetime64(), "s")
    return (base + seconds.astype("timedelta64[s]")).astype("datetime64[ns]")


def _accounts(n: int, end: int, origin: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    names = company_names(n, rng)
    employees = np.maximum(np.round(np.exp(rng.normal(*_LOG_EMPLOYEES, n))), 1.0)
    segment = np.select(
        [employees < 100, employees < 1000], ["SMB", "Mid-Market"], default="Enterprise"
    )
    # A third of the accounts are prospects from day one; the others appear over the years.
    entry = np.where(rng.random(n) < 1 / 3, 0, np.floor(rng.random(n) * 0.7 * end))
    return pd.DataFrame(
        {
            "account_id": _ids("ACC", n),
            "account": names["account"],
            "industry": names["industry"],
            "employees": employees,
            "segment": pd.Series(segment, dtype=str),
            "country": names["country"],
            "currency": names["currency"],
            "entered_at": _seconds(origin, entry.astype(np.int64)),
        }
    )


def _reps(n_seats: int, end: int, origin: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    tenure = _TENURE_YEARS * engine.YEAR
    seat = np.arange(n_seats)
    start = -np.ceil(rng.random(n_seats) * 4 * engine.YEAR).astype(np.int64)
    leave = np.ceil(rng.exponential(tenure, n_seats)).astype(np.int64)
    seats, starts = [seat], [start]
    while True:
        staying = leave < end
        if not staying.any():
            break
        seat, start = seat[staying], leave[staying]
        leave = start + np.ceil(rng.exponential(tenure, len(seat))).astype(np.int64)
        seats.append(seat)
        starts.append(start)
    all_seats, all_starts = np.concatenate(seats), np.concatenate(starts)
    order = np.lexsort((all_starts, all_seats))
    all_seats, all_starts = all_seats[order], all_starts[order]
    following = np.append(all_starts[1:], end)
    last = np.append(all_seats[1:] != all_seats[:-1], True)
    left = np.where(last, end, following)
    frame = pd.DataFrame(
        {
            "rep_id": _ids("R", len(all_seats), width=4),
            "owner": person_names(len(all_seats), rng),
            "seat": all_seats,
            "started_at": _seconds(origin, all_starts),
            "left_at": _seconds(origin, left),
        }
    )
    frame.loc[last, "left_at"] = pd.NaT
    return frame


def _deal_frame(
    raw: dict[str, np.ndarray],
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    products: pd.DataFrame,
    origin: pd.Timestamp,
    end: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The simulated deals as canonical columns, then their product, account and proxies."""
    n = len(raw["created"])
    acc = accounts.take(raw["account"]).reset_index(drop=True)
    created_at = _seconds(origin, raw["created"])
    state = _state_at_snapshot(raw, created_at, origin, end, rng)
    groups = np.array(engine.GROUPS)[raw["group"]]
    lead_source = _lead_source_labels(groups, rng)
    fx = acc["currency"].map(FX_TO_USD).to_numpy(float)
    amount = raw["amount"]
    repeat = raw["prior_won_deals"] > 0
    deals = pd.DataFrame(
        {
            "deal_id": _ids("D", n, width=7),
            "account": acc["account"],
            "account_id": acc["account_id"],
            "owner": reps["owner"].take(raw["owner"]).reset_index(drop=True),
            "created_at": created_at,
            **state,
            "amount": amount,
            "amount_original": np.round(amount / fx, 2),
            "currency": acc["currency"],
            "lead_source": lead_source,
            "lead_source_group": pd.Series(groups, dtype=str),
            "deal_type": pd.Series(
                np.where(repeat, "existing_business", "new_business"), dtype=str
            ),
            "crm": "simulated",
            "source_file": "simulated",
            "source_row": np.arange(1, n + 1),
            "product": products["product"].take(raw["product"]).reset_index(drop=True),
            "list_price": raw["list_price"],
            "industry": acc["industry"],
            "employees": acc["employees"],
            "segment": acc["segment"],
            **_proxies(raw, groups),
        }
    )
    first = deals.groupby("account_id", sort=False)["created_at"].transform("min")
    deals["relationship_days"] = (deals["created_at"] - first) / pd.Timedelta(days=1)
    return deals[_DEAL_COLUMNS]


def _state_at_snapshot(
    raw: dict[str, np.ndarray],
    created_at: np.ndarray,
    origin: pd.Timestamp,
    end: int,
    rng: np.random.Generator,
) -> dict[str, object]:
    """``closed_at``, ``expected_close_at``, ``status`` and ``stage`` of each deal at ``end``.

    A deal closing after the snapshot is open: it has a forecast close date instead, and a stage
    that advances with its age.
    """
    closed = raw["close"] <= end
    status = np.where(~closed, "open", np.where(raw["won"], "won", "lost"))
    age_days = (end - raw["created"]) / engine.DAY
    forecast = _forecast_days(age_days, rng)
    forecast_at = created_at + np.round(forecast * engine.DAY).astype("timedelta64[s]")
    progress = rng.binomial(len(OPEN_STAGES) - 1, np.minimum(age_days / 150, 1.0))
    stage = np.where(
        status == "won",
        "Closed Won",
        np.where(status == "lost", "Closed Lost", np.array(OPEN_STAGES)[progress]),
    )
    return {
        "closed_at": np.where(closed, _seconds(origin, raw["close"]), np.datetime64("NaT", "ns")),
        "expected_close_at": np.where(closed, np.datetime64("NaT", "ns"), forecast_at),
        "status": pd.Series(status, dtype=str),
        "stage": pd.Series(stage, dtype=str),
    }


def _forecast_days(age_days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Days from creation to an open deal's forecast close date.

    First set some weeks out, then pushed past the snapshot by some reps (once it has passed),
    never by others.
    """
    n = len(age_days)
    forecast_days = 30 + rng.gamma(2.0, 25.0, n)
    pushed = rng.random(n) < 0.45
    return np.where(
        pushed & (forecast_days < age_days),
        age_days + 7 + 113 * rng.random(n),
        forecast_days,
    )


def _lead_source_labels(groups: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """A picklist label per deal: its lead source group's first, or for three deals in ten its last."""
    labels = np.array([LEAD_SOURCES[g][0] for g in groups], dtype=object)
    alternative = np.array([LEAD_SOURCES[g][-1] for g in groups], dtype=object)
    return pd.Series(np.where(rng.random(len(groups)) < 0.3, alternative, labels), dtype=str)


def _proxies(raw: dict[str, np.ndarray], groups: np.ndarray) -> dict[str, np.ndarray]:
    """The trust proxies the simulator used, under their canonical names."""
    return {
        "prior_won_deals": raw["prior_won_deals"],
        "prior_won_amount": raw["prior_won_amount"],
        "prior_lost_deals": raw["prior_lost_deals"],
        "is_repeat_customer": raw["prior_won_deals"] > 0,
        "same_owner_as_last": raw["same_owner_as_last"],
        "owner_prior_deals": raw["owner_prior_deals"],
        "is_referral": groups == "referral",
        "rep_initiated": groups == "outbound",
        "is_new_product_for_account": raw["is_new_product_for_account"],
    }


def _activity_frame(
    raw: dict[str, np.ndarray],
    deals: pd.DataFrame,
    origin: pd.Timestamp,
    end: int,
    per_deal: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    created = raw["created"]
    lasts = np.minimum(raw["close"], end) - created
    logged = np.minimum(lasts, _ACTIVE_DAYS * engine.DAY)
    scale = per_deal / logged.mean() if len(logged) and logged.mean() > 0 else 0.0
    count = rng.poisson(logged * scale)
    deal = np.repeat(np.arange(len(created)), count)
    span = logged[deal]
    occurred = created[deal] + 1 + np.floor(rng.random(len(deal)) * np.maximum(span - 1, 0))
    kind = rng.choice(len(ACTIVITY_TYPES), size=len(deal), p=_ACTIVITY_SHARES)
    order = np.lexsort((deal, occurred))
    deal, occurred, kind = deal[order], occurred[order].astype(np.int64), kind[order]
    n = len(deal)
    return pd.DataFrame(
        {
            "activity_id": _ids("A", n, width=8),
            "deal_id": deals["deal_id"].take(deal).reset_index(drop=True),
            "account": deals["account"].take(deal).reset_index(drop=True),
            "type": _labels(kind, ACTIVITY_TYPES),
            "occurred_at": _seconds(origin, occurred),
            "owner": deals["owner"].take(deal).reset_index(drop=True),
            "source_file": "simulated",
            "source_row": np.arange(1, n + 1),
        }
    )
