"""How each vendor writes a world's deals and activities: headers, ids, formats, and its usual dirt.

* Salesforce report ("Details Only"): labels as headers, ``M/D/YYYY`` dates, ``"$22,700.00"``
  amounts (a few ``USD 1,234.00``), every field quoted, cp1252, CRLF, the report footer. An open
  deal's ``Close Date`` is its forecast.
* HubSpot UI export: every field quoted, 12-digit ``Record ID``, stage labels, amounts without
  thousands separators, ``YYYY-MM-DD HH:MM`` datetimes, UTF-8, no account size.
* Pipedrive export: ``Deal - ...`` / ``Organization - ...`` headers, values in each deal's own
  currency, ``Deal - Status`` decides (a lost deal keeps the stage it was lost in).

HubSpot's ``Original Source`` is where the first visit came from, not who started the deal:
referrals show as ``Referrals``, web leads as search or direct traffic, and deals started by
reps, at events or by existing customers as ``Offline Sources`` or ``Direct Traffic``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.datasets import dirt
from salesinsight.datasets.names import contact_names
from salesinsight.datasets.sheet import Sheet
from salesinsight.datasets.simulate import ACTIVITY_TYPES, OPEN_STAGES, World

__all__ = [
    "ACTIVITY_LABELS",
    "DEAL_TYPE_LABELS",
    "HUBSPOT_OPEN_STAGES",
    "HUBSPOT_SOURCES",
    "SALESFORCE_PROBABILITY",
    "VendorIds",
    "end_dates",
    "hubspot_sources",
    "hubspot_stages",
    "salesforce_activity_ids",
    "hubspot_deals",
    "pipedrive_deals",
    "salesforce_activities",
    "salesforce_deals",
    "salesforce_ids",
    "vendor_ids",
]

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CASE_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
SALESFORCE_PROBABILITY = {
    **dict(zip(OPEN_STAGES, (10, 10, 20, 50, 60, 70, 75, 90), strict=True)),
    "Closed Won": 100,
    "Closed Lost": 0,
}
_SF_FOOTER = [
    "",
    '"Grand Totals ({n} records)"',
    "",
    '"Confidential Information - Do Not Distribute"',
    '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."',
]
HUBSPOT_OPEN_STAGES = (
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
)
_PIPEDRIVE_STAGES = (
    "Qualified",
    "Contact Made",
    "Demo Scheduled",
    "Proposal Made",
    "Negotiations Started",
)
# Salesforce's eight open stages onto the five of HubSpot's and Pipedrive's default pipelines.
_FIVE_OF_EIGHT = np.array([0, 0, 1, 1, 2, 3, 4, 4])
HUBSPOT_SOURCES = {
    "referral": ("Referrals",),
    "inbound": ("Organic Search", "Direct Traffic", "Paid Search"),
    "event": ("Offline Sources",),
    "outbound": ("Offline Sources",),
    "partner": ("Other Campaigns",),
    "existing_customer": ("Direct Traffic",),
}
_HUBSPOT_MINUTE = "%Y-%m-%d %H:%M"
_PIPEDRIVE_SECOND = "%Y-%m-%d %H:%M:%S"
DEAL_TYPE_LABELS = {"new_business": "New Business", "existing_business": "Existing Business"}
_LOST_REASONS = ("Price", "Went with competitor", "No decision", "Timing", "No budget")
ACTIVITY_LABELS = {
    "call": ("Task", "Call", ("Call", "Follow-up call", "Discovery call")),
    "email": ("Task", "Email", ("Email: Proposal", "Email: Follow up", "Email: Pricing")),
    "meeting": ("Event", "Meeting", ("Meeting: Demo", "Meeting: Discovery", "Meeting: Review")),
    "task": ("Task", "To-Do", ("Send proposal", "Prepare quote", "Update forecast")),
}


@dataclass(frozen=True)
class VendorIds:
    """Ids of the world's deals (in ``world.deals`` order) as each vendor would number them."""

    salesforce: pa.Array
    hubspot: pa.Array
    pipedrive: pa.Array


def salesforce_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """18-character Salesforce ids: key prefix, pod, record number, case-safe suffix.

    The record number is written as five base-62 digits; the suffix has one letter per five
    characters, whose bits say which of them are upper case.

    Examples
    --------
    >>> salesforce_ids("006", np.array([0, 61, 1234567])).to_pylist()
    ['0065g0000000000AAA', '0065g000000000zAAA', '0065g0000005BANAA2']
    """
    alphabet = np.frombuffer(_B62.encode(), dtype=np.uint8)
    suffixes = np.frombuffer(_CASE_SUFFIX.encode(), dtype=np.uint8)
    number = np.asarray(numbers, dtype=np.int64).copy()
    digits = np.empty((len(number), 5), dtype=np.int64)
    for place in range(4, -1, -1):
        number, digits[:, place] = np.divmod(number, 62)
    fixed = f"{prefix}5g00000"

    def case_bits(text: str) -> int:
        return sum(1 << i for i, c in enumerate(text) if c.isupper())

    upper = (digits >= 10) & (digits < 36)
    bits = (upper * (1 << np.arange(5))).sum(axis=1)
    cells = np.empty((len(number), 18), dtype=np.uint8)
    cells[:, :10] = np.frombuffer(fixed.encode(), dtype=np.uint8)
    cells[:, 10:15] = alphabet[digits]
    cells[:, 15] = ord(_CASE_SUFFIX[case_bits(fixed[:5])])
    cells[:, 16] = ord(_CASE_SUFFIX[case_bits(fixed[5:10])])
    cells[:, 17] = suffixes[bits]
    offsets = np.arange(0, 18 * len(number) + 1, 18, dtype=np.int32)
    return pa.StringArray.from_buffers(
        len(number), pa.py_buffer(offsets), pa.py_buffer(cells.tobytes())
    )


def _increasing(n: int, start: int, gap: int, rng: np.random.Generator) -> np.ndarray:
    return start + np.cumsum(rng.integers(1, gap, n))


def vendor_ids(world: World, rng: np.random.Generator) -> VendorIds:
    """Number the world's deals as Salesforce, HubSpot and Pipedrive would (increasing, with gaps)."""
    n = len(world.deals)
    return VendorIds(
        salesforce=salesforce_ids("006", _increasing(n, 2_000_000, 40, rng)),
        hubspot=_decimal(_increasing(n, 180_000_000_000, 5_000, rng)),
        pipedrive=_decimal(_increasing(n, 100, 3, rng)),
    )


def _decimal(numbers: np.ndarray) -> pa.Array:
    return pa.array(numbers, pa.int64()).cast(pa.string())


def _sf_date(values: pd.Series) -> pa.Array:
    """``M/D/YYYY`` without leading zeros; empty where missing."""
    stamps = pa.array(values.to_numpy("datetime64[ns]"), pa.timestamp("ns"))
    parts = [pc.cast(f(stamps), pa.string()) for f in (pc.month, pc.day, pc.year)]
    return pc.fill_null(pc.binary_join_element_wise(*parts, "/"), "")


def _sf_money(value: float) -> str:
    return f"${value:,.2f}"


def _stamp(values: pd.Series, fmt: str) -> list[str]:
    return values.dt.strftime(fmt).fillna("").tolist()


def _plain(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def end_dates(world: World) -> pd.Series:
    """Each deal's close date as the CRM shows it: its close, else its forecast close date."""
    deals = world.deals
    return deals["closed_at"].fillna(deals["expected_close_at"])


def _activity_counts(world: World) -> pd.DataFrame:
    """Activities per deal (rows, in ``world.deals`` order) and type (columns, sorted)."""
    acts = world.activities
    if not len(acts):
        # Whole-number zeros: a frame without columns would sum to floats.
        types = pd.Index(sorted(ACTIVITY_TYPES), name="type")
        return pd.DataFrame(0, index=pd.Index(world.deals["deal_id"]), columns=types)
    deal = pd.Index(world.deals["deal_id"]).get_indexer(acts["deal_id"])
    kind, types = pd.factorize(acts["type"], sort=True)
    linked = (deal >= 0) & (kind >= 0)
    n_deals, n_types = len(world.deals), len(types)
    cells = np.bincount(deal[linked] * n_types + kind[linked], minlength=n_deals * n_types)
    return pd.DataFrame(
        cells.reshape(n_deals, n_types).astype(np.int64),
        index=pd.Index(world.deals["deal_id"]),
        columns=pd.Index(types, name="type"),
    )


def salesforce_deals(world: World, name: str, ids: VendorIds, rng: np.random.Generator) -> Sheet:
    """The opportunities as a Salesforce "Details Only" report export.

    Examples
    --------
    >>> from salesinsight.datasets import simulate_world
    >>> world, rng = simulate_world(n_accounts=30, seed=0), np.random.default_rng(0)
    >>> sheet = salesforce_deals(world, "report.csv", vendor_ids(world, rng), rng)
    >>> sheet.headers[:4], sheet.encoding, sheet.footer[-1][:12]
    (['Opportunity ID', 'Opportunity Owner', 'Account Name', 'Opportunity Name'], 'cp1252', '"Copyright (')
    """
    n = len(world.deals)
    sheet = Sheet.from_columns(
        name,
        _salesforce_deal_columns(world, ids),
        id_column="Opportunity ID",
        encoding="cp1252",
        newline="\r\n",
        quote_all=True,
    )
    amounts = world.deals["amount"].to_numpy()
    for row in sheet.pick(dirt.count(n, 0.004), rng):
        value = amounts[row]
        sheet.set_cell(row, "Amount", f"USD {value:,.2f}", "amount_currency_code", "ISO code")
    dirt.deal_defects(
        sheet, world, rng, amount="Amount", zero="$0.00", created="Created Date", fmt=_sf_date_one
    )
    dirt.mojibake(sheet, world, "Account Name", dirt.windows_mojibake, dirt.count(n, 0.002), rng)
    dirt.category_typos(sheet, "Industry", dirt.count(n, 0.002), rng)
    dirt.slipped_forecasts(sheet, world, "Close Date")
    dirt.test_record(sheet, _salesforce_test_record(world), rng)
    dirt.duplicates(sheet, rng, amount="Amount", restate=_restate_sf)
    sheet.footer = [line.format(n=sheet.n_rows) for line in _SF_FOOTER]
    return sheet


def _salesforce_deal_columns(world: World, ids: VendorIds) -> dict[str, object]:
    """The report's columns, as Salesforce labels and formats them."""
    deals = world.deals
    end = end_dates(world)
    return {
        "Opportunity ID": ids.salesforce,
        "Opportunity Owner": deals["owner"].tolist(),
        "Account Name": deals["account"].tolist(),
        "Opportunity Name": (deals["account"] + " - " + deals["product"]).tolist(),
        "Stage": deals["stage"].tolist(),
        "Amount": [_sf_money(v) for v in deals["amount"].tolist()],
        "Probability (%)": [str(SALESFORCE_PROBABILITY[s]) for s in deals["stage"].tolist()],
        "Close Date": _sf_date(end),
        "Created Date": _sf_date(deals["created_at"]),
        "Lead Source": deals["lead_source"].tolist(),
        "Type": deals["deal_type"].map(DEAL_TYPE_LABELS).tolist(),
        "Product": deals["product"].tolist(),
        "List Price": [_sf_money(v) for v in deals["list_price"].tolist()],
        "Employees": [f"{int(v):,}" for v in deals["employees"].tolist()],
        "Industry": deals["industry"].tolist(),
        "Fiscal Period": [f"Q{q}-{y}" for q, y in zip(end.dt.quarter, end.dt.year, strict=True)],
    }


def _salesforce_test_record(world: World) -> dict[str, str]:
    owner = world.deals["owner"].iloc[0] if len(world.deals) else "Admin User"
    return {
        "Opportunity ID": salesforce_ids("006", np.array([1_000_001]))[0].as_py(),
        "Opportunity Owner": owner,
        "Account Name": "Test Account",
        "Opportunity Name": "TEST - DO NOT USE",
        "Stage": "Prospecting",
        "Amount": "$1.00",
        "Probability (%)": "10",
        "Close Date": _sf_date_one(world.as_of),
        "Created Date": _sf_date_one(world.as_of - pd.Timedelta(days=30)),
        "Type": "New Business",
    }


def _sf_date_one(value: pd.Timestamp) -> str:
    return f"{value.month}/{value.day}/{value.year}"


def _restate_sf(text: str) -> str:
    value = float(text.replace("USD", "").replace("$", "").replace(",", "").strip())
    return _sf_money(round(value * 1.1, 2))


def _restate_plain(text: str) -> str:
    return _plain(round(float(text) * 1.1, 2))


def salesforce_activity_ids(world: World) -> pa.Array:
    """Salesforce ids of the world's activities: meetings are events (``00U``), the rest tasks.

    Examples
    --------
    >>> from salesinsight.datasets import simulate_world
    >>> world = simulate_world(n_accounts=30, seed=0)
    >>> ids = salesforce_activity_ids(world)
    >>> meeting = world.activities["type"].eq("meeting").to_numpy()
    >>> {i[:3] for i in ids.filter(pa.array(meeting)).to_pylist()}
    {'00U'}
    """
    acts = world.activities
    kinds = list(ACTIVITY_LABELS)
    kind = pd.Categorical(acts["type"], categories=kinds).codes.astype(np.int64)
    if (kind < 0).any():
        raise KeyError(sorted(set(acts["type"]) - set(kinds))[0])
    is_event = np.array([ACTIVITY_LABELS[k][0] == "Event" for k in kinds])[kind]
    numbers = np.arange(len(acts)) * 3 + 5_000_000
    return pc.if_else(
        pa.array(is_event), salesforce_ids("00U", numbers), salesforce_ids("00T", numbers)
    )


def salesforce_activities(
    world: World, name: str, ids: VendorIds, rng: np.random.Generator
) -> Sheet:
    """The activities as a Salesforce tasks and events report export."""
    acts = world.activities
    deal_pos = pd.Index(world.deals["deal_id"]).get_indexer(acts["deal_id"])
    kinds = list(ACTIVITY_LABELS)
    kind = pd.Categorical(acts["type"], categories=kinds).codes.astype(np.int64)
    if (kind < 0).any():
        raise KeyError(sorted(set(acts["type"]) - set(kinds))[0])
    pick = rng.integers(0, 3, len(acts))

    def label(values: list[str], codes: np.ndarray) -> pa.Array:
        return pa.array(values, pa.string()).take(pa.array(codes))

    sheet = Sheet.from_columns(
        name,
        {
            "Activity ID": salesforce_activity_ids(world),
            "Opportunity ID": ids.salesforce.take(pa.array(deal_pos)),
            "Account Name": acts["account"],
            "Assigned": acts["owner"],
            "Subject": label([s for k in kinds for s in ACTIVITY_LABELS[k][2]], kind * 3 + pick),
            "Task/Event": label([ACTIVITY_LABELS[k][0] for k in kinds], kind),
            "Activity Type": label([ACTIVITY_LABELS[k][1] for k in kinds], kind),
            "Date": _sf_date(acts["occurred_at"]),
        },
        id_column="Activity ID",
        encoding="cp1252",
        newline="\r\n",
        quote_all=True,
    )
    dirt.duplicate_rows(sheet, dirt.count(len(acts), 0.002), rng)
    sheet.footer = [line.format(n=sheet.n_rows) for line in _SF_FOOTER]
    return sheet


def hubspot_deals(world: World, name: str, ids: VendorIds, rng: np.random.Generator) -> Sheet:
    """The deals as a HubSpot "all deals" UI export."""
    n = len(world.deals)
    sheet = Sheet.from_columns(
        name, _hubspot_deal_columns(world, ids, rng), id_column="Record ID", quote_all=True
    )
    dirt.deal_defects(
        sheet, world, rng, amount="Amount", zero="0.0", created="Create Date", fmt=_hubspot_stamp
    )
    dirt.mojibake(
        sheet, world, "Associated Company", dirt.mac_roman_mojibake, dirt.count(n, 0.002), rng
    )
    dirt.slipped_forecasts(sheet, world, "Close Date")
    dirt.test_record(sheet, _hubspot_test_record(world), rng)
    dirt.duplicates(sheet, rng, amount="Amount", restate=_restate_plain)
    return sheet


def _hubspot_deal_columns(
    world: World, ids: VendorIds, rng: np.random.Generator
) -> dict[str, object]:
    """The export's columns, as HubSpot names and formats them (with its activity counts)."""
    deals = world.deals
    n = len(deals)
    won = deals["status"].eq("won")
    counts = _activity_counts(world)
    contacted = counts.reindex(columns=["call", "email"], fill_value=0).sum(axis=1)
    cycle = (deals["closed_at"] - deals["created_at"]) // pd.Timedelta(days=1)
    source = hubspot_sources(deals["lead_source_group"], rng)
    amount = [repr(round(v, 2)) for v in deals["amount"].tolist()]
    return {
        "Record ID": ids.hubspot,
        "Deal Name": (deals["account"] + " - " + deals["product"]).tolist(),
        "Deal Stage": hubspot_stages(deals).tolist(),
        "Pipeline": ["Sales Pipeline"] * n,
        "Amount": amount,
        "Close Date": _stamp(end_dates(world), _HUBSPOT_MINUTE),
        "Create Date": _stamp(deals["created_at"], _HUBSPOT_MINUTE),
        "Deal owner": deals["owner"].tolist(),
        "Deal Type": deals["deal_type"].map(DEAL_TYPE_LABELS).tolist(),
        "Associated Company": deals["account"].tolist(),
        "Number of Sales Activities": [str(v) for v in counts.sum(axis=1).tolist()],
        "Number of times contacted": [str(v) for v in contacted.tolist()],
        "Number of Associated Contacts": [str(v) for v in (1 + rng.poisson(1.0, n)).tolist()],
        "Days to close": ["" if pd.isna(v) else str(int(v)) for v in cycle.tolist()],
        "Original Source": source,
        "Is Closed Won": np.where(won, "true", "false").tolist(),
        "Amount in company currency": amount,
        "Currency": ["USD"] * n,
    }


def hubspot_stages(deals: pd.DataFrame) -> np.ndarray:
    """HubSpot's stage labels of the deals: closed won or lost, else one of its five open stages
    (Salesforce's eight open stages folded onto them)."""
    status = deals["status"]
    open_index = np.array([OPEN_STAGES.index(s) if s in OPEN_STAGES else 0 for s in deals["stage"]])
    return np.where(
        status.eq("won"),
        "Closed Won",
        np.where(
            status.eq("lost"),
            "Closed Lost",
            np.array(HUBSPOT_OPEN_STAGES)[_FIVE_OF_EIGHT[open_index]],
        ),
    )


def hubspot_sources(groups: pd.Series, rng: np.random.Generator) -> list[str]:
    """HubSpot's ``Original Source`` of each deal: one of those its lead source group shows as."""
    choice = rng.integers(0, 3, len(groups))
    return [
        HUBSPOT_SOURCES[g][c % len(HUBSPOT_SOURCES[g])] for g, c in zip(groups, choice, strict=True)
    ]


def _hubspot_stamp(value: pd.Timestamp) -> str:
    return f"{value:{_HUBSPOT_MINUTE}}"


def _hubspot_test_record(world: World) -> dict[str, str]:
    return {
        "Record ID": "100000000001",
        "Deal Name": "TEST - DO NOT USE",
        "Deal Stage": "Appointment Scheduled",
        "Pipeline": "Sales Pipeline",
        "Amount": "1.0",
        "Create Date": _hubspot_stamp(world.as_of - pd.Timedelta(days=30)),
        "Close Date": _hubspot_stamp(world.as_of),
        "Associated Company": "Test Company",
        "Is Closed Won": "false",
        "Currency": "USD",
    }


def pipedrive_deals(world: World, name: str, ids: VendorIds, rng: np.random.Generator) -> Sheet:
    """The deals as a Pipedrive deals export (values in each deal's own currency)."""
    sheet = Sheet.from_columns(
        name, _pipedrive_deal_columns(world, ids, rng), id_column="Deal - ID"
    )
    dirt.deal_defects(
        sheet,
        world,
        rng,
        amount="Deal - Value",
        zero="0",
        created="Deal - Deal created",
        fmt=_pipedrive_stamp,
    )
    dirt.slipped_forecasts(sheet, world, "Deal - Expected close date")
    dirt.test_record(sheet, _pipedrive_test_record(world), rng)
    dirt.duplicates(sheet, rng, amount="Deal - Value", restate=_restate_plain)
    return sheet


def _pipedrive_deal_columns(
    world: World, ids: VendorIds, rng: np.random.Generator
) -> dict[str, object]:
    """The export's columns, as Pipedrive names and formats them (a contact per account)."""
    deals = world.deals
    n = len(deals)
    status = deals["status"].to_numpy()
    stage = np.array(_PIPEDRIVE_STAGES)[_pipedrive_stages(status, deals["stage"], rng)]
    closed = deals["closed_at"]
    counts = _activity_counts(world)
    contacts = contact_names(len(world.accounts), rng)
    contact_of = dict(zip(world.accounts["account_id"], contacts, strict=True))
    expected = deals["expected_close_at"].fillna(deals["closed_at"])
    return {
        "Deal - ID": ids.pipedrive,
        "Deal - Title": (deals["account"] + " " + deals["product"]).tolist(),
        "Deal - Value": [_plain(v) for v in deals["amount_original"].tolist()],
        "Deal - Currency": deals["currency"].tolist(),
        "Deal - Status": status.tolist(),
        "Deal - Stage": stage.tolist(),
        "Deal - Pipeline": ["Sales pipeline"] * n,
        "Deal - Owner": deals["owner"].tolist(),
        "Deal - Organization": deals["account"].tolist(),
        "Deal - Contact person": [contact_of[a] for a in deals["account_id"]],
        "Deal - Deal created": _stamp(deals["created_at"], _PIPEDRIVE_SECOND),
        "Deal - Won time": _stamp(closed.where(deals["status"].eq("won")), _PIPEDRIVE_SECOND),
        "Deal - Lost time": _stamp(closed.where(deals["status"].eq("lost")), _PIPEDRIVE_SECOND),
        "Deal - Lost reason": [
            _LOST_REASONS[c] if s == "lost" else ""
            for s, c in zip(status, rng.integers(0, len(_LOST_REASONS), n), strict=True)
        ],
        "Deal - Expected close date": _stamp(expected, "%Y-%m-%d"),
        "Deal - Source": deals["lead_source"].tolist(),
        "Deal - Product name": deals["product"].tolist(),
        "Deal - Total activities": [str(v) for v in counts.sum(axis=1).tolist()],
        "Organization - Name": deals["account"].tolist(),
        "Organization - Industry": deals["industry"].tolist(),
        "Organization - Employees": [str(int(v)) for v in deals["employees"].tolist()],
    }


def _pipedrive_stages(status: np.ndarray, stage: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Stage of each deal in Pipedrive's five: a lost deal keeps the stage it was lost in.

    Lost deals were lost at any stage (mostly the middle ones), won deals mostly won at the last;
    open deals map their Salesforce stage onto the five.
    """
    n = len(status)
    open_index = np.array([OPEN_STAGES.index(s) if s in OPEN_STAGES else 0 for s in stage])
    lost_stage = rng.binomial(len(_PIPEDRIVE_STAGES) - 1, 0.45, n)
    won_stage = np.where(
        rng.random(n) < 0.8, len(_PIPEDRIVE_STAGES) - 1, len(_PIPEDRIVE_STAGES) - 2
    )
    return np.select(
        [status == "won", status == "lost"],
        [won_stage, lost_stage],
        default=_FIVE_OF_EIGHT[open_index],
    )


def _pipedrive_stamp(value: pd.Timestamp) -> str:
    return f"{value:{_PIPEDRIVE_SECOND}}"


def _pipedrive_test_record(world: World) -> dict[str, str]:
    return {
        "Deal - ID": "1",
        "Deal - Title": "TEST - DO NOT USE",
        "Deal - Value": "1",
        "Deal - Currency": "USD",
        "Deal - Status": "open",
        "Deal - Stage": _PIPEDRIVE_STAGES[0],
        "Deal - Pipeline": "Sales pipeline",
        "Deal - Organization": "Test Organization",
        "Deal - Deal created": _pipedrive_stamp(world.as_of - pd.Timedelta(days=30)),
        "Organization - Name": "Test Organization",
    }
