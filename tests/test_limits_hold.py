"""Limits that hold: what a red team did to get past the fair shares, and what stops it now.

- A machine rotating through the addresses of its IPv6 /64 is one client to every
  per-address limit; an IPv4-mapped address is its IPv4 client.
- Believing every client's X-Forwarded-For is warned about at start.
- One address cannot take every place of a session while the group is still joining,
  yet a room behind one address (a hospital's Wi-Fi) still gets in.
- A facilitator jumping between phases all day cannot grow the session's record.
- No custom format makes a first frame bigger than the content ceiling.

Tests on the shared ``server`` send ``X-Forwarded-For`` from 127.0.0.1, which the server
believes (its default proxy), with addresses of their own.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
import websockets

from app.config import AppSettings
from app.facilitation import commands, engine
from app.facilitation.errors import Conflict, Invalid
from app.facilitation.formats import MAX_FORMAT_SHOWN_BYTES, builtin_formats, parse_format, shown_bytes
from app.facilitation.models import FACILITATOR, MAX_PHASE_LOG, MAX_VIEW_BYTES, Actor, Fresh, SessionState
from app.facilitation.summary import phases_run
from app.http.ratelimit import client_key
from app.realtime.interfaces import Record
from app.realtime.memory.limits import LocalLimits
from app.realtime.quotas import Quotas, TooFast
from tests.conftest import store_id
from tests.support.client import Api, error_of
from tests.support.server import ServerProcess

pytestmark = pytest.mark.timeout(240)

MODES = ["memory", "redis"]


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def a_64() -> str:
    """A /64 of this test's own (documentation prefix 2001:db8::/32), as "2001:db8:xxxx:yyyy"."""
    tag = uuid.uuid4().hex
    return f"2001:db8:{tag[:4]}:{tag[4:8]}"


# ------------------------------------------------------------------ which client an address is

def test_an_ipv6_client_is_its_64_and_an_ipv4_client_its_address() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("192.0.2.7") != client_key("192.0.2.8")
    assert client_key("2001:db8:1:2::1", 48) == client_key("2001:db8:1:ffff::1", 48) == "2001:db8:1::/48"
    assert client_key("2001:db8:1:2::1", 128) != client_key("2001:db8:1:2::2", 128)
    assert client_key("testclient") == "testclient"  # not an address: counted as it is


def test_rotating_through_one_64_is_one_guesser(server: ServerProcess) -> None:
    """Each miss from another address of the same /64; the next address of it is blocked,
    a neighbouring /64 is not, and an IPv4-mapped address counts as its IPv4 address."""
    prefix, neighbour = a_64(), a_64()
    per_minute = int(AppSettings.model_fields["guesses_per_minute"].default)
    with Api(server.base_url) as api:
        for n in range(per_minute):
            miss = api.request("GET", "/api/sessions/ZZZZZZ", "x", headers=from_address(f"{prefix}:{n:x}::{n + 1:x}"))
            assert miss.status_code == 404, miss.text
        blocked = api.request("GET", "/api/sessions/ZZZZZZ", "x", headers=from_address(f"{prefix}:ffff:1:2:3"))
        assert blocked.status_code == 429 and error_of(blocked)["code"] == "rate_limited"
        assert api.request("GET", "/api/sessions/ZZZZZZ", "x",
                           headers=from_address(f"{neighbour}::1")).status_code == 404

        v4 = f"10.64.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
        for _ in range(per_minute):
            assert api.request("GET", "/api/sessions/ZZZZZZ", "x",
                               headers=from_address(f"::ffff:{v4}")).status_code == 404
        assert api.request("GET", "/api/sessions/ZZZZZZ", "x", headers=from_address(v4)).status_code == 429


def test_the_live_sockets_count_a_64_as_one_client(server: ServerProcess) -> None:
    """The socket's handshake takes its client from the same place: a /64 blocked over HTTP
    is blocked on the socket from any other of its addresses."""
    prefix = a_64()
    per_minute = int(AppSettings.model_fields["guesses_per_minute"].default)
    with Api(server.base_url) as api:
        for n in range(per_minute):
            api.request("GET", "/api/sessions/ZZZZZZ", "x", headers=from_address(f"{prefix}::{n + 1:x}"))

    async def handshake() -> int:
        try:
            async with websockets.connect(f"{server.ws_base}/api/sessions/ZZZZZZ/live?token=x",
                                          additional_headers=from_address(f"{prefix}:9:9:9:9"), open_timeout=5):
                return 101
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    assert asyncio.run(handshake()) == 429


@pytest.mark.parametrize("mode", MODES, ids=store_id)
def test_sessions_created_from_one_64_share_its_burst(start, mode: str) -> None:
    (app,) = start(mode, {"SESSION_BURST_PER_ADDRESS": "3", "SESSIONS_PER_ADDRESS_PER_HOUR": "1"})
    prefix = a_64()
    with Api(app.base_url) as api:
        for n in range(3):
            made = api.request("POST", "/api/sessions", json={"title": f"S{n}"}, headers=from_address(f"{prefix}::{n + 1}"))
            assert made.status_code == 201
        refused = api.request("POST", "/api/sessions", json={"title": "S3"}, headers=from_address(f"{prefix}::99"))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert api.request("POST", "/api/sessions", json={"title": "Elsewhere"},
                           headers=from_address(f"{a_64()}::1")).status_code == 201


# ------------------------------------------------------------------ believing every proxy

def test_believing_every_client_is_what_the_warning_names() -> None:
    for wildcard in ("*", "0.0.0.0/0", "::/0", "10.0.0.1, *"):
        assert AppSettings(forwarded_allow_ips=wildcard).trusts_any_proxy, wildcard
    for proxy in ("127.0.0.1", "10.0.0.0/8", "10.0.0.1,10.0.0.2", "unix:/run/proxy.sock"):
        assert not AppSettings(forwarded_allow_ips=proxy).trusts_any_proxy, proxy


def test_a_wildcard_proxy_setting_is_warned_about_once_at_start(tmp_path) -> None:
    log = tmp_path / "wildcard.log"
    app = ServerProcess(env={"REDIS_URL": "", "FORWARDED_ALLOW_IPS": "*", "LOG_LEVEL": "info"}, log_path=log).start()
    try:
        # what the warning is about: any client names its own address, and each is a new one
        with Api(app.base_url) as api:
            for n in range(40):
                assert api.request("GET", "/api/sessions/ZZZZZZ", "x",
                                   headers=from_address(f"198.51.100.{n + 1}")).status_code == 404
    finally:
        app.stop()
    warnings = [line for line in log.read_text().splitlines() if "FORWARDED_ALLOW_IPS=*" in line]
    assert len(warnings) == 1, warnings
    assert "WARNING" in warnings[0]
    assert "any client can then pick its own address and pass every per-address limit" in warnings[0]

    quiet = tmp_path / "proxy.log"
    app = ServerProcess(env={"REDIS_URL": "", "FORWARDED_ALLOW_IPS": "127.0.0.1"}, log_path=quiet).start()
    app.stop()
    assert "FORWARDED_ALLOW_IPS" not in quiet.read_text()


# ------------------------------------------------------------------ one address, one session

@pytest.mark.parametrize("mode", MODES, ids=store_id)
def test_one_address_cannot_fill_a_session_while_another_still_joins(start, mode: str) -> None:
    """At the defaults, over two workers in Redis mode: an address that joins as fast as it can
    gets the session's first 60 places and then waits; the room's next person, from another
    address, still gets in, and so does someone from that first address a moment later."""
    defaults = {name.upper(): str(AppSettings.model_fields[name].default)  # the harness raises these
                for name in ("join_burst_per_address", "session_join_burst_per_address")}
    servers = start(mode, defaults, workers=2)
    apis = [Api(s.base_url) for s in servers] * (3 - len(servers))  # two workers, or the one twice
    burst = int(AppSettings.model_fields["session_join_burst_per_address"].default)
    flooder, colleague = from_address(f"{a_64()}::1"), from_address(f"{a_64()}::1")
    code = apis[0].create_session(title="Tuesday")["code"]
    other = apis[0].create_session(title="Next door")["code"]
    path = f"/api/sessions/{code}/participants"
    # Flat out until refused: the first 60 at once, then as many more as the pace has let in
    # meanwhile (one a second), which on a slow machine is a few.
    per_second = int(AppSettings.model_fields["session_joins_per_address_per_minute"].default) / 60
    started, joined = time.monotonic(), 0
    while (refused := apis[joined % 2].request("POST", path, json={"name": f"Bot {joined}"},
                                               headers=flooder)).status_code == 201:
        joined += 1
        assert joined <= burst + per_second * (time.monotonic() - started) + 1, joined
    assert joined >= burst
    assert refused.status_code == 429 and error_of(refused)["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 2  # the next place for this address: in a second or so
    assert apis[0].request("POST", path, json={"name": "Ana"}, headers=colleague).status_code == 201
    # the same address may still join another session (a hospital's other room)
    assert apis[1].request("POST", f"/api/sessions/{other}/participants", json={"name": "Ben"},
                           headers=flooder).status_code == 201
    for api in apis:
        api.close()


def test_a_room_behind_one_address_gets_in_at_the_default_pace() -> None:
    """200 people behind one hospital address all tap Join within ten seconds; each phone
    asks again after the Retry-After it is given (as the join page does). Everyone is in
    within three minutes, and nobody waits more than a few seconds once it is their turn;
    while one address joining flat out holds no more than 60 places plus one a second."""
    now = [0.0]
    quotas = Quotas(LocalLimits(), LocalLimits(), AppSettings(), lambda: now[0], secret="k")
    arrivals = sorted((n * 10 / 200, n) for n in range(200))
    waiting = list(arrivals)
    joined_at: dict[int, float] = {}

    async def run() -> None:
        while waiting:
            waiting.sort()
            at, who = waiting.pop(0)
            now[0] = max(now[0], at)
            try:
                await quotas.joining("203.0.113.9", "HOSP22")
                joined_at[who] = now[0]
            except TooFast as slow:
                assert slow.retry_after <= 2
                waiting.append((now[0] + slow.retry_after, who))

    asyncio.run(run())
    assert len(joined_at) == 200
    assert max(joined_at.values()) <= 180
    by_time = sorted(joined_at.values())
    for places in (60, 120, 199):  # one address's places over time: 60 at once, then about one a second
        assert by_time[places] >= places - 60 - 1


# ------------------------------------------------------------------ the phase log

def session(spec_id: str | None = None) -> SessionState:
    spec = builtin_formats()[spec_id or "action-learning-set"]
    state = engine.new_session(code="LOG234", title="Jumps", format=spec, now=0.0, salt="salt",
                               facilitator_token_hash="f", screen_token_hash="s")
    state = engine.join(state, participant_id="p0", name="Ana", token_hash="t0", now=0.0).state
    return engine.apply(state, commands.parse_command({"type": "start"}), FACILITATOR, 1.0, Fresh(id="s", secret="s")).state


def test_twenty_thousand_phase_jumps_keep_the_record_small() -> None:
    state = session()
    ids = [p.id for p in state.format.phases]
    small = len(Record(state=state).model_dump_json())
    ceiling = engine.content_bytes(state)
    for n in range(20_000):
        command = commands.parse_command({"type": "goto_phase", "phase_id": ids[(n + 1) % len(ids)]})
        state = engine.apply(state, command, FACILITATOR, 2.0 + n, Fresh(id=f"j{n}", secret="s")).state
    assert len(state.phase_log) == MAX_PHASE_LOG
    assert engine.phases_entered(state.phase_log) == 20_001  # every visit counted, the middle ones not kept
    assert state.phase_log[0].entered_at == 1.0  # when the session began: the record's minutes
    assert state.phase_log[-1].entered_at == 2.0 + 19_999 and state.phase_log[-1].left_at is None
    assert state.phase_log[1].dropped_before == 20_001 - MAX_PHASE_LOG
    assert len(Record(state=state).model_dump_json()) < small + MAX_PHASE_LOG * 150
    assert engine.content_bytes(state) == ceiling  # the ceiling counted the log at its largest from the start
    assert len(phases_run(state)) == MAX_PHASE_LOG


def test_moving_between_phases_is_never_refused_for_room() -> None:
    """A room that wrote up to the ceiling can still be taken to the next phase."""
    state = session()
    for n in range(240):
        who = Actor(role="participant", participant_id=f"w{n // 20}")
        if state.participant(f"w{n // 20}") is None:
            state = engine.join(state, participant_id=f"w{n // 20}", name=f"W{n}", token_hash=f"tw{n}", now=1.0).state
        try:
            command = commands.parse_command({"type": "add_action", "text": "😀" * 500})
            state = engine.apply(state, command, who, 1.0, Fresh(id=f"a{n}", secret="s")).state
        except Conflict as exc:
            assert "as much writing as it can show" in exc.message
    assert engine.content_bytes(state) > MAX_VIEW_BYTES * 0.95
    for n in range(MAX_PHASE_LOG + 5):
        state = engine.apply(state, commands.parse_command({"type": "next_phase"} if n % 2 == 0 else
                                                           {"type": "goto_phase", "phase_id": state.format.phases[0].id}),
                             FACILITATOR, 2.0 + n, Fresh(id=f"n{n}", secret="s")).state
    assert engine.phases_entered(state.phase_log) == MAX_PHASE_LOG + 6


# ------------------------------------------------------------------ the format's size

FILLS = ["a", "&", '"', "<", "😀"]


def biggest_format(fill: str) -> str:
    """The largest file the schema allows with this character in every text, trimmed to just
    under the cap on what a format may show: 50 phases with long titles and prompts, eight
    statements, a check-out."""
    def toml(title: int, prompt: int) -> str:
        def literal(n: int) -> str:
            return "'" + fill * n + "'"

        parts = [f"id = '{'f' * 64}'", f"title = {literal(120)}",
                 "evaluation = [" + ", ".join(f"{literal(190)[:-1]}{i}'" for i in range(8)) + "]"]
        for i in range(50):
            purpose = "purpose = 'check-out'\n" if i == 49 else "wellbeing = true\n" if i == 0 else ""
            parts.append(f"[[phases]]\nid = '{i:02d}{'p' * 62}'\ntitle = {literal(title)}\nkind = 'round'\n"
                         f"prompt = {literal(prompt)}\nduration_s = 60\n{purpose}")
        return "\n".join(parts)

    for prompt in range(300, -1, -10):
        for title in (120, 60, 20, 1):
            text = toml(title, prompt)
            try:
                parse_format(text)
            except Invalid:
                continue
            return text
    raise AssertionError("no format of this fill fits")


@pytest.mark.parametrize("fill", FILLS)
def test_the_biggest_format_stays_under_the_cap_on_what_it_shows(fill: str) -> None:
    spec = parse_format(biggest_format(fill))
    assert shown_bytes(spec) <= MAX_FORMAT_SHOWN_BYTES
    assert len(spec.phases) == 50


def test_a_format_that_would_show_too_much_is_refused_with_the_contracts_error(server: ServerProcess) -> None:
    text = biggest_format("&").replace("prompt = '", "prompt = '" + "&" * 20, 50)
    body = json.dumps({"title": "Too big", "format_toml": text}, ensure_ascii=False).encode()
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        answer = http.post("/api/sessions", content=body, headers={"content-type": "application/json",
                                                                   **from_address(f"{a_64()}::1")})
    assert answer.status_code == 422, answer.text
    error = error_of(answer)
    assert error["code"] == "invalid"
    assert f"more than the {MAX_FORMAT_SHOWN_BYTES // 1024} KB a format may show" in error["message"]


def test_every_builtin_format_is_far_under_the_cap() -> None:
    for spec in builtin_formats().values():
        assert shown_bytes(spec) < MAX_FORMAT_SHOWN_BYTES // 16, spec.id


async def first_frame(url: str) -> int:
    async with websockets.connect(url, max_size=None, open_timeout=10) as ws:
        frame = await asyncio.wait_for(ws.recv(), 10)
    return len(frame.encode() if isinstance(frame, str) else frame)


@pytest.mark.parametrize("fill", ["&", "😀", "a"])
def test_the_biggest_custom_formats_first_frame_is_under_the_ceiling(server: ServerProcess, fill: str) -> None:
    """Every role's first frame, on both sockets, in the lobby and in the phase with the most
    to show (the check-out, with its statements), is under the 256 KB SECURITY.md states."""
    body = json.dumps({"title": fill * 120, "format_toml": biggest_format(fill)}, ensure_ascii=False).encode()
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        made = http.post("/api/sessions", content=body, headers={"content-type": "application/json",
                                                                 **from_address(f"{a_64()}::1")})
    assert made.status_code == 201, made.text
    created = made.json()
    code = created["code"]
    with Api(server.base_url) as api:
        ana = api.join(code, fill * 60)
        tokens = [created["facilitator_token"], ana["token"], created["screen_token"]]

        def sizes() -> list[int]:
            urls = [u for t in tokens for u in (server.live_url(code, t), f"{server.ws_base}/live/{code}?token={t}")]
            return [asyncio.run(first_frame(url)) for url in urls]

        lobby = sizes()
        api.ok(code, created["facilitator_token"], {"type": "start"})
        last = api.view(code, created["facilitator_token"])["phases"][-1]["id"]
        api.ok(code, created["facilitator_token"], {"type": "goto_phase", "phase_id": last})
        checkout = sizes()
    assert max(lobby + checkout) < MAX_VIEW_BYTES, (lobby, checkout)


# ------------------------------------------------------------------ a full room in breakouts

# The console's first frame on the pages socket shows every person on several controls (the
# people list, the share of voice, the pickers, the groups): SECURITY.md states its ceiling.
MAX_CONSOLE_PAGE_FRAME = 1024 * 1024


@pytest.mark.parametrize(("size", "fill"), [(2, "&"), (3, "<")])
def test_a_full_room_in_breakouts_sends_first_frames_under_the_stated_ceilings(
        start: Callable[..., list[ServerProcess]], size: int, fill: str) -> None:
    """200 people with names of 60 characters that escape longest, the writing filled up to the
    content ceiling, the biggest custom format, and breakouts: every role's first frame on the
    JSON socket and the pages socket is under the ceiling SECURITY.md states for it."""
    (server,) = start("memory", {})
    text = biggest_format(fill).replace("kind = 'round'\n", "kind = 'round'\nbreakout = true\n")
    body = json.dumps({"title": fill * 120, "format_toml": text}, ensure_ascii=False).encode()
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        made = http.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    assert made.status_code == 201, made.text
    created = made.json()
    code, fac = created["code"], created["facilitator_token"]
    with Api(server.base_url, timeout=30) as api:
        people = [api.join(code, fill * 57 + f"{n:03d}") for n in range(200)]
        api.ok(code, fac, {"type": "start"})
        for n in range(10_000):  # actions of 500 such characters, until the ceiling refuses one
            answer = api.command(code, people[n % 200]["token"], {"type": "add_action", "text": fill * 500})
            if answer.status_code != 200:
                assert error_of(answer)["reason"] == "content_ceiling", answer.text
                break
        api.ok(code, fac, {"type": "start_breakouts", "size": size})
        assert len(api.view(code, fac)["breakouts"]) == -(-200 // size)

    frames = {}
    for role, token in (("console", fac), ("phone", people[0]["token"]), ("screen", created["screen_token"])):
        frames[role, "json"] = asyncio.run(first_frame(server.live_url(code, token)))
        frames[role, "pages"] = asyncio.run(first_frame(f"{server.ws_base}/live/{code}?token={token}"))
    assert frames.pop(("console", "pages")) < MAX_CONSOLE_PAGE_FRAME, frames
    assert max(frames.values()) < MAX_VIEW_BYTES, frames
