"""The floor over HTTP and the JSON socket, in both store modes: the presenter answers in a
questions phase and listens only in Balint's exploration; a round's ``next_id`` never names
someone who left, and the next turn goes to the person it named; hands go down with their
phase; a refusal says why in its ``reason``."""

from __future__ import annotations

from typing import Any

from tests.support.client import Api, LiveClient, error_of
from tests.support.server import ServerProcess
from tests.test_protocol import run

NAMES = ("Ana", "Ben", "Cleo", "Dev", "Eve")


class Room:
    """A session over HTTP: the facilitator's commands and each person's, by name."""

    def __init__(self, api: Api, fmt: str) -> None:
        self.api = api
        created = api.create_session("Floor", format=fmt)
        self.code, self.fac = created["code"], created["facilitator_token"]
        joined = {n: api.join(self.code, n) for n in NAMES}
        self.ids = {n: j["participant_id"] for n, j in joined.items()}
        self.tokens = {n: j["token"] for n, j in joined.items()}

    def send(self, command: dict[str, Any], who: str | None = None) -> dict[str, Any]:
        return self.api.ok(self.code, self.tokens[who] if who else self.fac, command)

    def refused(self, command: dict[str, Any], who: str | None = None) -> dict[str, Any]:
        answer = self.api.command(self.code, self.tokens[who] if who else self.fac, command)
        assert answer.status_code >= 400, answer.text
        return error_of(answer)

    def view(self, who: str | None = None) -> dict[str, Any]:
        return self.api.view(self.code, self.tokens[who] if who else self.fac)

    def presenting(self, name: str) -> None:
        self.send({"type": "start"})
        self.send({"type": "goto_phase", "phase_id": "presentation"})
        self.send({"type": "set_presenter", "participant_id": self.ids[name]})


def test_the_balint_presenter_answers_factual_questions_and_listens_in_the_exploration(server: ServerProcess) -> None:
    with Api(server.base_url) as api:
        room = Room(api, "balint")
        room.presenting("Ben")
        room.send({"type": "goto_phase", "phase_id": "questioning"})
        ben = room.view("Ben")
        assert ben["me"]["listening"] is False and ben["me"]["answering"] is True and ben["answerer_id"] == room.ids["Ben"]
        room.send({"type": "raise_hand"}, "Cleo")
        room.send({"type": "give_turn", "participant_id": room.ids["Cleo"]})
        room.send({"type": "yield_turn"}, "Cleo")
        turn = room.view()["turn"]  # the question asked, the presenter answers it
        assert turn["participant_id"] == room.ids["Ben"] and turn["source"] == "answer"
        room.send({"type": "yield_turn"}, "Ben")
        room.send({"type": "give_turn", "participant_id": room.ids["Ben"]})  # the facilitator gives him the floor
        assert room.view()["turn"]["source"] == "answer"

        room.send({"type": "raise_hand"}, "Dev")
        room.send({"type": "next_phase"})  # the exploration: the presenter sits back
        view = room.view("Dev")
        assert view["phase"]["id"] == "discussion" and view["queue"] == [] and view["me"]["hand_lowered"] is True
        assert room.view("Ben")["me"]["listening"] is True
        refusal = room.refused({"type": "give_turn", "participant_id": room.ids["Ben"]})
        assert (refusal["code"], refusal["reason"]) == ("conflict", "listens_only")
        refusal = room.refused({"type": "raise_hand"}, "Ben")
        assert (refusal["code"], refusal["reason"]) == ("conflict", "listens_only")


def test_an_als_presenter_is_given_the_floor_to_answer_clarifying_questions(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            room = Room(api, "action-learning-set")
            room.presenting("Ana")
            fac = await LiveClient.connect(server.ws_base, room.code, room.fac)
            try:
                await fac.apply({"type": "goto_phase", "phase_id": "clarifying"})
                assert fac.view["answerer_id"] == room.ids["Ana"]
                await fac.apply({"type": "give_turn", "participant_id": room.ids["Ana"]})
                assert fac.view["turn"]["participant_id"] == room.ids["Ana"] and fac.view["turn"]["source"] == "answer"
                refused = await fac.refused({"type": "next_turn"}, "conflict")
                assert refused["error"]["reason"] == "no_round"
                refused = await fac.refused({"type": "start_round", "seconds_per_turn": 9999}, "invalid")
                assert refused["error"]["reason"] == "invalid_field" and refused["error"]["values"]["field"] == "seconds_per_turn"
            finally:
                await fac.close()

    run(scenario())


def test_next_id_never_names_a_leaver_and_the_next_turn_goes_to_the_person_it_named(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            room = Room(api, "check-in-out")
            fac = await LiveClient.connect(server.ws_base, room.code, room.fac)
            try:
                await fac.apply({"type": "start"})
                await fac.apply({"type": "start_round", "seconds_per_turn": 60})
                order = fac.view["round"]["order"]
                assert fac.view["turn"]["participant_id"] == order[0] and fac.view["round"]["next_id"] == order[1]
                leaver = next(n for n, pid in room.ids.items() if pid == order[1])
                room.send({"type": "leave"}, leaver)
                view = (await fac.wait_for_state(lambda v: v["round"]["next_id"] != order[1]))["view"]
                assert view["round"]["next_id"] == order[2]
                places = {p["participant_id"]: p["place"] for p in view["round"]["places"]}
                assert places[order[1]] == "left" and places[order[2]] == "next"
                named = view["round"]["next_id"]
                await fac.apply({"type": "next_turn"})
                assert fac.view["turn"]["participant_id"] == named
                assert room.view()["turn"]["participant_id"] == named  # HTTP sees the same
            finally:
                await fac.close()

    run(scenario())
