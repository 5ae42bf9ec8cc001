"""The pages' script modules (app/web/static/js/, docs/architecture.md): every module a page's
entry imports, all the way down.

A browser finds a module's imports only once it has that module, so a page whose entry
imports a module that imports another waits one round trip per level. The page lists them
all up front instead (``<link rel="modulepreload">`` in base.html and _print_page.html) and
the browser asks for every one at once, as it did for the classic scripts these replaced.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from app.resources import STATIC

IMPORT = re.compile(r"""^import\b[^'"\n]*['"](\.{1,2}/[^'"]+)['"];?\s*$""", re.M)


def _imports(module: Path) -> list[Path]:
    return [(module.parent / found).resolve() for found in IMPORT.findall(module.read_text(encoding="utf-8"))]


@cache
def preloads(entry: str) -> tuple[str, ...]:
    """The URLs of every module ``js/pages/<entry>`` needs, its own excepted, in a fixed order."""
    static = STATIC.resolve()
    start = (static / "js" / "pages" / entry).with_suffix(".js")
    seen: list[Path] = []
    todo = _imports(start)
    while todo:
        module = todo.pop(0)
        if module not in seen:
            seen.append(module)
            todo.extend(_imports(module))
    return tuple("/static/" + module.relative_to(static).as_posix() for module in seen)
