"""Issue 5, parts 1, 2 and 6: cross-site requests, XSS payloads and length limits, abuse
limits (join-code guessing, socket floods, connection and session caps), and the
facilitator's "end and erase now".

Tests on the shared ``server`` send ``X-Forwarded-For`` with an address of their own (the
server trusts proxy headers from 127.0.0.1), so the unknown codes they look up are charged
to that address and never slow down the rest of the suite.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from app.http.ratelimit import Buckets, names_a_session
from app.live.socket import FloodGuard
from tests.support.client import Api, LiveClient, error_of
from tests.support.server import ServerProcess
from tests.support.stored import file_bytes, redis_dump, store_dump, wait_for_file

_addresses = itertools.count(1)


def own_address() -> dict[str, str]:
    """A client address of this test's own (see the module docstring)."""
    n = next(_addresses)
    return {"X-Forwarded-For": f"10.55.{n // 250}.{n % 250 + 1}"}


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def ws_status(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]] | str:
    """Open a socket: (status, headers) if the handshake is refused, else "open" (then closes it)."""
    try:
        async with websockets.connect(url, additional_headers=headers or {}, open_timeout=5):
            return "open"
    except websockets.InvalidStatus as refused:
        return refused.response.status_code, dict(refused.response.headers)


# ------------------------------------------------------------------ token buckets (no server)

def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = FakeClock()
    buckets = Buckets(rate=0.5, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.wait("a") == pytest.approx(2.0)
    assert buckets.take("b")  # another key has its own bucket
    clock.now += 2.0
    assert buckets.take("a") and not buckets.take("a")


def test_spending_never_goes_below_empty_and_waiting_spends_nothing() -> None:
    clock = FakeClock()
    buckets = Buckets(rate=1, burst=2, clock=clock)
    for _ in range(10):
        buckets.spend("a")
    assert buckets.wait("a") == pytest.approx(1.0)
    assert buckets.wait("a") == pytest.approx(1.0)
    clock.now += 1
    assert buckets.wait("a") == 0


def test_buckets_forget_the_least_recent_keys_past_their_bound() -> None:
    buckets = Buckets(rate=1, burst=1, clock=FakeClock(), max_keys=100)
    for n in range(10_000):
        buckets.spend(f"addr-{n}")
    assert len(buckets._levels) == 100
    assert buckets.wait("addr-9999") > 0 and buckets.wait("addr-0") == 0


def test_a_flood_gets_one_error_then_silence_then_a_close() -> None:
    clock = FakeClock()
    guard = FloodGuard(rate=1, burst=3, clock=clock)
    verdicts = [guard.verdict() for _ in range(8)]
    assert verdicts == ["ok", "ok", "ok", "refuse", "drop", "drop", "close", "close"]


def test_a_client_that_slows_down_is_served_again() -> None:
    clock = FakeClock()
    guard = FloodGuard(rate=1, burst=2, clock=clock)
    assert [guard.verdict() for _ in range(3)] == ["ok", "ok", "refuse"]
    clock.now += 1
    assert [guard.verdict() for _ in range(2)] == ["ok", "refuse"]


@pytest.mark.parametrize("path, names", [
    ("/api/sessions/ABC234", True), ("/api/sessions/ABC234/live", True), ("/join/ABC234", True),
    ("/join", True), ("/console/ABC234", True), ("/screen/ABC234", True), ("/live/ABC234", True),
    ("/summary/ABC234", True), ("/api/sessions", False), ("/api/sessions/", False), ("/", False),
    ("/api/formats", False), ("/static/js/pages/phone.js", False), ("/healthz", False)])
def test_the_guard_covers_every_path_that_names_a_session(path: str, names: bool) -> None:
    assert names_a_session(path) is names


# ------------------------------------------------------------------ cross-site requests

@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},  # Origin decides
])
@pytest.mark.parametrize("path, body", [("/", "title=Forged&format=balint"),
                                        ("/api/sessions", '{"title": "Forged"}')])
def test_an_unsafe_request_from_another_site_is_refused(server: ServerProcess, headers: dict[str, str],
                                                        path: str, body: str) -> None:
    answer = httpx.post(server.base_url + path, content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded" if path == "/" else "application/json", **headers})
    assert answer.status_code == 403
    assert error_of(answer)["code"] == "forbidden"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("headers", [
    {}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Origin": "SELF"},
    {"Origin": "null", "Sec-Fetch-Site": "same-origin"},  # our own no-referrer pages post like this
    {"Origin": "SELF", "Sec-Fetch-Site": "same-origin"}])
def test_a_form_post_from_the_app_itself_or_no_browser_is_served(server: ServerProcess,
                                                                 headers: dict[str, str]) -> None:
    headers = {k: (server.base_url if v == "SELF" else v) for k, v in headers.items()}
    answer = httpx.post(server.base_url + "/", content="title=Ours&format=balint",
                        headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"].startswith("/console/")


def test_reading_is_allowed_from_anywhere(server: ServerProcess) -> None:
    answer = httpx.get(server.base_url + "/api/formats", headers={"Origin": "https://evil.example",
                                                                  "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers  # and the other site cannot read it


# ------------------------------------------------------------------ XSS payloads and length limits

XSS = {
    "title": "<script>alert('title')</script>",
    "name": '<img src=x onerror="alert(1)">',
    "question": "</textarea><svg onload=alert(2)>",
    "feedback": "\"'><iframe src=javascript:alert(3)>",
    "action": "<a href=\"javascript:alert(4)\">click</a>{{7*7}}",
}


@pytest.fixture(scope="module")
def xss_room(server: ServerProcess) -> Iterator[dict[str, Any]]:
    with Api(server.base_url) as api:
        created = api.create_session(title=XSS["title"])
        code, fac = created["code"], created["facilitator_token"]
        person = api.join(code, XSS["name"])
        api.ok(code, fac, {"type": "start"})
        for kind in ("question", "feedback"):
            for n in range(3):  # enough to pass the reveal threshold
                api.ok(code, person["token"], {"type": "submit_item", "kind": kind, "text": f"{XSS[kind]} {n}"})
            api.view_when(code, fac, lambda v, kind=kind: v["pending"][kind] == 3)  # counted at a fold
            api.ok(code, fac, {"type": "reveal_items", "kind": kind, "force": True})
        api.ok(code, person["token"], {"type": "add_action", "text": XSS["action"]})
        yield {"code": code, "fac": fac, "screen": created["screen_token"], "person": person}


def test_xss_payloads_travel_as_exact_json_data(server: ServerProcess, xss_room: dict[str, Any]) -> None:
    with Api(server.base_url) as api:
        answer = api.request("GET", f"/api/sessions/{xss_room['code']}", xss_room["fac"])
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    view = answer.json()
    assert view["title"] == XSS["title"]
    assert [p["name"] for p in view["participants"]] == [XSS["name"]]
    texts = sorted(i["text"] for i in view["items"])
    assert texts == sorted(f"{XSS[k]} {n}" for k in ("question", "feedback") for n in range(3))
    assert [a["text"] for a in view["actions"]] == [XSS["action"]]


def _assert_escaped(html: str) -> None:
    for payload in XSS.values():
        assert payload not in html, payload
    assert "<script>alert" not in html and "onerror=" not in html.replace("&#34;", '"').split("&lt;img")[0]
    assert "<iframe" not in html and "<svg onload" not in html


@pytest.mark.parametrize("page", ["/join/{code}", "/console/{code}", "/screen/{code}"])
def test_xss_payloads_are_escaped_on_every_page(server: ServerProcess, xss_room: dict[str, Any], page: str) -> None:
    answer = httpx.get(server.base_url + page.format(code=xss_room["code"]))
    assert answer.status_code == 200
    assert "&lt;script&gt;alert" in answer.text  # the title is shown, escaped
    _assert_escaped(answer.text)


@pytest.mark.parametrize("role", ["fac", "screen", "person"])
def test_xss_payloads_are_escaped_in_every_live_page_fragment(server: ServerProcess, xss_room: dict[str, Any],
                                                              role: str) -> None:
    token = xss_room[role]["token"] if role == "person" else xss_room[role]

    async def first_frames() -> str:
        async with websockets.connect(f"{server.ws_base}/live/{xss_room['code']}?token={token}") as ws:
            return str(await asyncio.wait_for(ws.recv(), 5))

    html = asyncio.run(first_frames())
    _assert_escaped(html)
    assert "&lt;" in html  # something was shown, escaped


LIMITS = [  # (what, request builder, longest accepted)
    ("title", lambda n: ("POST", "/api/sessions", None, {"title": "t" * n}), 120),
    ("name", lambda n: ("POST", "/api/sessions/{code}/participants", None, {"name": "n" * n}), 60),
    ("question", lambda n: ("POST", "/api/sessions/{code}/commands", "person",
                            {"type": "submit_item", "kind": "question", "text": "q" * n}), 1000),
    ("feedback", lambda n: ("POST", "/api/sessions/{code}/commands", "person",
                            {"type": "submit_item", "kind": "feedback", "text": "f" * n}), 1000),
    ("action", lambda n: ("POST", "/api/sessions/{code}/commands", "person", {"type": "add_action", "text": "a" * n}),
     500),
]


@pytest.mark.parametrize("what, build, longest", LIMITS, ids=[x[0] for x in LIMITS])
def test_every_text_field_has_a_length_limit(server: ServerProcess, what: str, build: Any, longest: int) -> None:
    with Api(server.base_url) as api:
        created = api.create_session()
        code = created["code"]
        person = api.join(code, "Lena")
        api.ok(code, created["facilitator_token"], {"type": "start"})
        tokens = {"person": person["token"]}
        for n, expected in ((longest, (200, 201)), (longest + 1, (422,))):
            method, path, who, body = build(n)
            answer = api.request(method, path.format(code=code), tokens.get(who or ""), json=body)
            assert answer.status_code in expected, (what, n, answer.text[:200])
            if expected == (422,):
                assert error_of(answer)["code"] == "invalid"


# ------------------------------------------------------------------ abuse limits (a server of their own)

@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("limited") / "server.log"
    env = {"REDIS_URL": "", "GROUPS_DB": str(log.parent / "groups.sqlite3"), "GUESSES_PER_MINUTE": "5",
           "LIVE_MESSAGES_PER_S": "5", "LIVE_MESSAGE_BURST": "10", "MAX_CONNECTIONS": "4", "MAX_SESSIONS": "50"}
    proc = ServerProcess(env=env, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_guessing_join_codes_is_slowed_per_address(limited: ServerProcess) -> None:
    guesser, bystander = own_address(), own_address()
    with Api(limited.base_url) as api:
        real = api.create_session()["code"]
        misses = [api.request("POST", f"/api/sessions/ZZZZZ{n}/participants", json={"name": "x"}, headers=guesser)
                  for n in range(2, 7)]
        assert [m.status_code for m in misses] == [404] * 5
        blocked = api.request("POST", f"/api/sessions/{real}/participants", json={"name": "x"}, headers=guesser)
        assert blocked.status_code == 429  # even for a code that exists: a guesser learns nothing
        assert error_of(blocked)["code"] == "rate_limited"
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert "content-security-policy" in blocked.headers
        for path in (f"/api/sessions/{real}", f"/join/{real}", f"/console/{real}", "/join?code=ABCDEF"):
            assert api.request("GET", path, headers=guesser).status_code == 429, path
        assert api.request("POST", f"/api/sessions/{real}/participants", json={"name": "y"},
                           headers=bystander).status_code == 201
        assert api.request("GET", "/api/formats", headers=guesser).status_code == 200
        assert api.request("POST", "/api/sessions", json={"title": "mine"}, headers=guesser).status_code == 201
    refused = asyncio.run(ws_status(f"{limited.ws_base}/api/sessions/{real}/live?token=x", guesser))
    assert isinstance(refused, tuple) and refused[0] == 429 and "retry-after" in {k.lower() for k in refused[1]}


def test_unknown_codes_on_the_socket_count_as_guesses(limited: ServerProcess) -> None:
    guesser = own_address()

    async def guess(n: int) -> int | None:
        try:
            async with websockets.connect(f"{limited.ws_base}/api/sessions/QQQQQ{n}/live?token=x",
                                          additional_headers=guesser) as ws:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        return None

    codes = [asyncio.run(guess(n)) for n in range(2, 8)]
    assert codes == [4404] * 5 + [429]


def test_a_known_code_with_a_wrong_token_is_not_a_guess(limited: ServerProcess) -> None:
    address = own_address()
    with Api(limited.base_url) as api:
        code = api.create_session()["code"]
        for _ in range(10):
            assert api.request("GET", f"/api/sessions/{code}", "wrong", headers=address).status_code == 401
        assert api.request("POST", f"/api/sessions/{code}/participants", json={"name": "z"},
                           headers=address).status_code == 201


def test_a_flooding_socket_gets_an_error_frame_then_a_close_and_the_room_carries_on(limited: ServerProcess) -> None:
    with Api(limited.base_url) as api:
        created = api.create_session()
        code = created["code"]
        flooder, calm = api.join(code, "Flo"), api.join(code, "Cal")
        api.ok(code, created["facilitator_token"], {"type": "start"})

    async def scenario() -> None:
        watcher = await LiveClient.connect(limited.ws_base, code, created["facilitator_token"])
        other = await LiveClient.connect(limited.ws_base, code, calm["token"])
        noisy = await LiveClient.connect(limited.ws_base, code, flooder["token"])
        for n in range(200):
            try:
                await noisy.send_raw(json.dumps({"type": "command", "id": f"f{n}", "command": {"type": "lower_hand"}}))
            except websockets.ConnectionClosed:
                break
        close_code, _ = await noisy.closed(timeout=10)
        assert close_code == 1008
        slowed = [f for f in noisy.frames if f["type"] == "error" and f["error"]["code"] == "rate_limited"]
        assert len(slowed) == 1
        served = [f for f in noisy.frames if f["type"] in ("ack", "error") and f is not slowed[0]]
        assert 10 <= len(served) <= 30  # the burst (and what refilled meanwhile) was answered
        # The refusal names the first command it refused: the one after the last served.
        assert slowed[0]["id"] == f"f{len(served)}"
        # Everyone else is served as before.
        ack = await other.apply({"type": "raise_hand"})
        await watcher.wait_for_version(ack["version"])
        await other.close()
        await watcher.close()

    asyncio.run(scenario())
    assert "Traceback" not in limited.log_path.read_text()


def test_sockets_past_the_process_cap_are_refused_with_503(limited: ServerProcess) -> None:
    with Api(limited.base_url) as api:
        created = api.create_session()
    url = limited.live_url(created["code"], created["facilitator_token"])

    async def scenario() -> None:
        held: list[websockets.ClientConnection] = []
        try:
            while True:  # sockets of earlier tests may still be on their way out: fill up to the cap
                try:
                    held.append(await websockets.connect(url))
                except websockets.InvalidStatus as refused:
                    assert refused.response.status_code == 503
                    assert int(refused.response.headers["retry-after"]) > 0
                    assert json.loads(refused.response.body)["error"]["code"] == "unavailable"
                    break
                assert len(held) <= 4
        finally:
            for ws in held:
                await ws.close()
        for _ in range(50):  # room again once they have left
            if await ws_status(url) == "open":
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the server stayed full after every socket left")

    asyncio.run(scenario())


def test_sessions_past_the_process_cap_are_refused_with_503(tmp_path_factory: pytest.TempPathFactory) -> None:
    log = tmp_path_factory.mktemp("capped") / "server.log"
    proc = ServerProcess(env={"REDIS_URL": "", "GROUPS_DB": str(log.parent / "g.sqlite3"), "MAX_SESSIONS": "3"},
                         log_path=log).start()
    try:
        with Api(proc.base_url) as api:
            for _ in range(3):
                api.create_session()
            full = api.request("POST", "/api/sessions", json={"title": "one too many"})
        assert full.status_code == 503 and int(full.headers["retry-after"]) > 0
        assert full.json()["error"]["code"] == "unavailable"
    finally:
        proc.stop()


# ------------------------------------------------------------------ end and erase now

def _erasable_session(api: Api) -> dict[str, Any]:
    """A running session whose every text carries a marker of its own (``secret``)."""
    SECRET = "ERASEME-" + uuid.uuid4().hex[:8]
    created = api.create_session(title=f"{SECRET} title")
    code, fac = created["code"], created["facilitator_token"]
    people = [api.join(code, f"{SECRET} person {n}") for n in range(3)]
    api.ok(code, fac, {"type": "start"})
    for n, person in enumerate(people):
        api.ok(code, person["token"], {"type": "submit_item", "kind": "question", "text": f"{SECRET} question {n}"})
        api.ok(code, person["token"], {"type": "add_action", "text": f"{SECRET} action {n}"})
    api.view_when(code, fac, lambda v: v["pending"]["question"] == 3)  # counted at a fold
    api.ok(code, fac, {"type": "reveal_items", "kind": "question"})
    return {**created, "people": people, "secret": SECRET}


def _assert_gone(server: ServerProcess, room: dict[str, Any]) -> None:
    """Every endpoint answers 404 (each call from an address of its own: they are all misses)."""
    code, SECRET = room["code"], room["secret"]
    tokens = [room["facilitator_token"], room["screen_token"], *(p["token"] for p in room["people"])]
    with Api(server.base_url) as api:
        calls = [("POST", f"/api/sessions/{code}/participants", None, {"name": "late"})]
        for token in tokens:
            calls += [("GET", f"/api/sessions/{code}", token, None),
                      ("POST", f"/api/sessions/{code}/commands", token, {"type": "raise_hand"}),
                      ("GET", f"/api/sessions/{code}/summary", token, None),
                      ("GET", f"/api/sessions/{code}/summary.md", token, None),
                      ("DELETE", f"/api/sessions/{code}", token, None)]
        calls += [("GET", f"/api/sessions/{code}/reflection", room["people"][0]["token"], None)]
        for method, path, token, body in calls:
            kwargs = {"json": body} if body is not None else {}
            answer = api.request(method, path, token, headers=own_address(), **kwargs)
            assert answer.status_code == 404, (method, path, answer.status_code)
            assert SECRET not in answer.text
        for page in (f"/join/{code}", f"/console/{code}", f"/screen/{code}"):
            answer = api.request("GET", page, headers=own_address())
            assert answer.status_code == 404 and SECRET not in answer.text, page
        assert SECRET not in api.request("GET", f"/summary/{code}").text  # a shell its script fills in

    async def socket_close(path: str) -> int | None:
        try:
            async with websockets.connect(server.ws_base + path, additional_headers=own_address()) as ws:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    for path in (f"/api/sessions/{code}/live?token={room['facilitator_token']}",
                 f"/live/{code}?token={room['facilitator_token']}"):
        assert asyncio.run(socket_close(path)) == 4404


def _assert_store_holds_none_of_it(server: ServerProcess, request: pytest.FixtureRequest,
                                   room: dict[str, Any]) -> None:
    code, SECRET = room["code"], room["secret"]
    dump = redis_dump(server, request)
    if dump is None:  # memory mode: neither the sessions file nor its log holds a byte of it
        left = wait_for_file(server, lambda data: SECRET.encode() not in data and code.encode() not in data)
        assert SECRET.encode() not in left and code.encode() not in left
        assert file_bytes(server), "the sessions file is there (the bystander sessions are in it)"
        return
    for key, value in dump.items():
        assert SECRET not in key and SECRET not in value, key
        assert code not in key and code not in value, key


def test_the_facilitator_erases_the_session_from_the_socket(server: ServerProcess,
                                                           request: pytest.FixtureRequest) -> None:
    with Api(server.base_url) as api:
        room = _erasable_session(api)
    code = room["code"]

    async def scenario() -> None:
        fac = await LiveClient.connect(server.ws_base, code, room["facilitator_token"])
        screen = await LiveClient.connect(server.ws_base, code, room["screen_token"])
        phones = [await LiveClient.connect(server.ws_base, code, p["token"]) for p in room["people"]]
        async with websockets.connect(f"{server.ws_base}/live/{code}?token={room['facilitator_token']}") as page:
            await asyncio.wait_for(page.recv(), 5)
            refused = await phones[0].send_command({"type": "erase"})  # a participant may not
            assert refused["type"] == "error" and refused["error"]["code"] == "forbidden"
            assert (await fac.send_command({"type": "erase", "now": True}))["error"]["code"] == "invalid"
            ack = await fac.send_command({"type": "erase"}, id="erase-1")
            assert ack["type"] == "ack" and ack["erased"] is True
            for client in (fac, screen, *phones):
                assert (await client.closed())[0] == 4404
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(page.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404

    asyncio.run(scenario())
    _assert_gone(server, room)
    _assert_store_holds_none_of_it(server, request, room)


def test_the_facilitator_erases_the_session_over_http(server: ServerProcess, request: pytest.FixtureRequest) -> None:
    with Api(server.base_url) as api:
        room = _erasable_session(api)
        other = _erasable_session(api)  # a bystander session: untouched
        code = room["code"]
        assert api.request("DELETE", f"/api/sessions/{code}").status_code == 401
        assert api.request("DELETE", f"/api/sessions/{code}", room["people"][0]["token"]).status_code == 403
        assert api.request("DELETE", f"/api/sessions/{code}", room["screen_token"]).status_code == 403
        assert api.request("DELETE", f"/api/sessions/{code}", other["facilitator_token"]).status_code == 401
        before = api.view(other["code"], other["facilitator_token"])

        async def scenario() -> None:
            phone = await LiveClient.connect(server.ws_base, code, room["people"][1]["token"])
            answer = await asyncio.to_thread(api.request, "DELETE", f"/api/sessions/{code}", room["facilitator_token"])
            assert answer.status_code == 204
            assert (await phone.closed())[0] == 4404

        asyncio.run(scenario())
        assert api.view(other["code"], other["facilitator_token"]) == before
    _assert_gone(server, room)
    _assert_store_holds_none_of_it(server, request, room)
    assert any(other["code"] in key for key in store_dump(server, request))  # the bystander is still stored
