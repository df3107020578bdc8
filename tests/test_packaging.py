"""The project's own files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge packages named otherwise than on PyPI (a pip extra is a package of its own there).
CONDA_AS_PIP = {"python-duckdb": "duckdb", "ibis-duckdb": "ibis-framework[duckdb]"}


def _names(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        name = re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].strip().lower()
        out[name] = req[len(name) :].strip()
    return out


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_runtime() -> list[str]:
    text = (ROOT / "environment.yml").read_text()
    deps = []
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.\-]+.*)$", line)
        if m and not m.group(1).startswith(("python>", "pip")):
            dep = m.group(1).strip()
            name = re.split(r"[<>=!~ ]", dep, maxsplit=1)[0]
            deps.append(CONDA_AS_PIP.get(name, name) + dep[len(name) :])
    return deps


def test_environment_yml_lists_the_same_runtime_packages_as_pyproject():
    runtime = _names(_pyproject()["project"]["dependencies"])
    conda = _names(_conda_runtime())
    assert conda == runtime


def test_every_dependency_is_pinned_for_tests():
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    project = _pyproject()["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])
    missing = sorted(set(wanted) - pins)
    assert not missing, f"not pinned in requirements/constraints.txt: {missing}; run `make lock`"


def test_version_matches_package():
    import salesinsight

    assert salesinsight.__version__ == _pyproject()["project"]["version"]
