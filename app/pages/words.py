"""Plain words for the pages: a refusal the core words for programs, reworded for people.

The core's messages name commands and fields (``start_round``, ``confirmed``) because the
JSON API's callers are programs; a person tapping a button should read what happened and
what to do instead. A refusal says why in data (its ``reason`` and ``values``): the pages
word it from those, in the reader's language, and never parse the English message back.
One table per kind of message, so a new command needs one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.lists import format_list

from app.facilitation.guard import KIND_LABELS
from app.pages.extract import refusal_sentence
from app.pages.i18n import N_, babel_locale, current
from app.pages.i18n import gettext as _

# What a command does, as the end of "You cannot … now".
DOING = {
    "start": N_("start the session"), "next_phase": N_("move to the next phase"), "goto_phase": N_("go to that phase"),
    "start_round": N_("start a round"), "next_turn": N_("move to the next turn"), "give_turn": N_("give the turn"),
    "pause": N_("pause"), "resume": N_("resume"), "extend": N_("add time"), "set_presenter": N_("choose the presenter"),
    "reveal_items": N_("reveal what people wrote"), "hide_item": N_("hide that"), "remove_participant": N_("remove someone"),
    "readmit_participant": N_("let someone back in"), "close": N_("close the session"), "leave": N_("leave"),
    "raise_hand": N_("raise your hand"), "lower_hand": N_("lower your hand"), "pass": N_("pass"), "undo_pass": N_("undo the pass"),
    "yield_turn": N_("end your turn"), "submit_item": N_("send that"), "retract_item": N_("take that back"),
    "vote_item": N_("vote"), "add_action": N_("save an action"), "edit_action": N_("change that action"),
    "remove_action": N_("remove that action"), "rate_wellbeing": N_("answer the wellbeing scale"),
    "evaluate": N_("answer the evaluation"), "show_evaluation": N_("show the spread"),
    "request_word": N_("ask for a word"), "withdraw_word": N_("take that back"), "set_phases": N_("change the phases"),
    "carry_action": N_("carry that action"), "review_action": N_("mark that action"),
    "propose_summary": N_("ask the group"), "withdraw_proposal": N_("withdraw that"), "consent": N_("answer that"),
    "erase": N_("erase the session"),
    "start_breakouts": N_("split into groups"), "move_to_breakout": N_("move someone to another group"),
    "breakout_notice": N_("tell the groups how long is left"), "end_breakouts": N_("bring the groups back to the room"),
    "invite_cofacilitator": N_("invite a co-facilitator"), "revoke_cofacilitator": N_("revoke that console link"),
    "hand_over": N_("hand over the facilitation"), "take_back": N_("take the facilitation back"),
    "set_rota": N_("set the rota"),
    "add_without_phone": N_("add someone without a phone"), "raise_hand_for": N_("raise their hand"),
    "submit_paper_item": N_("send that"),
}
DO_THAT = N_("do that")  # any other command (a call of its own, so that it is extracted)
STATUS_WORDS = {"lobby": N_("has not started yet"), "running": N_("is running"), "paused": N_("is paused"),
                "closed": N_("has ended")}
FIELDS = {"text": N_("The text"), "seconds_per_turn": N_("Seconds per turn"), "seconds": N_("The time"), "due": N_("The date"),
          "score": N_("The answer"), "participant_id": N_("The person"), "item_id": N_("The item"), "phase_id": N_("The phase")}


def _doing(values: dict[str, Any]) -> str:
    return _(DOING.get(str(values.get("command", "")), DO_THAT))


def _status(values: dict[str, Any]) -> str:
    word = STATUS_WORDS.get(str(values.get("status", "")))
    return _(word) if word else str(values.get("status", ""))


# A refusal's reason (errors.py, docs/live-socket.md), as a person should read it: the
# reason and its values say what happened, so no English is parsed back here.
BY_REASON: dict[str, Callable[[dict[str, Any]], str]] = {
    # Translators: %(doing)s is one of the "what a command does" phrases, %(status)s one of the session's states.
    "wrong_status": lambda v: _("You cannot %(doing)s now: the session %(status)s.") % {
        "doing": _doing(v), "status": _status(v)},
    "round_running": lambda v: _("A round is running: finish it (Next turn) before you %(doing)s.") % {"doing": _doing(v)},
    "no_round": lambda v: _("No round is running: start a round, or give the turn to someone with a raised hand."),
    "no_time_to_share": lambda v: _("This phase has no time left to share: enter the seconds per turn, or add time to the phase."),
    "role_may_not_send": lambda v: _("That is not something your page can do."),
    "possible_identifier": lambda v: _("This looks like it may contain %(found)s.") % {"found": _found(v.get("found", []))},
    # Who facilitates (app/facilitation/cofacilitation.py).
    "lead_only": lambda v: _("Only the facilitator who is leading can %(doing)s.") % {"doing": _doing(v)},
    "host_only": lambda v: _("Only the session's own facilitator can %(doing)s.") % {"doing": _doing(v)},
    "host_or_lead_only": lambda v: _(
        "Only the session's own facilitator, or the lead they handed it to, can %(doing)s.") % {"doing": _doing(v)},
    "cofacilitator_cap": lambda v: _("A session has at most %(limit)s co-facilitators: revoke one first.") % {
        "limit": v.get("limit", "")},
    "not_a_member": lambda v: _("%(name)s is not a member of the group yet.") % {"name": v.get("name", "")},
    # The summary's proposals (consent.py), carried actions (carry.py), the evaluation, the lobby's phases.
    "proposal_cap": lambda v: _("This session holds as many proposals as it can (%(limit)s).") % {"limit": v.get("limit", "")},
    "proposal_needs_text": lambda v: _("Write the text first."),
    "action_settled": lambda v: (_("That action is marked done: mark it still going to carry it on.")
                                 if v.get("status") == "done" else
                                 _("That action is marked dropped: mark it still going to carry it on.")),
    "one_score_each": lambda v: _("Give one answer for each of the %(count)s statements.") % {"count": v.get("count", "")},
    "below_threshold": lambda v: _("%(count)s answered: with fewer than %(threshold)s the spread could tell who chose what.") % {
        "count": v.get("count", ""), "threshold": v.get("threshold", "")},
    "no_such_phase": lambda v: _("This format has no such phase."),
    "duration_out_of_range": lambda v: _("A phase lasts from 1 second to %(hours)s hours.") % {"hours": v.get("hours", "")},
    # Whatever was named is no longer here (the page was a moment out of date): one sentence for them all.
    **dict.fromkeys(("no_such_item", "no_such_proposal", "no_such_action", "no_such_participant",
                     "no_such_cofacilitator", "no_such_seat", "no_such_breakout", "no_such_knock"),
                    lambda v: _("That is no longer in this session.")),
    # Who may speak, and the room's fair shares and ceilings (engine.py, the shell's cap per person).
    "listens_only": lambda v: (_("%(name)s listens only in this phase and cannot take the floor.") % {"name": v["name"]}
                               if v.get("name") else _("In this phase the presenter listens: they do not take the floor.")),
    "participant_left": lambda v: _("%(name)s has left the session.") % {"name": v.get("name", "")},
    "has_a_phone": lambda v: _("%(name)s has a phone: they raise their own hand.") % {"name": v.get("name", "")},
    "nothing_to_reveal": lambda v: {"question": _("No question is waiting to be revealed."),
                                    "feedback": _("No feedback is waiting to be revealed.")}.get(
                                        str(v.get("kind")), _("Nothing is waiting to be revealed.")),
    "no_wellbeing_here": lambda v: _("There is no wellbeing scale in this phase."),
    "person_cap": lambda v: _("You have written as much as one person may here (%(limit)s).") % {"limit": v.get("limit", "")},
    "session_item_cap": lambda v: _("This session holds as many items as it can (%(limit)s).") % {"limit": v.get("limit", "")},
    "session_action_cap": lambda v: _("This session holds as many actions as it can (%(limit)s).") % {
        "limit": v.get("limit", "")},
    "content_ceiling": lambda v: _(
        "This session holds as much writing as it can show (%(kb)s KB): remove or shorten something first.") % {
        "kb": v.get("kb", "")},
    "screen_link_cap": lambda v: _("This session has %(limit)s extra screen links already: use one of them.") % {
        "limit": v.get("limit", "")},
    "participant_only": lambda v: _("Only a participant can do that."),
    "no_summary_here": lambda v: _("The screen has no summary to download: the facilitator and each participant have their own."),
    "unknown_command": lambda v: _("That is not something your page can do."),
    "not_handed_over": lambda v: _("The facilitation has not been handed to you."),
    # The door (knocks.py).
    "session_full": lambda v: _("This session is full: it admits %(limit)s people.") % {"limit": v.get("limit", "")},
    "room_open": lambda v: _("The room is open: join it."),
    "door_crowded": lambda v: _("%(limit)s people are already waiting to be let in: ask the facilitator.") % {
        "limit": v.get("limit", "")},
    # Breakout groups (breakouts.py).
    "group_done": lambda v: (_("Group %(group)s is done: it waits for the room.") % {"group": v["group"]}
                             if v.get("group") else _("Your group is done: wait for the room.")),
    "group_of_one": lambda v: (_("Moving %(name)s would leave group %(group)s with one person.") % {
        "name": v["name"], "group": v.get("group", "")} if v.get("name") else _("Every group needs at least two people.")),
    "no_breakout_phases": lambda v: _("This format has no phases for breakout groups."),
    "breakouts_running": lambda v: _("Breakout groups are running: choose a group, or bring the groups back to the room first."),
    "no_breakouts": lambda v: _("Breakout groups are not running."),
    "not_your_group": lambda v: _("You can act only in your own group."),
    "room_only": lambda v: _("That is for the whole room, not one group."),
    "split_repeats": lambda v: _("Someone is in two groups: put each person in one group."),
    "split_leaves_out": lambda v: _("Someone here is in no group: put everyone in a group."),
    # A recurring group: between meetings (between.py), the journal (journal.py), the rhythm (rhythm.py).
    "not_a_group": lambda v: _("This session is not part of a recurring group."),
    "unknown_member_code": lambda v: _("That member code does not belong to this group."),
    "organiser_only": lambda v: _("Only the group's organiser, or the member the rota names to facilitate next, can do this."),
    "text_empty": lambda v: _("Write something first."),
    "text_too_long": lambda v: _("That is too long (at most %(limit)s characters).") % {"limit": v.get("limit", "")},
    "no_agreement": lambda v: _("The group has no agreement yet."),
    "agreement_changed": lambda v: _("The agreement has changed since you read it: read it again."),
    "invalid_kind": lambda v: _("Choose a topic or a case."),
    "topic_cap": lambda v: _("The list holds at most %(limit)s: settle or withdraw some first.") % {"limit": v.get("limit", "")},
    "no_such_topic": lambda v: _("That topic or case is no longer on the list."),
    "not_your_topic": lambda v: _("Only its author can withdraw a topic or case."),
    "no_plan": lambda v: _("No case is settled for the next meeting."),
    "not_your_case": lambda v: _("Only the member who offered the case can consent to present it."),
    "no_such_entry": lambda v: _("That journal entry is no longer there."),
    "bring_cap": lambda v: _("At most %(limit)s entries can be brought to one check-in.") % {"limit": v.get("limit", "")},
    "bad_schedule": lambda v: _("That schedule cannot be kept: check its dates and times."),
    "no_meeting_that_day": lambda v: _("The schedule has no meeting on that date."),
    "no_schedule": lambda v: _("The group has no schedule yet."),
    # A session's format (formats.py): the start page.
    "unknown_format": lambda v: _("There is no such format."),
    "bad_duration": lambda v: _("A phase's time is out of range."),
    "two_formats": lambda v: _("Choose a built-in format or a format file, not both."),
    "bad_statements": lambda v: _("The evaluation statements cannot be used: at most 8, each 1 to 200 characters."),
}


def _found(kinds: list[str]) -> str:
    """The guard's "a phone number and a postcode", each thing in the viewer's language, listed as it lists."""
    labels = [_(KIND_LABELS[k]) for k in kinds if k in KIND_LABELS]
    return format_list(labels, locale=babel_locale(current())) if labels else ""


def plain(message: str, data: Any = None, reason: str | None = None, values: dict[str, Any] | None = None) -> str:
    """The refusal as a person should read it: a sentence, no command or field names."""
    values = values or {}
    worded = BY_REASON.get(reason or "")
    if worded is not None:
        return worded(values)
    if reason == "invalid_field":
        if str(values.get("field")) in FIELDS:
            return _field_problem(_(FIELDS[str(values["field"])]), values)
        return _("Something in that is not right: check it and try again.")
    if reason == "bad_format_file":  # what is wrong quotes the file: said as the file says it
        # Translators: %(problem)s is what is wrong with a format file, in English, as the format guide words it.
        return _("This format file cannot be used: %(problem)s.") % {"problem": message.removeprefix("invalid format file: ")}
    kind = data.get("type") if isinstance(data, dict) else None
    if kind and kind in message:
        message = message.replace(kind, DOING.get(kind, "that"))
    return _(refusal_sentence(message))  # the core's own sentences: extracted as this (app/pages/extract.py)


def _field_problem(field: str, values: dict[str, Any]) -> str:
    problem = values.get("problem")
    if problem == "empty":
        return _("%(field)s is empty: write something first.") % {"field": field}
    if problem == "too_long":
        if values.get("max_length") is not None:
            return _("%(field)s is too long (at most %(limit)s characters).") % {"field": field, "limit": values["max_length"]}
        return _("%(field)s is too long.") % {"field": field}
    if problem == "out_of_range":
        return _("%(field)s is out of range: enter a number from 1 to 3600.") % {"field": field}
    return _("%(field)s is not right: %(problem)s.") % {"field": field, "problem": _("check it and try again")}


# The reasons the pages' scripts meet over HTTP (between meetings, the journal, the rhythm):
# their sentences go to the page with the values left as %(name)s, for the script to fill in.
SCRIPT_REASONS = ("text_empty", "text_too_long", "no_agreement", "agreement_changed", "invalid_kind", "topic_cap",
                  "no_such_topic", "not_your_topic", "no_plan", "not_your_case", "no_such_entry", "bring_cap",
                  "bad_schedule", "no_meeting_that_day", "no_schedule", "unknown_member_code", "organiser_only",
                  "not_a_group", "participant_only")


class _Holes(dict[str, Any]):
    """Values that are their own placeholders: a sentence comes out with %(name)s left in it."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return f"%({key})s"

    def __getitem__(self, key: str) -> str:
        return f"%({key})s"


def script_refusals() -> dict[str, str]:
    """Each of ``SCRIPT_REASONS`` as the page's language says it (files.js fills in the values)."""
    return {reason: BY_REASON[reason](_Holes()) for reason in SCRIPT_REASONS}
