"""The rules of a group between meetings, in the core: agreement versions and one mark per
member, topics and the presenter's consent, the rhythm across daylight saving and moves, and
the journal's cap."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.facilitation import between as b, journal, opening, rhythm
from app.facilitation.errors import Conflict, Forbidden, Invalid

LONDON = {"every": "month", "interval": 1, "weekday": "TH", "nth": 2, "time": "14:00", "minutes": 90,
          "tz": "Europe/London", "starts": "2027-01-01"}


def test_a_change_to_the_agreement_is_agreed_again_and_each_member_counts_once() -> None:
    g = b.draft(b.Between(), "Phones away.", now=1)
    assert b.draft(g, "Phones away.", now=2) == g  # the same text: nothing to agree again
    for mark in ("a", "b", "a"):
        g = b.agree(g, 1, mark, True)
    assert g.agreement.agreed == 2 and g.agreement.marks == ["a", "b"]
    g = b.agree(g, 1, "b", False)
    assert g.agreement.agreed == 1
    g = b.draft(g, "Phones away. Start on time.", now=3)
    assert (g.agreement.version, g.agreement.agreed, g.agreement.marks, g.agreement.revised_at) == (2, 0, [], 3)
    with pytest.raises(Conflict):
        b.agree(g, 1, "a", True)


def test_a_case_opens_the_session_only_once_its_author_consents() -> None:
    g = b.propose(b.Between(), "c1", "case", "A hard discharge", None, "owner-mark", now=1)
    g = b.mark(b.mark(g, "c1", "x", True), "c1", "x", True)
    assert g.topics[0].likes == 1
    with pytest.raises(Forbidden):
        b.withdraw(g, "c1", "someone else")
    g = b.settle(g, "c1", now=2)
    assert g.topics == [] and g.plan.consent == "asked"
    assert opening.plan_for_session(g, None, None, None).plan_text is None
    with pytest.raises(Forbidden):
        b.consent(g, "not the owner", "m9", True)
    g = b.consent(g, "owner-mark", "m1", True)
    plan = opening.plan_for_session(g, None, None, None)
    assert (plan.plan_text, plan.presenter_member, plan.plan_name) == ("A hard discharge", "m1", None)
    assert b.used_up(g, "c1").plan is None and b.used_up(g, "other").plan is not None
    with pytest.raises(Invalid):
        b.propose(b.Between(), "t", "gossip", "x", None, "o", 0)


def test_the_local_time_holds_across_daylight_saving() -> None:
    s = rhythm.check(LONDON)
    starts = [start for start, _ in rhythm.occurrences(s, 6)]
    assert [d.strftime("%Y-%m-%d %H:%M") for d in starts][:4] == [
        "2027-01-14 14:00", "2027-02-11 14:00", "2027-03-11 14:00", "2027-04-08 14:00"]
    assert {d.utcoffset().total_seconds() for d in starts} == {0, 3600}  # GMT in winter, BST from April
    last = rhythm.check({**LONDON, "nth": -1, "weekday": "FR"})
    assert rhythm.first_date(last) == date(2027, 1, 29)


def test_a_weekly_rhythm_from_long_ago_still_finds_the_next_meeting() -> None:
    s = rhythm.check({"every": "week", "interval": 2, "weekday": "MO", "time": "09:30", "minutes": 60,
                      "tz": "America/New_York", "starts": "1995-01-02"})
    now = datetime(2030, 6, 5, tzinfo=ZoneInfo("UTC")).timestamp()
    nxt = datetime.fromtimestamp(rhythm.next_meeting(s, now), ZoneInfo("America/New_York"))
    assert nxt.strftime("%a %H:%M") == "Mon 09:30" and (nxt.date() - date(1995, 1, 2)).days % 14 == 0


def test_a_meeting_moves_or_is_cancelled_once() -> None:
    s = rhythm.check(LONDON)
    with pytest.raises(Invalid):
        rhythm.move(s, date(2027, 1, 13), None)
    s = rhythm.move(s, date(2027, 1, 14), datetime(2027, 1, 20, 10, 0))
    s = rhythm.move(s, date(2027, 2, 11), None)
    shown = [d.strftime("%Y-%m-%d %H:%M") for d, _ in rhythm.occurrences(s, 3)]
    assert shown == ["2027-01-20 10:00", "2027-03-11 14:00"]
    jan = datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp()
    assert datetime.fromtimestamp(rhythm.next_meeting(s, jan), ZoneInfo("Europe/London")).day == 20


@pytest.mark.parametrize("bad", [{"tz": "Nowhere/Atlantis"}, {"time": "25:00"}, {"nth": 5}, {"interval": 0},
                                 {"every": "week"}, {"minutes": 5}])
def test_a_schedule_that_cannot_be_kept_is_refused(bad: dict) -> None:
    with pytest.raises(Invalid):
        rhythm.check({**LONDON, **bad})


def test_the_calendar_lines_are_folded_at_75_octets() -> None:
    s = rhythm.check(LONDON)
    text = rhythm.calendar(s, "g1", "Groupe de pratique réflexive, " * 4, now=0)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Groupe de pratique réflexive\\, " in unfolded


def test_the_journal_keeps_its_latest_500_and_brings_a_few() -> None:
    entries: list = []
    for i in range(505):
        entries = journal.add(entries, {"id": str(i), "at": float(i), "sealed": "x", "bring": False, "cpd": False})
    assert len(entries) == 500 and entries[0]["id"] == "5"
    for i in range(5, 5 + journal.MAX_BROUGHT):
        entries = journal.choose(entries, str(i), True, None)
    with pytest.raises(Invalid):
        journal.choose(entries, "100", True, None)
    chosen, rest = journal.brought(entries)
    assert len(chosen) == journal.MAX_BROUGHT and not any(e["bring"] for e in rest)
    assert journal.prompts([{"text": "Call Sam"}], {"kind": "case", "text": "A discharge"}) == [
        {"kind": "action", "subject": "Call Sam"}, {"kind": "case", "subject": "A discharge"}]
