"""The layers import one way: core <- shell <- HTTP plumbing <- routes, sockets, pages <- wiring.

Read from the source, so a new import that crosses a layer the wrong way, or closes a
cycle, fails here before anyone has to notice it in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# What each layer may import from the app (besides itself). Anything else is a wrong-way import.
MAY_IMPORT: dict[str, set[str]] = {
    "app.facilitation": set(),
    "app.realtime": {"app.facilitation", "app.config"},
    "app.http": {"app.facilitation", "app.realtime", "app.config"},
    "app.api": {"app.facilitation", "app.realtime", "app.http", "app.config"},
    "app.pages": {"app.facilitation", "app.realtime", "app.http", "app.config", "app.resources"},
    "app.live": {"app.facilitation", "app.realtime", "app.http", "app.pages", "app.config"},
    "app.config": set(),
    "app.resources": set(),
    "app.main": {"app.facilitation", "app.realtime", "app.http", "app.api", "app.pages", "app.live", "app.config",
                 "app.resources"},
    "app.__main__": {"app.main", "app.config", "app.resources"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every app module this file imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # "from pkg import module"
    modules = {module_name(p) for p in APP.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


GRAPH = {module_name(p): imports_of(p) for p in APP.rglob("*.py")}


def layer(module: str) -> str:
    for candidate in sorted(MAY_IMPORT, key=len, reverse=True):
        if module == candidate or module.startswith(candidate + "."):
            return candidate
    return module


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m != "app"))
def test_each_module_imports_only_the_layers_below_its_own(module: str) -> None:
    own = layer(module)
    assert own in MAY_IMPORT, f"{module} is in no layer: add its package to MAY_IMPORT and the docs"
    wrong = {m for m in GRAPH[module] if layer(m) != own and layer(m) not in MAY_IMPORT[own]}
    assert not wrong, f"{module} ({own}) imports {sorted(wrong)}"


def test_no_module_imports_one_that_imports_it_back() -> None:
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                todo.extend(GRAPH.get(here, ()))
        return False

    cycles = sorted((a, b) for a in GRAPH for b in GRAPH[a] if a < b and reaches(b, a))
    assert not cycles, f"import cycles through: {cycles}"


def test_the_core_and_the_shell_name_no_web_framework() -> None:
    """Requests, responses and templates stay above the shell: it speaks in states and callbacks."""
    for path in [*(APP / "facilitation").rglob("*.py"), *(APP / "realtime").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
        assert not {n for n in names if n.split(".")[0] in {"fastapi", "jinja2"}}, path
