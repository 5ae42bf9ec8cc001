"""The anonymous evaluation in the core: answered once on the phones during the check-out,
counted apart from who answered, shown only as a spread of at least k answers."""

from __future__ import annotations

import json

import pytest

from app.facilitation.errors import Conflict, Invalid, PossibleIdentifier
from app.facilitation.formats import builtin_formats, parse_format, with_statements
from app.facilitation.models import FACILITATOR, SCREEN, Settings
from app.facilitation.views import view_for
from tests.support.core import folded, person, send, session


def at_check_out(people: int = 4, k: int | None = None):
    state = session("check-in-out", people)
    if k is not None:
        state = state.model_copy(update={"settings": state.settings.model_copy(update={"evaluation_k": k})})
    state = send(state, {"type": "start"})
    return send(state, {"type": "goto_phase", "phase_id": "check-out"}, now=1)


def answer(state, i: int, scores, now: float, note: str = "", confirmed: bool = False):
    return send(state, {"type": "evaluate", "scores": list(scores), "note": note, "confirmed": confirmed},
                person(i), now=now)


def test_the_builtin_formats_with_a_check_out_ask_three_statements() -> None:
    spec = builtin_formats()["check-in-out"]
    assert spec.evaluation == ("I felt safe to speak", "I felt listened to", "This will help my practice")
    assert builtin_formats()["troika"].evaluation == ()


def test_a_format_file_may_define_its_own_statements_but_needs_a_check_out_to_ask_them() -> None:
    base = 'id = "x"\ntitle = "X"\nevaluation = ["It helped"]\n[[phases]]\nid = "a"\ntitle = "A"\nkind = "round"\nduration_s = 60\n'
    with pytest.raises(Invalid, match="check-out"):
        parse_format(base)
    assert parse_format(base + 'purpose = "check-out"\n').evaluation == ("It helped",)
    with pytest.raises(Invalid):
        parse_format(base.replace('["It helped"]', '[""]') + 'purpose = "check-out"\n')


def test_a_group_replaces_the_statements_with_its_own() -> None:
    spec = with_statements(builtin_formats()["balint"], ["We kept to time", "I could say what was hard"])
    assert spec.evaluation == ("We kept to time", "I could say what was hard")
    assert with_statements(builtin_formats()["troika"], ["x"]).evaluation == ()  # nowhere to ask them
    with pytest.raises(Invalid):
        with_statements(spec, ["x" * 500])


def test_it_is_answered_only_during_the_check_out_and_once_each() -> None:
    state = send(session("check-in-out", 3), {"type": "start"})
    with pytest.raises(Conflict, match="check-out"):
        answer(state, 0, (5, 5, 5), now=1)
    state = send(state, {"type": "goto_phase", "phase_id": "check-out"}, now=1)
    assert view_for(state, person(0), 2)["me"]["evaluation_due"] is True
    state = answer(state, 0, (5, 4, 3), now=2)
    me = view_for(state, person(0), 3)["me"]
    assert me["evaluation_answered"] is True and me["evaluation_due"] is False
    assert view_for(state, person(1), 3)["me"]["evaluation_answered"] is False
    with pytest.raises(Conflict, match="already"):
        answer(state, 0, (1, 1, 1), now=3)
    with pytest.raises(Conflict, match="each of the 3"):
        answer(state, 1, (1, 1), now=3)


def test_an_answer_moves_nothing_the_room_sees_until_the_folds() -> None:
    state = at_check_out()
    version = state.version
    state = answer(state, 0, (5, 4, 3), now=2)
    assert state.version == version  # quiet: no version, no frame
    assert view_for(state, SCREEN, 2)["evaluation"]["answered"] == 0
    state = folded(state, 40)
    assert view_for(state, SCREEN, 40)["evaluation"]["answered"] == 1


def test_the_spread_shows_only_once_k_have_answered_and_never_moves_by_fewer() -> None:
    state = at_check_out(people=6)
    for i, scores in enumerate([(5, 4, 3), (4, 4, 2)]):
        state = answer(state, i, scores, now=2 + i)
    state = folded(state, 40)
    with pytest.raises(Conflict, match="fewer than 3"):
        send(state, {"type": "show_evaluation"}, now=41)
    state = folded(answer(state, 2, (3, 5, 1), now=42), 80)
    state = send(state, {"type": "show_evaluation"}, now=81)
    shown = view_for(state, SCREEN, 81)["evaluation"]
    assert shown["answered"] == 3 and shown["in_spread"] == 3
    assert [s["distribution"] for s in shown["statements"]] == [[0, 0, 1, 1, 1], [0, 0, 0, 2, 1], [1, 1, 1, 0, 0]]
    # Two more answers: the spread stays as shown; a showing needs three new ones.
    state = folded(answer(answer(state, 3, (1, 1, 1), now=82), 4, (1, 1, 1), now=83), 120)
    with pytest.raises(Conflict, match="since it was last shown"):
        send(state, {"type": "show_evaluation"}, now=121)
    assert view_for(state, SCREEN, 121)["evaluation"]["statements"][0]["distribution"] == [0, 0, 1, 1, 1]


def test_leaving_the_check_out_shows_the_spread_if_enough_answered() -> None:
    state = at_check_out(people=3)
    for i in range(3):
        state = answer(state, i, (4, 4, 4), now=2 + i)
    state = folded(state, 40)
    state = send(state, {"type": "close"}, now=41)
    assert view_for(state, SCREEN, 41)["evaluation"]["statements"][1]["distribution"] == [0, 0, 0, 3, 0]


def test_k_is_a_setting() -> None:
    assert Settings().evaluation_k == 3
    state = at_check_out(people=4, k=4)
    for i in range(3):
        state = answer(state, i, (4, 4, 4), now=2 + i)
    state = send(folded(state, 40), {"type": "close"}, now=41)
    assert view_for(state, SCREEN, 41)["evaluation"]["statements"][0]["distribution"] is None


def test_the_free_text_line_passes_the_identifier_guard_and_shows_only_with_the_spread() -> None:
    state = at_check_out(people=3)
    with pytest.raises(PossibleIdentifier):
        answer(state, 0, (4, 4, 4), now=2, note="Mrs Patel's daughter rang 07700 900123")
    state = answer(state, 0, (4, 4, 4), now=2, note="More time for the case next time")
    state = answer(state, 1, (3, 3, 3), now=3, note="Mr Smith was a useful example", confirmed=True)
    state = answer(state, 2, (5, 5, 5), now=4)
    assert view_for(folded(state, 40), SCREEN, 40)["evaluation"]["notes"] == []
    state = send(folded(state, 40), {"type": "show_evaluation"}, now=41)
    notes = view_for(state, SCREEN, 41)["evaluation"]["notes"]
    assert notes == sorted(["More time for the case next time", "Mr Smith was a useful example"])


def test_no_view_or_stored_state_says_who_gave_which_score() -> None:
    state = at_check_out(people=3)
    for i, scores in enumerate([(1, 2, 3), (5, 5, 5), (2, 2, 2)]):
        state = answer(state, i, scores, now=2 + i, note=f"line {i}")
    state = send(folded(state, 40), {"type": "show_evaluation"}, now=41)
    stored = state.model_dump_json()
    for i in range(3):
        assert f"p{i}" not in json.dumps(state.evaluation.model_dump())
    assert state.evaluation.answered == tuple(sorted(state.evaluation.answered))
    for viewer in (FACILITATOR, SCREEN, person(0)):
        ev = view_for(state, viewer, 41)["evaluation"]
        assert set(ev) == {"statements", "answered", "in_spread", "notes", "k"}
    assert "secret of p" not in stored


# ---------------------------------------------------------------- on the pages

from app.live.htmx import decode_form, render_regions  # noqa: E402


def regions(state, actor) -> dict[str, str]:
    return render_regions(state, actor, 50.0, {})


def test_the_phone_asks_each_statement_during_the_check_out_and_forgets_the_form_once_answered() -> None:
    state = at_check_out(people=3)
    phone = regions(state, person(0))["evaluation"]
    assert 'value="evaluate"' in phone and phone.count('type="radio"') == 15
    for n in range(3):  # one radio group per statement
        assert phone.count(f'name="score_{n}"') == 5 and f'id="ev-{n}-5"' in phone
    assert "<legend>I felt listened to</legend>" in phone and 'for="evaluation-note"' in phone
    state = answer(state, 0, (4, 4, 4), now=2)
    assert 'value="evaluate"' not in regions(state, person(0))["evaluation"]
    assert 'value="evaluate"' in regions(state, person(1))["evaluation"]


def test_the_screen_and_console_show_the_spread_only_once_shown() -> None:
    state = at_check_out(people=3)
    for i, scores in enumerate([(5, 4, 3), (4, 4, 2), (3, 5, 1)]):
        state = answer(state, i, scores, now=2 + i, note="Good pace" if i == 1 else "")
    state = folded(state, 40)
    assert "<svg" not in regions(state, SCREEN)["evaluation"]
    console = regions(state, FACILITATOR)["safety"]
    assert "3 answered. The spread is shown once at least 3" in console and 'value="show_evaluation"' in console
    state = send(state, {"type": "show_evaluation"}, now=41)
    screen = regions(state, SCREEN)["evaluation"]
    assert "1 chose 3, 1 chose 4, 1 chose 5" in screen and "Good pace" in screen
    assert 'value="show_evaluation"' not in regions(state, FACILITATOR)["safety"]


def test_the_pages_send_one_radio_group_per_statement_as_the_scores() -> None:
    _, command = decode_form(json.dumps({"cid": "c1", "type": "evaluate", "score_1": "4", "score_0": "5",
                                         "score_2": "2", "note": ""}))
    assert command == {"type": "evaluate", "scores": [5, 4, 2]}
    _, again = decode_form(json.dumps({"cid": "c2", "type": "evaluate", "scores": "[5, 4, 2]", "note": "x",
                                       "confirmed": "true"}))
    assert again == {"type": "evaluate", "scores": [5, 4, 2], "note": "x", "confirmed": True}


# ---------------------------------------------------------------- the record's charts

def test_a_statement_a_meeting_did_not_ask_has_no_bar_while_a_suppressed_one_is_marked() -> None:
    from app.facilitation import record
    rows = [{"id": "a", "at": 1.7e9, "format": "F", "minutes": 60, "attended": 4, "evenness": 0.9, "k": 3,
             "method": "noisy-mean-1", "answered": 4, "statements": [{"text": "Old", "mean": 3.6}]},
            {"id": "b", "at": 1.7e9 + 86400 * 30, "format": "F", "minutes": 60, "attended": 2, "evenness": 0.5,
             "k": 3, "method": "noisy-mean-1", "answered": 2, "statements": [{"text": "New", "mean": None}]}]
    charts = record.charts(rows)
    old, new = charts["statements"]
    assert [b["w"] > 0 for b in old["bars"]] == [True, False] and old["bars"][1]["said"] == "not asked"
    assert [b["w"] > 0 for b in new["bars"]] == [False, True] and new["bars"][1]["suppressed"]
    assert new["bars"][1]["said"] == "fewer than 3, not shown" and new["bars"][1]["value"] == "<3"
    assert [b["suppressed"] for b in charts["attendance"]["bars"]] == [False, True]
    assert record.table(rows)[1] == ["2023-11-14", "", "F", "60", "4", "0.9", "4", "Old", "3.6"]
    assert old["bars"][0]["w"] == round(record.BAR_W * 3.6 / 5, 1) and old["bars"][0]["number"] == 3.6


def test_a_row_kept_before_the_means_were_noisy_shows_no_scores() -> None:
    from app.facilitation import record
    row = {"id": "a", "at": 1.7e9, "format": "F", "minutes": 60, "attended": 4, "evenness": 0.9, "k": 3,
           "answered": 4, "statements": [{"text": "Old", "counts": [0, 0, 1, 3, 0]}]}
    assert record.shown([row])[0]["statements"] == [{"text": "Old", "mean": None}]
    assert record.table([row])[1] == ["2023-11-14", "", "F", "60", "4", "0.9", "4", "Old", ""]
