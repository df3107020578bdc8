"""A world as the Salesforce connector syncs it: ``opportunity``, ``account``, ``user``, ``task``, ...

Ids, labels and values are those of the Salesforce exports of the same world and seed (the
opportunity ids of :func:`~salesinsight.datasets.vendors.vendor_ids`, the task and event ids of
the activities report), so both sources describe the same deals. The opportunity table is in
history mode. Besides the world's records the sync holds, each listed in the dirt manifest:

* soft-deleted opportunities (``is_deleted``), with their stage history and line items, and a
  soft-deleted account, task and event;
* one opportunity and one user the connector saw deleted (``_fivetran_deleted``);
* an earlier version of some closed deals, from before they closed (``_fivetran_active`` false);
* tasks on deals missing from the sync (orphans), tasks on accounts (on no deal), and a task and
  an event linked to a soft-deleted deal, inside its first weeks.

A product's line item carries the deal's list price as quantity times the price book's unit
price; the quantity is then fractional, as Salesforce allows.
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
    concat,
    floats,
    integers,
    stamps,
    synced_at,
    texts,
)
from salesinsight.datasets.simulate import OPEN_STAGES, World
from salesinsight.datasets.vendors import (
    ACTIVITY_LABELS,
    DEAL_TYPE_LABELS,
    SALESFORCE_PROBABILITY,
    VendorIds,
    end_dates,
    salesforce_activity_ids,
    salesforce_ids,
)

__all__ = ["salesforce_warehouse"]

_STANDARD_PRICEBOOK = salesforce_ids("01s", np.array([7]))[0].as_py()
_FORECAST = {"won": "Closed", "lost": "Omitted", "open": "Pipeline"}


def salesforce_warehouse(
    world: World, ids: VendorIds, rng: np.random.Generator
) -> tuple[dict[str, pa.Table], pd.DataFrame]:
    """The world's Salesforce tables and the manifest of the rows that are not current records.

    Returns
    -------
    tables : dict of str to pyarrow.Table
        ``opportunity``, ``account``, ``user``, ``task``, ``event``, ``opportunity_history``,
        ``opportunity_line_item``, ``product_2``, ``pricebook_entry``.
    dirt : DataFrame
        ``crm, table, record_id, kind, detail`` (see :mod:`salesinsight.datasets.connector`).

    Examples
    --------
    >>> from salesinsight.datasets import simulate_world
    >>> from salesinsight.datasets.vendors import vendor_ids
    >>> world, rng = simulate_world(n_accounts=30, seed=0), np.random.default_rng(0)
    >>> tables, dirt = salesforce_warehouse(world, vendor_ids(world, rng), rng)
    >>> tables["opportunity"].num_rows > len(world.deals), sorted(set(dirt["kind"]))[:2]
    (True, ['connector_deleted', 'inactive_version'])
    """
    log = DirtLog("salesforce")
    synced = synced_at(world.as_of)
    users = _users(world, synced, log)
    accounts = _accounts(world, synced, log)
    keys = {
        "user": dict(zip(users["name"].to_pylist(), users["id"].to_pylist(), strict=True)),
        "account": dict(
            zip(world.accounts["account_id"], accounts["id"].to_pylist(), strict=False)
        ),
    }
    deals = _deal_keys(world, ids, keys)
    extra = _extra_deals(world, deals, rng, log)
    products = _products(world, synced)
    tables = {
        "opportunity": _opportunities(world, deals, extra, synced, rng, log),
        "account": accounts,
        "user": users,
        **_activities(world, deals, extra, keys, synced, rng, log),
        "opportunity_history": _stage_history(world, deals, extra, synced),
        "opportunity_line_item": _line_items(world, deals, extra, products, synced),
        **products,
    }
    for name in ("opportunity_history", "opportunity_line_item"):
        deleted = tables[name].filter(pc.field("is_deleted"))
        log.add(name, deleted["id"].to_pylist(), "soft_deleted", "deleted with its opportunity")
    return tables, log.frame()


def _users(world: World, synced: pd.Timestamp, log: DirtLog) -> pa.Table:
    reps = world.reps
    n = len(reps)
    ids = salesforce_ids("005", np.arange(n + 1) + 300)
    names = [*reps["owner"].tolist(), "Integration User"]
    first, last = zip(*(name.rsplit(" ", 1) for name in names), strict=True)
    deleted = np.arange(n + 1) == n
    log.add("user", [ids[n].as_py()], "connector_deleted", "a user removed from the org")
    return pa.table(
        {
            "id": ids,
            "name": texts(names),
            "first_name": texts(first),
            "last_name": texts(last),
            "email": texts([n.lower().replace(" ", ".") + "@example.com" for n in names]),
            "is_active": booleans([*reps["left_at"].isna().tolist(), False]),
            "created_date": stamps([*reps["started_at"].tolist(), world.as_of]),
            "_fivetran_deleted": booleans(deleted),
            "_fivetran_synced": stamps([synced] * (n + 1)),
        }
    )


def _accounts(world: World, synced: pd.Timestamp, log: DirtLog) -> pa.Table:
    acc = world.accounts
    n = len(acc)
    ids = salesforce_ids("001", np.arange(n + 1) + 1_000)
    log.add("account", [ids[n].as_py()], "soft_deleted", "a duplicate account, merged away")
    return pa.table(
        {
            "id": ids,
            "name": texts([*acc["account"].tolist(), f"{acc['account'].iloc[0]} (duplicate)"]),
            "industry": texts([*acc["industry"].tolist(), None]),
            "number_of_employees": pa.array([*acc["employees"].astype(int).tolist(), None]),
            "billing_country": texts([*acc["country"].tolist(), None]),
            "segment_c": texts([*acc["segment"].tolist(), None]),
            "is_deleted": booleans(np.arange(n + 1) == n),
            "_fivetran_deleted": booleans([False] * (n + 1)),
            "_fivetran_synced": stamps([synced] * (n + 1)),
        }
    )


def _deal_keys(world: World, ids: VendorIds, keys: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Per world deal: its opportunity id and the ids of its account and owner."""
    deals = world.deals
    return pd.DataFrame(
        {
            "id": ids.salesforce.to_pylist(),
            "account_id": deals["account_id"].map(keys["account"]).tolist(),
            "owner_id": deals["owner"].map(keys["user"]).tolist(),
        }
    )


def _extra_deals(
    world: World, deals: pd.DataFrame, rng: np.random.Generator, log: DirtLog
) -> pd.DataFrame:
    """Opportunities that are not current: soft-deleted ones, then one deleted at the source."""
    n = dirt_counts.count(len(world.deals), 0.005) + 1
    rows = rng.choice(len(world.deals), n, replace=n > len(world.deals))
    base = world.deals.take(rows).reset_index(drop=True)
    extra = pd.DataFrame(
        {
            "id": salesforce_ids("006", np.arange(n) + 9_000_000).to_pylist(),
            "account_id": deals["account_id"].take(rows).tolist(),
            "owner_id": deals["owner_id"].take(rows).tolist(),
            "created_at": base["created_at"] + pd.Timedelta(hours=1),
            "amount": base["amount"],
            "deleted": ["soft"] * (n - 1) + ["source"],
        }
    )
    log.add("opportunity", extra["id"][:-1], "soft_deleted", "an opportunity in the recycle bin")
    log.add("opportunity", extra["id"][-1:], "connector_deleted", "deleted in Salesforce")
    return extra


def _opportunities(
    world: World,
    deals: pd.DataFrame,
    extra: pd.DataFrame,
    synced: pd.Timestamp,
    rng: np.random.Generator,
    log: DirtLog,
) -> pa.Table:
    current = _current_opportunities(world, deals, synced)
    closed = np.flatnonzero(world.deals["status"].ne("open").to_numpy())
    pick = np.sort(rng.choice(closed, min(len(closed), dirt_counts.count(len(closed), 0.02))))
    older = _earlier_versions(world, deals, pick, synced)
    log.add("opportunity", deals["id"].take(pick), "inactive_version", "the deal before it closed")
    return concat([current, older, _extra_opportunities(extra, synced)])


def _current_opportunities(world: World, deals: pd.DataFrame, synced: pd.Timestamp) -> pa.Table:
    d = world.deals
    n = len(d)
    end = end_dates(world)
    changed = d["closed_at"].fillna(d["created_at"])
    return pa.table(
        {
            "id": texts(deals["id"]),
            "account_id": texts(deals["account_id"]),
            "owner_id": texts(deals["owner_id"]),
            "name": texts(d["account"] + " - " + d["product"]),
            "stage_name": texts(d["stage"]),
            "amount": floats(d["amount"]),
            "probability": floats(d["stage"].map(SALESFORCE_PROBABILITY)),
            "close_date": pa.array(end.dt.date, pa.date32()),
            "created_date": stamps(d["created_at"]),
            "is_closed": booleans(d["status"].ne("open")),
            "is_won": booleans(d["status"].eq("won")),
            "lead_source": texts(d["lead_source"]),
            "type": texts(d["deal_type"].map(DEAL_TYPE_LABELS)),
            "forecast_category": texts(d["status"].map(_FORECAST)),
            "fiscal_quarter": integers(end.dt.quarter),
            "fiscal_year": integers(end.dt.year),
            "has_opportunity_line_item": booleans([True] * n),
            "pricebook_2_id": texts([_STANDARD_PRICEBOOK] * n),
            "is_deleted": booleans([False] * n),
            "_fivetran_deleted": booleans([False] * n),
            "_fivetran_active": booleans([True] * n),
            "_fivetran_start": stamps(changed),
            "_fivetran_end": stamps([HISTORY_END] * n),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _earlier_versions(
    world: World, deals: pd.DataFrame, rows: np.ndarray, synced: pd.Timestamp
) -> pa.Table:
    """Versions of closed deals from their first stage, ended a millisecond before they closed."""
    current = _current_opportunities(world, deals, synced).take(pa.array(rows, pa.int64()))
    d = world.deals.take(rows)
    n = len(rows)
    closing = d["closed_at"] - pd.Timedelta(milliseconds=1)
    replaced = {
        "stage_name": texts([OPEN_STAGES[0]] * n),
        "probability": floats([SALESFORCE_PROBABILITY[OPEN_STAGES[0]]] * n),
        "is_closed": booleans([False] * n),
        "is_won": booleans([False] * n),
        "forecast_category": texts(["Pipeline"] * n),
        "_fivetran_active": booleans([False] * n),
        "_fivetran_start": stamps(d["created_at"]),
        "_fivetran_end": stamps(closing),
    }
    for name, values in replaced.items():
        current = current.set_column(current.schema.get_field_index(name), name, values)
    return current


def _extra_opportunities(extra: pd.DataFrame, synced: pd.Timestamp) -> pa.Table:
    n = len(extra)
    return pa.table(
        {
            "id": texts(extra["id"]),
            "account_id": texts(extra["account_id"]),
            "owner_id": texts(extra["owner_id"]),
            "name": texts(["Duplicate opportunity"] * n),
            "stage_name": texts([OPEN_STAGES[0]] * n),
            "amount": floats(extra["amount"]),
            "probability": floats([SALESFORCE_PROBABILITY[OPEN_STAGES[0]]] * n),
            "close_date": pa.array((extra["created_at"] + pd.Timedelta(days=60)).dt.date),
            "created_date": stamps(extra["created_at"]),
            "is_closed": booleans([False] * n),
            "is_won": booleans([False] * n),
            "is_deleted": booleans(extra["deleted"].eq("soft")),
            "_fivetran_deleted": booleans(extra["deleted"].eq("source")),
            "_fivetran_active": booleans([True] * n),
            "_fivetran_start": stamps(extra["created_at"]),
            "_fivetran_end": stamps([HISTORY_END] * n),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _products(world: World, synced: pd.Timestamp) -> dict[str, pa.Table]:
    products = world.products
    n = len(products)
    product_ids = salesforce_ids("01t", np.arange(n) + 100)
    entry_ids = salesforce_ids("01u", np.arange(n) + 100)
    common = {
        "is_deleted": booleans([False] * n),
        "_fivetran_synced": stamps([synced] * n),
    }
    product_2 = {
        "id": product_ids,
        "name": texts(products["product"]),
        "product_code": texts([f"P-{i + 1:03d}" for i in range(n)]),
        "is_active": booleans([True] * n),
    }
    entries = {
        "id": entry_ids,
        "product_2_id": product_ids,
        "pricebook_2_id": texts([_STANDARD_PRICEBOOK] * n),
        "unit_price": floats(products["unit_price"]),
        "is_active": booleans([True] * n),
        "use_standard_price": booleans([False] * n),
    }
    return {
        "product_2": pa.table({**product_2, **common}),
        "pricebook_entry": pa.table(entries | common),
    }


def _line_items(
    world: World,
    deals: pd.DataFrame,
    extra: pd.DataFrame,
    products: dict[str, pa.Table],
    synced: pd.Timestamp,
) -> pa.Table:
    """One line per opportunity, the soft-deleted ones' deleted with them."""
    d = world.deals
    entries = products["pricebook_entry"]
    pos = pd.Index(world.products["product"]).get_indexer(d["product"])
    unit = world.products["unit_price"].to_numpy()[pos]
    quantity = d["list_price"].to_numpy() / unit
    soft = extra["deleted"].eq("soft").to_numpy()
    n, m = len(d), int(soft.sum())
    first = np.zeros(m, dtype=np.int64)
    return pa.table(
        {
            "id": salesforce_ids("00k", np.arange(n + m) + 500),
            "opportunity_id": texts([*deals["id"], *extra["id"][soft]]),
            "product_2_id": entries["product_2_id"].take(pa.array([*pos, *first])),
            "pricebook_entry_id": entries["id"].take(pa.array([*pos, *first])),
            "name": texts([*d["product"], *[world.products["product"].iloc[0]] * m]),
            "quantity": floats([*quantity, *[1.0] * m]),
            "list_price": floats([*unit, *[unit[0] if n else 0.0] * m]),
            "unit_price": floats([*(d["amount"].to_numpy() / quantity), *extra["amount"][soft]]),
            "total_price": floats([*d["amount"], *extra["amount"][soft]]),
            "is_deleted": booleans([False] * n + [True] * m),
            "_fivetran_synced": stamps([synced] * (n + m)),
        }
    )


def _stage_history(
    world: World, deals: pd.DataFrame, extra: pd.DataFrame, synced: pd.Timestamp
) -> pa.Table:
    """OpportunityHistory: the first stage at creation, then the stage at the snapshot."""
    d = world.deals
    moved = d["stage"].ne(OPEN_STAGES[0]).to_numpy()
    halfway = d["created_at"] + (world.as_of - d["created_at"]) / 2
    entered = d["closed_at"].fillna(halfway)[moved]
    soft = extra[extra["deleted"].eq("soft")]
    opportunity = [*deals["id"], *deals["id"][moved], *soft["id"]]
    stage = [*[OPEN_STAGES[0]] * len(d), *d["stage"][moved], *[OPEN_STAGES[0]] * len(soft)]
    amount = [*d["amount"], *d["amount"][moved], *soft["amount"]]
    n = len(opportunity)
    return pa.table(
        {
            "id": salesforce_ids("008", np.arange(n) + 700),
            "opportunity_id": texts(opportunity),
            "created_date": stamps([*d["created_at"], *entered, *soft["created_at"]]),
            "stage_name": texts(stage),
            "amount": floats(amount),
            "probability": floats([SALESFORCE_PROBABILITY[s] for s in stage]),
            "is_deleted": booleans([False] * (n - len(soft)) + [True] * len(soft)),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _activities(
    world: World,
    deals: pd.DataFrame,
    extra: pd.DataFrame,
    ids: dict[str, dict[str, str]],
    synced: pd.Timestamp,
    rng: np.random.Generator,
    log: DirtLog,
) -> dict[str, pa.Table]:
    """``task`` and ``event``: the world's activities, then those that are on no current deal."""
    acts = world.activities
    deal = pd.Index(world.deals["deal_id"]).get_indexer(acts["deal_id"])
    frame = pd.DataFrame(
        {
            "id": salesforce_activity_ids(world).to_pylist(),
            "what_id": deals["id"].to_numpy(dtype=object)[deal],
            "account_id": deals["account_id"].to_numpy(dtype=object)[deal],
            "owner_id": acts["owner"].map(ids["user"]).to_numpy(dtype=object),
            "kind": acts["type"].to_numpy(dtype=object),
            "occurred_at": acts["occurred_at"],
            "is_deleted": False,
        }
    )
    strays = _stray_activities(world, deals, extra, rng, log)
    frame = pd.concat([frame, strays], ignore_index=True)
    is_event = frame["kind"].map({k: v[0] == "Event" for k, v in ACTIVITY_LABELS.items()})
    return {
        "task": _tasks(frame[~is_event.to_numpy(bool)], synced),
        "event": _events(frame[is_event.to_numpy(bool)], synced),
    }


def _stray_activities(
    world: World,
    deals: pd.DataFrame,
    extra: pd.DataFrame,
    rng: np.random.Generator,
    log: DirtLog,
) -> pd.DataFrame:
    """Activities a reader must not count: soft-deleted ones, on deleted or missing deals, or on
    accounts. Each is dated two days after its deal's creation, where counting it would show."""
    k = dirt_counts.count(len(world.activities), 0.002)
    on = rng.integers(0, len(world.deals), 2 + 2 * k)
    created = world.deals["created_at"].to_numpy()[on]
    soft = extra[extra["deleted"].eq("soft")].iloc[0]
    missing = salesforce_ids("006", np.arange(k) + 9_500_000).to_pylist()
    # kind, what_id, the deal's creation, is_deleted, dirt kind, detail
    rows = [
        ("call", deals["id"][on[0]], created[0], True, "soft_deleted", "deleted, on a current deal"),
        ("meeting", deals["id"][on[1]], created[1], True, "soft_deleted", "deleted, on a current deal"),
        ("call", soft["id"], soft["created_at"], False, "orphan", "on a soft-deleted deal"),
        ("meeting", soft["id"], soft["created_at"], False, "orphan", "on a soft-deleted deal"),
        *(
            ("call", missing[i], created[2 + i], False, "orphan", "on a deal the sync lacks")
            for i in range(k)
        ),
        *(
            ("email", deals["account_id"][on[2 + k + i]], created[2 + k + i], False,
             "not_on_a_deal", "on an account")
            for i in range(k)
        ),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["kind", "what_id", "created", "is_deleted", "dirt", "why"])
    numbers = np.arange(len(frame)) + 8_000_000
    is_event = frame["kind"].eq("meeting").to_numpy()
    ids = pc.if_else(
        pa.array(is_event), salesforce_ids("00U", numbers), salesforce_ids("00T", numbers)
    )
    frame["id"] = ids.to_pylist()
    for table, group in frame.groupby(np.where(is_event, "event", "task")):
        for (kind, detail), rows_of in group.groupby(["dirt", "why"]):
            log.add(str(table), rows_of["id"], str(kind), str(detail))
    return pd.DataFrame(
        {
            "id": frame["id"],
            "what_id": frame["what_id"],
            "account_id": None,
            "owner_id": None,
            "kind": frame["kind"],
            "occurred_at": pd.to_datetime(frame["created"]) + pd.Timedelta(days=2),
            "is_deleted": frame["is_deleted"],
        }
    )


def _tasks(frame: pd.DataFrame, synced: pd.Timestamp) -> pa.Table:
    labels = frame["kind"].map(lambda k: ACTIVITY_LABELS[k])
    n = len(frame)
    return pa.table(
        {
            "id": texts(frame["id"]),
            "what_id": texts(frame["what_id"]),
            "account_id": texts(frame["account_id"]),
            "owner_id": texts(frame["owner_id"]),
            "subject": texts(labels.map(lambda v: v[2][0])),
            "task_subtype": texts(
                labels.map(lambda v: v[1] if v[1] in ("Call", "Email") else "Task")
            ),
            "type": texts(labels.map(lambda v: v[1])),
            "status": texts(["Completed"] * n),
            "is_closed": booleans([True] * n),
            "activity_date": pa.array(frame["occurred_at"].dt.date, pa.date32()),
            "completed_date_time": stamps(frame["occurred_at"]),
            "created_date": stamps(frame["occurred_at"]),
            "is_deleted": booleans(frame["is_deleted"]),
            "_fivetran_synced": stamps([synced] * n),
        }
    )


def _events(frame: pd.DataFrame, synced: pd.Timestamp) -> pa.Table:
    n = len(frame)
    return pa.table(
        {
            "id": texts(frame["id"]),
            "what_id": texts(frame["what_id"]),
            "account_id": texts(frame["account_id"]),
            "owner_id": texts(frame["owner_id"]),
            "subject": texts([ACTIVITY_LABELS["meeting"][2][0]] * n),
            "type": texts([ACTIVITY_LABELS["meeting"][1]] * n),
            "event_subtype": texts(["Event"] * n),
            "start_date_time": stamps(frame["occurred_at"]),
            "end_date_time": stamps(frame["occurred_at"] + pd.Timedelta(hours=1)),
            "activity_date_time": stamps(frame["occurred_at"]),
            "activity_date": pa.array(frame["occurred_at"].dt.date, pa.date32()),
            "created_date": stamps(frame["occurred_at"]),
            "is_child": booleans([False] * n),
            "is_group_event": booleans([False] * n),
            "is_deleted": booleans(frame["is_deleted"]),
            "_fivetran_synced": stamps([synced] * n),
        }
    )
