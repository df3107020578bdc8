"""What a known export layout looks like: its headers, the fields they hold, and how to spot it.

Each vendor module (:mod:`~salesinsight.io.vendors.salesforce`, :mod:`~salesinsight.io.vendors.hubspot`, ...)
declares its layouts as :class:`TableFormat` values. A layout maps export headers onto *fields*:
the canonical columns of :mod:`salesinsight.schemas` plus a few intermediate ones that the cleaner
resolves (``close_date`` is a forecast for open deals and a close for won or lost ones; ``won_at``,
``lost_at``, ``is_won``, ``is_closed``, ``deal_ref`` and ``deal_name`` link and decide;
``amount_converted`` and ``converted_currency`` are a multi-currency report's amounts in the
corporate currency).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "FIELDS",
    "REQUIRED",
    "ROLES",
    "TableFormat",
    "header_key",
    "snake_case",
]

ROLES = ("deals", "activities", "accounts")

#: Fields a header can map onto; anything else a user names in ``columns=`` is kept as given.
FIELDS = (
    "deal_id",
    "deal_name",
    "account",
    "account_id",
    "owner",
    "created_at",
    "closed_at",
    "close_date",
    "won_at",
    "lost_at",
    "expected_close_at",
    "status",
    "stage",
    "is_won",
    "is_closed",
    "amount",
    "actual_amount",
    "amount_converted",
    "converted_currency",
    "currency",
    "lead_source",
    "loss_reason",
    "deal_type",
    "probability",
    "product",
    "list_price",
    "industry",
    "employees",
    "annual_revenue",
    "segment",
    "activity_id",
    "contact",
    "deal_ref",
    "type",
    "subject",
    "occurred_at",
)

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """Normalise a header for matching: trimmed, spaces collapsed, case-folded.

    Examples
    --------
    >>> header_key("  Deal -  Stage ")
    'deal - stage'
    """
    return _SPACES.sub(" ", header.replace("\ufeff", "").strip()).casefold()


def snake_case(header: str) -> str:
    """The snake_case column name an unknown header is kept under.

    Examples
    --------
    >>> snake_case("Probability (%)")
    'probability'
    >>> snake_case("(Do Not Modify) Row Checksum")
    'row_checksum'
    >>> snake_case("Organization - Number of employees")
    'organization_number_of_employees'
    >>> snake_case("Région")
    'region'
    """
    text = re.sub(r"^\(do not modify\)\s*", "", header_key(header))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.replace("%", " ").replace("#", " number ")
    name = _NON_WORD.sub("_", text).strip("_")
    if not name:
        return "unnamed"
    return f"c_{name}" if name[0].isdigit() else name


@dataclass(frozen=True)
class TableFormat:
    """One known export layout of one vendor.

    Attributes
    ----------
    crm : str
        Vendor name (``"salesforce"``, ``"hubspot"``, ...).
    role : str
        ``"deals"``, ``"activities"`` or ``"accounts"``.
    label : str
        A name a person recognises, e.g. ``"Salesforce report export"``.
    headers : Mapping[str, str]
        Export header -> field. Several headers may feed one field; the first present wins and
        the others are kept as ordinary columns.
    signature : tuple[str, ...]
        Headers whose presence identifies the layout; at least half must be present.
    stages : Mapping[str, str]
        The vendor's default stage names -> ``won``/``lost``/``open``.
    statuses : Mapping[str, str]
        Values of a status column -> ``won``/``lost``/``open``/``deleted``.
    default_type : str or None
        Activity type when the export has no type column (a calls export holds calls).
    links_optional : bool
        An activities export that may name no deal, related record or account (Zoho's Tasks):
        it is read all the same, and its rows without a link go to the ledger as not linkable.
    """

    crm: str
    role: str
    label: str
    headers: Mapping[str, str]
    signature: tuple[str, ...]
    stages: Mapping[str, str] = field(default_factory=dict)
    statuses: Mapping[str, str] = field(default_factory=dict)
    default_type: str | None = None
    links_optional: bool = False

    def field_map(self) -> dict[str, str]:
        """Header key -> field, for matching with :func:`header_key`."""
        return {header_key(h): f for h, f in self.headers.items()}

    def label_of(self, field_name: str) -> str | None:
        """The first header this layout expects for a field (for error messages)."""
        return next((h for h, f in self.headers.items() if f == field_name), None)


#: Fields without which a table of each role cannot be used; tuples are alternatives. An
#: activities layout with ``links_optional`` needs only ``occurred_at``.
REQUIRED: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "deals": (("stage", "status", "is_won"), ("created_at",), ("amount", "amount_converted")),
    "activities": (("occurred_at",), ("deal_ref", "deal_name", "account")),
    "accounts": (("account", "account_id"),),
}
