"""A room behind one address joins at the session's pace: the phone waits its turn by itself.

Past the places one address may take in a session at once, the server answers 429 with a
short Retry-After; the join page asks again after it instead of showing an error, so people
in a hospital room sharing one Wi-Fi address simply get in a second or two later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def paced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One place at once per address and session, then one every two seconds."""
    log = tmp_path_factory.mktemp("paced") / "server.log"
    env = {"REDIS_URL": "", "SESSION_JOIN_BURST_PER_ADDRESS": "1", "SESSION_JOINS_PER_ADDRESS_PER_MINUTE": "30"}
    server = ServerProcess(env=env, log_path=log).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_phone_past_the_first_places_waits_its_turn_and_gets_in(paced: ServerProcess, contexts, shots) -> None:
    created = httpx.post(f"{paced.base_url}/api/sessions", json={"title": "Ward round"}).json()
    code = created["code"]
    # The phone's first Join meets the pace on purpose: the browser reports the 429 it waits out.
    contexts.allow("429 (Too Many Requests)")
    phone = contexts(phone=True).new_page()
    phone.goto(f"{paced.base_url}/join/{code}")
    phone.get_by_label("Your name").fill("Second in")
    phone.get_by_label(re.compile("keep what is said here confidential")).check()

    first = httpx.post(f"{paced.base_url}/api/sessions/{code}/participants", json={"name": "First in"})
    assert first.status_code == 201  # the address's place for now is taken, just before the phone asks
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_role("button", name="Join")).to_be_disabled()  # waiting, not refused
    expect(phone.locator("#join-error")).to_be_hidden()
    expect(phone.locator("#room")).to_be_visible(timeout=10000)
    expect(phone.locator("#join-error")).to_be_hidden()
    shots(phone, "in")
    view = httpx.get(f"{paced.base_url}/api/sessions/{code}",
                     headers={"Authorization": f"Bearer {created['facilitator_token']}"}).json()
    assert [p["name"] for p in view["participants"]] == ["First in", "Second in"]
