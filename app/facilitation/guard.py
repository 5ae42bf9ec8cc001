"""The identifier guard: does this text look like it names a client or holds an identifier?

Groups talk about real people. A question that carries a client's NHS number, date of
birth, phone number, e-mail, postcode or full name would break the confidentiality the
room relies on, even anonymously. The guard flags such text so that the writer can edit
it or confirm it deliberately; the server stores nothing flagged that was not confirmed.

It errs towards asking: a false alarm costs one tap, a missed identifier cannot be
taken back. The rules are heuristics and say so in their names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import PossibleIdentifier

KIND_LABELS = {
    "nhs_number": "an NHS-style number",
    "date_of_birth": "a date of birth",
    "phone": "a phone number",
    "email": "an e-mail address",
    "postcode": "a postcode",
    "full_name": "a person's full name",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    match: str

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_NHS = re.compile(r"(?<![\d+])(?:\d{3}[ -]\d{3}[ -]\d{4}|\d{10})(?!\d)")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s-]?(?:\(0\)\s?)?|0)\d{2,4}(?:[\s-]?\d{3,4}){2}(?!\d)")
_MONTHS = ("jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATE = re.compile(
    r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\s+(?P<y3>\d{{4}}))\b",
    re.IGNORECASE,
)
_BORN = re.compile(r"\b(?:dob|d\.o\.b\.?|born|date of birth)\b", re.IGNORECASE)
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+[A-Z][a-z'’-]+")
_CAP_PAIR = re.compile(r"\b([A-Z][a-z'’-]+)\s+([A-Z][a-z'’-]+)(?:\s+[A-Z][a-z'’-]+)?")

# Capitalised words that are not names: days, months, sentence openers, and words of
# the trade that often come in capitalised pairs ("Action Learning", "Social Care").
_NOT_NAMES = frozenset("""
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december christmas easter
the a an this that these those there then when what why how who where which while if after before
i we you he she they it my our your his her their its me us them
and but or so because although also just still maybe perhaps yes no thanks thank please
team meeting service services care social health housing youth work ward unit trust council
nhs gp a&e hospital clinic school college university centre center office department manager
action learning set balint group gibbs reflective cycle check in out session sessions case plan
good bad great hard difficult today tomorrow yesterday last next first second new old
""".split())


def _year_is_birth_like(year: str) -> bool:
    value = int(year)
    if len(year) == 2:
        return True  # 12/03/85: a two-digit year in a full date reads like a birth date
    return 1900 <= value <= 2015


def _names(text: str) -> list[str]:
    found = [m.group(0) for m in _TITLED.finditer(text)]
    for m in _CAP_PAIR.finditer(text):
        words = m.group(0).split()
        if any(w.lower().strip("'’-") in _NOT_NAMES for w in words[:2]):
            continue
        found.append(m.group(0))
    return found


def scan(text: str) -> list[Finding]:
    """Everything in ``text`` that looks like an identifier, most specific kinds first."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match[str]) -> None:
        span = m.span()
        if any(s < span[1] and span[0] < e for s, e in taken):
            return
        taken.append(span)
        findings.append(Finding(kind, m.group(0)))

    for m in _EMAIL.finditer(text):
        add("email", m)
    for m in _NHS.finditer(text):
        add("nhs_number", m)
    for m in _PHONE.finditer(text):
        add("phone", m)
    born = bool(_BORN.search(text))
    for m in _DATE.finditer(text):
        year = m.group("y1") or m.group("y2") or m.group("y3")
        if born or _year_is_birth_like(year):
            add("date_of_birth", m)
    for m in _POSTCODE.finditer(text):
        add("postcode", m)
    for name in _names(text):
        start = text.find(name)
        if not any(s < start + len(name) and start < e for s, e in taken):
            taken.append((start, start + len(name)))
            findings.append(Finding("full_name", name))
    return findings


def describe(findings: list[Finding]) -> str:
    kinds = list(dict.fromkeys(f.label for f in findings))
    listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return (f"This looks like it may contain {listed}. Edit it so nobody outside the room could be "
            "identified, or send it again with confirmed set if you are sure it is fine.")


def require_confirmed(text: str, confirmed: bool) -> None:
    """Refuse flagged text unless its writer has confirmed it: the rule for every text a participant keeps."""
    if not confirmed:
        findings = scan(text)
        if findings:
            raise PossibleIdentifier(describe(findings), found=list(dict.fromkeys(f.kind for f in findings)))
