"""A recurring group's record over its meetings: aggregates only, with no names in it.

The rules, all here (the figures themselves come from ``disclosure``, the one place that says
what the evaluation's answers may become):

- at close a meeting leaves one row (``meeting_of``): when it closed, its format and length,
  how many took part, how evenly the floor was shared, how many answers the room was last
  shown and, per statement, a noisy mean of them. No count of scores, no row per person, no
  name, no member id, no session code (the row's id is a salted hash the session's secret
  alone yields, so a later change to the same closed session replaces its row with the same
  figures: the noise comes from that secret too);
- the evaluation's figures are made from the spread the room was last shown, never from the
  counts at close, and not at all when fewer than k answers were in it;
- every count of people that is below k (but not zero) is suppressed wherever the record is
  shown (``shown``, ``table``, ``charts``), and so is how many answered whenever it is below k
  (the figures are then empty, whether one, two or nobody answered); a statement's mean only
  when at least k answered, and the evenness only when at least k took part; a row kept
  before the means were noisy shows no scores at all;
- equal participation is the evenness of floor time, 1 - Gini coefficient (as in the
  session's summary): it uses everyone's share, not only the extremes, reads 1.00 when all
  had the same time, and stays comparable between meetings of different sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import disclosure, evaluation, spreadsheet
from .models import SessionState
from .summary import gini
from .transition import salted_hash

SUPPRESSED = None  # a cell below k: shown as "<k"
MAX_MEETINGS = 500


def meeting_of(state: SessionState) -> dict[str, Any]:
    """The row a closed session leaves in its group's record."""
    assert state.closed_at is not None
    k = state.settings.evaluation_k
    people = [p for p in state.participants if not p.removed]
    spoken = [p.spoken_s for p in people]
    started = state.phase_log[0].entered_at if state.phase_log else state.closed_at
    last = evaluation.last_shown(state)
    noise = disclosure.seeded(salted_hash(state.salt, "record noise"))
    answered, means = disclosure.kept_figures([spread for _, spread in last], k, noise)
    return {
        "id": salted_hash(state.salt, "meeting")[:16],
        "at": state.closed_at,
        "format": state.format.title,
        "minutes": round(max(0.0, state.closed_at - started) / 60),
        "attended": len(people),
        "evenness": round(1 - gini(spoken), 2) if sum(spoken) > 0 else None,
        "k": k,
        "method": disclosure.METHOD,
        "answered": answered,
        "statements": [{"text": text, "mean": mean} for (text, _), mean in zip(last, means)],
    }


def shown_meeting(row: dict[str, Any]) -> dict[str, Any]:
    """One meeting as anyone with the group's key or the report link sees it: counts of
    people below k suppressed, a statement's noisy mean only when at least k answered."""
    k = int(row.get("k", 3))
    enough_people = row["attended"] >= k
    noisy = row.get("method") == disclosure.METHOD and row["answered"] >= k
    statements = [{"text": st["text"], "mean": st["mean"] if noisy else None} for st in row["statements"]]
    return {"date": datetime.fromtimestamp(row["at"], tz=timezone.utc).strftime("%Y-%m-%d"),
            "at": row["at"], "title": row.get("title"), "format": row["format"], "minutes": row["minutes"], "k": k,
            "attended": disclosure.count_shown(row["attended"], k),
            "evenness": row["evenness"] if enough_people else SUPPRESSED,
            "answered": SUPPRESSED if row["statements"] and row["answered"] < k else row["answered"],
            "statements": statements, **_agreement(row, k)}


def _agreement(row: dict[str, Any], k: int) -> dict[str, Any]:
    """The group's agreement as it stood at the meeting: its text and how many had agreed to
    it (below k suppressed, like every count of people); never who."""
    a = row.get("agreement")
    if not a:
        return {}
    return {"agreement": {"text": a["text"], "agreed": disclosure.count_shown(a["agreed"], k)}}


def shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The meetings, oldest first, each numbered, with its day and time and its title where the
    reader's key opened it (the store keeps a title sealed to the record's readers: a title
    may name someone; ``title`` is None when it was not opened, or a meeting from before)."""
    return [{**shown_meeting(r), "number": i} for i, r in enumerate(sorted(rows, key=lambda r: r["at"]), 1)]


CSV_HEADER = ["date", "title", "format", "minutes", "attended", "evenness", "answered", "statement", "mean"]


def _text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return spreadsheet.cell(value)


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The record as CSV rows for a commissioner: one per meeting and statement (one per
    meeting when it asked none); a suppressed count reads ``<k``, a mean not shown is empty."""
    def cell(value: Any, k: int) -> str:
        return f"<{k}" if value is SUPPRESSED else str(value)

    out = [CSV_HEADER]
    for m in shown(rows):
        k = m["k"]
        head = [m["date"], _text(m["title"] or ""), _text(m["format"]), str(m["minutes"]), cell(m["attended"], k),
                "" if m["evenness"] is None and m["attended"] is not None and m["attended"] >= k
                else cell(m["evenness"], k), cell(m["answered"], k)]
        if not m["statements"]:
            out.append(head + ["", ""])
        for st in m["statements"]:
            out.append(head + [_text(st["text"]), "" if st["mean"] is None else str(st["mean"])])
    return out


# ---------------------------------------------------------------- charts

# One row per meeting, oldest first: the meeting's number, day and time, its bar, and the value
# written at the bar's end, so that a bar reads without an axis.
LABEL_W, BAR_W, VALUE_W, ROW_H, BAR_H = 250, 270, 70, 24, 16
CHART_W = LABEL_W + BAR_W + VALUE_W
SUPPRESSED_W = 12


NOT_ASKED = "not asked"


def _bars(values: list[Any], top: float, meetings: list[dict[str, Any]], decimals: int,
          _: Callable[[str], str]) -> dict[str, Any]:
    """One row per meeting: beside its bar, ``number`` (written with ``decimals`` places in the
    reader's way) or ``value``, words ("<3", "not asked")."""
    rows = []
    for i, (v, m) in enumerate(zip(values, meetings)):
        row = {"y": i * ROW_H, "at": m["at"], "meeting": m["number"], "title": m["title"], "format": m["format"],
               "suppressed": False,
               "w": 0.0, "said": _said(v, m["k"], _), "number": None, "decimals": decimals, "value": ""}
        if v == NOT_ASKED:
            row["value"] = _(NOT_ASKED)
        elif v is None:
            row.update(w=SUPPRESSED_W, suppressed=True, value=f"<{m['k']}")
        else:
            row.update(w=round(max(2.0, BAR_W * (v / top if top else 0)), 1), number=v)
        row["value_x"] = LABEL_W + row["w"] + 6
        rows.append(row)
    return {"width": CHART_W, "height": max(1, len(rows)) * ROW_H, "label_w": LABEL_W, "bar_h": BAR_H,
            "bars": rows}


def _same(text: str) -> str:
    return text


def charts(rows: list[dict[str, Any]], _: Callable[[str], str] = _same) -> dict[str, Any]:
    """Small bar charts, one row per meeting, oldest first: attendance, evenness of floor
    time, and each statement's mean score (a suppressed cell is a short hatched bar), each
    bar with its value beside it. ``_`` gives the words in the reader's language (English by default)."""
    meetings = shown(rows)
    attended = [m["attended"] for m in meetings]
    top_people = max([a for a in attended if a is not None], default=0) or 1
    out: dict[str, Any] = {
        "meetings": meetings,
        "attendance": {**_bars([float(a) if a is not None else None for a in attended], top_people, meetings, 0, _),
                       "top": top_people},
        "evenness": _bars([m["evenness"] for m in meetings], 1.0, meetings, 2, _),
        "statements": [],
    }
    texts = list(dict.fromkeys(st["text"] for m in meetings for st in m["statements"]))
    for text in texts:
        means = [next((st["mean"] for st in m["statements"] if st["text"] == text), NOT_ASKED) for m in meetings]
        out["statements"].append({"text": text, **_bars(means, 5.0, meetings, 1, _)})
    return out


def _said(value: Any, k: int, _: Callable[[str], str]) -> str:
    """A value as a screen reader hears it where the chart shows a bar, or no bar."""
    if value == NOT_ASKED:
        return _("not asked")
    if value is None:
        return _("fewer than %(k)s, not shown") % {"k": k}
    return ""
