"""The ``salesinsight`` command: from a CRM export to a shareable HTML report.

Heavy libraries (pandas, papermill, nbconvert) are imported inside the commands, so ``--help`` and
``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from salesinsight import __version__
from salesinsight.exceptions import DataQualityWarning, SalesInsightError, StatisticalWarning

__all__ = ["EXIT_DATA", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATA = 3

CRMS = ("auto", "salesforce", "hubspot", "pipedrive", "zoho", "dynamics", "generic")

EXIT_CODES = """exit codes:
  0  success
  1  unexpected failure (a notebook or a bug): rerun with --debug and report the traceback
  2  bad usage: unknown option, output folder refused, no notebooks found
  3  bad input data: a missing or unreadable export, a bad date, a bad exchange-rate file"""

MAIN_EPILOG = f"""examples:
  salesinsight report                          the bundled sample -> reports/sample/index.html
  salesinsight report report1718000000000.csv tasks.csv --pseudonymize
  salesinsight clean hubspot-crm-exports-deals-2024-06-01.csv --out deals.parquet
  salesinsight claims report1718000000000.csv --format markdown
  salesinsight sample --out example-exports
  salesinsight report crm.duckdb --schema salesforce

Run `salesinsight COMMAND --help` for the options of a command.

{EXIT_CODES}"""

REPORT_EPILOG = f"""examples:
  salesinsight report
      analyse the bundled sample; writes reports/sample/index.html
  salesinsight report report1718000000000.csv tasks.csv --out reports/q2 --as-of 2024-06-30
      a Salesforce deals report and its activities; open deals censored on 30 June 2024
  salesinsight report pipedrive-deals.csv --currency EUR --fx rates.csv --pseudonymize
      convert every deal to EUR with rates.csv (columns currency,rate) and hide all names
  salesinsight report deals.csv --columns 'Total Contract Value=amount' --stages 'Signed=won'
      read a renamed header as the amount, and the custom stage Signed as won
  salesinsight report deals.csv --columns-file map.toml
      the same from a file: [columns] "Total Contract Value" = "amount", [stages] "Signed" = "won"

--pseudonymize uses a random salt per run, so pseudonyms differ between reports; set the
environment variable SALESINSIGHT_SALT to a secret of your own to keep them stable.

{EXIT_CODES}"""

CLEAN_EPILOG = f"""examples:
  salesinsight clean report1718000000000.csv --out deals.parquet
      writes deals.parquet and, beside it, deals.ledger.csv (every dropped or changed value)
  salesinsight clean deals.csv --columns 'Sales Stage=stage' --out deals.parquet
      a renamed header read as the stage
  salesinsight clean deals.csv tasks.csv --out clean/deals.csv --pseudonymize
      CSV output (Excel-safe), activities in clean/deals.activities.csv, names pseudonymized

{EXIT_CODES}"""

CLAIMS_EPILOG = f"""examples:
  salesinsight claims report1718000000000.csv
  salesinsight claims hubspot-crm-exports-deals-2024-06-01.csv --format json > scorecard.json
  salesinsight claims deals.csv --columns 'Closing Day=close_date' --stages 'Initial Offer=open'

{EXIT_CODES}"""

NOTEBOOKS_EPILOG = f"""examples:
  salesinsight notebooks --out my-notebooks
      then edit them, and: salesinsight report deals.csv --notebooks my-notebooks
  salesinsight report crm.duckdb --schema salesforce
      a connector's Salesforce tables in a DuckDB file (salesinsight sample --warehouse DIR
      writes one); the activities are counted inside DuckDB
  salesinsight report postgresql://analyst@db.example.com/crm --schema hubspot
      the same tables in PostgreSQL (or any engine ibis reaches); the password comes from the
      URL or the driver's usual settings (PGPASSWORD, ~/.pgpass) and is never shown

{EXIT_CODES}"""

SAMPLE_EPILOG = f"""examples:
  salesinsight sample --out example-exports
      then: salesinsight report example-exports/<deals file> example-exports/<activities file>
  salesinsight sample --warehouse example-warehouse
      the same world as a connector's sync in DuckDB: then
      salesinsight report example-warehouse/crm.duckdb --schema salesforce (or hubspot)

{EXIT_CODES}"""


class UsageError(Exception):
    """A command line that cannot be carried out as given (exit code 2)."""


class _Console:
    """Where the command talks: results on stdout, progress and warnings on stderr."""

    def __init__(self, *, quiet: bool, debug: bool) -> None:
        self.quiet = quiet
        self.debug = debug
        self._seen: set[str] = set()

    def progress(self, message: str) -> None:
        if not self.quiet:
            print(f"salesinsight: {message}", file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        # -q silences progress, not what the data need: the results depend on it.
        print(f"salesinsight: warning: {message}", file=sys.stderr, flush=True)

    def out(self, text: str = "") -> None:
        print(text, flush=True)

    def show_warning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        """Our own warnings once each, as one line; other libraries' only with --debug.

        -q keeps the warnings about the data and drops the statistical caveats, which every
        result repeats in its note."""
        ours = issubclass(category, DataQualityWarning) or (
            issubclass(category, StatisticalWarning) and not self.quiet
        )
        text = " ".join(str(message).split())
        if (ours or self.debug) and text not in self._seen:
            self._seen.add(text)
            self.warn(text)


def _add_input_options(parser: argparse.ArgumentParser, *, as_of: bool = True) -> None:
    group = parser.add_argument_group("reading the export")
    group.add_argument(
        "--crm",
        choices=CRMS,
        default="auto",
        help="vendor of the export (default: detect it from the headers)",
    )
    group.add_argument(
        "--currency",
        default="",
        metavar="CODE",
        help="reporting currency of the amounts, an ISO 4217 code such as EUR (default: the "
        "deals' own currency when they all share one, else USD)",
    )
    group.add_argument(
        "--fx",
        metavar="RATES.csv",
        default="",
        help="exchange rates, a CSV with columns currency,rate (units of the reporting currency "
        "per unit); needed when deals are in several currencies",
    )
    group.add_argument(
        "--columns",
        action="append",
        default=[],
        metavar="'HEADER=FIELD'",
        help="read an export header as a field, e.g. --columns 'Total Contract Value=amount' "
        "(repeatable); fields: deal_id, deal_name, account, account_id, owner, created_at, "
        "close_date, stage, status, amount, currency, lead_source, deal_type, product, "
        "list_price, employees, industry, segment",
    )
    group.add_argument(
        "--columns-file",
        metavar="MAP.csv|MAP.toml",
        default="",
        help="column map from a file: a CSV of header,field lines, or TOML with a [columns] "
        "table and optionally a [stages] table; --columns and --stages add to it",
    )
    group.add_argument(
        "--stages",
        action="append",
        default=[],
        metavar="'STAGE=STATUS'",
        help="say what a renamed or custom stage means, won, lost or open, e.g. "
        "--stages 'Initial Offer=open' (repeatable)",
    )
    _add_source_groups(group)
    if as_of:
        group.add_argument(
            "--as-of",
            metavar="DATE",
            default="",
            help="snapshot date at which open deals are censored (default: the export's latest "
            "date)",
        )
    group.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace account, contact and owner names by salted pseudonyms in every output",
    )


def _add_source_groups(group: Any) -> None:
    group.add_argument(
        "--source-groups",
        metavar="MAP.csv",
        default="",
        help="lead sources or campaign names put in a group before the word rules: a CSV with "
        "columns source,group (groups: referral, existing_customer, partner, inbound, "
        "outbound, event, other, unknown)",
    )


def _command(
    commands: Any, common: argparse.ArgumentParser, name: str, help: str, epilog: str
) -> argparse.ArgumentParser:
    """A subcommand whose description repeats its help line, with the common options."""
    return commands.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )


def _add_report(commands: Any, common: argparse.ArgumentParser) -> None:
    report = _command(
        commands,
        common,
        "report",
        "analyse an export and write the HTML report (default: the sample)",
        REPORT_EPILOG,
    )
    report.add_argument(
        "exports",
        nargs="*",
        metavar="EXPORT",
        help="export file(s), or one warehouse (a DuckDB file or a database URL); none: the "
        "bundled sample",
    )
    _add_input_options(report)
    report.add_argument(
        "--schema",
        default="",
        metavar="NAME",
        help="with a warehouse: the connector's schema, e.g. salesforce or hubspot (default: "
        "--crm if it names one, else salesforce)",
    )
    out = report.add_argument_group("writing the report")
    out.add_argument(
        "--out",
        metavar="DIR",
        help="report folder (default: reports/<export name>/, reports/sample/ for the sample)",
    )
    out.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder that is not an earlier report",
    )
    out.add_argument(
        "--notebooks",
        metavar="DIR",
        help="folder of numbered notebooks (default: those shipped with salesinsight; "
        "`salesinsight notebooks --out DIR` copies them out for editing)",
    )
    out.add_argument("--show-code", action="store_true", help="show the code cells in the pages")
    report.set_defaults(func=_report)


def _add_clean_claims_sample(commands: Any, common: argparse.ArgumentParser) -> None:
    clean = _command(
        commands, common, "clean", "write the cleaned deals and the ledger of changes", CLEAN_EPILOG
    )
    clean.add_argument("exports", nargs="+", metavar="EXPORT", help="export file(s)")
    _add_input_options(clean, as_of=False)
    clean.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="deals file, .parquet or .csv; the ledger goes beside it as <name>.ledger.csv",
    )
    clean.add_argument("--force", action="store_true", help="replace existing output files")
    clean.set_defaults(func=_clean)

    claims = _command(
        commands, common, "claims", "print the claims scorecard of an export", CLAIMS_EPILOG
    )
    claims.add_argument("exports", nargs="+", metavar="EXPORT", help="export file(s)")
    _add_input_options(claims)
    claims.add_argument(
        "--format",
        choices=("table", "markdown", "csv", "json"),
        default="table",
        help="output format (default: a table for the terminal)",
    )
    claims.set_defaults(func=_claims)

    sample = _command(
        commands, common, "sample", "write the bundled sample exports to a folder", SAMPLE_EPILOG
    )
    sample.add_argument("--out", metavar="DIR", help="folder to write the exports into")
    sample.add_argument(
        "--warehouse",
        metavar="DIR",
        help="folder to write the sample into as a DuckDB warehouse (crm.duckdb, the schemas "
        "salesforce and hubspot as a connector syncs them)",
    )
    sample.add_argument("--force", action="store_true", help="replace existing files")
    sample.set_defaults(func=_sample)

    notebooks = _command(
        commands,
        common,
        "notebooks",
        "copy the report's notebooks to a folder, to edit them",
        NOTEBOOKS_EPILOG,
    )
    notebooks.add_argument("--out", metavar="DIR", required=True, help="folder to write into")
    notebooks.add_argument("--force", action="store_true", help="replace existing notebooks")
    notebooks.set_defaults(func=_notebooks)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress lines and no statistical caveats (each result's note keeps them); "
        "warnings about the data are still shown",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and all warnings",
    )
    parser = argparse.ArgumentParser(
        prog="salesinsight",
        description="Read a CRM export, clean it without losing a row, and test whether trust "
        "makes deals bigger and faster, the claims of Mark Hunter's A Mind for Sales.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"salesinsight {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_report(commands, common)
    _add_clean_claims_sample(commands, common)
    return parser


def _salt(args: argparse.Namespace) -> str:
    if not args.pseudonymize:
        return ""
    return os.environ.get("SALESINSIGHT_SALT", "") or secrets.token_hex(16)


def _pairs(values: Sequence[str], option: str, example: str) -> dict[str, str]:
    """``{left: right}`` of command-line values ``left=right``."""
    pairs = {}
    for value in values:
        left, sep, right = value.rpartition("=")
        if not sep or not left.strip() or not right.strip():
            raise UsageError(
                f"{option} {value!r}: expected NAME=VALUE, e.g. {option} {example!r}; quote it "
                "when the name has spaces."
            )
        pairs[left.strip()] = right.strip()
    return pairs


def _maps(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]]:
    """The column map and stage map of --columns-file, --columns and --stages, in that order."""
    from salesinsight.report.parameters import parse_mapping, read_columns_file

    maps = read_columns_file(args.columns_file) if args.columns_file else {}
    columns = {**maps.get("columns", {})}
    columns.update(_pairs(args.columns, "--columns", "Total Contract Value=amount"))
    stages = {**maps.get("stages", {})}
    stages.update(_pairs(args.stages, "--stages", "Initial Offer=open"))
    return columns, parse_mapping(stages, name="stages")


def _load(args: argparse.Namespace, console: _Console) -> Any:
    from salesinsight.report.analysis import load_analysis

    columns, stages = _maps(args)
    analysis = load_analysis(
        list(args.exports),
        crm=args.crm,
        currency=args.currency,
        fx_path=args.fx,
        columns=columns,
        stages=stages,
        source_groups=args.source_groups or None,
        as_of=getattr(args, "as_of", ""),
        pseudonymize=args.pseudonymize,
        salt=_salt(args),
        progress=console.progress,
        schema=getattr(args, "schema", ""),
    )
    _hint_missing_rates(analysis.export.deals, analysis.export.currency, console)
    return analysis


def _hint_missing_rates(deals: Any, currency: str, console: _Console) -> None:
    """Say so when deals lost their amount for want of an exchange rate: --fx would keep them."""
    needed = {"amount", "amount_original", "currency"}
    if not needed <= set(deals.columns):
        return
    foreign = deals["currency"].str.upper() != currency.upper()
    lost = deals["amount"].isna() & deals["amount_original"].notna() & foreign
    if lost.any():
        codes = ", ".join(sorted(deals.loc[lost, "currency"].dropna().unique()))
        console.warn(
            f"{int(lost.sum()):,} deals in {codes} have no amount in {currency.upper()}: no "
            "exchange rate was given. Pass --fx RATES.csv (columns currency,rate) to convert them."
        )


def _default_out(exports: Sequence[str]) -> Path:
    if not exports:
        return Path("reports", "sample")
    first = exports[0]
    # A URL's database name, never its user or password.
    stem = (first.rsplit("@", 1)[-1].split("/", 1)[-1] or "warehouse") if "://" in first else first
    stem = Path(stem.split("?")[0]).name.split(".")[0]
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem).strip("-")
    return Path("reports", slug or "export")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _report(args: argparse.Namespace, console: _Console) -> int:
    from salesinsight.report.analysis import warehouse_source
    from salesinsight.report.folder import check_out_dir, write_report
    from salesinsight.report.notebooks import find_notebooks
    from salesinsight.report.parameters import check_export_paths

    out_dir = Path(args.out) if args.out else _default_out(args.exports)
    warehouse = warehouse_source(list(args.exports))
    exports = [] if warehouse is not None and "://" in warehouse else list(args.exports)
    inputs = check_export_paths(exports) + ([Path(args.fx)] if args.fx else [])
    notebooks = find_notebooks(args.notebooks)
    check_out_dir(out_dir, force=args.force, inputs=inputs, notebooks=notebooks)
    analysis = _load(args, console)
    # The report evaluates the scorecard once, for its index, its tables and every notebook.
    index = write_report(
        analysis,
        out_dir,
        notebooks_dir=args.notebooks,
        force=args.force,
        show_code=args.show_code,
        progress=console.progress,
    )
    counts = analysis.row_counts()
    console.out(
        f"Read {counts['read']:,} deal rows from {', '.join(analysis.sources)} "
        f"({analysis.export.crm}): kept {counts['kept']:,}, dropped {counts['dropped']:,} "
        "(reasons in ledger.csv)."
    )
    history = analysis.export.stage_history
    if history is not None:
        uses = "K2 stage by stage" + (
            ", K8's first-quote test" if history["amount"].notna().any() else ""
        )
        console.out(
            f"Stage history: {len(history):,} stage entries of {history['deal_id'].nunique():,} "
            f"deals ({uses}; notebook 07)."
        )
    verdicts = analysis.scorecard.verdicts()
    console.out("Claims (verdict of the tests with controls):")
    for row in verdicts.itertuples(index=False):
        console.out(f"  {row.claim_id:<4} {row.verdict:<13} {row.claim}")
    for line in _gap_lines(analysis):
        console.out(line)
    if analysis.pseudonymized:
        console.out("Names are pseudonymized in every file of the report.")
    else:
        console.out("The report contains customer names; --pseudonymize makes a copy to share.")
    console.out(f"Report: {_shown(index)}")
    return EXIT_OK


def _outputs_beside(out: Path, *, activities: bool) -> dict[str, Path]:
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise UsageError(
            f"--out {str(out)!r}: cannot tell the format from the extension {suffix or '(none)'}; "
            "end the name with .parquet or .csv."
        )
    stem = out.name[: -len(out.suffix)]
    files = {"deals": out, "ledger": out.with_name(f"{stem}.ledger.csv")}
    if activities:
        files["activities"] = out.with_name(f"{stem}.activities{out.suffix}")
    return files


def _refuse_overwrite(files: Sequence[Path], *, inputs: Sequence[Path], force: bool) -> None:
    protected = {p.expanduser().resolve() for p in inputs}
    for path in files:
        if path.resolve() in protected:
            raise UsageError(f"{str(path)!r} is an input file; choose another --out.")
        if path.exists() and not force:
            raise UsageError(f"{str(path)!r} exists; choose another --out or pass --force.")


def _clean(args: argparse.Namespace, console: _Console) -> int:
    out = Path(args.out).expanduser()
    inputs = [Path(p) for p in args.exports] + ([Path(args.fx)] if args.fx else [])
    _refuse_overwrite(list(_outputs_beside(out, activities=True).values()), inputs=inputs,
                      force=args.force)  # fmt: skip
    from salesinsight.report.analysis import load_export
    from salesinsight.report.folder import write_table

    columns, stages = _maps(args)
    export = load_export(
        list(args.exports),
        crm=args.crm,
        currency=args.currency,
        fx_path=args.fx,
        columns=columns,
        stages=stages,
        source_groups=args.source_groups or None,
        pseudonymize=args.pseudonymize,
        salt=_salt(args),
        progress=console.progress,
        schema=getattr(args, "schema", ""),
    )
    _hint_missing_rates(export.deals, export.currency, console)
    files = _outputs_beside(out, activities=export.activities is not None)
    out.parent.mkdir(parents=True, exist_ok=True)
    console.progress(f"writing {_shown(out)}")
    for name, path in files.items():
        write_table(getattr(export, name), path)
    dropped = int((export.ledger["action"] == "dropped").sum())
    console.out(
        f"Wrote {len(export.deals):,} deals to {_shown(files['deals'])} and "
        f"{len(export.ledger):,} ledger rows ({dropped:,} rows dropped) to "
        f"{_shown(files['ledger'])}."
    )
    if export.activities is not None:
        console.out(
            f"Wrote {len(export.activities):,} activities to {_shown(files['activities'])}."
        )
    return EXIT_OK


def _gap_lines(analysis: Any) -> list[str]:
    """Sentences naming the export fields that left comparisons untested (report.gaps)."""
    from salesinsight.report.gaps import gap_lines

    return gap_lines(analysis.scorecard.table, _gaps(analysis))


def _gaps(analysis: Any) -> Any:
    from salesinsight.report.gaps import export_gaps

    export = analysis.export
    unmapped = [h for f in export.files.query("role == 'deals'")["file"]
                for h in export.unmapped.get(f, ())]  # fmt: skip
    return export_gaps(export.deals, unmapped)


def _claims_table(analysis: Any) -> str:
    """The scorecard as a table for the terminal, with a reason for each untested row."""
    import pandas as pd

    from salesinsight.report.gaps import untestable_reasons

    table = analysis.scorecard.table

    def number(value: Any) -> str:
        return "" if pd.isna(value) else f"{value:.3g}"

    shown = pd.DataFrame(
        {
            "claim": table["claim_id"],
            "proxy": table["proxy"],
            "outcome": table["outcome"],
            "adjustment": table["adjustment"],
            "n": table["n"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}"),
            "ratio": table["estimate"].map(number),
            "adjusted 95% CI": [
                "" if pd.isna(lo) else f"{number(lo)}–{number(hi)}"
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "p adj.": table["p_adjusted"].map(number),
            "verdict": table["verdict"],
        }
    )
    if (table["verdict"] == "not testable").any():
        shown["why not testable"] = untestable_reasons(table, _gaps(analysis)).to_numpy()
    return shown.to_string(index=False)


def _claims(args: argparse.Namespace, console: _Console) -> int:
    analysis = _load(args, console)
    from salesinsight.privacy import excel_safe

    console.progress("evaluating the claims")
    card = analysis.scorecard
    if args.format == "markdown":
        console.out(card.to_markdown())
    elif args.format == "csv":
        console.out(excel_safe(card.table).to_csv(index=False).rstrip("\n"))
    elif args.format == "json":
        console.out(card.table.to_json(orient="records", indent=1, date_format="iso"))
    else:
        console.out(_claims_table(analysis))
        console.out()
        for row in card.verdicts().itertuples(index=False):
            console.out(f"{row.claim_id:<4} {row.verdict:<13} {row.claim}")
    # Beside a table, the closing lines say why rows went untested; beside data, stderr does.
    say = console.warn if args.format in ("csv", "json") else console.out
    for line in _gap_lines(analysis):
        say(line)
    return EXIT_OK


def _sample(args: argparse.Namespace, console: _Console) -> int:
    from salesinsight.datasets import SAMPLE_FILES, sample_paths

    if not args.out and not args.warehouse:
        raise UsageError("Pass --out DIR (the exports) or --warehouse DIR (a DuckDB warehouse).")
    if args.warehouse:
        _sample_warehouse(args, console)
    if not args.out:
        return EXIT_OK
    folder = Path(args.out).expanduser()
    sources = sample_paths()
    targets = {key: folder / path.name for key, path in sources.items()}
    _refuse_overwrite(list(targets.values()), inputs=list(sources.values()), force=args.force)
    folder.mkdir(parents=True, exist_ok=True)
    for key, target in targets.items():
        shutil.copyfile(sources[key], target)
        console.out(f"Wrote {_shown(target)}: {SAMPLE_FILES.get(key, key.replace('_', ' '))}")
    pair = [targets[k] for k in ("salesforce_deals", "salesforce_activities") if k in targets]
    if pair:
        console.out(f"Analyse them with: salesinsight report {' '.join(map(_shown, pair))}")
    return EXIT_OK


def _sample_warehouse(args: argparse.Namespace, console: _Console) -> None:
    from salesinsight.datasets.warehouse import WAREHOUSE_FILE, write_sample_warehouse

    folder = Path(args.warehouse).expanduser()
    _refuse_overwrite([folder / WAREHOUSE_FILE], inputs=[], force=args.force)
    paths = write_sample_warehouse(folder)
    console.out(
        f"Wrote {_shown(paths['warehouse'])}: the sample as a connector syncs it (schemas "
        f"salesforce and hubspot), and {_shown(paths['warehouse_dirt'])}: its rows that are not "
        "current records"
    )
    console.out(
        f"Analyse it with: salesinsight report {_shown(paths['warehouse'])} --schema salesforce"
    )


def _notebooks(args: argparse.Namespace, console: _Console) -> int:
    from salesinsight.report.notebooks import copy_notebooks

    copies = copy_notebooks(args.out, force=args.force)
    for path in copies:
        console.out(f"Wrote {_shown(path)}")
    folder = _shown(Path(args.out).expanduser())
    console.out(f"Run a report with them: salesinsight report EXPORT ... --notebooks {folder}")
    return EXIT_OK


def _exit_code(exc: BaseException) -> int | None:
    """The exit code of an anticipated error, None for a bug."""
    if isinstance(exc, SalesInsightError):
        return EXIT_DATA
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    # Only the report raises these: looked up, not imported, so other errors need not import it.
    report = sys.modules.get("salesinsight.report.errors")
    if report is not None:
        if isinstance(exc, report.ReportSetupError):
            return EXIT_USAGE
        if isinstance(exc, report.NotebookError):
            from salesinsight import exceptions

            return EXIT_DATA if exc.ename in exceptions.__all__ else EXIT_FAILURE
    if isinstance(exc, OSError):
        return EXIT_FAILURE
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``salesinsight --help``)."""
    args = _parser().parse_args(argv)
    console = _Console(quiet=getattr(args, "quiet", False), debug=getattr(args, "debug", False))
    logging.basicConfig(
        level=logging.DEBUG if console.debug else logging.WARNING,
        format="salesinsight: %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not console.debug:
        # papermill logs every unknown parameter and cell; the progress lines say enough.
        logging.getLogger("papermill").setLevel(logging.ERROR)
        logging.getLogger("traitlets").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("always" if console.debug else "default")
        warnings.showwarning = console.show_warning
        try:
            code = args.func(args, console)
        except KeyboardInterrupt:
            print("salesinsight: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:
            code = _exit_code(exc)
            if console.debug:
                traceback.print_exc()
                return EXIT_FAILURE if code is None else code
            if code is None:
                print(
                    f"salesinsight: error: unexpected {type(exc).__name__}: {exc} (this is a "
                    "bug; rerun with --debug and report the traceback)",
                    file=sys.stderr,
                )
                return EXIT_FAILURE
            message = " ".join(str(exc).split())
            print(f"salesinsight: error: {message}", file=sys.stderr)
            return code
    return code


if __name__ == "__main__":
    sys.exit(main())
