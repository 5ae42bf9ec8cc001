"""A member's private journal between meetings.

The rules, all here:

- the shell seals each entry to the member's own key (like their CPD record): the group
  keeps ciphertext, when it was written and two choices the member made, nothing it can read;
- prompts come from what is the member's own: "How did … go?" for each action they carried,
  and the topic or case their group settled for the next meeting;
- an entry its owner chooses goes to the next check-in as their own words (brought in when
  they join with their code, then no longer marked), or into their CPD record;
- the owner erases one entry or all; at most the latest ``MAX_ENTRIES`` are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import Invalid, NotFound

MAX_ENTRIES = 500
MAX_TEXT = 4000
MAX_BROUGHT = 3  # entries brought to one check-in


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise Invalid("text: write something", "text_empty")
    if len(text) > MAX_TEXT:
        raise Invalid(f"text: at most {MAX_TEXT} characters", "text_too_long", limit=MAX_TEXT)
    return text


def add(entries: list[dict[str, Any]], entry: dict[str, Any]) -> list[dict[str, Any]]:
    """``entry`` is ``{id, at, sealed, bring, cpd}``; the oldest go past ``MAX_ENTRIES``."""
    kept = sorted([*entries, entry], key=lambda e: e["at"])
    return kept[-MAX_ENTRIES:]


def choose(entries: list[dict[str, Any]], entry_id: str, bring: bool | None, cpd: bool | None) -> list[dict[str, Any]]:
    if not any(e["id"] == entry_id for e in entries):
        raise NotFound("no such journal entry", "no_such_entry")
    if bring and sum(1 for e in entries if e.get("bring") and e["id"] != entry_id) >= MAX_BROUGHT:
        raise Invalid(f"bring: at most {MAX_BROUGHT} entries to one check-in", "bring_cap", limit=MAX_BROUGHT)
    changed = []
    for e in entries:
        if e["id"] == entry_id:
            e = {**e, **({"bring": bring} if bring is not None else {}), **({"cpd": cpd} if cpd is not None else {})}
        changed.append(e)
    return changed


def erase(entries: list[dict[str, Any]], entry_id: str | None) -> list[dict[str, Any]]:
    """One entry, or all when ``entry_id`` is None."""
    return [] if entry_id is None else [e for e in entries if e["id"] != entry_id]


def brought(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the entries marked to bring, the journal with them no longer marked)."""
    chosen = [e for e in entries if e.get("bring")]
    return chosen, [{**e, "bring": False} for e in entries]


def prompts(carried: list[dict[str, Any]], plan: dict[str, Any] | None) -> list[dict[str, str]]:
    """What the journal asks: each carried action, then the next meeting's topic or case."""
    out = [{"kind": "action", "subject": a["text"]} for a in carried]
    if plan is not None and plan.get("text"):
        out.append({"kind": plan["kind"], "subject": plan["text"]})
    return out


def _same(text: str) -> str:
    return text


def prompt_text(prompt: dict[str, str], _: Callable[[str], str] = _same) -> str:
    """A prompt as the reader's page asks it (``_``: the reader's gettext; English by default)."""
    words = {"subject": prompt["subject"]}
    if prompt["kind"] == "action":
        return _("How did “%(subject)s” go?") % words
    return _("Before the next meeting (%(subject)s): what comes to mind?") % words
