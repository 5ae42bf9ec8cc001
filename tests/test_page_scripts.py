"""The pages' scripts (app/web/static/js/): each page loads one module, and the modules keep
to one helper each for what several of them need.

A module that imports a name its neighbour does not export fails only in a browser, and a
script that compares a close code with a number of its own stops working silently when the
server's number changes: these read the modules' text and the pages the server renders.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import AppSettings
from app.main import create_app
from app.realtime import close_codes
from app.resources import STATIC

JS = STATIC / "js"
MODULES = sorted(JS.rglob("*.js"))
IMPORT = re.compile(r"^import \{([^}]*)\} from '([^']+)';$", re.M)
EXPORT = re.compile(r"^export (?:function|var|const|let) (\w+)", re.M)
SCRIPT = re.compile(r"<script\b([^>]*)>")
PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)">')


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def code_of(path: Path) -> str:
    """The module without its comments, so that a comment may name what the code may not."""
    return re.sub(r"/\*.*?\*/|(?<![:'\"])//[^\n]*", "", text(path), flags=re.S)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(AppSettings(data_dir=tempfile.mkdtemp(), sessions_db="off"))) as c:
        yield c


def test_every_import_names_something_its_module_exports() -> None:
    exported = {path.resolve(): set(EXPORT.findall(text(path))) for path in MODULES}
    assert len(MODULES) > 20
    for path in MODULES:
        for names, source in IMPORT.findall(text(path)):
            target = (path.parent / source).resolve()
            assert target in exported, f"{path.name} imports {source}, which is not there"
            for name in (n.strip() for n in names.split(",")):
                assert name in exported[target], f"{path.name} imports {name} from {source}, which does not export it"


def needed(entry: Path) -> set[str]:
    """Every module ``entry`` imports, and theirs, as the URLs the page serves them at."""
    found: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        module = todo.pop()
        for _, source in IMPORT.findall(text(module)):
            imported = (module.parent / source).resolve()
            if imported not in found:
                found.add(imported)
                todo.append(imported)
    return {"/static/" + m.relative_to(STATIC.resolve()).as_posix() for m in found}


def test_every_page_loads_its_own_module_and_no_other_script_of_ours(client: TestClient) -> None:
    made = client.post("/api/sessions", json={"title": "Team", "format": "balint"}).json()
    code = made["code"]
    pages = {"/": "start", "/join": "start", f"/join/{code}": "phone", f"/console/{code}": "console",
             f"/screen/{code}": "screen", f"/summary/{code}": "summary", f"/reflection/{code}": "reflection"}
    for url, entry in pages.items():
        page = client.get(url)
        assert page.status_code == 200, url
        scripts = [attrs for attrs in SCRIPT.findall(page.text) if "src=" in attrs]
        ours = [attrs for attrs in scripts if "htmx" not in attrs]
        assert ours == [f' type="module" src="/static/js/pages/{entry}.js"'], (url, scripts)
        # Every module it imports, at any depth, is asked for at once: none waits for the one importing it.
        preloaded = PRELOAD.findall(page.text)
        assert len(preloaded) == len(set(preloaded)) and set(preloaded) == needed(JS / "pages" / f"{entry}.js"), url
        served = client.get(f"/static/js/pages/{entry}.js")
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/javascript")


def test_the_scripts_take_close_codes_and_reasons_from_the_page_only() -> None:
    """The page renders close_codes.FOR_SCRIPTS (base.html); a script names an entry of it, never a number or a word."""
    numbers = {str(c) for c in vars(close_codes).values() if isinstance(c, int)}
    for path in MODULES:
        code = code_of(path)
        assert not numbers & set(re.findall(r"\b\d{4}\b", code)), f"{path.name} writes a close code as a number"
        for line in code.splitlines():
            if re.search(r"\breason\b", line):
                assert not re.search(r"['\"][a-z]+_[a-z_]+['\"]", line), f"{path.name} writes a refusal's reason itself: {line}"
        for kind, name in re.findall(r"\b(close|reasons)\.(\w+)", code):
            assert name in close_codes.FOR_SCRIPTS[kind], f"{path.name} reads {kind}.{name}, which the page does not give"


def test_one_module_keeps_the_device_storage_and_one_calls_the_server() -> None:
    kept = set(re.findall(r"'(tp:\w+)", text(JS / "storage.js")))  # the keys' names: tp:token, tp:member…
    assert {"tp:token", "tp:member", "tp:removed", "tp:consoles"} <= kept
    for path in MODULES:
        code = code_of(path)
        if path.name != "storage.js":
            assert "localStorage" not in code, f"{path.name} reads storage itself"
            assert not kept & set(re.findall(r"'(tp:\w+)", code)), f"{path.name} names a stored key itself"
        if path.name != "api.js":
            assert not re.search(r"\bfetch\(", code), f"{path.name} calls fetch itself"


def test_the_scripts_leave_nothing_on_window_for_others() -> None:
    """No globals: no namespace, and no hook that only a test would read."""
    for path in MODULES:
        code = code_of(path)
        assert not re.search(r"\bwindow\.\w+\s*=[^=]", code), path.name
        # What a module needs of another it imports: the page scripts' old globals are gone.
        assert not re.search(r"\bTalkingPiece\w*|\bwindow\.tp\w*", code), path.name
