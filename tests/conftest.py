"""Shared fixtures: a seeded generator and figures closed after every test."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
