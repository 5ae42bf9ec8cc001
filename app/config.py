"""Settings from the environment (and the command line, which writes into them)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    max_frame_bytes: int = 64 * 1024
    # permessage-deflate on the live sockets. Off by default: zlib's window costs about 45 KB
    # of server memory per socket (more than everything else a phone costs) and a deflate pass
    # per frame per socket, to save a few KB per change on the phone's connection.
    ws_compression: bool = False
    max_body_bytes: int = 64 * 1024
    public_url: str | None = None  # e.g. https://talk.example.org, for absolute links and QR codes
    log_level: str = "info"
    # Recurring groups' SQLite file in embedded mode, created on first use (default under
    # $XDG_DATA_HOME or ~/.local/share/talking-piece/). Redis mode keeps groups in Redis.
    groups_db: str | None = None

    # Anonymous counters (pending, votes, wellbeing, consent) reach the room in batches: the
    # mean seconds between two folds (a change shows one to two folds after it, jittered),
    # and how long a socket must stay open (closed) before the room sees someone connected
    # (disconnected), so that a phone waking to send does not announce itself (a participant's
    # first connection after joining shows at the next fold). SECURITY.md.
    tally_interval_s: float = 6.0
    presence_on_s: float = 15.0
    presence_off_s: float = 20.0

    @property
    def batching(self) -> dict[str, float]:
        return {"tally_interval_s": self.tally_interval_s, "presence_on_s": self.presence_on_s,
                "presence_off_s": self.presence_off_s}

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())
