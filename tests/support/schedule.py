"""How scripts/test shares the suite among its worker processes: pytest-xdist's ``loadfile``,
with two changes that keep the slowest worker from finishing long after the others.

- A file's tests of one store mode are one unit of work, so the two halves of a file that runs in
  both modes (``[embedded-store]`` and ``[redis-store]``) can go to two workers at once. Each
  worker keeps one server of each mode (tests/conftest.py's ``server``), so a file split this
  way starts no server more.
- The units that take longest go first (``SLOW``, then the browser files, then the rest, most
  tests first): the last units handed out are short, so the workers finish close together.
  A file missing from ``SLOW`` only starts later than it could.
"""

from __future__ import annotations

import re

from xdist.scheduler import LoadFileScheduling

STORE_IDS = ("embedded-store", "redis-store")  # as tests/conftest.py names the modes in test ids

# Files whose every unit takes upwards of half a minute on two cores, slowest first; but the
# image test first of all, beside files that open no browser: a browser test waits while the
# image test changes the host's network (tests/support/network_turns.py).
SLOW = (
    "tests/test_image.py",  # mostly waits on downloads and podman: best beside the rest
    "tests/test_start.py",  # a fresh clone's .venv, installed with pip
    "tests/test_package.py",  # a wheel built and installed
    "tests/test_fuzz_http.py",
    "tests/test_anonymity_audit.py",
    "tests/test_restart.py",  # waits on servers stopped and started again: best early, beside work
    "tests/test_scaleout_redis.py",
    "tests/test_redis_faults.py",
    "tests/browser/test_troika_breakouts.py",  # four rotations on the server's clock
    "tests/test_bench_smoke.py",
    "tests/browser/test_journey_check_in.py",
    "tests/browser/test_offline.py",  # half a minute offline
    "tests/browser/test_journey_balint.py",
    "tests/browser/test_journey_action_learning_set.py",
    "tests/browser/test_screen_fits.py",
    "tests/test_scripts.py",
    "tests/test_pages_regions.py",
    "tests/test_bad_input.py",
)


def unit(nodeid: str) -> str:
    """The file, and the store mode where the test id names one."""
    path = nodeid.split("::", 1)[0]
    params = re.search(r"\[(.*)\]$", nodeid)
    mode = next((m for m in STORE_IDS if params and m in params.group(1)), None)
    return f"{path}::{mode}" if mode else path


def rank(path: str, tests: int) -> tuple[int, int, int]:
    if path in SLOW:
        return (0, SLOW.index(path), 0)
    return (1 if path.startswith("tests/browser/") else 2, 0, -tests)


class FileAndStoreScheduling(LoadFileScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return unit(nodeid)

    def schedule(self) -> None:
        """The units in the order they are handed out, before xdist fills them in with their tests
        (it keeps the order of units already in its queue)."""
        if self.collection is None and self.collection_is_completed and self._check_nodes_have_same_collection():
            collection = next(iter(self.registered_collections.values()))
            sizes: dict[str, int] = {}
            for nodeid in collection:
                sizes[unit(nodeid)] = sizes.get(unit(nodeid), 0) + 1
            for scope in sorted(sizes, key=lambda u: rank(u.split("::", 1)[0], sizes[u])):  # stable: else as collected
                self.workqueue[scope] = {}
        super().schedule()
