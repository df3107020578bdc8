"""Round trip: a known clean deals table, written as a vendor's export with random conventions and
random dirt, comes back from read_export as the same table, and every defect put in is in the
ledger (and nothing else is).

Each example draws a vendor (Salesforce, HubSpot, Pipedrive or a generic CRM), the optional
columns it exports, an encoding, a delimiter, line endings, quoting, a date style and a money
style; then a clean table; then a few defects, each recorded with the ledger row it must cause.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesinsight.datasets.dirt import windows_mojibake
from salesinsight.export import check_invariant, read_export

ACCOUNTS = (
    "Acme Corp",
    "Beta LLC",
    "Gamma Inc",
    "Müller GmbH",
    "Café Ltd",
    "Peña SA",
    "O’Connor Ltd",
    "Østfold AS",
    "Zeta AG",
    "Delta, Kappa & Co",
)
OWNERS = ("Ann Lee", "Bob Stone", "Cara Díaz", "Dan Ray")
SOURCES = ("Web", "Referral", "Partner", "Cold Call", "Trade Show", "Existing Customer")
PRODUCTS = ("Analytics Pro", "Analytics Starter", "Platform", "Services")
INDUSTRIES = ("Manufacturing", "Software", "Retail", "Healthcare", "Finance")
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
DEAL_TYPES = {"new_business": "New Business", "existing_business": "Existing Business"}
NAME_TAILS = ("renewal", "pilot", 'the "Pro" plan', "phase 2; EU|US", "two\nlines", "seats")
OPTIONAL = ("product", "industry", "employees", "segment")

# Each vendor's header for each canonical field (None: the vendor does not export it).
HEADERS = {
    "salesforce": {
        "deal_id": "Opportunity ID",
        "owner": "Opportunity Owner",
        "account": "Account Name",
        "deal_name": "Opportunity Name",
        "stage": "Stage",
        "amount": "Amount",
        "close_date": "Close Date",
        "created_at": "Created Date",
        "lead_source": "Lead Source",
        "deal_type": "Type",
        "product": "Product",
        "industry": "Industry",
        "employees": "Employees",
        "segment": "Segment",
    },
    "hubspot": {
        "deal_id": "Record ID",
        "deal_name": "Deal Name",
        "stage": "Deal Stage",
        "pipeline": "Pipeline",
        "amount": "Amount",
        "close_date": "Close Date",
        "created_at": "Create Date",
        "owner": "Deal owner",
        "deal_type": "Deal Type",
        "account": "Associated Company",
        "lead_source": "Original Source",
        "product": "Product",
        "industry": "Industry",
        "employees": "Number of Employees",
        "segment": "Segment",
    },
    "pipedrive": {
        "deal_id": "Deal - ID",
        "deal_name": "Deal - Title",
        "amount": "Deal - Value",
        "currency": "Deal - Currency",
        "status": "Deal - Status",
        "stage": "Deal - Stage",
        "owner": "Deal - Owner",
        "account": "Deal - Organization",
        "created_at": "Deal - Deal created",
        "won_at": "Deal - Won time",
        "lost_at": "Deal - Lost time",
        "expected_close_at": "Deal - Expected close date",
        "lead_source": "Deal - Source",
        "product": "Deal - Product name",
        "industry": "Organization - Industry",
        "employees": "Organization - Employees",
        "segment": "Segment",
    },
    "generic": {
        "deal_id": "Deal ID",
        "deal_name": "Deal Name",
        "account": "Account",
        "owner": "Owner",
        "created_at": "Created Date",
        "close_date": "Close Date",
        "status": "Status",
        "amount": "Amount",
        "lead_source": "Lead Source",
        "deal_type": "Deal Type",
        "product": "Product",
        "industry": "Industry",
        "employees": "Employees",
        "segment": "Segment",
    },
}
STAGES: dict[str, dict[str, list[str | None]]] = {
    "salesforce": {"won": ["Closed Won"], "lost": ["Closed Lost"], "open": ["Prospecting"]},
    "hubspot": {"won": ["Closed Won"], "lost": ["Closed Lost"], "open": ["Contract Sent"]},
    "pipedrive": {s: ["Qualified", "Proposal Made"] for s in ("won", "lost", "open")},
    "generic": {"won": [None], "lost": [None], "open": [None]},
}
FILE_NAMES = {
    "salesforce": "report1718000000000.csv",
    "hubspot": "hubspot-crm-exports-all-deals-2024-06-01.csv",
    "pipedrive": "deals-7-2024.csv",
    "generic": "deals.csv",
}
DATE_STYLES = {
    "iso": "%Y-%m-%d",
    "iso minutes": "%Y-%m-%d %H:%M",
    "iso seconds": "%Y-%m-%d %H:%M:%S",
    "M/D/Y": "{m}/{d}/%Y",
    "D/M/Y": "{d}/{m}/%Y",
    "D.M.Y": "{d}.{m}.%Y",
    "D Mon Y": "{d} %b %Y",
}
MONEY_STYLES = ("dollar", "plain", "grouped", "code", "comma decimal", "spaced comma decimal")
FOOTER = [
    "",
    "Grand Totals ({n} records)",
    "",
    "Confidential Information - Do Not Distribute",
    "Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved.",
]


@dataclass
class Layout:
    vendor: str
    optional: tuple[str, ...]
    with_id: bool
    encoding: str
    delimiter: str
    newline: str
    quote_all: bool
    date_style: str
    money_style: str

    @property
    def fields(self) -> list[str]:
        fields = [f for f in HEADERS[self.vendor] if f not in OPTIONAL or f in self.optional]
        return [f for f in fields if f != "deal_id" or self.with_id]

    @property
    def headers(self) -> list[str]:
        return [HEADERS[self.vendor][f] for f in self.fields]

    def date(self, value: pd.Timestamp | None) -> str:
        if value is None or pd.isna(value):
            return ""
        pattern = DATE_STYLES[self.date_style].format(m=value.month, d=value.day)
        return value.strftime(pattern)

    def money(self, value: float) -> str:
        grouped = f"{abs(value):,.2f}"
        text = {
            "dollar": "$" + grouped,
            "plain": f"{abs(value):.2f}",
            "grouped": grouped,
            "code": "USD " + grouped,
            "comma decimal": grouped.replace(",", "_").replace(".", ",").replace("_", "."),
            "spaced comma decimal": grouped.replace(",", "\u00a0").replace(".", ","),
        }[self.money_style]
        return ("-" if value < 0 else "") + text

    def resolution(self) -> str:
        return {"iso minutes": "min", "iso seconds": "s"}.get(self.date_style, "D")


@dataclass
class Export:
    """Records (rows of cells, in file order) and the ledger rows the dirt must cause."""

    layout: Layout
    clean: pd.DataFrame
    records: list[list[str]]
    expected: list[tuple[int, str, str | None]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=self.layout.delimiter,
            quoting=csv.QUOTE_ALL if self.layout.quote_all else csv.QUOTE_MINIMAL,
            lineterminator=self.layout.newline,
        )
        writer.writerow(self.layout.headers)
        for record in self.records:
            if record:
                writer.writerow(record)
            else:
                buffer.write(self.layout.newline)
        return buffer.getvalue().encode(self.layout.encoding)


@st.composite
def layouts(draw) -> Layout:
    vendor = draw(st.sampled_from(sorted(HEADERS)))
    optional = tuple(f for f in OPTIONAL if draw(st.booleans()))
    with_id = vendor in ("hubspot", "pipedrive") or draw(st.booleans())
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    money = draw(st.sampled_from(MONEY_STYLES))
    delimiters = [",", ";", "\t", "|"]
    return Layout(
        vendor=vendor,
        optional=optional,
        with_id=with_id,
        encoding=encoding,
        delimiter=draw(st.sampled_from(delimiters)),
        newline=draw(st.sampled_from(["\r\n", "\n"])),
        quote_all=draw(st.booleans()),
        date_style=draw(st.sampled_from(sorted(DATE_STYLES))),
        money_style=money,
    )


@st.composite
def clean_tables(draw, layout: Layout) -> pd.DataFrame:
    n = draw(st.integers(3, 16))
    start = pd.Timestamp("2019-01-01")
    rows = []
    for i in range(n):
        created = start + pd.Timedelta(days=draw(st.integers(0, 5 * 365)))
        created += pd.Timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
        status = draw(st.sampled_from(["won", "lost", "open"]))
        end = created + pd.Timedelta(days=draw(st.integers(1, 200)))
        end += pd.Timedelta(minutes=draw(st.integers(0, 600)))
        account = draw(st.sampled_from(ACCOUNTS))
        rows.append(
            {
                "deal_id": f"{180_000_000_000 + 7 * i}" if layout.with_id else None,
                "deal_name": f"{account} - {draw(st.sampled_from(NAME_TAILS))} {i}",
                "account": account,
                "owner": draw(st.sampled_from(OWNERS)),
                "created_at": created.floor(layout.resolution()),
                "closed_at": end.floor(layout.resolution()) if status != "open" else pd.NaT,
                "expected_close_at": end.floor(layout.resolution()) if status == "open" else pd.NaT,
                "status": status,
                "stage": draw(st.sampled_from(STAGES[layout.vendor][status])),
                "amount": draw(st.integers(1, 50_000_000)) / 100,
                "lead_source": draw(st.sampled_from(SOURCES)),
                "deal_type": draw(st.sampled_from(sorted(DEAL_TYPES))),
                "product": draw(st.sampled_from(PRODUCTS)),
                "industry": draw(st.sampled_from(INDUSTRIES)),
                "employees": float(draw(st.integers(1, 90_000))),
                "segment": draw(st.sampled_from(SEGMENTS)),
            }
        )
    return pd.DataFrame(rows)


def cells(layout: Layout, deal: dict) -> list[str]:
    status = deal["status"]
    close = deal["closed_at"] if status != "open" else deal["expected_close_at"]
    value = {
        "deal_id": deal["deal_id"] or "",
        "deal_name": deal["deal_name"],
        "account": deal["account"],
        "owner": deal["owner"],
        "stage": deal["stage"] or "",
        "status": status,
        "pipeline": "Sales Pipeline",
        "currency": "USD",
        "amount": layout.money(deal["amount"]),
        "created_at": layout.date(deal["created_at"]),
        "close_date": layout.date(close),
        "won_at": layout.date(deal["closed_at"]) if status == "won" else "",
        "lost_at": layout.date(deal["closed_at"]) if status == "lost" else "",
        "expected_close_at": layout.date(deal["expected_close_at"]),
        "lead_source": deal["lead_source"],
        "deal_type": DEAL_TYPES[deal["deal_type"]],
        "product": deal["product"],
        "industry": deal["industry"],
        "employees": str(int(deal["employees"])),
        "segment": deal["segment"],
    }
    return [value[f] for f in layout.fields]


DIRT = (
    "duplicate_row",
    "test_record",
    "footer",
    "blank_line",
    "repeated_header",
    "repeated_id",
    "bad_amount",
    "blank_amount",
    "negative_amount",
    "bad_date",
    "placeholder_date",
    "created_after_closed",
    "mojibake",
)


VALUE_DIRT = {
    "bad_amount",
    "blank_amount",
    "negative_amount",
    "bad_date",
    "placeholder_date",
    "created_after_closed",
    "mojibake",
}


@st.composite
def exports(draw) -> Export:
    layout = draw(layouts())
    clean = draw(clean_tables(layout))
    original = clean.copy()
    records = [cells(layout, d) for d in clean.to_dict("records")]
    kinds = draw(st.lists(st.sampled_from(DIRT), max_size=5))
    col = {f: j for j, f in enumerate(layout.fields)}
    # Value defects, each on its own clean row: (clean index, action, column) they must cause.
    expect: list[tuple[int, str, str | None]] = []
    free = list(range(len(clean)))
    for kind in (k for k in kinds if k in VALUE_DIRT):
        candidates = free
        if kind == "created_after_closed":
            candidates = [i for i in free if clean.at[i, "status"] != "open"]
        if kind == "mojibake":
            candidates = [
                i
                for i in free
                if (garbled := windows_mojibake(clean.at[i, "account"])) is not None
                and _encodable(garbled, layout.encoding)
            ]
        if not candidates:
            continue
        i = draw(st.sampled_from(candidates))
        free.remove(i)
        row = records[i]
        if kind == "bad_amount":
            row[col["amount"]] = "n/a"
            expect.append((i, "set_missing", "amount"))
            clean.at[i, "amount"] = np.nan
        elif kind == "blank_amount":
            # A blank cell is missing, not changed: it comes back missing with no ledger row.
            row[col["amount"]] = ""
            clean.at[i, "amount"] = np.nan
        elif kind == "negative_amount":
            row[col["amount"]] = layout.money(-original.at[i, "amount"])
            expect.append((i, "set_missing", "amount"))
            clean.at[i, "amount"] = np.nan
        elif kind in ("bad_date", "placeholder_date", "created_after_closed"):
            text = {
                "bad_date": "soon",
                "placeholder_date": layout.date(pd.Timestamp("1900-01-01")),
                "created_after_closed": layout.date(
                    clean.at[i, "closed_at"] + pd.Timedelta(days=3)
                ),
            }[kind]
            row[col["created_at"]] = text
            expect.append((i, "set_missing", "created_at"))
            clean.at[i, "created_at"] = pd.NaT
        else:
            row[col["account"]] = windows_mojibake(clean.at[i, "account"])
            expect.append((i, "fixed", "account"))
    # Row defects: records inserted among the clean ones (copies carry the value defects).
    items: list[tuple[list[str], int | None]] = [(r, i) for i, r in enumerate(records)]
    for kind in kinds:
        if kind in ("duplicate_row", "repeated_id"):
            if kind == "repeated_id" and "deal_id" not in col:
                continue
            source = draw(st.integers(0, len(clean) - 1))
            after = next(k for k, (_, origin) in enumerate(items) if origin == source) + 1
            row = list(records[source])
            if kind == "repeated_id":
                row[col["amount"]] = layout.money(original.at[source, "amount"] * 1.1 + 1)
            items.insert(draw(st.integers(after, len(items))), (row, None))
        elif kind == "test_record":
            row = list(records[0])
            row[col["deal_name"]] = "TEST - DO NOT USE"
            if "deal_id" in col:
                row[col["deal_id"]] = "100000000001"
            items.insert(draw(st.integers(0, len(items))), (row, None))
        elif kind == "blank_line":
            # Not last: blank lines at the end of a file are not data rows.
            items.insert(draw(st.integers(0, len(items) - 1)), ([], None))
        elif kind == "repeated_header":
            items.insert(draw(st.integers(0, len(items))), (list(layout.headers), None))
    if "footer" in kinds and layout.vendor in ("salesforce", "generic"):
        n = len(items)
        items += [([line.format(n=n)] if line else [], None) for line in FOOTER]
    row_of = {origin: k + 1 for k, (_, origin) in enumerate(items) if origin is not None}
    expected = [(row_of[i], action, column) for i, action, column in expect]
    expected += [(k + 1, "dropped", None) for k, (_, origin) in enumerate(items) if origin is None]
    return Export(layout, clean, [r for r, _ in items], expected)


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


DATES = ["created_at", "closed_at", "expected_close_at"]
COMPARED = [
    "deal_name",
    "account",
    "owner",
    "status",
    "amount",
    "created_at",
    "closed_at",
    "expected_close_at",
    "lead_source",
]


def assert_same_deals(got: pd.DataFrame, export: Export) -> None:
    layout, clean = export.layout, export.clean
    assert len(got) == len(clean)
    got = got.reset_index(drop=True)
    types = {"amount": float} | dict.fromkeys(DATES, "datetime64[ns]")
    pd.testing.assert_frame_equal(
        got[COMPARED].astype(types),
        clean[COMPARED].astype(types),
        check_dtype=False,
        check_exact=False,
        rtol=1e-9,
    )
    if layout.with_id:
        assert got["deal_id"].tolist() == clean["deal_id"].tolist()
    if "stage" in layout.fields:
        assert got["stage"].tolist() == clean["stage"].tolist()
    if "deal_type" in layout.fields:
        assert got["deal_type"].tolist() == clean["deal_type"].tolist()
    for column in layout.optional:
        want = clean[column]
        have = got[column].astype(float) if column == "employees" else got[column]
        assert have.tolist() == want.tolist(), column


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(export=exports())
def test_round_trip_recovers_the_table_and_ledgers_every_defect(export, tmp_path):
    layout = export.layout
    path = tmp_path / FILE_NAMES[layout.vendor]
    path.write_bytes(export.to_bytes())
    dayfirst = True if layout.date_style in ("D/M/Y", "D.M.Y") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = read_export(path, dayfirst=dayfirst)
    assert result.crm == layout.vendor
    check_invariant(result, {path.name: len(export.records)})
    assert_same_deals(result.deals, export)
    ledger = result.ledger
    got = sorted(
        (int(r), a, c if a != "dropped" else None)
        for r, a, c in zip(ledger["source_row"], ledger["action"], ledger["column"], strict=True)
    )
    want = sorted((r, a, c if a != "dropped" else None) for r, a, c in export.expected)
    assert got == want, ledger[["source_row", "action", "column", "reason"]].to_string()
