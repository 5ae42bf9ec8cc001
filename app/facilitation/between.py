"""Between meetings: a recurring group's agreement, and the topics and cases it agrees beforehand.

The rules, all here:

- the agreement is one text the key holder (or the group's facilitator) drafts, starting from
  ``TEMPLATE``; every change makes a new version that nobody has agreed to yet, so a change
  is agreed again;
- each member agrees (or withdraws) on their phone, once per version. The group keeps how
  many agreed and, to make that one per member, a set of marks: each an HMAC of the member's
  code and the version, which only that code recomputes. No member id, no name, no order;
- a member proposes a topic or offers a case, named to the group (with the name they give)
  or anonymously (no name). Either way the group keeps only the item and a mark of its
  author's code (so its author can withdraw it, and alone can consent to present it);
- members mark what they would like: a count per item, one mark per member, kept the same way;
- the facilitator settles the next meeting's topic or case; a case waits for its author's
  own consent to present it, which names them to the group's next session (and only then);
- the next session opens with it (``plan_for_session``), and its close uses it up.

Every function is pure: the shell reads the group's document, passes the marks it derived
from the caller's code, and writes the document back atomically.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from .errors import Conflict, Forbidden, Invalid, NotFound

MAX_AGREEMENT = 4000
MAX_TOPIC = 300
MAX_NAME = 60
MAX_TOPICS = 50

# The starting point for a group's agreement (docs/groups.md quotes it; a test holds them equal).
TEMPLATE = """\
What is said here stays here: we talk about what we learned, never who said what.
Anything to share outside the group is agreed by the group first, in the words we agree.
Where someone may be at risk, we say so in the room and follow our safeguarding duties.
Cases are anonymised: no names or details that would identify a patient, client or colleague.
Phones are silent and put away unless we agree otherwise.
We start on time; if you are late, join quietly and the facilitator will bring you in.
Cases and topics are offered beforehand; the group marks what it would like and the facilitator settles it.
We revisit this agreement at least once a year, and whenever anyone asks."""


class Agreement(BaseModel):
    text: str
    version: int
    revised_at: float
    agreed: int = 0
    marks: list[str] = []  # sorted: one per member who agreed to this version, unlinkable without their code


class Topic(BaseModel):
    id: str
    kind: Literal["topic", "case"]
    text: str
    name: str | None = None  # given only when offered named to the group
    owner: str  # a mark of its author's code: nobody else can recompute it
    at: float
    likes: int = 0
    marks: list[str] = []


class Plan(BaseModel):
    id: str
    kind: Literal["topic", "case"]
    text: str
    name: str | None = None
    owner: str
    at: float
    consent: Literal["none", "asked", "agreed", "declined"] = "none"
    presenter: str | None = None  # the member id of the case's author, once they consented


class Between(BaseModel):
    agreement: Agreement | None = None
    topics: list[Topic] = []
    plan: Plan | None = None
    schedule: dict[str, Any] | None = None  # ``rhythm.Schedule``, as stored


def _text(value: str, limit: int, what: str) -> str:
    text = value.strip()
    if not text:
        raise Invalid(f"{what}: write something", "text_empty")
    if len(text) > limit:
        raise Invalid(f"{what}: at most {limit} characters", "text_too_long", limit=limit)
    return text


# ---------------------------------------------------------------- the agreement

def draft(b: Between, text: str, now: float) -> Between:
    """A new version of the agreement (the same text again changes nothing)."""
    text = _text(text.replace("\r\n", "\n"), MAX_AGREEMENT, "text")
    if b.agreement is not None and b.agreement.text == text:
        return b
    version = b.agreement.version + 1 if b.agreement is not None else 1
    return b.model_copy(update={"agreement": Agreement(text=text, version=version, revised_at=now)})


def agree(b: Between, version: int, mark: str, yes: bool) -> Between:
    """A member agrees to this version (or withdraws); ``mark`` is keyed by their code and the version."""
    a = b.agreement
    if a is None:
        raise NotFound("the group has no agreement yet", "no_agreement")
    if version != a.version:
        raise Conflict("the agreement has changed since you read it: read it again", "agreement_changed")
    marks = set(a.marks)
    if (mark in marks) == yes:
        return b
    marks = marks | {mark} if yes else marks - {mark}
    return b.model_copy(update={"agreement": a.model_copy(update={"marks": sorted(marks), "agreed": len(marks)})})


def agreement_view(b: Between, mark: str | None = None) -> dict[str, Any] | None:
    a = b.agreement
    if a is None:
        return None
    shown: dict[str, Any] = {"text": a.text, "version": a.version, "revised_at": a.revised_at, "agreed": a.agreed}
    if mark is not None:
        shown["i_agreed"] = mark in a.marks
    return shown


# ---------------------------------------------------------------- topics and cases

def propose(b: Between, topic_id: str, kind: str, text: str, name: str | None, owner: str, now: float) -> Between:
    if kind not in ("topic", "case"):
        raise Invalid("kind: 'topic' or 'case'", "invalid_kind")
    if len(b.topics) >= MAX_TOPICS:
        raise Conflict(f"the list holds at most {MAX_TOPICS}: settle or withdraw some first", "topic_cap",
                       limit=MAX_TOPICS)
    shown_name = _text(name, MAX_NAME, "name") if name is not None else None
    topic = Topic(id=topic_id, kind=kind, text=_text(text, MAX_TOPIC, "text"), name=shown_name, owner=owner, at=now)
    return b.model_copy(update={"topics": [*b.topics, topic]})


def _find(b: Between, topic_id: str) -> Topic:
    for t in b.topics:
        if t.id == topic_id:
            return t
    raise NotFound("no such topic or case", "no_such_topic")


def mark(b: Between, topic_id: str, mark_: str, like: bool) -> Between:
    t = _find(b, topic_id)
    marks = set(t.marks)
    if (mark_ in marks) == like:
        return b
    marks = marks | {mark_} if like else marks - {mark_}
    t = t.model_copy(update={"marks": sorted(marks), "likes": len(marks)})
    return b.model_copy(update={"topics": [t if x.id == topic_id else x for x in b.topics]})


def withdraw(b: Between, topic_id: str, owner: str) -> Between:
    if _find(b, topic_id).owner != owner:
        raise Forbidden("only its author can withdraw a topic or case", "not_your_topic")
    return b.model_copy(update={"topics": [x for x in b.topics if x.id != topic_id]})


def topics_view(b: Between, owner_of: Any = None, mark_of: Any = None) -> list[dict[str, Any]]:
    """The list, with counts; ``owner_of(id)`` and ``mark_of(id)`` are the caller's own marks
    (a member's phone), so it sees which it wrote and which it marked, and nobody else's."""
    out = []
    for t in b.topics:
        row: dict[str, Any] = {"id": t.id, "kind": t.kind, "text": t.text, "name": t.name, "likes": t.likes}
        if owner_of is not None and mark_of is not None:
            row["mine"] = owner_of(t.id) == t.owner
            row["marked"] = mark_of(t.id) in t.marks
        out.append(row)
    return out


def settle(b: Between, topic_id: str, now: float) -> Between:
    """The facilitator settles the next meeting's topic or case: a case asks its author to present."""
    t = _find(b, topic_id)
    plan = Plan(id=t.id, kind=t.kind, text=t.text, name=t.name, owner=t.owner, at=now,
                consent="asked" if t.kind == "case" else "none")
    return b.model_copy(update={"plan": plan, "topics": [x for x in b.topics if x.id != topic_id]})


def unsettle(b: Between) -> Between:
    """The facilitator takes the settled item back to the list (nobody is asked to present)."""
    p = b.plan
    if p is None:
        return b
    back = Topic(id=p.id, kind=p.kind, text=p.text, name=p.name, owner=p.owner, at=p.at)
    return b.model_copy(update={"plan": None, "topics": [*b.topics, back]})


def consent(b: Between, owner: str, member_id: str, yes: bool) -> Between:
    """The case's author says whether they will present it: only their code's mark matches."""
    p = b.plan
    if p is None or p.kind != "case":
        raise NotFound("no case is settled for the next meeting", "no_plan")
    if p.owner != owner:
        raise Forbidden("only the member who offered the case can consent to present it", "not_your_case")
    update = {"consent": "agreed", "presenter": member_id} if yes else {"consent": "declined", "presenter": None}
    return b.model_copy(update={"plan": p.model_copy(update=update)})


def plan_view(b: Between, owner_of: Any = None) -> dict[str, Any] | None:
    p = b.plan
    if p is None:
        return None
    shown: dict[str, Any] = {"id": p.id, "kind": p.kind, "text": p.text, "name": p.name, "consent": p.consent}
    if owner_of is not None:
        shown["mine"] = owner_of(p.id) == p.owner  # the author's phone is asked to consent
    return shown


def used_up(b: Between, plan_id: str | None) -> Between:
    """After the meeting that opened with it, the settled item is done."""
    if plan_id is None or b.plan is None or b.plan.id != plan_id:
        return b
    return b.model_copy(update={"plan": None})
