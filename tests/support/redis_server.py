"""A real redis-server of the test run's own, on a free port (or TEST_REDIS_URL if set).

The app reads REDIS_URL, so an external server for the tests goes in TEST_REDIS_URL;
otherwise the tests start redis-server themselves (scripts/test installs it if missing).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.support.server import free_port


class RedisServer:
    """``own=True`` always starts a server of its own (never TEST_REDIS_URL's), for tests that
    stop, freeze or kill it; ``keep_data=True`` makes it write every change to an append-only
    file in ``workdir``, so a restart (even after kill -9) comes back with its data."""

    def __init__(self, workdir: Path, *, own: bool = False, keep_data: bool = False) -> None:
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = "" if own else os.environ.get("TEST_REDIS_URL", "")
        self.keep_data = keep_data
        self.port: int | None = None

    def start(self) -> "RedisServer":
        if self.url and self.proc is None and self.port is None:
            return self
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/test, which installs it")
        port = self.port = self.port or free_port()
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.keep_data else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *persistence,
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        return self

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self.proc.terminate()
            self.proc.wait(10)

    # Faults, for the tests of what the app does while Redis is away.

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """kill -9: connections are reset; without ``keep_data`` everything is lost."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def restart(self) -> "RedisServer":
        """Start again on the same port (after ``kill`` or ``stop``)."""
        return self.start()
