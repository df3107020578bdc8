"""Write the world the R reference numbers are fitted on: the bundled sample's feature table.

Run from the repository root, then run ``make_r_results.R``:

    python tests/reference/make_world.py
    Rscript tests/reference/make_r_results.R

It writes tests/data/reference/world.csv: one row per deal of the bundled sample with the
columns the reference models use, rows missing any of them left out, flags as 0/1.
"""

from __future__ import annotations

from pathlib import Path

from salesinsight.report import load_analysis

COLUMNS = [
    "deal_id",
    "account_id",
    "status",
    "won",
    "closed",
    "duration_days",
    "amount",
    "is_repeat_customer",
    "prior_won_deals",
    "relationship_days",
    "log_employees",
    "product",
    "created_year",
]
REQUIRED = ["is_repeat_customer", "log_employees", "created_year", "product", "duration_days"]
FLAGS = ["won", "closed", "is_repeat_customer"]
OUT = Path("tests/data/reference/world.csv")


def main() -> None:
    world = load_analysis().data[COLUMNS].dropna(subset=REQUIRED).reset_index(drop=True)
    for column in FLAGS:
        # `won` is missing for open deals and stays so; the others are known for every row.
        world[column] = world[column].astype("boolean").astype("Int64")
    world["created_year"] = world["created_year"].astype("Int64")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    world.to_csv(OUT, index=False)
    print(f"{len(world)} deals written to {OUT}")


if __name__ == "__main__":
    main()
