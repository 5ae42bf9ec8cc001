"""The container image and the compose set, built and run as an operator would (docs/operations.md).

scripts/image builds the images with podman on a Debian 12 base made from Debian's packages
(no registry is needed), once for the whole file; the tests then run what was built: one
container of the embedded mode whose sessions must outlive it on their volume, and the
compose set, two workers on Redis behind the proxy, where a session must stay live through
the proxy whichever worker each request reaches. Everything a test starts is named by this
run and removed after it, whatever happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import Api, LiveClient
from tests.support.network_turns import network_turn
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "localhost/talking-piece"
DATA = "/var/lib/talking-piece"

# The first test of the file also waits for the build: on a machine without the day's base
# and build cache, some 80 s of CPU (mmdebstrap, pip, apt), most of it waiting on downloads;
# the suite starts this file first, so that it overlaps the other files.
pytestmark = pytest.mark.timeout(900)


def image_tool(*args: str, timeout: float = 60, check: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """scripts/image: the build, or podman and podman-compose with the settings this machine needs."""
    done = subprocess.run([str(ROOT / "scripts" / "image"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    if check and done.returncode != 0:
        raise AssertionError(f"scripts/image {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def podman(*args: str, timeout: float = 60, check: bool = True) -> str:
    return image_tool("podman", *args, timeout=timeout, check=check).stdout.strip()


@pytest.fixture(scope="module", autouse=True)
def network_to_ourselves() -> Iterator[None]:
    """No browser test runs while podman adds and removes the host's network interfaces
    (tests/support/network_turns.py)."""
    with network_turn(alone=True):
        yield


@pytest.fixture(scope="module")
def images() -> None:
    """The app's, the proxy's and Redis' images, built from this checkout."""
    started = time.monotonic()
    image_tool("--compose", timeout=880)
    print(f"images built in {time.monotonic() - started:.0f} s")


def wait_live(base_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{base_url}/livez", timeout=2)
            if answer.status_code == 200 and answer.json() == {"status": "ok"}:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise AssertionError(f"{base_url}/livez did not answer within {timeout}s: {last}")


def start_app(name: str, volume: str) -> str:
    """A container of the image in its embedded mode, its data on ``volume``: its base URL."""
    podman("run", "--detach", "--init", "--name", name, "--publish", "127.0.0.1::8000",
           "--volume", f"{volume}:{DATA}", IMAGE)
    address = podman("port", name, "8000/tcp").splitlines()[0]
    base_url = f"http://{address}"
    try:
        wait_live(base_url)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{podman('logs', name, check=False)}") from None
    return base_url


def remove_containers(*names: str) -> None:
    """Removed with their anonymous volumes (killed if still running a few seconds after SIGTERM)."""
    if names:
        podman("rm", "--force", "--volumes", "--time", "3", *names, check=False)


def test_the_image_serves_as_its_own_user_and_keeps_sessions_on_its_volume(images: None) -> None:
    run = secrets.token_hex(4)
    first, second, volume = f"tp-test-{run}-a", f"tp-test-{run}-b", f"tp-test-{run}-data"
    try:
        base_url = start_app(first, volume)
        # Not root inside the container, and the image's own health check passes on /livez.
        assert podman("exec", first, "id", "-u") == "10001"
        assert image_tool("podman", "healthcheck", "run", first, check=False).returncode == 0
        assert json.loads(podman("inspect", first, "--format", "{{json .State.Health.Status}}")) == "healthy"
        with Api(base_url) as api:
            session = api.create_session("Wednesday reflective practice")
            page = api.http.get(f"/join/{session['code']}")
            assert page.status_code == 200 and "Wednesday reflective practice" in page.text
        # Stopped as a platform stops it (SIGTERM), the server finishes cleanly; the container
        # goes away, and a new one on the same volume has the session, still open to join.
        podman("stop", "--time", "10", first)
        assert "Application shutdown complete." in image_tool("podman", "logs", first).stderr
        assert podman("inspect", first, "--format", "{{.State.ExitCode}}") == "143"  # SIGTERM's, not SIGKILL's 137
        remove_containers(first)
        base_url = start_app(second, volume)
        with Api(base_url) as api:
            joined = api.join(session["code"], "Ana")
            view = api.view(session["code"], session["facilitator_token"])
            assert view["title"] == "Wednesday reflective practice"
            assert [p["id"] for p in view["participants"]] == [joined["participant_id"]]
            assert api.http.post("/api/sessions/ZZZZZZ/participants", json={"name": "Ben"}).status_code == 404
    finally:
        remove_containers(first, second)
        podman("volume", "rm", "--force", volume, check=False)


def exec_post(container: str, path: str, body: dict) -> dict:
    """A POST made from inside ``container`` to its own worker, past the proxy."""
    script = ("import sys, urllib.request; r = urllib.request.urlopen(urllib.request.Request("
              "'http://127.0.0.1:8000' + sys.argv[1], data=sys.argv[2].encode(), "
              "headers={'content-type': 'application/json'}), timeout=10); print(r.read().decode())")
    return json.loads(podman("exec", container, "python3", "-c", script, path, json.dumps(body)))


@pytest.fixture
def compose_set(images: None) -> Iterator[tuple[str, str]]:
    """deploy/compose.yaml up under a project name of this test's: (project, the proxy's URL)."""
    project, port = f"tp-test-{secrets.token_hex(4)}", free_port()
    try:
        image_tool("compose", "--project-name", project, "up", "--detach", timeout=120,
                   env={"LIMITS_SECRET": secrets.token_hex(32), "PROXY_PORT": str(port)})
        base_url = f"http://127.0.0.1:{port}"
        wait_live(base_url)
        yield project, base_url
    finally:
        names = podman("ps", "--all", "--filter", f"label=io.podman.compose.project={project}",
                       "--format", "{{.Names}}", check=False).split()
        remove_containers(*names)
        podman("volume", "rm", "--force", f"{project}_redis-data", check=False)
        podman("network", "rm", "--force", f"{project}_default", check=False)


def test_the_compose_set_keeps_a_session_live_through_the_proxy_across_workers(compose_set: tuple[str, str]) -> None:
    project, base_url = compose_set
    worker1, worker2 = f"{project}_app1_1", f"{project}_app2_1"
    # Made on the first worker, past the proxy.
    session = exec_post(worker1, "/api/sessions", {"title": "Thursday supervision"})
    code = session["code"]

    async def live() -> None:
        ws_base = base_url.replace("http://", "ws://")
        console = await LiveClient.connect(ws_base, code, session["facilitator_token"])
        try:
            assert console.view["title"] == "Thursday supervision"
            # One joins on each worker: whichever worker the proxy gave the console's socket,
            # a change made on the other reaches it through Redis.
            exec_post(worker1, f"/api/sessions/{code}/participants", {"name": "Ana"})
            exec_post(worker2, f"/api/sessions/{code}/participants", {"name": "Ben"})
            await console.wait_for_state(lambda view: {p["name"] for p in view["participants"]} == {"Ana", "Ben"},
                                         timeout=10)
        finally:
            await console.ws.close()

    asyncio.run(live())
    # Through the proxy, requests rotate over both workers: every one of them knows the session.
    with Api(base_url) as api:
        for name in ("Cai", "Dee", "Eli"):
            api.join(code, name)
        view = api.view(code, session["facilitator_token"])
        assert {p["name"] for p in view["participants"]} == {"Ana", "Ben", "Cai", "Dee", "Eli"}
