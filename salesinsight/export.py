"""``read_export``: one or several CRM export files to canonical tables plus a ledger."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa

from salesinsight.clean.accounts import clean_accounts, enrich_deals
from salesinsight.clean.activities import link_activities, prepare_activities
from salesinsight.clean.deals import clean_deals
from salesinsight.clean.ledger import (
    concat_ledgers,
    empty_ledger,
    ledger_frame,
    read_drops,
    read_fixes,
)
from salesinsight.clean.money import check_currency_code
from salesinsight.clean.options import CleanOptions
from salesinsight.clean.stage_history import CleanedHistory, clean_stage_history
from salesinsight.exceptions import DataQualityWarning, ExportFormatError, InvalidValueError
from salesinsight.io.detect import Match, detect
from salesinsight.io.files import DEFAULT_MAX_BYTES, read_table
from salesinsight.io.formats import header_key
from salesinsight.io.history import history_cells
from salesinsight.io.memory import reading_pool
from salesinsight.io.raw import RawTable
from salesinsight.io.vendors.history import history_layout, wide_columns
from salesinsight.io.warehouse.conventions import drop_stale_rows
from salesinsight.schemas import (
    LEAD_SOURCE_GROUPS,
    LEDGER_COLUMNS,
    Accounts,
    Activities,
    Deals,
    Ledger,
    StageHistory,
)

__all__ = [
    "DROP_CODES",
    "PARALLEL_BYTES",
    "STAND_IN_FIELDS",
    "Export",
    "check_invariant",
    "clean_options",
    "read_export",
    "read_stage_history",
    "source_group_map",
    "validated_export",
]

#: Kinds of dropped rows counted by :meth:`Export.summary`, in column order.
DROP_CODES = (
    "blank",
    "footer",
    "summary",
    "test_record",
    "deleted",
    "duplicate",
    "repeated_id",
    "header",
    "malformed",
    "orphan",
    "same_stage",
    "amount_change",
    "not_stage",
)
_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls", ".htm", ".html"}


@dataclass(frozen=True)
class Export:
    """The canonical tables read from one or several export files.

    Attributes
    ----------
    deals : pandas.DataFrame
        Validated by :class:`salesinsight.schemas.Deals`.
    activities, accounts : pandas.DataFrame or None
        Present when an activities or accounts export was among the files.
    ledger : pandas.DataFrame
        Every dropped row and changed value (:class:`salesinsight.schemas.Ledger`).
    crm : str
        Vendor of the deals export.
    currency : str
        The reporting currency of ``deals["amount"]`` (ISO 4217).
    files : pandas.DataFrame
        One row per file: what was detected and how many data rows it has.
    unmapped : mapping of str to tuple of str
        Per file, the headers no field was read from (kept as snake_case columns): where to look
        for a field the export seems to lack.
    stage_history : pandas.DataFrame or None
        One row per stage a deal entered (:class:`salesinsight.schemas.StageHistory`), once
        :func:`read_stage_history` has read a history export.
    """

    deals: pd.DataFrame
    activities: pd.DataFrame | None
    accounts: pd.DataFrame | None
    ledger: pd.DataFrame
    crm: str
    files: pd.DataFrame
    currency: str = "USD"
    ledger_codes: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=object))
    unmapped: Mapping[str, tuple[str, ...]] = field(repr=False, default_factory=dict)
    stage_history: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """One row per file: detected layout, rows read / kept / dropped (by reason), fixes.

        Columns: ``file, role, crm, format, encoding, delimiter, decimal, date_format,
        rows_read, rows_kept, rows_dropped``, then ``dropped_<reason>`` for each of
        :data:`DROP_CODES` (plus ``dropped_other``), ``values_fixed`` and ``values_set_missing``.
        """
        ledger = self.ledger.assign(code=self.ledger_codes.to_numpy())
        rows = []
        for info in self.files.to_dict("records"):
            mine = ledger[ledger["source_file"] == info["file"]]
            dropped = mine[mine["action"] == "dropped"]
            counts = dropped["code"].value_counts()
            row = {**info}
            row["rows_kept"] = info["rows_read"] - len(dropped)
            row["rows_dropped"] = len(dropped)
            for code in DROP_CODES:
                row[f"dropped_{code}"] = int(counts.get(code, 0))
            row["dropped_other"] = int(len(dropped) - sum(counts.get(c, 0) for c in DROP_CODES))
            row["values_fixed"] = int((mine["action"] == "fixed").sum())
            row["values_set_missing"] = int((mine["action"] == "set_missing").sum())
            rows.append(row)
        return pd.DataFrame(rows)

    def source_groups(self) -> pd.DataFrame:
        """How the lead sources were grouped: one row per source label as exported, with its
        ``lead_source_group`` and the number of ``deals``, by group then most deals first.

        Deals without a source count under a missing label (group ``unknown``); labels the
        word rules did not place are in group ``other``.

        Examples
        --------
        >>> from salesinsight.datasets import load_sample
        >>> table = load_sample().source_groups()
        >>> list(table.columns)
        ['lead_source_group', 'lead_source', 'deals']
        >>> int(table["deals"].sum()) == len(load_sample().deals)
        True
        """
        order = {g: i for i, g in enumerate(LEAD_SOURCE_GROUPS)}
        counts = (
            self.deals.groupby(["lead_source_group", "lead_source"], dropna=False, sort=False)
            .size()
            .rename("deals")
            .reset_index()
        )
        counts["rank"] = counts["lead_source_group"].map(order)
        counts = counts.sort_values(["rank", "deals"], ascending=[True, False], kind="stable")
        return counts.drop(columns="rank").reset_index(drop=True)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _paths(path_or_paths) -> list[Path]:
    if isinstance(path_or_paths, str | Path):
        items = [Path(path_or_paths)]
    elif isinstance(path_or_paths, Mapping):
        items = [Path(p) for p in path_or_paths.values()]
    else:
        items = [Path(p) for p in path_or_paths]
    out: list[Path] = []
    for p in items:
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix.lower() in _SUFFIXES))
        else:
            out.append(p)
    if not out:
        raise ExportFormatError(f"No export files found in {path_or_paths!r}.")
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise InvalidValueError(
            f"Two files share a name ({names}); ledger rows name files without directories, "
            "so rename one of them."
        )
    return out


def read_export(
    path_or_paths,
    crm: str = "auto",
    *,
    columns: Mapping[str, str] | None = None,
    currency: str | None = None,
    fx: Mapping[str, float] | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    stages: Mapping[str, str] | None = None,
    source_groups: Mapping[str, str] | str | os.PathLike[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Export:
    """Read CRM export file(s) into canonical deals (+ activities, accounts) and a ledger.

    Parameters
    ----------
    path_or_paths : path, sequence of paths, mapping of paths, or a directory
        Deals, activities, accounts and stage-history exports; each file's role is detected
        from its headers. A stage history (the exports :func:`read_stage_history` reads) is read
        against the deals into ``stage_history``, as is the history a HubSpot deals export holds
        in its ``Date entered`` / ``Date exited`` columns.
    crm : str
        ``"auto"`` (detect from headers), or ``"salesforce"``, ``"hubspot"``, ``"pipedrive"``,
        ``"zoho"``, ``"dynamics"``, ``"generic"``.
    columns : mapping, optional
        ``{export header: field}``: maps an unknown export's headers (the generic path) and
        overrides or extends a vendor's map, e.g. ``{"Total ACV": "amount"}``.
    currency : str, optional
        Reporting currency of ``amount``, an ISO 4217 code. Default: the deals' own currency
        when they all share one (an EUR-only export reports in EUR; a multi-currency Salesforce
        report with ``Amount (converted)``, its corporate currency), else USD.
    fx : mapping, optional
        ``{"EUR": 1.10}``: units of the reporting currency per unit of each other currency. A
        deal in a currency without a rate keeps ``amount`` missing, with a ledger row, unless the
        export converted it (``Amount (converted)`` in the reporting currency).
    dayfirst : bool, optional
        Force day/month order (otherwise inferred from all the dates of each file).
    encoding : str, optional
        Force the text encoding (otherwise sniffed: UTF-8 with or without BOM, UTF-16, cp1252).
    stages : mapping, optional
        ``{stage: "won" | "lost" | "open"}`` for renamed or custom stages.
    source_groups : mapping or path, optional
        ``{lead source: group}``, or a CSV file with columns ``source,group``: lead sources
        (or campaign names) put in a group of :data:`salesinsight.schemas.LEAD_SOURCE_GROUPS`
        before the word rules of :data:`salesinsight.clean.categories.LEAD_RULES` are tried.
    max_bytes : int
        Size guard per file (default 2 GiB).

    Returns
    -------
    Export

    Notes
    -----
    Files adding up to :data:`PARALLEL_BYTES` (4 MB) or more are read and cleaned side by side,
    and the columns of a large file too, in as many threads as :func:`pyarrow.cpu_count` (which
    follows ``OMP_NUM_THREADS``; ``pyarrow.set_cpu_count(1)`` reads one thing at a time). The
    result does not depend on it. A file of 16 MB or more is mapped into memory rather than
    copied, so do not overwrite an export while it is being read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "report1718000000000.csv"
    >>> _ = p.write_text(
    ...     '"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount",'
    ...     '"Close Date","Created Date"\\n'
    ...     '"Ann","Acme","Acme - 10 seats","Closed Won","$22,700.00","6/12/24","5/1/24"\\n'
    ...     '"Ann","Beta","Beta - pilot","Prospecting","$5,000.00","7/1/24","5/20/24"\\n'
    ...     '\\n"Grand Totals (2 records)"\\n')
    >>> export = read_export(p)
    >>> export.crm, export.deals[["status", "amount"]].values.tolist()
    ('salesforce', [['won', 22700.0], ['open', 5000.0]])
    >>> export.deals[["closed_at", "expected_close_at"]].astype(str).values.tolist()
    [['2024-06-12', nan], [nan, '2024-07-01']]
    >>> export.summary()[["rows_read", "rows_kept", "dropped_footer"]].values.tolist()
    [[4, 2, 2]]
    """
    opts = clean_options(currency, fx, dayfirst, stages, source_groups)

    def read(path: Path) -> _File | RawTable:
        raw = drop_stale_rows(read_table(path, encoding=encoding, max_bytes=max_bytes))
        if history_layout(raw.headers, crm) is not None:
            # A stage-history export: read once the deals it belongs to are known.
            return raw
        match = detect(raw.headers, crm=crm, columns=columns, name=raw.name)
        if match.role == "deals" and any(c.edge == "entered" for c in wide_columns(raw.headers)):
            # A HubSpot deals export with `Date entered` columns holds the history as well.
            wide.append(raw)
        pa.default_memory_pool().release_unused()
        return _clean_file(raw, match, opts)

    wide: list[RawTable] = []
    with reading_pool():
        read_files = _map_files(read, _paths(path_or_paths))
        # Memory the parser and the cleaners have freed goes back to the system between stages
        # (the allocator would otherwise keep it for threads that are done).
        pa.default_memory_pool().release_unused()
        histories = [f for f in read_files if isinstance(f, RawTable)]
        histories += sorted(wide, key=lambda raw: raw.name)
        done = [f for f in read_files if isinstance(f, _File)]
        by_role = _by_role(done, histories)
        export = validated_export(
            *_combined(by_role),
            crm=by_role["deals"][0].match.crm,
            currency=_reporting_currency(by_role["deals"]),
            files=pd.DataFrame([f.row for role in _ROLES for f in by_role[role]]),
            unmapped={f.row["file"]: f.unmapped for role in _ROLES for f in by_role[role]},
        )
        if histories:
            export = _with_history(export, histories, crm, opts, None)
    _warn_ambiguous(export)
    return export


_ROLES = ("deals", "accounts", "activities")
#: Files adding up to this many bytes are read and cleaned side by side, in threads.
PARALLEL_BYTES = 4 * 1024**2


def clean_options(
    currency: str | None,
    fx: Mapping[str, float] | None,
    dayfirst: bool | None,
    stages: Mapping[str, str] | None,
    source_groups: Mapping[str, str] | str | os.PathLike[str] | None = None,
) -> CleanOptions:
    """The cleaners' options from :func:`read_export`'s, checked.

    Examples
    --------
    >>> clean_options("EUR", {"USD": 0.9}, None, None).fx
    {'USD': 0.9}
    """
    code = check_currency_code(currency) if currency is not None else None
    if fx is not None:
        bad = {k: v for k, v in fx.items() if not (isinstance(v, int | float) and v > 0)}
        if bad:
            raise InvalidValueError(
                f"fx rates must be positive numbers (units of {code or 'USD'} per unit), got {bad}."
            )
        fx = {check_currency_code(k, what="fx currency"): v for k, v in fx.items()}
    if dayfirst not in (None, True, False):
        raise InvalidValueError(f"dayfirst must be True, False or None, got {dayfirst!r}.")
    # With rates and no currency, the rates say units of USD, as they always have.
    if code is None and fx:
        code = "USD"
    return CleanOptions(
        currency=code,
        fx=dict(fx or {}),
        dayfirst=dayfirst,
        stages=dict(stages or {}),
        source_groups=source_group_map(source_groups),
    )


def source_group_map(
    source_groups: Mapping[str, str] | str | os.PathLike[str] | None,
) -> dict[str, str]:
    """``{header_key(source): group}`` from a mapping or a ``source,group`` CSV file, checked.

    Examples
    --------
    >>> source_group_map({"Spring Gala": "event"})
    {'spring gala': 'event'}
    """
    if source_groups is None:
        return {}
    if isinstance(source_groups, str | os.PathLike):
        path = Path(source_groups)
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as error:
            raise InvalidValueError(
                f"Cannot read the source groups file {path.name}: {error}"
            ) from error
        if not {"source", "group"} <= set(table.columns):
            raise InvalidValueError(
                f"{path.name} needs the columns `source` and `group` (one lead source or "
                f"campaign name and its group per row); it has {list(table.columns)}."
            )
        source_groups = dict(zip(table["source"], table["group"], strict=True))
    bad = {k: v for k, v in source_groups.items() if v not in LEAD_SOURCE_GROUPS}
    if bad:
        raise InvalidValueError(
            f"Unknown lead source groups {bad}: each source must go to one of "
            f"{', '.join(LEAD_SOURCE_GROUPS)}."
        )
    return {header_key(k): v for k, v in source_groups.items()}


def _reporting_currency(deals_files: list[_File]) -> str:
    """The one reporting currency of the deals files, each of which chose it from its deals
    when none was asked for."""
    chosen = {f.row["file"]: f.cleaned.currency for f in deals_files}
    if len(set(chosen.values())) > 1:
        each = ", ".join(f"`{name}` in {code}" for name, code in chosen.items())
        raise InvalidValueError(
            f"The deals files are in different currencies ({each}). Pass currency= with fx= "
            "rates to read_export (--currency CODE --fx RATES.csv on the command line) to "
            "convert them into one."
        )
    return next(iter(chosen.values()))


def _by_role(done: list[_File], histories: Sequence[RawTable] = ()) -> dict[str, list[_File]]:
    """The files by role; the first error of a deals, accounts or activities file is raised."""
    roles = {f.match.role for f in done}
    if "deals" not in roles:
        found = ", ".join(
            [f"`{f.row['file']}` ({f.match.format.label})" for f in done]
            + [f"`{raw.name}` (a stage history)" for raw in histories]
        )
        raise ExportFormatError(
            f"No deals export among the files: {found}. Add the opportunities/deals export."
        )
    by_role = {role: [f for f in done if f.match.role == role] for role in _ROLES}
    for f in [*by_role["deals"], *by_role["accounts"], *by_role["activities"]]:
        if f.error is not None:
            raise f.error
    return by_role


def _combined(
    by_role: Mapping[str, list[_File]],
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame]:
    """Deals, activities and accounts of all files, and the ledger sorted by file and row."""
    ledgers = [f.cleaned.ledger for f in by_role["deals"]]
    if len(by_role["deals"]) > 1:
        deals_parts = [f.cleaned.frame for f in by_role["deals"]]
        deals, cross = _cross_file_duplicates(pd.concat(deals_parts, ignore_index=True))
        ledgers.append(cross)
    else:
        deals = by_role["deals"][0].cleaned.frame
    ledgers += [f.cleaned.ledger for f in by_role["accounts"]]
    accounts_parts = [f.cleaned.frame for f in by_role["accounts"]]
    accounts = pd.concat(accounts_parts, ignore_index=True) if accounts_parts else None
    deals = enrich_deals(deals, accounts)
    activities_parts = []
    for f in by_role["activities"]:
        linked = link_activities(f.cleaned, deals)
        # The prepared activities hold their file's cells: let them go once linked.
        f.cleaned = None
        activities_parts.append(linked.frame)
        ledgers.append(linked.ledger)
    activities = pd.concat(activities_parts, ignore_index=True) if activities_parts else None
    pa.default_memory_pool().release_unused()
    ledger = concat_ledgers(ledgers)
    ledger = ledger.sort_values(["source_file", "source_row"], kind="stable", ignore_index=True)
    return deals, activities, accounts, ledger


def validated_export(
    deals: pd.DataFrame,
    activities: pd.DataFrame | None,
    accounts: pd.DataFrame | None,
    ledger: pd.DataFrame,
    *,
    crm: str,
    currency: str,
    files: pd.DataFrame,
    unmapped: Mapping[str, tuple[str, ...]],
) -> Export:
    """The :class:`Export` of the tables, each validated by its schema (the ledger's internal
    ``code`` column kept aside as ``ledger_codes``); :func:`read_export` and
    :func:`salesinsight.warehouse.read_warehouse` end with it."""
    codes = ledger["code"]
    # The tables are the reader's own, so they are checked in place rather than on copies.
    check = dict(lazy=True, inplace=True)
    try:
        deals = Deals.validate(deals, **check)
        activities = Activities.validate(activities, **check) if activities is not None else None
        accounts = Accounts.validate(accounts, **check) if accounts is not None else None
        ledger = Ledger.validate(ledger[LEDGER_COLUMNS], **check)
    except pandera.errors.SchemaErrors as err:
        raise _validation_error(err, "export") from err
    return Export(
        deals=deals,
        activities=activities,
        accounts=accounts,
        ledger=ledger,
        crm=crm,
        currency=currency,
        files=files,
        ledger_codes=codes,
        unmapped=unmapped,
    )


def _validation_error(err: pandera.errors.SchemaErrors, table: str) -> InvalidValueError:
    """Turn pandera's lazy ``SchemaErrors`` into one readable error."""
    cases = getattr(err, "failure_cases", None)
    if cases is None:
        return InvalidValueError(f"The cleaned {table} table does not fit its schema: {err}")
    lines = [
        f"  - column `{r.get('column')}`: {r.get('check')} failed for value {r.get('failure_case')!r}"
        for r in cases.head(10).to_dict("records")
    ]
    return InvalidValueError(
        f"The cleaned {table} table does not fit its schema ({len(cases)} problems):\n"
        + "\n".join(lines)
        + "\nPass columns={...} to read_export (--columns 'HEADER=FIELD' on the command line) to "
        "map the offending export columns differently."
    )


@dataclass
class _File:
    """One export file, cleaned as far as it can be alone (see :func:`_clean_file`)."""

    match: Match
    row: dict
    cleaned: Any = None
    error: Exception | None = None
    unmapped: tuple[str, ...] = ()


def _clean_file(raw: RawTable, match: Match, opts: CleanOptions) -> _File:
    """Deals and accounts cleaned, activities prepared for linking. An error is kept, to be
    raised once every file is read (as when files were read first and cleaned after)."""
    fmt = match.format
    cleaned: Any = None
    error, date_format, decimal = None, "", ""
    try:
        if match.role == "deals":
            cleaned = clean_deals(raw, match.mapping, fmt.crm, fmt.stages, fmt.statuses, opts)
        elif match.role == "accounts":
            cleaned = clean_accounts(raw, match.mapping, opts)
        else:
            cleaned = prepare_activities(raw, match.mapping, fmt, opts)
        date_format = cleaned.date_format
        decimal = "" if match.role == "activities" else cleaned.decimal
    except Exception as err:
        error = err
    unmapped = tuple(h for h in raw.headers if h not in match.mapping)
    return _File(match, _file_row(raw, match, date_format, decimal), cleaned, error, unmapped)


def _map_files(fn, paths: list[Path]) -> list:
    """``[fn(p) for p in paths]``, several files at once when they are large.

    Reading and cleaning a file is mostly Arrow's and NumPy's work, which lets go of Python's
    global lock, so a deals export is cleaned while an activities export is parsed. An error
    is raised in the order of `paths`, as if they were read one after the other.
    """
    workers = min(len(paths), pa.cpu_count())
    if workers < 2 or sum(_size(p) for p in paths) < PARALLEL_BYTES:
        return [fn(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fn, p) for p in paths]
        try:
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _file_row(raw: RawTable, match: Match, date_format: str, decimal: str) -> dict:
    stand_ins = [
        f"{name} from `{header}`"
        for header, name in match.mapping.items()
        if name in STAND_IN_FIELDS and header_key(header) in _stand_in_headers(match)
    ]
    return {
        "file": raw.name,
        "role": match.role,
        "crm": match.crm,
        "format": match.format.label,
        "encoding": raw.encoding,
        "delimiter": raw.delimiter,
        "decimal": decimal or None,
        "date_format": date_format or None,
        "rows_read": raw.n_rows,
        "stand_ins": "; ".join(stand_ins) or None,
    }


#: Fields a deals layout reads from a stand-in header when its own header is absent.
STAND_IN_FIELDS = ("lead_source", "employees", "annual_revenue", "loss_reason")


def _stand_in_headers(match: Match) -> set[str]:
    """Header keys of `match`'s layout that feed a field only in place of an earlier one."""
    seen: set[str] = set()
    later: set[str] = set()
    for header, name in match.format.headers.items():
        if name in seen:
            later.add(header_key(header))
        seen.add(name)
    return later


def _cross_file_duplicates(deals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same deal id in two files: the later file's row is dropped, naming the first."""
    dup = deals["deal_id"].duplicated(keep="first").to_numpy()
    if not dup.any():
        return deals, empty_ledger()
    first = deals.loc[~dup].set_index("deal_id")
    later = deals.loc[dup]
    frames = []
    for name, group in later.groupby("source_file", sort=False):
        origin = first.loc[group["deal_id"]]
        frames.append(
            ledger_frame(
                str(name),
                group["source_row"].to_numpy(),
                action="dropped",
                reason=[
                    f"deal id {d} repeats row {r} of {f} (the first is kept)"
                    for d, r, f in zip(
                        group["deal_id"], origin["source_row"], origin["source_file"], strict=True
                    )
                ],
                code="repeated_id",
                column="deal_id",
                value=group["deal_id"].to_numpy(),
                deal_id=group["deal_id"].to_numpy(),
            )
        )
    return deals.loc[~dup].reset_index(drop=True), pd.concat(frames, ignore_index=True)


def check_invariant(export: Export, n_rows_by_file: Mapping[str, int] | None = None) -> None:
    """Check that each data row of each file is kept exactly once or dropped exactly once.

    Parameters
    ----------
    export : Export
    n_rows_by_file : mapping, optional
        ``{file name: number of data rows}`` counted independently (e.g. by hand in a test);
        defaults to the counts in ``export.files``.

    Raises
    ------
    AssertionError
        Listing each file whose rows are missing, repeated, or both kept and dropped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "deals.csv"
    >>> _ = p.write_text("Deal Name,Stage,Amount,Created Date\\nA,Won,10,2024-01-02\\n"
    ...                  "A,Won,10,2024-01-02\\n")
    >>> check_invariant(read_export(p), {"deals.csv": 2})
    """
    counts = dict(zip(export.files["file"], export.files["rows_read"], strict=True))
    counts.update(n_rows_by_file or {})
    kept = [
        t[["source_file", "source_row"]]
        for t in (export.deals, export.activities, export.accounts, _history_rows(export))
        if t is not None
    ]
    kept_rows = pd.concat(kept, ignore_index=True).assign(kind="kept")
    dropped = export.ledger.loc[export.ledger["action"] == "dropped", ["source_file", "source_row"]]
    rows = pd.concat([kept_rows, dropped.assign(kind="dropped")], ignore_index=True)
    problems = []
    for name, n in counts.items():
        mine = rows[rows["source_file"] == name]
        seen = mine["source_row"].value_counts()
        expected = np.arange(1, n + 1)
        missing = np.setdiff1d(expected, seen.index.to_numpy())
        repeated = seen[seen > 1].index.to_numpy()
        extra = np.setdiff1d(seen.index.to_numpy(), expected)
        if len(missing):
            problems.append(f"{name}: rows neither kept nor dropped: {missing[:10].tolist()}")
        if len(repeated):
            problems.append(
                f"{name}: rows kept or dropped more than once: {repeated[:10].tolist()}"
            )
        if len(extra):
            problems.append(f"{name}: rows beyond the file's {n} data rows: {extra[:10].tolist()}")
    unknown = set(rows["source_file"]) - set(counts)
    if unknown:
        problems.append(f"rows from files not counted: {sorted(unknown)}")
    if problems:
        raise AssertionError("Row invariant violated:\n" + "\n".join(problems))


def _history_rows(export: Export) -> pd.DataFrame | None:
    """The stage-history rows of history files (HubSpot's come from the deals file's rows)."""
    history = export.stage_history
    if history is None:
        return None
    own = export.files.loc[export.files["role"] == "stage_history", "file"]
    return history.loc[history["source_file"].isin(own), ["source_file", "source_row"]]


def _history_file(
    raw: RawTable, deals: pd.DataFrame, crm: str, opts: CleanOptions, order: list[str] | None
) -> tuple[CleanedHistory, dict, pd.DataFrame]:
    """One history file cleaned: its rows, its ``files`` row and its ledger (with codes)."""
    found = history_cells(raw, crm)
    cleaned = clean_stage_history(
        found.cells,
        deals,
        source_file=raw.name,
        crm=found.crm,
        stages=opts.stages,
        order=order or (list(found.order) if found.order else None),
        dayfirst=bool(opts.dayfirst),
    )
    ledger = cleaned.ledger
    if found.wide:
        # The deal rows are kept; a stage-date cell not used is set aside, not the row.
        dropped = ledger["action"] == "dropped"
        ledger = ledger.assign(
            action=ledger["action"].where(~dropped, "set_missing"),
            column=ledger["column"].where(~dropped, "stage_history"),
        )
        return cleaned, {}, ledger
    row = {
        "file": raw.name,
        "role": "stage_history",
        "crm": found.crm,
        "format": found.label,
        "encoding": raw.encoding,
        "delimiter": raw.delimiter,
        "decimal": None,
        "date_format": None,
        "rows_read": raw.n_rows,
    }
    return cleaned, row, concat_ledgers([read_drops(raw), read_fixes(raw, {}), ledger])


def read_stage_history(
    path_or_paths,
    export: Export,
    *,
    crm: str = "auto",
    stages: Mapping[str, str] | None = None,
    order: list[str] | None = None,
    dayfirst: bool | None = None,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Export:
    """Read stage-history export(s) against an export's deals: the export with ``stage_history``.

    Read: Salesforce ``OpportunityHistory`` (API names, as the Data Loader writes them, with
    ``PrevAmount`` where present), the "Opportunity History" report, ``OpportunityFieldHistory``
    (its ``StageName`` and ``Amount`` rows), Zoho's Stage History, and a HubSpot deals export with
    ``Date entered "<stage> (<pipeline>)"`` / ``hs_date_entered_<id>`` columns. Every history row
    is in ``stage_history`` or in the ledger (soft-deleted, duplicate, orphan, no stage change);
    a closed deal whose history ends in the opposite outcome's stage gets a ``flagged`` row.

    Parameters
    ----------
    path_or_paths : path, sequence of paths, or a directory
        The history export(s).
    export : Export
        What :func:`read_export` read: the deals the history belongs to.
    crm : str
        ``"auto"`` or the vendor.
    stages : mapping, optional
        ``{stage: "won" | "lost" | "open"}`` for custom stages (default: ``read_export``'s).
    order : list of str, optional
        The pipeline's stage order (default: the vendor's standard stages, HubSpot's column
        order, or the probabilities; else inferred by :func:`salesinsight.time_in_stage`).
    dayfirst, encoding, max_bytes
        As for :func:`read_export`.

    Returns
    -------
    Export
        A copy with ``stage_history``, the history files in ``files`` and their ledger rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "deals.csv").write_text("Opportunity ID,Opportunity Name,Stage,Amount,"
    ...     "Created Date,Close Date\\n006A,A,Closed Won,100,1/20/24,3/15/24\\n")
    >>> _ = (d / "history.csv").write_text("Id,OpportunityId,CreatedDate,StageName,Amount,"
    ...     "IsDeleted\\n1,006A,2024-01-02,Prospecting,120,false\\n2,006A,2024-03-01,Closed Won,"
    ...     "100,false\\n3,006B,2024-01-05,Prospecting,5,false\\n")
    >>> export = read_stage_history(d / "history.csv", read_export(d / "deals.csv"))
    >>> export.stage_history[["deal_id", "stage", "amount"]].values.tolist()
    [['006A', 'Prospecting', 120.0], ['006A', 'Closed Won', 100.0]]
    >>> export.ledger["reason"].tolist()
    ['history of a deal that is not in the deals export']
    >>> check_invariant(export)
    """
    opts = clean_options(None, None, dayfirst, stages)
    with reading_pool():
        raws = [
            read_table(p, encoding=encoding, max_bytes=max_bytes) for p in _paths(path_or_paths)
        ]
        return _with_history(export, raws, crm, opts, order)


def _with_history(
    export: Export, raws: list[RawTable], crm: str, opts: CleanOptions, order: list[str] | None
) -> Export:
    """The export with the history files cleaned against its deals, and their ledger rows.

    A file whose history the export already holds (a HubSpot deals export read by
    :func:`read_export`) is not read again; the history of other files is kept beside the new."""
    held = export.stage_history
    seen = set() if held is None else set(held["source_file"].astype(str))
    raws = [raw for raw in raws if raw.name not in seen]
    if not raws:
        return export
    frames, rows, ledgers = ([] if held is None else [held]), [], []
    for raw in raws:
        cleaned, row, ledger = _history_file(raw, export.deals, crm, opts, order)
        frames.append(cleaned.frame)
        rows += [row] if row else []
        ledgers.append(ledger)
    history = frames[0]
    if len(frames) > 1:
        history = pd.concat(frames, ignore_index=True)
        history = history.sort_values(["deal_id", "entered_at"], kind="stable", ignore_index=True)
    old = export.ledger.assign(code=export.ledger_codes.to_numpy())
    ledger = concat_ledgers([old, *ledgers])
    ledger = ledger.sort_values(["source_file", "source_row"], kind="stable", ignore_index=True)
    try:
        history = StageHistory.validate(history, lazy=True)
        checked = Ledger.validate(ledger[LEDGER_COLUMNS], lazy=True)
    except pandera.errors.SchemaErrors as err:
        raise _validation_error(err, "stage history") from err
    return replace(
        export,
        stage_history=history,
        ledger=checked,
        ledger_codes=ledger["code"],
        files=pd.concat([export.files, pd.DataFrame(rows)], ignore_index=True),
    )


def _warn_ambiguous(export: Export) -> None:
    for row in export.files.to_dict("records"):
        if row["rows_read"] == 0:
            warnings.warn(
                f"{row['file']}: a header row and no data rows; it adds nothing. Check the "
                "report's filters in the CRM and export it again.",
                DataQualityWarning,
                stacklevel=3,
            )
        if isinstance(row["date_format"], str) and "assumed" in row["date_format"]:
            warnings.warn(
                f"{row['file']}: no date tells day from month; read as month first. "
                "Pass dayfirst=True if the export uses D/M/Y.",
                DataQualityWarning,
                stacklevel=3,
            )
