"""Stopping the shell's own background tasks at shutdown."""

from __future__ import annotations

import asyncio


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait until it has finished, whatever it ended with:
    shutting down must not fail because a loop had already died of a lost connection."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
