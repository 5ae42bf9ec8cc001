"""Plain words for the pages: a refusal the core words for programs, reworded for people.

The core's messages name commands and fields (``start_round``, ``confirmed``) because the
JSON API's callers are programs; a person tapping a button should read what happened and
what to do instead. One table per kind of message, so a new command needs one line here.
"""

from __future__ import annotations

import re
from typing import Any

# What a command does, as the end of "You cannot … now".
DOING = {
    "start": "start the session", "next_phase": "move to the next phase", "goto_phase": "go to that phase",
    "start_round": "start a round", "next_turn": "move to the next turn", "give_turn": "give the turn",
    "pause": "pause", "resume": "resume", "extend": "add time", "set_presenter": "choose the presenter",
    "reveal_items": "reveal what people wrote", "hide_item": "hide that", "remove_participant": "remove someone",
    "readmit_participant": "let someone back in", "close": "close the session", "leave": "leave",
    "raise_hand": "raise your hand", "lower_hand": "lower your hand", "pass": "pass", "undo_pass": "undo the pass",
    "yield_turn": "end your turn", "submit_item": "send that", "retract_item": "take that back",
    "vote_item": "vote", "add_action": "save an action", "edit_action": "change that action",
    "remove_action": "remove that action", "rate_wellbeing": "answer the wellbeing scale",
    "evaluate": "answer the evaluation", "show_evaluation": "show the spread",
    "request_word": "ask for a word", "withdraw_word": "take that back", "set_phases": "change the phases",
    "carry_action": "carry that action", "review_action": "mark that action",
    "propose_summary": "ask the group", "withdraw_proposal": "withdraw that", "consent": "answer that",
    "erase": "erase the session",
}
STATUS_WORDS = {"lobby": "has not started yet", "running": "is running", "paused": "is paused",
                "closed": "has ended"}
FIELDS = {"text": "The text", "seconds_per_turn": "Seconds per turn", "seconds": "The time", "due": "The date",
          "score": "The answer", "participant_id": "The person", "item_id": "The item", "phase_id": "The phase"}
# Whole messages with a command or field name in them, and how a person should read them.
REWORDED = [
    (re.compile(r"^a round is running: finish it \(next_turn\) before you (.+)$"),
     lambda m: f"A round is running: finish it (Next turn) before you {m[1]}."),
    (re.compile(r"^no round is running: .*"),
     lambda m: "No round is running: start a round, or give the turn to someone with a raised hand."),
    (re.compile(r"^this phase has no time left to share: .*"),
     lambda m: "This phase has no time left to share: enter the seconds per turn, or add time to the phase."),
    (re.compile(r"^a \w+ may not send .*"), lambda m: "That is not something your page can do."),
    (re.compile(r"^(This looks like it may contain .+?)\. Edit it .*"),
     lambda m: f"{m[1]}."),
]


def plain(message: str, data: Any = None) -> str:
    """The refusal as a person should read it: a sentence, no command or field names."""
    kind = data.get("type") if isinstance(data, dict) else None
    found = re.match(r"^cannot (\w+) while the session is (\w+)$", message)
    if found:
        doing = DOING.get(found[1], "do that")
        return f"You cannot {doing} now: the session {STATUS_WORDS.get(found[2], 'is ' + found[2])}."
    for pattern, reword in REWORDED:
        matched = pattern.match(message)
        if matched:
            return reword(matched)
    field = re.match(r"^(\w+): (.*)$", message)
    if field and field[1] in FIELDS:
        return _field_problem(FIELDS[field[1]], field[2])
    if kind and kind in message:
        message = message.replace(kind, DOING.get(kind, "that"))
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")


def _field_problem(field: str, problem: str) -> str:
    if "at least 1 character" in problem or "Field required" in problem:
        return f"{field} is empty: write something first."
    if "at most" in problem:
        limit = re.search(r"at most (\d+)", problem)
        return f"{field} is too long{f' (at most {limit[1]} characters)' if limit else ''}."
    if "greater than or equal" in problem or "less than or equal" in problem:
        return f"{field} is out of range: enter a number from 1 to 3600."
    return f"{field} is not right: {problem[:1].lower()}{problem[1:]}."
