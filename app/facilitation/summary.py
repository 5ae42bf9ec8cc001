"""The session summary: what the group agreed may leave the room, and nothing else.

It holds the date, the format, the phases with the times they actually ran, how evenly
the floor was shared (no names unless the group agreed to a ``names`` proposal), and the
proposals no one objected to. A participant's own download adds their own actions (and
how the ones they carried in went); nobody else's actions appear in anybody's summary,
except in a one-to-one, where the two people's copies share the actions they agreed.

Pure like the rest of the core: the shell renders the dict as Markdown (``to_markdown``)
or through a template for the print page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .consent import agreed, names_agreed
from .durations import minutes_seconds
from .engine import spoken_now
from .errors import Forbidden
from .formats import is_one_to_one
from .markdown import inline as md
from .models import Actor, SessionState

KIND_TITLES = {"theme": "Themes", "item": "Questions and feedback the group shared",
               "change": "Practice or policy changes to raise"}


def _utc(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%H:%M")


def gini(values: list[float]) -> float:
    """0 when everyone had the same time, towards 1 when one person had it all."""
    n, total = len(values), sum(values)
    if n == 0 or total <= 0:
        return 0.0
    diffs = sum(abs(a - b) for a in values for b in values)
    return diffs / (2 * n * total)


def share_of_voice(state: SessionState, now: float) -> dict[str, Any]:
    """Evenness (1 - Gini) and one bar per person, largest first; names only by consent."""
    people = [p for p in state.participants if not p.removed]
    named = names_agreed(state)
    spoken = [(p.name, round(spoken_now(state, p, now), 1)) for p in people]
    total = sum(s for _, s in spoken)
    bars = sorted(({"name": name if named else None, "spoken_s": s,
                    "share": round(s / total, 3) if total > 0 else 0.0} for name, s in spoken),
                  key=lambda b: (-b["spoken_s"], b["name"] or ""))
    return {
        "people": len(people),
        "total_s": round(total, 1),
        "evenness": round(1 - gini([s for _, s in spoken]), 2) if total > 0 else None,
        "fair_share": round(1 / len(people), 3) if people else None,
        "named": named,
        "bars": bars,
    }


def phases_run(state: SessionState) -> list[dict[str, Any]]:
    titles = {p.id: (p.title, p.duration_s) for p in state.format.phases}
    rows = []
    for visit in state.phase_log:
        title, planned = titles.get(visit.phase_id, (visit.phase_id, None))
        actual = None if visit.left_at is None else round(visit.left_at - visit.entered_at)
        rows.append({"id": visit.phase_id, "title": title, "planned_s": planned, "entered_at": visit.entered_at,
                     "left_at": visit.left_at, "started": _utc(visit.entered_at), "ended": _utc(visit.left_at),
                     "actual_s": actual})
    return rows


def summary(state: SessionState, now: float, participant_id: str | None = None) -> dict[str, Any]:
    """The summary for the facilitator, or (with ``participant_id``) that person's own copy."""
    lines = agreed(state)
    record: dict[str, Any] = {
        "title": state.title,
        "date": datetime.fromtimestamp(state.created_at, tz=timezone.utc).date().isoformat(),
        "created_at": state.created_at,  # the print page writes the day in the reader's own time zone
        "format": state.format.title,
        "status": state.status.value,
        "closed_at": state.closed_at,
        "phases": phases_run(state),
        "share_of_voice": share_of_voice(state, now),
        "agreed": [{"kind": kind, "title": title, "lines": [p.text for p in lines if p.kind == kind]}
                   for kind, title in KIND_TITLES.items() if any(p.kind == kind for p in lines)],
        "left_out": len(state.proposals) - len(lines),  # a count only: not what, not why
    }
    if participant_id is not None and is_one_to_one(state.format):
        # A one-to-one's shared record: both people's agreed actions, in both their copies
        # (the session admits no third person); never in the console's copy.
        record["agreed_actions"] = [{"text": a.text, "due": a.due, "carry": a.carry} for a in state.actions]
    if participant_id is not None:
        me = state.participant(participant_id)
        record["my_actions"] = [{"text": a.text, "due": a.due, "carry": a.carry}
                                for a in state.actions if a.participant_id == participant_id]
        record["my_carried_in"] = [{"text": a.text, "due": a.due, "status": a.status, "carry": a.carry}
                                   for a in (me.carried_in if me else ())]
    return record


def summary_for(state: SessionState, actor: Actor, now: float) -> dict[str, Any]:
    """The summary this actor may download: the facilitator's, or a participant's own copy."""
    if actor.role == "facilitator":
        return summary(state, now)
    if actor.role == "participant":
        return summary(state, now, participant_id=actor.participant_id)
    raise Forbidden("the screen has no summary to download: the facilitator and each participant have theirs",
                        "no_summary_here")


STATUS_WORDS = {"open": "not reviewed", "done": "done", "going": "still going", "dropped": "dropped"}


def _same(text: str) -> str:
    return text


def to_markdown(record: dict[str, Any], _: Callable[[str], str] = _same) -> str:
    """The summary as Markdown; ``_`` gives each message in the reader's language (the pages'
    gettext; English by default). The core has no catalogs: its words are extracted from here.
    What people and the format file wrote renders as written (``markdown.inline``)."""
    lines = [f"# {md(record['title'])}", "", _("- Date: %(date)s") % {"date": record["date"]},
             _("- Format: %(format)s") % {"format": md(_(record["format"]))}, ""]
    lines += [_("## Phases"), "", _("| phase | started (UTC) | ended (UTC) | planned | actual |"), "|---|---|---|---|---|"]
    lines += [f"| {md(_(p['title']))} | {p['started'] or '-'} | {p['ended'] or '-'} | "
              f"{minutes_seconds(p['planned_s'])} | "
              f"{minutes_seconds(p['actual_s'])} |" for p in record["phases"]] or [_("| (not started) | | | | |")]
    voice = record["share_of_voice"]
    lines += ["", _("## Share of voice"), ""]
    if voice["evenness"] is None:
        lines.append(_("Nobody held the floor."))
    else:
        lines.append(_("Evenness %(evenness)s (1.00 = everyone had the same time), %(people)s people, %(total)s in all.")
                     % {"evenness": f"{voice['evenness']:.2f}", "people": voice["people"],
                        "total": minutes_seconds(voice["total_s"])})
        lines.append("")
        for i, bar in enumerate(voice["bars"], 1):  # largest first; numbered, not named, unless agreed
            label = f"{md(bar['name'])}: " if bar["name"] else ""
            lines.append(f"{i}. {label}{'█' * round(bar['share'] * 40)} {bar['share'] * 100:.0f}%")
    lines += ["", _("## Agreed by the group"), ""]
    if not record["agreed"]:
        lines.append(_("Nothing was agreed for sharing."))
    for group in record["agreed"]:
        lines += [f"### {md(_(group['title']))}", ""] + [f"- {md(text)}" for text in group["lines"]] + [""]
    if "agreed_actions" in record:
        lines += ["", _("## Agreed actions, and when we come back to them"), ""]
        lines += [f"- {md(a['text'])}" + (" " + _("(by %(due)s)") % {"due": md(a["due"])} if a["due"] else "")
                  + (" — " + _("carried to our next session") if a["carry"] else "")
                  for a in record["agreed_actions"]] or [_("- None agreed")]
    if "my_actions" in record:
        lines += ["", _("## My actions"), ""]
        lines += [f"- {md(a['text'])}" + (" " + _("(by %(due)s)") % {"due": md(a["due"])} if a["due"] else "")
                  + (" — " + _("carried to the next session") if a["carry"] else "") for a in record["my_actions"]] \
            or [_("- None recorded")]
        if record["my_carried_in"]:
            lines += ["", _("## How last time's actions went"), ""]
            lines += [f"- {md(a['text'])}: {_(STATUS_WORDS[a['status']])}" for a in record["my_carried_in"]]
    return "\n".join(lines).rstrip() + "\n"
