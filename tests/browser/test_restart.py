"""A restart mid-session in real Chromium: the pages reconnect by themselves and carry on.

The embedded server is stopped with SIGTERM (its pages' sockets close with 1012) and
started again on the same port with the same data directory. What a phone sent while the
server was down goes out once it is back, and nothing is doubled.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_session, fill, join, open_console, send
from tests.support.server import ServerProcess

BACK = 20_000  # ms: the socket extension retries with a growing, jittered delay


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(env={"REDIS_URL": ""}, log_path=tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def test_pages_carry_on_after_a_restart_and_lose_nothing_sent_meanwhile(own_server, contexts, shots):
    base = own_server.base_url
    created = create_session(base, "Night shift debrief")
    console = open_console(contexts(), base, created)
    phone = join(contexts(phone=True), base, created["code"], "Dana Reyes")
    send(console, "Start the session")
    expect(phone.locator("#hand")).to_contain_text("Raise my hand")
    fill(phone.get_by_label("Your question or feedback"), "Who covers the handover?")
    send(phone, "Send")
    expect(console.locator("#items")).to_contain_text("1 question waiting")

    own_server.stop()
    expect(phone.locator("#conn")).to_be_visible()  # the phone says it is not connected
    fill(phone.get_by_label("Your question or feedback"), "What do we tell the family?")
    send(phone, "Send")
    send(phone, "Raise my hand")
    shots(phone, "phone-while-down")
    own_server.start()

    expect(console.locator("#items")).to_contain_text("2 questions waiting", timeout=BACK)
    expect(console.locator("#queue")).to_contain_text("Dana Reyes", timeout=BACK)
    expect(phone.locator("#hand")).to_contain_text("Lower my hand", timeout=BACK)
    expect(phone.locator("#conn")).to_be_hidden(timeout=BACK)
    expect(console.locator("#status")).to_have_text("Running")
    shots(console, "console-after-restart")

    send(console, "Give the turn to Dana Reyes")  # the console's commands work again too
    expect(phone.locator("#glance")).to_contain_text("Your turn")
    view = httpx.get(f"{base}/api/sessions/{created['code']}",
                     headers={"Authorization": f"Bearer {created['facilitator_token']}"}).json()
    assert view["pending"] == {"question": 2, "feedback": 0}
    assert [p["name"] for p in view["participants"]] == ["Dana Reyes"]
