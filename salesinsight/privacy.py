"""Make outputs safe to share: salted pseudonyms for names, and CSV cells Excel will not execute.

:func:`pseudonymize` replaces account, contact and owner names (and free-text columns that tend to
hold them, such as deal names or activity subjects) by stable salted hashes: the same name and salt
always give the same pseudonym, so groupings, repeat customers and rep continuity survive, but the
name cannot be recovered without the salt. :func:`pseudonymize_export` applies it to every table of
an export, the cleaning ledger included.

:func:`excel_safe` neutralises text cells that a spreadsheet would read as a formula (CSV injection).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from salesinsight.exceptions import InvalidValueError

__all__ = [
    "NAME_COLUMNS",
    "excel_safe",
    "name_columns",
    "pseudonymize",
    "pseudonymize_export",
]

NAME_COLUMNS = ("account", "account_id", "owner")
"""Canonical columns that always hold names or name-derived ids."""

# Snake-cased export columns that hold people, companies or free text about them. Matched as whole
# words of the column name, so `deal_owner` and `contact_person` match but `ownership` does not.
_NAME_WORDS = {
    "acct": ("account", "organization", "organisation", "company", "customer", "client"),
    "rep": ("owner", "user", "assigned", "salesperson", "rep", "created_by", "modified_by"),
    "contact": ("contact", "person", "email", "e_mail", "phone", "mobile", "first_name",
                "last_name", "full_name"),
    "text": ("name", "title", "subject", "description", "note", "notes", "comment", "comments",
             "next_step"),
}  # fmt: skip

# Canonical columns that hold codes or categories, never names, even if a word above matches.
_NEVER = frozenset(
    {
        "deal_id",
        "activity_id",
        "source_file",
        "source_row",
        "crm",
        "status",
        "stage",
        "currency",
        "lead_source",
        "lead_source_group",
        "deal_type",
        "type",
        "product",
        "industry",
        "segment",
        "action",
        "reason",
        "value",
        "column",
        "created_quarter",
    }
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Names shorter than this are not searched for inside free text: "Al" would hit "Also".
_MIN_NAME_IN_TEXT = 4


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _is_text(pd.Series(dtype.categories))
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _kind(column: str) -> str | None:
    """The pseudonym prefix for a column, or None when the column does not hold names."""
    if column in _NEVER:
        return None
    if column == "account_id" or (column.endswith("_id") and _kind(column[:-3]) == "acct"):
        return "acctid"
    padded = f"_{column}_"
    for kind, words in _NAME_WORDS.items():
        if any(f"_{word}_" in padded for word in words):
            return kind
    return None


def name_columns(frame: pd.DataFrame) -> list[str]:
    """The text columns of `frame` that :func:`pseudonymize` replaces by default.

    The canonical `account`, `account_id` and `owner`, plus any text column whose snake_case name
    contains a word such as account, company, owner, contact, person, email, phone, name, title,
    subject, description or notes (free text that tends to mention people and customers).

    Parameters
    ----------
    frame : DataFrame
        Any table of an export: deals, activities, accounts or the output of `trust_features`.

    Returns
    -------
    list of str
        Column names, in the frame's order.

    Examples
    --------
    >>> import pandas as pd
    >>> deals = pd.DataFrame({"deal_id": ["1"], "account": ["Acme"], "owner": ["Ann Lee"],
    ...                       "opportunity_name": ["Acme - renewal"], "amount": [10.0],
    ...                       "same_owner_as_last": [False], "stage": ["Closed Won"]})
    >>> name_columns(deals)
    ['account', 'owner', 'opportunity_name']
    """
    return [
        str(c)
        for c in frame.columns
        if isinstance(c, str) and _kind(c) is not None and _is_text(frame[c])
    ]


def _key(salt: str) -> bytes:
    if not isinstance(salt, str) or not salt:
        raise InvalidValueError(
            f"Pseudonymizing needs a non-empty text `salt`; got {salt!r}. Without a secret salt "
            "anyone could recover a name by hashing candidate names. Pass salt='...' (keep it "
            "private; the same salt gives the same pseudonyms in every report)."
        )
    return hashlib.sha256(salt.encode("utf-8")).digest()


def _pseudonym(value: Any, kind: str, key: bytes) -> str:
    digest = hashlib.blake2b(str(value).encode("utf-8"), key=key, digest_size=6).hexdigest()
    return f"{kind}-{digest}"


def _hash_series(series: pd.Series, kind: str, key: bytes) -> tuple[pd.Series, dict[str, str]]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if not len(uniques):
        # Nothing to hide (every cell empty, e.g. an activities export without contacts).
        return series.copy(), {}
    mapping = {str(u): _pseudonym(u, kind, key) for u in uniques}
    hashed = pd.Series([mapping[str(u)] for u in uniques], dtype="str")
    out = hashed.take(codes.clip(min=0)).where(codes >= 0).astype("str")
    out.index = series.index
    return out, mapping


def pseudonymize(
    frame: pd.DataFrame, *, salt: str, columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """Replace names by stable salted pseudonyms such as ``acct-3f9a1c2b7d4e``.

    Each distinct value gets a keyed BLAKE2 hash of the value, prefixed by what the column holds:
    ``acct`` (account or company), ``acctid`` (account id), ``rep`` (owner), ``contact`` (people,
    emails, phones) or ``text`` (deal names, subjects, notes). The same value and salt always give
    the same hash, in every table and every report, so joins and groupings still work; missing
    values stay missing; other columns are returned unchanged.

    Parameters
    ----------
    frame : DataFrame
        Deals, activities, accounts, or the `trust_features` table.
    salt : str
        Secret text mixed into every hash; required and non-empty. Keep it private: whoever has it
        can test a guessed name against a pseudonym.
    columns : iterable of str, optional
        Columns to replace. Default: :func:`name_columns` of `frame`. Names absent from `frame`
        are skipped, so one list can serve deals, activities and ledger alike.

    Returns
    -------
    DataFrame
        A new frame; the input is not modified.

    Raises
    ------
    InvalidValueError
        If `salt` is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> deals = pd.DataFrame({"account": ["Acme", "Acme", None], "owner": ["Ann Lee"] * 3,
    ...                       "amount": [1.0, 2.0, 3.0]})
    >>> out = pseudonymize(deals, salt="s3cret")
    >>> out["account"].tolist()
    ['acct-...', 'acct-...', nan]
    >>> bool(out.loc[0, "account"] == out.loc[1, "account"]), out["amount"].tolist()
    (True, [1.0, 2.0, 3.0])
    >>> out.loc[0, "owner"].startswith("rep-")
    True
    """
    out, _ = _pseudonymize_with_mapping(frame, salt=salt, columns=columns)
    return out


def _pseudonymize_with_mapping(
    frame: pd.DataFrame, *, salt: str, columns: Iterable[str] | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    key = _key(salt)
    chosen = name_columns(frame) if columns is None else [c for c in columns if c in frame]
    replaced: dict[str, pd.Series] = {}
    mapping: dict[str, str] = {}
    for column in chosen:
        kind = _kind(column) or "text"
        replaced[column], names = _hash_series(frame[column], kind, key)
        mapping.update(names)
    return frame.assign(**replaced), mapping


def _replace_names_in_text(series: pd.Series, names: dict[str, str]) -> pd.Series:
    searchable = {n: p for n, p in names.items() if len(n) >= _MIN_NAME_IN_TEXT}
    if not searchable or series.isna().all():
        return series
    ordered = sorted(searchable, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)")
    text = series.astype("str")
    out = text.str.replace(pattern, lambda m: searchable[m.group(0)], regex=True)
    return out.where(series.notna())


def _pseudonymize_ledger(ledger: pd.DataFrame, names: dict[str, str], key: bytes) -> pd.DataFrame:
    if ledger is None or ledger.empty or "value" not in ledger:
        return ledger
    value = ledger["value"]
    kinds = ledger["column"].map(lambda c: _kind(c) if isinstance(c, str) else None)
    is_name = kinds.notna() & value.notna()
    hashed = [_pseudonym(v, k, key) for v, k in zip(value[is_name], kinds[is_name], strict=True)]
    value = _replace_names_in_text(value, names).astype(object)
    value.loc[is_name] = hashed
    out = ledger.assign(value=value.astype("str").where(ledger["value"].notna()))
    if "reason" in out:
        out = out.assign(reason=_replace_names_in_text(out["reason"], names))
    return out


def pseudonymize_export(export: Any, *, salt: str) -> Any:
    """Pseudonymize every table of an :class:`~salesinsight.export.Export`, the ledger included.

    Deals, activities and accounts go through :func:`pseudonymize` with its default columns. In the
    ledger, a value of a name column (``account``, ``owner``, ...) is replaced by its pseudonym, and
    any known name found inside other values or reasons is replaced in place.

    Parameters
    ----------
    export : Export
        The result of :func:`salesinsight.export.read_export`.
    salt : str
        Secret text mixed into every hash, as for :func:`pseudonymize`.

    Returns
    -------
    Export
        A new export of the same class; the input is not modified.

    Examples
    --------
    >>> from salesinsight.datasets import load_sample
    >>> export = load_sample()
    >>> safe = pseudonymize_export(export, salt="s3cret")
    >>> bool(safe.deals["account"].dropna().str.startswith("acct-").all())
    True
    >>> len(safe.deals) == len(export.deals)
    True
    """
    key = _key(salt)
    names: dict[str, str] = {}
    tables: dict[str, pd.DataFrame | None] = {}
    for field in ("deals", "activities", "accounts"):
        table = getattr(export, field, None)
        if table is None:
            tables[field] = None
            continue
        tables[field], mapping = _pseudonymize_with_mapping(table, salt=salt, columns=None)
        names.update(mapping)
    tables["ledger"] = _pseudonymize_ledger(export.ledger, names, key)
    return dataclasses.replace(export, **{k: v for k, v in tables.items() if hasattr(export, k)})


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise text cells that a spreadsheet would run as a formula, for CSV outputs.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe, which Excel, LibreOffice and Google Sheets read as "this is text". Numbers stored as
    numbers (negative amounts included) are left alone, as are column names that are not text.

    Parameters
    ----------
    frame : DataFrame
        Any table about to be written with ``to_csv``.

    Returns
    -------
    DataFrame
        A new frame; the input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"value": ["=HYPERLINK(\\"x\\")", "-3", "ok", None],
    ...                       "amount": [-3.0, 1.0, 2.0, 4.0]})
    >>> excel_safe(frame)
                       value  amount
    0  '=HYPERLINK("x")    -3.0
    1                    '-3     1.0
    2                     ok     2.0
    3                    NaN     4.0
    """
    changed: dict[Any, pd.Series] = {}
    for column in frame.columns:
        series = frame[column]
        if not _is_text(series):
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        risky = series.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_STARTS))
        if risky.any():
            changed[column] = series.mask(risky.astype(bool), "'" + series[risky].astype(str))
    out = frame.copy()
    for column, series in changed.items():
        out[column] = series
    out.columns = [
        "'" + c if isinstance(c, str) and c.startswith(_FORMULA_STARTS) else c for c in out.columns
    ]
    return out
