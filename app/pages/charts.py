"""What the console and the screen redraw at every turn of a round, built in code: the
share-of-voice chart (who has had how much of the floor) and the round's order.

Every change of turn moves one person's time and so everyone's share, and moves the round's
marks: these are written here, a few escaped elements a person, rather than through a
template loop. The console's ``voice`` block holds the chart's frame and calls ``voice_bars``
(a screen reader hears ``voice_summary``); the console's ``round`` and the screen's ``order``
list ``round_order``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from markupsafe import Markup

from app.pages import i18n
from app.pages.markup import escape

# Words the model carries as codes: a place in the round, in the viewer's language.
ROUND_MARKS = {"speaking": i18n.N_("speaking"), "done": i18n.N_("done"), "passed": i18n.N_("passed"),
               "skipped": i18n.N_("skipped"), "next": i18n.N_("next"), "waiting": i18n.N_("waiting"),
               "left": i18n.N_("left"), "second_chance": i18n.N_("second chance")}

NAME_LENGTH = 14  # a bar's name beyond this (and a little leeway) is cut, as jinja's truncate cuts
NAME_LEEWAY = 5


def voice_label(bar: Any) -> str:
    """One person's floor time on the share-of-voice chart: ``2:10 (35%)``."""
    return _label(bar["spoken"], round(bar["share"] * 100), i18n.current())


@lru_cache(maxsize=4096)  # the chart and what a screen reader hears of it ask for each bar at every turn
def _label(spoken: str, percent: int, code: str) -> str:
    with i18n.speaking(code):
        return i18n.gettext("%(time)s (%(share)s)") % {"time": spoken, "share": i18n.local_percent(percent / 100)}


def voice_summary(voice: Any) -> str:
    """What a screen reader hears of the share-of-voice chart."""
    bars = voice["bars"]
    if not bars:
        return i18n.gettext("Share of voice: nobody has spoken yet")
    people = i18n.gettext(", ").join(i18n.gettext("%(name)s %(time)s") % {"name": i18n.shown(b["name"]), "time": voice_label(b)}
                                     for b in bars)
    return i18n.gettext("Share of voice: %(people)s") % {"people": people}


def voice_bars(voice: Any) -> Markup:
    """Each person's name, track, bar and ``2:10 (35%)``, inside the chart's ``<svg>``."""
    width, height = voice["width"], voice["bar_height"]
    out = []
    for bar in voice["bars"]:
        y = bar["y"]
        gone = "" if bar["present"] else " gone"
        out.append(f'<text x="0" y="{y + 15}" class="bar-name">{escape(_cut(i18n.shown(bar["name"])))}</text>\n'
                   f'<rect x="110" y="{y}" width="{width}" height="{height}" class="bar-track" rx="3"/>\n'
                   f'<rect x="110" y="{y}" width="{bar["width"]}" height="{height}" class="bar{gone}" rx="3"/>\n'
                   f'<text x="{116 + width}" y="{y + 15}" class="bar-label">{escape(voice_label(bar))}</text>\n')
    return Markup("".join(out))


def _cut(name: str) -> str:
    return name if len(name) <= NAME_LENGTH + NAME_LEEWAY else name[:NAME_LENGTH - 1] + "…"


def round_mark(state: str) -> str:
    """A place in the round order ("speaking", "next", …) in the viewer's language."""
    return i18n.gettext(ROUND_MARKS[state]) if state in ROUND_MARKS else state


def round_order(entries: Any) -> Markup:
    """The round's ``<li>``s, each person with their place ("speaking", "done", …)."""
    return Markup("".join(f'<li class="order-item {escape(e["state"])}"><span class="who">{escape(e["name"])}</span> '
                          f'<span class="mark mark-{escape(e["state"])}">{escape(round_mark(e["state"]))}</span></li>\n'
                          for e in entries))
