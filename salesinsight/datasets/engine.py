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

    Each step of the loop counts the closes settled before it into the accounts' histories, creates
    the deals whose arrival falls in it (with their proxies), draws their outcomes, and queues the
    closes to come; a first win switches its account to the repeat-customer rate.

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
    setting = _Setting.of(pop, effects, end, rng)
    history = _History.start(setting)
    owner_count = np.zeros(setting.n_reps, np.int64)
    pending = _Pending.none()
    out: dict[str, list[np.ndarray]] = {}
    for start in range(0, end, STEP):
        stop = min(start + STEP, end)
        pending = pending.settle(start, history)
        deals = _created_in_step(
            setting, history, pending.closing_before(stop, setting.key_span), stop
        )
        if deals is None:
            continue
        deals["owner_prior_deals"] = owner_count[deals["owner"]] + _earlier_in_step(
            deals["owner"], deals["created"], setting.key_span
        )
        owner_count += np.bincount(deals["owner"], minlength=setting.n_reps)
        deals.update(_outcomes(deals, pop, effects, log_amount_shift, rng))
        for name, values in deals.items():
            out.setdefault(name, []).append(values)

        acc, close = deals["account"], deals["close"]
        ends = close < end
        pending = pending.add(acc[ends], close[ends], deals["won"][ends], deals["amount"][ends])
        _switch_at_first_win(setting, history, acc, close, ends & deals["won"])

    merged = {name: np.concatenate(parts) for name, parts in out.items()}
    order = np.lexsort((merged["account"], merged["created"]))
    return {name: values[order] for name, values in merged.items()}


@dataclass(frozen=True)
class _Setting:
    """What stays fixed while the loop runs: population, effects, arrival rates and sort keys.

    Sort keys pack a pair into one int64: ``account * key_span + second`` orders closes (and
    ``owner * key_span + second`` deals) by account, then time; ``seat * rep_span + second`` finds
    the rep holding a seat at a time.
    """

    pop: Population
    effects: Effects
    rng: np.random.Generator
    base_rate: np.ndarray  # per account, opportunities per year before the first win
    won_rate: np.ndarray  # per account, opportunities per year after it
    z_price: np.ndarray  # per product, standardised log(unit price)
    prod_bits: np.ndarray  # per product, its bit in an account's mask of products dealt
    key_span: np.int64
    rep_span: np.int64
    rep_origin: int
    rep_key: np.ndarray
    n_seats: int
    n_reps: int

    @classmethod
    def of(cls, pop: Population, effects: Effects, end: int, rng: np.random.Generator) -> _Setting:
        # Reps may have started before the world did: their keys are offset by the earliest start.
        rep_origin = min(int(pop.rep_start.min()), 0)
        rep_span = np.int64(end - rep_origin + 2 * STEP)
        z_price = np.log(pop.unit_price)
        base_rate = RATE_PER_YEAR * np.exp(RATE_SIZE * pop.size)
        return cls(
            pop=pop,
            effects=effects,
            rng=rng,
            base_rate=base_rate,
            won_rate=base_rate * np.exp(effects.repeat_opportunity_rate),
            z_price=(z_price - z_price.mean()) / z_price.std(),
            prod_bits=np.int64(1) << np.arange(len(pop.unit_price), dtype=np.int64),
            key_span=np.int64(end + 2 * STEP),
            rep_span=rep_span,
            rep_origin=rep_origin,
            rep_key=pop.rep_seat.astype(np.int64) * rep_span + (pop.rep_start - rep_origin),
            n_seats=int(pop.rep_seat.max()) + 1,
            n_reps=len(pop.rep_seat),
        )

    def wait(self, rate: np.ndarray) -> np.ndarray:
        """Seconds to each account's next opportunity at ``rate`` per year (at least one)."""
        draws = self.rng.exponential(size=len(rate)) * YEAR / rate
        return np.maximum(np.ceil(draws), 1).astype(np.int64)

    def occupant(self, seat: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The rep holding each ``seat`` at second ``t``."""
        where = seat.astype(np.int64) * self.rep_span + (t - self.rep_origin)
        return np.searchsorted(self.rep_key, where, side="right") - 1

    def choose(self, size: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """One product per deal among the ``allowed`` ones, by popularity tilted by account size."""
        tilt = np.exp(PRODUCT_SIZE_TILT * size[:, None] * self.z_price)
        cum = np.cumsum(self.pop.popularity * tilt * allowed, axis=1)
        u = self.rng.random(len(size)) * cum[:, -1]
        return (cum < u[:, None]).sum(axis=1)


@dataclass(frozen=True)
class _History:
    """Each account's history so far (arrays, one row per account, updated in place).

    Deals created so far (count, last owner, mask of products), won and lost deals whose close is
    settled (closed before the current step), the first win's second (once its close is queued)
    and the second of the next new opportunity.
    """

    n_created: np.ndarray
    last_owner: np.ndarray
    prod_mask: np.ndarray
    won_n: np.ndarray
    lost_n: np.ndarray
    won_amount: np.ndarray
    first_win: np.ndarray
    next_arrival: np.ndarray

    @classmethod
    def start(cls, setting: _Setting) -> _History:
        """No deals yet; each account's first opportunity after it becomes a prospect."""
        n_acc = len(setting.pop.size)
        return cls(
            n_created=np.zeros(n_acc, np.int64),
            last_owner=np.full(n_acc, -1, np.int64),
            prod_mask=np.zeros(n_acc, np.int64),
            won_n=np.zeros(n_acc, np.int64),
            lost_n=np.zeros(n_acc, np.int64),
            won_amount=np.zeros(n_acc, np.float64),
            first_win=np.full(n_acc, _NEVER, np.int64),
            next_arrival=setting.pop.entry + setting.wait(setting.base_rate),
        )


@dataclass(frozen=True)
class _StepCloses:
    """Closes inside one step, sorted by (account, time), with running totals."""

    key: np.ndarray
    cum_won: np.ndarray
    cum_lost: np.ndarray
    cum_amount: np.ndarray

    def prior(
        self, history: _History, acc: np.ndarray, t: np.ndarray, key_span: np.int64
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Won deals, lost deals and won amount of each account ``acc`` closed before ``t``.

        The settled history plus the closes of this step before ``t``.
        """
        lo = np.searchsorted(self.key, acc * key_span, side="left")
        hi = np.searchsorted(self.key, acc * key_span + t, side="left")
        return (
            history.won_n[acc] + self.cum_won[hi] - self.cum_won[lo],
            history.lost_n[acc] + self.cum_lost[hi] - self.cum_lost[lo],
            history.won_amount[acc] + self.cum_amount[hi] - self.cum_amount[lo],
        )


@dataclass(frozen=True)
class _Pending:
    """Deals closing before ``end`` whose close is not yet settled into their account's history."""

    account: np.ndarray
    close: np.ndarray
    won: np.ndarray
    amount: np.ndarray

    @classmethod
    def none(cls) -> _Pending:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0))

    def settle(self, start: int, history: _History) -> _Pending:
        """Count the closes before ``start`` into ``history``; the others stay pending."""
        settle = self.close < start
        won, lost = settle & self.won, settle & ~self.won
        np.add.at(history.won_n, self.account[won], 1)
        np.add.at(history.lost_n, self.account[lost], 1)
        np.add.at(history.won_amount, self.account[won], self.amount[won])
        keep = ~settle
        return _Pending(self.account[keep], self.close[keep], self.won[keep], self.amount[keep])

    def closing_before(self, stop: int, key_span: np.int64) -> _StepCloses:
        """The closes inside the step ending at ``stop`` (settled ones are gone), with running totals."""
        inside = self.close < stop
        key = self.account[inside] * key_span + self.close[inside]
        order = np.argsort(key, kind="stable")
        won = self.won[inside][order]
        won_amount = np.where(won, self.amount[inside][order], 0)
        return _StepCloses(
            key=key[order],
            cum_won=np.concatenate([[0], np.cumsum(won)]),
            cum_lost=np.concatenate([[0], np.cumsum(~won)]),
            cum_amount=np.concatenate([[0.0], np.cumsum(won_amount)]),
        )

    def add(
        self, account: np.ndarray, close: np.ndarray, won: np.ndarray, amount: np.ndarray
    ) -> _Pending:
        return _Pending(
            np.concatenate([self.account, account]),
            np.concatenate([self.close, close]),
            np.concatenate([self.won, won]),
            np.concatenate([self.amount, amount]),
        )


def _created_in_step(
    setting: _Setting, history: _History, closes: _StepCloses, stop: int
) -> dict[str, np.ndarray] | None:
    """Every deal created before ``stop`` (None if none): each account's next arrivals in turn."""
    rounds: dict[str, list[np.ndarray]] = {}
    while True:
        acc = np.flatnonzero(history.next_arrival < stop)
        if acc.size == 0:
            break
        for name, values in _next_deals(setting, history, closes, acc).items():
            rounds.setdefault(name, []).append(values)
    if not rounds:
        return None
    return {name: np.concatenate(parts) for name, parts in rounds.items()}


def _next_deals(
    setting: _Setting, history: _History, closes: _StepCloses, acc: np.ndarray
) -> dict[str, np.ndarray]:
    """The next deal of each account ``acc``: its proxies, product and owner; history updated."""
    k = acc.size
    t = history.next_arrival[acc]
    prior_won, prior_lost, prior_won_amount = closes.prior(history, acc, t, setting.key_span)
    group = _lead_source(setting, prior_won)

    first = history.n_created[acc] == 0
    had = (history.prod_mask[acc][:, None] & setting.prod_bits) != 0
    p_new = _expit(NEW_PRODUCT_LOGIT + setting.effects.prior_won_new_product * prior_won)
    new_product = first | (~had.all(axis=1) & (setting.rng.random(k) < p_new))
    product = setting.choose(setting.pop.size[acc], np.where(new_product[:, None], ~had, had))

    routed = setting.rng.random(k) < ROUTE_SHARE
    seat = np.where(routed, setting.rng.integers(0, setting.n_seats, k), setting.pop.seat[acc])
    owner = setting.occupant(seat, t)
    same_owner = ~first & (owner == history.last_owner[acc])

    history.n_created[acc] += 1
    history.last_owner[acc] = owner
    history.prod_mask[acc] |= setting.prod_bits[product]
    history.next_arrival[acc] = _next_arrival(setting, history, acc, t)
    return {
        "account": acc,
        "created": t,
        "owner": owner,
        "product": product,
        "group": group,
        "prior_won_deals": prior_won,
        "prior_lost_deals": prior_lost,
        "prior_won_amount": prior_won_amount,
        "same_owner_as_last": same_owner,
        "is_new_product_for_account": new_product,
    }


def _lead_source(setting: _Setting, prior_won: np.ndarray) -> np.ndarray:
    """Lead source group codes: outbound more often with more prior wins, else by shares."""
    k = len(prior_won)
    logit = OUTBOUND_LOGIT + setting.effects.prior_won_rep_initiated * prior_won
    outbound = setting.rng.random(k) < _expit(logit)
    cum_share = np.cumsum(_SOURCE_SHARES[(prior_won > 0).astype(int)], axis=1)
    other = (cum_share < setting.rng.random(k)[:, None]).sum(axis=1)
    return np.where(outbound, _OUTBOUND, other)


def _next_arrival(
    setting: _Setting, history: _History, acc: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Second of each account's next opportunity after ``t``, at the rate that holds then.

    An arrival drawn at the new-customer rate that falls after a first win already queued is
    redrawn from the win at the repeat-customer rate (memorylessness makes this exact).
    """
    first_win = history.first_win[acc]
    won_now = first_win < t
    arrival = t + setting.wait(np.where(won_now, setting.won_rate[acc], setting.base_rate[acc]))
    after_win = first_win + setting.wait(setting.won_rate[acc])
    return np.where(~won_now & (arrival > first_win), after_win, arrival)


def _earlier_in_step(owner: np.ndarray, t: np.ndarray, key_span: np.int64) -> np.ndarray:
    """Deals of the same owner created in this step strictly before each deal."""
    key = owner * key_span + t
    ordered = np.sort(key)
    return np.searchsorted(ordered, key, "left") - np.searchsorted(
        ordered, owner * key_span, "left"
    )


def _switch_at_first_win(
    setting: _Setting, history: _History, acc: np.ndarray, close: np.ndarray, win: np.ndarray
) -> None:
    """A first win, once known, switches the account to its repeat-customer rate from then on.

    Accounts whose first win moved earlier and whose next opportunity comes after it get that
    opportunity redrawn from the win.
    """
    if not win.any():
        return
    winners = acc[win]
    before = history.first_win[winners]
    np.minimum.at(history.first_win, winners, close[win])
    moved = np.unique(winners[history.first_win[winners] < before])
    moved = moved[history.next_arrival[moved] > history.first_win[moved]]
    history.next_arrival[moved] = history.first_win[moved] + setting.wait(setting.won_rate[moved])


def _outcomes(
    deals: dict[str, np.ndarray],
    pop: Population,
    effects: Effects,
    log_amount_shift: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Win, time to close and amount of new deals, given their proxies (drawn independently)."""
    terms = _Terms.of(deals, pop)
    won = _won(terms, effects, rng)
    close = _close(terms, deals["created"], effects, rng)
    list_price, amount = _prices(
        terms, pop.unit_price[deals["product"]], effects, log_amount_shift, rng
    )
    return {"won": won, "close": close, "list_price": list_price, "amount": amount}


@dataclass(frozen=True)
class _Terms:
    """What the outcomes of new deals depend on: account size and the proxies, one row per deal."""

    size: np.ndarray
    repeat: np.ndarray
    referral: np.ndarray
    outbound: np.ndarray
    same_owner: np.ndarray
    new_product: np.ndarray
    owner_prior: np.ndarray

    @classmethod
    def of(cls, deals: dict[str, np.ndarray], pop: Population) -> _Terms:
        return cls(
            size=pop.size[deals["account"]],
            repeat=deals["prior_won_deals"] > 0,
            referral=deals["group"] == GROUPS.index("referral"),
            outbound=deals["group"] == _OUTBOUND,
            same_owner=deals["same_owner_as_last"],
            new_product=deals["is_new_product_for_account"],
            owner_prior=deals["owner_prior_deals"],
        )


def _won(terms: _Terms, effects: Effects, rng: np.random.Generator) -> np.ndarray:
    """Whether each deal is won: a logit in size, new product and the planted effects."""
    won_logit = (
        WON_LOGIT
        + WON_SIZE * terms.size
        + WON_NEW_PRODUCT * terms.new_product
        + np.where(terms.new_product, effects.repeat_won_new_product, effects.repeat_won)
        * terms.repeat
        + effects.referral_won * terms.referral
        + effects.rep_initiated_won * terms.outbound
        + effects.experience_won * terms.owner_prior
    )
    return rng.random(len(terms.size)) < _expit(won_logit)


def _close(
    terms: _Terms, created: np.ndarray, effects: Effects, rng: np.random.Generator
) -> np.ndarray:
    """Second each deal closes: Weibull proportional hazards after the minimum cycle of one step."""
    log_hazard = (
        CLOSE_SIZE * terms.size
        + effects.repeat_close * terms.repeat
        + effects.referral_close * terms.referral
        + effects.same_owner_close * terms.same_owner
    )
    draws = rng.exponential(size=len(terms.size)) * np.exp(-log_hazard)
    days = CLOSE_SCALE_DAYS * draws ** (1 / CLOSE_SHAPE)
    return created + STEP + np.ceil(days * DAY).astype(np.int64)


def _prices(
    terms: _Terms,
    unit_price: np.ndarray,
    effects: Effects,
    log_amount_shift: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Each deal's value at list prices (unit price times quantity) and its amount after discount.

    Repeat customers' price realisation carries ``log_amount_shift`` of their log(amount) effect;
    the quantity carries the rest.
    """
    k = len(terms.size)
    log_quantity = (
        SEATS_LOG
        + SEATS_SIZE * terms.size
        + (effects.repeat_log_amount - log_amount_shift) * terms.repeat
        + effects.referral_log_amount * terms.referral
        + effects.same_owner_log_amount * terms.same_owner
        + effects.rep_initiated_log_amount * terms.outbound
        + effects.experience_log_amount * terms.owner_prior
        + rng.normal(0.0, AMOUNT_SD, k)
    )
    list_price = np.round(unit_price * np.exp(log_quantity), 2)
    realisation = REALISATION + effects.repeat_price_realisation * terms.repeat
    realisation = realisation + rng.normal(0.0, REALISATION_SD, k)
    # Cents, as a CRM stores them; the rounding is far below the noise.
    return list_price, np.round(list_price * realisation, 2)
