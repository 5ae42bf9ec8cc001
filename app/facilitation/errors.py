"""Typed refusals raised by the core; the shell maps each to the contract's error.

Every refusal names what was wrong in words a facilitator could read, because the
message travels unchanged to the console and the phones.
"""

from __future__ import annotations


class FacilitationError(Exception):
    """A command was refused. ``code`` is the stable machine word, ``status`` its HTTP twin."""

    code = "error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(FacilitationError):
    code, status = "unauthorized", 401


class Forbidden(FacilitationError):
    code, status = "forbidden", 403


class NotFound(FacilitationError):
    code, status = "not_found", 404


class Conflict(FacilitationError):
    """Not allowed in the current state (e.g. ``next_turn`` with no round running)."""

    code, status = "conflict", 409


class Invalid(FacilitationError):
    code, status = "invalid", 422


class RateLimited(FacilitationError):
    code, status = "rate_limited", 429


class PossibleIdentifier(Invalid):
    """The text looks like it identifies someone; the writer must edit or confirm it."""

    code = "possible_identifier"
