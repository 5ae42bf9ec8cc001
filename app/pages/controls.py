"""A command's button and a running clock: the two pieces every live page is made of, built in code.

A button that sends a command is a small form the htmx WebSocket extension sends
(``ws-send``; ``method="dialog"`` so that a tap before the page's script runs sends
nothing to the server's log or the address bar). The console's people list, its floor and
its controls are rows of them, and the floor, the glance and the stage hold clocks, redrawn
as turns change: written here, one f-string with each value escaped, a row costs what its
words cost, not a template macro's frame per button. The templates call them as
``command(type, label, …)`` and ``countdown(ends_at, remaining, paused)``, as they called the
macros they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from app.pages.markup import escape
from app.pages.view import clock_text


def command(type: str, label: Any, id: str | None = None, cls: str = "btn", key: str | None = None,  # noqa: A002
            fields: Mapping[str, Any] | None = None, disabled: bool = False, aria: Any = None) -> Markup:
    """``<form … ws-send>`` with the command's type and ``fields`` as hidden inputs and one button.

    ``key``: a keyboard shortcut the console's script listens for (``N`` is Shift+N, as
    plain N is typed in text fields); ``aria``: the button's accessible name where its label
    alone would be ambiguous in a list ("Give turn" to whom).
    """
    hidden = "".join(f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
                     for name, value in (fields or {}).items())
    shortcut = ("Shift+N" if key == "N" else key.upper()) if key else ""
    attrs = (f' id="{escape(id)}"' if id else "") + (
        f' data-key="{escape(key)}" aria-keyshortcuts="{escape(shortcut)}"' if key else "") + (
        f' aria-label="{escape(aria)}"' if aria else "") + (" disabled" if disabled else "")
    kbd = f" <kbd>{escape(shortcut)}</kbd>" if key else ""
    return Markup(f'<form method="dialog" ws-send class="inline">\n'
                  f'  <input type="hidden" name="type" value="{escape(type)}">\n'
                  f'{hidden}  <button class="{escape(cls)}"{attrs}>{escape(label)}{kbd}</button>\n'
                  f'</form>\n')


def countdown(ends_at: float, remaining: float, paused: bool, cls: str = "countdown") -> Markup:
    """A running clock: the time left as the server sees it, which js/countdowns.js counts down
    to ``ends_at`` on the page (``data-frozen`` while the session is paused). The phone's
    glance, the console's floor and the screen's stage each hold one or more, redrawn at every
    turn."""
    frozen = f' data-frozen="{escape(remaining)}"' if paused else ""
    return Markup(f'<time class="{escape(cls)}" data-ends-at="{escape(ends_at)}"{frozen} '
                  f'datetime="PT{int(remaining)}S">{escape(clock_text(remaining))}</time>\n')
