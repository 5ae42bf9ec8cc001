"""Every figure made from the evaluation's anonymous answers, as it may leave the phones.

The rules, all here (the room's spread, the group's record, its CSV and its report link all
take their figures from this module):

- **The room's spread moves only in steps of at least k answers** (``spread_may_move``): a
  showing that moved by one answer would give that answer away to whoever saw who just
  answered. Answers after the last showing wait for the next one, and are never shown if
  fewer than k of them came.
- **The record keeps only what the room was last shown** (``kept_figures``): its figures are
  made from the spread as last shown, never from the counts at close, so subtracting what the
  room saw from what the record keeps leaves nothing (answers that came after the last
  showing are in neither).
- **The record publishes no count of scores, only a noisy mean per statement**: the sum of
  the shown spread's scores plus two-sided geometric noise (the discrete Laplace mechanism),
  divided by the number of answers in it, kept between 1 and 5 and rounded to one decimal.
  Changing one person's answer to a statement moves the sum by at most 4 (``SPAN``), so with
  the noise's ``alpha = exp(-epsilon / SPAN)`` the chance of any published mean changes by at
  most a factor ``exp(epsilon)`` (``EPSILON`` per statement per meeting): nobody, whatever
  else they know (everyone else's answers, the same group's other meetings, the room's
  spread), can tell one person's score from another's better than that factor allows. With
  no counts published there is no hidden cell to rebuild from zeros, totals and means.
- **The noise is drawn once, at close, from the session's secret** (``seeded``): the record
  keeps the noisy figure and never the exact one, and a later change to the closed session
  recomputes the same row, so asking again never yields fresh noise to average away.
- **Counts of people below k** (attendance, how many answered) are shown as ``<k``
  (``count_shown``); a statement's mean only when at least k answered.

The randomness comes in as a function returning uniform floats in (0, 1], so the core stays
pure and a test can pass its own.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence

Uniform = Callable[[], float]

EPSILON = 1.0  # the privacy budget of one person's answer to one statement at one meeting
SPAN = 4  # the most one person's score (1 to 5) can move a statement's sum
DECIMALS = 1  # a published mean's precision
METHOD = "noisy-mean-1"  # marks a record row whose figures were made by these rules


# ---------------------------------------------------------------- the room's spread

def spread_may_move(unshown: int, k: int) -> bool:
    """Whether the room's spread may be shown again: only with at least k answers it lacks."""
    return unshown >= k


# ---------------------------------------------------------------- counts of people

def count_shown(n: int, k: int) -> int | None:
    """A count of people as the record shows it: None (read ``<k``) when above zero and below k."""
    return None if 0 < n < k else n


# ---------------------------------------------------------------- the noise

def seeded(secret: str) -> Uniform:
    """A reproducible stream of uniform floats in (0, 1] from a secret (SHA-256 in counter
    mode): the same secret always yields the same noise, and without it the noise is unknown."""
    counter = itertools.count()

    def draw() -> float:
        digest = hashlib.sha256(f"{secret}\x1fnoise\x1f{next(counter)}".encode()).digest()
        return ((int.from_bytes(digest[:8], "big") >> 11) + 1) / 2.0**53

    return draw


def alpha(epsilon: float = EPSILON) -> float:
    """The two-sided geometric noise's parameter for a sum one person moves by at most SPAN."""
    return math.exp(-epsilon / SPAN)


def geometric_noise(a: float, uniform: Uniform) -> int:
    """A draw of Z with P(Z = z) = (1 - a) / (1 + a) * a**|z|: the difference of two geometric draws."""
    def one() -> int:
        return math.floor(math.log(uniform()) / math.log(a))
    return one() - one()


def published_mean(noisy_sum: int, answered: int) -> float:
    """What a noisy sum of ``answered`` scores is published as: its mean, between 1 and 5, rounded."""
    return round(min(5.0, max(1.0, noisy_sum / answered)), DECIMALS)


# ---------------------------------------------------------------- the record's figures

Spread = Sequence[int]


def kept_figures(spreads: Sequence[Spread | None], k: int, uniform: Uniform,
                 epsilon: float = EPSILON) -> tuple[int, list[float | None]]:
    """What the record keeps of a meeting's evaluation: how many answers the room was last
    shown, and one noisy mean per statement (None for all when that is fewer than k, or the
    room was never shown a spread)."""
    shown = [s for s in spreads if s is not None]
    answered = sum(shown[0]) if shown and len(shown) == len(spreads) else 0
    if answered < k:
        return answered, [None] * len(spreads)
    a = alpha(epsilon)
    means: list[float | None] = []
    for spread in spreads:
        assert spread is not None and sum(spread) == answered
        total = sum((score + 1) * n for score, n in enumerate(spread))
        means.append(published_mean(total + geometric_noise(a, uniform), answered))
    return answered, means
