"""The pages' words: a refusal worded for programs reads as a sentence for people."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.facilitation import commands, engine, guard
from app.facilitation.errors import FacilitationError
from app.facilitation.models import FACILITATOR, Actor, Fresh
from app.pages.view import plural
from app.pages.words import BY_REASON, plain
from tests.support.core import send, session
from tests.test_undo_and_purpose import in_round

INTERNAL = ("_", "confirmed", "force", "(next_turn)", "seconds_per_turn")


def refusal(state, command: dict, actor: Actor = FACILITATOR) -> str:
    with pytest.raises(FacilitationError) as caught:
        engine.apply(state, commands.parse_command(command), actor, 5.0, Fresh(id="x", secret="y"))
    return plain(caught.value.message, command, caught.value.reason, caught.value.values)


@pytest.mark.parametrize(("state", "command", "actor", "expected"), [
    (lambda: send(session(), {"type": "close"}), {"type": "submit_item", "kind": "question", "text": "Why?"},
     Actor(role="participant", participant_id="p0"), "You cannot send that now: the session has ended."),
    (in_round, {"type": "give_turn", "participant_id": "p1"}, FACILITATOR,
     "A round is running: finish it (Next turn) before you give the turn."),
    (lambda: send(session(), {"type": "start"}), {"type": "next_turn"}, FACILITATOR,
     "No round is running: start a round, or give the turn to someone with a raised hand."),
    (session, {"type": "raise_hand"}, Actor(role="participant", participant_id="p0"),
     "You cannot raise your hand now: the session has not started yet."),
])
def test_refusals_read_as_plain_sentences(state, command, actor, expected) -> None:
    assert refusal(state(), command, actor) == expected


def worded(exc: FacilitationError, data: dict) -> str:
    return plain(exc.message, data, exc.reason, exc.values)


def test_the_guards_warning_names_no_field() -> None:
    with pytest.raises(FacilitationError) as caught:
        guard.require_confirmed("Call 07700 900123 or write to SW1A 1AA", False)
    assert caught.value.reason == "possible_identifier" and caught.value.values == {"found": ["phone", "postcode"]}
    said = worded(caught.value, {"type": "submit_item"})
    assert said == "This looks like it may contain a phone number and a postcode."
    assert not any(word in said for word in INTERNAL)


def test_a_field_problem_names_the_field_as_people_see_it() -> None:
    for command, expected in (
            ({"type": "add_action", "text": ""}, "The text is empty: write something first."),
            ({"type": "start_round", "seconds_per_turn": 5000}, "Seconds per turn is out of range: enter a number from 1 to 3600."),
            ({"type": "add_action", "text": "x" * 501}, "The text is too long (at most 500 characters).")):
        with pytest.raises(FacilitationError) as caught:
            commands.parse_command(command)
        assert caught.value.reason == "invalid_field" and caught.value.values["field"] in ("text", "seconds_per_turn")
        assert worded(caught.value, command) == expected


def test_counts_take_their_plural() -> None:
    assert [plural(n, "question") for n in (0, 1, 2)] == ["0 questions", "1 question", "2 questions"]
    assert plural(1, "person has", "people have") == "1 person has"
    assert plural(3, "piece", "pieces") == "3 pieces"


CORE = Path(__file__).resolve().parents[1] / "app" / "facilitation"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "live-socket.md"
REFUSALS = {"Conflict", "Invalid", "NotFound", "Forbidden", "Unauthorized", "RateLimited"}


def core_refusals(*modules: str) -> list[tuple[str, int, str | None, bool]]:
    """Each ``raise Conflict(...)`` of the core: (file, line, its reason or None, whether its message has values)."""
    found = []
    for path in sorted(CORE.glob("*.py")) if not modules else [CORE / f"{m}.py" for m in modules]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
                    and node.exc.func.id in REFUSALS):
                args = node.exc.args
                reason = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else None
                found.append((path.name, node.lineno, reason, bool(args) and isinstance(args[0], ast.JoinedStr)))
    return found


def test_every_reason_the_core_gives_is_listed_for_clients() -> None:
    table = "\n".join(line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("| `"))
    listed = set(re.findall(r"`([a-z_]+)`", table))
    missing = [(name, line, reason) for name, line, reason, _ in core_refusals() if reason and reason not in listed]
    assert missing == []


def test_refusals_of_the_summary_actions_cofacilitation_and_evaluation_say_why_in_the_readers_words() -> None:
    """Each names a reason of its own; where its message carries values (so it is no fixed
    sentence a catalog could hold), the pages word the reason instead."""
    found = core_refusals("consent", "carry", "cofacilitation", "evaluation")
    assert [f for f in found if f[2] is None] == []
    assert [f for f in found if f[3] and f[2] not in BY_REASON] == []


@pytest.mark.parametrize(("phases", "reason", "expected"), [
    ([{"id": "nowhere"}], "no_such_phase", "This format has no such phase."),
    ([{"id": "check-in"}, {"id": "check-in"}], "phase_repeated", "A phase may appear only once in the list."),
])
def test_the_lobbys_refusals_say_why(phases, reason, expected) -> None:
    command = {"type": "set_phases", "phases": phases}
    with pytest.raises(FacilitationError) as caught:
        engine.apply(session(), commands.parse_command(command), FACILITATOR, 1.0, Fresh(id="x", secret="y"))
    assert caught.value.reason == reason
    assert worded(caught.value, command) == expected


def test_a_refusal_about_who_leads_reads_as_a_sentence() -> None:
    state = send(session(), {"type": "invite_cofacilitator", "name": "Sam"})
    co = state.cofacilitators[0]
    said = refusal(state, {"type": "revoke_cofacilitator", "cofacilitator_id": co.id},
                   Actor(role="facilitator", seat=co.id))
    assert said == "Only the facilitator who is leading can revoke that console link."


# Reasons ``plain`` words itself (the field named, or the format file's own words).
WORDED_BY_PLAIN = {"invalid_field", "bad_format_file", "possible_identifier"}


def test_every_refusal_with_values_in_its_message_is_worded_from_its_reason() -> None:
    """A message with values in it is no fixed sentence a catalog could hold: without words
    for its reason, a page in any language would show it in English."""
    found = core_refusals()
    assert [f for f in found if f[3] and f[2] not in BY_REASON and f[2] not in WORDED_BY_PLAIN] == []


def test_between_meetings_the_journal_the_rhythm_and_the_door_refuse_with_reasons_of_their_own() -> None:
    found = core_refusals("between", "journal", "rhythm", "knocks", "breakouts", "formats", "recovery")
    assert [f for f in found if f[2] is None] == []
    table = "\n".join(line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("| `"))
    listed = set(re.findall(r"`([a-z_]+)`", table))
    assert sorted(set(BY_REASON) - listed) == []  # every reason a page words is listed for clients


@pytest.mark.parametrize(("reason", "values", "expected"), [
    ("listens_only", {"name": "Ana"}, "Ana listens only in this phase and cannot take the floor."),
    ("session_full", {"limit": 2}, "This session is full: it admits 2 people."),
    ("person_cap", {"limit": 20}, "You have written as much as one person may here (20)."),
    ("content_ceiling", {"kb": 256}, "This session holds as much writing as it can show (256 KB): remove or shorten something first."),
    ("group_done", {"group": 2}, "Group 2 is done: it waits for the room."),
    ("topic_cap", {"limit": 50}, "The list holds at most 50: settle or withdraw some first."),
    ("bring_cap", {"limit": 3}, "At most 3 entries can be brought to one check-in."),
])
def test_a_refusal_with_values_reads_as_a_sentence(reason, values, expected) -> None:
    assert plain("the English message", None, reason, values) == expected


def test_the_scripts_refusal_words_are_in_the_pages_language_with_their_values_left_to_fill() -> None:
    """The meetings page, the join and the door say an HTTP refusal from its reason: the page
    brings each sentence in its language, %(name)s left for the script to fill in."""
    from app.pages import i18n
    from app.pages.words import SCRIPT_REASONS, script_refusals

    with i18n.speaking("en"):
        english = script_refusals()
    assert set(english) == set(SCRIPT_REASONS) and "%(limit)s" in english["topic_cap"]
    for lang in ("cy", "pl"):
        with i18n.speaking(lang):
            said = script_refusals()
        assert all(said[r] != english[r] for r in SCRIPT_REASONS), lang
        assert "%(limit)s" in said["topic_cap"] and "%(limit)s" in said["bring_cap"], lang
