"""What an operator watches the server by: every metric, named once, in Prometheus' terms.

The code calls the small functions below at its choke points (the service's commands, the
hub's fan-out, the pages' rendering, Redis faults, the limits, the deadline timers); nothing
else in the app knows about Prometheus. docs/operations.md says what each metric means and
what to alert on.

Privacy: every label takes its values from a small fixed set (a command's type, an error's
code, a role, a template's file name, a limit's name). No session code, name, token or
anything a person wrote is ever a label; a session code is held for a moment as a key of
``_published`` (to time its fan-out) and never leaves the process.

Several workers (``uvicorn --workers``): with ``PROMETHEUS_MULTIPROC_DIR`` set, every worker
writes its values to files there and any worker's ``/metrics`` answers for all of them
(prometheus-client's multiprocess mode); gauges count the live workers only.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.registry import REGISTRY

from app.facilitation.errors import FacilitationError
from app.realtime.interfaces import UNAVAILABLE

log = logging.getLogger("talkingpiece.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # no "_created" series beside each counter and histogram: nothing to watch there
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

SOCKETS = Gauge("talkingpiece_open_sockets", "Live sockets open on this worker, by kind (pages or json) and role.",
                ["kind", "role"], multiprocess_mode="livesum")
SESSIONS = Gauge("talkingpiece_live_sessions", "Sessions with at least one live socket open on this worker.",
                 multiprocess_mode="livesum")
COMMANDS = Counter("talkingpiece_commands", "Commands (over HTTP and the live sockets) by type and outcome: "
                   "ok, an error code (invalid, conflict, forbidden, rate_limited, ...), or unavailable.",
                   ["type", "outcome"])
FANOUT = Histogram("talkingpiece_command_fanout_seconds",
                   "From a command's arrival to the end of its change's fan-out to this worker's sockets.",
                   buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
RENDER = Histogram("talkingpiece_region_render_seconds", "Rendering one region (a template block) of a page.",
                   ["template"], buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1))
REDIS_ERRORS = Counter("talkingpiece_redis_errors", "Faults reaching the session store (Redis; the disk in the "
                       "embedded mode), by where they were met: http, socket, presence, deadlines, pubsub.",
                       ["where"])
REDIS_RECONNECTS = Counter("talkingpiece_redis_reconnects", "Times the Redis pub/sub connection was lost and made again.")
REFUSALS = Counter("talkingpiece_refusals", "Requests, sockets and messages refused by a limit (SECURITY.md, "
                   "fair shares), by limit.", ["limit"])
TURN_LATENESS = Histogram("talkingpiece_turn_end_lateness_seconds",
                          "How long after its deadline a turn's end was stored and published.",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

for _kind in ("pages", "json"):  # every series there can be, from zero: a dashboard shows none open as 0
    for _role in ("facilitator", "participant", "screen"):
        SOCKETS.labels(_kind, _role)

WHERE = frozenset({"http", "socket", "presence", "deadlines", "pubsub"})
LIMITS = frozenset({"guesses", "sessions", "create_per_address", "join_per_address", "token_messages",
                    "session_messages", "socket_messages", "token_sockets", "connections"})
OUTCOMES = frozenset({"invalid", "unauthorized", "forbidden", "not_found", "conflict", "rate_limited",
                      "possible_identifier", "unavailable", "error"})
MAX_TIMED = 10_000  # changes awaiting their fan-out at once; older ones are forgotten (never delivered here)

_command_started: ContextVar[float | None] = ContextVar("talkingpiece_command_started", default=None)
_published: OrderedDict[tuple[str, int], float] = OrderedDict()

T = TypeVar("T")


# ------------------------------------------------------------------ sockets and sessions

def socket_opened(kind: str, role: str, first_of_session: bool) -> None:
    SOCKETS.labels(kind, role).inc()
    if first_of_session:
        SESSIONS.inc()


def socket_closed(kind: str, role: str, last_of_session: bool) -> None:
    SOCKETS.labels(kind, role).dec()
    if last_of_session:
        SESSIONS.dec()


# ------------------------------------------------------------------ commands and their fan-out

def counted(execute: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Wraps the service's ``execute(caller, command, ...)``: counts each command by its type and
    outcome, and notes when it arrived, for the time to its fan-out (``published``)."""

    @wraps(execute)
    async def wrapper(self: Any, caller: Any, command: Any, *args: Any, **kwargs: Any) -> T:
        started = _command_started.set(time.perf_counter())
        outcome = "error"
        try:
            result = await execute(self, caller, command, *args, **kwargs)
            outcome = "ok"
            return result
        except FacilitationError as exc:
            outcome = exc.code if exc.code in OUTCOMES else "error"
            raise
        except UNAVAILABLE:
            outcome = "unavailable"
            raise
        finally:
            _command_started.reset(started)
            COMMANDS.labels(command.type, outcome).inc()

    return wrapper


def published(code: str, version: int) -> None:
    """A change is about to be published: if a command made it, its fan-out is timed from the command."""
    started = _command_started.get()
    if started is None:
        return
    _published[(code, version)] = started
    while len(_published) > MAX_TIMED:
        _published.popitem(last=False)


def fanned_out(code: str, version: int) -> None:
    """The hub has offered a state to every socket of its session on this worker."""
    started = _published.pop((code, version), None)
    if started is not None:
        FANOUT.observe(time.perf_counter() - started)


# ------------------------------------------------------------------ rendering

def rendering(render: Callable[..., str]) -> Callable[..., str]:
    """Wraps ``render_block(template, block, ...)``: times each region rendered."""

    by_template: dict[str, Any] = {}  # each template's series, looked up once (a lookup takes a lock)

    @wraps(render)
    def wrapper(template: str, *args: Any, **kwargs: Any) -> str:
        started = time.perf_counter()
        try:
            return render(template, *args, **kwargs)
        finally:
            series = by_template.get(template)
            if series is None:
                series = by_template[template] = RENDER.labels(template)
            series.observe(time.perf_counter() - started)

    return wrapper


# ------------------------------------------------------------------ faults, limits, deadlines

def redis_error(where: str) -> None:
    REDIS_ERRORS.labels(where if where in WHERE else "other").inc()


def redis_reconnected() -> None:
    REDIS_RECONNECTS.inc()


def refused(limit: str) -> None:
    REFUSALS.labels(limit if limit in LIMITS else "other").inc()


def turn_ended(late_s: float) -> None:
    TURN_LATENESS.observe(max(0.0, late_s))


# ------------------------------------------------------------------ exposition

def _registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        return REGISTRY
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> bytes:
    """Every metric in Prometheus' text format (all workers' together in multiprocess mode)."""
    return generate_latest(_registry())


class MetricsPort:
    """``/metrics`` on a port of its own (``METRICS_PORT``), for a private network."""

    def __init__(self, host: str, port: int) -> None:
        self.server, self.thread = start_http_server(port, addr=host, registry=_registry())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_port(host: str, port: int) -> MetricsPort | None:
    """The metrics port, or None in multiprocess mode when another worker of the same
    deployment holds it already (it answers for every worker). Any other failure to listen
    stops the start: an operator who asked for the port is told at once."""
    try:
        return MetricsPort(host, port)
    except OSError as exc:
        if MULTIPROCESS and exc.errno == errno.EADDRINUSE:
            log.info("metrics port %d is served by another worker", port)
            return None
        raise OSError(exc.errno, f"cannot serve metrics on {host}:{port}: {exc.strerror}") from None


def worker_stopped() -> None:
    """In multiprocess mode, this worker's gauges leave the sums once it stops."""
    if MULTIPROCESS:
        _multiprocess.mark_process_dead(os.getpid())
