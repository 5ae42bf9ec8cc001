"""Browser tests: Debian's Chromium driven by Playwright, against a real server process.

Playwright's pip package downloads no browser here; we launch /usr/bin/chromium (scripts/test
installs it on a fresh machine). Every test writes screenshots to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from tests.browser.helpers import watch_console  # needs playwright, imported above
from tests.conftest import STORE_MODES, leaving_browser_tests, store_id

# An expectation waits as long as an action (ctx.set_default_timeout below): on two cores, the
# suite's three workers with a Chromium each keep the machine's load near 16, where a reply
# that takes a tenth of a second alone can take several.
playwright_api.expect.set_options(timeout=8000)
from tests.support.network_turns import network_turn

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-dev-shm-usage"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 900}}


class SharedChromium:
    """One Chromium per worker process, launched for its first browser test and kept from one
    browser test file to the next (a launch costs a second or two of both cores). Playwright's
    sync API keeps an event loop running in this thread while it is open, which would break
    asyncio.run() in the suite's other tests: tests/conftest.py closes it before any test outside
    tests/browser/ (and at the end)."""

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None

    def get(self):
        if self.browser is None:
            if not Path(CHROMIUM).exists():
                pytest.fail("Debian's chromium is not installed (scripts/test installs it)")
            self.playwright = playwright_api.sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        return self.browser

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        if self.playwright is not None:
            self.playwright.stop()
            self.playwright = None


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each browser file runs against the one store its ``pytestmark = pytest.mark.store(...)``
    names, not both: the pages are the same whichever store serves them, and every protocol test
    runs in both modes (tests/conftest.py). The journeys are shared between the stores by what
    they check: the live room's fan-out, reconnects, breakouts and a second console on Redis,
    which is where a change crosses processes; the pages' layout, languages, print pages and
    the formats' own journeys on the embedded store."""
    defs = metafunc._arg2fixturedefs.get("server")
    if not defs or not defs[-1].params:  # no server, or a file's own (test_accessibility.py)
        return
    marker = metafunc.definition.get_closest_marker("store")
    if marker is None or marker.args[0] not in STORE_MODES:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: a browser test names its store, "
                                f"pytestmark = pytest.mark.store(one of {STORE_MODES})")
    # As a mark, which pytest reads before the fixture's own two modes (a call here would add a second).
    metafunc.definition.add_marker(pytest.mark.parametrize("server", [marker.args[0]], indirect=True,
                                                           ids=store_id, scope="session"))


SHARED = SharedChromium()
leaving_browser_tests.append(SHARED.close)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The worker's Chromium; whatever a file's tests left open in it is closed after the file."""
    chromium = SHARED.get()
    yield chromium
    for ctx in chromium.contexts:
        ctx.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest):
    """``shots(page, "name")`` saves test-artifacts/screenshots/<test>-<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    test = request.node.name.removeprefix("test_")

    def take(page, name: str, full_page: bool = True) -> Path:
        path = SHOTS / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def contexts(browser) -> Iterator[object]:
    """``contexts(phone=True)`` opens a fresh browser context (own storage); all closed after the test.
    Other keywords go to Playwright's ``new_context`` (a viewport, a time zone)."""
    opened = []
    problems: list[str] = []

    def new(phone: bool = False, **options):
        ctx = browser.new_context(**{**(PHONE if phone else LAPTOP), **options})
        ctx.set_default_timeout(8000)
        watch_console(ctx, problems)
        opened.append(ctx)
        return ctx

    allowed: list[str] = []
    # ``contexts.allow("401 (Unauthorized)")``: a refusal the test causes on purpose (a revoked link
    # opened again) is what the browser reports, not the page's error.
    new.allow = allowed.append  # type: ignore[attr-defined]
    with network_turn(alone=False):  # never while the image test changes the host's network
        yield new
    for ctx in opened:
        ctx.close()
    # No page may log an error to the browser's console in any journey (a style or script the
    # Content-Security-Policy refuses is one). A connection a test cuts on purpose (a restart, a
    # phone offline) is not the page's error: the browser reports each refused reconnect, and
    # htmx echoes the socket's error event as "[object Event]".
    cut = ("ERR_INTERNET_DISCONNECTED", "ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "[object Event]")
    unexpected = [p for p in problems if not any(c in p for c in (*cut, *allowed))]
    assert not unexpected, "\n".join(unexpected)
