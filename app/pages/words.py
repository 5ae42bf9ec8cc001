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
                     "no_such_cofacilitator", "no_such_seat"), lambda v: _("That is no longer in this session.")),
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
    if reason == "invalid_field" and str(values.get("field")) in FIELDS:
        return _field_problem(_(FIELDS[str(values["field"])]), values)
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
