"""The one loading step shared by the notebooks and the command line, and its scorecard.

:func:`load_analysis` reads the export(s) (or the bundled sample), converts currencies, optionally
pseudonymizes names, and derives the trust features, returning an :class:`Analysis`; its
``scorecard`` is evaluated on first use and kept. ``salesinsight report`` loads one analysis and
hands it to every notebook it runs (:func:`write_analysis_file`), so the notebooks and the report
show the same table and the same scorecard, computed once. A notebook run on its own loads the
analysis from its papermill parameters (:mod:`salesinsight.report.parameters`) with the same
function.
"""

from __future__ import annotations

import logging
import os
import pickle
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from salesinsight.claims import Scorecard, evaluate_claims
from salesinsight.datasets import load_sample
from salesinsight.exceptions import InvalidValueError
from salesinsight.export import Export, read_export
from salesinsight.features import trust_features
from salesinsight.io.warehouse.engine import redact_url
from salesinsight.privacy import pseudonymize_export
from salesinsight.report.gaps import with_suggestions
from salesinsight.report.parameters import (
    MappingLike,
    PathsLike,
    check_export_paths,
    parse_as_of,
    parse_flag,
    parse_mapping,
    read_fx_rates,
    split_export_paths,
)
from salesinsight.report.progress import Progress, log_step
from salesinsight.warehouse import read_warehouse

__all__ = [
    "Analysis",
    "load_analysis",
    "load_export",
    "read_analysis_file",
    "warehouse_source",
    "write_analysis_file",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysis:
    """An export read, cleaned and turned into one row of trust features per deal.

    Attributes
    ----------
    export : Export
        Deals, activities, accounts and the cleaning ledger (pseudonymized if asked).
    data : DataFrame
        ``trust_features(export.deals, export.activities, as_of=as_of)``.
    as_of : Timestamp
        The snapshot date open deals are censored at (NaT when the export has no dates).
    sources : list of str
        File names (not paths) the analysis was read from.
    pseudonymized : bool
        Whether names were replaced by pseudonyms.
    parameters : dict
        The notebook parameters that reproduce this analysis (paths absolute); contains the salt,
        so never write it out as is.
    scorecard : Scorecard
        ``evaluate_claims(data)``, evaluated on first use and kept: the report's index page,
        its CSV and every notebook read this one scorecard.
    """

    export: Export
    data: pd.DataFrame
    as_of: pd.Timestamp
    sources: list[str]
    pseudonymized: bool
    parameters: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def scorecard(self) -> Scorecard:
        """The book's claims scored on :attr:`data`, with the automatic controls."""
        log.info("evaluating the claims on %d deals", len(self.data))
        card = evaluate_claims(self.data, stage_history=self.export.stage_history)
        return with_suggestions(card, self.export)

    def row_counts(self) -> dict[str, int]:
        """Deal rows read, kept and dropped by the cleaner (activity files not counted).

        Rows read count every data row of the deals files, footers and summary rows included,
        as :meth:`Export.summary` does.

        Returns
        -------
        dict
            ``{"read": ..., "kept": ..., "dropped": ...}``; read = kept + dropped.

        Examples
        --------
        >>> counts = load_analysis().row_counts()
        >>> counts["read"] == counts["kept"] + counts["dropped"]
        True
        """
        files = self.export.summary()
        deals = files[files["role"] == "deals"]
        read, dropped = int(deals["rows_read"].sum()), int(deals["rows_dropped"].sum())
        return {"read": read, "kept": read - dropped, "dropped": dropped}


def _sources(export: Export) -> list[str]:
    names: set[str] = set()
    for table in (export.deals, export.activities, export.ledger):
        if isinstance(table, pd.DataFrame) and "source_file" in table:
            names.update(str(n) for n in table["source_file"].dropna().unique())
    return sorted(names)


def load_export(
    export_paths: PathsLike = "",
    *,
    crm: str = "auto",
    currency: str | None = "",
    fx_path: str | os.PathLike[str] = "",
    columns: MappingLike = None,
    stages: MappingLike = None,
    source_groups: str | os.PathLike[str] | Mapping[str, str] | None = None,
    pseudonymize: bool | str = False,
    salt: str = "",
    progress: Progress | None = None,
    schema: str = "",
) -> Export:
    """Read the export(s), or the bundled sample, as :func:`load_analysis` does, without features.

    Parameters are those of :func:`load_analysis`; with `pseudonymize` an empty `salt` is an error
    here (a random salt would make the pseudonyms of two calls disagree).

    Examples
    --------
    >>> export = load_export()
    >>> export.crm
    'salesforce'
    """
    warehouse = warehouse_source(export_paths)
    paths = [] if warehouse is not None else check_export_paths(export_paths)
    fx = read_fx_rates(fx_path) if str(fx_path).strip() else None
    column_map = parse_mapping(columns, name="columns")
    stage_map = parse_mapping(stages, name="stages")
    crm = (crm or "auto").strip().lower()
    currency = (currency or "").strip() or None
    if warehouse is not None:
        shown = redact_url(warehouse) if "://" in warehouse else Path(warehouse).name
        schema = (schema or "").strip() or (crm if crm in ("salesforce", "hubspot") else "")
        log_step(progress, f"reading schema {schema or 'salesforce'} of {shown}", logger=log)
        export = read_warehouse(
            warehouse,
            schema=schema or "salesforce",
            crm=crm if crm in ("salesforce", "hubspot") else "auto",
            currency=currency,
            fx=fx,
            columns=column_map or None,
            stages=stage_map or None,
        )
    elif paths:
        names = ", ".join(p.name for p in paths)
        log_step(progress, f"reading {names}", logger=log)
        export = read_export(
            paths if len(paths) > 1 else paths[0],
            crm=crm,
            currency=currency,
            fx=fx,
            columns=column_map or None,
            stages=stage_map or None,
            source_groups=source_groups or None,
        )
    else:
        if source_groups:
            raise InvalidValueError(
                "The bundled sample's lead sources are all known; source groups apply to your "
                "own export files."
            )
        if fx is not None or (currency or "USD").upper() != "USD" or column_map or stage_map:
            raise InvalidValueError(
                f"The bundled sample is in USD and needs no exchange rates or maps; got currency "
                f"{currency!r}, fx_path {str(fx_path)!r}, columns {column_map} and stages "
                f"{stage_map}. Give your own export files to use them."
            )
        log_step(progress, "reading the bundled sample", logger=log)
        export = load_sample() if crm == "auto" else load_sample(crm=crm)
    log.info("read %d deals and %d ledger rows", len(export.deals), len(export.ledger))
    if parse_flag(pseudonymize):
        log_step(progress, "replacing names by pseudonyms", logger=log)
        export = pseudonymize_export(export, salt=salt)
    return export


def warehouse_source(export_paths: PathsLike) -> str | None:
    """The warehouse among `export_paths`, if they name one: a database URL, or one DuckDB file
    (by its ``.duckdb`` or ``.db`` suffix or its first bytes); None for export files.

    Examples
    --------
    >>> warehouse_source("postgresql://ann@db.example.com/crm")
    'postgresql://ann@db.example.com/crm'
    >>> warehouse_source(["report1.csv"]) is None
    True
    """
    given: list[Any] = (
        [export_paths] if isinstance(export_paths, str | os.PathLike) else list(export_paths or [])
    )
    items = [str(x).strip() for x in given if str(x).strip()]
    if len(items) != 1:
        return None
    item = items[0]
    if "://" in item:
        return item
    path = Path(item).expanduser()
    if path.suffix.lower() in (".duckdb", ".db"):
        return str(path)
    if path.is_file():
        with path.open("rb") as handle:
            if handle.read(12)[8:] == b"DUCK":
                return str(path)
    return None


def load_analysis(
    export_paths: PathsLike = "",
    *,
    crm: str = "auto",
    currency: str | None = "",
    fx_path: str | os.PathLike[str] = "",
    as_of: str | pd.Timestamp | None = "",
    columns: MappingLike = None,
    stages: MappingLike = None,
    source_groups: str | os.PathLike[str] | Mapping[str, str] | None = None,
    pseudonymize: bool | str = False,
    salt: str = "",
    progress: Progress | None = None,
    schema: str = "",
) -> Analysis:
    """Read an export and derive the trust features: the first cell of every analysis.

    Parameters
    ----------
    export_paths : str, path or list, default ""
        The export file(s): ``""`` for the bundled sample, a path, a list of paths, or paths joined
        by ``os.pathsep`` in one string (see :func:`split_export_paths`).
    crm : str, default "auto"
        Vendor of the export (``salesforce``, ``hubspot``, ``pipedrive``, ``zoho``, ``dynamics``,
        ``generic``) or ``"auto"`` to detect it from the headers.
    currency : str, default ""
        Reporting currency of ``amount``, an ISO 4217 code; ``""`` for the deals' own currency
        when they all share one, else USD (see :func:`salesinsight.export.read_export`).
    fx_path : str or path, default ""
        CSV of exchange rates (``currency,rate``; see :func:`read_fx_rates`); ``""`` for none.
    as_of : str or Timestamp, default ""
        Snapshot date at which open deals are censored; ``""`` for the export's latest date
        (the latest ``created_at`` or ``closed_at``).
    columns : mapping or str, optional
        ``{export header: field}`` for renamed or unknown headers, as ``read_export(columns=)``
        takes it, or its JSON text (see :func:`parse_mapping`).
    stages : mapping or str, optional
        ``{stage: "won" | "lost" | "open"}`` for renamed or custom stages, or its JSON text.
    source_groups : path or mapping, optional
        ``{lead source: group}`` or a ``source,group`` CSV, deciding lead source groups before
        the word rules (see :func:`salesinsight.export.read_export`).
    pseudonymize : bool or str, default False
        Replace account, contact and owner names by salted pseudonyms before anything is computed
        (see :func:`salesinsight.privacy.pseudonymize_export`). Text such as ``"1"`` or
        ``"false"`` is accepted, for environment variables.
    salt : str, default ""
        Secret text for the pseudonyms. Empty with `pseudonymize`: a random salt, so the pseudonyms
        differ from one run to the next; pass the same salt to get the same pseudonyms.
    progress : callable, optional
        Called with one short line per step; the steps are also logged at INFO level on the
        ``salesinsight.report.analysis`` logger.
    schema : str, default ""
        With a warehouse (a DuckDB file or a database URL as the one `export_paths`, see
        :func:`warehouse_source`): the connector's schema, read by
        :func:`~salesinsight.read_warehouse`; ``""``: `crm` if it names Salesforce or HubSpot,
        else ``salesforce``. The activities are counted in the warehouse's engine.

    Returns
    -------
    Analysis
        The export, the feature table, the snapshot date and the source file names.

    Raises
    ------
    SalesInsightError
        A subclass for each bad input: a missing file, an unreadable export, a bad date, a bad
        exchange-rate file. The message says what to fix.

    Examples
    --------
    >>> analysis = load_analysis()
    >>> analysis.sources
    [...]
    >>> len(analysis.data) == len(analysis.export.deals)
    True
    >>> bool(analysis.pseudonymized)
    False
    """
    hide = parse_flag(pseudonymize)
    if hide and not salt:
        salt = secrets.token_hex(16)
    stamp = parse_as_of(as_of)
    warehouse = warehouse_source(export_paths)
    paths = [] if warehouse is not None else split_export_paths(export_paths)
    column_map = parse_mapping(columns, name="columns")
    stage_map = parse_mapping(stages, name="stages")
    export = load_export(
        paths if warehouse is None else warehouse,
        crm=crm,
        currency=currency,
        fx_path=fx_path,
        columns=column_map,
        stages=stage_map,
        source_groups=source_groups,
        pseudonymize=hide,
        salt=salt,
        progress=progress,
        schema=schema,
    )
    if stamp is None:
        stamp = _latest_date(export.deals)
    log_step(progress, f"computing trust features for {len(export.deals):,} deals", logger=log)
    data = trust_features(
        export.deals,
        export.activities,
        as_of=None if pd.isna(stamp) else stamp,
        stage_history=export.stage_history,
    )
    parameters = {
        "export_paths": _shown_source(warehouse)
        if warehouse
        else os.pathsep.join(str(p.resolve()) for p in paths),
        "schema": schema,
        "crm": crm,
        "currency": (currency or "").strip().upper(),
        "fx_path": str(Path(fx_path).expanduser().resolve()) if str(fx_path).strip() else "",
        "as_of": "" if pd.isna(stamp) else stamp.isoformat(),
        "columns": column_map,
        "stages": stage_map,
        "pseudonymize": hide,
        "salt": salt if hide else "",
    }
    sources = [p.name for p in paths] if paths else _sources(export)
    return Analysis(
        export=export,
        data=data,
        as_of=stamp,
        sources=sources,
        pseudonymized=hide,
        parameters=parameters,
    )


def _shown_source(warehouse: str) -> str:
    """A warehouse as the parameters keep it: a URL without its credentials, a file absolute."""
    if "://" in warehouse:
        return redact_url(warehouse)
    return str(Path(warehouse).expanduser().resolve())


def _latest_date(deals: pd.DataFrame) -> pd.Timestamp:
    dates = [deals[c].max() for c in ("created_at", "closed_at") if c in deals]
    dates = [d for d in dates if not pd.isna(d)]
    return pd.Timestamp(max(dates)) if dates else pd.NaT


def write_analysis_file(
    analysis: Analysis, path: str | os.PathLike[str], *, scorecard: bool = True
) -> Path:
    """Save an analysis, its scorecard evaluated, for notebooks to read instead of computing it.

    The file is a pickle: for the notebooks one run of ``salesinsight report`` executes, in the
    same Python, not for exchange. It holds the salt of a pseudonymized analysis, so write it into
    a private temporary folder (never into the report) and remove it once the notebooks have run.

    Parameters
    ----------
    analysis : Analysis
        From :func:`load_analysis`.
    path : str or path
        The file to write.
    scorecard : bool, default True
        False saves the analysis without its scorecard (not evaluated, or left out if it was),
        for notebooks that do not read it; one that does would evaluate it again.

    Returns
    -------
    Path
        `path`, absolute.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> analysis = load_analysis()
    >>> path = write_analysis_file(analysis, folder / "analysis.pickle")
    >>> read_analysis_file(path).scorecard.table.equals(analysis.scorecard.table)
    True
    """
    path = Path(path).expanduser().resolve()
    if scorecard:
        # Evaluated before pickling, so that every notebook reads it instead of fitting it.
        analysis.scorecard  # noqa: B018
    else:
        # A copy of the fields only: the scorecard, once evaluated, is kept outside them.
        analysis = replace(analysis)
    if not isinstance(analysis.export.activities, pd.DataFrame | None):
        # A warehouse's activities are a query on an open connection, which does not pickle;
        # the features counted from them are in `data`.
        card = analysis.__dict__.get("scorecard")
        analysis = replace(analysis, export=replace(analysis.export, activities=None))
        if card is not None:
            analysis.__dict__["scorecard"] = card
    with path.open("wb") as handle:
        pickle.dump(analysis, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def read_analysis_file(path: str | os.PathLike[str]) -> Analysis:
    """Read an analysis saved by :func:`write_analysis_file`, with its scorecard.

    Only read files written by :func:`write_analysis_file`: reading a pickle runs code.

    Raises
    ------
    InvalidValueError
        When the file is missing or holds no analysis of this version of salesinsight.
    """
    path = Path(path).expanduser()
    how = (
        "Leave `analysis_file` (SALESINSIGHT_ANALYSIS_FILE) empty to compute the analysis from "
        "the other parameters."
    )
    if not path.is_file():
        raise InvalidValueError(f"Analysis file {str(path)!r} not found. {how}")
    try:
        with path.open("rb") as handle:
            analysis = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise InvalidValueError(f"Cannot read analysis file {str(path)!r} ({exc}). {how}") from exc
    if not isinstance(analysis, Analysis):
        raise InvalidValueError(
            f"Analysis file {str(path)!r} holds a {type(analysis).__name__}, not an analysis. {how}"
        )
    return analysis
