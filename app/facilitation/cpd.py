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
from collections.abc import Callable
from typing import Any

from .formats import is_one_to_one
from .markdown import block
from .markdown import inline as md
from .models import SessionState
from .reflection import PROMPTS
from .transition import salted_hash

MAX_ENTRIES = 500  # per member; the oldest go first

# The words below are English; the catalogs carry them (babel.cfg names these tables), and the
# functions that lay the record out take the reader's gettext ``_`` and ``ngettext``.
NMC_THEMES = {"people": "Prioritise people", "practise": "Practise effectively", "safety": "Preserve safety",
              "trust": "Promote professionalism and trust"}
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
ROLES = {"presenter": "presenter", "member": "member"}
REFLECTION_KEYS = tuple(key for key, _, _ in PROMPTS)

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def _same(text: str) -> str:
    return text


def _english(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


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


day = _date


def _paragraphs(*texts: str) -> list[str]:
    return [t.strip() for t in texts if t and t.strip()]


def _activity(entry: dict[str, Any], _: Gettext, ngettext: Ngettext) -> str:
    """The meeting in one sentence: what it was, how long, and as whom."""
    words = {"format": _(entry["format"]), "minutes": entry["minutes"]}
    n = entry["minutes"]
    if entry.get("one_to_one"):
        if entry["role"] == "presenter":
            return ngettext("A one-to-one reflective session (%(format)s), %(minutes)s minute, as the presenter.",
                            "A one-to-one reflective session (%(format)s), %(minutes)s minutes, as the presenter.",
                            n) % words
        return ngettext("A one-to-one reflective session (%(format)s), %(minutes)s minute, as a member.",
                        "A one-to-one reflective session (%(format)s), %(minutes)s minutes, as a member.", n) % words
    if entry["role"] == "presenter":
        return ngettext("A reflective practice group (%(format)s), %(minutes)s minute, as the presenter.",
                        "A reflective practice group (%(format)s), %(minutes)s minutes, as the presenter.", n) % words
    return ngettext("A reflective practice group (%(format)s), %(minutes)s minute, as a member.",
                    "A reflective practice group (%(format)s), %(minutes)s minutes, as a member.", n) % words


def _planned(action: dict[str, Any], _: Gettext) -> str:
    if action["due"]:
        return _("I planned: %(text)s (by %(due)s)") % {"text": action["text"], "due": action["due"]}
    return _("I planned: %(text)s") % {"text": action["text"]}


def _status(status: str, _: Gettext) -> str:
    return _(STATUS[status]) if status in STATUS else status


def laid_out(entry: dict[str, Any], _: Gettext = _same, ngettext: Ngettext = _english) -> dict[str, Any]:
    """One entry as the download shows it: attendance, actions, and the two sets of headings,
    in the reader's words (``_`` and ``ngettext``; English by default)."""
    r = {key: (entry.get("reflection") or {}).get(key, "") for key in REFLECTION_KEYS}
    activity = _activity(entry, _, ngettext)
    planned = [_planned(a, _) for a in entry["actions"]]
    went = [_("Last time I planned: %(text)s. How it went: %(status)s.")
            % {"text": a["text"], "status": _status(a["status"], _)} for a in entry["reviewed"]]
    nmc = {
        "nature": _paragraphs(activity, r["description"]),
        "learned": _paragraphs(r["feelings"], r["evaluation"], r["analysis"]),
        "changed": _paragraphs(r["conclusion"], r["action_plan"], *went, *planned),
        "code": [],  # the member chooses the themes: the record cannot know them
    }
    swe = {
        "type": [_("Peer reflection: one-to-one supervision or mentoring") if entry.get("one_to_one")
                 else _("Peer reflection: a reflective practice group (group supervision)")],
        "description": _paragraphs(activity, r["description"]),
        "learned": _paragraphs(r["analysis"], r["conclusion"]),
        "impact": _paragraphs(r["action_plan"], *went, *planned),
        "peer": _paragraphs(r["feelings"], r["evaluation"]),
    }
    return {
        "id": entry["id"], "date": _date(entry["at"]), "at": entry["at"], "format": _(entry["format"]), "minutes": entry["minutes"],
        "role": entry["role"], "role_words": _(ROLES[entry["role"]]) if entry["role"] in ROLES else entry["role"],
        "one_to_one": bool(entry.get("one_to_one")),
        "actions": entry["actions"], "reviewed": [{**a, "status_words": _status(a["status"], _)}
                                                  for a in entry["reviewed"]],
        "nmc": [{"key": key, "heading": _(heading), "paragraphs": nmc[key]} for key, heading in NMC_HEADINGS],
        "swe": [{"key": key, "heading": _(heading), "paragraphs": swe[key]} for key, heading in SWE_HEADINGS],
    }


def record_of(entries: list[dict[str, Any]], _: Gettext = _same, ngettext: Ngettext = _english) -> dict[str, Any]:
    """The member's whole record, oldest meeting first, in the reader's words (English by default)."""
    shown = [laid_out(e, _, ngettext) for e in sorted(entries, key=lambda e: e["at"])]
    return {"entries": shown, "minutes": sum(e["minutes"] for e in shown),
            "themes": [_(theme) for theme in NMC_THEMES.values()]}


def _in_all(rec: dict[str, Any], _: Gettext, ngettext: Ngettext) -> str:
    """"In all: 3 meetings, 90 minutes." (each count with its own plural)."""
    n = len(rec["entries"])
    meetings = ngettext("%(meetings)s meeting", "%(meetings)s meetings", n) % {"meetings": n}
    minutes = ngettext("%(minutes)s minute", "%(minutes)s minutes", rec["minutes"]) % {"minutes": rec["minutes"]}
    return _("In all: %(meetings)s, %(minutes)s.") % {"meetings": meetings, "minutes": minutes}


def to_markdown(rec: dict[str, Any], _: Gettext = _same, ngettext: Ngettext = _english) -> str:
    """The record as a Markdown file. ``rec`` is laid out (``record_of``) in the same words; what the
    member and the format file wrote renders as written (``app.facilitation.markdown``)."""
    lines = [_("# My CPD record"), ""]
    if rec.get("group"):
        lines += [_("Group: %(name)s") % {"name": md(rec["group"])}, ""]
    lines += [_("Kept by Talking Piece for me alone, opened with my member code. It names no one else."), "",
              _("## Attendance"), ""]
    if not rec["entries"]:
        lines += [_("No meeting recorded yet."), ""]
        return "\n".join(lines + _journal(rec, _))
    lines += [_("| Date | Format | Minutes | Role |"), "|---|---|---|---|"]
    lines += [f"| {e['date']} | {md(e['format'])} | {e['minutes']} | {e['role_words']} |" for e in rec["entries"]]
    lines += ["", _in_all(rec, _, ngettext), ""]
    for e in rec["entries"]:
        lines += [f"## {e['date']}: {md(e['format'])}", "", _("- Minutes: %(minutes)s") % {"minutes": e["minutes"]},
                  _("- My role: %(role)s") % {"role": e["role_words"]}, ""]
        lines += [_("### My actions"), ""]
        lines += [f"- {md(_action(a, _))}" for a in e["actions"]] or [_("- None recorded")]
        if e["reviewed"]:
            lines += ["", _("### How my earlier actions went"), ""]
            lines += [_("- %(text)s: %(status)s") % {"text": md(a["text"]), "status": a["status_words"]}
                      for a in e["reviewed"]]
        lines += ["", _("### NMC reflective account"), ""]
        for h in e["nmc"]:
            lines += [f"**{h['heading']}**", ""]
            if h["key"] == "code":
                lines += ["_" + _("Choose one or more themes of the Code: %(themes)s.")
                          % {"themes": ", ".join(rec["themes"])} + "_", ""]
            else:
                lines += ([block(p) for p in h["paragraphs"]] or ["_" + _("Not written.") + "_"]) + [""]
        lines += [_("### Social Work England CPD record"), ""]
        for h in e["swe"]:
            written = [block(p) for p in h["paragraphs"]]
            lines += [f"**{h['heading']}**", ""] + (written or ["_" + _("Not written.") + "_"]) + [""]
    return "\n".join(lines + _journal(rec, _))


def _journal(rec: dict[str, Any], _: Gettext) -> list[str]:
    """The journal entries I chose to add to my CPD record, each under its date."""
    if not rec.get("journal"):
        return []
    lines = [_("## From my journal"), ""]
    for note in rec["journal"]:
        lines += [f"**{note['date']}**", "", block(note["text"]), ""]
    return lines


def _action(a: dict[str, Any], _: Gettext) -> str:
    """One of my actions, with its date and whether it goes on to the next meeting."""
    words = {"text": a["text"], "due": a["due"]}
    if a["due"] and a["carried"]:
        return _("%(text)s (by %(due)s) (carried to the next meeting)") % words
    if a["due"]:
        return _("%(text)s (by %(due)s)") % words
    if a["carried"]:
        return _("%(text)s (carried to the next meeting)") % words
    return a["text"]
