"""A recurring group's record over its meetings: aggregates only, with no names in it.

The rules, all here:

- at close a meeting leaves one row of counts (``meeting_of``): when it closed, its format
  and length, how many took part, how evenly the floor was shared, how many answered the
  evaluation and, per statement, how many gave each score. No row per person, no name, no
  member id, no session code (the row's id is a salted hash the session's secret alone
  yields, so a later change to the same closed session replaces its row);
- evaluation counts are not kept at all when fewer than k answered;
- every cell that counts people and is below k (but not zero) is suppressed wherever the
  record is shown (``table``, ``charts``); the mean score of a statement only when at least
  k answered, and the evenness only when at least k took part;
- equal participation is the evenness of floor time, 1 - Gini coefficient (as in the
  session's summary): it uses everyone's share, not only the extremes, reads 1.00 when all
  had the same time, and stays comparable between meetings of different sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import evaluation, spreadsheet
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
    answered = len(state.evaluation.answered)
    started = state.phase_log[0].entered_at if state.phase_log else state.closed_at
    statements = [{"text": text, "counts": list(counts) if answered >= k else None}
                  for text, counts in evaluation.spreads_at_close(state)]
    return {
        "id": salted_hash(state.salt, "meeting")[:16],
        "at": state.closed_at,
        "format": state.format.title,
        "minutes": round(max(0.0, state.closed_at - started) / 60),
        "attended": len(people),
        "evenness": round(1 - gini(spoken), 2) if sum(spoken) > 0 else None,
        "k": k,
        "answered": answered,
        "statements": statements,
    }


def _cell(n: int, k: int) -> int | None:
    return SUPPRESSED if 0 < n < k else n


def _mean(counts: list[int]) -> float:
    return round(sum((i + 1) * c for i, c in enumerate(counts)) / sum(counts), 2)


def shown_meeting(row: dict[str, Any]) -> dict[str, Any]:
    """One meeting as anyone with the group's key sees it: every cell below k suppressed."""
    k = int(row.get("k", 3))
    enough_people = row["attended"] >= k
    enough_answers = row["answered"] >= k
    statements = []
    for st in row["statements"]:
        counts = st["counts"] if enough_answers else None
        statements.append({"text": st["text"],
                           "counts": [_cell(c, k) for c in counts] if counts else None,
                           "mean": _mean(counts) if counts and sum(counts) else None})
    return {"date": datetime.fromtimestamp(row["at"], tz=timezone.utc).strftime("%Y-%m-%d"),
            "at": row["at"], "format": row["format"], "minutes": row["minutes"], "k": k,
            "attended": _cell(row["attended"], k),
            "evenness": row["evenness"] if enough_people else SUPPRESSED,
            "answered": _cell(row["answered"], k), "statements": statements}


def shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [shown_meeting(r) for r in sorted(rows, key=lambda r: r["at"])]


CSV_HEADER = ["date", "format", "minutes", "attended", "evenness", "answered", "statement", "mean",
              "score_1", "score_2", "score_3", "score_4", "score_5"]


def _text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return spreadsheet.cell(value)


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The record as CSV rows for a commissioner: one per meeting and statement (one per
    meeting when it asked none); a suppressed cell reads ``<k``."""
    def cell(value: Any, k: int) -> str:
        return f"<{k}" if value is SUPPRESSED else str(value)

    out = [CSV_HEADER]
    for m in shown(rows):
        k = m["k"]
        head = [m["date"], _text(m["format"]), str(m["minutes"]), cell(m["attended"], k),
                "" if m["evenness"] is None and m["attended"] is not None and m["attended"] >= k
                else cell(m["evenness"], k), cell(m["answered"], k)]
        if not m["statements"]:
            out.append(head + [""] * 7)
        for st in m["statements"]:
            counts = st["counts"]
            out.append(head + [_text(st["text"]), "" if st["mean"] is None else str(st["mean"])]
                       + ([cell(c, k) for c in counts] if counts else [""] * 5))
    return out


# ---------------------------------------------------------------- charts

CHART_W, CHART_H, PAD = 300, 90, 18


NOT_ASKED = "not asked"


def _bars(values: list[Any], top: float, labels: list[str]) -> dict[str, Any]:
    n = max(1, len(values))
    step = (CHART_W - PAD) / n
    bars = []
    for i, (v, label) in enumerate(zip(values, labels)):
        x = round(PAD + i * step + step * 0.15, 1)
        w = round(step * 0.7, 1)
        if v == NOT_ASKED:
            continue  # that meeting did not ask this statement: no bar
        if v is None:
            bars.append({"x": x, "w": w, "y": CHART_H - 12, "h": 12, "suppressed": True, "label": label})
        else:
            h = round((CHART_H - 14) * (v / top if top else 0), 1)
            bars.append({"x": x, "w": w, "y": round(CHART_H - h, 1), "h": h, "suppressed": False, "label": label})
    return {"width": CHART_W, "height": CHART_H, "bars": bars}


def _same(text: str) -> str:
    return text


def charts(rows: list[dict[str, Any]], _: Callable[[str], str] = _same) -> dict[str, Any]:
    """Small bar charts, one bar per meeting, oldest first: attendance, evenness of floor
    time, and each statement's mean score (a suppressed cell is a short hatched bar). ``_``
    gives the charts' spoken summaries in the reader's language (English by default)."""
    meetings = shown(rows)
    dates = [m["date"] for m in meetings]
    attended = [m["attended"] for m in meetings]
    evenness = [m["evenness"] for m in meetings]
    top_people = max([a for a in attended if a is not None], default=0) or 1
    out: dict[str, Any] = {
        "meetings": meetings,
        "attendance": {**_bars([float(a) if a is not None else None for a in attended], top_people, dates),
                       "summary": ", ".join(f"{d}: {_said(a, m['k'], _)}" for d, a, m in zip(dates, attended, meetings)),
                       "top": top_people},
        "evenness": {**_bars(evenness, 1.0, dates),
                     "summary": ", ".join(f"{d}: {_said(e, m['k'], _)}" for d, e, m in zip(dates, evenness, meetings))},
        "statements": [],
    }
    texts = list(dict.fromkeys(st["text"] for m in meetings for st in m["statements"]))
    for text in texts:
        means = [next((st["mean"] for st in m["statements"] if st["text"] == text), NOT_ASKED) for m in meetings]
        out["statements"].append({"text": text, **_bars(means, 5.0, dates),
                                  "summary": ", ".join(f"{d}: {_said(v, m['k'], _, mean=True)}"
                                                       for d, v, m in zip(dates, means, meetings))})
    return out


def _said(value: Any, k: int, _: Callable[[str], str], mean: bool = False) -> str:
    if value == NOT_ASKED:
        return _("not asked")
    if value is None:
        return _("fewer than %(k)s, not shown") % {"k": k}
    return _("mean %(value)s") % {"value": value} if mean else f"{value}"
