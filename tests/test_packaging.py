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


def test_environment_yml_lists_the_runtime_packages_and_jupyterlab():
    project = _pyproject()["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["lab"])
    conda = _names(_conda_runtime())
    assert conda == wanted


def test_jupyterlab_is_an_extra_not_a_runtime_dependency():
    project = _pyproject()["project"]
    assert "jupyterlab" not in _names(project["dependencies"])
    assert "jupyterlab" in _names(project["optional-dependencies"]["lab"])
    # `make lab` installs the extra before it opens JupyterLab.
    makefile = (ROOT / "Makefile").read_text()
    lab = re.search(r"(?m)^lab: (\S+)", makefile).group(1)
    assert re.search(rf"(?m)^{re.escape(lab)}:.*\n\t.*-e \".\[dev,lab\]\"", makefile)


def test_every_package_is_listed_for_the_wheel():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.relative_to(ROOT).parent.parts)
        for p in (ROOT / "salesinsight").rglob("__init__.py")
    }
    assert listed == found | {"salesinsight.notebooks"}
    assert _pyproject()["tool"]["setuptools"]["package-dir"] == {
        "salesinsight.notebooks": "notebooks"
    }


def test_every_dependency_is_pinned_for_tests():
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    wanted = _names(project["dependencies"]) | _names(extras["dev"]) | _names(extras["lab"])
    missing = sorted(set(wanted) - pins)
    assert not missing, f"not pinned in requirements/constraints.txt: {missing}; run `make lock`"


def test_version_matches_package():
    import salesinsight

    assert salesinsight.__version__ == _pyproject()["project"]["version"]
