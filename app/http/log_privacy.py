"""Keep capabilities and what people wrote out of the server's logs.

Uvicorn logs a WebSocket's path with its query string, which carries the token. This
filter rewrites any ``token=…``/``key=…`` value in a log record before it is written.

At debug level the WebSocket protocol (``websockets``, through uvicorn's logger) logs every
frame with the start of its text: an anonymous question's words, a reflection, a token in a
command. Those records are dropped whatever the level; the rest of the debug log stays.
"""

from __future__ import annotations

import logging
import re

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


def install() -> None:
    """Attach the filter to every handler, and to uvicorn's loggers, present and future."""
    flt = RedactSecrets()
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(flt)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(flt)
