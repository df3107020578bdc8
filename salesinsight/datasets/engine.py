"""The event loop of the simulated world: deals created, owned, priced, won or lost, in time order.

Time is in whole seconds since the start of the world. The loop walks in steps of two days and,
within a step, handles every account's next new opportunity at once (vectorised across accounts).
Two facts keep this exact rather than approximate:

* every deal takes at least one step to close, so nothing created in a step closes within it: the
  history a deal sees (won and lost deals closed before its creation) is fully known when it is
  created;
* an account's opportunities arrive as a Poisson process whose rate changes only when the account
  first wins (K7); at that instant the pending arrival is redrawn, which memorylessness makes exact.

The proxies a deal's outcomes depend on are the canonical ones (``prior_won_deals``,
``is_repeat_customer``, ``same_owner_as_last``, ``owner_prior_deals``, ``is_referral``,
``rep_initiated``, ``is_new_product_for_account``), computed from history strictly before the deal's
creation, exactly as ``salesinsight.features.trust.trust_features`` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesinsight.datasets.effects import Effects

__all__ = ["DAY", "GROUPS", "STEP", "Population", "run_deals"]

DAY = 86_400
YEAR = 365.25 * DAY
# Step of the loop, and the shortest possible sales cycle (see the module docstring).
STEP = 2 * DAY
_NEVER = np.int64(2**62)

# Lead source groups drawn by the simulator (codes are positions in this tuple).
GROUPS = ("referral", "existing_customer", "partner", "inbound", "event", "outbound")
_OUTBOUND = GROUPS.index("outbound")
# Shares of the non-outbound groups for accounts without / with a won deal.
_SOURCE_SHARES = np.array(
    [
        [0.22, 0.00, 0.13, 0.47, 0.18],
        [0.12, 0.45, 0.08, 0.25, 0.10],
    ]
)

# Nuisance parameters: the same in every world. Size is centred, scaled log(employees).
RATE_PER_YEAR = 0.7  # new opportunities per account-year at average size, before any win
RATE_SIZE = 0.55  # log rate per sd of log(employees): bigger accounts buy more often
ROUTE_SHARE = 0.15  # deals routed to another rep than the account's
OUTBOUND_LOGIT = -1.4
NEW_PRODUCT_LOGIT = -1.2
PRODUCT_SIZE_TILT = 0.5  # bigger accounts lean to dearer products
SEATS_LOG = 1.3
SEATS_SIZE = 0.7  # log units per sd of log(employees): bigger accounts buy bigger deals
AMOUNT_SD = 0.5
REALISATION = 0.82
REALISATION_SD = 0.05
WON_LOGIT = -0.7
WON_SIZE = 0.15
WON_NEW_PRODUCT = -0.4
CLOSE_SCALE_DAYS = 60.0
CLOSE_SHAPE = 0.8
CLOSE_SIZE = -0.1


@dataclass(frozen=True)
class Population:
    """What the loop needs to know about accounts, reps and products (arrays, one row each)."""

    size: np.ndarray  # centred, scaled log(employees) per account
    entry: np.ndarray  # int64 second the account becomes a prospect
    seat: np.ndarray  # the account's territory (a seat, held by one rep at a time)
    rep_seat: np.ndarray  # per rep, sorted by (seat, start)
    rep_start: np.ndarray  # int64 second the rep took the seat (may be before 0)
    unit_price: np.ndarray  # per product
    popularity: np.ndarray  # per product, share of first purchases


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def run_deals(
    pop: Population,
    effects: Effects,
    log_amount_shift: float,
    end: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Simulate every deal created before ``end``; one array per attribute, in creation order.

    ``log_amount_shift`` is what the price realisation of repeat customers adds to their
    log(amount); the quantity term gives the rest of ``effects.repeat_log_amount``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pop = Population(
    ...     size=np.zeros(5), entry=np.zeros(5, np.int64), seat=np.zeros(5, np.int64),
    ...     rep_seat=np.array([0]), rep_start=np.array([-DAY]),
    ...     unit_price=np.array([100.0, 400.0]), popularity=np.array([0.5, 0.5]))
    >>> deals = run_deals(pop, Effects(), 0.0, 365 * DAY, rng)
    >>> bool(np.all(np.diff(deals["created"]) >= 0)), sorted(deals)[:3]
    (True, ['account', 'amount', 'close'])
    """
    n_acc, n_prod = len(pop.size), len(pop.unit_price)
    n_reps, n_seats = len(pop.rep_seat), int(pop.rep_seat.max()) + 1
    key_span = np.int64(end + 2 * STEP)
    # Reps may have started before the world did: their keys are offset by the earliest start.
    rep_origin = min(int(pop.rep_start.min()), 0)
    rep_span = np.int64(end - rep_origin + 2 * STEP)
    rep_key = pop.rep_seat.astype(np.int64) * rep_span + (pop.rep_start - rep_origin)
    z_price = np.log(pop.unit_price)
    z_price = (z_price - z_price.mean()) / z_price.std()
    prod_bits = np.int64(1) << np.arange(n_prod, dtype=np.int64)

    base_rate = RATE_PER_YEAR * np.exp(RATE_SIZE * pop.size)
    won_rate = base_rate * np.exp(effects.repeat_opportunity_rate)

    def wait(rate: np.ndarray) -> np.ndarray:
        draws = rng.exponential(size=len(rate)) * YEAR / rate
        return np.maximum(np.ceil(draws), 1).astype(np.int64)

    def occupant(seat: np.ndarray, t: np.ndarray) -> np.ndarray:
        where = seat.astype(np.int64) * rep_span + (t - rep_origin)
        return np.searchsorted(rep_key, where, side="right") - 1

    def choose(size: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        weight = pop.popularity * np.exp(PRODUCT_SIZE_TILT * size[:, None] * z_price) * allowed
        cum = np.cumsum(weight, axis=1)
        u = rng.random(len(size)) * cum[:, -1]
        return (cum < u[:, None]).sum(axis=1)

    # Account state: deals created so far, and won/lost deals settled (closed before the step).
    n_created = np.zeros(n_acc, np.int64)
    first_created = np.zeros(n_acc, np.int64)
    last_owner = np.full(n_acc, -1, np.int64)
    prod_mask = np.zeros(n_acc, np.int64)
    won_n = np.zeros(n_acc, np.int64)
    lost_n = np.zeros(n_acc, np.int64)
    won_amount = np.zeros(n_acc, np.float64)
    first_win = np.full(n_acc, _NEVER, np.int64)
    next_arrival = pop.entry + wait(base_rate)
    owner_count = np.zeros(n_reps, np.int64)
    # Deals closed or closing before `end` whose close is not yet settled into the counters.
    p_acc = np.zeros(0, np.int64)
    p_close = np.zeros(0, np.int64)
    p_won = np.zeros(0, bool)
    p_amount = np.zeros(0, np.float64)

    out: dict[str, list[np.ndarray]] = {}

    def keep(**arrays: np.ndarray) -> None:
        for name, values in arrays.items():
            out.setdefault(name, []).append(values)

    for start in range(0, end, STEP):
        stop = min(start + STEP, end)
        settle = p_close < start
        np.add.at(won_n, p_acc[settle & p_won], 1)
        np.add.at(lost_n, p_acc[settle & ~p_won], 1)
        np.add.at(won_amount, p_acc[settle & p_won], p_amount[settle & p_won])
        p_acc, p_close, p_won, p_amount = (
            p_acc[~settle],
            p_close[~settle],
            p_won[~settle],
            p_amount[~settle],
        )
        # Closes inside this step, sorted by (account, time), with running totals.
        inside = p_close < stop
        s_key = p_acc[inside] * key_span + p_close[inside]
        order = np.argsort(s_key, kind="stable")
        s_key = s_key[order]
        s_won = p_won[inside][order]
        cum_won = np.concatenate([[0], np.cumsum(s_won)])
        cum_lost = np.concatenate([[0], np.cumsum(~s_won)])
        cum_amount = np.concatenate([[0.0], np.cumsum(np.where(s_won, p_amount[inside][order], 0))])

        step: dict[str, list[np.ndarray]] = {}
        while True:
            acc = np.flatnonzero(next_arrival < stop)
            if acc.size == 0:
                break
            k = acc.size
            t = next_arrival[acc]
            lo = np.searchsorted(s_key, acc * key_span, side="left")
            hi = np.searchsorted(s_key, acc * key_span + t, side="left")
            prior_won = won_n[acc] + cum_won[hi] - cum_won[lo]
            prior_lost = lost_n[acc] + cum_lost[hi] - cum_lost[lo]
            prior_won_amount = won_amount[acc] + cum_amount[hi] - cum_amount[lo]
            repeat = prior_won > 0

            outbound = rng.random(k) < _expit(
                OUTBOUND_LOGIT + effects.prior_won_rep_initiated * prior_won
            )
            cum_share = np.cumsum(_SOURCE_SHARES[repeat.astype(int)], axis=1)
            other = (cum_share < rng.random(k)[:, None]).sum(axis=1)
            group = np.where(outbound, _OUTBOUND, other)

            first = n_created[acc] == 0
            had = (prod_mask[acc][:, None] & prod_bits) != 0
            has_new = ~had.all(axis=1)
            p_new = _expit(NEW_PRODUCT_LOGIT + effects.prior_won_new_product * prior_won)
            new_product = first | (has_new & (rng.random(k) < p_new))
            product = choose(pop.size[acc], np.where(new_product[:, None], ~had, had))

            seat = np.where(rng.random(k) < ROUTE_SHARE, rng.integers(0, n_seats, k), pop.seat[acc])
            owner = occupant(seat, t)
            same_owner = ~first & (owner == last_owner[acc])

            first_created[acc] = np.where(first, t, first_created[acc])
            n_created[acc] += 1
            last_owner[acc] = owner
            prod_mask[acc] |= prod_bits[product]

            won_now = first_win[acc] < t
            arrival = t + wait(np.where(won_now, won_rate[acc], base_rate[acc]))
            after_win = first_win[acc] + wait(won_rate[acc])
            next_arrival[acc] = np.where(~won_now & (arrival > first_win[acc]), after_win, arrival)

            for name, values in (
                ("account", acc),
                ("created", t),
                ("owner", owner),
                ("product", product),
                ("group", group),
                ("prior_won_deals", prior_won),
                ("prior_lost_deals", prior_lost),
                ("prior_won_amount", prior_won_amount),
                ("same_owner_as_last", same_owner),
                ("is_new_product_for_account", new_product),
            ):
                step.setdefault(name, []).append(values)
        if not step:
            continue

        deals = {name: np.concatenate(parts) for name, parts in step.items()}
        acc, t, owner = deals["account"], deals["created"], deals["owner"]
        # owner_prior_deals: the owner's deals created strictly before t, this step included.
        o_key = owner * key_span + t
        o_sorted = np.sort(o_key)
        within = np.searchsorted(o_sorted, o_key, "left") - np.searchsorted(
            o_sorted, owner * key_span, "left"
        )
        owner_prior = owner_count[owner] + within
        owner_count += np.bincount(owner, minlength=n_reps)
        outcome = _outcomes(deals, owner_prior, pop, effects, log_amount_shift, rng)
        keep(**deals, owner_prior_deals=owner_prior, **outcome)

        close = outcome["close"]
        ends = close < end
        p_acc = np.concatenate([p_acc, acc[ends]])
        p_close = np.concatenate([p_close, close[ends]])
        p_won = np.concatenate([p_won, outcome["won"][ends]])
        p_amount = np.concatenate([p_amount, outcome["amount"][ends]])
        # A first win, once known, switches the account to its repeat-customer rate from then on.
        win = ends & outcome["won"]
        if win.any():
            before = first_win[acc[win]]
            np.minimum.at(first_win, acc[win], close[win])
            moved = np.unique(acc[win][first_win[acc[win]] < before])
            moved = moved[next_arrival[moved] > first_win[moved]]
            next_arrival[moved] = first_win[moved] + wait(won_rate[moved])

    merged = {name: np.concatenate(parts) for name, parts in out.items()}
    order = np.lexsort((merged["account"], merged["created"]))
    return {name: values[order] for name, values in merged.items()}


def _outcomes(
    deals: dict[str, np.ndarray],
    owner_prior: np.ndarray,
    pop: Population,
    effects: Effects,
    log_amount_shift: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Win, time to close and amount of new deals, given their proxies (drawn independently)."""
    k = len(owner_prior)
    size = pop.size[deals["account"]]
    repeat = deals["prior_won_deals"] > 0
    referral = deals["group"] == GROUPS.index("referral")
    outbound = deals["group"] == _OUTBOUND
    same = deals["same_owner_as_last"]
    new = deals["is_new_product_for_account"]

    won_logit = (
        WON_LOGIT
        + WON_SIZE * size
        + WON_NEW_PRODUCT * new
        + np.where(new, effects.repeat_won_new_product, effects.repeat_won) * repeat
        + effects.referral_won * referral
        + effects.rep_initiated_won * outbound
        + effects.experience_won * owner_prior
    )
    won = rng.random(k) < _expit(won_logit)

    # Weibull proportional hazards after the minimum cycle of one step.
    log_hazard = (
        CLOSE_SIZE * size
        + effects.repeat_close * repeat
        + effects.referral_close * referral
        + effects.same_owner_close * same
    )
    days = CLOSE_SCALE_DAYS * (rng.exponential(size=k) * np.exp(-log_hazard)) ** (1 / CLOSE_SHAPE)
    close = deals["created"] + STEP + np.ceil(days * DAY).astype(np.int64)

    log_quantity = (
        SEATS_LOG
        + SEATS_SIZE * size
        + (effects.repeat_log_amount - log_amount_shift) * repeat
        + effects.referral_log_amount * referral
        + effects.same_owner_log_amount * same
        + effects.rep_initiated_log_amount * outbound
        + effects.experience_log_amount * owner_prior
        + rng.normal(0.0, AMOUNT_SD, k)
    )
    list_price = np.round(pop.unit_price[deals["product"]] * np.exp(log_quantity), 2)
    realisation = REALISATION + effects.repeat_price_realisation * repeat
    realisation = realisation + rng.normal(0.0, REALISATION_SD, k)
    # Cents, as a CRM stores them; the rounding is far below the noise.
    return {
        "won": won,
        "close": close,
        "list_price": list_price,
        "amount": np.round(list_price * realisation, 2),
    }
