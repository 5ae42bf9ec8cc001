"""app/facilitation is the functional core: importing it pulls in no I/O framework."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ["asyncio", "fastapi", "starlette", "redis", "jinja2", "uvicorn", "websockets", "sqlite3", "httpx"]

PROBE = """
import importlib, json, pkgutil, sys
import app.facilitation as core
for module in pkgutil.iter_modules(core.__path__):
    importlib.import_module(f"app.facilitation.{module.name}")
print(json.dumps(sorted(name for name in sys.modules)))
"""


def test_the_core_imports_no_io_framework() -> None:
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                           check=True).stdout))
    assert "app.facilitation.engine" in loaded
    assert not {name for name in loaded if name.split(".")[0] in FORBIDDEN}
