"""How a duration reads on every page and download: ``m:ss``, one rule for all of them."""

from __future__ import annotations

import math


def minutes_seconds(seconds: float | None, *, countdown: bool = False) -> str:
    """``m:ss``; "-" when there is no duration.

    A countdown rounds up, so it reads 0:01 until the turn is really over; time spoken or
    planned rounds down, so it never claims a second nobody had.
    """
    if seconds is None:
        return "-"
    whole = max(0, math.ceil(seconds - 1e-6) if countdown else int(seconds + 1e-6))
    return f"{whole // 60}:{whole % 60:02d}"
