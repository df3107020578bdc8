"""The report's landing page, ``index.html``: key figures, a verdict per claim, the scorecard.

:func:`salesinsight.report.folder.write_report` calls :func:`index_page` once the notebooks have
run; the page is self-contained (inline styles, the forest plot embedded as a PNG) so the report
folder can be shared as it is.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from salesinsight.claims import Scorecard
from salesinsight.report.analysis import Analysis
from salesinsight.report.tables import P_VALUE_COLUMNS, format_p
from salesinsight.stats.kpis import pipeline_summary

__all__ = ["index_page"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5em;color:#222;line-height:1.45}
h1{margin-bottom:0.1em} .sub{color:#666;margin-top:0}
.privacy{padding:0.7em 1em;border-radius:6px;margin:1em 0}
.privacy.names{background:#fff4e5;border:1px solid #e69f00}
.privacy.safe{background:#e8f5ee;border:1px solid #009e73}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:0.6em}
.figure{border:1px solid #ddd;border-radius:6px;padding:0.5em 0.8em}
.figure b{display:block;font-size:1.4em}
.figure span{color:#666;font-size:0.85em}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0;width:100%}
th,td{border-bottom:1px solid #e5e5e5;padding:0.3em 0.5em;text-align:left;vertical-align:top}
th{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.note{min-width:15em;max-width:26em;overflow-wrap:anywhere}
td small.effect{color:#666;display:inline-block;max-width:13em}
td.note details summary{cursor:pointer;color:#333}
td.note details[open] summary{margin-bottom:0.3em}
code{font-size:0.95em;background:#f3f3f3;padding:0 0.2em;border-radius:3px}
.v-supported{color:#00734d;font-weight:600} .v-contradicted{color:#b34700;font-weight:600}
.v-mixed{color:#8a5a00;font-weight:600} .v-inconclusive{color:#555} .v-not-testable{color:#999}
img{max-width:100%}
"""


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return html.escape(str(value))
    number = float(value)
    if isinstance(value, numbers.Integral) or (number.is_integer() and abs(number) >= 100):
        return f"{int(number):,}"
    return f"{number:,.{digits}f}" if abs(number) >= 0.01 else f"{number:.2g}"


def _verdict(verdict: str) -> str:
    css = "v-" + str(verdict).replace(" ", "-")
    return f'<span class="{css}">{html.escape(str(verdict))}</span>'


def _markdown(text: str) -> str:
    """The little markdown of the notes as HTML: `code` and **bold**, the rest escaped."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", escaped)


def _note(value: Any) -> str:
    """A note cell: short notes whole, long ones folded under their first words."""
    text = "" if value is None or value is pd.NA or value != value else str(value).strip()
    if len(text) <= 90:
        return f'<td class="note">{_markdown(text)}</td>'
    first = text.split(". ")[0]
    head = first if len(first) <= 70 else first[:60].rsplit(" ", 1)[0] + " …"
    if "`" in head and head.count("`") % 2:
        head = head.replace("`", "")
    return (
        f'<td class="note"><details><summary>{_markdown(head)}</summary>'
        f"{_markdown(text)}</details></td>"
    )


def _full_table(table: pd.DataFrame) -> str:
    """The scorecard's every row, narrow enough for the page: the ratio with its interval in one
    column, what the ratio measures under the outcome."""
    ratio = [
        "–" if pd.isna(e) else f"{_fmt(e)} ({_fmt(lo)}–{_fmt(hi)})"
        for e, lo, hi in zip(table["estimate"], table["ci_low"], table["ci_high"], strict=True)
    ]
    shown = pd.DataFrame(
        {
            "claim": table["claim_id"],
            "proxy": table["proxy"],
            "outcome": table["outcome"],
            "adjustment": table["adjustment"],
            "n": table["n"],
            "ratio (adjusted 95% CI)": ratio,
            "p_adjusted": table["p_adjusted"],
            "verdict": table["verdict"],
            "note": table["note"],
        }
    )
    page = _table(shown)
    for outcome, effect in zip(table["outcome"], table["effect"], strict=True):
        page = page.replace(
            f"<td>{html.escape(str(outcome))}</td>",
            f'<td>{html.escape(str(outcome))}<br><small class="effect">'
            f"{html.escape(str(effect))}</small></td>",
            1,
        )
    return page


def _table(frame: pd.DataFrame) -> str:
    """A table without row numbers: text left-aligned, numbers right-aligned, p-values in
    scientific form, notes folded under their first sentence."""
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column == "verdict":
                cells.append(f"<td>{_verdict(value)}</td>")
            elif column == "note":
                cells.append(_note(value))
            elif column in P_VALUE_COLUMNS:
                cells.append(f'<td class="num">{format_p(value) or "–"}</td>')
            elif (isinstance(value, numbers.Real) and not isinstance(value, bool)) or (
                value is pd.NA and pd.api.types.is_numeric_dtype(frame[column].dtype)
            ):
                cells.append(f'<td class="num">{_fmt(value)}</td>')
            else:
                missing = value is None or value is pd.NA or value != value
                cells.append(f"<td>{'–' if missing else _markdown(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figures(analysis: Analysis) -> list[tuple[str, str]]:
    counts = analysis.row_counts()
    kpi = pipeline_summary(analysis.data).iloc[0]
    win_rate = (
        f"{kpi['win_rate']:.0%} <small>({kpi['win_rate_ci_low']:.0%}–"
        f"{kpi['win_rate_ci_high']:.0%})</small>"
        if pd.notna(kpi["win_rate"])
        else "–"
    )
    return [
        (_fmt(counts["read"]), "deal rows read"),
        (_fmt(counts["kept"]), "deals kept"),
        (_fmt(counts["dropped"]), 'rows dropped (<a href="ledger.csv">ledger</a>)'),
        (f"{_fmt(kpi['won'])} / {_fmt(kpi['lost'])} / {_fmt(kpi['open'])}", "won / lost / open"),
        (win_rate, "win rate, 95% CI"),
        (_fmt(kpi["median_won_amount"], 0), f"median won deal ({_currency(analysis)})"),
        (_fmt(kpi["median_cycle_days"], 0), "median days to close (Kaplan–Meier)"),
    ]


def _currency(analysis: Analysis) -> str:
    return html.escape(analysis.export.currency)


PSEUDONYMIZED_NOTE = (
    '<div class="privacy safe"><b>Pseudonymized.</b> Account, contact and owner names were '
    "replaced by salted pseudonyms (such as <code>acct-3f9a1c2b7d4e</code>) in every page and file "
    "of this report, before any analysis ran.</div>"
)
NAMES_NOTE = (
    '<div class="privacy names"><b>This report contains customer names</b> (accounts, contacts '
    "and salespeople) from the export. Share it only inside the sales team, or run "
    "<code>salesinsight report --pseudonymize</code> for a copy without them.</div>"
)

CLAIMS_INTRO = """<p>Claims of Mark Hunter's <i>A Mind for Sales</i> (2020), paraphrased, tested on this export.
A verdict needs the predicted direction and a 95% confidence interval, adjusted for the number of
tests (Benjamini–Hochberg), that excludes no effect. An association is not a cause.</p>"""

FILES_SECTION = """<h2>Files</h2>
<ul>
<li><a href="scorecard.csv">scorecard.csv</a> and <a href="scorecard.md">scorecard.md</a>: the
table above, every column.</li>
<li><a href="ledger.csv">ledger.csv</a>: every row the cleaner dropped and every value it changed,
with the reason.</li>
<li><a href="deals.parquet">deals.parquet</a>: the trust-features table, one row per deal kept
by the cleaner: the cleaned deal columns, the trust proxies as of each deal's creation, and the
outcomes.</li>
<li><code>notebooks/</code>: the executed notebooks, to open in JupyterLab.</li>
</ul>"""


def _claims_section(card: Scorecard) -> str:
    """Verdicts, forest plot and narrative of the scorecard."""
    verdicts = card.verdicts()[["claim_id", "claim", "verdict", "note"]]
    narrative = "".join(
        f"<p>{_markdown(p)}</p>" for p in str(card.narrative()).split("\n") if p.strip()
    )
    return f"""{CLAIMS_INTRO}
{_table(verdicts)}
<img alt="Effects with 95% CIs, coloured by verdict" src="data:image/png;base64,{_figure_png(card)}">
{narrative}"""


STAGES_INTRO = """<p>From the stage history: for each K2 proxy, the hazard ratio of moving on
from each open stage (above 1: deals with more trust leave the stage forward sooner), with the
scorecard's controls, errors clustered by account and intervals adjusted for all these tests.
<b>faster</b> or <b>slower</b> where that interval lies on one side of 1.</p>"""


def _stages_section(card: Scorecard) -> str:
    """K2 stage by stage as a stage × proxy table; empty without a stage history."""
    stages = card.stages
    if not len(stages):
        return ""
    cells = stages.assign(
        shown=[
            f"{r:.2f} ({reading})" if reading != "no clear difference" else f"{r:.2f}"
            for r, reading in zip(stages["ratio"], stages["reading"], strict=True)
        ]
    )
    table = cells.pivot(index="stage", columns="proxy", values="shown")
    table = table.loc[list(dict.fromkeys(stages["stage"])), list(dict.fromkeys(stages["proxy"]))]
    return f"<h2>How deals move</h2>\n{STAGES_INTRO}\n{_table(table.reset_index())}"


def index_page(analysis: Analysis, *, pages: Sequence[tuple[str, str]], version: str) -> str:
    """The report's landing page for an analysis and its scorecard.

    Parameters
    ----------
    analysis : Analysis
        The report's analysis; the page shows its figures and ``analysis.scorecard``.
    pages : sequence of (str, str)
        The notebooks' pages, as ``(file name, title)``, in order.
    version : str
        The salesinsight version written into the page.

    Returns
    -------
    str
        A complete HTML document, with inline styles and the forest plot embedded.
    """
    card = analysis.scorecard
    as_of = "–" if pd.isna(analysis.as_of) else f"{analysis.as_of:%Y-%m-%d}"
    sources = ", ".join(analysis.sources) or "the bundled sample"
    figures = "".join(
        f'<div class="figure"><b>{value}</b><span>{label}</span></div>'
        for value, label in _figures(analysis)
    )
    # The claim's wording is in the verdicts table above; the p-value before adjustment in the CSV.
    links = "".join(f'<li><a href="{html.escape(p)}">{html.escape(t)}</a></li>' for p, t in pages)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sales insight report: {html.escape(sources)}</title><style>{_CSS}</style></head>
<body>
<h1>Does trust sell?</h1>
<p class="sub">{html.escape(sources)} · {html.escape(str(analysis.export.crm))} export ·
as of {as_of} · amounts in {_currency(analysis)}</p>
{PSEUDONYMIZED_NOTE if analysis.pseudonymized else NAMES_NOTE}
<h2>The data</h2>
<div class="figures">{figures}</div>
<h2>The book's claims</h2>
{_claims_section(card)}
{_stages_section(card)}
<h2>The notebooks</h2>
<p>Each page tells one part of the story with plots and numbers.</p>
<ol>{links}</ol>
<h2>Full scorecard</h2>
{_full_table(card.table)}
{FILES_SECTION}
<p class="sub">Written by salesinsight {html.escape(version)} on
{pd.Timestamp.now():%Y-%m-%d %H:%M}.</p>
</body></html>
"""


def _figure_png(card: Scorecard) -> str:
    """The scorecard's forest plot as base64 PNG, drawn without touching pyplot's state."""
    figure = Figure(figsize=(8, 6), layout="constrained")
    card.plot(ax=figure.subplots())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
