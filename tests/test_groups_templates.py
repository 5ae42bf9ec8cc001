"""The recurring groups' template hooks render from plain view fields, with no inline script or style."""

from __future__ import annotations

import re

from app.pages.templates import templates  # the pages that include these hooks

ME = {"participant_id": "p1", "member": True, "reviewing": True, "carry_action_ids": ["a1"],
      "consent_answered": ["q2"],
      "carried": [{"id": "c1", "text": "Book supervision", "due": None, "status": "open", "carry": False}]}
PROPOSALS = [{"id": "q1", "kind": "theme", "text": "Workload", "item_id": None, "agreed": 2, "objected": 1, "answered": 3},
             {"id": "q2", "kind": "change", "text": "Rota", "item_id": None, "agreed": 1, "objected": 0, "answered": 1}]
ACTIONS = [{"id": "a1", "participant_id": "p1", "text": "Mine", "due": None},
           {"id": "a2", "participant_id": "p2", "text": "Someone else's", "due": None}]


def render(source: str) -> str:
    return templates.from_string('{% from "_groups.html" import carried_review, floor_carried, carry_toggles, '
                                 'consent_ballot, proposals_panel %}' + source).render(
        me=ME, proposals=PROPOSALS, actions=ACTIONS, code="ABC234",
        fc={"participant_id": "p1", "name": "Ana", "actions": ME["carried"]})


def test_group_hooks_render_without_inline_script_or_style() -> None:
    html = render("{{ carried_review(me) }}{{ floor_carried(fc) }}{{ carry_toggles(actions, me) }}"
                  "{{ consent_ballot(proposals, me) }}{{ proposals_panel(proposals, code) }}")
    assert "Last time you planned" in html and "Last time Ana planned" in html
    assert "Someone else&#39;s" not in html and "Someone else's" not in html
    assert 'value="review_action"' in html and 'value="consent"' in html and 'value="carry_action"' in html
    assert not re.search(r"<script|style=|on\w+=", html)


def test_the_ballot_offers_only_unanswered_proposals() -> None:
    html = render("{{ consent_ballot(proposals, me) }}")
    assert html.count('value="consent"') == 2  # agree and object for q1; q2 is answered
    assert "You have answered" in html


def test_the_pages_socket_sends_consent_and_carry_as_booleans() -> None:
    from app.facilitation.commands import parse_command
    from app.live.htmx import decode_form

    _, data = decode_form('{"cid": "c1", "type": "consent", "proposal_id": "q1", "agree": "false"}')
    assert parse_command(data).agree is False
    _, data = decode_form('{"cid": "c2", "type": "carry_action", "action_id": "a1", "carry": "true"}')
    assert parse_command(data).carry is True
