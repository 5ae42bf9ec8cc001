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


def _guest(name: Any) -> bool:
    return type(name) is str and GUEST.fullmatch(name) is not None


def _named(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**p, "name": shown_name(p["name"])} if _guest(p.get("name")) else p for p in people]


def guests_named(view: dict[str, Any]) -> dict[str, Any]:
    """The view with each guest's name as words in the reader's language (a copy, only if any
    guest is in it): the participants, the viewer's own name, the word requests they see and
    the breakout groups' members."""
    if not any(_guest(p["name"]) for p in view.get("participants") or ()):
        return view
    named = {**view, "participants": _named(view["participants"])}
    me = view.get("me")
    if me:
        named["me"] = {**me, "name": shown_name(me["name"])} if "name" in me else dict(me)
        if me.get("word_requests"):
            named["me"]["word_requests"] = _named(me["word_requests"])
    if view.get("breakout"):
        named["breakout"] = _group_named(view["breakout"])
    if view.get("breakouts"):
        named["breakouts"] = [_group_named(g) for g in view["breakouts"]]
    return named


def me_named(me: dict[str, Any]) -> dict[str, Any]:
    """A viewer's own part of the view (``me``) as ``guests_named`` names it, for a view whose
    shared part was named once for everyone: a guest's own name, and the word requests they see."""
    named = {**me, "name": shown_name(me["name"])} if _guest(me.get("name")) else me
    if me.get("word_requests") and any(_guest(p.get("name")) for p in me["word_requests"]):
        named = {**named, "word_requests": _named(me["word_requests"])}
    return named


def summary_named(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's print page with each guest's name (on the share-of-voice bars, when the
    group agreed to names) in the reader's language."""
    voice = summary.get("share_of_voice") or {}
    if not any(_guest(b.get("name")) for b in voice.get("bars") or ()):
        return summary
    return {**summary, "share_of_voice": {**voice, "bars": [{**b, "name": shown_name(b["name"])} for b in voice["bars"]]}}


def _group_named(group: dict[str, Any]) -> dict[str, Any]:
    return {**group, "members": _named(group.get("members") or [])}
