"""Starting the server as a user does: the URL it prints, a port already taken, ``--lan``,
and the README's start command on a fresh clone with nothing but the system's python3."""

from __future__ import annotations

import os
import re
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.pages.routes import qr_svg
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"
ANNOUNCEMENT = re.compile(r"open (http://\S+/)")


class Running:
    """A command in a process group of its own, its output read line by line as it comes."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> tuple[re.Match[str], str]:
        """The first line matching ``pattern``, and everything printed up to it."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:  # output closed: the process has ended
                break
            seen.append(line)
            if match := pattern.search(line):
                return match, "".join(seen)
        raise AssertionError(f"no line matching {pattern.pattern!r} within {timeout} s; it printed:\n" + "".join(seen))

    def stop(self) -> None:
        """SIGTERM to the whole group (a script's children too), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(5)


@contextmanager
def started(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> Iterator[Running]:
    running = Running(args, cwd, env)
    try:
        yield running
    finally:
        running.stop()


def embedded_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REDIS_URL": "", "GROUPS_DB": str(tmp_path / "groups.sqlite3")}


def test_the_printed_url_answers_at_once(tmp_path: Path) -> None:
    port = free_port()
    with started([sys.executable, "-m", "app", "--port", str(port)], embedded_env(tmp_path)) as server:
        match, _ = server.wait_for(ANNOUNCEMENT, 30)
        assert match.group(1) == f"http://localhost:{port}/"
        # Printed only once the socket accepts: the first request, without retrying, is served.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_a_taken_port_is_one_clear_line_and_no_url(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT,
                              env=embedded_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"Talking Piece: port {port} is already in use on 127.0.0.1 (is another server running there?); "
        "choose another with --port or PORT"]


def test_lan_points_the_links_and_qr_code_at_the_lan_address(tmp_path: Path) -> None:
    port = free_port()
    with started([sys.executable, "-m", "app", "--lan", "--port", str(port)], embedded_env(tmp_path)) as server:
        match, _ = server.wait_for(ANNOUNCEMENT, 30)
        url = match.group(1)
        host = url.split("//")[1].split(":")[0]
        assert not host.startswith("127.") and host != "localhost", url
        # A phone reaches it at that address; the facilitator's laptop may still use localhost.
        created = httpx.post(url + "api/sessions", json={"title": "Wi-Fi check"}, timeout=5)
        assert created.status_code == 201
        session = created.json()
        join = f"{url}join/{session['code']}"
        assert session["join_url"] == join
        console = httpx.get(f"http://127.0.0.1:{port}/console/{session['code']}", timeout=5).text
        assert f'href="{join}"' in console
        assert str(qr_svg(join, f"QR code to join session {session['code']}")) in console


def test_help_is_plain_text() -> None:
    done = subprocess.run([sys.executable, "-m", "app", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert "--lan" in done.stdout and "`" not in done.stdout


def readme_start_command() -> str:
    """The first command of the README's "Two commands" section, as a new user copies it."""
    section = (ROOT / "README.md").read_text().split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()


@pytest.mark.timeout(900)
def test_a_fresh_clone_starts_with_the_readme_command_and_the_system_python(tmp_path: Path) -> None:
    """No pyenv, no venv, no PYTHONPATH: the distribution's python3 and what the script makes of it.

    The clone is of the committed tree. It installs from PyPI into its own .venv (a minute or
    so; the user's pip cache is shared so that a second run downloads nothing).
    """
    assert Path(SYSTEM_PYTHON).exists(), "this test needs the distribution's python3 at /usr/bin/python3"
    clone = tmp_path / "talking-piece"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "PORT": str(port), "PIP_CACHE_DIR": cache}
    command = readme_start_command()
    with started(["bash", "-c", command], env, cwd=clone) as start:
        match, printed = start.wait_for(ANNOUNCEMENT, 840)
        assert match.group(1) == f"http://localhost:{port}/"
        assert "home = /usr/bin" in (clone / ".venv" / "pyvenv.cfg").read_text(), printed
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"status": "ok"}
        start = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert start.status_code == 200 and "Start a session" in start.text
    # The second start reuses the environment: it installs nothing.
    with started(["bash", "-c", command], env, cwd=clone) as again:
        _, printed = again.wait_for(ANNOUNCEMENT, 60)
        assert "installing" not in printed and "virtual environment" not in printed, printed
