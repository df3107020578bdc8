"""Exports shaped like real ones that carry the claims' fields under other names.

The column names are those of real exports (a legal-tech vendor's Salesforce opportunity report,
HubSpot, Pipedrive and Zoho deal exports); the rows are invented: accounts buying again, deal
types, free-text campaign sources and loss reasons, with repeat customers planted to lose less
often on price and referred or outbound deals to be larger.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

#: Campaign names of the Salesforce shape, by the group the word rules should give them.
CAMPAIGNS = {
    "outbound": ["BDR Outreach", "Cold Call", "SDR Sequence - Q2"],
    "inbound": [
        "Website Demo + Contact Us - Form Submissions",
        "OA-GoogleAds-Brand",
        "PPC - Capterra",
    ],
    "referral": ["Referred by Client", "Partner Referral"],
    "event": ["TS-National ALA Booth Visitors 2024", "webinar-ediscovery-101"],
    "existing_customer": ["Check-in Call", "Renewal Outreach Customer"],
    "other": ["Q3 Push", "Misc"],
}
LOSS_REASONS = {
    True: ["Price", "No Budget", "Too expensive", "Went with cheaper option"],
    False: ["Lost to Competitor", "No Decision", "Timing", "Went dark"],
}


def legal_world(n_accounts: int = 320, seed: int = 7) -> pd.DataFrame:
    """Deals of a legal-tech vendor: several per account, in canonical names plus the truth."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2021-01-04")
    for a in range(n_accounts):
        lawyers = int(rng.lognormal(3.0, 1.0)) + 1
        n = int(rng.integers(2, 6))
        created = np.sort(rng.integers(0, 1200, n))
        won_before = 0
        for k in range(n):
            repeat = won_before > 0
            group = rng.choice(list(CAMPAIGNS), p=[0.25, 0.3, 0.12, 0.1, 0.13, 0.1])
            if repeat and rng.random() < 0.5:
                group = "existing_customer"
            kind = "New Business" if k == 0 else rng.choice(["Cross-Sell", "Upsell", "Renewal"])
            p_win = 0.35 + 0.2 * repeat + 0.1 * (group == "outbound")
            won = rng.random() < p_win
            days = int(rng.gamma(2.0, 30.0)) + 5
            size = 12_000 * np.exp(0.3 * np.log(lawyers) + 0.25 * (group == "outbound"))
            amount = round(float(size * rng.lognormal(0.0, 0.5)), 2)
            on_price = rng.random() < (0.15 if repeat else 0.4)
            created_at = start + pd.Timedelta(days=int(created[k]))
            rows.append(
                {
                    "account": f"Firm {a:03d} LLP",
                    "deal_name": f"Firm {a:03d} - {kind} {k + 1}",
                    "status": "won" if won else "lost",
                    "created_at": created_at,
                    "closed_at": created_at + pd.Timedelta(days=days),
                    "deal_type": kind,
                    "amount": amount,
                    "source": rng.choice(CAMPAIGNS[group]),
                    "group": group,
                    "loss_reason": None if won else rng.choice(LOSS_REASONS[bool(on_price)]),
                    "practice": rng.choice(["Litigation", "Corporate", "IP", "Family"]),
                    "lawyers": lawyers,
                    "repeat": repeat,
                }
            )
            won_before += won
    return pd.DataFrame(rows)


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def salesforce_legal(folder: Path, world: pd.DataFrame | None = None) -> Path:
    """The legal-tech vendor's opportunity report: no owner, no lead source, no product, no
    list price; `Total ACV`, `Primary Campaign Source`, `Closed Lost Reason`, `NumofLawyers`."""
    w = legal_world() if world is None else world
    header = [
        "Account Name",
        "Opportunity Name",
        "Stage",
        "Close Date",
        "Created Date",
        "Type",
        "Total ACV",
        "Primary Campaign Source",
        "Closed Lost Reason",
        "Law Firm Practice Area",
        "NumofLawyers",
    ]
    rows = [
        [
            r.account,
            r.deal_name,
            "Closed Won" if r.status == "won" else "Closed Lost",
            f"{r.closed_at:%m/%d/%Y}",
            f"{r.created_at:%m/%d/%Y}",
            r.deal_type,
            f"${r.amount:,.2f}",
            r.source,
            "" if pd.isna(r.loss_reason) else r.loss_reason,
            r.practice,
            r.lawyers,
        ]
        for r in w.itertuples()
    ]
    return _write(folder / "legal_opportunities.csv", header, rows)


def hubspot_sources(folder: Path, world: pd.DataFrame | None = None) -> Path:
    """A HubSpot deals export with `Original Source Drill-Down 1` as its only source column,
    `Closed Lost Reason` and `Annual Revenue` in place of a head count."""
    w = legal_world(120, seed=3) if world is None else world
    header = [
        "Record ID",
        "Deal Name",
        "Deal Stage",
        "Pipeline",
        "Amount",
        "Close Date",
        "Create Date",
        "Deal owner",
        "Deal Type",
        "Associated Company",
        "Original Source Drill-Down 1",
        "Closed Lost Reason",
        "Annual Revenue",
    ]
    rows = [
        [
            str(9_000_000 + i),
            r.deal_name,
            "Closed won" if r.status == "won" else "Closed lost",
            "Sales Pipeline",
            f"{r.amount:.2f}",
            f"{r.closed_at:%Y-%m-%d %H:%M}",
            f"{r.created_at:%Y-%m-%d %H:%M}",
            "Dana Cruz",
            "existingbusiness" if r.repeat else "newbusiness",
            r.account,
            r.source,
            "" if pd.isna(r.loss_reason) else r.loss_reason,
            f"{r.lawyers * 250_000}",
        ]
        for i, r in enumerate(w.itertuples())
    ]
    return _write(folder / "hubspot-crm-exports-all-deals.csv", header, rows)
