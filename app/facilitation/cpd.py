"""A member's own CPD record: what they did at each meeting of their group, laid out under
the NMC's reflective account headings and Social Work England's CPD headings.

The rules, all here:

- at close, each member who took part (joined with their member code and was not removed)
  gets one entry (``entries_at_close``): the date, the format, the minutes, their role
  (presenter or member), their own actions (and whether they carried them on), how the
  actions they carried in went, and, added by the shell, their own reflection;
- nothing anonymous is in it: no items, no evaluation answer, no wellbeing answer, no
  share of voice, nobody else's name or action;
- the entry's id is a salted hash the session's secret alone yields, so a later change to
  the same closed session replaces that member's entry rather than adding one;
- the shell seals every entry to the member's own key (see ``realtime.sealing``): the server
  keeps of it only what the member's code unseals.

Headings followed (see docs/groups.md, "A member's CPD record"): the NMC's reflective
accounts form as in "How to revalidate with the NMC" (the form's four questions, as
updated in 2019), and the guiding questions of Social Work England's online CPD record as
its renewal periods of 2023 and 2024 ask them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .formats import is_one_to_one
from .models import SessionState
from .reflection import PROMPTS
from .transition import salted_hash

MAX_ENTRIES = 500  # per member; the oldest go first

NMC_THEMES = ("Prioritise people", "Practise effectively", "Preserve safety", "Promote professionalism and trust")
NMC_HEADINGS = (
    ("nature", "What was the nature of the CPD activity, feedback, or event or experience in your practice?"),
    ("learned", "What did you learn from the CPD activity, feedback, or event or experience in your practice?"),
    ("changed", "How did you change or improve your practice as a result?"),
    ("code", "How is this relevant to the Code?"),
)
SWE_HEADINGS = (
    ("type", "Type of CPD"),
    ("description", "Describe the activity and why it is relevant to you"),
    ("learned", "What did you learn from the activity?"),
    ("impact", "What impact has it had, or will it have, on your practice and the people you work with?"),
    ("peer", "Peer reflection: what did you learn from discussing it with others?"),
)
STATUS = {"open": "not reviewed", "done": "done", "going": "still going", "dropped": "dropped"}
REFLECTION_KEYS = tuple(key for key, _, _ in PROMPTS)


def entries_at_close(state: SessionState) -> dict[str, dict[str, Any]]:
    """Per member who took part, their entry (without the reflection, which the shell adds)."""
    assert state.closed_at is not None
    one_to_one = is_one_to_one(state.format)
    started = state.phase_log[0].entered_at if state.phase_log else state.closed_at
    minutes = round(max(0.0, state.closed_at - started) / 60)
    entries: dict[str, dict[str, Any]] = {}
    for person in state.participants:
        if person.member_id is None or person.removed:
            continue
        entries[person.member_id] = {
            "id": salted_hash(state.salt, f"cpd|{person.member_id}")[:16],
            "at": state.closed_at,
            "format": state.format.title,
            "one_to_one": one_to_one,
            "minutes": minutes,
            "role": "presenter" if state.presenter_id == person.id else "member",
            "actions": [{"text": a.text, "due": a.due, "carried": a.carry}
                        for a in state.actions if a.participant_id == person.id],
            "reviewed": [{"text": a.text, "due": a.due, "status": a.status} for a in person.carried_in],
        }
    return entries


def _date(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d")


def _paragraphs(*texts: str) -> list[str]:
    return [t.strip() for t in texts if t and t.strip()]


def laid_out(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry as the download shows it: attendance, actions, and the two sets of headings."""
    r = {key: (entry.get("reflection") or {}).get(key, "") for key in REFLECTION_KEYS}
    kind = "one-to-one reflective session" if entry.get("one_to_one") else "reflective practice group"
    activity = (f"A {kind} ({entry['format']}), {entry['minutes']} minutes, "
                f"as {'the presenter' if entry['role'] == 'presenter' else 'a member'}.")
    planned = [f"I planned: {a['text']}" + (f" (by {a['due']})" if a["due"] else "") for a in entry["actions"]]
    went = [f"Last time I planned: {a['text']}. How it went: {STATUS.get(a['status'], a['status'])}."
            for a in entry["reviewed"]]
    nmc = {
        "nature": _paragraphs(activity, r["description"]),
        "learned": _paragraphs(r["feelings"], r["evaluation"], r["analysis"]),
        "changed": _paragraphs(r["conclusion"], r["action_plan"], *went, *planned),
        "code": [],  # the member chooses the themes: the record cannot know them
    }
    swe = {
        "type": ["Peer reflection: one-to-one supervision or mentoring" if entry.get("one_to_one")
                 else "Peer reflection: a reflective practice group (group supervision)"],
        "description": _paragraphs(activity, r["description"]),
        "learned": _paragraphs(r["analysis"], r["conclusion"]),
        "impact": _paragraphs(r["action_plan"], *went, *planned),
        "peer": _paragraphs(r["feelings"], r["evaluation"]),
    }
    return {
        "id": entry["id"], "date": _date(entry["at"]), "format": entry["format"], "minutes": entry["minutes"],
        "role": entry["role"], "one_to_one": bool(entry.get("one_to_one")),
        "actions": entry["actions"], "reviewed": [{**a, "status_words": STATUS.get(a["status"], a["status"])}
                                                  for a in entry["reviewed"]],
        "nmc": [{"key": key, "heading": heading, "paragraphs": nmc[key]} for key, heading in NMC_HEADINGS],
        "swe": [{"key": key, "heading": heading, "paragraphs": swe[key]} for key, heading in SWE_HEADINGS],
    }


def record_of(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The member's whole record, oldest meeting first."""
    shown = [laid_out(e) for e in sorted(entries, key=lambda e: e["at"])]
    return {"entries": shown, "minutes": sum(e["minutes"] for e in shown), "themes": NMC_THEMES}


def to_markdown(rec: dict[str, Any]) -> str:
    lines = ["# My CPD record", "",
             "Kept by Talking Piece for me alone, opened with my member code. It names no one else.", "",
             "## Attendance", ""]
    if not rec["entries"]:
        lines += ["No meeting recorded yet.", ""]
        return "\n".join(lines)
    lines += ["| Date | Format | Minutes | Role |", "|---|---|---|---|"]
    lines += [f"| {e['date']} | {e['format']} | {e['minutes']} | {e['role']} |" for e in rec["entries"]]
    lines += ["", f"In all: {len(rec['entries'])} meetings, {rec['minutes']} minutes.", ""]
    for e in rec["entries"]:
        lines += [f"## {e['date']}: {e['format']}", "", f"- Minutes: {e['minutes']}", f"- My role: {e['role']}", ""]
        lines += ["### My actions", ""]
        lines += [f"- {a['text']}" + (f" (by {a['due']})" if a["due"] else "") + (" (carried to the next meeting)"
                                                                               if a["carried"] else "")
                  for a in e["actions"]] or ["- None recorded"]
        if e["reviewed"]:
            lines += ["", "### How my earlier actions went", ""]
            lines += [f"- {a['text']}: {a['status_words']}" for a in e["reviewed"]]
        lines += ["", "### NMC reflective account", ""]
        for h in e["nmc"]:
            lines += [f"**{h['heading']}**", ""]
            if h["key"] == "code":
                lines += ["_Choose one or more themes of the Code: " + ", ".join(rec["themes"]) + "._", ""]
            else:
                lines += (h["paragraphs"] or ["_Not written._"]) + [""]
        lines += ["### Social Work England CPD record", ""]
        for h in e["swe"]:
            lines += [f"**{h['heading']}**", ""] + (h["paragraphs"] or ["_Not written._"]) + [""]
    return "\n".join(lines)
