"""Getting back to the room, against a real server in each store mode.

The facilitator's key is what brings a closed console back, so it must be revocable: after
``reissue_key`` the new key runs the session, the old one is refused and its open console
is closed. A co-facilitator's console, which has no screen key, can make a screen link that
opens the screen view and nothing more.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.client import Api, LiveClient, SocketClosed, error_of
from tests.support.server import ServerProcess


def test_reissuing_the_facilitators_key_refuses_the_old_one_and_closes_its_consoles(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created = api.create_session(title="Keys")
            code, old = created["code"], created["facilitator_token"]
            api.join(code, "Ana")
            console = await LiveClient.connect(server.ws_base, code, old)
            # only the session's own facilitator re-issues its key
            co = api.ok(code, old, {"type": "invite_cofacilitator", "name": "Sam"})["token"]
            assert error_of(api.command(code, co, {"type": "reissue_key"}))["code"] == "forbidden"

            new = api.ok(code, old, {"type": "reissue_key"})["key"]
            assert new != old and len(new) >= 32
            code_closed, _ = await console.closed()
            assert code_closed == 4401
            assert api.request("GET", f"/api/sessions/{code}", token=old).status_code == 401
            with pytest.raises(SocketClosed):
                await LiveClient.connect(server.ws_base, code, old)
            fresh = await LiveClient.connect(server.ws_base, code, new)
            assert fresh.view["me"]["role"] == "facilitator"
            await fresh.apply({"type": "start"})
            # the co-facilitator's key and the screen's were not touched
            assert api.view(code, co)["me"]["role"] == "facilitator"
            assert api.view(code, created["screen_token"])["me"]["role"] == "screen"
            await fresh.close()

    asyncio.run(scenario())


def test_a_cofacilitator_makes_a_screen_link_that_shows_the_screen_and_runs_nothing(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created = api.create_session(title="Second screen")
            code, lead = created["code"], created["facilitator_token"]
            co = api.ok(code, lead, {"type": "invite_cofacilitator", "name": "Sam"})["token"]
            screen = api.ok(code, co, {"type": "screen_link"})["screen_token"]
            live = await LiveClient.connect(server.ws_base, code, screen)
            assert live.view["me"]["role"] == "screen"
            refused = await live.send_command({"type": "start"})
            assert refused["type"] == "error" and refused["error"]["code"] == "forbidden"
            assert "screen_keys" not in str(api.view(code, lead))
            await live.close()

    asyncio.run(scenario())
