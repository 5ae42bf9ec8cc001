"""Who follows which session in this process: the bookkeeping both brokers share."""

from __future__ import annotations

import logging

from app.facilitation.models import SessionState
from app.realtime.interfaces import Deliver, Gone

log = logging.getLogger("talkingpiece.broker")


class Subscriptions:
    """Who follows which session in this process; the bookkeeping both brokers share."""

    def __init__(self) -> None:
        self._by_code: dict[str, set[tuple[Deliver, Gone]]] = {}

    def add(self, code: str, deliver: Deliver, gone: Gone) -> bool:
        """Follow a session; True when it is this process's first follower of it."""
        first = code not in self._by_code
        self._by_code.setdefault(code, set()).add((deliver, gone))
        return first

    def remove(self, code: str, deliver: Deliver, gone: Gone) -> bool:
        """Stop following; True when that was this process's last follower of it."""
        subs = self._by_code.get(code)
        if subs is None:
            return False
        subs.discard((deliver, gone))
        if subs:
            return False
        del self._by_code[code]
        return True

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def codes(self) -> list[str]:
        return list(self._by_code)

    def deliver(self, state: SessionState) -> None:
        """Give a state to each follower; one that fails must not stop the others or the publisher."""
        for deliver, _ in list(self._by_code.get(state.code, ())):
            try:
                deliver(state)
            except Exception:
                log.exception("delivering a state of session %s failed", state.code)

    def gone(self, code: str, reason: str) -> None:
        for _, gone in list(self._by_code.get(code, ())):
            try:
                gone(reason)
            except Exception:
                log.exception("closing the sockets of vanished session %s failed", code)

    def clear(self) -> None:
        self._by_code.clear()
