"""Shared fixtures. ``server`` is a real uvicorn process, once per store mode.

The store modes are a parameter so that the whole protocol suite runs against each:
the embedded in-memory store, and Redis (a redis-server of the run's own).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Anything that builds the app in this process (or a server started without its own
# DATA_DIR) keeps its files in a directory of this run's, never in the user's data directory.
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="tp-tests-")

from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

STORE_MODES = ["memory", "redis"]
# What a test id says, e.g. test_x[embedded-store]: the suite lists every file once per mode.
STORE_IDS = {"memory": "embedded-store", "redis": "redis-store"}


def store_id(mode: str) -> str:
    return STORE_IDS[mode]


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` (as scripts/test runs the suite) with each file's store modes apart and
    the slowest first: tests/support/schedule.py."""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests.support.schedule import FileAndStoreScheduling
    return FileAndStoreScheduling(config, log)


# Called before the first test outside tests/browser/ that follows a browser test in this
# process, and at the end: tests/browser/conftest.py closes its shared Chromium.
leaving_browser_tests: list[Callable[[], None]] = []
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if BROWSER_TESTS not in item.path.parents:
        for close in leaving_browser_tests:
            close()


def pytest_sessionfinish() -> None:
    for close in leaving_browser_tests:
        close()


def pytest_report_header() -> str:
    return ("store modes: each protocol test runs twice, [embedded-store] then [redis-store], "
            "so a file is listed once per mode; a browser test file runs on the one store it names")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


def server_env(mode: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if mode == "memory":  # recurring groups go to a SQLite file of the test run's own
        groups_db = request.getfixturevalue("tmp_path_factory").mktemp("groups") / "groups.sqlite3"
        return {"REDIS_URL": "", "GROUPS_DB": str(groups_db)}
    if mode == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_server").url, "REDIS_PREFIX": "tp-suite:"}
    raise ValueError(mode)


@pytest.fixture(scope="session")
def shared_servers(redis_server: RedisServer) -> Iterator[dict[str, ServerProcess]]:
    """The ``server`` of each store mode, by mode: started when a test first asks for it and kept
    until the worker's last test (stopped before its Redis). pytest orders a worker's tests by
    store mode within each file, so a ``server`` of its own would be stopped and started again
    twice in every file; one of each, kept, is started once."""
    started: dict[str, ServerProcess] = {}
    yield started
    for proc in started.values():
        proc.stop()


@pytest.fixture(scope="session", params=STORE_MODES, ids=store_id)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           shared_servers: dict[str, ServerProcess]) -> ServerProcess:
    if request.param not in shared_servers:
        log = tmp_path_factory.mktemp(f"server-{request.param}") / "server.log"
        proc = ServerProcess(env=server_env(request.param, request), log_path=log).start()
        proc.mode = request.param  # type: ignore[attr-defined]
        shared_servers[request.param] = proc
    return shared_servers[request.param]


@pytest.fixture
def start(request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[..., list[ServerProcess]]]:
    """``start(mode, env, workers=1)``: servers of a test's own, with its settings (in Redis mode,
    ``workers`` of them on one Redis and one fresh prefix); all stopped after the test."""
    started: list[ServerProcess] = []

    def launch(mode: str, env: dict[str, str], workers: int = 1) -> list[ServerProcess]:
        base = {"REDIS_URL": "", "GROUPS_DB": str(tmp_path / "groups.sqlite3")}
        if mode == "redis":
            base = {"REDIS_URL": request.getfixturevalue("redis_server").url,
                    "REDIS_PREFIX": f"tp-{uuid.uuid4().hex[:8]}:"}
        for _ in range(workers if mode == "redis" else 1):
            started.append(ServerProcess(env={**base, **env}, log_path=tmp_path / f"server{len(started)}.log").start())
        return started[-(workers if mode == "redis" else 1):]

    yield launch
    for server in started:
        server.stop()


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pseudo-locales on (TP_PSEUDO_LOCALES): every message accented, so English left on a
    page was never wrapped for translation."""
    from app.pages import i18n

    def reset() -> None:
        i18n.shipped.cache_clear()
        i18n.translations.cache_clear()

    monkeypatch.setenv("TP_PSEUDO_LOCALES", "1")
    reset()
    yield
    monkeypatch.delenv("TP_PSEUDO_LOCALES")
    reset()
