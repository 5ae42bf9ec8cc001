"""The package as an operator installs it: a wheel built from the committed tree, installed in a
fresh virtual environment, and its own command, ``talking-piece``, started from an empty
directory, as a process manager or a container would start it. Every page answers in every
shipped language from the files inside the package, nothing is written to the working
directory, and a package missing its files says which in one line.

The wheel is built from ``git archive HEAD`` (what a clean clone holds, so a file left out of
git fails here) with pip's isolated build; the fresh environment gets the wheel and its
dependencies, pinned by constraints.txt, from the package index through pip's cache. It
costs about 40 s on two busy cores with a warm cache (the install is most of it), a minute or
so on a cold one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port
from tests.test_start import ANNOUNCEMENT, started

ROOT = Path(__file__).resolve().parents[1]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
# pip without the suite's PYTHONPATH: through it, the checkout would count as installed already.
PIP_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
LANGUAGES = ["en", *sorted(p.parent.parent.name for p in (ROOT / "app" / "locale").glob("*/LC_MESSAGES/messages.po"))]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel and its dependencies, and nothing of the checkout."""
    work = tmp_path_factory.mktemp("package")
    source, wheels, env = work / "source", work / "wheels", work / "venv"
    source.mkdir()
    tree = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=tree, check=True, timeout=60)
    subprocess.run([*PIP, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)],
                   env=PIP_ENV, check=True, timeout=300)
    (wheel,) = wheels.glob("talking_piece-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=60)
    # The suite's pip installs into the new environment (--python): no pip of its own to set up.
    subprocess.run([*PIP, "--python", str(env / "bin" / "python"), "install", "--quiet", "--no-compile",
                    "--constraint", str(ROOT / "constraints.txt"), str(wheel)], env=PIP_ENV, check=True, timeout=600)
    return env


def operator_env(venv: Path, home: Path) -> dict[str, str]:
    """Nothing of the checkout or the suite: no PYTHONPATH, no DATA_DIR, a home of its own."""
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def package_folder(venv: Path, *parts: str) -> Path:
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    return site.joinpath("app", *parts)


def test_the_installed_command_serves_every_page_in_every_language_from_an_empty_directory(
        venv: Path, tmp_path: Path) -> None:
    empty, home = tmp_path / "anywhere", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with started([str(venv / "bin" / "talking-piece"), "--port", str(port)], operator_env(venv, home),
                 cwd=empty) as server:
        _, printed = server.wait_for(ANNOUNCEMENT, 60)
        # The embedded default keeps its sessions in the user's data directory, not where it was started.
        assert f"sessions kept in {home}/.local/share/talking-piece/sessions.sqlite3" in printed, printed
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            created = http.post("/api/sessions", json={"title": "Ward 7 debrief"})
            assert created.status_code == 201, created.text
            code = created.json()["code"]

            start = http.get("/")
            assert start.status_code == 200 and "Start a session" in start.text
            picker = start.text.split('id="language-choice"', 1)[1].split("</select>", 1)[0]
            assert re.findall(r'<option value="([a-z-]+)"', picker) == LANGUAGES  # every catalog shipped

            phone = http.get(f"/join/{code}", params={"lang": "cy"})
            assert phone.status_code == 200
            assert '<html lang="cy"' in phone.text
            assert "Ymuno â “Ward 7 debrief”" in phone.text
            assert re.search(r'id="join-btn"[^>]*>Ymuno</button>', phone.text)

            for lang in LANGUAGES:
                for path in ("/", "/join", f"/join/{code}", f"/console/{code}", f"/screen/{code}"):
                    page = http.get(path, params={"lang": lang})
                    assert page.status_code == 200, (path, lang, page.text[:300])
                    assert f'<html lang="{lang}"' in page.text, (path, lang)
                    if lang != "en":  # in that language, not English with a language tag
                        assert "Start a session" not in page.text and ">Join</button>" not in page.text, (path, lang)

            script = http.get("/static/js/pages/phone.js")  # the page scripts' folders ship too
            assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
            assert script.content == (ROOT / "app" / "web" / "static" / "js" / "pages" / "phone.js").read_bytes()
    assert list(empty.iterdir()) == []  # nothing written where it was started


def test_a_package_missing_its_templates_says_so_in_one_line(venv: Path, tmp_path: Path) -> None:
    templates = package_folder(venv, "web", "templates")
    aside = tmp_path / "templates"
    shutil.move(templates, aside)
    try:
        done = subprocess.run([str(venv / "bin" / "talking-piece"), "--port", str(free_port())], cwd=tmp_path,
                              env=operator_env(venv, tmp_path), capture_output=True, text=True, timeout=60)
    finally:
        shutil.move(aside, templates)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"Talking Piece: {templates} is missing (the pages' templates): the installation is incomplete; "
        "reinstall the package"]
