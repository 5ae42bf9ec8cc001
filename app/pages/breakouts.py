"""What the pages show of breakouts, derived from the view's ``breakout`` (a phone's own group)
and ``breakouts`` (every group, for the console and the screen). See app/web/templates/_breakouts.html."""

from __future__ import annotations

from typing import Any

from babel.lists import format_list

from app.facilitation.breakouts import group_count
from app.facilitation.durations import minutes_seconds
from app.pages.i18n import babel_locale, current, shown
from app.pages.names import SOMEONE_WHO_LEFT


def name_list(names: list[str]) -> str:
    """``Ana``, ``Ana and Ben``, ``Ana, Ben and Cleo``: listed as the viewer's language lists."""
    if len(names) <= 1:
        return "".join(shown(n) for n in names)
    locale = babel_locale(current())  # as Babel writes the dates: the language's own list (CLDR)
    return format_list([shown(n) for n in names], locale="en_GB" if locale.language == "en" else locale)  # English: no serial comma


def _card(group: dict[str, Any], clock: float) -> dict[str, Any]:
    names = {m["id"]: m["name"] for m in group["members"]}
    phase = group.get("phase")
    card: dict[str, Any] = {
        "id": group["id"], "number": group["number"], "done": group["done"],
        "members": group["members"],
        "names": [m["name"] for m in group["members"] if m["present"]],  # listed by the template (``names``)
        "rotation": group["rotation"], "rotations": group["rotations"],
        "presenter": names.get(group["presenter_id"] or "", ""),
        "speaker": names.get((group.get("turn") or {}).get("participant_id", ""), ""),
        "queue": [names.get(pid, SOMEONE_WHO_LEFT) for pid in group["queue"]],
        "phase": None, "notice": group.get("notice"),
    }
    if phase is not None:
        remaining = max(0.0, phase["ends_at"] - clock)
        card["phase"] = {"id": phase["id"], "title": phase["title"], "ends_at": phase["ends_at"],
                         "remaining": remaining, "text": minutes_seconds(remaining, countdown=True),
                         "step": group["step"] + 1, "steps": group["steps"]}
    for key in ("pending", "items", "proposals"):  # the console's: counts and ids, never a text
        if key in group:
            card[key] = group[key]
    return card


def breakouts_model(view: dict[str, Any], clock: float) -> dict[str, Any]:
    """``mine``: the phone's own group; ``groups``: every group's card; ``notice``: "two minutes left"."""
    mine = view.get("breakout")
    groups = view.get("breakouts")
    plan = view.get("breakout_plan")
    present = [p for p in view["participants"] if p["present"]]
    size = plan["size"] if plan else 3
    writes = any(p["breakout"] and p["kind"] == "writing" for p in view["phases"])
    count = group_count(len(present), size, avoid_pairs=writes)  # as the core splits
    return {
        # Splitting by hand: each present person's group, dealt round the groups to start with.
        "by_hand": [{"id": p["id"], "name": p["name"], "group": i % count + 1} for i, p in enumerate(present)]
                   if not groups and not mine else [],
        "numbers": list(range(1, max(2, len(present) // 2) + 1)),
        "running": bool(mine or groups),
        "plan": plan,
        "mine": _card(mine, clock) if mine else None,
        "groups": [_card(g, clock) for g in groups] if groups else [],
        "notice": view.get("breakouts_notice"),
    }
