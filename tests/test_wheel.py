"""The wheel, installed into a fresh environment outside the checkout, writes the full report.

One slow test (a build, an install from the pinned versions, a report with every notebook), in a
file of its own so that it runs beside the rest of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from; the build runs on a copy, so the checkout gains no build folders.
SOURCES = ("pyproject.toml", "README.md", "salesinsight", "notebooks")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SALESINSIGHT_")}
    environment.pop("PYTHONPATH", None)
    environment.update(env or {})
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=900,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with the wheel and its pinned dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", source,
         cwd=work)  # fmt: skip
    [wheel] = (work / "dist").glob("salesinsight-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=work)
    constraints = ROOT / "requirements" / "constraints.txt"
    _run(venv / "bin" / "python", "-m", "pip", "install", "-q", "-c", constraints, wheel, cwd=work)
    return venv


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    """The first 400 deals of the bundled Salesforce report, in a folder of their own."""
    from salesinsight.datasets import sample_paths

    lines = sample_paths()["salesforce_deals"].read_bytes().splitlines(keepends=True)
    path = tmp_path_factory.mktemp("exports") / "report1700000000000.csv"
    path.write_bytes(b"".join(lines[:401]))
    return path


def test_the_installed_wheel_writes_the_full_report(installed, small_export, tmp_path):
    result = _run(installed / "bin" / "salesinsight", "report", small_export, "--out", "out",
                  "-q", cwd=tmp_path)  # fmt: skip
    assert "Report: out/index.html" in result.stdout
    pages = sorted(p.name for p in (tmp_path / "out").glob("0*.html"))
    assert len(pages) == 7 and pages[0] == "01-clean-export.html"
    assert "<h1>Does trust sell?</h1>" in (tmp_path / "out" / "index.html").read_text()


def test_the_installed_notebooks_are_those_of_the_checkout(installed, tmp_path):
    _run(installed / "bin" / "salesinsight", "notebooks", "--out", "mine", cwd=tmp_path)
    copied = sorted((tmp_path / "mine").glob("*.ipynb"))
    ours = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert [p.name for p in copied] == [p.name for p in ours]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(copied, ours, strict=True))


def test_a_runtime_install_has_no_jupyterlab(installed, tmp_path):
    probe = "import importlib.util as u; print(u.find_spec('jupyterlab') is None)"
    result = _run(installed / "bin" / "python", "-c", probe, cwd=tmp_path)
    assert result.stdout.strip() == "True"
