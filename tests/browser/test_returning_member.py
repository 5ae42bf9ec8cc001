"""A returning member on the same phone, in real Chromium: at the group's next meeting the
join form comes filled in with the name they gave and the member code the group gave them
(four groups of four), and joining recognises them: no typing again."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.browser.helpers import join
from tests.test_groups_http import auth, new_group

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
