"""A participant's private reflection, structured by Gibbs' six prompts.

It belongs to its writer alone: the shell seals it with a key derived from their token
before it reaches the state, no view shows it, and only the writer's own download
renders it, beside their own actions and nothing anyone else wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated

from pydantic import StringConstraints

from .markdown import block
from .markdown import inline as md
from .models import Frozen, SessionState

MAX_PROMPT_TEXT = 4000
PromptText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_PROMPT_TEXT)]

PROMPTS: tuple[tuple[str, str, str], ...] = (
    ("description", "Description", "What happened?"),
    ("feelings", "Feelings", "What were you thinking and feeling?"),
    ("evaluation", "Evaluation", "What was good and bad about the experience?"),
    ("analysis", "Analysis", "What sense can you make of the situation?"),
    ("conclusion", "Conclusion", "What else could you have done?"),
    ("action_plan", "Action plan", "If it arose again, what would you do?"),
)


class Reflection(Frozen):
    description: PromptText = ""
    feelings: PromptText = ""
    evaluation: PromptText = ""
    analysis: PromptText = ""
    conclusion: PromptText = ""
    action_plan: PromptText = ""
    confirmed: bool = False  # the writer saw the identifier guard's warning and keeps it

    def text(self) -> str:
        return "\n".join(getattr(self, key) for key, _, _ in PROMPTS)


def evidence(state: SessionState, participant_id: str, reflection: Reflection) -> dict:
    """What the writer's download holds: date, format, their own actions, their reflection."""
    held = datetime.fromtimestamp(state.created_at, tz=timezone.utc).date().isoformat()
    return {
        "date": held,
        "at": state.created_at,  # the pages write the day in the reader's own time zone
        "format": state.format.title,
        "actions": [{"text": a.text, "due": a.due} for a in state.actions if a.participant_id == participant_id],
        "prompts": [{"key": key, "title": title, "question": question, "text": getattr(reflection, key)}
                    for key, title, question in PROMPTS],
    }


def _same(text: str) -> str:
    return text


def to_markdown(record: dict, _: Callable[[str], str] = _same) -> str:
    """The reflection as Markdown; ``_`` gives each message in the writer's language (English by default).
    What the writer and the format file wrote renders as written (``app.facilitation.markdown``)."""
    lines = [_("# Reflective practice record"), "", _("- Date: %(date)s") % {"date": record["date"]},
             _("- Format: %(format)s") % {"format": md(_(record["format"]))}, ""]
    lines += [_("## My actions"), ""]
    lines += [f"- {md(a['text'])}" + (" " + _("(by %(due)s)") % {"due": md(a["due"])} if a["due"] else "")
              for a in record["actions"]] or [_("- None recorded")]
    lines.append("")
    for prompt in record["prompts"]:
        lines += [f"## {md(_(prompt['title']))}: {md(_(prompt['question']))}", "",
                  block(prompt["text"]) or _("_Not written._"), ""]
    return "\n".join(lines)
