"""Which vendor and which kind of table (deals, activities, accounts) a file is, from its headers.

Every known layout is scored by the share of its signature headers present; the best one with at
least half wins, ties going to the layout that maps more headers. The generic layouts are the last
resort and are only accepted when every field the table needs is found (with ``columns=`` help).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from salesinsight.exceptions import ColumnNotFoundError, ExportFormatError
from salesinsight.io.formats import REQUIRED, TableFormat, header_key
from salesinsight.io.vendors import dynamics, generic, hubspot, pipedrive, salesforce, zoho

__all__ = ["CRMS", "FIELD_WORDS", "FORMATS", "Match", "closest_header", "detect", "resolve_columns"]

FORMATS: tuple[TableFormat, ...] = (
    *salesforce.FORMATS,
    *hubspot.FORMATS,
    *pipedrive.FORMATS,
    *zoho.FORMATS,
    *dynamics.FORMATS,
)
CRMS = ("salesforce", "hubspot", "pipedrive", "zoho", "dynamics", "generic")

#: Words that a header holding each field tends to contain, to find the header a user renamed.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "amount": ("amount", "value", "revenue", "acv", "tcv", "arr", "total", "price", "size"),
    "stage": ("stage", "phase", "step", "pipeline", "status"),
    "status": ("status", "outcome", "result", "won", "stage"),
    "created_at": ("created", "create", "opened", "added", "start"),
    "close_date": ("close", "closing", "closed", "won", "end"),
    "deal_name": ("name", "title", "opportunity", "deal", "topic"),
    "account": ("account", "company", "customer", "client", "organization"),
    "owner": ("owner", "rep", "sales", "assigned", "user"),
    "occurred_at": ("date", "time", "start", "due", "when"),
    "lead_source": ("source", "campaign", "channel", "origin", "referral", "utm"),
    "loss_reason": ("reason", "lost", "loss", "why"),
    "product": ("product", "item", "sku", "plan", "edition", "module", "line"),
    "list_price": ("list", "price", "msrp", "rate"),
    # Counts of people a size can be read from, suggested rather than taken.
    "employees": (
        "employees",
        "headcount",
        "staff",
        "lawyers",
        "attorneys",
        "seats",
        "users",
        "people",
        "size",
    ),
}
# A file naming two of these kinds of field is a deals export, even if a field it needs is missing.
_DEAL_LIKE = (
    ("deal_name", "deal_id"),
    ("stage", "status", "is_won"),
    ("close_date", "closed_at", "won_at", "expected_close_at"),
)


@dataclass(frozen=True)
class Match:
    """A file's layout and how each of its headers maps onto a field (``header -> field``)."""

    format: TableFormat
    mapping: dict[str, str]
    score: float

    @property
    def crm(self) -> str:
        return self.format.crm

    @property
    def role(self) -> str:
        return self.format.role


def resolve_columns(
    headers: Sequence[str], fmt: TableFormat, columns: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map headers onto fields: the user's ``columns=`` first, then the layout's own headers.

    Examples
    --------
    >>> resolve_columns(["Stage", "Total ACV", "Amount"], salesforce.REPORT_DEALS,
    ...                 {"Total ACV": "amount"})
    {'Total ACV': 'amount', 'Stage': 'stage'}
    """
    user = {header_key(k): v for k, v in (columns or {}).items()}
    mapping: dict[str, str] = {}
    for h in headers:
        if header_key(h) in user:
            mapping[h] = user[header_key(h)]
    taken = set(mapping.values())
    present = {header_key(h): h for h in headers}
    for label, field_name in fmt.headers.items():
        found = present.get(header_key(label))
        if found is None or found in mapping or field_name in taken:
            continue
        mapping[found] = field_name
        taken.add(field_name)
    return mapping


def _signature_score(headers: Sequence[str], fmt: TableFormat) -> float:
    keys = {header_key(h) for h in headers}
    return sum(header_key(s) in keys for s in fmt.signature) / len(fmt.signature)


def _missing(mapping: Mapping[str, str], fmt: TableFormat) -> list[tuple[str, ...]]:
    fields = set(mapping.values())
    required = REQUIRED[fmt.role][:1] if fmt.links_optional else REQUIRED[fmt.role]
    return [alts for alts in required if not fields.intersection(alts)]


def detect(
    headers: Sequence[str],
    *,
    crm: str = "auto",
    columns: Mapping[str, str] | None = None,
    name: str = "the file",
) -> Match:
    """Find the layout of a file from its headers.

    Parameters
    ----------
    headers : sequence of str
        The file's header row.
    crm : str
        ``"auto"``, or one of :data:`CRMS` to consider only that vendor's layouts.
    columns : mapping, optional
        ``{header: field}`` overrides and additions to the layout's own map.
    name : str
        File name for error messages.

    Raises
    ------
    ExportFormatError
        No layout fits; the message lists the closest known layouts.
    ColumnNotFoundError
        The layout fits but a field the table needs is missing; the message names the closest
        header present and the ``columns=`` that would map it.

    Examples
    --------
    >>> m = detect(["Deal - ID", "Deal - Title", "Deal - Value", "Deal - Status", "Deal - Stage",
    ...             "Deal - Deal created"])
    >>> m.crm, m.role, m.mapping["Deal - Status"]
    ('pipedrive', 'deals', 'status')
    """
    if crm not in (*CRMS, "auto"):
        raise ExportFormatError(
            f"Unknown crm={crm!r}. Expected 'auto' or one of {', '.join(map(repr, CRMS))}."
        )
    pool = [f for f in FORMATS if crm in ("auto", f.crm)]
    scored = sorted(
        (
            (_signature_score(headers, f), len(resolve_columns(headers, f, columns)), f)
            for f in pool
        ),
        key=lambda t: (t[0], t[1]),
        reverse=True,
    )
    fits = [t for t in scored if t[0] >= 0.5] or (
        scored[:1] if crm not in ("auto", "generic") else []
    )
    for score, _, fmt in fits:
        mapping = resolve_columns(headers, fmt, columns)
        if not _missing(mapping, fmt):
            return Match(fmt, mapping, score)
        if fmt.role == "deals" and _deal_like(mapping):
            # Deal-like headers: a deals export with a renamed column, not an accounts export.
            raise _column_error(headers, fmt, mapping, name)
    if fits:
        _, _, fmt = fits[0]
        raise _column_error(headers, fmt, resolve_columns(headers, fmt, columns), name)
    for fmt in generic.FORMATS:
        mapping = resolve_columns(headers, fmt, columns)
        if not _missing(mapping, fmt) and (fmt.role != "accounts" or crm == "generic"):
            return Match(fmt, mapping, _signature_score(headers, fmt))
    if crm == "generic":
        raise _column_error(
            headers, generic.DEALS, resolve_columns(headers, generic.DEALS, columns), name
        )
    raise ExportFormatError(_format_message(headers, scored, name))


def _deal_like(mapping: Mapping[str, str]) -> bool:
    fields = set(mapping.values())
    return sum(bool(fields.intersection(kind)) for kind in _DEAL_LIKE) >= 2


def closest_header(field_name: str, wanted: str, headers: Sequence[str]) -> str | None:
    """The header among `headers` most likely to hold `field_name` (expected as `wanted`).

    Headers containing a word typical of the field (:data:`FIELD_WORDS`) come first; among
    them, and otherwise among all, the one most similar to `wanted`.

    Examples
    --------
    >>> closest_header("amount", "Amount", ["Lead Source", "Total Contract Value", "Type"])
    'Total Contract Value'
    >>> closest_header("stage", "Stage", ["Opportunity Name", "Sales Stage"])
    'Sales Stage'
    """
    if not headers:
        return None
    words = FIELD_WORDS.get(field_name, ())
    likely = [h for h in headers if any(w in header_key(h).split() for w in words)]
    likely = likely or [h for h in headers if any(w in header_key(h) for w in words)]
    pool = likely or list(headers)
    return max(pool, key=lambda h: difflib.SequenceMatcher(None, wanted.lower(), h.lower()).ratio())


def _column_error(
    headers: Sequence[str], fmt: TableFormat, mapping: Mapping[str, str], name: str
) -> ColumnNotFoundError:
    alts = _missing(mapping, fmt)[0]
    wanted = next((label for a in alts if (label := fmt.label_of(a))), alts[0])
    close = closest_header(alts[0], wanted, [h for h in headers if h not in mapping])
    closest = f" Closest: `{close}`." if close else ""
    hint = close or "<your header>"
    return ColumnNotFoundError(
        f"Column `{wanted}` ({' or '.join(alts)}) not found in the {fmt.label} `{name}`."
        f"{closest} Pass `columns={{{hint!r}: {alts[0]!r}}}` to read_export, or "
        f"`--columns {_quoted(f'{hint}={alts[0]}')}` on the command line, to map it."
    )


def _quoted(text: str) -> str:
    """`text` quoted for a shell, as a person would type it."""
    return f"'{text}'" if "'" not in text else f'"{text}"'


def _format_message(headers: Sequence[str], scored: list, name: str) -> str:
    shown = ", ".join(f"`{h if len(h) <= 60 else h[:60] + '...'}`" for h in list(headers)[:12])
    more = f" and {len(headers) - 12} more" if len(headers) > 12 else ""
    lines = [
        f"Could not tell which CRM export `{name}` is. Its headers: {shown}{more}.",
        "Closest known formats:",
    ]
    keys = {header_key(h) for h in headers}
    for score, _, fmt in scored[:3]:
        missing = [s for s in fmt.signature if header_key(s) not in keys]
        lines.append(
            f"  - {fmt.label} ({fmt.crm}, {fmt.role}): {score:.0%} of its key headers; "
            f"missing {', '.join(f'`{m}`' for m in missing)}"
        )
    lines.append(
        "Pass crm='generic' with columns={'<header>': '<field>'} (fields such as deal_id, "
        "account, owner, created_at, close_date, stage, status, amount, currency) to read it; on "
        "the command line, --crm generic --columns '<header>=<field>'."
    )
    return "\n".join(lines)
