"""A returning member on the same phone, in real Chromium: at the group's next meeting the
join form comes filled in with the name they gave and the member code the group gave them
(four groups of four), and joining recognises them: no typing again."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import join
from tests.test_groups_http import auth, new_group

pytestmark = pytest.mark.store("redis")

TYPEABLE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def test_a_returning_member_is_recognised_on_the_same_phone(server, contexts):
    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as http:
        group = new_group(http, "Ward")

        def meeting() -> str:
            return http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                             json={"title": "Monthly", "format": "check-in-out"}).json()["code"]

        first, second = meeting(), meeting()
        phone_ctx = contexts(phone=True)
        join(phone_ctx, base, first, "Ana Jones")
        code = phone_ctx.pages[0].evaluate(f"() => localStorage.getItem('tp:member:{group['group_id']}')")
        assert TYPEABLE.fullmatch(code), code

        again = phone_ctx.new_page()
        again.goto(f"{base}/join/{second}")
        expect(again.get_by_label("Your name")).to_have_value("Ana Jones")
        expect(again.locator("#member_code")).to_have_value(code)
        again.get_by_label(re.compile("keep what is said here confidential")).check()
        again.get_by_role("button", name="Join").click()
        expect(again.locator("#room")).to_be_visible()  # a code the group did not know would be refused
    kept = again.evaluate(f"() => [localStorage.getItem('tp:member:{group['group_id']}'),"
                          f" localStorage.getItem('tp:member:{group['group_id']}:new')]")
    assert kept == [code, None]  # recognised: no new code was handed out


def test_a_returning_member_let_in_at_the_locked_door_is_recognised(server, contexts):
    """Knocking is joining by another door: the phone knocks with the code it keeps, and once
    the console lets her in she is the member she is (her CPD record has both meetings); a
    newcomer who knocks is given a code of their own, kept on their phone, and one turned away
    keeps none."""
    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as http:
        group = new_group(http, "Ward")
        gid = group["group_id"]

        def meeting() -> dict:
            return http.post(f"/api/groups/{gid}/sessions", headers=auth(group["group_key"]),
                             json={"title": "Monthly", "format": "check-in-out"}).json()

        def command(created: dict, body: dict) -> None:
            answer = http.post(f"/api/sessions/{created['code']}/commands", json=body,
                               headers=auth(created["facilitator_token"]))
            assert answer.status_code == 200, answer.text

        first = meeting()
        phone_ctx = contexts(phone=True)
        join(phone_ctx, base, first["code"], "Ana Jones")
        code = phone_ctx.pages[0].evaluate(f"() => localStorage.getItem('tp:member:{gid}')")
        command(first, {"type": "start"})
        command(first, {"type": "close"})

        second = meeting()
        command(second, {"type": "lock_room"})
        phones = {}
        for name, ctx in (("Ana Jones", phone_ctx), ("Ben", contexts(phone=True)), ("Eve", contexts(phone=True))):
            page = ctx.new_page()
            page.goto(f"{base}/join/{second['code']}")
            expect(page.locator("#door-note")).to_contain_text("locked this room")
            if name == "Ana Jones":
                expect(page.locator("#member_code")).to_have_value(code)
            else:
                page.get_by_label("Your name").fill(name)
            page.get_by_label(re.compile("keep what is said here confidential")).check()
            page.get_by_role("button", name="Ask to come in").click()
            expect(page.locator("#knock-status")).to_be_visible()
            phones[name] = page
        fac = auth(second["facilitator_token"])
        waiting = http.get(f"/api/sessions/{second['code']}", headers=fac).json()["me"]["waiting"]
        for knock in waiting:
            verb = "decline_knock" if knock["name"] == "Eve" else "admit_knock"
            command(second, {"type": verb, "knock_id": knock["id"]})
        for name, page in phones.items():
            if name != "Eve":
                expect(page.locator("#room")).to_be_visible(timeout=10000)
        # Turned away, Eve's phone forgets the code the door gave her: it opens nothing of the group.
        eve = phones.pop("Eve")
        eve.wait_for_function(f"() => localStorage.getItem('tp:member:{gid}') === null", timeout=10000)
        expect(eve.locator("#knock-status")).to_be_visible()
        assert eve.evaluate(f"() => localStorage.getItem('tp:member:{gid}:new')") is None
        kept = phones["Ana Jones"].evaluate(f"() => [localStorage.getItem('tp:member:{gid}'),"
                                            f" localStorage.getItem('tp:member:{gid}:new')]")
        assert kept == [code, None]  # recognised: no new code was handed out
        bens = phones["Ben"].evaluate(f"() => localStorage.getItem('tp:member:{gid}')")
        assert TYPEABLE.fullmatch(bens or ""), bens  # the newcomer's code, kept as at a join
        command(second, {"type": "start"})
        command(second, {"type": "close"})
        for member_code, meetings in ((code, 2), (bens, 1)):
            record = http.get(f"/api/groups/{gid}/cpd", headers=auth(member_code)).json()
            assert len(record["entries"]) == meetings
