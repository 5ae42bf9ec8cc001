"""The browser tests and the container image test take turns with this machine's network.

Starting a container makes podman add a bridge and a veth pair to the host's network, and
Chromium fails every request in flight when the host's interfaces change
(net::ERR_NETWORK_CHANGED: a page's scripts do not load). So, across the suite's worker
processes, the image test holds this lock alone while it builds and runs containers, and each
browser test holds it shared with the others.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "talking-piece-tests.network.lock"


@contextmanager
def network_turn(alone: bool) -> Iterator[None]:
    with open(LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
