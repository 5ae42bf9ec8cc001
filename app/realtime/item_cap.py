"""How many items each person holds in a session, counted in this process's memory only.

A count per writer kept with the session would be in the store, and each of its versions
sits in the store's history beside the item it counted (the write-ahead log, Redis's
append-only file, a backup): every item would be grouped with the others of its author.
So the count lives here, under a key made from the writer's token, and is never written.

What that costs: a restart forgets the counts, so after one each person may submit up to
the cap again, on top of what they hold; with several workers each worker counts the items
that reached it, so a person whose commands reach several workers may hold up to the cap on
each. The session's own limits still hold over everyone together: its most items, its
written-content ceiling, and the command rates per token and per session.
"""

from __future__ import annotations

MAX_SESSIONS_COUNTED = 20_000  # past this, the counts of the sessions counted longest ago go


class ItemCap:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._held: dict[str, dict[str, int]] = {}  # session code -> writer's key -> items held

    def take(self, code: str, writer: str) -> bool:
        """Count one more item for ``writer``; False (nothing counted) if they hold the cap."""
        held = self._held.get(code)
        if held is None:
            held = self._held[code] = {}
            while len(self._held) > MAX_SESSIONS_COUNTED:
                del self._held[next(iter(self._held))]
        if held.get(writer, 0) >= self.cap:
            return False
        held[writer] = held.get(writer, 0) + 1
        return True

    def give_back(self, code: str, writer: str) -> None:
        """One item fewer (retracted, or the submission did not happen)."""
        held = self._held.get(code, {})
        n = held.get(writer, 0) - 1
        if n > 0:
            held[writer] = n
        else:
            held.pop(writer, None)

    def forget(self, code: str) -> None:
        self._held.pop(code, None)
