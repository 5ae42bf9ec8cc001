"""A private reflection is readable by its writer alone, over the real server."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.support.server import ServerProcess

SECRET_WORDS = "I felt ashamed of snapping at the night staff"


def _setup(server: ServerProcess) -> tuple[httpx.Client, str, dict, list[dict]]:
    http = httpx.Client(base_url=server.base_url, timeout=10)
    created = http.post("/api/sessions", json={"title": "Reflective team", "format": "gibbs"}).json()
    people = [http.post(f"/api/sessions/{created['code']}/participants", json={"name": n}).json()
              for n in ("Writer", "Neighbour")]
    return http, created["code"], created, people


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _all_frames(server: ServerProcess, code: str, tokens: list[str], act) -> list[str]:
    frames: list[str] = []
    sockets = [await websockets.connect(server.live_url(code, t)) for t in tokens]
    try:
        for ws in sockets:
            frames.append(await asyncio.wait_for(ws.recv(), 5))
        await asyncio.to_thread(act)
        for ws in sockets:  # every change the act made reaches every socket as a state frame
            while True:
                try:
                    frames.append(await asyncio.wait_for(ws.recv(), 1.0))
                except TimeoutError:
                    break
    finally:
        for ws in sockets:
            await ws.close()
    return frames


def test_reflection_is_readable_by_its_writer_alone(server: ServerProcess) -> None:
    http, code, created, (writer, neighbour) = _setup(server)
    http.post(f"/api/sessions/{code}/commands", json={"type": "start"}, headers=auth(created["facilitator_token"]))
    http.post(f"/api/sessions/{code}/commands", json={"type": "add_action", "text": "Book supervision"},
              headers=auth(writer["token"]))
    http.post(f"/api/sessions/{code}/commands", json={"type": "add_action", "text": "Neighbour's own plan"},
              headers=auth(neighbour["token"]))

    def write() -> None:
        answer = http.put(f"/api/sessions/{code}/reflection", headers=auth(writer["token"]),
                          json={"feelings": SECRET_WORDS, "action_plan": "Pause before replying"})
        assert answer.status_code == 204, answer.text

    tokens = [created["facilitator_token"], created["screen_token"], writer["token"], neighbour["token"]]
    frames = asyncio.run(_all_frames(server, code, tokens, write))
    assert not any(SECRET_WORDS in f for f in frames)
    assert any(json.loads(f)["view"]["me"].get("has_reflection") for f in frames if '"state"' in f)

    mine = http.get(f"/api/sessions/{code}/reflection", headers=auth(writer["token"])).json()
    assert {p["key"]: p["text"] for p in mine["prompts"]}["feelings"] == SECRET_WORDS
    assert [a["text"] for a in mine["actions"]] == ["Book supervision"]

    download = http.get(f"/api/sessions/{code}/reflection?download=md", headers=auth(writer["token"]))
    assert "attachment" in download.headers["content-disposition"]
    assert SECRET_WORDS in download.text and "Book supervision" in download.text
    assert "Neighbour's own plan" not in download.text and "Reflective team" not in download.text

    theirs = http.get(f"/api/sessions/{code}/reflection", headers=auth(neighbour["token"])).json()
    assert SECRET_WORDS not in json.dumps(theirs)
    for token in (created["facilitator_token"], created["screen_token"]):
        refused = http.get(f"/api/sessions/{code}/reflection", headers=auth(token))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert SECRET_WORDS not in http.get(f"/api/sessions/{code}", headers=auth(token)).text

    assert server.log_path is not None and SECRET_WORDS not in server.log_path.read_text(errors="replace")


def test_reflection_with_an_identifier_needs_confirming(server: ServerProcess) -> None:
    http, code, created, (writer, _) = _setup(server)
    body = {"description": "Mrs Patel rang at 07700 900123"}
    refused = http.put(f"/api/sessions/{code}/reflection", headers=auth(writer["token"]), json=body)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "possible_identifier"
    assert http.get(f"/api/sessions/{code}/reflection", headers=auth(writer["token"])).json()["prompts"][0]["text"] == ""
    # The phone asks the same as a question, not a refused request (no error in its console).
    asked = http.put(f"/api/sessions/{code}/reflection?ask=1", headers=auth(writer["token"]), json=body)
    assert asked.status_code == 200 and asked.json()["saved"] is False
    assert "phone number" in asked.json()["possible_identifier"]
    assert http.get(f"/api/sessions/{code}/reflection", headers=auth(writer["token"])).json()["prompts"][0]["text"] == ""
    kept = http.put(f"/api/sessions/{code}/reflection", headers=auth(writer["token"]), json={**body, "confirmed": True})
    assert kept.status_code == 204
