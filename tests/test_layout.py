"""The parts depend one way: the core never imports the web app or pytest (DESIGN.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import mailtrap_lite

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted((ROOT / "mailtrap_lite").glob("*.py"))
FORBIDDEN_IN_CORE = (
    "flask",
    "pytest",
    "_pytest",
    "mailtrap_lite.web",
    "mailtrap_lite.pytest_plugin",
)


def _top_level_imports(path: Path) -> list[str]:
    """Return modules imported at module level (imports inside functions are lazy on purpose)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_module_imports_neither_web_nor_pytest(path: Path) -> None:
    bad = [
        name
        for name in _top_level_imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)
    ]
    assert bad == []


@pytest.mark.parametrize("package", ["web", "pytest_plugin"])
def test_web_and_plugin_do_not_import_each_other(package: str) -> None:
    other = "pytest_plugin" if package == "web" else "web"
    for path in (ROOT / package).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(rf"\bmailtrap_lite\.{other}\b", text), path


def test_public_names_are_exported_and_sorted() -> None:
    assert mailtrap_lite.__all__ == sorted(mailtrap_lite.__all__)
    for name in mailtrap_lite.__all__:
        assert hasattr(mailtrap_lite, name)
