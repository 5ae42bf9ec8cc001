"""The identifier guard flags each kind of identifier and leaves ordinary reflection alone."""

from __future__ import annotations

import pytest

from app.facilitation.guard import scan

FLAGGED = [
    ("Her NHS number is 943 476 5919", "nhs_number"),
    ("ref 9434765919 on the letter", "nhs_number"),
    ("He was born 12/03/1985 and lives alone", "date_of_birth"),
    ("DOB 3-4-2001", "date_of_birth"),
    ("Date of birth 1979-11-02", "date_of_birth"),
    ("she was born on 4 March 1962", "date_of_birth"),
    ("dob 12/03/85", "date_of_birth"),
    ("call her on 07700 900123 tomorrow", "phone"),
    ("the number was +44 20 7946 0958", "phone"),
    ("ring 020 7946 0958 to check", "phone"),
    ("her email is jo.bloggs@example.org", "email"),
    ("contact j_smith+care@nhs.net", "email"),
    ("he lives near SW1A 1AA", "postcode"),
    ("the flat in M1 1AE was cold", "postcode"),
    ("moved to ec1a1bb last week", "postcode"),
    ("I visited John Smith at home", "full_name"),
    ("Mrs Patel said she felt unheard", "full_name"),
    ("Dr Okafor disagreed with the plan", "full_name"),
    ("my client Aisha Rahman missed her appointment", "full_name"),
    ("we spoke to Mary Anne Jones", "full_name"),
]

ORDINARY = [
    "How did you feel when the meeting ended?",
    "I felt overwhelmed on Monday morning",
    "What would you do differently next time?",
    "The Action Learning Set helped me think",
    "It was hard to hold the boundary with the family",
    "I noticed I was rushing in the Balint group",
    "What support do you need from the team?",
    "Could the NHS Trust policy be raised at the next meeting?",
    "Maybe talk to your supervisor about the 3 cases",
    "I will book 30 minutes of reflection every week",
    "Review this again by 01/12/2026",
    "We met in March and again in June",
    "The Social Care team was short staffed",
    "Thank you for sharing something so personal",
    "I can see how tired you are after 12 hours",
    "What did the Youth Work service do well?",
    "It took 45 minutes to get through to the ward",
    "I want to try the Gibbs reflective cycle on this",
    "When I got home I kept thinking about it",
    "Version 2 of the plan is better",
]


@pytest.mark.parametrize(("text", "kind"), FLAGGED)
def test_guard_flags_identifier(text: str, kind: str) -> None:
    assert kind in {f.kind for f in scan(text)}, scan(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_guard_leaves_ordinary_text_alone(text: str) -> None:
    assert scan(text) == []
