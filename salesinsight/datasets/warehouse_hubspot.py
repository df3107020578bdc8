"""A world as the HubSpot connector syncs it: ``deal``, ``deal_stage``, ``company``, ``engagement``, ...

Deal ids and stage labels are those of the HubSpot export of the same world and seed. Deals sit in
HubSpot's default pipeline (internal stage ids such as ``appointmentscheduled`` and ``closedwon``,
labels in ``deal_pipeline_stage``); ``deal_stage`` holds one row per stage a deal entered, the
active one its current stage. Every activity is an engagement associated with its deal. Besides
the world's records the sync holds, each listed in the dirt manifest: soft-deleted deals (with
their stage rows, company links and an engagement on one of them), a soft-deleted company, a
pipeline stage and an owner the connector saw deleted, and an engagement associated with a deal
the sync does not hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.datasets import dirt as dirt_counts
from salesinsight.datasets.connector import (
    HISTORY_END,
    DirtLog,
    booleans,
    floats,
    integers,
    stamps,
    synced_at,
    texts,
)
from salesinsight.datasets.simulate import World
from salesinsight.datasets.vendors import (
    HUBSPOT_OPEN_STAGES,
    VendorIds,
    end_dates,
    hubspot_sources,
    hubspot_stages,
)
from salesinsight.io.warehouse.layout import table_layout

__all__ = ["HUBSPOT_STAGE_IDS", "hubspot_warehouse"]

HUBSPOT_STAGE_IDS = {
    "Appointment Scheduled": ("appointmentscheduled", 0.2),
    "Qualified To Buy": ("qualifiedtobuy", 0.4),
    "Presentation Scheduled": ("presentationscheduled", 0.6),
    "Decision Maker Bought-In": ("decisionmakerboughtin", 0.8),
    "Contract Sent": ("contractsent", 0.9),
    "Closed Won": ("closedwon", 1.0),
    "Closed Lost": ("closedlost", 0.0),
}
"""Internal id and win probability of each stage of HubSpot's default sales pipeline."""
_PORTAL = 4_727_653
_SOURCE_VALUES = {
    "Referrals": "REFERRALS",
    "Organic Search": "ORGANIC_SEARCH",
    "Direct Traffic": "DIRECT_TRAFFIC",
    "Paid Search": "PAID_SEARCH",
    "Offline Sources": "OFFLINE",
    "Other Campaigns": "OTHER_CAMPAIGNS",
}
_DEAL_TYPES = {"new_business": "newbusiness", "existing_business": "existingbusiness"}
_ENGAGEMENT_TYPES = {"call": "CALL", "email": "EMAIL", "meeting": "MEETING", "task": "TASK"}


def hubspot_warehouse(
    world: World, ids: VendorIds, rng: np.random.Generator
) -> tuple[dict[str, pa.Table], pd.DataFrame]:
    """The world's HubSpot tables and the manifest of the rows that are not current records.

    Returns
    -------
    tables : dict of str to pyarrow.Table
        ``deal``, ``deal_pipeline``, ``deal_pipeline_stage``, ``deal_stage``, ``company``,
        ``deal_company``, ``owner``, ``engagement``, ``engagement_call``, ``engagement_email``,
        ``engagement_meeting``, ``engagement_note``, ``engagement_task``, ``engagement_deal``.
    dirt : DataFrame
        ``crm, table, record_id, kind, detail``.

    Examples
    --------
    >>> from salesinsight.datasets import simulate_world
    >>> from salesinsight.datasets.vendors import vendor_ids
    >>> world, rng = simulate_world(n_accounts=30, seed=0), np.random.default_rng(0)
    >>> tables, dirt = hubspot_warehouse(world, vendor_ids(world, rng), rng)
    >>> tables["deal_stage"].num_rows >= len(world.deals), "orphan" in set(dirt["kind"])
    (True, True)
    """
    log = DirtLog("hubspot")
    synced = synced_at(world.as_of)
    deal_ids = np.asarray(ids.hubspot.to_pylist(), dtype=np.int64)
    owners = _owners(world, synced, log)
    companies = _companies(world, synced, log)
    company_of = dict(zip(world.accounts["account_id"], companies["id"].to_pylist(), strict=False))
    owner_of = dict(zip(world.reps["owner"], owners["owner_id"].to_pylist(), strict=False))
    deals, extra = _deals(world, deal_ids, owner_of, synced, rng, log)
    tables = {
        "deal": deals,
        **_pipeline(synced, log),
        "deal_stage": _deal_stages(world, deal_ids, extra, synced),
        "company": companies,
        "deal_company": _deal_companies(world, deal_ids, extra, company_of, synced),
        "owner": owners,
        **_engagements(world, deal_ids, extra, owner_of, synced, log),
    }
    _log_links(tables, extra, log)
    return tables, log.frame()


def _log_links(tables: dict[str, pa.Table], extra: pd.DataFrame, log: DirtLog) -> None:
    """List the rows of the history and link tables that hang on a row that is not current; a
    row of a table without an id of its own is named by its key columns, joined by ``|``."""
    archived = pa.array(extra["deal_id"], pa.int64())
    strays = log.frame().query("table == 'engagement'")["record_id"].astype("int64")
    for name, column, values, detail in (
        ("deal_stage", "deal_id", archived, "a stage of an archived deal"),
        ("deal_company", "deal_id", archived, "the company of an archived deal"),
        ("engagement_deal", "engagement_id", pa.array(strays, pa.int64()), "an orphan's link"),
    ):
        table = tables[name]
        rows = table.filter(pc.is_in(table[column], value_set=values))
        key = table_layout("hubspot", name).key
        names = [
            "|".join(map(str, r)) for r in zip(*(rows[k].to_pylist() for k in key), strict=True)
        ]
        log.add(name, names, "orphan", detail)


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.rpartition(" ")
    return first, last


def _owners(world: World, synced: pd.Timestamp, log: DirtLog) -> pa.Table:
    """HubSpot owners; ``first_name`` holds all but the last word, so the full name survives."""
    names = [*world.reps["owner"].tolist(), "Former Integration"]
    n = len(names)
    ids = np.arange(n, dtype=np.int64) + 35_252_170
    log.add("owner", [ids[-1]], "connector_deleted", "an owner removed from the portal")
    first, last = zip(*map(_split_name, names), strict=True)
    return pa.table(
        {
            "owner_id": integers(ids),
            "first_name": texts(first),
            "last_name": texts(last),
            "email": texts([f"{n.lower().replace(' ', '.')}@example.com" for n in names]),
            "type": texts(["PERSON"] * n),
            "created_at": stamps([*world.reps["started_at"].tolist(), world.as_of]),
            "portal_id": integers([_PORTAL] * n),
            "_fivetran_deleted": booleans([False] * (n - 1) + [True]),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _companies(world: World, synced: pd.Timestamp, log: DirtLog) -> pa.Table:
    acc = world.accounts
    n = len(acc) + 1
    ids = np.arange(n, dtype=np.int64) * 7 + 2_182_162_682
    log.add("company", [ids[-1]], "soft_deleted", "a duplicate company, archived")
    return pa.table(
        {
            "id": integers(ids),
            "property_name": texts([*acc["account"], f"{acc['account'].iloc[0]} (duplicate)"]),
            "property_industry": texts([*acc["industry"], None]),
            "property_numberofemployees": floats([*acc["employees"], np.nan]),
            "property_country": texts([*acc["country"], None]),
            "property_createdate": stamps([*acc["entered_at"], world.as_of]),
            "is_deleted": booleans([False] * (n - 1) + [True]),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _deals(
    world: World,
    deal_ids: np.ndarray,
    owner_of: dict[str, int],
    synced: pd.Timestamp,
    rng: np.random.Generator,
    log: DirtLog,
) -> tuple[pa.Table, pd.DataFrame]:
    """The deal table (the world's deals, then soft-deleted copies of a few) and those copies."""
    d = world.deals
    stage = pd.Series(hubspot_stages(d)).map(lambda s: HUBSPOT_STAGE_IDS[s][0])
    sources = pd.Series(hubspot_sources(d["lead_source_group"], rng)).map(_SOURCE_VALUES)
    rows = np.sort(rng.choice(len(d), dirt_counts.count(len(d), 0.005), replace=False))
    extra = pd.DataFrame(
        {
            "deal_id": np.arange(len(rows), dtype=np.int64) + 990_000_000_000,
            "copy_of": rows,
            "created_at": d["created_at"].to_numpy()[rows] + np.timedelta64(1, "h"),
        }
    )
    log.add("deal", extra["deal_id"], "soft_deleted", "a deal archived in HubSpot")
    owner = d["owner"].map(owner_of).to_numpy(dtype=np.int64)
    every = np.concatenate([np.arange(len(d)), rows])
    n = len(every)
    table = pa.table(
        {
            "deal_id": integers(np.concatenate([deal_ids, extra["deal_id"]])),
            "deal_pipeline_id": texts(["default"] * n),
            "deal_pipeline_stage_id": texts(stage.to_numpy()[every]),
            "owner_id": integers(owner[every]),
            "portal_id": integers([_PORTAL] * n),
            "property_dealname": texts((d["account"] + " - " + d["product"]).to_numpy()[every]),
            "property_amount": floats(d["amount"].to_numpy()[every]),
            "property_amount_in_home_currency": floats(d["amount"].to_numpy()[every]),
            "property_deal_currency_code": texts(["USD"] * n),
            "property_closedate": stamps(end_dates(world).to_numpy()[every]),
            "property_createdate": stamps(
                np.concatenate([d["created_at"].to_numpy(), extra["created_at"].to_numpy()])
            ),
            "property_dealtype": texts(d["deal_type"].map(_DEAL_TYPES).to_numpy()[every]),
            "property_hs_analytics_source": texts(sources.to_numpy()[every]),
            "is_deleted": booleans([False] * len(d) + [True] * len(rows)),
            "_fivetran_synced": stamps([synced] * n),
        }
    )
    return table, extra


def _pipeline(synced: pd.Timestamp, log: DirtLog) -> dict[str, pa.Table]:
    """The default pipeline, its seven stages and a stage removed since (connector-deleted)."""
    labels = [*HUBSPOT_STAGE_IDS, "Negotiation"]
    stage_ids = [*(v[0] for v in HUBSPOT_STAGE_IDS.values()), "negotiation"]
    probability = [*(v[1] for v in HUBSPOT_STAGE_IDS.values()), 0.85]
    n = len(labels)
    log.add("deal_pipeline_stage", ["negotiation"], "connector_deleted", "a stage removed")
    pipeline = pa.table(
        {
            "pipeline_id": texts(["default"]),
            "label": texts(["Sales Pipeline"]),
            "active": booleans([True]),
            "display_order": integers([0]),
            "_fivetran_deleted": booleans([False]),
            "_fivetran_synced": stamps([synced]),
        }
    )
    stages = pa.table(
        {
            "stage_id": texts(stage_ids),
            "pipeline_id": texts(["default"] * n),
            "label": texts(labels),
            "probability": floats(probability),
            "closed_won": booleans([s == "closedwon" for s in stage_ids]),
            "active": booleans([True] * (n - 1) + [False]),
            "display_order": integers(range(n)),
            "_fivetran_deleted": booleans([False] * (n - 1) + [True]),
            "_fivetran_synced": stamps([synced] * n),
        }
    )
    return {"deal_pipeline": pipeline, "deal_pipeline_stage": stages}


def _deal_stages(
    world: World, deal_ids: np.ndarray, extra: pd.DataFrame, synced: pd.Timestamp
) -> pa.Table:
    """One row per stage entered: the first at creation; the current one at the close (or halfway
    to the snapshot for an open deal past its first stage), the active row."""
    d = world.deals
    first = HUBSPOT_STAGE_IDS[HUBSPOT_OPEN_STAGES[0]][0]
    current = pd.Series(hubspot_stages(d)).map(lambda s: HUBSPOT_STAGE_IDS[s][0]).to_numpy()
    moved = current != first
    halfway = d["created_at"] + (world.as_of - d["created_at"]) / 2
    entered = d["closed_at"].fillna(halfway).to_numpy()[moved]
    n_extra = len(extra)
    deal = np.concatenate([deal_ids, deal_ids[moved], extra["deal_id"]])
    start = np.concatenate([d["created_at"].to_numpy(), entered, extra["created_at"].to_numpy()])
    end = np.concatenate(
        [
            np.where(moved, d["closed_at"].fillna(halfway).to_numpy(), np.datetime64("NaT")),
            np.full(moved.sum() + n_extra, np.datetime64("NaT")),
        ]
    )
    active = np.concatenate([~moved, np.ones(moved.sum() + n_extra, bool)])
    ended = pd.Series(end).astype("datetime64[us]") - pd.Timedelta(milliseconds=1)
    n = len(deal)
    return pa.table(
        {
            "deal_id": integers(deal),
            "value": texts([*[first] * len(d), *current[moved], *[first] * n_extra]),
            "date_entered": stamps(start),
            "source": texts(["CRM_UI"] * n),
            "_fivetran_start": stamps(start),
            "_fivetran_end": stamps(ended.fillna(HISTORY_END)),
            "_fivetran_active": booleans(active),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _deal_companies(
    world: World,
    deal_ids: np.ndarray,
    extra: pd.DataFrame,
    company_of: dict[str, int],
    synced: pd.Timestamp,
) -> pa.Table:
    company = world.deals["account_id"].map(company_of).to_numpy(dtype=np.int64)
    n = len(deal_ids) + len(extra)
    return pa.table(
        {
            "deal_id": integers(np.concatenate([deal_ids, extra["deal_id"]])),
            "company_id": integers(np.concatenate([company, company[extra["copy_of"]]])),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _engagements(
    world: World,
    deal_ids: np.ndarray,
    extra: pd.DataFrame,
    owner_of: dict[str, int],
    synced: pd.Timestamp,
    log: DirtLog,
) -> dict[str, pa.Table]:
    """Engagements (the world's activities, then one on an archived deal and one on a deal the
    sync lacks, two days after creation), their type tables and their deal associations."""
    acts = world.activities
    deal_pos = pd.Index(world.deals["deal_id"]).get_indexer(acts["deal_id"])
    stray_deals = np.array([extra["deal_id"].iloc[0], 999_999_999_999], dtype=np.int64)
    stray_at = pd.Series([extra["created_at"].iloc[0]] * 2) + pd.Timedelta(days=2)
    n = len(acts) + 2
    ids = np.arange(n, dtype=np.int64) * 3 + 10_000_000_000
    log.add("engagement", ids[-2:-1], "orphan", "associated with an archived deal")
    log.add("engagement", ids[-1:], "orphan", "associated with a deal the sync lacks")
    kinds = np.array([*acts["type"].map(_ENGAGEMENT_TYPES), "CALL", "CALL"], dtype=object)
    owner = acts["owner"].map(owner_of).to_numpy(dtype=np.int64)
    when = pd.concat([acts["occurred_at"], stray_at], ignore_index=True)
    engagement = pa.table(
        {
            "id": integers(ids),
            "type": texts(kinds),
            "timestamp": stamps(when),
            "created_at": stamps(when),
            "owner_id": pa.array([*owner.tolist(), None, None], pa.int64()),
            "portal_id": integers([_PORTAL] * n),
            "active": booleans([True] * n),
            "_fivetran_deleted": booleans([False] * n),
            "_fivetran_synced": stamps([synced] * n),
        }
    )
    links = pa.table(
        {
            "engagement_id": integers(ids),
            "deal_id": integers(np.concatenate([deal_ids[deal_pos], stray_deals])),
            "_fivetran_synced": stamps([synced] * n),
        }
    )
    return {
        "engagement": engagement,
        **_engagement_details(ids, kinds, when, synced),
        "engagement_deal": links,
    }


def _engagement_details(
    ids: np.ndarray, kinds: np.ndarray, when: pd.Series, synced: pd.Timestamp
) -> dict[str, pa.Table]:
    """``engagement_call``, ``_email``, ``_meeting``, ``_note``, ``_task``: one row per engagement
    of the type (the world logs no notes, so that table is empty)."""
    out = {}
    extra_columns = {
        "call": lambda at: {"status": texts(["COMPLETED"] * len(at))},
        "email": lambda at: {"subject": texts(["Follow up"] * len(at))},
        "meeting": lambda at: {
            "title": texts(["Meeting"] * len(at)),
            "start_time": stamps(at),
            "end_time": stamps(at + pd.Timedelta(hours=1)),
        },
        "note": lambda at: {"body": texts([None] * len(at))},
        "task": lambda at: {"subject": texts(["Follow up"] * len(at))},
    }
    for kind, columns in extra_columns.items():
        rows = np.flatnonzero(kinds == kind.upper())
        at = when.iloc[rows].reset_index(drop=True)
        out[f"engagement_{kind}"] = pa.table(
            {
                "engagement_id": integers(ids[rows]),
                **columns(at),
                "_fivetran_synced": stamps([synced] * len(rows)),
            }
        )
    return out
