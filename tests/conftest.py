"""Shared fixtures: a seeded generator, figures closed after every test, R's reference numbers,
the PostgreSQL server."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

# The reference world and R's fits on it (tests/reference/make_r_results.R writes them).
REFERENCE = Path(__file__).parent / "data" / "reference"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def reference_world() -> pd.DataFrame:
    """The bundled sample's feature table as R read it (tests/reference/make_world.py)."""
    return pd.read_csv(REFERENCE / "world.csv")


@pytest.fixture(scope="session")
def r_results() -> pd.DataFrame:
    """R's estimates and errors on the reference world: one row per model and term."""
    return pd.read_csv(REFERENCE / "r_results.csv")


@pytest.fixture(scope="session")
def r_km_medians() -> pd.DataFrame:
    """R's ``survfit`` medians of days to close by repeat customer, per interval transform."""
    return pd.read_csv(REFERENCE / "r_km_medians.csv")


POSTGRES_URL_VARIABLE = "SALESINSIGHT_TEST_POSTGRES_URL"


def pytest_report_header(config) -> str:
    """Say which engines the warehouse tests run on (the server's address, never its user)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        return (
            f"warehouse engines: duckdb only ({POSTGRES_URL_VARIABLE} is not set; "
            ".ci/run starts a PostgreSQL server)"
        )
    parts = urlsplit(url)
    return f"warehouse engines: duckdb, postgresql at {parts.hostname}:{parts.port or 5432}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a PostgreSQL database the tests may fill; skips the test without one."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"no PostgreSQL server: {POSTGRES_URL_VARIABLE} is not set (.ci/run sets it)")
    return url
