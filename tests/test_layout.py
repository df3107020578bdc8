"""The package's layout rules that import-linter does not check (it runs in ``make test`` too).

No function runs over 60 lines of code (its docstring aside), no module imports a private name
(``_name``) from another module, and no module imports one of the package's own modules inside a
function, where a cycle could hide; the exception is the command line, whose deferred imports keep
``salesinsight --help`` quick (optional heavy third-party packages may be imported late anywhere:
they are not the package's own).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "salesinsight"
MODULES = sorted(PACKAGE.rglob("*.py"))
# Deferred so that `salesinsight --help` and usage errors answer before pandas is imported.
DEFERRED_OWN_IMPORTS = {"cli.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _own(module: str | None) -> bool:
    return module is not None and (module == "salesinsight" or module.startswith("salesinsight."))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_is_imported_from_another_module(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [
        f"line {node.lineno}: from {node.module} import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and _own(node.module)
        for alias in node.names
        if _private(alias.name)
    ]
    assert not found, f"{_module_name(path)} imports private names: {found}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_own_modules_are_imported_at_the_top(path: Path) -> None:
    if str(path.relative_to(PACKAGE)) in DEFERRED_OWN_IMPORTS:
        pytest.skip("the command line defers its imports on purpose")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and _own(node.module):
                found.append(f"line {node.lineno}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                found += [
                    f"line {node.lineno}: import {a.name}" for a in node.names if _own(a.name)
                ]
    assert not found, f"{_module_name(path)} imports its own package inside functions: {found}"


MAX_FUNCTION_LINES = 60


def _code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body, its docstring left out."""
    body = function.body
    first = body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(
        getattr(first, "value", None), ast.Constant
    )
    if docstring and isinstance(first.value.value, str):
        start = body[1].lineno if len(body) > 1 else first.end_lineno or first.lineno
    else:
        start = first.lineno
    return (function.end_lineno or start) - start + 1


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} (line {node.lineno}): {_code_lines(node)} lines"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _code_lines(node) > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_module_name(path)} has functions over {MAX_FUNCTION_LINES} lines: {long}"
