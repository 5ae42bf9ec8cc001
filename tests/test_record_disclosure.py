"""The red team's three ways of undoing the group's record, run against the core.

Each attack reads only what is published (the record as JSON and as CSV, the room's spread)
and knows the method (docs/groups.md): the noise's law and budget, the rounding, k. It does
not know a session's secret, from which each meeting's noise is drawn.

(a) Rebuild hidden counts from zeros, totals and means, for meetings of 3 to 12 answerers.
(b) Subtract the room's last shown spread from what the record kept at close.
(c) Subtract two meetings whose attendance differs by one person who answered, the others
    answering as before.
"""

from __future__ import annotations

import functools
import math
import random
from itertools import product

from app.facilitation import disclosure, record
from app.facilitation.models import SCREEN
from app.facilitation.transition import salted_hash
from app.facilitation.views import view_for
from tests.test_evaluation import answer, at_check_out
from tests.test_room_safety import folded, send

EPS = disclosure.EPSILON
K = 3


# ---------------------------------------------------------------- the attacker's tools

def noise_pmf(z: int) -> float:
    """The published law of the noise added to a statement's sum (docs/groups.md)."""
    a = math.exp(-EPS / 4)
    return (1 - a) / (1 + a) * a ** abs(z)


def as_published(noisy_sum: int, n: int) -> float:
    return round(min(5.0, max(1.0, noisy_sum / n)), 1)


@functools.lru_cache(maxsize=None)
def likelihood(published: float, true_sum: int, n: int) -> float:
    """How likely the published mean is if the n answers summed to ``true_sum``."""
    return sum(noise_pmf(s - true_sum) for s in range(true_sum - 400, true_sum + 400)
               if as_published(s, n) == published)


def histograms(n: int):
    """Every spread of n answers over the scores 1 to 5."""
    for a, b, c, d in product(range(n + 1), repeat=4):
        if a + b + c + d <= n:
            yield (a, b, c, d, n - a - b - c - d)


def total(spread) -> int:
    return sum((score + 1) * count for score, count in enumerate(spread))


def meeting(answers: list[tuple[int, ...]], salt: str = "salt", show_after: int | None = None):
    """A check-out where everyone in ``answers`` answers, folded and closed: (state, its record row).
    With ``show_after``, the facilitator shows the spread after that many answers."""
    state = at_check_out(people=len(answers))
    state = state.model_copy(update={"salt": salt})
    now = 2.0
    for i, scores in enumerate(answers):
        state = answer(state, i, scores, now=now)
        now += 1
        if show_after is not None and i + 1 == show_after:
            state = folded(state, now + 40)
            now += 41
            state = send(state, {"type": "show_evaluation"}, now=now)
    state = folded(state, now + 40)
    state = send(state, {"type": "close"}, now=now + 41)
    return state, record.meeting_of(state)


def published(row) -> list[list[str]]:
    """The record's CSV rows for one meeting (header first), as a commissioner downloads it."""
    return record.table([row])


# ---------------------------------------------------------------- (a) hidden counts

def spreads_with_small_cells(n: int) -> list[tuple[int, ...]]:
    """Spreads with cells of one and two people (under k = 3), as the red team used."""
    out = [(1, 0, 0, 0, n - 1), (0, 2, 0, n - 2, 0), (1, 0, 2, 0, n - 3)]
    return [s for s in out if min(s) >= 0]


def answers_of(spread) -> list[tuple[int, int, int]]:
    return [(score + 1,) * 3 for score, count in enumerate(spread) for _ in range(count)]


def test_the_record_publishes_no_count_of_scores_only_counts_of_people_and_means() -> None:
    _, row = meeting(answers_of((1, 0, 2, 0, 1)))
    rows = published(row)
    assert rows[0] == ["date", "title", "format", "minutes", "attended", "evenness", "answered", "statement", "mean"]
    assert all(len(r) == 9 for r in rows)
    shown = record.shown([row])[0]
    assert set(shown["statements"][0]) == {"text", "mean"}
    assert "counts" not in str(row) and all(set(st) == {"text", "mean"} for st in row["statements"])


def test_no_hidden_count_is_pinned_down_by_totals_and_means_for_3_to_12_answerers() -> None:
    """For every meeting size from 3 to 12 and spreads with cells of one or two people: the
    exact solver (every spread whose mean rounds to the published one, with the published
    total) lands on the true value of a small cell only now and then, by chance, and the
    best solver (weighing every spread of n answers by how likely it makes the published
    figures) always finds another value of that cell at least exp(-c epsilon) as likely as
    the true one, for a cell of c people."""
    checked = rebuilt = 0
    for n in range(3, 13):
        for spread in spreads_with_small_cells(n):
            state, row = meeting(answers_of(spread), salt=f"salt {n} {spread}")
            csv_row = published(row)[1]
            assert csv_row[6] == str(n) and state.evaluation.tallies[0].spread == spread
            mean = float(csv_row[8])
            candidates = [h for h in histograms(n) if round(total(h) / n, 1) == mean]
            weights = {h: likelihood(mean, total(h), n) for h in histograms(n)}
            for cell, value in enumerate(spread):
                if not 0 < value < K:
                    continue
                checked += 1
                rebuilt += bool(candidates) and {h[cell] for h in candidates} == {value}
                rival = max(w for h, w in weights.items() if h[cell] != value)
                assert rival >= math.exp(-value * EPS) * weights[spread] * (1 - 1e-9), (n, spread, cell)
    assert checked >= 40 and rebuilt / checked <= 0.1  # by chance only; every one, before the noise


# ---------------------------------------------------------------- (b) the room's last spread

def test_the_record_keeps_the_spread_the_room_was_last_shown_and_nothing_after_it() -> None:
    """Three answer and the room is shown the spread; a fourth answers after it. Whatever the
    fourth chose, the record is the same, and holds as many answers as the room was shown."""
    others = [(4, 4, 3), (5, 4, 4), (3, 3, 3)]
    rows = []
    for last in [(1, 1, 1), (5, 5, 5), (2, 4, 1)]:
        state, row = meeting(others + [last], show_after=3)
        room = view_for(state, SCREEN, 1e4)["evaluation"]
        assert room["answered"] == 4 and room["in_spread"] == 3
        assert row["answered"] == room["in_spread"]
        rows.append(published(row))
    assert rows[0] == rows[1] == rows[2]


def test_when_the_close_shows_the_last_answers_the_record_keeps_that_showing() -> None:
    answers = [(4, 4, 3), (5, 4, 4), (3, 3, 3), (1, 1, 1), (2, 2, 2), (5, 5, 5)]
    state, row = meeting(answers, show_after=3)
    room = view_for(state, SCREEN, 1e4)["evaluation"]
    assert room["in_spread"] == 6 and row["answered"] == 6
    # The record is the room's last spread with the meeting's noise, and nothing else.
    spreads = [t.spread for t in state.evaluation.tallies]
    noise = disclosure.seeded(salted_hash(state.salt, "record noise"))
    assert disclosure.kept_figures(spreads, K, noise) == (6, [st["mean"] for st in row["statements"]])


def test_with_fewer_than_k_answers_the_room_is_never_shown_and_the_record_keeps_no_mean() -> None:
    state, row = meeting([(1, 1, 1), (5, 5, 5)])
    assert view_for(state, SCREEN, 1e4)["evaluation"]["in_spread"] == 0
    assert row["answered"] == 0 and all(st["mean"] is None for st in row["statements"])


def test_the_noise_is_drawn_from_the_sessions_secret_so_recomputing_yields_no_fresh_noise() -> None:
    state, row = meeting([(4, 4, 3), (5, 4, 4), (3, 3, 3)])
    assert record.meeting_of(state) == row  # a later change to the closed session keeps the same figures
    means = {tuple(st["mean"] for st in record.meeting_of(state.model_copy(update={"salt": f"s{i}"}))["statements"])
             for i in range(10)}
    assert len(means) > 1  # another secret, other noise


# ---------------------------------------------------------------- (c) two meetings, one more person

OTHERS = [(4, 4, 3), (5, 4, 4), (3, 3, 3), (4, 5, 4)]


def test_no_score_of_one_more_attendee_is_more_than_e_to_the_epsilon_likelier_than_another() -> None:
    """The red team knows the four others answered both meetings alike. For each statement,
    every score the fifth might have given explains the second meeting's published mean, and
    none is more than exp(epsilon) times likelier than another."""
    for trial, newcomer in enumerate([(1, 1, 1), (5, 5, 5), (2, 3, 4)]):
        _, first = meeting(OTHERS, salt=f"first {trial}")
        _, second = meeting(OTHERS + [newcomer], salt=f"second {trial}")
        for s in range(3):
            known = sum(a[s] for a in OTHERS)
            mean = second["statements"][s]["mean"]
            odds = [likelihood(mean, known + x, 5) for x in range(1, 6)]
            assert min(odds) > 0 and max(odds) <= math.exp(EPS) * min(odds) * (1 + 1e-9)


def test_subtracting_two_meetings_names_the_newcomers_score_little_better_than_a_guess() -> None:
    """Over 150 pairs of meetings, the red team's subtraction (second total minus first
    total) and its best guess given the known others name the newcomer's score for a
    statement at most exp(eps) / (exp(eps) + 4) of the time (41% at epsilon 1; 20% is a blind
    guess; every time before the noise), and all three scores of a meeting almost never."""
    draw = random.Random(7)
    subtracted = best = all_three = tries = 0
    for trial in range(150):
        newcomer = tuple(draw.randint(1, 5) for _ in range(3))
        first = disclosure.kept_figures(spreads(OTHERS), K, disclosure.seeded(f"a{trial}"))[1]
        second = disclosure.kept_figures(spreads(OTHERS + [newcomer]), K, disclosure.seeded(f"b{trial}"))[1]
        right = 0
        for s in range(3):
            tries += 1
            known = sum(a[s] for a in OTHERS)
            guess = round(5 * second[s] - 4 * first[s])
            subtracted += guess == newcomer[s]
            odds = [likelihood(second[s], known + x, 5) for x in range(1, 6)]
            mine = 1 + odds.index(max(odds))
            best += mine == newcomer[s]
            right += mine == newcomer[s]
        all_three += right == 3
    bound = math.exp(EPS) / (math.exp(EPS) + 4)
    assert subtracted / tries <= bound + 0.08 and best / tries <= bound + 0.08
    assert all_three / 150 <= 0.15


def spreads(answers: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Each statement's spread of these answers (as the room would be shown it)."""
    out = []
    for s in range(len(answers[0])):
        counts = [0] * 5
        for a in answers:
            counts[a[s] - 1] += 1
        out.append(tuple(counts))
    return out


# ---------------------------------------------------------------- the noise itself

def test_the_noise_follows_its_stated_law_and_is_the_same_for_the_same_secret() -> None:
    a, b = disclosure.seeded("one"), disclosure.seeded("one")
    assert [a() for _ in range(5)] == [b() for _ in range(5)]
    stream = disclosure.seeded("law")
    draws = [disclosure.geometric_noise(disclosure.alpha(), stream) for _ in range(20000)]
    for z in (-2, 0, 3):
        assert abs(draws.count(z) / len(draws) - noise_pmf(z)) < 0.01
    assert abs(sum(draws) / len(draws)) < 0.15
