"""A real Talking Piece server in its own process, on a free port, for protocol tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

# Anonymous counters and presence fold on a timer (SECURITY.md). Test servers fold about five
# times a second and show presence at the next fold, so that a test waits a fraction of a
# second for a count; tests of the batching itself set their own (tests/test_anonymity_audit.py).
FAST_BATCHES = {"TALLY_INTERVAL_S": "0.2", "PRESENCE_ON_S": "0", "PRESENCE_OFF_S": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every client of the suite comes from 127.0.0.1: one address creating and joining as many
# sessions as a whole town would. The per-address fair shares are raised to match, except
# where a test sets them (tests/test_fair_shares.py).
ONE_ADDRESS_FOR_ALL = {"SESSION_BURST_PER_ADDRESS": "1000000", "JOIN_BURST_PER_ADDRESS": "1000000",
                       "SESSION_JOIN_BURST_PER_ADDRESS": "1000000"}


# Redis mode needs the key its fair shares hash addresses with, the same on every worker: one
# for the whole test run, so that servers started as workers of one deployment share it.
LIMITS_SECRET = secrets.token_hex(32)


class ServerProcess:
    """``python -m app`` as a user starts it; stopped with SIGTERM (or killed) by the test.

    Each server keeps its files (the embedded mode's sessions and groups) in a data
    directory of its own, beside its log (or a fresh temporary one) unless ``DATA_DIR`` is
    given, so no test writes to the user's data directory and no two servers share one.
    ``restart`` starts it again on the same port with the same data directory.
    """

    def __init__(self, port: int | None = None, env: dict[str, str] | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        env = dict(env or {})
        if not env.get("DATA_DIR"):
            parent = log_path.parent if log_path else None
            env["DATA_DIR"] = tempfile.mkdtemp(prefix="tp-data-", dir=parent)
        self.env = {**os.environ, "LOG_LEVEL": "debug", **ONE_ADDRESS_FOR_ALL, **FAST_BATCHES,
                    "LIMITS_SECRET": LIMITS_SECRET, **env}
        self.data_dir = Path(env["DATA_DIR"])
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def live_url(self, code: str, token: str) -> str:
        return f"{self.ws_base}/api/sessions/{code}/live?token={token}"

    def start(self, timeout: float = 20.0) -> "ServerProcess":
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not become healthy in time")

    def restart(self, timeout: float = 20.0) -> "ServerProcess":
        """SIGTERM, then the same command again: same port, settings and data directory."""
        self.stop()
        return self.start(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
