"""Settings from the environment (and the command line, which writes into them)."""

from __future__ import annotations

import ipaddress
import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

OFF = "off"
MIN_LIMITS_SECRET = 32


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None
    # Browser origins, besides the app's own, whose pages may open the live sockets
    # (comma-separated, e.g. "https://intranet.example.org").
    allowed_origins: str = ""
    # Every key and channel in Redis starts with this, so several deployments can share one Redis.
    redis_prefix: str = "tp:"
    # Connections each worker opens to Redis for reads and writes (its pub/sub has one more).
    # More commands at once than this wait for a free connection, up to 10 s.
    redis_max_connections: int = 50
    # A Redis command that gets no answer within this is abandoned (HTTP 503, an error frame),
    # so a frozen Redis cannot hang requests; /healthz waits this long for a PING too.
    redis_timeout_s: float = 2.0
    # After an erase, each worker asks a Redis with an append-only file to rewrite it (so
    # the erased content leaves it), at most once in this many seconds.
    redis_rewrite_interval_s: float = 60.0
    # Each worker's open sockets are leased in Redis for presence_ttl_s and renewed every
    # presence_heartbeat_s: the participants of a worker that dies show as not connected
    # within the sum of the two.
    presence_ttl_s: float = 30.0
    presence_heartbeat_s: float = 10.0
    # A closed session's content is erased this long after closing (confidential by default).
    closed_ttl_s: float = 24 * 3600
    # An abandoned session that never closes is erased this long after its last change.
    idle_ttl_s: float = 7 * 24 * 3600
    max_sessions: int = 5000
    # Abuse limits (SECURITY.md): lookups of unknown join codes per client address and minute,
    # live socket messages per connection (sustained per second, and burst), live sockets per process.
    guesses_per_minute: float = 30
    live_messages_per_s: float = 20
    live_message_burst: float = 60
    max_connections: int = 10_000
    # Fair shares (SECURITY.md). Per client address: sessions created (burst, then per hour)
    # and joins (burst for a whole room behind one address, then per minute). Per token:
    # open live sockets, and commands over HTTP and sockets together (per second, burst).
    # Per session: commands from everyone in it together. In Redis mode all but the
    # per-token message rate count across workers.
    session_burst_per_address: float = 20
    sessions_per_address_per_hour: float = 60
    join_burst_per_address: float = 250
    joins_per_address_per_minute: float = 60
    # Joins from one address into one session: a room behind one address (a hospital's
    # Wi-Fi) gets its first places at once and the rest at a steady pace, while one address
    # cannot take every place of a session before the group it was meant for has joined.
    session_join_burst_per_address: float = 60
    session_joins_per_address_per_minute: float = 60
    # Redis mode: the key the fair shares hash client addresses and session codes with before
    # they count them in Redis. The same on every worker, and never stored in Redis, so no
    # append-only file, replica or backup of it can tell which address joined which session.
    limits_secret: str = ""
    # Every per-address limit counts an IPv6 client by its network of this many bits (a
    # provider gives a home or a phone a whole /64); IPv4 addresses count one by one.
    ipv6_prefix_bits: int = Field(default=64, ge=32, le=128)
    # Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks;
    # "*" believes anyone, so any client can pick the address every limit counts).
    forwarded_allow_ips: str = "127.0.0.1"
    max_sockets_per_token: int = 5
    token_messages_per_s: float = 10
    token_message_burst: float = 40
    session_messages_per_s: float = 60
    session_message_burst: float = 300
    max_frame_bytes: int = 64 * 1024
    # permessage-deflate on the live sockets. Off by default: zlib's window costs about 45 KB
    # of server memory per socket (more than everything else a phone costs) and a deflate pass
    # per frame per socket, to save a few KB per change on the phone's connection.
    ws_compression: bool = False
    max_body_bytes: int = 64 * 1024
    public_url: str | None = None  # e.g. https://talk.example.org, for absolute links and QR codes
    log_level: str = "info"
    # "json": one JSON object per log line, for a platform that ingests JSON lines; "text": plain lines.
    log_format: Literal["text", "json"] = "text"
    # Prometheus metrics (docs/operations.md), off unless turned on: with a token, /metrics on the
    # public port answers a request bearing it (Authorization: Bearer …), and 404 without one
    # set; with a port, /metrics is served on that port of its own, on metrics_host.
    metrics_token: str | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # Where the embedded mode keeps its files (default $XDG_DATA_HOME/talking-piece, or
    # ~/.local/share/talking-piece). Redis mode keeps everything in Redis.
    data_dir: str | None = None
    # Recurring groups' SQLite file in embedded mode, created on first use (default in data_dir).
    groups_db: str | None = None
    # Sessions written through to a SQLite file in embedded mode, loaded at start so that a
    # restart loses nothing (default in data_dir). "off": sessions live in memory only.
    sessions_db: str | None = None

    @property
    def data_path(self) -> str:
        if self.data_dir:
            return self.data_dir
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        return os.path.join(base, "talking-piece")

    @property
    def sessions_path(self) -> str | None:
        """The sessions' file, or None when sessions are kept in memory only."""
        if self.sessions_db and self.sessions_db.strip().lower() == OFF:
            return None
        return self.sessions_db or os.path.join(self.data_path, "sessions.sqlite3")

    # Anonymous counters (pending, votes, wellbeing, consent) reach the room in batches: the
    # mean seconds between two folds (a change shows one to two folds after it, jittered),
    # and how long a socket must stay open (closed) before the room sees someone connected
    # (disconnected), so that a phone waking to send does not announce itself (a participant's
    # first connection after joining shows at the next fold). SECURITY.md.
    tally_interval_s: float = 6.0
    presence_on_s: float = 15.0
    presence_off_s: float = 20.0
    # A socket whose other end has silently gone (a phone that lost its network keeps no
    # chance to say goodbye) is found by a ping every this many seconds, unanswered for as long:
    # the room sees that person offline within twice this plus the debounce above.
    ws_ping_s: float = Field(default=5.0, gt=0, le=60)
    # The evaluation's spread is shown once at least this many have answered, and a group's
    # record suppresses every count below it (docs/groups.md).
    evaluation_k: int = Field(default=3, ge=2, le=50)

    @property
    def batching(self) -> dict[str, float]:
        return {"tally_interval_s": self.tally_interval_s, "presence_on_s": self.presence_on_s,
                "presence_off_s": self.presence_off_s, "evaluation_k": self.evaluation_k}

    def limits_secret_problem(self) -> str | None:
        """Why Redis mode cannot start with this ``LIMITS_SECRET`` (None: it can)."""
        if self.redis_url and len(self.limits_secret) < MIN_LIMITS_SECRET:
            return (f"LIMITS_SECRET must be set to the same random value of at least {MIN_LIMITS_SECRET} characters on "
                    "every worker in Redis mode (for instance the output of `python -c \"import secrets; "
                    "print(secrets.token_hex(32))\"`): it keys the hashes of client addresses that the fair "
                    "shares count in Redis, and is never stored there")
        return None

    @property
    def trusts_any_proxy(self) -> bool:
        """Whether every client's own X-Forwarded-For is believed (a wildcard, or a network of every address)."""
        for entry in (e.strip() for e in self.forwarded_allow_ips.split(",")):
            if entry == "*":
                return True
            try:
                if ipaddress.ip_network(entry, strict=False).prefixlen == 0:
                    return True
            except ValueError:
                continue  # a Unix socket path or a name: uvicorn's business
        return False

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())
