"""The code's shape, checked from its source: no import cycles between the project's
modules, no imports hidden inside functions unless a comment says why, and the layers
import only downwards (services never import a blueprint or ``jobs``; adapters never
import Flask or the dashboard).

The graph is built with ``ast`` from module-level imports, the way Python runs them:
importing ``dashboard.services.dispatch`` first runs ``dashboard/__init__.py`` and
``dashboard/services/__init__.py``, so a module depends on its parent packages too. The
one exception is a leaf package (``adapters``: it imports nothing else of the project),
whose ``__init__`` files are registries of their own modules: a cycle through them cannot
reach a module that is half loaded, unless it is also a cycle of explicit imports, which
is still found."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("adapters", "dashboard", "jobs")
#: packages that import nothing else of the project (see the module docstring)
LEAVES = ("adapters",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project's packages: dotted name -> file."""
    return {_module_name(p): p for package in PACKAGES for p in (root / package).rglob("*.py")}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` means (a module, or the package holding a name)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _implied(name: str) -> list[str]:
    """``name`` and the packages Python runs before it (none for a leaf's modules)."""
    parts = name.split(".")
    if parts[0] in LEAVES:
        return [name]
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool
                    ) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    return [f"{base}.{alias.name}" for alias in node.names]


def _top_level_imports(tree: ast.Module):
    """Imports that run when the module is loaded (not those inside functions, and not
    those only for type checkers)."""
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(sub, (ast.Import, ast.ImportFrom)) and not _inside_function(node, sub):
                yield sub


def _inside_function(top: ast.AST, target: ast.AST) -> bool:
    for fn in ast.walk(top):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                n is target for n in ast.walk(fn)):
            return True
    return False


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules its loading imports (parent packages included)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text(), str(path))):
            for imported in _imported_names(node, name, path.name == "__init__.py"):
                target = _resolve(imported, modules)
                if target:
                    edges.update(m for m in _implied(target) if m in modules)
        edges.update(m for m in _implied(name) if m in modules)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def function_level_imports(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    """Imports inside functions with no comment on their line or the line above saying why
    (``# import here: <reason>``)."""
    found = []
    for path in modules.values():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    here = lines[node.lineno - 1]
                    above = lines[node.lineno - 2] if node.lineno > 1 else ""
                    if "import here:" not in here and "import here:" not in above:
                        found.append(f"{path.relative_to(root)}:{node.lineno}: {here.strip()}")
    return sorted(set(found))


def test_the_project_has_no_import_cycles():
    cycles = find_cycles(import_graph(project_modules()))
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_import_hides_in_a_function_without_saying_why():
    assert function_level_imports(project_modules()) == []


@pytest.mark.parametrize("layer, forbidden", [
    ("dashboard.services", ("jobs", "dashboard.app", "dashboard.auth", "dashboard.houses",
                            "dashboard.products", "dashboard.orders.routes",
                            "dashboard.support", "dashboard.api", "dashboard.webhooks",
                            "dashboard.admin")),
    ("adapters", ("dashboard", "jobs", "flask", "flask_sqlalchemy", "sqlalchemy")),
    ("dashboard.models", ("dashboard.services", "jobs", "dashboard.status")),
])
def test_layers_import_only_downwards(layer, forbidden):
    modules = project_modules()
    wrong = []
    for name, path in modules.items():
        if name != layer and not name.startswith(layer + "."):
            continue
        for node in _top_level_imports(ast.parse(path.read_text())):
            for imported in _imported_names(node, name, path.name == "__init__.py"):
                if any(imported == f or imported.startswith(f + ".") for f in forbidden):
                    wrong.append(f"{name} imports {imported}")
    assert wrong == []


# the checks themselves must be able to fail: each is shown a small tree that breaks it

def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {_module_name_in(tmp_path, p): p for p in tmp_path.rglob("*.py")}


def _module_name_in(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_a_cycle_through_a_package_init_is_found(tmp_path):
    modules = _tree(tmp_path, {
        "dashboard/__init__.py": "from dashboard.views import bp\n",
        "dashboard/views.py": "from dashboard.models import X\nbp = 1\n",
        "dashboard/models.py": "X = 1\n",
        "jobs/__init__.py": "",
    })
    # models runs the package's __init__ first, which imports views, which imports models
    assert find_cycles(import_graph(modules)) == [
        ["dashboard", "dashboard.models", "dashboard.views"]]


def test_a_two_module_cycle_is_found_and_a_clean_tree_is_not(tmp_path):
    modules = _tree(tmp_path, {
        "dashboard/__init__.py": "",
        "dashboard/a.py": "from . import b\n",
        "dashboard/b.py": "import dashboard.a\n",
        "dashboard/c.py": "from dashboard.b import thing\n",
    })
    assert find_cycles(import_graph(modules)) == [["dashboard.a", "dashboard.b"]]
    (tmp_path / "dashboard/b.py").write_text("thing = 1\n")
    assert find_cycles(import_graph(modules)) == []


def test_an_import_in_a_function_is_found_unless_a_comment_says_why(tmp_path):
    modules = _tree(tmp_path, {
        "dashboard/__init__.py": "",
        "dashboard/a.py": "def f():\n    import json\n    return json\n\n"
                          "def g():\n    # import here: optional dependency\n"
                          "    import lzma\n    return lzma\n",
    })
    assert function_level_imports(modules, tmp_path) == ["dashboard/a.py:2: import json"]
