"""The book's claims as data: what each claim says, which proxies stand for it and how it is tested.

The claims paraphrase Mark Hunter, *A Mind for Sales* (2020); the wording is ours, not the book's.
:func:`salesinsight.claims.evaluate.evaluate_claims` reads this registry; notebooks and the report read it
to cite each claim next to its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLAIMS",
    "CONTROL_WORDS",
    "FIELD_HINTS",
    "OUTCOMES",
    "PROXIES",
    "Claim",
    "Outcome",
    "Proxy",
]

SOURCE = "Hunter, A Mind for Sales, 2020"


@dataclass(frozen=True)
class Proxy:
    """A column standing for trust, and how to speak of it.

    A flag compares `label` with `contrast`; a number is read per `unit` (its values divided by
    `per` into the column `term` before the fit, so that a ratio per 10 deals or per year is not
    a ratio of 1.00). `noun` names it in a sentence ("associated with both being a repeat
    customer and ...").
    """

    column: str
    label: str
    contrast: str = ""
    unit: str = ""
    per: float = 1.0
    term: str = ""
    noun: str = ""

    @property
    def is_flag(self) -> bool:
        return not self.unit

    @property
    def scaled(self) -> str:
        """The name of the column that enters the models (`term` when rescaled)."""
        return self.term or self.column


@dataclass(frozen=True)
class Outcome:
    """An outcome as it appears in the scorecard: its effect words and a phrase for the narrative.

    `phrase` takes the formatted ratio, e.g. ``"won deals are {ratio} as large"``; `noun` names
    the outcome in a sentence ("... associated with both ... and deal size"). `direction` is -1
    for an outcome the claim predicts to fall (losing on price), multiplying the claim's.
    """

    name: str
    effect: str
    phrase: str
    noun: str = ""
    direction: int = 1


@dataclass(frozen=True)
class Claim:
    """One claim of the book made testable.

    Attributes
    ----------
    id : str
        ``"K1"`` ... ``"K8"``.
    claim : str
        Our paraphrase, citing the book.
    proxies : tuple of str
        Columns of ``trust_features`` standing for trust (keys of :data:`PROXIES`).
    outcomes : tuple of str
        Keys of :data:`OUTCOMES`.
    expected : str
        The predicted direction in words.
    direction : int
        +1 when the claim predicts ratios above 1, -1 below 1.
    method : str
        How it is tested, in words.
    needs : tuple of str
        Columns the claim needs besides its proxies and outcomes (its population, its panel or
        its clustering).
    """

    id: str
    claim: str
    proxies: tuple[str, ...]
    outcomes: tuple[str, ...]
    expected: str
    direction: int
    method: str
    needs: tuple[str, ...]


PROXIES: dict[str, Proxy] = {
    p.column: p
    for p in (
        Proxy(
            "is_repeat_customer",
            "repeat customers",
            "first-time buyers",
            noun="being a repeat customer",
        ),
        Proxy(
            "prior_won_deals",
            "",
            unit="earlier won deal of the account",
            noun="the account's earlier won deals",
        ),
        Proxy(
            "relationship_days",
            "",
            unit="year of relationship",
            per=365.25,
            term="relationship_years",
            noun="the length of the relationship",
        ),
        Proxy(
            "same_owner_as_last",
            "deals kept with the account's previous salesperson",
            "deals with a new salesperson",
            noun="keeping the account's previous salesperson",
        ),
        Proxy(
            "is_referral",
            "referred deals",
            "deals from other sources",
            noun="being referred",
        ),
        Proxy(
            "rep_initiated",
            "rep-initiated (outbound) deals",
            "reactive deals (inbound or existing-customer requests)",
            noun="being rep-initiated",
        ),
        Proxy(
            "owner_prior_deals",
            "",
            unit="10 earlier deals of the salesperson",
            per=10.0,
            term="owner_prior_deals_per_10",
            noun="the salesperson's experience",
        ),
    )
}

OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        Outcome("amount", "deal size ratio", "won deals are {ratio} as large", "deal size"),
        Outcome(
            "time_to_close",
            "hazard ratio of closing",
            "deals close {ratio} as fast",
            "the speed of closing",
        ),
        Outcome(
            "won", "odds ratio of winning", "the odds of winning are {ratio} as high", "winning"
        ),
        Outcome(
            "time_to_win",
            "hazard ratio of winning",
            "deals are won {ratio} as fast",
            "the speed of winning",
        ),
        Outcome(
            "proactive_opportunities",
            "rate ratio of proactive opportunities",
            "accounts see {ratio} as many rep-initiated or new-product opportunities a year",
            "the yearly number of proactive opportunities",
        ),
        Outcome(
            "proactive_deal",
            "odds ratio of a proactive deal",
            "the odds that a deal is rep-initiated or for a product new to the account are "
            "{ratio} as high",
            "a deal being proactive",
        ),
        Outcome(
            "opportunities",
            "rate ratio of new opportunities",
            "accounts open {ratio} as many new opportunities a year",
            "the yearly number of new opportunities",
        ),
        Outcome(
            "won_revenue",
            "rate ratio of won revenue",
            "accounts bring {ratio} as much won revenue a year",
            "yearly won revenue",
        ),
        Outcome(
            "price_realisation",
            "price realisation ratio",
            "won deals realise {ratio} as much of the list price",
            "the share of the list price realised",
        ),
        Outcome(
            "quote_realisation",
            "first-quote realisation ratio",
            "won deals keep {ratio} as much of their first quote",
            "the share of the first quote kept",
        ),
        Outcome(
            "lost_on_price",
            "odds ratio of losing on price",
            "the odds that a lost deal was lost on price are {ratio} as high",
            "losing on price",
            direction=-1,
        ),
    )
}

# How each automatic control (and the account-year panel's `year`) is named in sentences
# ("after account size, product and year").
CONTROL_WORDS = {
    "log_employees": "account size",
    "log_annual_revenue": "account size (annual revenue)",
    "product": "product",
    "industry": "industry",
    "segment": "segment",
    "created_year": "year",
    "year": "year",
}

# What an export would need to carry for a missing column to be derived.
FIELD_HINTS = {
    "list_price": "a list price per deal, from the price book",
    "product": "a product column",
    "is_new_product_for_account": "a product column, or deal types that name cross-sells",
    "lead_source_group": "a lead source column",
    "rep_initiated": "a lead source column",
    "is_referral": "a lead source column",
    "owner": "the deal owner",
    "owner_prior_deals": "the deal owner",
    "log_employees": "the account's number of employees",
    "employees": "the account's number of employees",
    "amount": "deal amounts",
    "account_id": "an account for every deal",
    "created_at": "creation dates",
    "closed_at": "close dates",
    "duration_days": "creation and close dates",
    "price_realisation": "a list price per deal, from the price book",
    "lost_on_price": "a loss reason column, e.g. Closed Lost Reason",
    "proactive_deal": "a lead source or a product column",
    "first_amount": "a stage-history export with amounts (read_stage_history)",
}

_K1_PROXIES = (
    "is_repeat_customer",
    "prior_won_deals",
    "relationship_days",
    "same_owner_as_last",
    "is_referral",
)

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "K1",
        f"Buyers who trust their salesperson spend more with them ({SOURCE}).",
        _K1_PROXIES,
        ("amount",),
        "larger won deals",
        1,
        "OLS of log(amount) over won deals, errors clustered by account; deal size ratio",
        (),
    ),
    Claim(
        "K2",
        f"Trust lets buyers make up their minds sooner ({SOURCE}).",
        _K1_PROXIES,
        ("time_to_close",),
        "faster closing",
        1,
        "Cox model of the time from creation to close, open deals censored; hazard ratio",
        (),
    ),
    Claim(
        "K3",
        f"A trusted salesperson gets new products adopted sooner ({SOURCE}).",
        ("is_repeat_customer",),
        ("won", "time_to_win"),
        "higher win rate and faster wins for products new to the account",
        1,
        "Among deals of a product new to the account: logit of winning and Cox model of the "
        "time to win (lost deals censored at their close)",
        ("is_new_product_for_account",),
    ),
    Claim(
        "K4",
        f"The more a customer trusts the salesperson, the more ideas the salesperson brings "
        f"({SOURCE}).",
        ("prior_won_deals", "relationship_days"),
        ("proactive_opportunities", "proactive_deal"),
        "more rep-initiated or new-product opportunities per account-year, and a larger share "
        "of them among the account's deals",
        1,
        "Pseudo-Poisson rate model on an account-year panel with exposure; logit of a deal being "
        "rep-initiated or for a new product, over deals of accounts with earlier deals; errors "
        "clustered by account",
        ("account_id", "created_at", "status", "closed_at"),
    ),
    Claim(
        "K5",
        f"Taking orders adds little; deals the salesperson creates are worth more ({SOURCE}).",
        ("rep_initiated",),
        ("amount", "won"),
        "larger and more often won than reactive deals",
        1,
        "Rep-initiated against reactive deals: OLS of log(amount) and logit of winning",
        ("lead_source_group",),
    ),
    Claim(
        "K6",
        f"Sales expertise is built by hours of practice ({SOURCE}).",
        ("owner_prior_deals",),
        ("won", "amount"),
        "win rate and deal size rising with the salesperson's experience",
        1,
        "Logit of winning and OLS of log(amount) on the salesperson's earlier deals, errors "
        "clustered by salesperson",
        ("owner",),
    ),
    Claim(
        "K7",
        f"Trusted relationships keep producing further business ({SOURCE}).",
        ("relationship_days", "is_repeat_customer"),
        ("opportunities", "won_revenue"),
        "more opportunities and revenue per year as the relationship ages and once the account "
        "has bought",
        1,
        "Pseudo-Poisson rate models of new opportunities and of their won revenue on an "
        "account-year panel (split at the account's first win) with exposure, errors clustered "
        "by account",
        ("account_id", "created_at", "status", "closed_at"),
    ),
    Claim(
        "K8",
        f"Without trust, buyers treat the seller like an online shop and push on price ({SOURCE}).",
        ("is_repeat_customer", "same_owner_as_last", "is_referral"),
        ("price_realisation", "quote_realisation", "lost_on_price"),
        "a larger share of the list price realised and of the first quote kept, and fewer deals "
        "lost on price",
        1,
        "OLS of log(amount / list price) over won deals with a list price; with a stage "
        "history, OLS of log(amount / first recorded amount), the share of the first quote kept "
        "(1 - negotiated discount); logit of a lost deal's loss reason naming price, over lost "
        "deals with a reason; errors clustered by account",
        (),
    ),
)
