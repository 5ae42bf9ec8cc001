"""What the pages show, derived from a role's view dict (``facilitation.views``) and nothing else.

The templates stay free of arithmetic: names are looked up, clocks formatted, bars
measured and "whose turn / who is next" worked out here, once per render.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from app.facilitation.durations import minutes_seconds
from app.pages.breakouts import breakouts_model
from app.pages.i18n import N_
from app.pages.markup import escape
from app.pages.names import LEFT, SOMEONE, SOMEONE_WHO_LEFT, guests_named, me_named
from app.pages.safety import safety_model, safety_own

CHART_WIDTH = 320   # SVG user units for the share-of-voice bars (the SVG scales to its box)
BAR_HEIGHT = 22
BAR_GAP = 12

# The model carries English; the templates show it with _() in the viewer's language.
STATUS_LABELS = {"lobby": N_("Not started"), "running": N_("Running"), "paused": N_("Paused"), "closed": N_("Closed")}
# How long a closed session's content is kept before it is erased (the runtime passes its own).
DEFAULT_ERASE_AFTER_S = 24 * 3600.0
# What the screen projects, by purpose (besides the speaker, who always comes first).
SCREEN_FOCUS = {"feedback": "items", "actions": "actions", "questions": "queue", "discussion": "queue",
                "preparation": "prompt"}
# The words for the console's suggested next step; the step itself is the core's (``floor.suggest``).
NEXT_STEP = {
    "start": N_("Start the session when everyone is here."),
    "start_round": N_("Start the round: everyone gets the same time, in turn."),
    "next_turn": N_("Move the round on when the speaker has finished (Next turn)."),
    "give_presenter_floor": N_("Give the presenter the floor."),
    "choose_presenter": N_("Choose the presenter (Presenter, under People)."),
    "give_turn": N_("Give the turn to the first raised hand."),
    "wait_for_hands": N_("Wait for a raised hand."),
    "writing": N_("People write on their phones; reveal what they wrote when enough is waiting."),
    "actions": N_("People write their actions on their phones; they appear under Actions."),
    "preparation": N_("Quiet preparation: the time left is on the screen."),
    "start_breakouts": N_("Split the room into groups."),
    "groups_running": N_("The groups run on their own clocks."),
    "end_breakouts": N_("Every group is done: bring everyone back to the room."),
    "next_phase": N_("Move on to the next phase."),
    "close": N_("This is the last phase: close the session when you are done."),
}
# Steps that stand for no control and need no words while someone holds the floor.
QUIET_STEPS = {"none", "floor_held"}


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 question``, ``2 questions``; ``many`` for words that do not just take an s."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def clock_text(seconds: float) -> str:
    return minutes_seconds(seconds, countdown=True)


def spoken_text(seconds: float) -> str:
    return minutes_seconds(seconds)


def page_model(view: dict[str, Any], now: float, erase_after_s: float = DEFAULT_ERASE_AFTER_S) -> dict[str, Any]:
    """Everything a template needs about the room at ``now`` (session time stands still while paused)."""
    return viewer_model(view, room_model(view, now, erase_after_s))


def room_model(view: dict[str, Any], now: float, erase_after_s: float = DEFAULT_ERASE_AFTER_S) -> dict[str, Any]:
    """The part of the page model that is the same for every viewer of one state at ``now``.

    Computed once per state and shared by every viewer's model (``viewer_model``), so it
    reads nothing of ``view["me"]``; the keys filled in per viewer are None here.
    """
    view = guests_named(view)
    status = view["status"]
    clock = view["paused_at"] if status == "paused" and view.get("paused_at") else now
    people = view["participants"]
    names = {p["id"]: p["name"] for p in people}
    turn = view["turn"]
    floor = None
    if turn is not None:
        remaining = max(0.0, turn["ends_at"] - clock)
        floor = {"id": turn["participant_id"], "name": names.get(turn["participant_id"], SOMEONE),
                 "ends_at": turn["ends_at"], "remaining": remaining, "text": clock_text(remaining),
                 "duration_s": turn["duration_s"], "source": turn["source"], "mine": False}
    phase = view["phase"]
    phase_info = None
    if phase is not None:
        spec = view["phases"][phase["index"]]
        remaining = max(0.0, phase["ends_at"] - clock)
        phase_info = {**phase, "title": spec["title"], "remaining": remaining, "text": clock_text(remaining),
                      # Past its planned time: console, screen and phones say so, and the console suggests moving on.
                      "overtime": status == "running" and clock >= phase["ends_at"],
                      "number": phase["index"] + 1, "count": len(view["phases"]),
                      "purpose": spec.get("purpose") or "round", "prompt": spec.get("prompt", "")}
    purpose = phase_info["purpose"] if phase_info else None
    suggested = view.get("next_step") or {"step": "none", "command": None}
    if phase_info and phase_info["overtime"] and suggested.get("overtime"):
        suggested = suggested["overtime"]
    closed_at = view.get("closed_at")
    return {
        "v": None,
        "status": status,
        "anonymous_writing": view.get("anonymous_writing", True),
        "one_to_one": view.get("one_to_one", False),  # two people: none of a group's furniture
        "status_label": STATUS_LABELS.get(status, status),
        "paused": status == "paused",
        "names": names,
        "floor": floor,
        # Whether the presenter holds the floor: the console's controls read only this of who speaks,
        # so a round's turn changes leave them alone.
        "presenter_speaking": floor is not None and floor["id"] == view.get("presenter_id"),
        "phase": phase_info,
        "timeline": _timeline(view),
        "round": _round(view, names),
        "queue": [{"id": pid, "name": names.get(pid, SOMEONE_WHO_LEFT), "spoken": spoken_text(_spoken(people, pid))}
                  for pid in view["queue"]],
        "voice": _voice(people),
        "people": people,
        "present": [p for p in people if p["present"]],
        "me": None,
        "my": None,
        "purpose": purpose,
        "focus": None,
        "screen_focus": "closed" if status == "closed" else "lobby" if status == "lobby"
                        else "floor" if floor else SCREEN_FOCUS.get(purpose or "", "phase"),
        "next_step": NEXT_STEP.get(suggested["step"], "") if suggested["step"] not in QUIET_STEPS else "",
        # The control the suggestion stands for: the console highlights the button sending this command.
        "suggested": (suggested.get("command") or {}).get("type"),
        "erase_at": closed_at + erase_after_s if status == "closed" and closed_at else None,
        "previous_phase": view["phases"][phase["index"] - 1] if phase and phase["index"] > 0 else None,
        "revealed": {"question": [i for i in view["items"] if i["kind"] == "question"],
                     "feedback": [i for i in view["items"] if i["kind"] == "feedback"]},
        "pending": view["pending"],
        "threshold": view.get("settings", {}).get("reveal_threshold", 3),
        "actions": [{**a, "name": names.get(a["participant_id"], "")} for a in view["actions"]],
        "safety": None,
        "breakouts": breakouts_model(view, clock),
        "server_time": now,
    }


def viewer_model(view: dict[str, Any], room: dict[str, Any]) -> dict[str, Any]:
    """One viewer's whole page model (a page rendered afresh): the room's, with what depends on
    who is looking. The pages' socket makes only the viewer's own part (``viewer_own``)."""
    view = guests_named(view)
    return {**room, "v": view, **_own(view, view.get("me", {}), room, safety_model(view))}


def viewer_own(me: dict[str, Any], room: dict[str, Any], audience: dict[str, Any]) -> dict[str, Any]:
    """What a viewer's model holds beyond its audience's: ``me``, ``my``, ``focus``, the floor
    as this viewer sees it (``mine``) and their safety, which are every region's own inputs
    (``regions.Region.own``). The pages' socket makes this alone for every phone at every
    change: the regions read everything else from the audience's model, so the room's model
    is not copied for each phone."""
    me = me_named(me)
    return _own(audience["v"], me, room, {**audience["safety"], **safety_own(me)})


def _own(view: dict[str, Any], me: dict[str, Any], room: dict[str, Any], safety: dict[str, Any]) -> dict[str, Any]:
    my_id = me.get("participant_id")
    floor = room["floor"]
    if floor is not None and my_id is not None and floor["id"] == my_id:
        floor = {**floor, "mine": True}
    my = _mine(view, me, my_id, room["names"], room["round"]) if my_id else None
    focus = _focus(room["status"], floor, my, room["purpose"])
    if my is not None:
        my["is"] = viewer_flags(my, floor, focus, room["server_time"])
    # Listening, a word afterwards, presenter, wellbeing, evaluation: in ``safety``.
    return {"me": me, "my": my, "focus": focus, "floor": floor, "safety": safety}


# Moments that leave the phone's glance quiet (no one speaking): it shows the phase's time left.
QUIET = ("write", "notes", "actions", "ballot", "wellbeing", "evaluation")


def viewer_flags(my: dict[str, Any], floor: dict[str, Any] | None, focus: str, now: float) -> str:
    """What is this phone's own, as the words its shared regions choose their parts by
    (``<t-when data-when="next !answering">``; web/static/viewer.js, regions.apply_viewer): my
    turn, up next, my hand, my ballot. The phone's own data alone: it is sent to this phone only."""
    turn = bool(floor and floor["mine"])
    undo = my["undo_until"]
    flags = [name for name, on in (
        ("gone", not my["present"]), ("turn", turn), ("next", my["up_next"] and not turn),
        ("answering", my["answering"]), ("second", my["second_chance"]), ("can-pass", my["can_pass"]),
        ("lowered", my["hand_lowered"] and not my["hand_raised"]), ("hand", my["hand_raised"]),
        ("queued", bool(my["queue_position"])), ("listening", my["listening"]),
        ("undo", bool(undo and undo > now)), ("quiet", not floor and focus in QUIET)) if on]
    return " ".join(flags + [f"voted-{item}" for item in sorted(my["voted"])])


def clock_region(m: dict[str, Any] | None) -> Markup:
    """Every live page's hidden ``clock`` region: the server's time and the state's version,
    which the countdowns and the benchmark read. Rendered for each audience at every change,
    so built here (the pages write it through this too), with no template to run."""
    time, version = (m["server_time"], m["v"]["version"]) if m else ("", "")
    return Markup(f'<div id="clock" hidden data-server-time="{escape(time)}" data-version="{escape(version)}"></div>')


def viewer_region(m: dict[str, Any] | None) -> Markup:
    """A phone's ``viewer`` region: its own data, which web/static/js/viewer.js applies to the
    regions every phone of the room shares (``regions.apply_viewer``, for the tests). phone.html
    writes it through this; the pages' socket builds it here, with no template to run, for each
    phone whose ``viewer_inputs`` moved since its last frame: a few escaped attributes."""
    return viewer_html(viewer_inputs(m))


def viewer_inputs(m: dict[str, Any] | None) -> tuple[Any, ...]:
    """Everything the ``viewer`` region shows, from a viewer's page model: compared at every
    change, so that the region is built only for the phones whose own moment moved."""
    my = m.get("my") if m else None
    if not my:
        return ("", "", "", m["focus"] if m else "", "", "")
    return (my["id"], my["name"], my["is"], m["focus"], my["queue_position"] or "", my["undo_until"] or "")


def viewer_html(values: tuple[Any, ...]) -> Markup:
    pid, name, flags, focus, queue, undo = values
    return Markup(f'<div id="viewer" hidden data-pid="{escape(pid)}" data-name="{escape(name)}" '
                  f'data-is="{escape(flags)}" data-focus="{escape(focus)}" data-queue="{escape(queue)}" '
                  f'data-undo="{escape(undo)}"></div>')


def _focus(status: str, floor: dict[str, Any] | None, my: dict[str, Any] | None, purpose: str | None) -> str:
    """The one thing this moment asks of the person holding this phone (the phone puts it first)."""
    if status == "closed":
        return status
    if my is not None and not my["present"]:
        return "left"  # in the lobby too: nothing more to send
    if status == "lobby":
        return status
    if my is None:
        return "floor"
    if floor and floor["mine"]:
        return "turn"
    if my["ballot_open"]:
        return "ballot"
    if my["wellbeing_due"] and status == "running":
        return "wellbeing"
    if my["evaluation_due"] and status == "running":
        return "evaluation"
    if purpose == "preparation":  # each writes their own challenge privately: notes only they can read
        return "notes"
    if purpose == "feedback":
        return "write"
    if purpose == "actions":
        return "actions"
    if purpose in ("questions", "discussion") and not my["listening"]:
        return "hand"
    return "floor"


def _spoken(people: list[dict[str, Any]], pid: str) -> float:
    return next((p["spoken_s"] for p in people if p["id"] == pid), 0.0)


def _timeline(view: dict[str, Any]) -> list[dict[str, Any]]:
    current = view["phase"]["index"] if view["phase"] else -1
    closed = view["status"] == "closed"
    return [{**p, "minutes": round(p["duration_s"] / 60, 1),
             "state": "done" if i < current or closed else "current" if i == current else "later"}
            for i, p in enumerate(view["phases"])]


def _round(view: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]] | None:
    """The round's order with each person's place, as the core decided it (``floor.places``):
    a second place for someone who passed is their second chance."""
    rnd = view["round"]
    if rnd is None:
        return None
    entries, seen = [], set()
    for entry in rnd["places"]:
        pid = entry["participant_id"]
        entries.append({"id": pid, "name": names.get(pid, LEFT), "state": entry["place"], "second": pid in seen})
        seen.add(pid)
    return entries


def _holds(view: dict[str, Any], pid: str) -> bool:
    turn = view["turn"]
    return turn is not None and turn["participant_id"] == pid


def _voice(people: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(p["spoken_s"] for p in people)
    top = max((p["spoken_s"] for p in people), default=0.0) or 1.0
    bars = []
    for i, p in enumerate(people):
        spoken = p["spoken_s"]
        share = spoken / total if total else 0.0
        said = spoken_text(spoken)
        bars.append({"name": p["name"], "y": i * (BAR_HEIGHT + BAR_GAP) + 18,
                     "width": round(max(2.0, CHART_WIDTH * spoken / top), 1) if spoken else 2,
                     "label": f"{said} ({round(share * 100)}%)", "spoken": said, "share": share,
                     "present": p["present"]})
    height = max(1, len(people)) * (BAR_HEIGHT + BAR_GAP) + 10
    return {"bars": bars, "width": CHART_WIDTH, "bar_height": BAR_HEIGHT, "height": height,
            "total": spoken_text(total)}


def _mine(view: dict[str, Any], me: dict[str, Any], my_id: str, names: dict[str, str],
          entries: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The phone's one-glance state: my turn, up next, or who has the floor (``entries``: the
    round's); ``view`` is the shared view, ``me`` the viewer's own part of it."""
    person = next((p for p in view["participants"] if p["id"] == my_id), None)
    rnd = view["round"]
    in_round = rnd is not None and my_id in rnd["order"]
    up_next = rnd is not None and rnd.get("next_id") == my_id and not _holds(view, my_id)
    turn = view["turn"]
    if me.get("answering") and turn is not None and turn["source"] == "queue" and turn["participant_id"] != my_id:
        up_next = True  # a question is being asked: the answer is mine next
    can_pass = False
    second_chance = False
    if in_round:
        mine = [e for e in entries or [] if e["id"] == my_id]
        can_pass = any(e["state"] in ("next", "waiting", "speaking", "second_chance") for e in mine)
        second_chance = any(e["second"] and e["state"] in ("next", "speaking", "second_chance") for e in mine)
    queue = view["queue"]
    return {
        "id": my_id,
        "name": me.get("name", ""),
        "hand_raised": bool(person and person["hand_raised"]),
        "queue_position": queue.index(my_id) + 1 if my_id in queue else None,
        "up_next": up_next or (not in_round and bool(queue) and queue[0] == my_id and view["turn"] is None),
        "can_pass": can_pass,
        "in_round": in_round,
        "second_chance": second_chance,  # I passed, and the round offers me the turn again at its end
        "answering": me.get("answering", False),  # I answer each question in this phase
        "hand_lowered": me.get("hand_lowered", False),  # the phase changed while my hand was up
        "listening": me.get("listening", False),
        "voted": set(me.get("voted_item_ids", [])),
        "actions": [a for a in view["actions"] if a["participant_id"] == my_id],
        "wellbeing_due": bool(view["phase"] and view["phase"].get("wellbeing")
                              and view["phase"]["id"] not in me.get("wellbeing_answered", [])),
        "evaluation_due": bool(me.get("evaluation_due")),
        "present": me.get("present", True),
        "undo_until": me.get("undo_pass_until"),
        "ballot_open": any(p["id"] not in me.get("consent_answered", []) for p in view.get("proposals", [])),
    }
