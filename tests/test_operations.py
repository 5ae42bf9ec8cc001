"""Running it as an operator does: metrics to scrape, JSON log lines, and a phone page people keep.

One real server with metrics turned on (a token for the public port, and a port of its own)
and JSON log lines runs a real session: people join by name, sockets of both kinds open,
questions are written, a timed round's turn ends by the server's timer, and a limit refuses
a socket. Then the scrape must show every family, and nothing in it (labels least of all)
may name the session, a person, a token or anything written; every log line must be a JSON
object, with no item's text and no name in a line about items. Two uvicorn workers share
their metrics; the pages link a manifest whose icons are what it says.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient

from app.config import AppSettings
from app.http import log_privacy
from app.main import create_app
from app.realtime import metrics
from app.resources import TEMPLATES
from tests.support.client import Api, LiveClient, SocketClosed, close_all
from tests.support.server import FAST_BATCHES, LIMITS_SECRET, ONE_ADDRESS_FOR_ALL, ROOT, ServerProcess, free_port

TOKEN = "operator-scrape-token-7f3a"
NAMES = ("Philippa", "Bartholomew")
FAMILIES = ("talkingpiece_open_sockets", "talkingpiece_live_sessions", "talkingpiece_commands_total",
            "talkingpiece_command_fanout_seconds", "talkingpiece_region_render_seconds",
            "talkingpiece_redis_errors_total", "talkingpiece_redis_reconnects_total", "talkingpiece_refusals_total",
            "talkingpiece_turn_end_lateness_seconds")
SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("operations") / "server.log"
    env = {"REDIS_URL": "", "METRICS_TOKEN": TOKEN, "METRICS_PORT": str(free_port()), "LOG_FORMAT": "json",
           "MAX_SOCKETS_PER_TOKEN": "1"}
    proc = ServerProcess(env=env, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    found = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not Prometheus' text format: {line!r}"
            labels = dict(LABEL.findall(match["labels"] or ""))
            found.append((match["name"], labels, float(match["value"])))
    return found


def value(found: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, ls, v in found if n == name and all(ls.get(k) == want for k, want in labels.items()))


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def run_a_session(server: ServerProcess) -> dict[str, list[str]]:
    """A short session with everything the metrics count; what must never show in them."""
    with Api(server.base_url) as api:
        created = api.create_session(title="Ward round reflections")
        code, fac_token = created["code"], created["facilitator_token"]
        people = [api.join(code, name) for name in NAMES]
    texts = ["question mossy harbour lantern", "feedback quiet orchard violin"]

    async def scenario() -> None:
        fac = await LiveClient.connect(server.ws_base, code, fac_token)
        phones = [await LiveClient.connect(server.ws_base, code, p["token"]) for p in people[1:]]
        # The first phone is on the pages' socket, which renders its page's regions.
        pages = await websockets.connect(f"{server.ws_base}/live/{code}?token={people[0]['token']}")
        await asyncio.wait_for(pages.recv(), 5)
        # A second socket for the same token is over MAX_SOCKETS_PER_TOKEN: refused by the limit.
        with pytest.raises((SocketClosed, websockets.InvalidStatus, websockets.ConnectionClosed)):
            await LiveClient.connect(server.ws_base, code, people[1]["token"], timeout=3)
        await fac.apply({"type": "start"})
        await phones[0].apply({"type": "submit_item", "kind": "feedback", "text": texts[1]})
        await pages.send(json.dumps({"cid": "c1", "type": "submit_item", "kind": "question", "text": texts[0]}))
        while 'c1' not in await asyncio.wait_for(pages.recv(), 5):
            pass  # the regions that changed, until the reply beside the form
        await phones[0].refused({"type": "reveal_items", "kind": "question"}, "forbidden")  # facilitators' alone
        await fac.apply({"type": "start_round", "seconds_per_turn": 1})
        first = fac.view["turn"]["participant_id"]
        await fac.wait_for_state(lambda v: v["turn"] is not None and v["turn"]["participant_id"] != first, timeout=5)
        await pages.close()
        await close_all([fac, *phones])

    asyncio.run(scenario())
    return {"code": [code], "names": list(NAMES), "texts": texts,
            "tokens": [fac_token, created["screen_token"], *(p["token"] for p in people)],
            "ids": [p["participant_id"] for p in people]}


@pytest.fixture(scope="module")
def session(watched: ServerProcess) -> dict[str, list[str]]:
    return run_a_session(watched)


def test_metrics_are_not_on_the_public_port_unless_the_operator_turns_them_on(tmp_path: Path) -> None:
    settings = AppSettings(data_dir=str(tmp_path), sessions_db="off")
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
        assert "/metrics" not in client.get("/openapi.json").text


def test_metrics_on_the_public_port_need_the_operators_token(watched: ServerProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
        answer = httpx.get(f"{watched.base_url}/metrics", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["code"] == "unauthorized"
        assert "talkingpiece" not in answer.text
    answer = httpx.get(f"{watched.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")


def test_a_session_shows_in_every_family_and_in_no_label(watched: ServerProcess, session: dict[str, list[str]]) -> None:
    text = httpx.get(f"{watched.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    for family in FAMILIES:
        assert f"# TYPE {family} " in text, family
    found = samples(text)
    assert value(found, "talkingpiece_commands_total", type="start", outcome="ok") == 1
    assert value(found, "talkingpiece_commands_total", type="submit_item", outcome="ok") == 2
    assert value(found, "talkingpiece_commands_total", type="reveal_items", outcome="forbidden") == 1
    # Timed where this worker both took the command and fanned it out (docs/operations.md): at least one here.
    assert value(found, "talkingpiece_command_fanout_seconds_count") >= 1
    assert value(found, "talkingpiece_region_render_seconds_count", template="phone.html") > 0
    assert value(found, "talkingpiece_refusals_total", limit="token_sockets") == 1
    assert value(found, "talkingpiece_turn_end_lateness_seconds_count") >= 1
    assert value(found, "talkingpiece_open_sockets") == 0  # every socket was closed
    assert value(found, "talkingpiece_live_sessions") == 0
    for secret in (s for kind in session.values() for s in kind):
        assert secret not in text, f"the scrape names {secret!r}"
    templates = {p.name for p in TEMPLATES.glob("*.html")}
    allowed = {"kind": {"pages", "json"}.__contains__, "role": {"facilitator", "participant", "screen"}.__contains__,
               "outcome": (metrics.OUTCOMES | {"ok"}).__contains__, "template": templates.__contains__,
               "where": (metrics.WHERE | {"other"}).__contains__, "limit": (metrics.LIMITS | {"other"}).__contains__,
               "type": re.compile(r"[a-z_]+").fullmatch, "le": re.compile(r"[0-9.e+-]+|\+Inf").fullmatch}
    for name, labels, _ in found:
        if name.startswith("talkingpiece_"):
            for label, text_value in labels.items():
                assert label in allowed and allowed[label](text_value), (name, label, text_value)
    # The port of its own answers the same families, without a token.
    port = watched.env["METRICS_PORT"]
    own = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert all(f"# TYPE {family} " in own for family in FAMILIES)


def test_open_sockets_are_counted_by_kind_and_role_while_open(watched: ServerProcess,
                                                              session: dict[str, list[str]]) -> None:
    with Api(watched.base_url) as api:
        created = api.create_session(title="Counted")
        code = created["code"]

    async def scenario() -> list[tuple[str, dict[str, str], float]]:
        fac = await LiveClient.connect(watched.ws_base, code, created["facilitator_token"])
        screen = await websockets.connect(f"{watched.ws_base}/live/{code}?token={created['screen_token']}")
        await asyncio.wait_for(screen.recv(), 5)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"{watched.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
        await screen.close()
        await close_all([fac])
        return samples(text)

    found = asyncio.run(scenario())
    assert value(found, "talkingpiece_open_sockets", kind="json", role="facilitator") == 1
    assert value(found, "talkingpiece_open_sockets", kind="pages", role="screen") == 1
    assert value(found, "talkingpiece_open_sockets") == 2
    assert value(found, "talkingpiece_live_sessions") == 1


def test_json_log_lines_parse_and_name_nobody_beside_an_item(watched: ServerProcess,
                                                              session: dict[str, list[str]]) -> None:
    assert watched.log_path is not None
    lines = [line for line in watched.log_path.read_text("utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) and {"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["level"] == "DEBUG" for r in records)  # the debug log was on: the frames were there to leak
    assert any("Talking Piece" in r["message"] and "open http" in r["message"] for r in records)
    for line in lines:
        for text in session["texts"]:
            for piece in (text, text[:14], text[-14:]):
                assert piece not in line, f"an item's text was logged: {line}"
        for secret in session["tokens"]:
            assert secret not in line, f"a token was logged: {line}"
        if any(name in line for name in session["names"]):
            assert not re.search(r"item|submit|vote|question|feedback", line, re.I), line


def test_the_join_and_phone_pages_link_a_manifest_that_opens_the_join_page_standalone(watched: ServerProcess) -> None:
    with Api(watched.base_url) as api:
        code = api.create_session(title="Monthly peer group")["code"]
        pages = [api.http.get(path) for path in ("/join", f"/join/{code}", "/")]
        for page in pages:
            assert page.status_code == 200
            assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page.text
        served = api.http.get("/static/manifest.webmanifest")
        assert served.status_code == 200 and served.headers["content-type"] == "application/manifest+json"
        manifest = served.json()
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/join"
        assert manifest["name"] == "Talking Piece"
        assert api.http.get(manifest["start_url"]).status_code == 200
        sizes = set()
        for icon in manifest["icons"]:
            image = api.http.get(icon["src"])
            assert image.status_code == 200 and image.headers["content-type"] == icon["type"]
            if icon["type"] == "image/png":  # the PNG header's width and height are what the manifest says
                assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
                width, height = int.from_bytes(image.content[16:20], "big"), int.from_bytes(image.content[20:24], "big")
                assert icon["sizes"] == f"{width}x{height}"
                sizes.add(width)
        assert {192, 512} <= sizes  # what a phone needs for its home screen and its splash screen


def test_several_workers_on_one_port_answer_the_scrape_for_all_of_them(redis_server, tmp_path: Path) -> None:
    """``uvicorn --workers 2`` on Redis with PROMETHEUS_MULTIPROC_DIR (docs/operations.md): whichever
    worker a scrape reaches counts every worker's sockets."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_server.url, "REDIS_PREFIX": "tp-metrics:", "METRICS_TOKEN": TOKEN,
           "PROMETHEUS_MULTIPROC_DIR": str(shared), "DATA_DIR": str(tmp_path / "data"), **FAST_BATCHES,
           **ONE_ADDRESS_FOR_ALL, "LIMITS_SECRET": LIMITS_SECRET}
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--workers", "2",
               "--port", str(port), "--ws", "websockets-sansio", "--no-access-log"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while len({p.name.rsplit("_", 1)[-1] for p in shared.glob("*.db")}) < 2 or not answers(f"{base}/healthz"):
            assert proc.poll() is None and time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        with Api(base) as api:
            created = api.create_session(title="Two workers")
            tokens = [api.join(created["code"], f"Member {n}")["token"] for n in range(5)]

        async def scenario() -> list[float]:
            sockets = [await LiveClient.connect(ws_base, created["code"], created["facilitator_token"])]
            sockets += [await LiveClient.connect(ws_base, created["code"], token) for token in tokens]
            counts = []
            async with httpx.AsyncClient() as http:
                for _ in range(6):  # fresh connections: the kernel hands them to either worker
                    answer = await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}",
                                                                        "Connection": "close"})
                    counts.append(value(samples(answer.text), "talkingpiece_open_sockets"))
            await close_all(sockets)
            return counts

        assert asyncio.run(scenario()) == [6.0] * 6
    finally:
        proc.terminate()
        proc.wait(20)


def test_json_log_lines_redact_tokens_in_the_message_its_extras_and_a_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(log_privacy.RedactSecrets())
    handler.setFormatter(log_privacy.JsonLines())
    logger = logging.getLogger("talkingpiece.test-json-lines")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("socket /live/ABCDEF?token=%s closed", "t0ken-one", extra={"seen": {"url": "/x?key=k3y-two"}})
        try:
            raise ValueError("bad /api/sessions/ABCDEF/live?token=t0ken-three")
        except ValueError:
            logger.exception("failed")
        logger.debug("< %s", '{"type": "submit_item", "text": "a secret question"}')  # a frame: dropped
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "socket /live/ABCDEF?token=[redacted] closed"
    assert first["seen"] == {"url": "/x?key=[redacted]"} and first["level"] == "WARNING"
    assert "ValueError" in second["exception"] and "t0ken-three" not in second["exception"]
    assert not any(secret in stream.getvalue() for secret in ("t0ken", "k3y", "secret question"))
