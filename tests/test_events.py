"""What the core says happened is counted by the shell, and logged unless it is an anonymous act."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.config import AppSettings
from app.facilitation.commands import parse_command
from app.facilitation.transition import ANONYMOUS_ACTS
from app.realtime.runtime import build_runtime


def test_events_are_counted_and_anonymous_acts_never_reach_the_log(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    async def session() -> dict[str, int]:
        rt = await build_runtime(AppSettings(groups_db=str(tmp_path / "groups.sqlite3")))
        try:
            created = await rt.service.create_session("Team", "check-in-out", None)
            joined = [await rt.service.join(created.code, name) for name in ("Ana", "Ben", "Cy")]
            _, fac = await rt.service.authenticate(created.code, created.facilitator_token)
            await rt.service.execute(fac, parse_command({"type": "start"}))
            for person in joined:
                _, caller = await rt.service.authenticate(created.code, person.token)
                await rt.service.execute(caller, parse_command(
                    {"type": "submit_item", "kind": "question", "text": "What would help?"}))
            await rt.service.execute(fac, parse_command({"type": "start_round"}))
            return dict(rt.service.events)
        finally:
            await rt.close()

    with caplog.at_level(logging.DEBUG, logger="talkingpiece.sessions"):
        counts = asyncio.run(session())
    assert counts["participant_joined"] == 3 and counts["item_submitted"] == 3
    assert counts["session_started"] == 1 and counts["round_started"] == 1
    logged = caplog.text
    assert "session_started" in logged and "round_started" in logged
    assert not [act for act in ANONYMOUS_ACTS if act in logged] and "presence_noted" not in logged
