"""Where the app's own files are: the pages' templates and static files (``app/web/``) and the
catalogs (``app/locale/``) ship inside the package and are found beside this code, never from
the working directory, so a checkout, an installed wheel and a process manager starting the
app in ``/`` all find the same files.

This is the one place they are looked up. A folder that is not there (an install that lost
its data files, a checkout with a folder deleted) stops the start with one line naming it,
instead of a traceback from deep inside jinja or Starlette.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
WEB = PACKAGE / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
LOCALE = PACKAGE / "locale"

# Every folder the app reads, and what it is called in the error when it is missing.
FOLDERS = {TEMPLATES: "the pages' templates", STATIC: "the static files", LOCALE: "the catalogs"}


class MissingResource(RuntimeError):
    """One of the package's own folders is missing: the installation is incomplete."""


def require(path: Path) -> Path:
    """``path`` if it is there, else a ``MissingResource`` whose message is one line naming it."""
    if not path.is_dir():
        raise MissingResource(f"{path} is missing ({FOLDERS[path]}): the installation is incomplete; "
                              "reinstall the package")
    return path


def check() -> None:
    """Every folder at once, so that a broken install says which before anything loads."""
    for path in FOLDERS:
        require(path)
