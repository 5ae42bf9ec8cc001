"""People's names as the pages show them: a guest's name and the model's fallbacks in the
reader's language.

The engine names someone who joins without a name "Guest 3" (``engine.join``): that is what
the API and the downloads say. The pages show it as words (``i18n.Words``) that a template
writes in its reader's language ("Gwestai 3"), since one room model serves every viewer of a
state whatever their language.
"""

from __future__ import annotations

import re
from typing import Any

from app.pages.i18n import N_, Words

GUEST = re.compile(r"Guest (\d+)")
GUEST_WORDS = N_("Guest %(number)s")
SOMEONE = Words(N_("someone"))
LEFT = Words(N_("(left)"))
SOMEONE_WHO_LEFT = Words(N_("someone who left"))


def shown_name(name: Any) -> Any:
    """A participant's name as the pages show it: a guest's in the reader's language."""
    guest = GUEST.fullmatch(name) if type(name) is str else None
    return Words(GUEST_WORDS, number=int(guest.group(1))) if guest else name


def _any_guest(people: list[dict[str, Any]], me: dict[str, Any]) -> bool:
    return any(GUEST.fullmatch(p.get("name") or "") for p in people) or bool(GUEST.fullmatch(me.get("name") or ""))


def guests_named(view: dict[str, Any]) -> dict[str, Any]:
    """The view with each guest's name as words in the reader's language (a copy, only if needed),
    in the participants, the viewer's own ``me`` and the breakout groups' members."""
    people, me = view.get("participants") or [], view.get("me") or {}
    groups = [g for g in [view.get("breakout"), *(view.get("breakouts") or [])] if g]
    if not _any_guest(people, me) and not any(_any_guest(g.get("members") or [], {}) for g in groups):
        return view
    named = {**view, "participants": [{**p, "name": shown_name(p["name"])} for p in people]}
    if me.get("name"):
        named["me"] = {**me, "name": shown_name(me["name"])}
    if view.get("breakout"):
        named["breakout"] = _group_named(view["breakout"])
    if view.get("breakouts"):
        named["breakouts"] = [_group_named(g) for g in view["breakouts"]]
    return named


def _group_named(group: dict[str, Any]) -> dict[str, Any]:
    return {**group, "members": [{**m, "name": shown_name(m["name"])} for m in group.get("members") or []]}
