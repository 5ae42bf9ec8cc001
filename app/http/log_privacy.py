"""Keep capabilities and what people wrote out of the server's logs.

Uvicorn logs a WebSocket's path with its query string, which carries the token. This
filter rewrites any ``token=…``/``key=…`` value in a log record before it is written.

At debug level the WebSocket protocol (``websockets``, through uvicorn's logger) logs every
frame with the start of its text: an anonymous question's words, a reflection, a token in a
command. Those records are dropped whatever the level; the rest of the debug log stays.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

_SECRET = re.compile(r"((?:token|key)=)[^&\s\"']+")
# How the protocol logs a frame sent (">") or received ("<"), its contents as the argument.
_FRAME_FORMATS = frozenset({"< %s", "> %s"})


def redact(text: str) -> str:
    return _SECRET.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in _FRAME_FORMATS:
            return False
        if record.args:
            record.msg = redact(record.getMessage())
            record.args = ()
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


# What every LogRecord has; anything else on a record is an extra given by the caller.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_UNWANTED = frozenset({"color_message"})  # uvicorn's copy of the message for a terminal


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, then any
    extras the caller gave (``log.info(..., extra={...})``), redacted like the message, and
    the exception's traceback, if any, as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in _UNWANTED and not name.startswith("_") and name not in line:
                line[name] = _redacted(value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=lambda value: redact(str(value)))


def _redacted(value: Any) -> Any:
    """An extra with every string in it redacted, however deep."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(item) for item in value]
    return value


def config(level: str, json_lines: bool) -> dict[str, Any] | None:
    """uvicorn's logging configuration for ``python -m app``: None keeps uvicorn's own plain
    lines; for JSON lines, every logger (uvicorn's too) writes through one handler on stderr,
    filtered and formatted here, from the first line on."""
    if not json_lines:
        return None
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}},
        "formatters": {"json": {"()": JsonLines}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "json", "filters": ["redact"]}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def install(json_lines: bool = False) -> None:
    """Attach the filter to every handler, and to uvicorn's loggers, present and future; with
    ``json_lines``, every handler writes JSON lines (for servers not started by ``python -m app``)."""
    flt = RedactSecrets()
    root = logging.getLogger()
    if json_lines and not root.handlers:  # uvicorn --factory: the app's records had only Python's last resort
        root.addHandler(logging.StreamHandler())
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(flt)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(flt)
            if json_lines and not isinstance(handler.formatter, JsonLines):
                handler.setFormatter(JsonLines())
