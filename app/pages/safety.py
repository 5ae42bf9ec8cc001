"""The room's safety on the pages, derived from a role's view and nothing else.

Listening, a word afterwards, the presenter, the wellbeing spread and the evaluation's. The view has
already decided who may see what: the facilitator alone gets ``me.word_requests``, and a
wellbeing tally carries a distribution only once it has been shown (by the facilitator,
or at the phase's end) with enough answers. This module only shapes those fields for
app/web/templates/_safety.html.
"""

from __future__ import annotations

from typing import Any

from app.facilitation.disclosure import spread_may_move

SCALE = (1, 2, 3, 4, 5)
SCALE_WORDS = {1: "low", 3: "so-so", 5: "good"}


def safety_model(view: dict[str, Any]) -> dict[str, Any]:
    me = view.get("me", {})
    names = {p["id"]: p["name"] for p in view["participants"]}
    phase = view["phase"]
    presenter_id = view.get("presenter_id")
    presenter_listens = bool(phase and "presenter" in phase.get("listens_only", ()))
    live = view["status"] in ("running", "paused")
    return {
        **safety_own(me),
        "presenter": {"id": presenter_id, "name": names.get(presenter_id, ""), "listens": presenter_listens}
                     if presenter_id in names else None,
        # Offered where a presenter speaks and no round runs: the engine refuses it otherwise.
        # Where a presenter speaks, or answers each question (the one-to-one's reflecting person).
        "can_set_presenter": view["status"] in ("running", "paused") and phase is not None
                             and (phase["kind"] == "presentation" or "presenter" in phase.get("answers", ()))
                             and view["round"] is None,
        "wellbeing": [_tally(view, t, can_show=me.get("role") == "facilitator" and live) for t in view.get("wellbeing", [])],
        # The screen shows the spread only during the phase that asked (not over someone's case later).
        "wellbeing_now": [_tally(view, t) for t in view.get("wellbeing", [])
                          if phase is not None and t["phase_id"] == phase["id"] and t["distribution"] is not None],
        "evaluation": _evaluation(view, can_show=me.get("role") == "facilitator" and live),
    }


def safety_own(me: dict[str, Any]) -> dict[str, Any]:
    """The part of ``safety_model`` that is the viewer's own; the rest depends only on the shared
    view and the viewer's role, so the pages compute it once per audience."""
    return {"listening": bool(me.get("listening")), "requested_word": bool(me.get("requested_word")),
            "word_requests": me.get("word_requests")}  # None unless the viewer is the facilitator


def _bars(counts: list[int] | None) -> tuple[list[dict[str, Any]] | None, str]:
    """A 1-5 spread as bars (scaled to the largest count) and the sentence a screen reader hears."""
    if counts is None:
        return None, ""
    top = max(counts) or 1
    bars = [{"score": s, "count": c, "percent": round(100 * c / top), "word": SCALE_WORDS.get(s, "")}
            for s, c in zip(SCALE, counts)]
    return bars, ", ".join(f"{b['count']} chose {b['score']}" for b in bars)


def _evaluation(view: dict[str, Any], can_show: bool) -> dict[str, Any] | None:
    """The evaluation's spread per statement, only as the view shows it (a snapshot of at least
    k answers); the facilitator may show it again once k more came in."""
    ev = view.get("evaluation")
    if not ev:
        return None
    statements = []
    for st in ev["statements"]:
        bars, summary = _bars(st["distribution"])
        statements.append({"text": st["text"], "bars": bars, "summary": summary})
    return {"statements": statements, "answered": ev["answered"], "in_spread": ev["in_spread"],
            "notes": ev["notes"], "k": ev["k"], "shown": ev["in_spread"] > 0,
            "can_show": can_show and spread_may_move(ev["answered"] - ev["in_spread"], ev["k"])}


def _tally(view: dict[str, Any], tally: dict[str, Any], can_show: bool = False) -> dict[str, Any]:
    titles = {p["id"]: p["title"] for p in view["phases"]}
    counts = tally["distribution"]
    in_spread = sum(counts) if counts is not None else 0
    threshold = view["settings"]["reveal_threshold"]
    bars, spread = _bars(counts)
    return {"phase_id": tally["phase_id"], "title": titles.get(tally["phase_id"], tally["phase_id"]),
            "answered": tally["answered"], "in_spread": in_spread, "bars": bars, "summary": spread,
            # The facilitator shows the spread (again) once enough answers are in that it was not shown with.
            "can_show": can_show and tally["answered"] - in_spread >= threshold}
