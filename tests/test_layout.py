"""The parts depend one way (DESIGN.md), checked over every import statement of the code.

An AST pass over the three source roots, because the installed names differ from the
folders: `web/` is `mailtrap_lite.web` and `pytest_plugin/` is `mailtrap_lite.pytest_plugin`
(setuptools' package-dir), which import-linter cannot see (it walks only the folder of the
top-level package). Every import counts: at module level, inside functions (lazy) and under
`if TYPE_CHECKING`, because each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import mailtrap_lite

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = {
    "mailtrap_lite": ROOT / "mailtrap_lite",
    "mailtrap_lite.web": ROOT / "web",
    "mailtrap_lite.pytest_plugin": ROOT / "pytest_plugin",
}
WEB, PLUGIN = "mailtrap_lite.web", "mailtrap_lite.pytest_plugin"
# Lower layers never import higher ones; modules of one layer may import each other.
CORE_LAYERS = [
    ("mailtrap_lite.version", "mailtrap_lite.config"),
    ("mailtrap_lite.mime",),
    ("mailtrap_lite.message",),
    ("mailtrap_lite.store",),
    ("mailtrap_lite.smtp",),
    # import and export through the Store (with SMTP's conformance checks), and the services
    # that follow the change feed (tag rules, releases, webhooks, pruning by age)
    ("mailtrap_lite.transfer", "mailtrap_lite.services"),
    ("mailtrap_lite.checks",),
    ("mailtrap_lite.app",),
    ("mailtrap_lite.testing",),
    ("mailtrap_lite.cli", "mailtrap_lite.__main__", "mailtrap_lite"),
]
# What the two outer parts may use of the core (DESIGN.md: web -> core, plugin -> testing).
WEB_MAY_USE = ("mailtrap_lite.version", "mailtrap_lite.config", "mailtrap_lite.mime",
               "mailtrap_lite.message", "mailtrap_lite.store", "mailtrap_lite.smtp",
               "mailtrap_lite.transfer", "mailtrap_lite.services",
               "mailtrap_lite.checks")  # fmt: skip
PLUGIN_MAY_USE = ("mailtrap_lite.version", "mailtrap_lite.config", "mailtrap_lite.testing")
WEB_LIBRARIES = ("flask", "werkzeug", "jinja2", "waitress")
TEST_LIBRARIES = ("pytest", "_pytest")


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it stands, and whether it runs at import time."""

    source: str
    target: str
    line: int
    lazy: bool  # inside a function: runs only when called


def module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def source_files() -> dict[str, Path]:
    found = {}
    for package, root in SOURCE_ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            found[module_name(package, root, path)] = path
    return found


MODULES = source_files()


def _resolve(source: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _targets(source: str, node: ast.stmt, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    module = _resolve(source, node, is_package)
    # `from package import module` imports the module; `from module import name`, the module
    return [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]


def imports_of(source: str) -> Iterator[Import]:
    path = MODULES[source]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST, lazy: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(source, child, is_package):
                    yield Import(source, target, child.lineno, lazy)
            yield from walk(child, inner)

    yield from walk(tree, False)


ALL_IMPORTS = [imp for source in MODULES for imp in imports_of(source)]


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def internal(name: str) -> str | None:
    """Return the module of ours an import reaches (`a.b.name` -> `a.b`), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def layer_of(module: str) -> int | None:
    for index, layer in enumerate(CORE_LAYERS):
        # the root package itself is only "mailtrap_lite", never a prefix of every module
        if any(module == p or (p != "mailtrap_lite" and within(module, p)) for p in layer):
            return index
    return None


def shown(found: list[Import]) -> list[str]:
    return [f"{i.source}:{i.line} imports {i.target}" for i in found]


# -- the contracts ---------------------------------------------------------------------------


def is_core(module: str) -> bool:
    return not (within(module, WEB) or within(module, PLUGIN))


def test_core_never_imports_web_plugin_flask_or_pytest() -> None:
    forbidden = (WEB, PLUGIN, *WEB_LIBRARIES, *TEST_LIBRARIES)
    bad = [
        i
        for i in ALL_IMPORTS
        if is_core(i.source) and any(within(i.target, f) for f in forbidden)
        and not (i.source == "mailtrap_lite.app" and within(i.target, WEB) and i.lazy)
    ]  # fmt: skip
    assert shown(bad) == []


def test_only_the_composition_root_imports_the_web_package_and_only_lazily() -> None:
    reaching = [i for i in ALL_IMPORTS if is_core(i.source) and within(i.target, WEB)]
    assert {i.source for i in reaching} == {"mailtrap_lite.app"}
    assert all(i.lazy for i in reaching)


def test_core_layers_point_down() -> None:
    bad = []
    for i in ALL_IMPORTS:
        target = internal(i.target)
        source_layer, target_layer = layer_of(i.source), layer_of(target or "")
        if source_layer is not None and target_layer is not None and target_layer > source_layer:
            bad.append(i)
    assert shown(bad) == []


STORE_NEVER_USES = ["smtp", "checks", "testing", "web", "app", "cli"]


@pytest.mark.parametrize("part", [f"mailtrap_lite.{name}" for name in STORE_NEVER_USES])
def test_store_never_imports(part: str) -> None:
    bad = [
        i for i in ALL_IMPORTS if within(i.source, "mailtrap_lite.store") and within(i.target, part)
    ]
    assert shown(bad) == []


# What changes stored data (the Store's writers): DESIGN.md says checks/ writes nothing.
STORE_WRITERS = {"add_message", "add_messages", "set_read", "delete_messages", "delete_matching",
                 "clear", "save_index", "purge_search", "open_session", "end_session",
                 "end_orphaned_sessions"}  # fmt: skip


def _store_calls(package: str) -> list[tuple[str, int, str]]:
    """Return (module, line, method) of every call on something named *store* in a package."""
    return [
        (source, node.lineno, node.func.attr)
        for source, path in MODULES.items()
        if within(source, package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and "store" in ast.unparse(node.func.value).lower()
    ]  # fmt: skip


def test_checks_never_call_a_store_writer() -> None:
    calls = _store_calls("mailtrap_lite.checks")
    assert {"raw", "read_message", "get_session"} <= {method for _, _, method in calls}
    assert [f"{s}:{line} calls {m}" for s, line, m in calls if m in STORE_WRITERS] == []


def test_web_uses_only_the_core_below_testing() -> None:
    bad = [
        i
        for i in ALL_IMPORTS
        if within(i.source, WEB) and within(i.target, "mailtrap_lite") and not within(i.target, WEB)
        and not any(within(i.target, allowed) for allowed in WEB_MAY_USE)
    ]  # fmt: skip
    assert shown(bad) == []


def test_plugin_uses_only_testing_and_config() -> None:
    bad = [
        i
        for i in ALL_IMPORTS
        if within(i.source, PLUGIN) and within(i.target, "mailtrap_lite")
        and not within(i.target, PLUGIN)
        and not any(within(i.target, allowed) for allowed in PLUGIN_MAY_USE)
    ]  # fmt: skip
    assert shown(bad) == []


def test_web_and_plugin_never_import_each_other() -> None:
    bad = [
        i
        for i in ALL_IMPORTS
        if (within(i.source, WEB) and within(i.target, PLUGIN))
        or (within(i.source, PLUGIN) and within(i.target, WEB))
    ]
    assert shown(bad) == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def module_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in ALL_IMPORTS:
        target = internal(i.target)
        if target is not None and target != i.source:
            edges[i.source].add(target)
    return edges


def part_of(module: str) -> str:
    """Return the package a module belongs to for the package-level graph."""
    for prefix in (WEB, PLUGIN, "mailtrap_lite.store.sqlite", "mailtrap_lite.store.postgres",
                   "mailtrap_lite.store", "mailtrap_lite.smtp", "mailtrap_lite.mime",
                   "mailtrap_lite.testing", "mailtrap_lite.transfer",
                   "mailtrap_lite.services", "mailtrap_lite.checks"):  # fmt: skip
        if within(module, prefix):
            return prefix
    return module


def test_no_module_imports_itself_in_a_cycle() -> None:
    assert _cycles(module_edges()) == []


def test_no_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for source, targets in module_edges().items():
        packages.setdefault(part_of(source), set())
        packages[part_of(source)].update(
            part_of(t) for t in targets if part_of(t) != part_of(source)
        )
    assert _cycles(packages) == []


def test_the_checker_sees_lazy_and_relative_imports() -> None:
    lazy = [i for i in ALL_IMPORTS if i.source == "mailtrap_lite.app" and within(i.target, WEB)]
    relative = [i for i in ALL_IMPORTS if i.source == "mailtrap_lite.web.app"]
    assert lazy and all(i.lazy for i in lazy)
    assert {"mailtrap_lite.web.api", "mailtrap_lite.web.ui"} <= {
        internal(i.target) for i in relative
    }


def test_public_names_are_exported_and_sorted() -> None:
    assert mailtrap_lite.__all__ == sorted(mailtrap_lite.__all__)
    for name in mailtrap_lite.__all__:
        assert hasattr(mailtrap_lite, name)


def test_sqlite_users_never_load_psycopg() -> None:
    script = (
        "import sys\n"
        "from mailtrap_lite.app import App, open_store\n"
        "from mailtrap_lite.config import Config\n"
        "open_store(Config()).close()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'psycopg', 'psycopg_pool'}))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60).stdout  # fmt: skip
    assert loaded.strip() == "[]"


def test_importing_the_plugin_loads_no_smtp_tls_database_or_web_library() -> None:
    heavy = ("aiosmtpd", "cryptography", "flask", "sqlite3", "_sqlite3", "waitress", "uvloop",
             "psycopg", "psycopg_pool")  # fmt: skip
    script = (
        "import sys, mailtrap_lite.pytest_plugin\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(heavy)!r}))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60).stdout  # fmt: skip
    assert loaded.strip() == "[]"


def test_every_package_is_listed_for_the_wheel() -> None:
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages - listed == set()


def test_the_openapi_document_is_kept_in_one_form() -> None:
    import json

    path = ROOT / "web" / "api" / "openapi.json"
    text = path.read_text(encoding="utf-8")
    # one layout (indent 1, UTF-8 as is) keeps edits by several people mergeable line by line
    assert text == json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"
