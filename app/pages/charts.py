"""The console's share-of-voice chart: who has had how much of the floor, built in code.

Every change of turn moves one person's time and so everyone's share, so every bar's label is
new at every turn of a round: the chart is written here, a few escaped SVG elements a person,
rather than through a template loop. The console's ``voice`` block holds the chart's frame and
calls ``voice_bars``; a screen reader hears ``voice_summary``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from app.pages import i18n

NAME_LENGTH = 14  # a bar's name beyond this (and a little leeway) is cut, as jinja's truncate cuts
NAME_LEEWAY = 5


def voice_label(bar: Any) -> str:
    """One person's floor time on the share-of-voice chart: ``2:10 (35%)``."""
    return i18n.gettext("%(time)s (%(share)s)") % {"time": bar["spoken"], "share": i18n.local_percent(bar["share"])}


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
