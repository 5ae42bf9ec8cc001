"""Typed refusals raised by the core; the shell maps each to the contract's error.

Every refusal says why twice: ``reason``, a stable snake_case word (with the ``values`` a
sentence about it needs), for programs and for pages that say it in the reader's language;
and ``message``, words a facilitator could read, which travel unchanged to logs and the API.
A refusal that names no reason of its own carries its kind's (``not_now`` for a conflict).
The reasons are listed in docs/live-socket.md.
"""

from __future__ import annotations

from typing import Any


class FacilitationError(Exception):
    """A command was refused. ``code`` is the stable machine word, ``status`` its HTTP twin,
    ``reason`` why (snake_case), ``values`` what a sentence about it needs."""

    code = "error"
    status = 400
    reason = "refused"

    def __init__(self, message: str, reason: str | None = None, **values: Any) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.values = values

    def body(self) -> dict[str, Any]:
        """The contract's error object: ``{code, reason, message}``, and ``values`` when there are any."""
        return error_object(self.code, self.message, self.reason, self.values)


def error_object(code: str, message: str, reason: str | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every refusal's body, whichever layer sends it: the reason defaults to the code's own."""
    body: dict[str, Any] = {"code": code, "reason": reason or DEFAULT_REASONS.get(code, code), "message": message}
    if values:
        body["values"] = values
    return body


class Unauthorized(FacilitationError):
    code, status, reason = "unauthorized", 401, "bad_token"


class Forbidden(FacilitationError):
    code, status, reason = "forbidden", 403, "not_allowed"


class NotFound(FacilitationError):
    code, status, reason = "not_found", 404, "not_found"


class Conflict(FacilitationError):
    """Not allowed in the current state (e.g. ``next_turn`` with no round running)."""

    code, status, reason = "conflict", 409, "not_now"


class Invalid(FacilitationError):
    code, status, reason = "invalid", 422, "invalid_input"


class RateLimited(FacilitationError):
    code, status, reason = "rate_limited", 429, "too_many_requests"


class PossibleIdentifier(Invalid):
    """The text looks like it identifies someone; the writer must edit or confirm it."""

    code, reason = "possible_identifier", "possible_identifier"


# The reason of a refusal that names none, by its code (the shell's own refusals too).
DEFAULT_REASONS = {
    "unauthorized": "bad_token", "forbidden": "not_allowed", "not_found": "not_found", "conflict": "not_now",
    "invalid": "invalid_input", "rate_limited": "too_many_requests", "unavailable": "try_again",
    "possible_identifier": "possible_identifier", "method_not_allowed": "method_not_allowed",
    "internal": "internal",
}
