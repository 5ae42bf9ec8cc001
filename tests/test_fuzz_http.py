"""Fuzzing the HTTP API from its own OpenAPI document, with schemathesis,
in process (``from_asgi``): FUZZ_CASES cases in all (2,000 by default; FUZZ_CASES=20000 for
a long local run), spread over the operations.

Every answer must be the contract's: never a 5xx, every 4xx in the error shape, the security
headers on all of them. A quarter of the cases each go to a real session with a real token
(facilitator, participant or screen) so that they get past the 404 and 401 and reach the
commands; afterwards that session still works and a bystander session is exactly as before.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from app.config import AppSettings
from app.main import create_app
from app.realtime.runtime import build_runtime

CASES = int(os.environ.get("FUZZ_CASES", "2000"))

SETTINGS = AppSettings(
    redis_url=None, groups_db=str(Path(tempfile.mkdtemp(prefix="tp-fuzz-")) / "groups.sqlite3"),
    data_dir=tempfile.mkdtemp(prefix="tp-fuzz-data-"),
    guesses_per_minute=1e9,  # every case comes from one address; the guard is tested in test_security
    session_join_burst_per_address=1e9,  # and joins the target session; the pace is tested in test_limits_hold
    max_sessions=1_000_000,
    tally_interval_s=0.1, presence_on_s=0, presence_off_s=0)  # the counts settle fast, before the bystander's view is kept
APP = create_app(SETTINGS)


class OneRuntime:
    """schemathesis ends an app's lifespan after every test (one per operation), and the app's
    lifespan builds a fresh, empty runtime each time; the fuzzing needs one throughout, so that
    the sessions made first are still there for every operation."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if not hasattr(self.app.state, "runtime"):
                    self.app.state.runtime = await build_runtime(SETTINGS)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


schema = schemathesis.openapi.from_asgi("/openapi.json", OneRuntime(APP))
OPERATIONS = sum(1 for _ in schema.get_all_operations())
PER_OPERATION = math.ceil(CASES / OPERATIONS)

calls: list[int] = []
_rotation = itertools.count()


@pytest.fixture(scope="module")
def rooms() -> dict[str, Any]:
    """A target session the fuzzer may change, and a bystander it must not."""
    def post(path: str, body: dict[str, Any], token: str | None = None, **params: str) -> Any:
        operation = schema[path]["POST"]
        case = operation.Case(path_parameters=params or None, body=body,
                              headers={"Authorization": f"Bearer {token}"} if token else None)
        response = case.call()
        assert response.status_code in (200, 201), response.text
        return response.json()

    made = {}
    for name in ("target", "bystander"):
        created = post("/api/sessions", {"title": f"{name} session"})
        code, fac = created["code"], created["facilitator_token"]
        person = post("/api/sessions/{code}/participants", {"name": "Rosa"}, code=code)
        post("/api/sessions/{code}/commands", {"type": "start"}, fac, code=code)
        post("/api/sessions/{code}/commands", {"type": "submit_item", "kind": "question", "text": "why?"},
             person["token"], code=code)
        made[name] = {"code": code, "facilitator": fac, "screen": created["screen_token"],
                      "participant": person["token"]}
    for _ in range(200):  # its question reaches the room's count at a fold: keep the view once it has
        if view(made["bystander"])["pending"]["question"] == 1:
            break
        time.sleep(0.02)
    made["bystander_view"] = view(made["bystander"])
    return made


def view(room: dict[str, str]) -> dict[str, Any]:
    response = schema["/api/sessions/{code}"]["GET"].Case(
        path_parameters={"code": room["code"]}, headers={"Authorization": f"Bearer {room['facilitator']}"}).call()
    assert response.status_code == 200, response.text
    return response.json()


def aim(case: Case, target: dict[str, str]) -> None:
    """Send a quarter of the cases each to the target session as one of its three roles."""
    if "code" not in (case.path_parameters or {}):
        return
    role = [None, "facilitator", "participant", "screen"][next(_rotation) % 4]
    if role == "facilitator" and case.method.upper() == "DELETE":
        role = "participant"  # erasing the target would end the fuzzing early (erase has its own tests)
    if role is not None:
        case.path_parameters["code"] = target["code"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {target[role]}"}


@schema.parametrize()
@settings(max_examples=PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_answers_any_input_with_the_contract(case: Case, rooms: dict[str, Any]) -> None:
    aim(case, rooms["target"])
    response = case.call()
    calls.append(response.status_code)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:500])
    assert "content-security-policy" in response.headers
    if case.path.startswith("/api/"):
        assert response.headers.get("cache-control") == ["no-store"]
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "reason", "message"} <= set(body["error"]) <= {"code", "reason", "message", "values"}, body
        assert "Traceback" not in body["error"]["message"]


def test_zz_the_fuzzing_ran_its_cases_and_the_sessions_survived(rooms: dict[str, Any]) -> None:
    # Operations without parameters run fewer cases (hypothesis stops once it has tried them all).
    assert len(calls) >= 0.8 * CASES, len(calls)
    assert all(status < 500 for status in calls)
    assert view(rooms["bystander"]) == rooms["bystander_view"]
    target = rooms["target"]
    after = view(target)
    assert after["code"] == target["code"]
    joined = schema["/api/sessions/{code}/participants"]["POST"].Case(
        path_parameters={"code": target["code"]}, body={"name": "After"}).call()
    assert joined.status_code in (201, 409), joined.text  # 409 only if the fuzzer closed it
